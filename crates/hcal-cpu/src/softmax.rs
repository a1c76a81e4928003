//! Softmax along one axis: `y_i = exp(x_i - max x) / sum_j exp(x_j - max x)`,
//! and LogSoftmax: `y_i = x_i - max x - log(sum_j exp(x_j - max x))`.

use hcal_core::AxisSplit;
use rayon::prelude::*;

/// Softmax of the `[outer, len, inner]` view along `len`.
pub fn softmax(split: AxisSplit, x: &[f64]) -> Vec<f64> {
    along_lanes(split, x, softmax_row)
}

/// LogSoftmax of the `[outer, len, inner]` view along `len`.
pub fn log_softmax(split: AxisSplit, x: &[f64]) -> Vec<f64> {
    along_lanes(split, x, log_softmax_row)
}

/// `row` applied to every lane of the `[outer, len, inner]` view along `len`.
fn along_lanes(split: AxisSplit, x: &[f64], row: fn(&[f64]) -> Vec<f64>) -> Vec<f64> {
    let AxisSplit { outer, len, inner } = split;
    let mut y = vec![0.0; x.len()];
    if len == 0 || inner == 0 {
        return y;
    }
    y.par_chunks_mut(len * inner).zip(x.par_chunks(len * inner)).take(outer).for_each(|(y_blk, x_blk)| {
        for c in 0..inner {
            let lane: Vec<f64> = (0..len).map(|i| x_blk[i * inner + c]).collect();
            for (i, p) in row(&lane).into_iter().enumerate() {
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

/// LogSoftmax of one contiguous row: `x_i - max - log(sum_j exp(x_j - max))`.
/// As for [`softmax_row`], a row whose max is -inf (or that holds NaN or +inf)
/// gives NaN through `-inf - -inf`.
///
/// ```
/// let y = hcal_cpu::softmax::log_softmax_row(&[0.0, 0.0, 1000.0]);
/// assert_eq!(y[2], 0.0);
/// assert_eq!(y[0], -1000.0);
/// ```
pub fn log_softmax_row(x: &[f64]) -> Vec<f64> {
    let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let max = if x.iter().any(|v| v.is_nan()) { f64::NAN } else { max };
    let log_sum = x.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
    x.iter().map(|&v| v - max - log_sum).collect()
}
