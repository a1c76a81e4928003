//! Launcher for `shaders/transpose.wgsl`.

use hcal_core::{Error, Result, contiguous_strides};

use crate::ctx::{Ctx, Operand};
use crate::params::TransposeParams;
use crate::pipeline::kernel;
use crate::split::{self, Reads};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// Permute the axes of `x` (any dtype) into `y`: `y.shape[k] = x.shape[perm[k]]`
/// (`perm` resolved by hcal-core, see `Geometry::Transpose`).
pub(crate) fn record(ctx: &mut Ctx<'_>, perm: &[usize], x: &Operand, y: &Operand) -> Result<()> {
    let in_strides = contiguous_strides(&x.desc.shape);
    let elem = x.desc.dtype.size_bytes();
    let mut p =
        TransposeParams { n: x.n(), elem_bytes: elem as u32, rank: perm.len() as u32, ..TransposeParams::default() };
    for (k, &src_axis) in perm.iter().enumerate() {
        p.shape[k] = x.desc.shape[src_axis] as u32;
        p.in_strides[k] = in_strides[src_axis] as u32;
    }
    let (shape, strides) = reads(&x.desc.shape, perm);
    let max = ctx.max_binding();
    let read = Reads { shape: &shape, strides: &strides, extra: 0, elem_bytes: elem, whole: x.buf.size() <= max };
    let too_large = || Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: x.buf.size(),
    };
    let Some(pieces) = split::strided(x.desc.numel(), elem, &[read], max, ctx.align()) else {
        if elem < 4 {
            // No scattering form for sub-word elements: through f32 copies
            // (f16, bf16 and bool convert exactly both ways).
            let wide = crate::convert::to_f32(ctx, x)?;
            let out = Operand {
                packed: None,
                buf: ctx.scratch(y.desc.numel() * 4)?,
                desc: hcal_core::TensorDesc::new(y.desc.shape.clone(), hcal_core::DType::F32),
            };
            let plan = scatter_plan(&x.desc.shape, perm, 4, max, ctx.align()).ok_or_else(too_large)?;
            scatter(ctx, &plan, &wide, &out)?;
            return crate::convert::from_f32(ctx, &out.buf, y);
        }
        let plan = scatter_plan(&x.desc.shape, perm, elem, max, ctx.align()).ok_or_else(too_large)?;
        return scatter(ctx, &plan, x, y);
    };
    // Ranges of output elements (starting at word boundaries), each reading
    // the window of X its elements come from.
    for (e0, e1) in pieces {
        let (first, count) = read.range(e0, e1);
        let (xw, origin) = ctx.window(&x.buf, first, count, elem);
        let (yw, y_origin) = ctx.window(&y.buf, e0, e1 - e0, elem);
        p.n = (e1 - e0) as u32;
        p.first = e0 as u32;
        p.x_origin = origin as u32;
        p.y_base = ((e0 - y_origin) * elem / 4) as u32;
        let words = ((e1 - e0) * elem).div_ceil(4);
        ctx.per_item_windows(kernel("transpose", "transpose"), &p, &[(1, xw), (2, yw)], words)?;
    }
    Ok(())
}

/// Where each input element of a transpose of `shape` by `perm` goes: the
/// input's shape and the output element stride of each input dim.
pub(crate) fn writes(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let out_shape: Vec<usize> = perm.iter().map(|&a| shape[a]).collect();
    let out_strides = contiguous_strides(&out_shape);
    let mut strides = vec![0; shape.len()];
    for (k, &a) in perm.iter().enumerate() {
        strides[a] = out_strides[k];
    }
    (shape.to_vec(), strides)
}

/// The scattering form's cut: ranges of input elements whose output windows
/// fit one binding, and where each input element goes ([`writes`]).
pub(crate) struct ScatterPlan {
    pieces: Vec<(usize, usize)>,
    shape: Vec<usize>,
    strides: Vec<usize>,
}

/// The [`ScatterPlan`] of a transpose of `shape` by `perm` with `elem`-byte
/// elements (4 or 8: narrower ones scatter as f32 copies); `None` when none fits.
pub(crate) fn scatter_plan(shape: &[usize], perm: &[usize], elem: usize, max: u64, align: u64) -> Option<ScatterPlan> {
    let elem = elem.max(4);
    let (shape, strides) = writes(shape, perm);
    let numel: usize = shape.iter().product();
    let whole = split::whole(numel * elem, max);
    let write = Reads { shape: &shape, strides: &strides, extra: 0, elem_bytes: elem, whole };
    let pieces = split::strided(numel, elem, &[write], max, align)?;
    Some(ScatterPlan { pieces, shape, strides })
}

/// The scattering form: contiguous ranges of X, each element written where
/// the transpose puts it, through the window of Y the range writes.
fn scatter(ctx: &mut Ctx<'_>, plan: &ScatterPlan, x: &Operand, y: &Operand) -> Result<()> {
    let elem = x.desc.dtype.size_bytes();
    let rank = plan.shape.len();
    let mut p = TransposeParams { elem_bytes: elem as u32, rank: rank as u32, ..TransposeParams::default() };
    for d in 0..rank {
        p.shape[d] = plan.shape[d] as u32;
        p.in_strides[d] = plan.strides[d] as u32;
    }
    let write = Reads { shape: &plan.shape, strides: &plan.strides, extra: 0, elem_bytes: elem, whole: false };
    for &(i0, i1) in &plan.pieces {
        let (first, count) = write.range(i0, i1);
        let (yw, y_origin) = ctx.window(&y.buf, first, count, elem);
        let (xw, x_origin) = ctx.window(&x.buf, i0, i1 - i0, elem);
        p.n = (i1 - i0) as u32;
        p.first = i0 as u32;
        p.x_origin = y_origin as u32;
        p.y_base = ((i0 - x_origin) * elem / 4) as u32;
        ctx.per_item_windows(kernel("transpose", "transpose_scatter"), &p, &[(1, xw), (2, yw)], i1 - i0)?;
    }
    Ok(())
}

/// The output's shape and the input element stride of each output dim, for
/// a transpose of `shape` by `perm`.
pub(crate) fn reads(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let in_strides = contiguous_strides(shape);
    perm.iter().map(|&a| (shape[a], in_strides[a])).unzip()
}
