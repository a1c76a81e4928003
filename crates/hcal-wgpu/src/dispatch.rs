//! Recording one call: operands looked up, f16/bf16/bool operands staged to
//! f32 views and back, and the op table that hands each op to its launcher
//! with the geometry hcal-core resolved when it validated the call
//! ([`Call::geometry`]); no launcher resolves shapes itself.

use hcal_core::{Call, DType, Error, Geometry, Op, Result, Tensor, TensorDesc};

use crate::ctx::{Ctx, Operand};
use crate::{
    along_axis, along_axis_segments, attention, binary, convert, gather, long_rows, matmul, movement, norm, qkv_cache,
    reduce, rotary, scatter, select, softmax, transpose, unary,
};

/// A required operand (present: `Call` validated the arity).
fn req(slots: &[Option<Operand>], i: usize) -> &Operand {
    slots[i].as_ref().expect("validated by hcal-core")
}

/// Record `call` (`invalid` names a tensor this backend does not hold).
pub(crate) fn record(ctx: &mut Ctx<'_>, call: &Call<'_>, invalid: impl Fn(&Tensor) -> Error) -> Result<()> {
    // Outputs held in textures (packed.rs) go back to buffers first: kernels write buffers.
    for t in call.outputs().iter().flatten() {
        if !ctx.mem.contains(t.id()) {
            return Err(invalid(t));
        }
        crate::packed::release(ctx, t)?;
    }
    // Inputs the op reads from their textures: quantized B of a product, X
    // of a Cast, the table of a Gather.
    let reads_packed = |i: usize| match call.op() {
        Op::Gemm(_) | Op::MatMul => i == 1,
        Op::RmsNormGemm(_) => i == 2,
        Op::Cast { .. } | Op::Gather { .. } => i == 0,
        _ => false,
    };
    let mut raw_in: Vec<Option<Operand>> = Vec::with_capacity(call.inputs().len());
    for (i, t) in call.inputs().iter().enumerate() {
        raw_in.push(t.map(|t| crate::packed::input(ctx, t, reads_packed(i), &invalid)).transpose()?);
    }
    let raw_out: Vec<Option<Operand>> = call
        .outputs()
        .iter()
        .map(|t| t.map(|t| crate::packed::input(ctx, t, false, &invalid)).transpose())
        .collect::<Result<_>>()?;
    match (call.op(), call.geometry()) {
        (Op::Cast { .. }, _) => return convert::cast(ctx, req(&raw_in, 0), req(&raw_out, 0)),
        (Op::Transpose { .. }, Geometry::Transpose { perm }) => {
            return transpose::record(ctx, perm, req(&raw_in, 0), req(&raw_out, 0));
        }
        // The i64 indices are written raw (an f32 staging would round indices past 2^24).
        (
            Op::ArgMax { select_last_index, .. } | Op::ArgMin { select_last_index, .. },
            Geometry::AlongAxis { split, .. },
        ) => {
            let x = convert::to_f32(ctx, req(&raw_in, 0))?;
            let largest = matches!(call.op(), Op::ArgMax { .. });
            if along_axis_segments::segmented(ctx.gpu, split, true) {
                let scan = along_axis_segments::Scan::Arg { largest, last: *select_last_index };
                return along_axis_segments::record(ctx, split, scan, &x, req(&raw_out, 0));
            }
            return along_axis::arg_extreme(ctx, split, largest, *select_last_index, &x, req(&raw_out, 0));
        }
        // ---- data movement (issue 18): raw elements, exact in every dtype ----
        (Op::Slice { .. } | Op::Split { .. } | Op::Expand { .. }, Geometry::Views(views)) => {
            // Split in one dispatch where it can (split.wgsl); else a strided copy per part.
            if let Op::Split { axis, .. } = call.op()
                && movement::split_words(ctx, *axis, req(&raw_in, 0), &raw_out)?
            {
                return Ok(());
            }
            for (view, y) in views.iter().zip(&raw_out) {
                if let Some(y) = y {
                    movement::gather(ctx, view, req(&raw_in, 0), y)?;
                }
            }
            return Ok(());
        }
        (Op::Concat { .. }, Geometry::Concat { outer, inner, lens, offsets }) => {
            let xs: Vec<&Operand> = raw_in.iter().flatten().collect();
            return movement::concat(ctx, (*outer, *inner), lens, offsets, &xs, req(&raw_out, 0));
        }
        (Op::Reshape { .. }, Geometry::Copy) => {
            movement::copy(ctx, req(&raw_in, 0), req(&raw_out, 0));
            return Ok(());
        }
        (Op::Range { start, delta, .. }, Geometry::Range { .. }) => {
            movement::range(ctx, (*start, *delta), req(&raw_out, 0));
            return Ok(());
        }
        (Op::Trilu { upper, k }, Geometry::Matrices { .. }) => {
            return movement::trilu(ctx, *upper, *k, req(&raw_in, 0), req(&raw_out, 0));
        }
        // Where on i64 X and Y selects raw word pairs (f32 holds integers only to 2^24).
        (Op::Where, Geometry::Where { strides, .. })
            if raw_in[1].as_ref().is_some_and(|x| x.desc.dtype == DType::I64) =>
        {
            let cond = convert::to_f32(ctx, req(&raw_in, 0))?;
            return select::record_where(ctx, strides, [&cond, req(&raw_in, 1), req(&raw_in, 2)], req(&raw_out, 0));
        }
        // Indexing and KV caches move raw storage units (any dtype, exactly).
        (Op::Gather { .. }, Geometry::Gather(g)) => {
            return gather::gather(ctx, g, req(&raw_in, 0), req(&raw_in, 1), req(&raw_out, 0));
        }
        (Op::GatherElements { .. }, Geometry::GatherElements(g)) => {
            return gather::gather_elements(ctx, g, req(&raw_in, 0), req(&raw_in, 1), req(&raw_out, 0));
        }
        (Op::TensorScatter { .. }, Geometry::TensorScatter(g)) => {
            // hcal-core allows exactly this alias: the present cache is the past one.
            let in_place = call.input(0).map(Tensor::id) == call.output(0).map(Tensor::id);
            let past = (!in_place).then(|| req(&raw_in, 0));
            let w = raw_in.get(2).and_then(Option::as_ref);
            return scatter::record(ctx, g, past, req(&raw_in, 1), w, req(&raw_out, 0));
        }
        // f32 only (`support.rs`): every operand is used raw.
        (Op::SplitRotaryScatter(attrs), Geometry::SplitRotaryScatter(g)) => {
            // hcal-core allows exactly these aliases: each present cache is its past one.
            let past = [1, 2].map(|i| {
                let in_place = call.input(i).map(Tensor::id) == call.output(i).map(Tensor::id);
                (!in_place).then(|| req(&raw_in, i))
            });
            let operands = qkv_cache::QkvCacheCall {
                qkv: req(&raw_in, 0),
                past,
                write_indices: req(&raw_in, 3),
                tables: [req(&raw_in, 4), req(&raw_in, 5)],
                q_out: req(&raw_out, 0),
                present: [req(&raw_out, 1), req(&raw_out, 2)],
            };
            return qkv_cache::record(ctx, attrs, g, &operands);
        }
        _ => {}
    }
    // ---- native f16 (issue 16): products and attention on their f16 storage ----
    if crate::native_f16::record(ctx, call, &raw_in, &raw_out)? {
        return Ok(());
    }
    // f32 views: floats and bool masks are converted; i64 position ids and
    // block-quantized weights (read packed by the products' kernels) stay raw.
    let mut ins = Vec::with_capacity(raw_in.len());
    for o in &raw_in {
        ins.push(match o {
            Some(o) if o.desc.dtype != DType::I64 && !o.desc.dtype.is_quantized() => Some(convert::to_f32(ctx, o)?),
            other => other.clone(),
        });
    }
    let mut outs = Vec::with_capacity(raw_out.len());
    for o in &raw_out {
        outs.push(match o {
            Some(o) if o.desc.dtype != DType::F32 => {
                let buf = ctx.scratch(o.desc.numel() * 4)?;
                Some(Operand { packed: None, buf, desc: TensorDesc::new(o.desc.shape.clone(), DType::F32) })
            }
            other => other.clone(),
        });
    }
    let mask_is_bool = raw_in.get(3).and_then(|m| m.as_ref()).is_some_and(|m| m.desc.dtype == DType::Bool);
    record_f32(ctx, call.op(), call.geometry(), &ins, &outs, mask_is_bool)?;
    for (raw, view) in raw_out.iter().zip(&outs) {
        if let (Some(raw), Some(view)) = (raw, view)
            && raw.desc.dtype != DType::F32
        {
            convert::from_f32(ctx, &view.buf, raw)?;
        }
    }
    Ok(())
}

