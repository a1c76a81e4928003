//! Launcher for `shaders/softmax.wgsl`.

use hcal_core::{Result, normalize_axis, softmax_split};

use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Softmax along `axis`.
pub(crate) fn record(ctx: &mut Ctx<'_>, axis: i64, x: &Operand, y: &Operand) -> Result<()> {
    let s = softmax_split(&x.desc.shape, normalize_axis("Softmax", axis, x.desc.rank())?);
    let lanes = if s.len == 0 { 0 } else { s.outer * s.inner };
    ctx.per_row(
        kernel("softmax", "softmax"),
        &[lanes as u32, s.len as u32, s.inner as u32],
        &[(1, &x.buf), (2, &y.buf)],
        lanes,
    )
}
