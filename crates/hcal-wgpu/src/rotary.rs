//! Launcher for `shaders/rotary.wgsl`.

use hcal_core::{Result, RotaryEmbedding, RotaryGeometry};

use crate::params::RotaryParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// RotaryEmbedding of `x` with its caches `cos` and `sin` on the resolved
/// geometry `g`; `ids` are raw i64 position ids.
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    attrs: &RotaryEmbedding,
    g: &RotaryGeometry,
    [x, cos, sin]: [&Operand; 3],
    ids: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let params = RotaryParams {
        n: x.n(),
        batch: g.batch as u32,
        heads: g.heads as u32,
        seq: g.seq as u32,
        head_dim: g.head_dim as u32,
        rotary_dim: g.rotary_dim as u32,
        interleaved: u32::from(attrs.interleaved),
        packed_3d: u32::from(g.packed_3d),
        with_position_ids: u32::from(g.with_position_ids),
        cache_rows: g.cache_rows as u32,
    };
    let ids_buf = ids.map(|i| i.buf.clone());
    let ids_binding: &wgpu::Buffer = ids_buf.as_deref().unwrap_or(ctx.dummy);
    let ids_binding = ids_binding.clone();
    ctx.per_item(
        kernel("rotary", "rotary"),
        &params,
        &[(1, &x.buf), (2, &cos.buf), (3, &sin.buf), (4, &ids_binding), (5, &y.buf)],
        x.desc.numel(),
    )
}
