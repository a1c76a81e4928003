//! What the device tests share: opening an adapter, with the CI rule.

use hcal_wgpu::WgpuBackend;

/// The backend `name` (`wgpu` picks the best adapter). Without an adapter a
/// test says so and passes, unless `HCAL_REQUIRE_ADAPTER=1` (CI), where a
/// missing adapter fails.
pub fn open(name: &str) -> Option<WgpuBackend> {
    match WgpuBackend::open(name) {
        Ok(b) => Some(b),
        Err(e) if std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1") => {
            panic!("HCAL_REQUIRE_ADAPTER=1: {e}")
        }
        Err(e) => {
            eprintln!("skipped: no wgpu adapter ({e})");
            None
        }
    }
}

/// Every adapter's name, each also with the `:buffers` pin (block-quantized
/// weights in storage buffers where CPU drivers hold them in textures) and
/// the `:qgemv=64x1` pin (the GEMV one column per invocation: the Q4_1
/// two-block loop and its texture order, which CPU drivers no longer pick
/// unpinned), so a test covers every form of the quantized kernels. With no
/// adapter, says so (or fails in CI, through [`open`]) and returns none.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn adapters_with_buffer_pins() -> Vec<String> {
    let names = hcal_wgpu::adapter_names();
    if names.is_empty() {
        open("wgpu");
    }
    names.iter().flat_map(|n| [n.clone(), format!("{n}:buffers"), format!("{n}:qgemv=64x1")]).collect()
}
