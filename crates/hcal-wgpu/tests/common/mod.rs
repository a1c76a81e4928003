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
