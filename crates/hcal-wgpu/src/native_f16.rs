//! f16 products and attention run on their f16 storage: MatMul and Gemm on
//! the register tiles' f16 forms, Attention on the flash kernel's, each
//! reading f16 operands and writing f16 outputs itself with f32 sums (one
//! rounding per output), instead of converting every operand to an f32
//! scratch copy and the output back (`dispatch.rs`). The kernels decode f16
//! with `unpack2x16float` and encode on bits (`shaders/include/f16_bits.wgsl`),
//! so nothing needs the SHADER_F16 feature and the results are the bits of
//! the conversion path. Calls no f16 form runs take that path.

use hcal_core::{Call, DType, Geometry, Op, Result};

use crate::attention::{self, Inputs};
use crate::record::{Ctx, Operand};
use crate::{attention_flash, convert, matmul};

/// Record `call` on its f16 operands (`ins`, `outs`: every slot's raw
/// operand) where an f16 form runs it; `Ok(false)`, recording nothing, where
/// none does (another dtype, a layout or path without an f16 form).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    call: &Call<'_>,
    ins: &[Option<Operand>],
    outs: &[Option<Operand>],
) -> Result<bool> {
    let f16 = |o: &Option<Operand>| o.as_ref().is_none_or(|o| o.desc.dtype == DType::F16);
    match (call.op(), call.geometry()) {
        (Op::MatMul, Geometry::MatMul(g)) if ins.iter().chain(outs).all(f16) => {
            let [Some(a), Some(b)] = [present(ins, 0), present(ins, 1)] else { return Ok(false) };
            let Some(y) = present(outs, 0) else { return Ok(false) };
            matmul::matmul_f16(ctx, g, a, b, y)
        }
        (Op::Gemm(attrs), Geometry::Gemm(g)) if ins.iter().chain(outs).all(f16) => {
            let [Some(a), Some(b)] = [present(ins, 0), present(ins, 1)] else { return Ok(false) };
            let Some(y) = present(outs, 0) else { return Ok(false) };
            matmul::gemm_f16(ctx, attrs, g, [a, b, y], present(ins, 2))
        }
        (Op::Attention(attrs), Geometry::Attention(g)) => {
            // Q, K and V f16 and 4-D ([B, H, S, D], read in place by the
            // flash kernel's staging), no past cache, valid lengths or
            // present outputs (appended by the f32 kernels); the mask, of
            // any dtype, becomes f32 as on the conversion path.
            let (Some(q), Some(k), Some(v), Some(y)) =
                (present(ins, 0), present(ins, 1), present(ins, 2), present(outs, 0))
            else {
                return Ok(false);
            };
            let extras = (4..7).any(|i| present(ins, i).is_some()) || (1..3).any(|i| present(outs, i).is_some());
            let all_f16 = [q, k, v, y].iter().all(|o| o.desc.dtype == DType::F16);
            if extras || !all_f16 || g.packed_3d || g.nonpad_kv_seqlen {
                return Ok(false);
            }
            let mask = present(ins, 3);
            let Some(variant) = attention_flash::variant_for(ctx.gpu, g, mask.is_some()) else { return Ok(false) };
            let runs = attention_flash::f16_runs(ctx.gpu, variant, [&q.buf, &k.buf, &v.buf, &y.buf]);
            if !runs || attention::choose(ctx, g, Some(variant)) != attention::Path::Flash {
                return Ok(false);
            }
            let mask = match mask {
                Some(m) => Some((convert::to_f32(ctx, m)?, m.desc.dtype == DType::Bool)),
                None => None,
            };
            let inputs = Inputs { q, k, v, mask: mask.as_ref().map(|(m, b)| (m, *b)), past: None, nonpad: None };
            attention::record(ctx, attrs, g, inputs, y, [None, None]).map(|()| true)
        }
        _ => Ok(false),
    }
}

/// Slot `i` of `slots` when an operand fills it.
fn present(slots: &[Option<Operand>], i: usize) -> Option<&Operand> {
    slots.get(i).and_then(Option::as_ref)
}
