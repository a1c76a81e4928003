//! Softmax, LogSoftmax and the normalizations over rows the row kernels
//! cannot take:
//! a row (or outer slice) larger than one storage binding, or longer than a
//! workgroup of 64 loops over on Mesa's CPU drivers (65,535 iterations per
//! invocation: 4,194,240 elements). They are composed of reductions in
//! partial results (`reduce_partial.rs`) and elementwise kernels, each of
//! which splits across bindings:
//!
//! ```text
//! Softmax(x)   m = max_r x;  t = exp(x - m);  y = t / sum_r t
//! LogSoftmax   m = max_r x;  t = x - m;  y = t - ln(sum_r exp t)
//! LayerNorm(x) m = mean_r x; d = x - m;  q = ||d||_2;  y = d / sqrt(q^2 / n + eps) * scale + bias
//! RmsNorm(x)   q = ||x||_2;  y = x / sqrt(q^2 / n + eps) * scale
//! ```
//!
//! The same quantities the row kernels form, in f32, with the sums taken in
//! blocks (within the same error bounds) and `q` by the scaled ReduceL2 (so
//! `q^2` carries two more roundings than a plain sum of squares). Softmax
//! and LogSoftmax hold one scratch tensor the size of X; LayerNorm writes its deviations
//! into Y before it overwrites them; RmsNorm needs none.

use hcal_core::{AxisSplit, BinaryOp, Op, ReduceOp, Result, TensorDesc, UnaryOp};

use crate::binary::expand;
use crate::ctx::{Ctx, Operand};
use crate::gpu::Gpu;
use crate::params::NormParams;
use crate::pipeline::kernel;
use crate::record::Window;
use crate::{binary, reduce, split, unary};

/// Elements a row kernel's workgroup of 64 takes at most on `gpu`.
fn row_kernel_len(gpu: &Gpu) -> usize {
    if gpu.simd_cpu { 64 * crate::matmul::split::CPU_DRIVER_LOOP_LIMIT } else { usize::MAX }
}

/// Whether Softmax (LogSoftmax when `log`) over `s` (`[outer, len,
/// inner]`) runs here rather than in the row kernel: an outer slice
/// exceeds one binding, or a lane the loop budget.
pub(crate) fn softmax_here(gpu: &Gpu, s: &AxisSplit, log: bool) -> bool {
    let (max, align) = (gpu.limits.max_storage_buffer_binding_size, Window::align(gpu));
    let too_long = if log {
        let op = Op::LogSoftmax { axis: -1 };
        gpu.simd_cpu && crate::along_axis::lane_iterations(&op, s.len) > crate::matmul::split::CPU_DRIVER_LOOP_LIMIT
    } else {
        s.len > row_kernel_len(gpu)
    };
    too_long || split::row_blocks(s.outer, s.len * s.inner, max, align).is_none()
}

/// Whether a normalization over rows of `s.len` runs here: a row exceeds
/// one binding, or the loop budget.
pub(crate) fn norm_here(gpu: &Gpu, s: &AxisSplit) -> bool {
    let (max, align) = (gpu.limits.max_storage_buffer_binding_size, Window::align(gpu));
    let row_fits = Window::bytes_needed(s.len, 4, align) <= max && split::whole(s.len * 4, max);
    s.len > row_kernel_len(gpu) || !row_fits
}

/// An f32 view of `buf` with `shape`.
fn view(buf: &std::sync::Arc<wgpu::Buffer>, shape: &[usize]) -> Operand {
    Operand { packed: None, buf: buf.clone(), desc: TensorDesc::new(shape.to_vec(), hcal_core::DType::F32) }
}

/// Row-major strides of `shape` with the dims of extent 1 in `keep` (a
/// broadcast operand's own shape) walking nothing.
fn broadcast_strides(shape: &[usize], keep: &[usize]) -> Vec<usize> {
    let strides = hcal_core::contiguous_strides(keep);
    shape.iter().zip(keep).zip(strides).map(|((&d, &k), s)| if k == 1 && d != 1 { 0 } else { s }).collect()
}

