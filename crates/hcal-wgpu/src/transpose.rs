//! Launcher for `shaders/transpose.wgsl`.

use hcal_core::{Error, Result, contiguous_strides};

use crate::params::TransposeParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};
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
    let pieces = split::strided(x.desc.numel(), elem, &[read], max, ctx.align()).ok_or_else(too_large)?;
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

/// The output's shape and the input element stride of each output dim, for
/// a transpose of `shape` by `perm`.
pub(crate) fn reads(shape: &[usize], perm: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let in_strides = contiguous_strides(shape);
    perm.iter().map(|&a| (shape[a], in_strides[a])).unzip()
}
