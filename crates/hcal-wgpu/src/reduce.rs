//! Launcher for `shaders/reduce.wgsl`.

use hcal_core::{ReduceOp, Result, contiguous_strides};

use crate::params::ReduceParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// Reduce `x` over the `reduced` axes (resolved by hcal-core, see
/// `Geometry::Reduce`) into `y`.
pub(crate) fn record(ctx: &mut Ctx<'_>, op: ReduceOp, reduced: &[usize], x: &Operand, y: &Operand) -> Result<()> {
    let shape = &x.desc.shape;
    let count: usize = reduced.iter().map(|&d| shape[d]).product();
    let strides = contiguous_strides(shape);
    let op = match op {
        ReduceOp::Sum => 0,
        ReduceOp::Mean => 1,
        ReduceOp::Max => 2,
    };
    let mut p =
        ReduceParams { outputs: y.n(), op, rank: shape.len() as u32, count: count as u32, ..ReduceParams::default() };
    for d in 0..shape.len() {
        p.shape[d] = shape[d] as u32;
        p.strides[d] = strides[d] as u32;
        p.reduced[d] = u32::from(reduced.contains(&d));
    }
    ctx.per_item(kernel("reduce", "reduce"), &p, &[(1, &x.buf), (2, &y.buf)], y.desc.numel())
}
