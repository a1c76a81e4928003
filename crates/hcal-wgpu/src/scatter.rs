//! Launcher for `shaders/scatter.wgsl`: TensorScatter on raw storage, in
//! place when the present cache is the past cache (no copy at all), else
//! after one buffer copy of the past into the present. Caches larger than
//! one storage binding are written in blocks of whole prefixes (batch and
//! head rows), each binding windows of the update and the cache.

use hcal_core::{Result, ScatterGeometry, ScatterMode};

use crate::ctx::{Ctx, Operand};
use crate::params::ScatterParams;
use crate::pipeline::kernel;
use crate::record::Window;

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
    let mut params = ScatterParams {
        elements: update.n(),
        elem_bytes: update.desc.dtype.size_bytes() as u32,
        per_batch: g.per_batch as u32,
        max_len: g.max_len as u32,
        seq_len: g.seq_len as u32,
        inner: g.inner as u32,
        with_write_indices: u32::from(g.with_write_indices),
        circular: u32::from(g.mode == ScatterMode::Circular),
        ..ScatterParams::default()
    };
    let indices = write_indices.map_or_else(|| ctx.dummy.clone(), |w| (*w.buf).clone());
    let elem = update.desc.dtype.size_bytes();
    let (max, align) = (ctx.max_binding(), ctx.align());
    let blocks = prefix_blocks(g, elem, max, align).ok_or_else(|| hcal_core::Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (g.max_len * g.inner * elem) as u64,
    })?;
    // Blocks of whole prefixes: each writes only its prefixes' rows of the cache.
    for (p0, p1) in blocks {
        let (u0, un) = (p0 * g.seq_len * g.inner, (p1 - p0) * g.seq_len * g.inner);
        let (c0, cn) = (p0 * g.max_len * g.inner, (p1 - p0) * g.max_len * g.inner);
        let (uw, u_origin) = ctx.window(&update.buf, u0, un, elem);
        let (cw, c_origin) = ctx.window(&present.buf, c0, cn, elem);
        params.elements = un as u32;
        params.first = u0 as u32;
        params.update_origin = u_origin as u32;
        params.present_origin = c_origin as u32;
        let bindings = [(1, uw), (2, Window::from(&indices)), (3, cw)];
        ctx.per_item_windows(kernel("scatter", "tensor_scatter"), &params, &bindings, un)?;
    }
    Ok(())
}

/// Blocks `[p0, p1)` of the cache's prefixes (rows of `max_len * inner`
/// elements of `elem` bytes; the update's of `seq_len * inner`) whose windows
/// fit one binding: one block when both fit whole; `None` when one prefix's
/// rows do not.
pub(crate) fn prefix_blocks(g: &ScatterGeometry, elem: usize, max: u64, align: u64) -> Option<Vec<(usize, usize)>> {
    let (cache_row, update_row) = (g.max_len * g.inner, g.seq_len * g.inner);
    let whole = |elements: usize| crate::split::whole(elements * elem, max);
    if whole(g.prefix * cache_row) && whole(g.prefix * update_row) {
        return Some(if g.prefix == 0 { vec![] } else { vec![(0, g.prefix)] });
    }
    let fits = |n: usize| Window::bytes_needed(n, elem, align) <= max;
    crate::split::pieces(g.prefix, 1, |p0, p1| fits((p1 - p0) * cache_row) && fits((p1 - p0) * update_row))
}
