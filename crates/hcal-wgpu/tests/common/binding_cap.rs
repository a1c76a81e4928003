//! What the tests of splitting across bindings share: backends whose
//! bindings are capped (`:bind=<bytes>`, so the splitting paths run on small
//! tensors) beside uncapped ones, and deterministic input values (`common::values`).

use hcal_core::{Backend, DType, TensorDesc};
use hcal_wgpu::WgpuBackend;

use super::common::open;
pub use super::common::values;

/// The binding cap of the split runs: 1024 f32 elements per binding, so
/// the shapes below split into several pieces along every dim.
pub const CAP: &str = "bind=4096";

pub fn f32s(shape: &[usize]) -> TensorDesc {
    TensorDesc::new(shape.to_vec(), DType::F32)
}

/// The unsplit and the split backend of every adapter (`suffix` appended to both).
pub fn pairs(suffix: &str) -> Vec<(WgpuBackend, WgpuBackend)> {
    pairs_capped(suffix, CAP)
}

/// [`pairs`] with the split backends capped by `cap` (`bind=<bytes>`).
pub fn pairs_capped(suffix: &str, cap: &str) -> Vec<(WgpuBackend, WgpuBackend)> {
    let mut out = Vec::new();
    for name in hcal_wgpu::adapter_names() {
        let (Some(whole), Some(split)) = (open(&format!("{name}{suffix}")), open(&format!("{name}{suffix}:{cap}")))
        else {
            continue;
        };
        out.push((whole, split));
    }
    if out.is_empty() {
        // Says so (or panics under HCAL_REQUIRE_ADAPTER=1).
        let _ = open("wgpu");
    }
    let names: Vec<_> = out.iter().map(|(_, s)| s.info().backend.clone()).collect();
    eprintln!("split runs on {names:?}");
    out
}
