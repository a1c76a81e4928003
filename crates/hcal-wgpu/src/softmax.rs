//! Launcher for `shaders/softmax.wgsl`.

use hcal_core::{AxisSplit, Result};

use crate::params::SoftmaxParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Softmax of `x` viewed as `[outer, len, inner]` (`s`), along `len`.
pub(crate) fn record(ctx: &mut Ctx<'_>, s: &AxisSplit, x: &Operand, y: &Operand) -> Result<()> {
    let lanes = if s.len == 0 { 0 } else { s.outer * s.inner };
    ctx.per_row(
        kernel("softmax", "softmax"),
        &SoftmaxParams { lanes: lanes as u32, len: s.len as u32, inner: s.inner as u32 },
        &[(1, &x.buf), (2, &y.buf)],
        lanes,
    )
}
