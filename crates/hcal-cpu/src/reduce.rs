//! ReduceSum / ReduceMean / ReduceMax over a set of axes, f64 accumulation.

use hcal_core::{ReduceOp, contiguous_strides};

/// Reduce `x` of `shape` over the sorted `axes`; the result is in the order of
/// the kept dims (keepdims only changes the shape, not the data).
pub fn reduce(op: ReduceOp, x: &[f64], shape: &[usize], axes: &[usize]) -> Vec<f64> {
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let out_len: usize = out_shape.iter().product();
    let count: usize = axes.iter().map(|&d| shape[d]).product();
    let out_strides = contiguous_strides(&out_shape);
    let init = match op {
        ReduceOp::Sum | ReduceOp::Mean => 0.0,
        ReduceOp::Max => f64::NEG_INFINITY,
    };
    let mut acc = vec![init; out_len];
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
            ReduceOp::Max if v.is_nan() || acc[cell].is_nan() => f64::NAN,
            ReduceOp::Max => acc[cell].max(v),
        };
    }
    if op == ReduceOp::Mean {
        acc.iter_mut().for_each(|a| *a /= count as f64);
    }
    acc
}
