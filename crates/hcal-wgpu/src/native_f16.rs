//! f16 products and attention run on their f16 storage: MatMul and Gemm on
//! the register tiles' f16 forms and the f16 GEMV, Attention on the flash
//! kernel's and the split (flash-decoding) kernels' f16 forms, each
//! reading f16 operands and writing f16 outputs itself with f32 sums (one
//! rounding per output), instead of converting every operand to an f32
//! scratch copy and the output back (`dispatch.rs`). The kernels decode f16
//! with `unpack2x16float` and encode on bits (`shaders/include/f16_bits.wgsl`),
//! so nothing needs the SHADER_F16 feature and the results are the bits of
//! the conversion path. Calls no f16 form runs take that path.

use hcal_core::{Call, DType, Geometry, Op, Result};

use crate::attention::{self, Inputs};
use crate::ctx::{Ctx, Operand};
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
            // Q, K, V and Y f16 and 4-D ([B, H, S, D], read in place), no past
            // cache or present outputs (appended by the f32 kernels), on the path
            // the f32 call takes when that path has an f16 form: the flash kernel
            // (its staging reads f16) or the split (flash-decoding) kernels. The
            // mask, of any dtype, becomes f32 as on the conversion path;
            // `nonpad_kv_seqlen` is read as given (the split path's).
            let (Some(q), Some(k), Some(v), Some(y)) =
                (present(ins, 0), present(ins, 1), present(ins, 2), present(outs, 0))
            else {
                return Ok(false);
            };
            let caches = (4..6).any(|i| present(ins, i).is_some()) || (1..3).any(|i| present(outs, i).is_some());
            let all_f16 = [q, k, v, y].iter().all(|o| o.desc.dtype == DType::F16);
            if caches || !all_f16 || g.packed_3d {
                return Ok(false);
            }
            let mask = present(ins, 3);
            let flash = attention_flash::variant_for(ctx.gpu, g, mask.is_some());
            let runs = match attention::choose(ctx, g, flash) {
                attention::Path::Flash => {
                    flash.is_some_and(|form| attention_flash::f16_runs(ctx.gpu, form, [&q.buf, &k.buf, &v.buf, &y.buf]))
                }
                // Tensors beyond one binding run in pieces, whose copies are f32.
                attention::Path::Split => crate::attention_pieces::fits_whole(g, ctx.max_binding()),
                attention::Path::Fused | attention::Path::Composed => false,
            };
            if !runs {
                return Ok(false);
            }
            let mask = match mask {
                Some(m) => Some((convert::to_f32(ctx, m)?, m.desc.dtype == DType::Bool)),
                None => None,
            };
            let inputs =
                Inputs { q, k, v, mask: mask.as_ref().map(|(m, b)| (m, *b)), past: None, nonpad: present(ins, 6) };
            attention::record(ctx, attrs, g, inputs, y, [None, None]).map(|()| true)
        }
        _ => Ok(false),
    }
}

/// Slot `i` of `slots` when an operand fills it.
fn present(slots: &[Option<Operand>], i: usize) -> Option<&Operand> {
    slots.get(i).and_then(Option::as_ref)
}
