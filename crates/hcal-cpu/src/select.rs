//! Clip and Where: each output element chosen from, or bounded by, its inputs.

use rayon::prelude::*;

/// `min(max(x, lo), hi)` with NaN propagating from `x` or a bound; when
/// `lo > hi` the result is `hi` (ONNX Clip, opset 13).
pub fn clip(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() || lo.is_nan() || hi.is_nan() {
        return f64::NAN;
    }
    x.max(lo).min(hi)
}

/// `out[i] = if cond[i] { x[i] } else { y[i] }` with numpy broadcasting to
/// `out_shape`: `strides` are the element strides of condition, X and Y walked
/// over `out_shape`, 0 on broadcast dims (see [`hcal_core::Geometry::Where`]).
/// Elements are moved, never converted, so every dtype is exact.
pub fn select<T: Copy + Send + Sync>(
    cond: &[bool],
    x: &[T],
    y: &[T],
    strides: &[Vec<usize>; 3],
    out_shape: &[usize],
) -> Vec<T> {
    let n: usize = out_shape.iter().product();
    (0..n)
        .into_par_iter()
        .map(|flat| {
            let (mut rest, mut at) = (flat, [0usize; 3]);
            for d in (0..out_shape.len()).rev() {
                let idx = rest % out_shape[d];
                rest /= out_shape[d];
                for (offset, s) in at.iter_mut().zip(strides) {
                    *offset += idx * s[d];
                }
            }
            if cond[at[0]] { x[at[1]] } else { y[at[2]] }
        })
        .collect()
}
