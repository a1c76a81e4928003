//! Launcher for `shaders/unary.wgsl`: Relu .. Reciprocal and Gelu.

use hcal_core::{GeluApproximation, Op, Result, UnaryOp};

use crate::params::UnaryParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// The shader's op code of a unary op or Gelu.
fn code(op: &Op) -> u32 {
    match op {
        Op::Unary(u) => match u {
            UnaryOp::Relu => 0,
            UnaryOp::Sigmoid => 1,
            UnaryOp::Silu => 2,
            UnaryOp::Exp => 3,
            UnaryOp::Tanh => 4,
            UnaryOp::Neg => 5,
            UnaryOp::Sqrt => 6,
            UnaryOp::Reciprocal => 7,
        },
        Op::Gelu { approximate: GeluApproximation::None } => 8,
        Op::Gelu { approximate: GeluApproximation::Tanh } => 9,
        _ => unreachable!("unary::record is only called for unary ops and Gelu"),
    }
}

/// `Y = f(X)` elementwise.
pub(crate) fn record(ctx: &mut Ctx<'_>, op: &Op, x: &Operand, y: &Operand) -> Result<()> {
    ctx.per_item(
        kernel("unary", "unary"),
        &UnaryParams { n: x.n(), op: code(op) },
        &[(1, &x.buf), (2, &y.buf)],
        x.desc.numel(),
    )
}
