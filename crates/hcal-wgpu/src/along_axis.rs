//! Launchers for `shaders/along_axis.wgsl` (ArgMax/ArgMin, CumSum) and the
//! `log_softmax` entry of `shaders/softmax.wgsl`.

use hcal_core::{AxisSplit, Error, Result};

use crate::ctx::{Ctx, Operand};
use crate::params::{AlongAxisParams, SoftmaxParams};
use crate::pipeline::kernel;
use crate::softmax::for_row_blocks;
use crate::split;

/// ArgMax (`largest`) or ArgMin of `x` (f32) along `len` of the split into
/// `y`, the raw i64 output laid out `[outer, inner]`, in blocks of outer
/// slices whose windows fit one binding.
pub(crate) fn arg_extreme(
    ctx: &mut Ctx<'_>,
    s: &AxisSplit,
    largest: bool,
    select_last_index: bool,
    x: &Operand,
    y: &Operand,
) -> Result<()> {
    let flags = u32::from(largest) | u32::from(select_last_index) << 1;
    // Blocks sized for the larger of a slice of X (len f32 words a lane) and of
    // Y (two words a lane), so both windows of a block fit one binding.
    let blocks = blocks(ctx, s.outer, s.len.max(2) * s.inner)?;
    for (r0, r1) in blocks {
        let (xw, x_origin) = ctx.window(&x.buf, r0 * s.len * s.inner, (r1 - r0) * s.len * s.inner, 4);
        let (yw, y_origin) = ctx.window(&y.buf, r0 * s.inner, (r1 - r0) * s.inner, 8);
        let lanes = (r1 - r0) * s.inner;
        let params = AlongAxisParams {
            lanes: lanes as u32,
            len: s.len as u32,
            inner: s.inner as u32,
            flags,
            x_base: (r0 * s.len * s.inner - x_origin) as u32,
            y_base: (r0 * s.inner - y_origin) as u32,
            ..AlongAxisParams::default()
        };
        ctx.per_item_windows(kernel("along_axis", "arg_extreme"), &params, &[(1, xw), (2, yw)], lanes)?;
    }
    Ok(())
}

/// Running sums of `x` along `len` of the split into `y` (both f32).
pub(crate) fn cumsum(
    ctx: &mut Ctx<'_>,
    s: &AxisSplit,
    exclusive: bool,
    reverse: bool,
    x: &Operand,
    y: &Operand,
) -> Result<()> {
    if s.len == 0 {
        return Ok(());
    }
    let flags = u32::from(exclusive) | u32::from(reverse) << 1;
    for_row_blocks(ctx, s.outer, s.len * s.inner, [x, y], |ctx, [o0, o1], [xw, yw], [x_base, y_base]| {
        let lanes = (o1 - o0) * s.inner;
        let params = AlongAxisParams {
            lanes: lanes as u32,
            len: s.len as u32,
            inner: s.inner as u32,
            flags,
            x_base,
            y_base,
            ..AlongAxisParams::default()
        };
        ctx.per_item_windows(kernel("along_axis", "cumsum"), &params, &[(1, xw), (2, yw)], lanes)
    })
}

/// LogSoftmax of `x` along `len` of the split, as Softmax's launcher does.
pub(crate) fn log_softmax(ctx: &mut Ctx<'_>, s: &AxisSplit, x: &Operand, y: &Operand) -> Result<()> {
    if s.len == 0 {
        return Ok(());
    }
    for_row_blocks(ctx, s.outer, s.len * s.inner, [x, y], |ctx, [o0, o1], [xw, yw], [x_base, y_base]| {
        let lanes = (o1 - o0) * s.inner;
        let params = SoftmaxParams { lanes: lanes as u32, len: s.len as u32, inner: s.inner as u32, x_base, y_base };
        ctx.per_row_windows(kernel("softmax", "log_softmax"), &params, &[(1, xw), (2, yw)], lanes)
    })
}

/// Blocks of `rows` rows of `row_len` f32 words whose windows fit one binding.
fn blocks(ctx: &Ctx<'_>, rows: usize, row_len: usize) -> Result<Vec<(usize, usize)>> {
    let max = ctx.max_binding();
    split::row_blocks(rows, row_len, max, ctx.align()).ok_or_else(|| Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (row_len * 4) as u64,
    })
}

/// Loop iterations one invocation of `op` runs over a lane of `len`
/// elements: `along_axis.wgsl` walks the lane once; `log_softmax` (64
/// invocations a lane) three strided loops and two 6-step tree reductions.
pub(crate) fn lane_iterations(op: &hcal_core::Op, len: usize) -> usize {
    match op {
        hcal_core::Op::LogSoftmax { .. } => 3 * len.div_ceil(64) + 12,
        _ => len,
    }
}
