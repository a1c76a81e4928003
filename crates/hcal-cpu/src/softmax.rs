//! Softmax along one axis: `y_i = exp(x_i - max x) / sum_j exp(x_j - max x)`.

use hcal_core::AxisSplit;
use rayon::prelude::*;

/// Softmax of the `[outer, len, inner]` view along `len`.
pub fn softmax(split: AxisSplit, x: &[f64]) -> Vec<f64> {
    let AxisSplit { outer, len, inner } = split;
    let mut y = vec![0.0; x.len()];
    if len == 0 || inner == 0 {
        return y;
    }
    y.par_chunks_mut(len * inner).zip(x.par_chunks(len * inner)).take(outer).for_each(|(y_blk, x_blk)| {
        for c in 0..inner {
            let lane: Vec<f64> = (0..len).map(|i| x_blk[i * inner + c]).collect();
            for (i, p) in softmax_row(&lane).into_iter().enumerate() {
                y_blk[i * inner + c] = p;
            }
        }
    });
    y
}

/// Softmax of one contiguous row. A row whose max is -inf (everything masked)
/// gives NaN, as `exp(-inf - -inf)` does in the ONNX reference.
pub fn softmax_row(x: &[f64]) -> Vec<f64> {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let max = if x.iter().any(|v| v.is_nan()) { f64::NAN } else { max };
    let e: Vec<f64> = x.iter().map(|&v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}
