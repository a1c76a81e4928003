//! The two-input elementwise functions ([`hcal_core::BinaryOp`]) with numpy broadcasting.

use hcal_core::BinaryOp;
use rayon::prelude::*;

/// A binary function of two values (Max/Min propagate NaN, as numpy's maximum;
/// Pow is C's `pow`, which numpy's `power` and ONNX follow). Comparisons and
/// the logical ops give 1 for true and 0 for false; bool inputs are 0 or 1.
pub fn binary(op: BinaryOp, a: f64, b: f64) -> f64 {
    let truth = |t: bool| f64::from(u8::from(t));
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Max | BinaryOp::Min if a.is_nan() || b.is_nan() => f64::NAN,
        BinaryOp::Max => a.max(b),
        BinaryOp::Min => a.min(b),
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Equal => truth(a == b),
        BinaryOp::Less => truth(a < b),
        BinaryOp::Greater => truth(a > b),
        BinaryOp::LessOrEqual => truth(a <= b),
        BinaryOp::GreaterOrEqual => truth(a >= b),
        BinaryOp::And => truth(a != 0.0 && b != 0.0),
        BinaryOp::Or => truth(a != 0.0 || b != 0.0),
    }
}

/// The `(a, b)` operand pair of every output element of a broadcast (for
/// tolerance models that need both operands per element).
pub fn broadcast_pairs(a: &[f64], sa: &[usize], b: &[f64], sb: &[usize], out_shape: &[usize]) -> Vec<(f64, f64)> {
    let n: usize = out_shape.iter().product();
    (0..n)
        .map(|flat| {
            let (ia, ib) = offsets(flat, sa, sb, out_shape);
            (a[ia], b[ib])
        })
        .collect()
}

/// The offsets in A and B of output element `flat`.
fn offsets(flat: usize, sa: &[usize], sb: &[usize], out_shape: &[usize]) -> (usize, usize) {
    let (mut rest, mut ia, mut ib) = (flat, 0, 0);
    for d in (0..out_shape.len()).rev() {
        let idx = rest % out_shape[d];
        rest /= out_shape[d];
        ia += idx * sa[d];
        ib += idx * sb[d];
    }
    (ia, ib)
}

/// `C = op(A, B)` with numpy broadcasting to `out_shape`: `sa`, `sb` are the
/// element strides of A and B walked over `out_shape`, 0 on broadcast dims
/// (see [`hcal_core::Geometry::Broadcast`]).
pub fn broadcast_binary(
    op: BinaryOp,
    a: &[f64],
    sa: &[usize],
    b: &[f64],
    sb: &[usize],
    out_shape: &[usize],
) -> Vec<f64> {
    let n: usize = out_shape.iter().product();
    (0..n)
        .into_par_iter()
        .map(|flat| {
            let (ia, ib) = offsets(flat, sa, sb, out_shape);
            binary(op, a[ia], b[ib])
        })
        .collect()
}
