//! Launcher for `shaders/norm.wgsl`: LayerNormalization and RMSNormalization.

use hcal_core::{AxisSplit, Op, Result};

use crate::binary::expand;
use crate::ctx::{Ctx, Operand};
use crate::params::NormParams;
use crate::pipeline::kernel;
use crate::record::Window;
use crate::softmax::for_row_blocks;

/// LayerNormalization `(x - mean) / sqrt(var + eps) * scale + bias` or
/// RMSNormalization `x / sqrt(mean(x^2) + eps) * scale` over `[axis, rank)`;
/// Scale and B are broadcast to that shape first. `axis` and `split` (`x` as
/// `[outer, len]` rows) are resolved by the caller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    op: &Op,
    axis: usize,
    split: &AxisSplit,
    x: &Operand,
    scale: &Operand,
    bias: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let (epsilon, rms) = match op {
        Op::LayerNormalization { epsilon, .. } => (*epsilon, false),
        Op::RmsNormalization { epsilon, .. } => (*epsilon, true),
        _ => unreachable!("norm::record is only called for normalizations"),
    };
    if split.len == 0 || split.outer == 0 {
        return Ok(());
    }
    let normalized = x.desc.shape[axis..].to_vec();
    let scale = expand(ctx, scale, &normalized)?;
    let bias = bias.map(|b| expand(ctx, b, &normalized)).transpose()?;
    let bias_buf = bias.as_ref().map(|b| b.buf.clone());
    let params = NormParams {
        rows: split.outer as u32,
        n: split.len as u32,
        epsilon,
        has_bias: u32::from(bias.is_some()),
        rms: u32::from(rms),
        ..NormParams::default()
    };
    let bias_binding: &wgpu::Buffer = bias_buf.as_deref().unwrap_or(&scale.buf);
    // Blocks of whole rows whose windows of X and Y fit one binding.
    for_row_blocks(ctx, split.outer, split.len, [x, y], |ctx, [r0, r1], [xw, yw], [x_base, y_base]| {
        let params = NormParams { rows: (r1 - r0) as u32, x_base, y_base, ..params };
        let bindings = [(1, xw), (2, Window::from(&*scale.buf)), (3, Window::from(bias_binding)), (4, yw)];
        ctx.per_row_windows(kernel("norm", "norm"), &params, &bindings, r1 - r0)
    })
}
