//! From one ONNX node to one hcal [`Op`].
//!
//! [`map_node`] reads the node's attributes with their ONNX defaults, handles
//! the opset differences that change meaning (ReduceSum's `axes` became an
//! input in opset 13, ReduceMean's and ReduceMax's in opset 18; Softmax before
//! opset 13 flattened to 2-D, LogSoftmax likewise; ReduceMin/Prod/L2 took
//! `axes` as an input in opset 18; CumSum's axis is always an input), and lines the node's inputs and outputs up with
//! the op's positional slots. Anything the hcal standard does not define (an
//! op, an attribute, an attribute value, an extra output) is an `Err` carrying
//! the reason, which the runner reports as `unsupported`.

use hcal_core::{Attention, GeluApproximation, Gemm, Op, ReduceOp, RotaryEmbedding, ScatterMode, UnaryOp};

// Concat, Slice, Split, Expand, Reshape/Squeeze/Unsqueeze/Flatten, Range, Trilu (issue 18).
mod movement;

use crate::proto::{AttributeProto, NodeProto, attribute_type, data_type};
use crate::tensor::{OnnxTensor, hcal_dtype};

// along one axis: ArgMax, ArgMin, CumSum
mod along_axis;

/// ONNX op types this crate maps, in blocks as the standard grew (hcal's
/// `Silu` has no ONNX operator of that name in opset 23, so it is absent;
/// `Squeeze`, `Unsqueeze` and `Flatten` map to hcal's `Reshape`).
pub const MAPPED_OPS: [&str; 65] = [
    "MatMul",
    "Gemm",
    "Softmax",
    "LayerNormalization",
    "RMSNormalization",
    "Attention",
    "RotaryEmbedding",
    "Gelu",
    "Relu",
    "Sigmoid",
    "Exp",
    "Tanh",
    "Neg",
    "Sqrt",
    "Reciprocal",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Max",
    "Min",
    "ReduceSum",
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "ReduceProd",
    "ReduceL2",
    "Transpose",
    "Cast",
    // along one axis
    "ArgMax",
    "ArgMin",
    "LogSoftmax",
    "CumSum",
    // data movement (issue 18)
    "Concat",
    "Slice",
    "Split",
    "Expand",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Flatten",
    "Range",
    "Trilu",
    // Indexing and KV caches.
    "Gather",
    "GatherElements",
    "TensorScatter",
    // elementwise ops of exported transformer graphs
    "Abs",
    "Erf",
    "Floor",
    "Ceil",
    "Round",
    "Not",
    "Pow",
    "Equal",
    "Less",
    "Greater",
    "LessOrEqual",
    "GreaterOrEqual",
    "And",
    "Or",
    "LeakyRelu",
    "HardSigmoid",
    "Clip",
    "Where",
    // blocked weights: a Cast from hcal's GGML block dtypes (see `blocked.rs`)
    "DequantizeLinear",
];

/// A node expressed as an hcal op call.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// The op with its attributes.
    pub op: Op,
    /// For each input slot of `op`, the index of the node input feeding it
    /// (`None`: an absent optional input).
    pub inputs: Vec<Option<usize>>,
    /// For each output slot of `op`, the index of the node output compared with
    /// it (`None`: the node does not ask for that output).
    pub outputs: Vec<Option<usize>>,
    /// Node outputs that are asked for but lie outside the standard, each with
    /// why; they are not compared and every report says so.
    pub unchecked: Vec<String>,
    /// Input slot 0 is node inputs 0 to 2 (`x`, `x_scale`, `x_zero_point`
    /// of a blocked DequantizeLinear) packed into one block-quantized tensor
    /// by [`crate::blocked::pack`].
    pub packs_blocks: bool,
}

