//! ReduceSum / ReduceMean / ReduceMax / ReduceMin / ReduceProd / ReduceL2 over
//! a set of axes, f64 accumulation.
//!
//! Reducing nothing gives the identity (ONNX opset 18): 0 for sum and L2, 1
//! for prod, -inf for max, +inf for min; the mean of nothing is `0 / 0`, NaN.
//! Max and min propagate NaN. The product keeps its exponent apart from its
//! mantissa, so a running product that passes beyond f64's range on the way
//! (`1e38^10 * 1e-38^10`) still ends at the exact result.

use hcal_core::{ReduceOp, contiguous_strides};

/// Reduce `x` of `shape` over the sorted `axes`; the result is in the order of
/// the kept dims (keepdims only changes the shape, not the data).
///
/// ```
/// use hcal_core::ReduceOp;
/// let x = [3.0, -4.0, 2.0, 0.5];
/// assert_eq!(hcal_cpu::reduce::reduce(ReduceOp::L2, &x, &[2, 2], &[1]), [5.0, 2.0f64.hypot(0.5)]);
/// assert_eq!(hcal_cpu::reduce::reduce(ReduceOp::Prod, &x, &[2, 2], &[0]), [6.0, -2.0]);
/// assert_eq!(hcal_cpu::reduce::reduce(ReduceOp::Min, &[], &[0, 2], &[0]), [f64::INFINITY; 2]);
/// ```
pub fn reduce(op: ReduceOp, x: &[f64], shape: &[usize], axes: &[usize]) -> Vec<f64> {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let out_len: usize = out_shape.iter().product();
    let count: usize = axes.iter().map(|&d| shape[d]).product();
    let out_strides = contiguous_strides(&out_shape);
    let init = match op {
        ReduceOp::Sum | ReduceOp::Mean | ReduceOp::L2 => 0.0,
        ReduceOp::Prod => 1.0,
        ReduceOp::Max => f64::NEG_INFINITY,
        ReduceOp::Min => f64::INFINITY,
    };
    let mut acc = vec![init; out_len];
    // The product's binary exponent, kept apart from `acc` (see `Product`).
    let mut exponent = vec![0i64; if op == ReduceOp::Prod { out_len } else { 0 }];
    for (flat, &v) in x.iter().enumerate() {
        // Map the input index to its output cell through the kept dims.
        let (mut rest, mut cell) = (flat, 0);
        for d in (0..shape.len()).rev() {
            let idx = rest % shape[d];
            rest /= shape[d];
            if let Some(pos) = kept.iter().position(|&k| k == d) {
                cell += idx * out_strides[pos];
            }
        }
        acc[cell] = match op {
            ReduceOp::Sum | ReduceOp::Mean => acc[cell] + v,
            ReduceOp::L2 => acc[cell] + v * v,
            ReduceOp::Max | ReduceOp::Min if v.is_nan() || acc[cell].is_nan() => f64::NAN,
            ReduceOp::Max => acc[cell].max(v),
            ReduceOp::Min => acc[cell].min(v),
            ReduceOp::Prod => {
                let (m, e) = renormalize(acc[cell] * v);
                exponent[cell] += e;
                m
            }
        };
    }
    match op {
        ReduceOp::Mean => acc.iter_mut().for_each(|a| *a /= count as f64),
        ReduceOp::L2 => acc.iter_mut().for_each(|a| *a = a.sqrt()),
        ReduceOp::Prod => acc.iter_mut().zip(&exponent).for_each(|(a, &e)| *a = scale(*a, e)),
        _ => {}
    }
    acc
}

/// `m` as `(m 2^-k, k)` with `m 2^-k` near 1 when `|m|` strays past `2^±256`
/// (a power-of-two scaling, exact); zeros, infinities and NaN as they are.
fn renormalize(m: f64) -> (f64, i64) {
    const FAR: f64 = 1.157_920_892_373_162e77; // 2^256
    if m == 0.0 || !m.is_finite() || (1.0 / FAR..=FAR).contains(&m.abs()) {
        return (m, 0);
    }
    let k = m.abs().log2().floor() as i32;
    (m * 2f64.powi(-k), i64::from(k))
}

/// `m 2^e`, saturating to ±inf or ±0 where the result is beyond every
/// storage dtype's range anyway (`|m|` is within `2^±256`).
fn scale(m: f64, e: i64) -> f64 {
    if m == 0.0 || !m.is_finite() || e == 0 {
        return m;
    }
    if e > 600 {
        return f64::INFINITY.copysign(m);
    }
    if e < -600 {
        return 0f64.copysign(m);
    }
    let half = (e / 2) as i32;
    m * 2f64.powi(half) * 2f64.powi(e as i32 - half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_that_leaves_the_f64_range_midway_ends_exact() {
        let mut x = vec![1e38; 10];
        x.extend([1e-38; 10]);
        let p = reduce(ReduceOp::Prod, &x, &[20], &[0]);
        // Ten multiplications of each kind, each rounded once: within 20 ULP.
        assert!((p[0] - 1.0).abs() < 20.0 * f64::EPSILON, "{}", p[0]);
        assert_eq!(reduce(ReduceOp::Prod, &[1e300, 1e300, -1e10], &[3], &[0]), [f64::NEG_INFINITY]);
        assert!(reduce(ReduceOp::Prod, &[0.0, f64::INFINITY], &[2], &[0])[0].is_nan());
        assert_eq!(reduce(ReduceOp::Prod, &[], &[0], &[0]), [1.0]);
    }

    #[test]
    fn min_propagates_nan_and_l2_of_nothing_is_zero() {
        assert!(reduce(ReduceOp::Min, &[1.0, f64::NAN, -3.0], &[3], &[0])[0].is_nan());
        assert_eq!(reduce(ReduceOp::L2, &[], &[2, 0], &[1]), [0.0, 0.0]);
    }
}
