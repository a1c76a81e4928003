//! FLOP and byte models: what a workload computes and moves, independent of
//! how a kernel does it (PERFORMANCE.md: "FLOP model" and "Bytes model").

use crate::spec::{Shape, Workload};

/// Floating-point operations of one call of `w`.
///
/// - matmul: `2 * M * N * K` (one multiply and one add per `(m, n, k)`).
/// - attention: `4 * B * H * D * pairs`, where `pairs` is the number of
///   (query, key) pairs that are computed: `Sq * Skv` without a mask; with
///   `causal`, query `i` sees keys `0..=i`, so `pairs = sum_i min(i + 1, Skv)`
///   (`S (S + 1) / 2` for `Sq = Skv = S`): the masked part is not counted,
///   which is about half. `Q K^T` and `P V` are `2 * D` FLOPs per pair each;
///   softmax, scaling and masking are not counted.
///
/// ```
/// use hcal_bench::{flops, OpKind, Shape, Workload};
/// let mm = Workload::new(Shape::parse(OpKind::Matmul, "256x256x256")?, hcal::DType::F32);
/// assert_eq!(flops(&mm), 2 * 256 * 256 * 256);
/// let mut att = Workload::new(Shape::parse(OpKind::Attention, "1x8x128x64")?, hcal::DType::F32);
/// assert_eq!(flops(&att), 4 * 8 * 64 * 128 * 128);
/// att.causal = true;
/// assert_eq!(flops(&att), 4 * 8 * 64 * (128 * 129 / 2));
/// # Ok::<(), hcal_bench::SpecError>(())
/// ```
///
/// Shapes too large for a `u64` count saturate at `u64::MAX` (a command line
/// can ask for any shape; it is refused later, when its operands do not fit).
pub fn flops(w: &Workload) -> u64 {
    let product = |factors: &[u64]| factors.iter().fold(1u64, |p, &f| p.saturating_mul(f));
    match w.shape {
        Shape::Matmul { m, n, k } => product(&[2, m as u64, n as u64, k as u64]),
        Shape::Attention { batch, heads, q_len, kv_len, head_dim } => {
            product(&[4, batch as u64, heads as u64, head_dim as u64, attention_pairs(q_len, kv_len, w.causal)])
        }
    }
}

/// (query, key) pairs an attention computes: `Sq * Skv`, or with a causal
/// mask `sum_{i < Sq} min(i + 1, Skv)`.
///
/// ```
/// assert_eq!(hcal_bench::attention_pairs(4, 4, false), 16);
/// assert_eq!(hcal_bench::attention_pairs(4, 4, true), 1 + 2 + 3 + 4);
/// assert_eq!(hcal_bench::attention_pairs(4, 2, true), 1 + 2 + 2 + 2);
/// ```
pub fn attention_pairs(q_len: usize, kv_len: usize, causal: bool) -> u64 {
    let (sq, skv) = (q_len as u64, kv_len as u64);
    if !causal {
        return sq.saturating_mul(skv);
    }
    // Rows i < Skv see i + 1 keys; the rest see all Skv (saturating, as [`flops`]).
    let full = sq.min(skv);
    let triangle =
        if full % 2 == 0 { (full / 2).saturating_mul(full + 1) } else { full.saturating_mul(full.div_ceil(2)) };
    triangle.saturating_add((sq - full).saturating_mul(skv))
}

/// Bytes of one call of `w` if every input is read once and every output
/// written once (the minimum any kernel moves), at the storage dtype's size:
///
/// - matmul: `(M K + K N + M N) * size`;
/// - attention: `(2 B H Sq D + 2 B Hkv Skv D) * size` (Q and Y; K and V);
/// - matmul with quantized weights: `N K / 32` blocks of B as stored, plus
///   `(M K + M N) * 4` for the f32 A and Y.
///
/// ```
/// use hcal_bench::{bytes, OpKind, Shape, Workload};
/// let mm = Workload::new(Shape::parse(OpKind::Matmul, "2x3x4")?, hcal::DType::F16);
/// assert_eq!(bytes(&mm), (8 + 12 + 6) * 2);
/// let mut att = Workload::new(Shape::parse(OpKind::Attention, "1x8x16x4")?, hcal::DType::F32);
/// att.kv_heads = Some(2);
/// assert_eq!(bytes(&att), (2 * 8 * 16 * 4 + 2 * 2 * 16 * 4) * 4);
/// let q = Workload::new(Shape::parse(OpKind::Matmul, "1x576x1536")?, hcal::DType::Q4_1);
/// assert_eq!(bytes(&q), 576 * 1536 / 32 * 20 + (1536 + 576) * 4);
/// # Ok::<(), hcal_bench::SpecError>(())
/// ```
pub fn bytes(w: &Workload) -> u64 {
    let size = w.dtype.size_bytes() as u64;
    let product = |factors: &[usize]| factors.iter().fold(1u64, |p, &f| p.saturating_mul(f as u64));
    if let (true, Shape::Matmul { m, n, k }) = (w.dtype.is_quantized(), w.shape) {
        // Packed weights as stored, f32 A and Y.
        let blocks = product(&[n, k]) / w.dtype.block_len() as u64;
        return blocks.saturating_mul(size).saturating_add(product(&[m, k]).saturating_add(product(&[m, n])) * 4);
    }
    let elements = match w.shape {
        Shape::Matmul { m, n, k } => product(&[m, k]).saturating_add(product(&[k, n])).saturating_add(product(&[m, n])),
        Shape::Attention { batch, heads, q_len, kv_len, head_dim } => {
            let kv = w.kv_heads_or_all();
            product(&[2, batch, heads, q_len, head_dim]).saturating_add(product(&[2, batch, kv, kv_len, head_dim]))
        }
    };
    elements.saturating_mul(size)
}

/// Arithmetic intensity `flops / bytes` (FLOP per byte): the x axis of a
/// roofline. A kernel with intensity `I` on a device with compute peak `P`
/// and bandwidth `W` can reach at most `min(P, I * W)`.
///
/// ```
/// use hcal_bench::{intensity, OpKind, Shape, Workload};
/// let w = Workload::new(Shape::parse(OpKind::Matmul, "64x64x64")?, hcal::DType::F32);
/// // 2 * 64^3 FLOPs over 3 * 64^2 * 4 bytes.
/// assert!((intensity(&w) - 64.0 / 6.0).abs() < 1e-12);
/// # Ok::<(), hcal_bench::SpecError>(())
/// ```
pub fn intensity(w: &Workload) -> f64 {
    flops(w) as f64 / bytes(w).max(1) as f64
}

/// The roofline bound `min(peak_flops, intensity * peak_bytes_per_s)` in the
/// units given (GFLOP/s with GB/s gives GFLOP/s).
///
/// ```
/// assert_eq!(hcal_bench::roofline(100.0, 10.0, 2.0), 20.0); // memory bound
/// assert_eq!(hcal_bench::roofline(100.0, 10.0, 50.0), 100.0); // compute bound
/// ```
pub fn roofline(peak_compute: f64, peak_bandwidth: f64, intensity: f64) -> f64 {
    peak_compute.min(intensity * peak_bandwidth)
}
