//! Gelu, LeakyRelu, HardSigmoid and the one-input elementwise functions ([`hcal_core::UnaryOp`]).

use hcal_core::{DType, GeluApproximation, UnaryOp};
use rayon::prelude::*;

/// The error function, to f64 precision (Abramowitz-Stegun 7.1.26 is not
/// accurate enough for an oracle; this uses the series / continued fraction
/// split, |error| < 1e-15).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let ax = x.abs();
    let r = if ax < 2.5 {
        // Maclaurin series: erf x = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)).
        let (mut term, mut sum, mut n) = (ax, ax, 0.0);
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -ax * ax / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        // erfc x = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), Lentz-free backward evaluation.
        let mut frac = 0.0;
        for k in (1..60).rev() {
            frac = (k as f64 / 2.0) / (ax + frac);
        }
        1.0 - (-ax * ax).exp() / std::f64::consts::PI.sqrt() / (ax + frac)
    };
    if x < 0.0 { -r } else { r }
}

/// Gelu of one value.
pub fn gelu(approximate: GeluApproximation, x: f64) -> f64 {
    match approximate {
        GeluApproximation::None => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        GeluApproximation::Tanh => {
            let inner = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
            0.5 * x * (1.0 + inner.tanh())
        }
    }
}

/// A unary function of one value.
pub fn unary(op: UnaryOp, x: f64) -> f64 {
    match op {
        UnaryOp::Relu => {
            if x.is_nan() {
                x
            } else {
                x.max(0.0)
            }
        }
        UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        UnaryOp::Silu => x / (1.0 + (-x).exp()),
        UnaryOp::Exp => x.exp(),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Neg => -x,
        UnaryOp::Sqrt => x.sqrt(),
        UnaryOp::Reciprocal => 1.0 / x,
        UnaryOp::Abs => x.abs(),
        UnaryOp::Erf => erf(x),
        UnaryOp::Floor => x.floor(),
        UnaryOp::Ceil => x.ceil(),
        UnaryOp::Round => x.round_ties_even(),
        // Bool storage decodes to 0 or 1.
        UnaryOp::Not => f64::from(u8::from(x == 0.0)),
    }
}

/// LeakyRelu of one value: `x` for `x >= 0`, else `alpha x` (NaN stays NaN).
pub fn leaky_relu(alpha: f64, x: f64) -> f64 {
    if x >= 0.0 || x.is_nan() { x } else { alpha * x }
}

/// HardSigmoid of one value: `max(0, min(1, alpha x + beta))` (NaN stays NaN).
pub fn hard_sigmoid(alpha: f64, beta: f64, x: f64) -> f64 {
    let t = alpha * x + beta;
    if t.is_nan() { t } else { t.clamp(0.0, 1.0) }
}

/// Apply `f` to every element.
pub fn map(x: &[f64], f: impl Fn(f64) -> f64 + Sync) -> Vec<f64> {
    x.par_iter().map(|&v| f(v)).collect()
}

/// GatedUnary: `y[r, j] = f(x[r, j]) x[r, N + j]` over `rows` rows of `2N`
/// values (`half = N`) of `dtype`, with `f(x)` rounded to `dtype` before the
/// product, as the Unary op's output would be.
pub fn gated(op: UnaryOp, dtype: DType, x: &[f64], rows: usize, half: usize) -> Vec<f64> {
    let rows: Vec<&[f64]> = x.chunks_exact((2 * half).max(1)).take(rows).collect();
    let activated: Vec<f64> = rows.iter().flat_map(|row| row[..half].iter().map(|&a| unary(op, a))).collect();
    let activated = crate::convert::to_f64(dtype, &crate::convert::from_f64(dtype, &activated));
    let gates = rows.iter().flat_map(|row| row[half..].iter());
    activated.iter().zip(gates).map(|(fa, b)| fa * b).collect()
}
