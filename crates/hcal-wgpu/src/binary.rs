//! Launchers for `shaders/binary.wgsl`: broadcasting binary ops and broadcast copies.

use hcal_core::{BinaryOp, DType, Result, TensorDesc, broadcast_strides};

use crate::params::BinaryParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// The block of `op` over `out_shape`, with A's and B's element strides
/// walked over it (0 on broadcast dims).
fn params(op: u32, out_shape: &[usize], a_strides: &[usize], b_strides: &[usize]) -> BinaryParams {
    let n: usize = out_shape.iter().product();
    let mut p = BinaryParams { n: n as u32, op, rank: out_shape.len() as u32, ..BinaryParams::default() };
    for (k, &d) in out_shape.iter().enumerate() {
        p.shape[k] = d as u32;
        p.a_strides[k] = a_strides.get(k).map_or(0, |&s| s as u32);
        p.b_strides[k] = b_strides.get(k).map_or(0, |&s| s as u32);
    }
    p
}

/// `C = op(A, B)` with numpy broadcasting: `a_strides`, `b_strides` walk
/// C's shape (resolved by hcal-core, see `Geometry::Broadcast`).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    op: BinaryOp,
    [a_strides, b_strides]: [&[usize]; 2],
    a: &Operand,
    b: &Operand,
    c: &Operand,
) -> Result<()> {
    let code = match op {
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Max => 4,
        BinaryOp::Min => 5,
    };
    let p = params(code, &c.desc.shape, a_strides, b_strides);
    ctx.per_item(kernel("binary", "binary"), &p, &[(1, &a.buf), (2, &b.buf), (3, &c.buf)], c.desc.numel())
}

/// `x` (f32) broadcast to `shape`, materialized in a scratch buffer.
pub(crate) fn expand(ctx: &mut Ctx<'_>, x: &Operand, shape: &[usize]) -> Result<Operand> {
    let n: usize = shape.iter().product();
    let buf = ctx.scratch(n * 4)?;
    let p = params(0, shape, &broadcast_strides(&x.desc.shape, shape), &[]);
    ctx.per_item(kernel("binary", "expand"), &p, &[(1, &x.buf), (3, &buf)], n)?;
    Ok(Operand { buf, desc: TensorDesc::new(shape, DType::F32) })
}
