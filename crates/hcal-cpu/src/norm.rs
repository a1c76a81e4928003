//! LayerNormalization and RMSNormalization over the trailing dims `[axis, rank)`.

use hcal_core::{AxisSplit, broadcast_strides};
use rayon::prelude::*;

/// A per-feature parameter (Scale or B) broadcast to the normalized shape.
pub struct Param<'a> {
    /// Values.
    pub values: &'a [f64],
    /// Shape as given.
    pub shape: &'a [usize],
}

impl Param<'_> {
    /// Values expanded to one per element of `normalized`.
    fn expand(&self, normalized: &[usize]) -> Vec<f64> {
        let strides = broadcast_strides(self.shape, normalized);
        let n: usize = normalized.iter().product();
        (0..n)
            .map(|flat| {
                let (mut rest, mut off) = (flat, 0);
                for d in (0..normalized.len()).rev() {
                    off += (rest % normalized[d]) * strides[d];
                    rest /= normalized[d];
                }
                self.values[off]
            })
            .collect()
    }
}

/// `Y = (X - mean) / sqrt(var + epsilon) * Scale + B`, biased variance.
pub fn layer_norm(
    split: AxisSplit,
    normalized: &[usize],
    x: &[f64],
    epsilon: f64,
    scale: Param<'_>,
    bias: Option<Param<'_>>,
) -> Vec<f64> {
    let n = split.len;
    let mut y = vec![0.0; x.len()];
    // Before expanding the parameters: an empty X ([0, huge]) needs none, and
    // expanding them would take memory the tensors themselves do not.
    if n == 0 || x.is_empty() {
        return y;
    }
    let gamma = scale.expand(normalized);
    let beta = bias.map(|b| b.expand(normalized)).unwrap_or_else(|| vec![0.0; n]);
    y.par_chunks_mut(n).zip(x.par_chunks(n)).for_each(|(y_row, x_row)| {
        let mean = x_row.iter().sum::<f64>() / n as f64;
        let var = x_row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
        let inv_std = 1.0 / (var + epsilon).sqrt();
        for i in 0..n {
            y_row[i] = (x_row[i] - mean) * inv_std * gamma[i] + beta[i];
        }
    });
    y
}

/// `Y = X / sqrt(mean(X^2) + epsilon) * Scale`.
pub fn rms_norm(split: AxisSplit, normalized: &[usize], x: &[f64], epsilon: f64, scale: Param<'_>) -> Vec<f64> {
    let n = split.len;
    let mut y = vec![0.0; x.len()];
    if n == 0 || x.is_empty() {
        return y;
    }
    let gamma = scale.expand(normalized);
    y.par_chunks_mut(n).zip(x.par_chunks(n)).for_each(|(y_row, x_row)| {
        let mean_square = x_row.iter().map(|v| v * v).sum::<f64>() / n as f64;
        let inv_rms = 1.0 / (mean_square + epsilon).sqrt();
        for i in 0..n {
            y_row[i] = x_row[i] * inv_rms * gamma[i];
        }
    });
    y
}
