//! Launcher for `shaders/movement.wgsl` (Slice, Split, Expand, Concat,
//! Trilu), plus the two data-movement ops that need no kernel: Reshape is a
//! buffer copy (Y's bytes are X's) and Range, whose values depend on its
//! attributes alone, is computed on the host and copied in.
//!
//! The kernel binds whole tensors: `support.rs` declines movement on a
//! tensor larger than one storage binding.

use hcal_core::{DType, Result, StridedView, contiguous_strides};

use crate::params::{MAX_DIMS, MoveParams};
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = MAX_DIMS;

/// A parameter block walking `shape` with the whole of it written.
fn whole_band(shape: &[usize], elem_bytes: usize) -> MoveParams {
    let mut p = MoveParams {
        n: shape.iter().product::<usize>() as u32,
        elem_bytes: elem_bytes as u32,
        rank: shape.len() as u32,
        ..MoveParams::default()
    };
    for (k, &d) in shape.iter().enumerate() {
        p.shape[k] = d as u32;
        p.band_hi[k] = d as u32;
    }
    p
}

/// Dispatch over the words of Y holding elements `e0..e1`.
fn dispatch(ctx: &mut Ctx<'_>, mut p: MoveParams, x: &Operand, y: &Operand, (e0, e1): (usize, usize)) -> Result<()> {
    if e1 <= e0 {
        return Ok(());
    }
    let elem = p.elem_bytes as usize;
    let (w0, w1) = (e0 * elem / 4, (e1 * elem).div_ceil(4));
    p.first_word = w0 as u32;
    ctx.per_item(kernel("movement", "gather"), &p, &[(1, &x.buf), (2, &y.buf)], w1 - w0)
}

/// `Y[j] = X[view.offset + sum_k j_k * view.strides_k]` (Slice, a Split part, Expand).
pub(crate) fn gather(ctx: &mut Ctx<'_>, view: &StridedView, x: &Operand, y: &Operand) -> Result<()> {
    let mut p = whole_band(&y.desc.shape, x.desc.dtype.size_bytes());
    for (k, &s) in view.strides.iter().enumerate() {
        // Two's complement: the kernel's wrapping u32 sums land on the right element.
        p.src_strides[k] = s as i32 as u32;
    }
    p.src_base = view.offset as u32;
    dispatch(ctx, p, x, y, (0, y.desc.numel()))
}

/// Concat: input `i` (`[outer, lens[i], inner]`) into its band of Y
/// (`[outer, total, inner]`) at `offsets[i]`, one dispatch per input over the
/// words between its band's first and last element.
pub(crate) fn concat(
    ctx: &mut Ctx<'_>,
    (outer, inner): (usize, usize),
    lens: &[usize],
    offsets: &[usize],
    xs: &[&Operand],
    y: &Operand,
) -> Result<()> {
    let total: usize = lens.iter().sum();
    let elem = y.desc.dtype.size_bytes();
    for ((x, &len), &offset) in xs.iter().zip(lens).zip(offsets) {
        if len == 0 || outer == 0 || inner == 0 {
            continue;
        }
        let mut p = whole_band(&[outer, total, inner], elem);
        p.band_lo[1] = offset as u32;
        p.band_hi[1] = (offset + len) as u32;
        p.src_strides[..3].copy_from_slice(&[(len * inner) as u32, inner as u32, 1]);
        p.src_base = 0u32.wrapping_sub((offset * inner) as u32);
        // Words straddling two inputs' bands keep the other input's elements.
        p.keep = u32::from(elem < 4);
        let first = offset * inner;
        let last = ((outer - 1) * total + offset + len) * inner;
        dispatch(ctx, p, x, y, (first, last))?;
    }
    Ok(())
}

/// Trilu: Y = X with the elements outside the kept triangle zeroed.
pub(crate) fn trilu(ctx: &mut Ctx<'_>, upper: bool, k: i64, x: &Operand, y: &Operand) -> Result<()> {
    let mut p = whole_band(&x.desc.shape, x.desc.dtype.size_bytes());
    for (k, &s) in contiguous_strides(&x.desc.shape).iter().enumerate() {
        p.src_strides[k] = s as u32;
    }
    p.trilu = if upper { 1 } else { 2 };
    // |c - r| < 2^31 (u32 element counts), so clamping k to i32 keeps every answer.
    p.k = k.clamp(-(i32::MAX as i64), i32::MAX as i64) as i32 as u32;
    dispatch(ctx, p, x, y, (0, x.desc.numel()))
}

/// Reshape: Y's bytes are X's bytes.
pub(crate) fn copy(ctx: &mut Ctx<'_>, x: &Operand, y: &Operand) {
    let bytes = (x.desc.numel() * x.desc.dtype.size_bytes()) as u64;
    ctx.rec.copy(ctx.gpu, &x.buf, &y.buf, bytes);
}

/// Range: `start + i * delta` computed on the host (in f64, rounded once to
/// Y's dtype; exactly in integers for i64) and copied into Y.
pub(crate) fn range(ctx: &mut Ctx<'_>, (start, delta): (f64, f64), y: &Operand) {
    let len = y.desc.numel();
    let bytes: Vec<u8> = match y.desc.dtype {
        DType::I64 => (0..len)
            .flat_map(|i| ((i128::from(start as i64) + i as i128 * i128::from(delta as i64)) as i64).to_le_bytes())
            .collect(),
        dtype => (0..len)
            .flat_map(|i| {
                let v = start + i as f64 * delta;
                match dtype {
                    DType::F16 => half::f16::from_f64(v).to_le_bytes().to_vec(),
                    DType::BF16 => half::bf16::from_f64(v).to_le_bytes().to_vec(),
                    _ => (v as f32).to_le_bytes().to_vec(),
                }
            })
            .collect(),
    };
    if bytes.is_empty() {
        return;
    }
    let mut padded = bytes;
    let len = padded.len();
    padded.resize(len.div_ceil(4) * 4, 0);
    // A fresh buffer, not a pooled one that commands recorded earlier in the
    // batch may still use: its write lands before the batch runs, and the
    // copy out of it runs in order with them.
    let staging = ctx.gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("hcal range values"),
        size: padded.len() as u64,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    ctx.gpu.queue.write_buffer(&staging, 0, &padded);
    ctx.rec.copy(ctx.gpu, &staging, &y.buf, len as u64);
}
