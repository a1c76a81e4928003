//! Launcher for `shaders/softmax.wgsl`.

use hcal_core::{AxisSplit, Error, Result};

use crate::ctx::{Ctx, Operand};
use crate::params::SoftmaxParams;
use crate::pipeline::kernel;
use crate::record::Window;
use crate::split;

/// Softmax of `x` viewed as `[outer, len, inner]` (`s`), along `len`, in
/// blocks of outer slices (`len * inner` contiguous elements each) whose
/// windows fit one binding.
pub(crate) fn record(ctx: &mut Ctx<'_>, s: &AxisSplit, x: &Operand, y: &Operand) -> Result<()> {
    if s.len == 0 {
        return Ok(());
    }
    for_row_blocks(ctx, s.outer, s.len * s.inner, [x, y], |ctx, [o0, o1], [xw, yw], [x_base, y_base]| {
        let lanes = (o1 - o0) * s.inner;
        let params = SoftmaxParams { lanes: lanes as u32, len: s.len as u32, inner: s.inner as u32, x_base, y_base };
        ctx.per_row_windows(kernel("softmax", "softmax"), &params, &[(1, xw), (2, yw)], lanes)
    })
}

/// Call `f` on blocks `[r0, r1)` of `rows` rows of `row_len` contiguous f32
/// elements each, in X and Y alike: with both tensors' windows over the
/// block and where the block starts in each (its first element minus the
/// window's origin). One block when both tensors fit one binding.
pub(crate) fn for_row_blocks(
    ctx: &mut Ctx<'_>,
    rows: usize,
    row_len: usize,
    [x, y]: [&Operand; 2],
    mut f: impl FnMut(&mut Ctx<'_>, [usize; 2], [Window<'_>; 2], [u32; 2]) -> Result<()>,
) -> Result<()> {
    let (max, align) = (ctx.max_binding(), ctx.align());
    let blocks = split::row_blocks(rows, row_len, max, align).ok_or_else(|| Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (row_len * 4) as u64,
    })?;
    for (r0, r1) in blocks {
        let range = [r0 * row_len, (r1 - r0) * row_len];
        let (xw, x_origin) = ctx.window(&x.buf, range[0], range[1], 4);
        let (yw, y_origin) = ctx.window(&y.buf, range[0], range[1], 4);
        f(ctx, [r0, r1], [xw, yw], [(range[0] - x_origin) as u32, (range[0] - y_origin) as u32])?;
    }
    Ok(())
}
