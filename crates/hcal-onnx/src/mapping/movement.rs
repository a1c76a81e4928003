//! Data-movement nodes: Concat, Slice, Split, Expand, Range, Trilu, and
//! Reshape, Squeeze, Unsqueeze and Flatten, which all become hcal's
//! [`Op::Reshape`].
//!
//! hcal takes the index lists these ops read from constant inputs in recent
//! opsets (Slice's starts/ends/axes/steps, Reshape's and Expand's shape, Split's
//! sizes, Squeeze's axes, Range's scalars, Trilu's k) as attributes, because
//! they fix the output's shape: here they are read from the node's inputs
//! (initializers or the test's data), and a node whose lists are not known
//! constants is unsupported with that reason. Shape rules (what Squeeze may
//! remove, what Slice clamps) are hcal-core's, called from here.

use hcal_core::{DType, Op, SplitParts, flatten_shape, squeeze_shape, unsqueeze_shape};

use super::Attrs;
use crate::proto::{NodeProto, data_type};
use crate::tensor::OnnxTensor;

/// The op, the node input feeding each op input slot, and the node output
/// compared with each op output slot.
type Mapped = (Op, Vec<Option<usize>>, Vec<Option<usize>>);

/// Map one data-movement node (see the module doc).
pub(super) fn map_movement(
    node: &NodeProto,
    opset: i64,
    inputs: &[Option<&OnnxTensor>],
    a: &Attrs<'_>,
) -> Result<Mapped, String> {
    let op_type = node.op_type.as_str();
    let n_in = node.input.len();
    let present = |i: usize| node.input.get(i).is_some_and(|n| !n.is_empty());
    let arity = |min: usize, max: usize| -> Result<(), String> {
        if n_in < min || n_in > max {
            return Err(format!("{op_type} with {n_in} inputs: ONNX's {op_type} takes {min} to {max}"));
        }
        Ok(())
    };
    // A constant INT64 input read as a list (`None` when the input is absent).
    let ints = |i: usize, what: &str| -> Result<Option<Vec<i64>>, String> {
        if !present(i) {
            return Ok(None);
        }
        let t = inputs.get(i).copied().flatten().ok_or_else(|| {
            format!(
                "{op_type}: the {what} input {:?} is not a known constant; hcal takes it as an attribute",
                node.input[i]
            )
        })?;
        t.ints()
            .map(Some)
            .ok_or_else(|| format!("{op_type}: {what} must be INT64, got {}", data_type::name(t.elem_type)))
    };
    // X's extents, which Squeeze, Unsqueeze, Flatten and Reshape's zeros need.
    let x_dims = || -> Result<&[usize], String> {
        inputs.first().copied().flatten().map(|t| t.dims.as_slice()).ok_or_else(|| {
            format!("{op_type}: the shape of X is not known, so the Reshape it stands for cannot be formed")
        })
    };
    let first_output = vec![(!node.output.is_empty() && !node.output[0].is_empty()).then_some(0)];
    let reshape = |dims: Vec<usize>| Op::Reshape { shape: dims.into_iter().map(|d| d as i64).collect() };
    let op = match op_type {
        "Concat" => {
            a.allow(&["axis"])?;
            arity(1, usize::MAX)?;
            let axis = a.int("axis")?.ok_or("Concat without its required `axis` attribute")?;
            return Ok((Op::Concat { axis }, (0..n_in).map(Some).collect(), first_output));
        }
        "Slice" => {
            let (starts, ends, axes, steps) = if opset < 10 {
                a.allow(&["starts", "ends", "axes"])?;
                arity(1, 1)?;
                let starts = a.ints("starts")?.ok_or("Slice-1 without its `starts` attribute")?;
                (starts, a.ints("ends")?.ok_or("Slice-1 without its `ends` attribute")?, a.ints("axes")?, None)
            } else {
                a.allow(&[])?;
                arity(3, 5)?;
                let starts = ints(1, "starts")?.ok_or("Slice without starts")?;
                (starts, ints(2, "ends")?.ok_or("Slice without ends")?, ints(3, "axes")?, ints(4, "steps")?)
            };
            Op::Slice { starts, ends, axes, steps }
        }
        "Split" => return map_split(node, opset, inputs, a, ints(1, "split")),
        "Expand" => {
            a.allow(&[])?;
            arity(2, 2)?;
            let shape = ints(1, "shape")?.ok_or("Expand without shape")?;
            let shape = shape
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| format!("Expand shape {shape:?} has a negative entry")))
                .collect::<Result<_, _>>()?;
            Op::Expand { shape }
        }
        "Reshape" => {
            let (shape, allowzero) = if opset < 5 {
                a.allow(&["shape", "consumed_inputs"])?;
                arity(1, 1)?;
                (a.ints("shape")?.ok_or("Reshape-1 without its `shape` attribute")?, false)
            } else {
                a.allow(&["allowzero"])?;
                arity(2, 2)?;
                (ints(1, "shape")?.ok_or("Reshape without shape")?, a.int("allowzero")?.unwrap_or(0) != 0)
            };
            // allowzero=0: a 0 copies X's extent at that position (hcal's 0 is a zero extent).
            let shape = if allowzero || !shape.contains(&0) {
                shape
            } else {
                let x = x_dims()?;
                shape
                    .iter()
                    .enumerate()
                    .map(|(j, &v)| match (v, x.get(j)) {
                        (0, Some(&d)) => Ok(d as i64),
                        (0, None) => Err(format!("Reshape shape {shape:?}: entry {j} is 0 but X {x:?} has no dim {j}")),
                        (v, _) => Ok(v),
                    })
                    .collect::<Result<_, _>>()?
            };
            Op::Reshape { shape }
        }
        "Squeeze" | "Unsqueeze" => {
            let axes = if opset < 13 {
                a.allow(&["axes"])?;
                arity(1, 1)?;
                a.ints("axes")?
            } else {
                a.allow(&[])?;
                arity(1, 2)?;
                ints(1, "axes")?
            };
            let x = x_dims()?;
            let dims = if op_type == "Squeeze" {
                squeeze_shape(x, axes.as_deref())
            } else {
                unsqueeze_shape(x, &axes.ok_or("Unsqueeze without axes")?)
            };
            reshape(dims.map_err(|e| e.to_string())?)
        }
        "Flatten" => {
            a.allow(&["axis"])?;
            arity(1, 1)?;
            reshape(flatten_shape(x_dims()?, a.int("axis")?.unwrap_or(1)).map_err(|e| e.to_string())?)
        }
        "Range" => {
            a.allow(&[])?;
            arity(3, 3)?;
            let scalar = |i: usize, what: &str| -> Result<(f64, DType), String> {
                let t =
                    inputs.get(i).copied().flatten().ok_or_else(|| {
                        format!("Range: the {what} input {:?} is not a known constant", node.input[i])
                    })?;
                let dtype = t.dtype().filter(|d| d.is_float() || *d == DType::I64).ok_or_else(|| {
                    format!("Range of {}: hcal's Range makes float or INT64 values", data_type::name(t.elem_type))
                })?;
                match t.values().as_deref() {
                    Some([v]) => Ok((*v, dtype)),
                    _ => Err(format!("Range: {what} must be a scalar, got {}", t.type_string())),
                }
            };
            let ((start, dtype), (limit, _), (delta, _)) =
                (scalar(0, "start")?, scalar(1, "limit")?, scalar(2, "delta")?);
            return Ok((Op::Range { start, limit, delta, dtype }, Vec::new(), first_output));
        }
        "Trilu" => {
            a.allow(&["upper"])?;
            arity(1, 2)?;
            let k = match ints(1, "k")?.as_deref() {
                None => 0,
                Some([k]) => *k,
                Some(other) => return Err(format!("Trilu: k must be a scalar, got {other:?}")),
            };
            Op::Trilu { upper: a.int("upper")?.unwrap_or(1) != 0, k }
        }
        other => unreachable!("{other} is not a data-movement op"),
    };
    Ok((op, vec![Some(0)], first_output))
}

