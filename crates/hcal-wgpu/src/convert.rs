//! Launchers for `shaders/convert.wgsl`: dtype conversions and Cast.

use hcal_core::{DType, Result};

use crate::ctx::{Ctx, Operand};
use crate::params::ConvertParams;
use crate::pipeline::kernel;
use crate::record::Window;

/// An f32 view of `x`: itself when already f32, else a converted scratch copy.
pub(crate) fn to_f32(ctx: &mut Ctx<'_>, x: &Operand) -> Result<Operand> {
    let entry = match x.desc.dtype {
        DType::F32 => return Ok(x.clone()),
        DType::F16 => "f16_to_f32",
        DType::BF16 => "bf16_to_f32",
        DType::Bool => "bool_to_f32",
        DType::I64 => "i64_to_f32",
        // Cast from packed blocks (products read the blocks themselves).
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => return crate::matmul::quant::dequantize(ctx, x),
    };
    let n = x.desc.numel();
    let buf = ctx.scratch(n * 4)?;
    elementwise(ctx, entry, [&x.buf, &buf], [x.desc.dtype.size_bytes(), 4], n, |len| len)?;
    Ok(Operand { packed: None, buf, desc: hcal_core::TensorDesc::new(x.desc.shape.clone(), DType::F32) })
}

/// Run conversion `entry` over `n` elements from `src` to `dst` (element
/// sizes `bytes`), in pieces of at most one binding each: ranges of elements
/// starting at multiples of the window alignment, so each piece's windows
/// start exactly at its first element (and at a word boundary of packed
/// dtypes) and the kernel indexes from 0. `items(len)`: invocations for `len` elements.
fn elementwise(
    ctx: &mut Ctx<'_>,
    entry: &'static str,
    [src, dst]: [&wgpu::Buffer; 2],
    [src_bytes, dst_bytes]: [usize; 2],
    n: usize,
    items: impl Fn(usize) -> usize,
) -> Result<()> {
    for (i0, len) in ctx.contiguous(n, src_bytes.max(dst_bytes)) {
        let window = |buf, bytes: usize| Window::exact(buf, (i0 * bytes) as u64, (len * bytes) as u64);
        let bindings = [(1, window(src, src_bytes)), (2, window(dst, dst_bytes))];
        ctx.per_item_windows(kernel("convert", entry), &ConvertParams { n: len as u32 }, &bindings, items(len))?;
    }
    Ok(())
}

/// Store f32 values from `src` into `dst` in `dst`'s dtype.
pub(crate) fn from_f32(ctx: &mut Ctx<'_>, src: &wgpu::Buffer, dst: &Operand) -> Result<()> {
    let n = dst.desc.numel();
    let (entry, per_item) = match dst.desc.dtype {
        DType::F32 => {
            ctx.rec.copy(ctx.gpu, src, &dst.buf, (n * 4) as u64);
            return Ok(());
        }
        DType::F16 => ("f32_to_f16", 2),
        DType::BF16 => ("f32_to_bf16", 2),
        DType::Bool => ("f32_to_bool", 4),
        DType::I64 => ("f32_to_i64", 1),
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("no op outputs a quantized dtype"),
    };
    let dst_bytes = dst.desc.dtype.size_bytes();
    elementwise(ctx, entry, [src, &dst.buf], [4, dst_bytes], n, |len| len.div_ceil(per_item))
}

/// Cast `x` into `y`: a copy for equal dtypes, i64 -> bool on the integer
/// bits, everything else through f32.
pub(crate) fn cast(ctx: &mut Ctx<'_>, x: &Operand, y: &Operand) -> Result<()> {
    let n = x.desc.numel();
    match (x.desc.dtype, y.desc.dtype) {
        (a, b) if a == b => {
            ctx.rec.copy(ctx.gpu, &x.buf, &y.buf, (n * a.size_bytes()) as u64);
            Ok(())
        }
        // Packed blocks straight to f32: one dispatch, no scratch copy.
        (q, DType::F32) if q.is_quantized() => crate::matmul::quant::dequantize_into(ctx, x, &y.buf),
        (DType::I64, DType::Bool) => {
            elementwise(ctx, "i64_to_bool", [&x.buf, &y.buf], [8, 1], n, |len| len.div_ceil(4))
        }
        _ => {
            let f = to_f32(ctx, x)?;
            from_f32(ctx, &f.buf, y)
        }
    }
}
