//! Launchers for `shaders/convert.wgsl`: dtype conversions and Cast.

use hcal_core::{DType, Result};

use crate::params::ConvertParams;
use crate::pipeline::kernel;
use crate::record::{Ctx, Operand};

/// An f32 view of `x`: itself when already f32, else a converted scratch copy.
pub(crate) fn to_f32(ctx: &mut Ctx<'_>, x: &Operand) -> Result<Operand> {
    let entry = match x.desc.dtype {
        DType::F32 => return Ok(x.clone()),
        DType::F16 => "f16_to_f32",
        DType::BF16 => "bf16_to_f32",
        DType::Bool => "bool_to_f32",
        DType::I64 => "i64_to_f32",
        // support::decline keeps quantized operands away from the f32 staging.
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("quantized operands are declined"),
    };
    let n = x.desc.numel();
    let buf = ctx.scratch(n * 4)?;
    ctx.per_item(kernel("convert", entry), &ConvertParams { n: n as u32 }, &[(1, &x.buf), (2, &buf)], n)?;
    Ok(Operand { buf, desc: hcal_core::TensorDesc::new(x.desc.shape.clone(), DType::F32) })
}

/// Store f32 values from `src` into `dst` in `dst`'s dtype.
pub(crate) fn from_f32(ctx: &mut Ctx<'_>, src: &wgpu::Buffer, dst: &Operand) -> Result<()> {
    let n = dst.desc.numel();
    let (entry, items) = match dst.desc.dtype {
        DType::F32 => {
            ctx.rec.copy(ctx.gpu, src, &dst.buf, (n * 4) as u64);
            return Ok(());
        }
        DType::F16 => ("f32_to_f16", n.div_ceil(2)),
        DType::BF16 => ("f32_to_bf16", n.div_ceil(2)),
        DType::Bool => ("f32_to_bool", n.div_ceil(4)),
        DType::I64 => ("f32_to_i64", n),
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("no op outputs a quantized dtype"),
    };
    ctx.per_item(kernel("convert", entry), &ConvertParams { n: n as u32 }, &[(1, src), (2, &dst.buf)], items)
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
        (DType::I64, DType::Bool) => ctx.per_item(
            kernel("convert", "i64_to_bool"),
            &ConvertParams { n: n as u32 },
            &[(1, &x.buf), (2, &y.buf)],
            n.div_ceil(4),
        ),
        _ => {
            let f = to_f32(ctx, x)?;
            from_f32(ctx, &f.buf, y)
        }
    }
}
