//! Launcher for `shaders/reduce.wgsl`.

use hcal_core::{Error, ReduceOp, Result, contiguous_strides};

use crate::ctx::{Ctx, Operand};
use crate::gpu::Gpu;
use crate::params::ReduceParams;
use crate::pipeline::kernel;
use crate::record::Window;
use crate::reduce_partial::{self, Layout, Limits};
use crate::split::{self, Reads};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = crate::params::MAX_DIMS;

/// How a reduction of a tensor of `shape` over `reduced` runs on `gpu`.
pub(crate) enum Cut {
    /// One invocation per output, in ranges of outputs each reading one window.
    Whole(Vec<(usize, usize)>),
    /// In partial results (see `reduce_partial.rs`).
    Partial(Layout, reduce_partial::Plan),
}

/// The cut of reducing `shape` over `reduced` (ReduceL2 when `l2`), or
/// `None` when none fits the device.
///
/// One invocation per output where its loops stay within the CPU drivers'
/// budget and some range of outputs reads one binding; partial results
/// otherwise.
pub(crate) fn cut(gpu: &Gpu, shape: &[usize], reduced: &[usize], l2: bool) -> Option<Cut> {
    let count: usize = reduced.iter().map(|&d| shape[d]).product();
    let outputs: usize = (0..shape.len()).filter(|d| !reduced.contains(d)).map(|d| shape[d]).product();
    let max = gpu.limits.max_storage_buffer_binding_size;
    let within_budget = !gpu.simd_cpu
        || reduce_partial::iterations(shape.len(), count, l2) <= crate::matmul::split::CPU_DRIVER_LOOP_LIMIT;
    if within_budget {
        let (kept_shape, kept_strides, extra) = reads(shape, reduced);
        let numel: usize = shape.iter().product();
        let read = Reads {
            shape: &kept_shape,
            strides: &kept_strides,
            extra,
            elem_bytes: 4,
            whole: split::whole(numel * 4, max),
        };
        if let Some(pieces) = split::strided(outputs, 4, &[read], max, Window::align(gpu)) {
            return Some(Cut::Whole(pieces));
        }
    }
    let layout = Layout::new(shape, reduced);
    reduce_partial::plan(&layout, l2, Limits::of(gpu)).map(|plan| Cut::Partial(layout, plan))
}

/// Reduce `x` over the `reduced` axes (resolved by hcal-core, see
/// `Geometry::Reduce`) into `y`.
pub(crate) fn record(ctx: &mut Ctx<'_>, op: ReduceOp, reduced: &[usize], x: &Operand, y: &Operand) -> Result<()> {
    let shape = &x.desc.shape;
    let count: usize = reduced.iter().map(|&d| shape[d]).product();
    let strides = contiguous_strides(shape);
    let code = match op {
        ReduceOp::Sum => 0,
        ReduceOp::Mean => 1,
        ReduceOp::Max => 2,
        ReduceOp::Min => 3,
        ReduceOp::Prod => 4,
        ReduceOp::L2 => 5,
    };
    let mut p = ReduceParams {
        outputs: y.n(),
        op: code,
        rank: shape.len() as u32,
        count: count as u32,
        ..ReduceParams::default()
    };
    for d in 0..shape.len() {
        p.shape[d] = shape[d] as u32;
        p.strides[d] = strides[d] as u32;
        p.reduced[d] = u32::from(reduced.contains(&d));
    }
    let too_large = || Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: x.buf.size(),
    };
    let pieces = match cut(ctx.gpu, shape, reduced, op == ReduceOp::L2).ok_or_else(too_large)? {
        Cut::Whole(pieces) => pieces,
        Cut::Partial(layout, plan) => return reduce_partial::record(ctx, &layout, &plan, p, x, y),
    };
    let (kept_shape, kept_strides, extra) = reads(shape, reduced);
    let read = Reads {
        shape: &kept_shape,
        strides: &kept_strides,
        extra,
        elem_bytes: 4,
        whole: x.buf.size() <= ctx.max_binding(),
    };
    // Ranges of outputs, each reading the window of X its outputs reduce.
    for (o0, o1) in pieces {
        let (first, count) = read.range(o0, o1);
        let (xw, origin) = ctx.window(&x.buf, first, count, 4);
        let (yw, y_origin) = ctx.window(&y.buf, o0, o1 - o0, 4);
        p.outputs = (o1 - o0) as u32;
        p.first = o0 as u32;
        p.x_origin = origin as u32;
        p.y_base = (o0 - y_origin) as u32;
        ctx.per_item_windows(kernel("reduce", "reduce"), &p, &[(1, xw), (2, yw)], o1 - o0)?;
    }
    Ok(())
}

/// How outputs read the input of shape `shape` reduced over `reduced`: the
/// kept dims' shape and strides (output index -> first input read) and how
/// far past that first input an output reads.
pub(crate) fn reads(shape: &[usize], reduced: &[usize]) -> (Vec<usize>, Vec<usize>, usize) {
    let strides = contiguous_strides(shape);
    let kept = (0..shape.len()).filter(|d| !reduced.contains(d));
    let (kept_shape, kept_strides) = kept.map(|d| (shape[d], strides[d])).unzip();
    let extra = reduced.iter().map(|&d| shape[d].saturating_sub(1) * strides[d]).sum();
    (kept_shape, kept_strides, extra)
}
