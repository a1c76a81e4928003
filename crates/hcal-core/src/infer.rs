//! Validation and shape inference for every op: the only place shape rules
//! run. [`resolve`] checks a call's inputs once and yields both the output
//! descriptors and the [`Geometry`] backends index with.

use crate::geometry::{
    AxisSplit, Geometry, attention_geometry, broadcast_shapes, broadcast_strides, gather_elements_geometry,
    gather_geometry, gemm_geometry, matmul_geometry, norm_split, normalize_axis, qkv_cache_geometry, reduce_axes,
    rotary_geometry, scatter_geometry, softmax_split, transpose_perm,
};
use crate::geometry::{
    concat_shape, elementwise_dtype, expand_view, range_len, reshape_shape, slice_view, split_sizes, split_views,
};
use crate::{DType, Error, Op, Result, TensorDesc};

/// Check `inputs` against `op` and return the descriptor of every output slot
/// (optional outputs included: callers may leave those out).
///
/// `inputs` is positional as ONNX lists the op's inputs; `None` marks an
/// absent optional input. Trailing optional inputs may also be omitted.
///
/// ```
/// use hcal_core::{infer_outputs, DType, Op, TensorDesc};
/// let a = TensorDesc::new([8, 3, 4], DType::F32);
/// let b = TensorDesc::new([4, 5], DType::F32);
/// let out = infer_outputs(&Op::MatMul, &[Some(&a), Some(&b)]).unwrap();
/// assert_eq!(out, vec![TensorDesc::new([8, 3, 5], DType::F32)]);
/// ```
///
/// Every input and output must be addressable (its byte size, zero dims
/// counted as 1, fits in `usize`; see [`TensorDesc::byte_len`]), so what
/// validation accepts can be indexed without overflow.
///
/// # Errors
/// An [`Error`] naming the op and the offending operand, dims or dtypes.
pub fn infer_outputs(op: &Op, inputs: &[Option<&TensorDesc>]) -> Result<Vec<TensorDesc>> {
    resolve(op, inputs).map(|(outputs, _)| outputs)
}

/// Validate `inputs` against `op` once: the output descriptors (as
/// [`infer_outputs`]) and the call's resolved [`Geometry`].
pub(crate) fn resolve(op: &Op, inputs: &[Option<&TensorDesc>]) -> Result<(Vec<TensorDesc>, Geometry)> {
    let name = op.name();
    let (min, max) = op.input_arity();
    if inputs.len() < min || inputs.len() > max {
        let range = if min == max { format!("{min}") } else { format!("{min} to {max}") };
        return Err(Error::arity(name, format!("takes {range} inputs, got {}", inputs.len())));
    }
    for (i, d) in inputs.iter().enumerate() {
        match d.map(|d| (d, d.byte_len())) {
            Some((_, Err(Error::Shape { detail, .. }))) => {
                return Err(Error::shape(name, format!("input {i} {detail}")));
            }
            Some((d, Err(_))) => {
                return Err(Error::shape(
                    name,
                    format!("input {i} {d} is too large to address (bytes overflow usize)"),
                ));
            }
            _ => {}
        }
    }
    let (outputs, geometry) = resolve_shapes(op, inputs)?;
    for (i, d) in outputs.iter().enumerate() {
        if d.byte_len().is_err() {
            return Err(Error::shape(
                name,
                format!("output {i} would be {d}, too large to address (bytes overflow usize)"),
            ));
        }
    }
    Ok((outputs, geometry))
}

