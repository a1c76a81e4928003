//! Launcher for `shaders/unary.wgsl`: the unary ops, Gelu, LeakyRelu and HardSigmoid.

use hcal_core::{GeluApproximation, Op, Result, UnaryOp};

use crate::ctx::{Ctx, Operand};
use crate::params::UnaryParams;
use crate::pipeline::{Kernel, kernel};
use crate::record::Window;

/// The shader's op code of a unary op, Gelu, LeakyRelu or HardSigmoid.
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
            UnaryOp::Abs => 10,
            UnaryOp::Erf => 11,
            UnaryOp::Floor => 12,
            UnaryOp::Ceil => 13,
            UnaryOp::Round => 14,
            UnaryOp::Not => 15,
        },
        Op::Gelu { approximate: GeluApproximation::None } => 8,
        Op::Gelu { approximate: GeluApproximation::Tanh } => 9,
        Op::LeakyRelu { .. } => 16,
        Op::HardSigmoid { .. } => 17,
        _ => unreachable!("unary::record is only called for unary ops, Gelu, LeakyRelu and HardSigmoid"),
    }
}

/// The shader's `(alpha, beta)` of `op` (zeros where the op has none).
fn attributes(op: &Op) -> (f32, f32) {
    match op {
        Op::LeakyRelu { alpha } => (*alpha, 0.0),
        Op::HardSigmoid { alpha, beta } => (*alpha, *beta),
        _ => (0.0, 0.0),
    }
}

/// `Y = f(X)` elementwise, in pieces of at most one binding each (windows
/// starting exactly at the piece, so the kernel indexes from 0).
pub(crate) fn record(ctx: &mut Ctx<'_>, op: &Op, x: &Operand, y: &Operand) -> Result<()> {
    let (alpha, beta) = attributes(op);
    launch(ctx, code(op), (alpha, beta), x, y)
}

/// GatedUnary: `y[r, j] = f(x[r, j]) x[r, N + j]` over `rows` rows of `2N`
/// (`half = N`), in one dispatch (`support.rs` declines tensors beyond one
/// binding).
pub(crate) fn gated(ctx: &mut Ctx<'_>, activation: UnaryOp, half: usize, x: &Operand, y: &Operand) -> Result<()> {
    let n = y.desc.numel();
    let code = code(&Op::Unary(activation));
    let params = UnaryParams { n: n as u32, op: code, alpha: 0.0, beta: 0.0, half: half as u32 };
    let specialized = Kernel { variant: code as u16 + 1, ..kernel("unary", "gated") };
    ctx.per_item(specialized, &params, &[(1, &x.buf), (2, &y.buf)], n)
}

/// `Y = ln(X)` elementwise: no op of the standard, a step of LogSoftmax
/// over rows too long for its row kernel (`long_rows.rs`).
pub(crate) fn log(ctx: &mut Ctx<'_>, x: &Operand, y: &Operand) -> Result<()> {
    launch(ctx, LOG, (0.0, 0.0), x, y)
}

/// The shader's code of the natural log (after the standard's ops).
const LOG: u32 = 18;

/// [`record`] by shader op code.
fn launch(ctx: &mut Ctx<'_>, op: u32, (alpha, beta): (f32, f32), x: &Operand, y: &Operand) -> Result<()> {
    for (i0, len) in ctx.contiguous(x.desc.numel(), 4) {
        let (offset, bytes) = ((i0 * 4) as u64, (len * 4) as u64);
        let bindings = [(1, Window::exact(&x.buf, offset, bytes)), (2, Window::exact(&y.buf, offset, bytes))];
        let params = UnaryParams { n: len as u32, op, alpha, beta, half: 0 };
        // The op code as a constant of the kernel (see `specialize`).
        let specialized = Kernel { variant: op as u16 + 1, ..kernel("unary", "unary") };
        ctx.per_item_windows(specialized, &params, &bindings, len)?;
    }
    Ok(())
}

/// Op codes of `unary.wgsl` (0 Relu .. 17 HardSigmoid, 18 the natural log).
const UNARY_CODES: u32 = 19;

/// `unary.wgsl` with op code `variant - 1` as a constant (see
/// `pipeline::source`): SIMD CPU drivers run every case of a switch on a value
/// they cannot prove uniform, under masks, so `params.op` cost the whole
/// table. Lavapipe, `[1, 262144]`, 3 alternations of one binary: Silu
/// 2.2-3.2 ms -> 0.7-1.4 ms, Neg 1.8-3.2 -> 0.6-1.2 ms.
pub(crate) fn specialize(text: &str, variant: u16) -> String {
    text.replace("apply(params.op, v)", &format!("apply({}u, v)", variant - 1))
}

/// Every specialization [`specialize`] makes, named, for shader validation.
pub(crate) fn specializations() -> Vec<(String, String)> {
    let text = crate::pipeline::family_source("unary");
    (0..UNARY_CODES as u16).map(|code| (format!("unary (op code {code})"), specialize(text, code + 1))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specializations_fix_the_op_code() {
        let silu = specialize(crate::pipeline::family_source("unary"), 3);
        assert!(silu.contains("apply(2u, v)") && !silu.contains("apply(params.op"));
        assert_eq!(specializations().len(), UNARY_CODES as usize);
        assert_eq!(LOG, UNARY_CODES - 1);
    }
}
