//! Launcher for `shaders/rotary.wgsl`.

use hcal_core::{Error, Result, RotaryEmbedding, RotaryGeometry};

use crate::ctx::{Ctx, Operand};
use crate::params::RotaryParams;
use crate::pipeline::kernel;
use crate::record::Window;

/// Blocks `[r0, r1)` of the `rows` rows of `head_dim` elements of X (and Y)
/// whose windows fit one binding of `max_binding` bytes: one block when X
/// fits whole. Every element reads only its own row (its pair partner lies
/// in the same head), so rows split anywhere.
pub(crate) fn row_blocks(rows: usize, head_dim: usize, max_binding: u64, align: u64) -> Option<Vec<(usize, usize)>> {
    if crate::split::whole(rows * head_dim * 4, max_binding) {
        return Some(if rows == 0 { vec![] } else { vec![(0, rows)] });
    }
    crate::split::pieces(rows, 1, |r0, r1| Window::bytes_needed((r1 - r0) * head_dim, 4, align) <= max_binding)
}

/// Windows `[c0, c1)` of the `rows` cache rows of `half` values whose cos
/// and sin windows fit one binding: one when the caches fit whole.
pub(crate) fn cache_windows(rows: usize, half: usize, max_binding: u64, align: u64) -> Option<Vec<(usize, usize)>> {
    if crate::split::whole(rows * half * 4, max_binding) {
        return Some(vec![(0, rows.max(1))]);
    }
    crate::split::pieces(rows, 1, |c0, c1| Window::bytes_needed((c1 - c0) * half, 4, align) <= max_binding)
}

/// RotaryEmbedding of `x` with its caches `cos` and `sin` on the resolved
/// geometry `g`; `ids` are raw i64 position ids. X and Y larger than one
/// binding run in blocks of whole rows; caches larger than one binding in
/// windows of rows, each dispatch rotating the tokens whose cache row (their
/// position id, or their (b, s)) lies in its window, so every element is
/// computed once, as unsplit; the ids are bound whole.
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    attrs: &RotaryEmbedding,
    g: &RotaryGeometry,
    [x, cos, sin]: [&Operand; 3],
    ids: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let mut params = RotaryParams {
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
        ..RotaryParams::default()
    };
    let ids_buf: wgpu::Buffer = ids.map_or_else(|| ctx.dummy.clone(), |i| (*i.buf).clone());
    let (max, align) = (ctx.max_binding(), ctx.align());
    let d = g.head_dim.max(1);
    let blocks = row_blocks(x.desc.numel() / d, d, max, align).ok_or_else(|| Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (d * 4) as u64,
    })?;
    let half = (g.rotary_dim / 2).max(1);
    let windows = cache_windows(g.cache_rows, half, max, align).ok_or_else(|| Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (half * 4) as u64,
    })?;
    for (r0, r1) in blocks {
        let (first, count) = (r0 * d, (r1 - r0) * d);
        let (xw, x_origin) = ctx.window(&x.buf, first, count, 4);
        let (yw, y_origin) = ctx.window(&y.buf, first, count, 4);
        params.n = count as u32;
        params.first = first as u32;
        params.x_base = (first - x_origin) as u32;
        params.y_base = (first - y_origin) as u32;
        for &(c0, c1) in &windows {
            // cos and sin have one shape: their windows start alike.
            let (cw, c_origin) = ctx.window(&cos.buf, c0 * half, (c1 - c0) * half, 4);
            let (sw, _) = ctx.window(&sin.buf, c0 * half, (c1 - c0) * half, 4);
            params.cache_first = c0 as u32;
            params.cache_end = c1 as u32;
            params.cache_base = (c0 * half - c_origin) as u32;
            let bindings = [(1, xw), (2, cw), (3, sw), (4, Window::from(&ids_buf)), (5, yw)];
            ctx.per_item_windows(kernel("rotary", "rotary"), &params, &bindings, count)?;
        }
    }
    Ok(())
}