/// Split: sizes from the `split` attribute (before opset 13) or input,
/// `num_outputs` (opset 18), or as many equal parts as the node has outputs.
fn map_split(
    node: &NodeProto,
    opset: i64,
    inputs: &[Option<&OnnxTensor>],
    a: &Attrs<'_>,
    split_input: Result<Option<Vec<i64>>, String>,
) -> Result<Mapped, String> {
    let n_out = node.output.len();
    let sizes = if opset < 13 {
        a.allow(&["axis", "split"])?;
        if node.input.len() != 1 {
            return Err(format!(
                "Split-{opset} with {} inputs: hcal maps Split-{opset} with its split attribute",
                node.input.len()
            ));
        }
        a.ints("split")?
    } else {
        a.allow(if opset >= 18 { &["axis", "num_outputs"] } else { &["axis"] })?;
        if !(1..=2).contains(&node.input.len()) {
            return Err(format!("Split with {} inputs: ONNX's Split takes 1 to 2", node.input.len()));
        }
        split_input?
    };
    let axis = a.int("axis")?.unwrap_or(0);
    let parts = match (sizes, a.int("num_outputs")?) {
        (Some(sizes), _) => SplitParts::Sizes(
            sizes
                .iter()
                .map(|&s| usize::try_from(s).map_err(|_| format!("Split sizes {sizes:?} have a negative entry")))
                .collect::<Result<_, _>>()?,
        ),
        (None, Some(n)) => {
            SplitParts::Equal(usize::try_from(n).map_err(|_| format!("Split num_outputs={n} is negative"))?)
        }
        (None, None) => {
            // Before opset 18 the parts must be equal: ceil-sized parts differ only when they are not.
            let dims = inputs.first().copied().flatten().map(|t| t.dims.clone());
            let extent = dims.as_ref().and_then(|d| {
                let r = d.len() as i64;
                usize::try_from(if axis < 0 { axis + r } else { axis }).ok().and_then(|ax| d.get(ax).copied())
            });
            if let Some(e) = extent.filter(|e| n_out > 0 && e % n_out != 0) {
                return Err(format!("Split-{opset} into {n_out} equal parts of an extent {e} that is not a multiple"));
            }
            SplitParts::Equal(n_out)
        }
    };
    if parts.count() != n_out {
        return Err(format!("Split into {} parts with {n_out} node outputs", parts.count()));
    }
    let outputs = (0..n_out).map(|i| (!node.output[i].is_empty()).then_some(i)).collect();
    Ok((Op::Split { axis, parts }, vec![Some(0)], outputs))
}
