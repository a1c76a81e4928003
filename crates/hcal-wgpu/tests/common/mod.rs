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

/// Deterministic values in [-1, 1) with varied low bits, so reordered sums differ.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// `op` on `backend` with inputs of these descriptors holding these bytes:
/// its first output as raw 32-bit words, and the kernel the backend reports
/// for the call. The tensors are freed.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn run_bits(
    backend: &WgpuBackend,
    op: &hcal_core::Op,
    inputs: &[(hcal_core::TensorDesc, Vec<u8>)],
) -> (Vec<u32>, String) {
    use hcal_core::{Backend, BackendExt, Instruments, OpSignature};
    let sig = OpSignature::new(op.clone(), inputs.iter().map(|(d, _)| Some(d.clone())).collect()).expect("valid");
    let kernel = backend.kernel_variant(&sig).unwrap_or_default();
    let tensors: Vec<_> = inputs.iter().map(|(d, _)| backend.alloc(d).unwrap()).collect();
    for (t, (_, bytes)) in tensors.iter().zip(inputs) {
        backend.write(t, bytes).unwrap();
    }
    let y = backend.alloc(&sig.outputs()[0]).unwrap();
    let refs: Vec<_> = tensors.iter().collect();
    backend.run(op, &refs, &[&y]).unwrap();
    let bits = bytemuck::cast_slice::<u8, u32>(&backend.read(&y).unwrap()).to_vec();
    for t in tensors.into_iter().chain([y]) {
        backend.free(&t).unwrap();
    }
    (bits, kernel)
}