/// Softmax (LogSoftmax when `log`) of `x` viewed as `[outer, len, inner]`
/// along `len`.
pub(crate) fn softmax(ctx: &mut Ctx<'_>, s: &AxisSplit, log: bool, x: &Operand, y: &Operand) -> Result<()> {
    if s.len == 0 {
        return Ok(());
    }
    let shape = [s.outer, s.len, s.inner];
    let lanes = [s.outer, 1, s.inner];
    let full = hcal_core::contiguous_strides(&shape);
    let lane = broadcast_strides(&shape, &lanes);
    let strides = [&full[..], &lane[..]];
    let (x, y) = (view(&x.buf, &shape), view(&y.buf, &shape));
    let m = view(&ctx.scratch(s.outer * s.inner * 4)?, &lanes);
    reduce::record(ctx, ReduceOp::Max, &[1], &x, &m)?;
    // A scratch t beside Y, since a kernel may not read and write one
    // buffer through two bindings.
    let t = view(&ctx.scratch(x.desc.numel() * 4)?, &shape);
    let sum = view(&ctx.scratch(s.outer * s.inner * 4)?, &lanes);
    let exp = Op::Unary(UnaryOp::Exp);
    if log {
        // t = x - m, y = exp(t), y = t - ln(sum y).
        binary::record(ctx, BinaryOp::Sub, strides, &x, &m, &t)?;
        unary::record(ctx, &exp, &t, &y)?;
        reduce::record(ctx, ReduceOp::Sum, &[1], &y, &sum)?;
        unary::log(ctx, &sum, &m)?;
        binary::record(ctx, BinaryOp::Sub, strides, &t, &m, &y)
    } else {
        // y = x - m, t = exp(y), y = t / sum t.
        binary::record(ctx, BinaryOp::Sub, strides, &x, &m, &y)?;
        unary::record(ctx, &exp, &y, &t)?;
        reduce::record(ctx, ReduceOp::Sum, &[1], &t, &sum)?;
        binary::record(ctx, BinaryOp::Div, strides, &t, &sum, &y)
    }
}

/// LayerNormalization (or RMSNormalization when `rms`) of `x` as rows of
/// `s.len` (`s.outer` rows) over the dims from `axis`, Scale and B
/// broadcast to them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn norm(
    ctx: &mut Ctx<'_>,
    (rms, epsilon): (bool, f32),
    axis: usize,
    s: &AxisSplit,
    x: &Operand,
    scale: &Operand,
    bias: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let (rows, n) = (s.outer, s.len);
    let shape = [rows, n];
    let normalized = x.desc.shape[axis..].to_vec();
    let scale = expand(ctx, scale, &normalized)?;
    let bias = bias.map(|b| expand(ctx, b, &normalized)).transpose()?;
    let x = view(&x.buf, &shape);
    let q = view(&ctx.scratch(rows * 4)?, &[rows, 1]);
    let mean = if rms {
        reduce::record(ctx, ReduceOp::L2, &[1], &x, &q)?;
        q.clone()
    } else {
        let mean = view(&ctx.scratch(rows * 4)?, &[rows, 1]);
        reduce::record(ctx, ReduceOp::Mean, &[1], &x, &mean)?;
        // Deviations into Y (overwritten below), reduced to their norm.
        let d = view(&y.buf, &shape);
        binary::record(ctx, BinaryOp::Sub, [&[n, 1][..], &[1, 0][..]], &x, &mean, &d)?;
        reduce::record(ctx, ReduceOp::L2, &[1], &d, &q)?;
        mean
    };
    let params = NormParams {
        n: n as u32,
        epsilon,
        has_bias: u32::from(bias.is_some()),
        rms: u32::from(rms),
        ..NormParams::default()
    };
    let bias_buf = bias.as_ref().map_or(&scale.buf, |b| &b.buf).clone();
    // Pieces within one row, so each binds the window of Scale and B it
    // reads; short enough that a window starting anywhere fits.
    let (max, align) = (ctx.max_binding(), ctx.align());
    let pieces = split::contiguous(n, 4, max.saturating_sub(align + 4).max(align * 2), align);
    for row in 0..rows {
        for &(j0, len) in &pieces {
            let at = row * n + j0;
            let (xw, x_origin) = ctx.window(&x.buf, at, len, 4);
            let (yw, y_origin) = ctx.window(&y.buf, at, len, 4);
            let (sw, s_origin) = ctx.window(&scale.buf, j0, len, 4);
            let (bw, b_origin) = ctx.window(&bias_buf, j0, len, 4);
            let p = NormParams {
                rows: len as u32,
                row: row as u32,
                x_base: (at - x_origin) as u32,
                y_base: (at - y_origin) as u32,
                scale_base: (j0 - s_origin) as u32,
                bias_base: (j0 - b_origin) as u32,
                ..params
            };
            let stats = [(5, Window::from(&*mean.buf)), (6, Window::from(&*q.buf))];
            let bindings = [(1, xw), (2, sw), (3, bw), (4, yw), stats[0], stats[1]];
            ctx.per_item_windows(kernel("norm", "norm_apply"), &p, &bindings, len)?;
        }
    }
    Ok(())
}