/// The output descriptors and geometry of a call whose arity is checked and
/// whose inputs are addressable.
fn resolve_shapes(op: &Op, inputs: &[Option<&TensorDesc>]) -> Result<(Vec<TensorDesc>, Geometry)> {
    let name = op.name();
    let required = |i: usize| -> Result<&TensorDesc> {
        inputs[i].ok_or_else(|| Error::arity(name, format!("input {i} is required")))
    };
    let optional = |i: usize| inputs.get(i).copied().flatten();
    let float = |operand: &str, d: &TensorDesc| {
        if d.dtype.is_float() { Ok(()) } else { Err(Error::float_only(name, operand, d.dtype)) }
    };
    let boolean = |operand: &str, d: &TensorDesc| {
        if d.dtype == DType::Bool {
            Ok(())
        } else {
            Err(Error::dtype(name, format!("{operand} is {}, expected bool", d.dtype)))
        }
    };
    let finite_attribute = |attribute: &'static str, value: f32| {
        if value.is_finite() {
            Ok(())
        } else {
            Err(Error::attribute(name, attribute, format!("{value} must be finite")))
        }
    };
    let same_dtype = |a_name: &str, a: &TensorDesc, b_name: &str, b: &TensorDesc| {
        if a.dtype == b.dtype {
            Ok(())
        } else {
            Err(Error::dtype(name, format!("{a_name} is {}, {b_name} is {}", a.dtype, b.dtype)))
        }
    };
    // A product's B may also be block-quantized weights (dequantized by the op).
    let weight_dtype = |a: &TensorDesc, b: &TensorDesc| {
        if b.dtype.is_quantized() { Ok(()) } else { same_dtype("A", a, "B", b) }
    };
    match op {
        Op::MatMul => {
            let (a, b) = (required(0)?, required(1)?);
            float("A", a)?;
            weight_dtype(a, b)?;
            let g = matmul_geometry(&a.shape, &b.shape)?;
            Ok((vec![TensorDesc::new(g.out_shape.clone(), a.dtype)], Geometry::MatMul(g)))
        }
        Op::Gemm(attrs) => {
            let (a, b) = (required(0)?, required(1)?);
            float("A", a)?;
            weight_dtype(a, b)?;
            if let Some(c) = optional(2) {
                same_dtype("A", a, "C", c)?;
            }
            let g = gemm_geometry(attrs, a, b, optional(2))?;
            Ok((vec![TensorDesc::new([g.m, g.n], a.dtype)], Geometry::Gemm(g)))
        }
        Op::RmsNormGemm(attrs) => {
            // Exactly its two steps' rules, each error reported as this op's.
            let (a, scale, b, c) = (required(0)?, required(1)?, required(2)?, optional(3));
            let (normed, norm) =
                resolve(&attrs.norm(), &[Some(a), Some(scale)]).map_err(|e| e.in_step(name, "RMSNormalization"))?;
            let (y, gemm) = resolve(&Op::Gemm(attrs.gemm()), &[Some(&normed[0]), Some(b), c])
                .map_err(|e| e.in_step(name, "Gemm"))?;
            let (Geometry::Normalization { split, .. }, Geometry::Gemm(gemm)) = (norm, gemm) else {
                unreachable!("RMSNormalization and Gemm resolve to their geometries")
            };
            Ok((y, Geometry::NormGemm { split, gemm }))
        }
        Op::Softmax { axis } => {
            let x = required(0)?;
            float("X", x)?;
            let ax = normalize_axis(name, *axis, x.rank().max(1))?;
            if x.rank() == 0 {
                return Err(Error::shape(name, "X must have rank >= 1"));
            }
            Ok((vec![x.clone()], Geometry::Softmax(softmax_split(&x.shape, ax))))
        }
        Op::LayerNormalization { axis, epsilon } | Op::RmsNormalization { axis, epsilon } => {
            let x = required(0)?;
            float("X", x)?;
            if x.rank() == 0 {
                return Err(Error::shape(name, "X must have rank >= 1"));
            }
            let ax = normalize_axis(name, *axis, x.rank())?;
            if !(epsilon.is_finite() && *epsilon >= 0.0) {
                return Err(Error::attribute(name, "epsilon", format!("{epsilon} must be finite and >= 0")));
            }
            let normalized = &x.shape[ax..];
            for (i, operand) in [(1, "Scale"), (2, "B")] {
                let Some(t) = optional(i) else { continue };
                same_dtype("X", x, operand, t)?;
                if t.rank() > normalized.len()
                    || broadcast_shapes(name, &t.shape, normalized).ok().as_deref() != Some(normalized)
                {
                    return Err(Error::shape(
                        name,
                        format!(
                            "{operand} {:?} does not broadcast to the normalized shape {normalized:?} of X {:?}",
                            t.shape, x.shape
                        ),
                    ));
                }
            }
            required(1)?;
            let split: AxisSplit = norm_split(&x.shape, ax);
            Ok((vec![x.clone()], Geometry::Normalization { axis: ax, split }))
        }
        Op::Attention(attrs) => {
            let (q, k, v) = (required(0)?, required(1)?, required(2)?);
            let past = match (optional(4), optional(5)) {
                (Some(pk), Some(pv)) => Some((pk, pv)),
                (None, None) => None,
                _ => return Err(Error::arity(name, "past_key and past_value must be given together")),
            };
            let g = attention_geometry(attrs, q, k, v, optional(3), past, optional(6))?;
            let y = if g.packed_3d {
                // Hq * Dv can exceed both Q's and V's hidden sizes (Hq / Hkv times V's).
                let hidden = g.q_heads.checked_mul(g.v_head_dim).ok_or_else(|| {
                    Error::shape(
                        name,
                        format!("output hidden size {} heads x {} overflows usize", g.q_heads, g.v_head_dim),
                    )
                })?;
                TensorDesc::new([g.batch, g.q_len, hidden], q.dtype)
            } else {
                TensorDesc::new([g.batch, g.q_heads, g.q_len, g.v_head_dim], q.dtype)
            };
            let total = g.past_len.checked_add(g.kv_len).ok_or_else(|| {
                Error::shape(name, format!("past length {} + new length {} overflows usize", g.past_len, g.kv_len))
            })?;
            let present_key = TensorDesc::new([g.batch, g.kv_heads, total, g.head_dim], q.dtype);
            let present_value = TensorDesc::new([g.batch, g.kv_heads, total, g.v_head_dim], q.dtype);
            Ok((vec![y, present_key, present_value], Geometry::Attention(g)))
        }
        Op::RotaryEmbedding(attrs) => {
            let x = required(0)?;
            let g = rotary_geometry(attrs, x, required(1)?, required(2)?, optional(3))?;
            Ok((vec![x.clone()], Geometry::RotaryEmbedding(g)))
        }
        Op::Unary(u) if u.is_logical() => {
            let x = required(0)?;
            boolean("X", x)?;
            Ok((vec![x.clone()], Geometry::Elementwise))
        }
        Op::Gelu { .. } | Op::Unary(_) => {
            let x = required(0)?;
            float("X", x)?;
            Ok((vec![x.clone()], Geometry::Elementwise))
        }
        Op::GatedUnary { activation } => {
            let x = required(0)?;
            float("X", x)?;
            if activation.is_logical() {
                return Err(Error::attribute(
                    name,
                    "activation",
                    format!("{} is not a float function", activation.name()),
                ));
            }
            let width = x.shape.last().copied().unwrap_or(0);
            if x.rank() == 0 || width % 2 != 0 {
                return Err(Error::shape(name, format!("X {:?} needs a last dim of two equal halves (even)", x.shape)));
            }
            let half = width / 2;
            let mut shape = x.shape.clone();
            *shape.last_mut().expect("rank >= 1") = half;
            let rows = if half == 0 { 0 } else { x.numel() / width };
            Ok((vec![TensorDesc::new(shape, x.dtype)], Geometry::Gated { rows, half }))
        }
        Op::Binary(bop) => {
            let (a, b) = (required(0)?, required(1)?);
            if bop.is_logical() {
                boolean("A", a)?
            } else {
                float("A", a)?
            }
            same_dtype("A", a, "B", b)?;
            let out_shape = broadcast_shapes(name, &a.shape, &b.shape)?;
            let (a_strides, b_strides) =
                (broadcast_strides(&a.shape, &out_shape), broadcast_strides(&b.shape, &out_shape));
            let y = TensorDesc::new(out_shape.clone(), bop.output_dtype(a.dtype));
            Ok((vec![y], Geometry::Broadcast { out_shape, a_strides, b_strides }))
        }
        // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
        Op::LeakyRelu { alpha } => {
            let x = required(0)?;
            float("X", x)?;
            finite_attribute("alpha", *alpha)?;
            Ok((vec![x.clone()], Geometry::Elementwise))
        }
        Op::HardSigmoid { alpha, beta } => {
            let x = required(0)?;
            float("X", x)?;
            finite_attribute("alpha", *alpha)?;
            finite_attribute("beta", *beta)?;
            Ok((vec![x.clone()], Geometry::Elementwise))
        }
        Op::Clip => {
            let x = required(0)?;
            float("X", x)?;
            for (i, operand) in [(1, "min"), (2, "max")] {
                let Some(bound) = optional(i) else { continue };
                same_dtype("X", x, operand, bound)?;
                if bound.rank() != 0 {
                    return Err(Error::shape(
                        name,
                        format!("{operand} must be a scalar (rank 0), got shape {:?}", bound.shape),
                    ));
                }
            }
            Ok((vec![x.clone()], Geometry::Elementwise))
        }
        Op::Where => {
            let (c, x, y) = (required(0)?, required(1)?, required(2)?);
            boolean("condition", c)?;
            same_dtype("X", x, "Y", y)?;
            if x.dtype.is_quantized() {
                return Err(Error::dtype(
                    name,
                    format!("X and Y are {}: a block-quantized dtype is not selected from elementwise", x.dtype),
                ));
            }
            let out_shape = broadcast_shapes(name, &c.shape, &x.shape)
                .and_then(|s| broadcast_shapes(name, &s, &y.shape))
                .map_err(|_| {
                    Error::shape(
                        name,
                        format!(
                            "condition {:?}, X {:?} and Y {:?} do not broadcast to one shape",
                            c.shape, x.shape, y.shape
                        ),
                    )
                })?;
            let strides = [c, x, y].map(|t| broadcast_strides(&t.shape, &out_shape));
            Ok((vec![TensorDesc::new(out_shape.clone(), x.dtype)], Geometry::Where { out_shape, strides }))
        }
        Op::Reduce { axes, keepdims, .. } => {
            let x = required(0)?;
            float("X", x)?;
            let reduced = reduce_axes(name, axes.as_deref(), x.rank())?;
            let shape = (0..x.rank())
                .filter_map(|k| match (reduced.contains(&k), keepdims) {
                    (false, _) => Some(x.shape[k]),
                    (true, true) => Some(1),
                    (true, false) => None,
                })
                .collect::<Vec<_>>();
            Ok((vec![TensorDesc::new(shape, x.dtype)], Geometry::Reduce { axes: reduced }))
        }
        Op::Transpose { perm } => {
            let x = required(0)?;
            if x.dtype.is_quantized() {
                return Err(Error::dtype(
                    name,
                    format!(
                        "X is {}: blocks run along the last dim, so a quantized tensor cannot be permuted",
                        x.dtype
                    ),
                ));
            }
            let perm = transpose_perm(perm.as_deref(), x.rank())?;
            let y = TensorDesc::new(perm.iter().map(|&p| x.shape[p]).collect::<Vec<_>>(), x.dtype);
            Ok((vec![y], Geometry::Transpose { perm }))
        }
        // along one axis
        Op::ArgMax { axis, keepdims, .. } | Op::ArgMin { axis, keepdims, .. } => {
            let x = required(0)?;
            float("X", x)?;
            if x.rank() == 0 {
                return Err(Error::shape(name, "X must have rank >= 1 (a scalar has no axis to search)"));
            }
            let ax = normalize_axis(name, *axis, x.rank())?;
            if x.shape[ax] == 0 {
                return Err(Error::shape(
                    name,
                    format!("axis {ax} of X {:?} is empty: the index of the extreme of nothing is undefined", x.shape),
                ));
            }
            let shape: Vec<usize> = (0..x.rank())
                .filter_map(|k| match (k == ax, keepdims) {
                    (false, _) => Some(x.shape[k]),
                    (true, true) => Some(1),
                    (true, false) => None,
                })
                .collect();
            let split = softmax_split(&x.shape, ax);
            Ok((vec![TensorDesc::new(shape, crate::DType::I64)], Geometry::AlongAxis { axis: ax, split }))
        }
        Op::LogSoftmax { axis } => {
            let x = required(0)?;
            float("X", x)?;
            if x.rank() == 0 {
                return Err(Error::shape(name, "X must have rank >= 1"));
            }
            let ax = normalize_axis(name, *axis, x.rank())?;
            Ok((vec![x.clone()], Geometry::Softmax(softmax_split(&x.shape, ax))))
        }
        Op::CumSum { axis, .. } => {
            let x = required(0)?;
            float("X", x)?;
            if x.rank() == 0 {
                return Err(Error::shape(name, "X must have rank >= 1 (a scalar has no axis to sum along)"));
            }
            let ax = normalize_axis(name, *axis, x.rank())?;
            Ok((vec![x.clone()], Geometry::AlongAxis { axis: ax, split: softmax_split(&x.shape, ax) }))
        }
        Op::Cast { to } => {
            let x = required(0)?;
            if to.is_quantized() {
                return Err(Error::attribute(
                    name,
                    "to",
                    format!(
                        "{to} is a block-quantized storage type; Cast dequantizes ({to} to a float) but does not quantize"
                    ),
                ));
            }
            Ok((vec![TensorDesc::new(x.shape.clone(), *to)], Geometry::Elementwise))
        }
        // ---- data movement (issue 18) ----
        Op::Concat { axis } => {
            let mut xs = Vec::with_capacity(inputs.len());
            for i in 0..inputs.len() {
                let x = required(i)?;
                elementwise_dtype(name, &format!("input {i}"), x.dtype)?;
                same_dtype("input 0", required(0)?, &format!("input {i}"), x)?;
                xs.push(x);
            }
            let shapes: Vec<&[usize]> = xs.iter().map(|x| x.shape.as_slice()).collect();
            let (out, ax, offsets) = concat_shape(&shapes, *axis)?;
            let (outer, inner) = (out[..ax].iter().product(), out[ax + 1..].iter().product());
            let lens = xs.iter().map(|x| x.shape[ax]).collect();
            Ok((vec![TensorDesc::new(out, xs[0].dtype)], Geometry::Concat { outer, inner, lens, offsets }))
        }
        Op::Slice { starts, ends, axes, steps } => {
            let x = required(0)?;
            elementwise_dtype(name, "X", x.dtype)?;
            let (out, view) = slice_view(&x.shape, starts, ends, axes.as_deref(), steps.as_deref())?;
            Ok((vec![TensorDesc::new(out, x.dtype)], Geometry::Views(vec![view])))
        }
        Op::Split { axis, parts } => {
            let x = required(0)?;
            elementwise_dtype(name, "X", x.dtype)?;
            if x.rank() == 0 {
                return Err(Error::shape(name, "X is a scalar (rank 0); Split cuts tensors of rank >= 1"));
            }
            let ax = normalize_axis(name, *axis, x.rank())?;
            let sizes = split_sizes(parts, x.shape[ax], ax)?;
            let outputs = sizes
                .iter()
                .map(|&s| {
                    let mut shape = x.shape.clone();
                    shape[ax] = s;
                    TensorDesc::new(shape, x.dtype)
                })
                .collect();
            Ok((outputs, Geometry::Views(split_views(&x.shape, ax, &sizes))))
        }
        Op::Expand { shape } => {
            let x = required(0)?;
            elementwise_dtype(name, "X", x.dtype)?;
            let (out, view) = expand_view(&x.shape, shape)?;
            Ok((vec![TensorDesc::new(out, x.dtype)], Geometry::Views(vec![view])))
        }
        Op::Reshape { shape } => {
            let x = required(0)?;
            elementwise_dtype(name, "X", x.dtype)?;
            Ok((vec![TensorDesc::new(reshape_shape(&x.shape, shape)?, x.dtype)], Geometry::Copy))
        }
        Op::Range { start, limit, delta, dtype } => {
            let len = range_len(*start, *limit, *delta, *dtype)?;
            Ok((vec![TensorDesc::new([len], *dtype)], Geometry::Range { len }))
        }
        Op::Trilu { .. } => {
            let x = required(0)?;
            elementwise_dtype(name, "X", x.dtype)?;
            let r = x.rank();
            if r < 2 {
                return Err(Error::shape(name, format!("X {:?} has rank {r}; Trilu needs rank >= 2", x.shape)));
            }
            let (rows, cols) = (x.shape[r - 2], x.shape[r - 1]);
            let batch = x.shape[..r - 2].iter().product();
            Ok((vec![x.clone()], Geometry::Matrices { batch, rows, cols }))
        }
        // Indexing and KV caches.
        Op::Gather { axis } => {
            let (y, g) = gather_geometry(*axis, required(0)?, required(1)?)?;
            Ok((vec![y], Geometry::Gather(g)))
        }
        Op::GatherElements { axis } => {
            let (y, g) = gather_elements_geometry(*axis, required(0)?, required(1)?)?;
            Ok((vec![y], Geometry::GatherElements(g)))
        }
        Op::TensorScatter { axis, mode } => {
            let cache = required(0)?;
            let g = scatter_geometry(*axis, *mode, cache, required(1)?, optional(2))?;
            Ok((vec![cache.clone()], Geometry::TensorScatter(g)))
        }
        Op::SplitRotaryScatter(attrs) => {
            let qkv = required(0)?;
            let caches = [required(1)?, required(2)?];
            let g = qkv_cache_geometry(attrs, qkv, caches, required(3)?, [required(4)?, required(5)?])?;
            let q = TensorDesc::new([g.batch, g.q_heads, g.seq, g.head_dim], qkv.dtype);
            Ok((vec![q, caches[0].clone(), caches[1].clone()], Geometry::SplitRotaryScatter(g)))
        }
    }
}