/// Map `node` of a model importing the default domain at `opset`. `inputs[i]`
/// is the tensor fed to node input `i` (`None` when the name is empty or the
/// value is not known); only constant-like inputs (`axes`) are read here.
///
/// ```
/// use hcal_onnx::{mapping::map_node, proto::NodeProto};
/// let node = NodeProto { op_type: "Relu".into(), input: vec!["x".into()], output: vec!["y".into()], ..Default::default() };
/// let m = map_node(&node, 14, &[None]).unwrap();
/// assert_eq!(m.op.to_string(), "Relu");
/// let conv = NodeProto { op_type: "Conv".into(), ..Default::default() };
/// assert_eq!(map_node(&conv, 11, &[]).unwrap_err(), "op Conv is not in the hcal standard");
/// ```
///
/// # Errors
/// The reason the node is outside the hcal standard.
pub fn map_node(node: &NodeProto, opset: i64, inputs: &[Option<&OnnxTensor>]) -> Result<Mapping, String> {
    let op_type = node.op_type.as_str();
    if !(node.domain.is_empty() || node.domain == "ai.onnx") {
        return Err(format!("op {}.{op_type} is not in the default ONNX domain", node.domain));
    }
    if !MAPPED_OPS.contains(&op_type) {
        return Err(format!("op {op_type} is not in the hcal standard"));
    }
    let attributes = without_inert_attributes(op_type, opset, &node.attribute)?;
    let a = Attrs { op: op_type, list: &attributes };
    let n_in = node.input.len();
    let present = |i: usize| node.input.get(i).is_some_and(|n| !n.is_empty());
    let slot = |i: usize| present(i).then_some(i);
    let arity = |min: usize, max: usize| -> Result<(), String> {
        if n_in < min || n_in > max {
            let range = if min == max { min.to_string() } else { format!("{min} to {max}") };
            return Err(format!("{op_type} with {n_in} inputs: hcal's {op_type} takes {range}"));
        }
        Ok(())
    };
    let mut outputs = vec![(!node.output.is_empty() && !node.output[0].is_empty()).then_some(0)];
    let mut unchecked = Vec::new();
    let (op, inputs_used) = match op_type {
        "MatMul" => {
            a.allow(&[])?;
            arity(2, 2)?;
            (Op::MatMul, vec![Some(0), Some(1)])
        }
        "Gemm" => {
            // Gemm-6 and older carry `broadcast`; hcal always broadcasts C to [M, N].
            a.allow(if opset < 7 {
                &["alpha", "beta", "transA", "transB", "broadcast"]
            } else {
                &["alpha", "beta", "transA", "transB"]
            })?;
            arity(2, 3)?;
            let gemm = Gemm {
                alpha: a.float("alpha")?.unwrap_or(1.0),
                beta: a.float("beta")?.unwrap_or(1.0),
                trans_a: a.int("transA")?.unwrap_or(0) != 0,
                trans_b: a.int("transB")?.unwrap_or(0) != 0,
            };
            (Op::Gemm(gemm), vec![Some(0), Some(1), slot(2)])
        }
        "Softmax" | "LogSoftmax" => {
            a.allow(&["axis"])?;
            arity(1, 1)?;
            let axis = a.int("axis")?;
            let op = |axis| if op_type == "Softmax" { Op::Softmax { axis } } else { Op::LogSoftmax { axis } };
            if opset >= 13 {
                (op(axis.unwrap_or(-1)), vec![Some(0)])
            } else {
                // Softmax-1/11 flattens [axis..] into one dim; that is hcal's Softmax
                // only when `axis` is the last dim.
                let axis = axis.unwrap_or(1);
                let rank = inputs.first().copied().flatten().map(|t| t.dims.len() as i64);
                match rank {
                    Some(r) if axis == r - 1 || axis == -1 => (op(-1), vec![Some(0)]),
                    _ => {
                        return Err(format!(
                            "{op_type}-{opset} with axis={axis} flattens the dims from axis on into one; \
                             hcal's {op_type} (opset 13) normalizes a single axis"
                        ));
                    }
                }
            }
        }
        "LayerNormalization" | "RMSNormalization" => {
            a.allow(&["axis", "epsilon", "stash_type"])?;
            if op_type == "LayerNormalization" {
                arity(2, 3)?
            } else {
                arity(2, 2)?
            }
            let stash = a.int("stash_type")?.unwrap_or(i64::from(data_type::FLOAT));
            if stash != i64::from(data_type::FLOAT) {
                return Err(format!(
                    "{op_type} stash_type={} asks for {} statistics; hcal computes them in at least f32 (stash_type=1)",
                    stash,
                    data_type::name(stash as i32)
                ));
            }
            let axis = a.int("axis")?.unwrap_or(-1);
            let epsilon = a.float("epsilon")?.unwrap_or(1e-5);
            if op_type == "LayerNormalization" {
                for (i, what) in [(1, "Mean"), (2, "InvStdDev")] {
                    if node.output.get(i).is_some_and(|n| !n.is_empty()) {
                        unchecked.push(format!(
                            "output {i} ({what}) is a training output outside the hcal standard; not compared"
                        ));
                    }
                }
                (Op::LayerNormalization { axis, epsilon }, vec![Some(0), Some(1), slot(2)])
            } else {
                (Op::RmsNormalization { axis, epsilon }, vec![Some(0), Some(1)])
            }
        }
        "Attention" => {
            a.allow(&[
                "is_causal",
                "kv_num_heads",
                "q_num_heads",
                "qk_matmul_output_mode",
                "scale",
                "softcap",
                "softmax_precision",
            ])?;
            // Input 6, nonpad_kv_seqlen, came with opset 24.
            arity(3, if opset >= 24 { 7 } else { 6 })?;
            if node.output.get(3).is_some_and(|n| !n.is_empty()) {
                return Err(format!(
                    "output 3 (qk_matmul_output, qk_matmul_output_mode={}) is not in the hcal standard",
                    a.int("qk_matmul_output_mode")?.unwrap_or(0)
                ));
            }
            if let Some(p) = a.int("softmax_precision")?
                && !matches!(p as i32, data_type::FLOAT | data_type::FLOAT16 | data_type::BFLOAT16)
            {
                return Err(format!(
                    "Attention softmax_precision={} ({}): hcal computes the softmax in f32",
                    p,
                    data_type::name(p as i32)
                ));
            }
            let heads = |name: &str| -> Result<Option<usize>, String> {
                match a.int(name)? {
                    None | Some(0) => Ok(None),
                    Some(h) => usize::try_from(h).map(Some).map_err(|_| format!("Attention {name}={h} is negative")),
                }
            };
            let attention = Attention {
                is_causal: a.int("is_causal")?.unwrap_or(0) != 0,
                q_num_heads: heads("q_num_heads")?,
                kv_num_heads: heads("kv_num_heads")?,
                scale: a.float("scale")?,
                softcap: a.float("softcap")?.unwrap_or(0.0),
            };
            for i in 1..3 {
                outputs.push(node.output.get(i).is_some_and(|n| !n.is_empty()).then_some(i));
            }
            (Op::Attention(attention), (0..7).map(|i| if i < 3 { Some(i) } else { slot(i) }).collect())
        }
        "RotaryEmbedding" => {
            a.allow(&["interleaved", "rotary_embedding_dim", "num_heads"])?;
            arity(3, 4)?;
            let dim = a.int("rotary_embedding_dim")?.unwrap_or(0);
            let rotary = RotaryEmbedding {
                interleaved: a.int("interleaved")?.unwrap_or(0) != 0,
                rotary_embedding_dim: usize::try_from(dim)
                    .map_err(|_| format!("RotaryEmbedding rotary_embedding_dim={dim} is negative"))?,
                num_heads: match a.int("num_heads")? {
                    None | Some(0) => None,
                    Some(h) => {
                        Some(usize::try_from(h).map_err(|_| format!("RotaryEmbedding num_heads={h} is negative"))?)
                    }
                },
            };
            (Op::RotaryEmbedding(rotary), vec![Some(0), Some(1), Some(2), slot(3)])
        }
        "Gelu" => {
            a.allow(&["approximate"])?;
            arity(1, 1)?;
            let approximate = match a.string("approximate")?.as_deref().unwrap_or("none") {
                "none" => GeluApproximation::None,
                "tanh" => GeluApproximation::Tanh,
                other => return Err(format!("Gelu approximate={other:?} is not in the hcal standard (none, tanh)")),
            };
            (Op::Gelu { approximate }, vec![Some(0)])
        }
        "Relu" | "Sigmoid" | "Exp" | "Tanh" | "Neg" | "Sqrt" | "Reciprocal" | "Abs" | "Erf" | "Floor" | "Ceil"
        | "Round" | "Not" => {
            a.allow(&[])?;
            arity(1, 1)?;
            let unary = UnaryOp::ALL.into_iter().find(|u| u.name() == op_type).expect("listed unary op");
            (Op::Unary(unary), vec![Some(0)])
        }
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" | "Pow" | "Equal" | "Less" | "Greater" | "LessOrEqual"
        | "GreaterOrEqual" | "And" | "Or" => {
            a.allow(&[])?;
            if matches!(op_type, "Max" | "Min") && n_in != 2 {
                return Err(format!(
                    "{op_type} with {n_in} inputs: ONNX's {op_type} is variadic, hcal's takes exactly 2 (numpy broadcasting)"
                ));
            }
            arity(2, 2)?;
            let binary = hcal_core::BinaryOp::ALL.into_iter().find(|b| b.name() == op_type).expect("listed binary op");
            (Op::Binary(binary), vec![Some(0), Some(1)])
        }
        "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" | "ReduceProd" | "ReduceL2" => {
            let reduce = ReduceOp::ALL.into_iter().find(|r| r.name() == op_type).expect("listed reduction");
            // ReduceSum-13 and the others from opset 18 take `axes` as an optional input.
            let axes_input = opset >= if reduce == ReduceOp::Sum { 13 } else { 18 };
            let axes = if axes_input {
                a.allow(&["keepdims", "noop_with_empty_axes"])?;
                arity(1, 2)?;
                if present(1) {
                    let t = inputs.get(1).copied().flatten().ok_or_else(|| {
                        format!("{op_type}: the axes input {:?} is not a known constant", node.input[1])
                    })?;
                    Some(t.ints().ok_or_else(|| {
                        format!("{op_type}: axes must be INT64, got {}", data_type::name(t.elem_type))
                    })?)
                } else {
                    None
                }
            } else {
                a.allow(&["keepdims", "axes"])?;
                arity(1, 1)?;
                a.ints("axes")?
            };
            let noop = a.int("noop_with_empty_axes")?.unwrap_or(0) != 0;
            let axes = match axes {
                Some(list) if !list.is_empty() => Some(list),
                // Empty or absent axes reduce everything, unless noop_with_empty_axes.
                _ if noop => Some(Vec::new()),
                _ => None,
            };
            let keepdims = a.int("keepdims")?.unwrap_or(1) != 0;
            (Op::Reduce { op: reduce, axes, keepdims }, vec![Some(0)])
        }
        "Transpose" => {
            a.allow(&["perm"])?;
            arity(1, 1)?;
            let perm = match a.ints("perm")? {
                None => None,
                Some(p) => Some(
                    p.iter()
                        .map(|&v| usize::try_from(v).map_err(|_| format!("Transpose perm {p:?} has a negative entry")))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            (Op::Transpose { perm }, vec![Some(0)])
        }
        "Cast" => {
            // `saturate` only changes conversions to float8 types, which hcal does not have.
            a.allow(&["to", "saturate"])?;
            arity(1, 1)?;
            let code = a.int("to")?.ok_or("Cast without its required `to` attribute")?;
            let to = hcal_dtype(code as i32).ok_or_else(|| {
                format!("Cast to {}: the hcal standard does not define that dtype", data_type::name(code as i32))
            })?;
            (Op::Cast { to }, vec![Some(0)])
        }
        "DequantizeLinear" => {
            // `precision` (opset 25) only names an intermediate type for the
            // product, which hcal's dequantization computes exactly anyway.
            a.allow(&["axis", "block_size", "output_dtype", "precision"])?;
            arity(2, 3)?;
            if opset < 21 {
                return Err(format!("DequantizeLinear at opset {opset} has no blocks (block_size came in opset 21)"));
            }
            let block = a.int("block_size")?.unwrap_or(0);
            if block != 32 {
                let scales = if block == 0 { " (per-tensor or per-axis scales)" } else { "" };
                return Err(format!(
                    "DequantizeLinear block_size={block}{scales}: hcal's block dtypes (GGML Q4_0, Q4_1, Q8_0) have blocks of 32"
                ));
            }
            let x = inputs.first().copied().flatten().ok_or("DequantizeLinear needs its x as data")?;
            let axis = a.int("axis")?.unwrap_or(1);
            let rank = x.dims.len() as i64;
            if axis != rank - 1 && axis != -1 {
                return Err(format!(
                    "DequantizeLinear blocks along axis {axis} of rank {rank}: hcal blocks the last axis"
                ));
            }
            let scale = inputs.get(1).copied().flatten().ok_or("DequantizeLinear needs its x_scale as data")?;
            let to = scale.dtype().filter(|d| matches!(d, hcal_core::DType::F32 | hcal_core::DType::F16)).ok_or_else(
                || format!("DequantizeLinear with a {} scale: hcal dequantizes to f32 or f16", scale.type_string()),
            )?;
            if let Some(code) = a.int("output_dtype")?.filter(|&c| c != 0 && hcal_dtype(c as i32) != Some(to)) {
                return Err(format!(
                    "DequantizeLinear output_dtype {} differs from its scale's",
                    data_type::name(code as i32)
                ));
            }
            (Op::Cast { to }, vec![Some(0)])
        }
        "Concat" | "Slice" | "Split" | "Expand" | "Reshape" | "Squeeze" | "Unsqueeze" | "Flatten" | "Range"
        | "Trilu" => {
            let (op, used, outs) = movement::map_movement(node, opset, inputs, &a)?;
            outputs = outs;
            (op, used)
        }
        // Indexing and KV caches.
        "Gather" | "GatherElements" => {
            a.allow(&["axis"])?;
            arity(2, 2)?;
            let axis = a.int("axis")?.unwrap_or(0);
            let op = if op_type == "Gather" { Op::Gather { axis } } else { Op::GatherElements { axis } };
            (op, vec![Some(0), Some(1)])
        }
        "TensorScatter" => {
            a.allow(&["axis", "mode"])?;
            arity(2, 3)?;
            let mode = match a.string("mode")?.as_deref().unwrap_or("linear") {
                "linear" => ScatterMode::Linear,
                "circular" => ScatterMode::Circular,
                other => {
                    return Err(format!("TensorScatter mode={other:?} is not in the hcal standard (linear, circular)"));
                }
            };
            (Op::TensorScatter { axis: a.int("axis")?.unwrap_or(-2), mode }, vec![Some(0), Some(1), slot(2)])
        }
        // along one axis
        "ArgMax" | "ArgMin" | "CumSum" => along_axis::map(op_type, opset, &a, node, inputs)?,
        // ---- elementwise ops of exported transformer graphs (ops-elementwise) ----
        "LeakyRelu" => {
            a.allow(&["alpha"])?;
            arity(1, 1)?;
            (Op::LeakyRelu { alpha: a.float("alpha")?.unwrap_or(0.01) }, vec![Some(0)])
        }
        "HardSigmoid" => {
            a.allow(&["alpha", "beta"])?;
            arity(1, 1)?;
            let (alpha, beta) = (a.float("alpha")?.unwrap_or(0.2), a.float("beta")?.unwrap_or(0.5));
            (Op::HardSigmoid { alpha, beta }, vec![Some(0)])
        }
        "Clip" => {
            if opset < 11 {
                return Err(format!(
                    "Clip-{opset} takes min and max as attributes; hcal's Clip (opset 13) takes them as inputs"
                ));
            }
            a.allow(&[])?;
            arity(1, 3)?;
            (Op::Clip, vec![Some(0), slot(1), slot(2)])
        }
        "Where" => {
            a.allow(&[])?;
            arity(3, 3)?;
            (Op::Where, vec![Some(0), Some(1), Some(2)])
        }
        _ => unreachable!("MAPPED_OPS is matched above"),
    };
    let handled = if matches!(op, Op::LayerNormalization { .. }) { 3 } else { op.output_arity() };
    if let Some(extra) = node.output.iter().skip(handled).position(|n| !n.is_empty()) {
        return Err(format!("{op_type} output {}: hcal's {op_type} has {handled} outputs", extra + handled));
    }
    let packs_blocks = op_type == "DequantizeLinear";
    Ok(Mapping { op, inputs: inputs_used, outputs, unchecked, packs_blocks })
}

/// Attributes that opsets after 23 added to ops of the standard without
/// changing them at the value given (`None`: at any value): `(op, attribute,
/// opset, value)`. Attention-25's sliding window is off at -1; Cast-24's
/// `round_mode` only changes conversions to float8e8m0, which hcal lacks.
const INERT_ATTRIBUTES: [(&str, &str, i64, Option<i64>); 3] = [
    ("Attention", "left_window_size", 25, Some(-1)),
    ("Attention", "right_window_size", 25, Some(-1)),
    ("Cast", "round_mode", 24, None),
];

/// `attributes` less those [`INERT_ATTRIBUTES`] lists at a value that changes
/// nothing, so a model of a newer opset maps as its opset-23 equivalent.
fn without_inert_attributes(
    op: &str,
    opset: i64,
    attributes: &[AttributeProto],
) -> Result<Vec<AttributeProto>, String> {
    let mut kept = Vec::with_capacity(attributes.len());
    for attr in attributes {
        let inert =
            INERT_ATTRIBUTES.iter().find(|(o, name, since, _)| *o == op && *name == attr.name && opset >= *since);
        match inert {
            Some((_, _, _, None)) => {}
            Some((_, _, _, Some(value))) if attr.r#type == attribute_type::INT && attr.i == *value => {}
            Some((_, name, since, _)) => {
                return Err(format!(
                    "{op} {name}={} (opset {since}) is not in the hcal standard; only the default {name}=-1 is",
                    attr.i
                ));
            }
            None => kept.push(attr.clone()),
        }
    }
    Ok(kept)
}

/// A node's attributes with typed getters.
pub(crate) struct Attrs<'a> {
    pub(crate) op: &'a str,
    list: &'a [AttributeProto],
}

impl Attrs<'_> {
    /// Every attribute must be one the mapping reads.
    pub(crate) fn allow(&self, names: &[&str]) -> Result<(), String> {
        for attr in self.list {
            if !attr.ref_attr_name.is_empty() {
                return Err(format!("{} attribute {} refers to a function attribute", self.op, attr.name));
            }
            if !names.contains(&attr.name.as_str()) {
                return Err(format!("attribute {} of {} is not in the hcal standard", attr.name, self.op));
            }
        }
        Ok(())
    }

    fn get(&self, name: &str, want: i32) -> Result<Option<&AttributeProto>, String> {
        let Some(attr) = self.list.iter().find(|a| a.name == name) else { return Ok(None) };
        if attr.r#type != want && attr.r#type != attribute_type::UNDEFINED {
            return Err(format!("{} attribute {name} has type {} where {want} is expected", self.op, attr.r#type));
        }
        Ok(Some(attr))
    }

    pub(crate) fn int(&self, name: &str) -> Result<Option<i64>, String> {
        Ok(self.get(name, attribute_type::INT)?.map(|a| a.i))
    }

    pub(crate) fn float(&self, name: &str) -> Result<Option<f32>, String> {
        Ok(self.get(name, attribute_type::FLOAT)?.map(|a| a.f))
    }

    pub(crate) fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        Ok(self.get(name, attribute_type::INTS)?.map(|a| a.ints.clone()))
    }

    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, String> {
        self.get(name, attribute_type::STRING)?
            .map(|a| String::from_utf8(a.s.clone()).map_err(|_| format!("{} attribute {name} is not UTF-8", self.op)))
            .transpose()
    }
}

#[cfg(test)]
mod tests;
