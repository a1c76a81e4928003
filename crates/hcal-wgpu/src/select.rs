//! Launchers for Where (`shaders/select.wgsl`) and Clip (two passes of
//! `shaders/binary.wgsl`: `Min(Max(X, min), max)`, which is ONNX's definition,
//! `lo > hi` and NaN included).

use hcal_core::{BinaryOp, Error, Result, TensorDesc, contiguous_strides};

use crate::ctx::{Ctx, Operand};
use crate::params::WhereParams;
use crate::pipeline::kernel;
use crate::split::{self, Reads};
use crate::{binary, convert};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// `out = cond ? x : y` with numpy broadcasting of all three (`strides`
/// resolved by hcal-core, see `Geometry::Where`), on f32 views (X, Y and out
/// raw for 8-byte elements: i64), in pieces of at most one binding each.
pub(crate) fn record_where(
    ctx: &mut Ctx<'_>,
    strides: &[Vec<usize>; 3],
    [c, x, y]: [&Operand; 3],
    out: &Operand,
) -> Result<()> {
    // i64 moves as word pairs (`select_where_wide`): f32 holds integers only to 2^24.
    let elem = if x.desc.dtype.size_bytes() == 8 { 8 } else { 4 };
    let (entry, slots) = if elem == 8 { ("select_where_wide", [1, 5, 6, 7]) } else { ("select_where", [1, 2, 3, 4]) };
    let shape = &out.desc.shape;
    let mut p = WhereParams { rank: shape.len() as u32, ..WhereParams::default() };
    for (k, &d) in shape.iter().enumerate() {
        p.shape[k] = d as u32;
        p.c_strides[k] = strides[0][k] as u32;
        p.x_strides[k] = strides[1][k] as u32;
        p.y_strides[k] = strides[2][k] as u32;
    }
    let max = ctx.max_binding();
    let read =
        |o: &Operand, strides, elem_bytes| Reads { shape, strides, extra: 0, elem_bytes, whole: o.buf.size() <= max };
    let reads = [read(c, &strides[0], 4), read(x, &strides[1], elem), read(y, &strides[2], elem)];
    let too_large = || Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (out.desc.numel() * 4) as u64,
    };
    let pieces = split::strided(out.desc.numel(), elem, &reads, max, ctx.align()).ok_or_else(too_large)?;
    for (i0, i1) in pieces {
        let mut windows = Vec::with_capacity(4);
        let mut origins = [0u32; 3];
        for (k, (operand, read)) in [c, x, y].iter().zip(&reads).enumerate() {
            let (first, count) = read.range(i0, i1);
            let (window, origin) = ctx.window(&operand.buf, first, count, read.elem_bytes);
            windows.push((slots[k], window));
            origins[k] = origin as u32;
        }
        let (ow, o_origin) = ctx.window(&out.buf, i0, i1 - i0, elem);
        windows.push((slots[3], ow));
        p.n = (i1 - i0) as u32;
        p.first = i0 as u32;
        [p.c_origin, p.x_origin, p.y_origin] = origins;
        p.out_base = (i0 - o_origin) as u32;
        ctx.per_item_windows(kernel("select", entry), &p, &windows, i1 - i0)?;
    }
    Ok(())
}

/// `y = min(max(x, lo), hi)` on f32 views; an absent bound skips its pass.
pub(crate) fn record_clip(
    ctx: &mut Ctx<'_>,
    x: &Operand,
    lo: Option<&Operand>,
    hi: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let x_strides = contiguous_strides(&x.desc.shape);
    let scalar = vec![0; x.desc.rank()];
    let pass = |ctx: &mut Ctx<'_>, op, src: &Operand, bound: &Operand, dst: &Operand| {
        binary::record(ctx, op, [&x_strides, &scalar], src, bound, dst)
    };
    match (lo, hi) {
        (None, None) => {
            // Nothing to bound: the f32 view copied (and converted by the caller).
            convert::from_f32(ctx, &x.buf, y)
        }
        (Some(lo), None) => pass(ctx, BinaryOp::Max, x, lo, y),
        (None, Some(hi)) => pass(ctx, BinaryOp::Min, x, hi, y),
        (Some(lo), Some(hi)) => {
            let raised = Operand {
                packed: None,
                buf: ctx.scratch(x.desc.numel() * 4)?,
                desc: TensorDesc::new(x.desc.shape.clone(), x.desc.dtype),
            };
            pass(ctx, BinaryOp::Max, x, lo, &raised)?;
            pass(ctx, BinaryOp::Min, &raised, hi, y)
        }
    }
}
