//! # hcal-benches: criterion benches of hcal ops
//!
//! Shared pieces of the benches in `benches/benches/*.rs`:
//!
//! - Results are named `{backend}/{op}/{shape}` (`cpu/matmul/256x256x256`), one
//!   criterion group per `{backend}/{op}` and one function per row of the
//!   bench's shape table, so runs on different backends line up by name.
//! - Throughput is reported as criterion's `Throughput::Elements` counting
//!   floating-point operations ([`matmul_flops`], [`attention_flops`]), so
//!   criterion's "elem/s" reads as FLOP/s.
//! - The timed region runs the op and then `sync()`s the device, so it measures
//!   the device's work rather than the time to enqueue it. Inputs and outputs
//!   are allocated and filled outside the timed region.
//!
//! Run with `cargo bench -p hcal-benches` (add `-- --quick` for a fast pass,
//! or a name filter such as `-- cpu/matmul`).

use hcal::{DType, Device, DeviceTensor, Result, TensorDesc};

/// The backends to bench: every one this build can open, or the
/// comma-separated list in `HCAL_BENCH_BACKENDS` when it is set.
///
/// ```
/// assert!(hcal_benches::backends().contains(&"cpu".to_string()));
/// ```
pub fn backends() -> Vec<String> {
    match std::env::var("HCAL_BENCH_BACKENDS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').map(|s| s.trim().to_string()).collect(),
        _ => hcal::available_backends(),
    }
}

/// FLOPs of `Y[M, N] = A[M, K] @ B[K, N]`: one multiply and one add per
/// `(m, n, k)`, so `2 * M * N * K`.
///
/// ```
/// assert_eq!(hcal_benches::matmul_flops(256, 256, 256), 33_554_432);
/// ```
pub fn matmul_flops(m: usize, n: usize, k: usize) -> u64 {
    2 * (m * n * k) as u64
}

/// FLOPs of attention with `B` batches, `H` query heads, `Sq` queries, `Skv`
/// keys and head size `D`: `Q K^T` and `P V` are each `2 * Sq * Skv * D` per
/// head, so `4 * B * H * Sq * Skv * D` (softmax and masking are not counted;
/// a causal mask is not discounted, so causal rows compare with full ones).
///
/// ```
/// assert_eq!(hcal_benches::attention_flops(1, 8, 128, 128, 64), 33_554_432);
/// ```
pub fn attention_flops(batch: usize, heads: usize, q_len: usize, kv_len: usize, head_dim: usize) -> u64 {
    4 * (batch * heads * q_len * kv_len * head_dim) as u64
}

/// A tensor of `shape` and `dtype` on `device` filled with deterministic
/// pseudo-random values in `[-1, 1)` (a fixed LCG seeded by `seed`), so every
/// run and every backend computes on the same data.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = hcal_benches::filled(&dev, &[4, 4], hcal::DType::F16, 7)?;
/// assert!(x.to_f32()?.iter().all(|v| (-1.0..1.0).contains(v)));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// Allocation and write errors of the backend.
pub fn filled(device: &Device, shape: &[usize], dtype: DType, seed: u64) -> Result<DeviceTensor> {
    let desc = TensorDesc::new(shape, dtype);
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let data: Vec<f32> = (0..desc.numel())
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Top 24 bits give a uniform value in [0, 1), exact in f32.
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    device.tensor_from_f32(desc, &data)
}
