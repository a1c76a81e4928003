//! Launcher for `shaders/scatter.wgsl`: TensorScatter on raw storage, in
//! place when the present cache is the past cache (no copy at all), else
//! after one buffer copy of the past into the present.

use hcal_core::{Result, ScatterGeometry, ScatterMode};

use crate::params::ScatterParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Write `update` into `present` at the positions `g` defines; `past` is
/// `None` when `present` is the past cache itself (the in-place call).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    g: &ScatterGeometry,
    past: Option<&Operand>,
    update: &Operand,
    write_indices: Option<&Operand>,
    present: &Operand,
) -> Result<()> {
    if let Some(past) = past {
        ctx.rec.copy(ctx.gpu, &past.buf, &present.buf, present.desc.byte_len()? as u64);
    }
    let params = ScatterParams {
        elements: update.n(),
        elem_bytes: update.desc.dtype.size_bytes() as u32,
        per_batch: g.per_batch as u32,
        max_len: g.max_len as u32,
        seq_len: g.seq_len as u32,
        inner: g.inner as u32,
        with_write_indices: u32::from(g.with_write_indices),
        circular: u32::from(g.mode == ScatterMode::Circular),
    };
    let indices = write_indices.map_or_else(|| ctx.dummy.clone(), |w| (*w.buf).clone());
    ctx.per_item(
        kernel("scatter", "tensor_scatter"),
        &params,
        &[(1, &update.buf), (2, &indices), (3, &present.buf)],
        update.desc.numel(),
    )
}