/// Dispatch an op whose float operands are all f32, with its resolved geometry.
fn record_f32(
    ctx: &mut Ctx<'_>,
    op: &Op,
    geometry: &Geometry,
    ins: &[Option<Operand>],
    outs: &[Option<Operand>],
    mask_is_bool: bool,
) -> Result<()> {
    let opt = |i: usize| ins.get(i).and_then(Option::as_ref);
    match (op, geometry) {
        (Op::MatMul, Geometry::MatMul(g)) => matmul::matmul(ctx, g, req(ins, 0), req(ins, 1), req(outs, 0)),
        (Op::Gemm(attrs), Geometry::Gemm(g)) => {
            matmul::gemm(ctx, attrs, g, req(ins, 0), req(ins, 1), opt(2), req(outs, 0))
        }
        (Op::RmsNormGemm(attrs), Geometry::NormGemm { split, gemm }) => {
            let (a, scale, b, y) = (req(ins, 0), req(ins, 1), req(ins, 2), req(outs, 0));
            if matmul::gemm_normalized(ctx, attrs, gemm, [a, b, y], opt(3), scale)? {
                return Ok(());
            }
            // Its definition: RMSNormalization of A into a scratch, then the Gemm.
            let normed = Operand { packed: None, buf: ctx.scratch(a.desc.numel() * 4)?, desc: a.desc.clone() };
            let norm_geometry = Geometry::Normalization { axis: 1, split: *split };
            let norm_ins = [Some(a.clone()), Some(scale.clone())];
            record_f32(ctx, &attrs.norm(), &norm_geometry, &norm_ins, &[Some(normed.clone())], false)?;
            let gemm_ins = [Some(normed), Some(b.clone()), opt(3).cloned()];
            record_f32(ctx, &Op::Gemm(attrs.gemm()), &Geometry::Gemm(gemm.clone()), &gemm_ins, &outs[..1], false)
        }
        (Op::Softmax { .. } | Op::LogSoftmax { .. }, Geometry::Softmax(split))
            if long_rows::softmax_here(ctx.gpu, split, matches!(op, Op::LogSoftmax { .. })) =>
        {
            let log = matches!(op, Op::LogSoftmax { .. });
            long_rows::softmax(ctx, split, log, req(ins, 0), req(outs, 0))
        }
        (Op::Softmax { .. }, Geometry::Softmax(split)) => softmax::record(ctx, split, req(ins, 0), req(outs, 0)),
        (
            Op::LayerNormalization { epsilon, .. } | Op::RmsNormalization { epsilon, .. },
            Geometry::Normalization { axis, split },
        ) if long_rows::norm_here(ctx.gpu, split) => {
            let form = (matches!(op, Op::RmsNormalization { .. }), *epsilon);
            long_rows::norm(ctx, form, *axis, split, req(ins, 0), req(ins, 1), opt(2), req(outs, 0))
        }
        (Op::LayerNormalization { .. } | Op::RmsNormalization { .. }, Geometry::Normalization { axis, split }) => {
            norm::record(ctx, op, *axis, split, req(ins, 0), req(ins, 1), opt(2), req(outs, 0))
        }
        (Op::Attention(attrs), Geometry::Attention(g)) => {
            let (q, k, v) = (req(ins, 0), req(ins, 1), req(ins, 2));
            let inputs = attention::Inputs {
                q,
                k,
                v,
                mask: opt(3).map(|m| (m, mask_is_bool)),
                past: opt(4).zip(opt(5)),
                nonpad: opt(6),
            };
            let present = [outs.get(1).and_then(Option::as_ref), outs.get(2).and_then(Option::as_ref)];
            attention::record(ctx, attrs, g, inputs, req(outs, 0), present)
        }
        (Op::RotaryEmbedding(attrs), Geometry::RotaryEmbedding(g)) => {
            rotary::record(ctx, attrs, g, [req(ins, 0), req(ins, 1), req(ins, 2)], opt(3), req(outs, 0))
        }
        (Op::Gelu { .. } | Op::Unary(_), _) => unary::record(ctx, op, req(ins, 0), req(outs, 0)),
        (Op::GatedUnary { activation }, Geometry::Gated { half, .. }) => {
            unary::gated(ctx, *activation, *half, req(ins, 0), req(outs, 0))
        }
        (Op::Binary(b), Geometry::Broadcast { a_strides, b_strides, .. }) => {
            binary::record(ctx, *b, [a_strides, b_strides], req(ins, 0), req(ins, 1), req(outs, 0))
        }
        // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
        (Op::LeakyRelu { .. } | Op::HardSigmoid { .. }, _) => unary::record(ctx, op, req(ins, 0), req(outs, 0)),
        (Op::Clip, _) => select::record_clip(ctx, req(ins, 0), opt(1), opt(2), req(outs, 0)),
        (Op::Where, Geometry::Where { strides, .. }) => {
            select::record_where(ctx, strides, [req(ins, 0), req(ins, 1), req(ins, 2)], req(outs, 0))
        }
        (Op::Reduce { op, .. }, Geometry::Reduce { axes }) => reduce::record(ctx, *op, axes, req(ins, 0), req(outs, 0)),
        // along one axis
        (Op::LogSoftmax { .. }, Geometry::Softmax(split)) => {
            along_axis::log_softmax(ctx, split, req(ins, 0), req(outs, 0))
        }
        (Op::CumSum { exclusive, reverse, .. }, Geometry::AlongAxis { split, .. })
            if along_axis_segments::segmented(ctx.gpu, split, false) =>
        {
            let scan = along_axis_segments::Scan::CumSum { exclusive: *exclusive, reverse: *reverse };
            along_axis_segments::record(ctx, split, scan, req(ins, 0), req(outs, 0))
        }
        (Op::CumSum { exclusive, reverse, .. }, Geometry::AlongAxis { split, .. }) => {
            along_axis::cumsum(ctx, split, *exclusive, *reverse, req(ins, 0), req(outs, 0))
        }
        // ops that run on raw storage, before this match
        (
            Op::Transpose { .. }
            | Op::Cast { .. }
            | Op::ArgMax { .. }
            | Op::ArgMin { .. }
            | Op::Concat { .. }
            | Op::Slice { .. }
            | Op::Split { .. }
            | Op::Expand { .. }
            | Op::Reshape { .. }
            | Op::Range { .. }
            | Op::Trilu { .. }
            | Op::Gather { .. }
            | Op::GatherElements { .. }
            | Op::TensorScatter { .. }
            | Op::SplitRotaryScatter(_),
            _,
        ) => unreachable!("handled on raw storage"),
        (op, geometry) => unreachable!("hcal-core pairs every op with its geometry: {op} with {geometry:?}"),
    }
}
