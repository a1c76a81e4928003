//! Bounds of ReduceProd, ReduceL2, LogSoftmax and CumSum (ReduceMin, ArgMax
//! and ArgMin are exact: a device selects one of its f32 inputs, which hold
//! every f16 and bf16 value exactly, and indices are compared exactly).
//!
//! - ReduceProd: the kernel multiplies mantissas in `[1, 2)` and adds
//!   exponents apart, so the only error is one rounding per product,
//!   `core = gamma_n |y|` (no overflow or underflow on the way).
//! - ReduceL2: `y = 2^k sqrt(sum (x 2^-k)^2)` with an exact power-of-two
//!   scaling: the squares and the sum of `n` positive terms carry `gamma_n`
//!   relative, which the square root halves; `sqrt` itself is `9U` (as for
//!   Sqrt): `core = (gamma_n / 2 + 9U) |y|`.
//! - CumSum: output `i` is a sequential f32 sum of the `k_i` elements of its
//!   prefix, `core_i = gamma_{k_i} sum_{prefix} |x_j|`, growing with the prefix
//!   like ReduceSum's bound with the row.
//! - LogSoftmax: with `d_j = x_j - max`, `p_j` the probabilities and
//!   `L = log sum_j exp(d_j)`: `d_j` rounds once (`U |d_j|`); the sum of
//!   exponentials carries `sigma = sum_j p_j exp_rel(d_j) + gamma_n`
//!   relative, which the logarithm turns into `sigma` absolute; WGSL's `log`
//!   is within `2^-21 = 8U` absolute on `[0.5, 2]` and 3 ULP (`6U |L|`)
//!   elsewhere; the final subtraction rounds once (`U |y_i|`):
//!   `core_i = U |d_i| + sigma + 8U + 6U |L| + U |y_i|`.

use hcal_core::{AxisSplit, ReduceOp};

use super::{CaseData, U, abs, exp_rel, gamma};

/// ReduceProd and ReduceL2 over `n` inputs per output.
pub(super) fn reduce_bound(op: ReduceOp, n: usize, reference: &[f64]) -> Vec<f64> {
    let relative = match op {
        ReduceOp::Prod => gamma(n),
        ReduceOp::L2 => gamma(n) / 2.0 + 9.0 * U,
        _ => unreachable!("reduce_bound covers ReduceProd and ReduceL2"),
    };
    reference.iter().map(|y| relative * y.abs()).collect()
}

/// CumSum along the split: `gamma_{k_i}` times the running sum of magnitudes.
pub(super) fn cumsum_bound(data: &CaseData<'_>, split: AxisSplit, exclusive: bool, reverse: bool) -> Vec<f64> {
    let magnitude = hcal_cpu::cumsum::cumsum(split, &abs(data.required(0)), exclusive, reverse);
    let AxisSplit { outer, len, inner } = split;
    let mut bound = vec![0.0; magnitude.len()];
    for o in 0..outer {
        for c in 0..inner {
            for j in 0..len {
                let idx = (o * len + j) * inner + c;
                let terms = if reverse { len - j } else { j + 1 } - usize::from(exclusive);
                bound[idx] = gamma(terms) * magnitude[idx];
            }
        }
    }
    bound
}

/// LogSoftmax along the split (see the module docs).
pub(super) fn log_softmax_bound(data: &CaseData<'_>, split: AxisSplit, reference: &[f64]) -> Vec<f64> {
    let x = data.required(0);
    let mut bound = vec![0.0; x.len()];
    for o in 0..split.outer {
        for c in 0..split.inner {
            let idx = |j: usize| (o * split.len + j) * split.inner + c;
            let lane: Vec<f64> = (0..split.len).map(|j| x[idx(j)]).collect();
            let p = hcal_cpu::softmax::softmax_row(&lane);
            let max = lane.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // Masked (-inf) elements have p = 0 and contribute nothing.
            let sigma: f64 =
                lane.iter().zip(&p).filter(|(_, p)| **p > 0.0).map(|(&v, p)| p * exp_rel(max - v)).sum::<f64>()
                    + gamma(split.len);
            let log_sum = lane.iter().map(|&v| (v - max).exp()).sum::<f64>().ln();
            for j in 0..split.len {
                let d = (lane[j] - max).abs();
                bound[idx(j)] = U * d + sigma + 8.0 * U + 6.0 * U * log_sum.abs() + U * reference[idx(j)].abs();
            }
        }
    }
    bound
}
