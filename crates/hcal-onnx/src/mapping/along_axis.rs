//! ArgMax, ArgMin and CumSum nodes. (LogSoftmax shares Softmax's mapping and
//! ReduceMin/Prod/L2 the other reductions'.)

use hcal_core::Op;

use super::Attrs;
use crate::proto::{NodeProto, data_type};
use crate::tensor::OnnxTensor;

/// `(op, input slots)` of an ArgMax, ArgMin or CumSum node.
pub(super) fn map(
    op_type: &str,
    opset: i64,
    a: &Attrs<'_>,
    node: &NodeProto,
    inputs: &[Option<&OnnxTensor>],
) -> Result<(Op, Vec<Option<usize>>), String> {
    let n_in = node.input.len();
    match op_type {
        "ArgMax" | "ArgMin" => {
            // select_last_index came in opset 12; before, ties went to the first index.
            a.allow(if opset >= 12 { &["axis", "keepdims", "select_last_index"] } else { &["axis", "keepdims"] })?;
            if n_in != 1 {
                return Err(format!("{op_type} with {n_in} inputs: hcal's {op_type} takes 1"));
            }
            let axis = a.int("axis")?.unwrap_or(0);
            let keepdims = a.int("keepdims")?.unwrap_or(1) != 0;
            let select_last_index = a.int("select_last_index")?.unwrap_or(0) != 0;
            let op = if op_type == "ArgMax" {
                Op::ArgMax { axis, keepdims, select_last_index }
            } else {
                Op::ArgMin { axis, keepdims, select_last_index }
            };
            Ok((op, vec![Some(0)]))
        }
        "CumSum" => {
            a.allow(&["exclusive", "reverse"])?;
            if n_in != 2 {
                return Err(format!("CumSum with {n_in} inputs: ONNX's CumSum takes (x, axis)"));
            }
            let t = inputs
                .get(1)
                .copied()
                .flatten()
                .ok_or_else(|| format!("CumSum: the axis input {:?} is not a known constant", node.input[1]))?;
            let axis = scalar_int(t).ok_or_else(|| {
                format!(
                    "CumSum: axis must be one INT32 or INT64 value, got {}{:?}",
                    data_type::name(t.elem_type),
                    t.dims
                )
            })?;
            let exclusive = a.int("exclusive")?.unwrap_or(0) != 0;
            let reverse = a.int("reverse")?.unwrap_or(0) != 0;
            Ok((Op::CumSum { axis, exclusive, reverse }, vec![Some(0)]))
        }
        _ => unreachable!("along_axis::map is called for ArgMax, ArgMin and CumSum"),
    }
}

/// The value of a one-element INT32 or INT64 tensor (rank 0 or 1).
fn scalar_int(t: &OnnxTensor) -> Option<i64> {
    if t.numel() != 1 || t.dims.len() > 1 {
        return None;
    }
    let bytes = t.bytes.as_deref()?;
    match t.elem_type {
        data_type::INT64 => Some(i64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)),
        data_type::INT32 => Some(i64::from(i32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::map_node;
    use crate::proto::{AttributeProto, NodeProto, attribute_type, data_type};
    use crate::tensor::OnnxTensor;
    use hcal_core::Op;

    fn node(op: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec!["y".into()],
            attribute: attrs,
            ..Default::default()
        }
    }

    fn int(name: &str, i: i64) -> AttributeProto {
        AttributeProto { name: name.into(), r#type: attribute_type::INT, i, ..Default::default() }
    }

    fn scalar(elem_type: i32, bytes: Vec<u8>) -> OnnxTensor {
        OnnxTensor { name: "axis".into(), dims: vec![], elem_type, bytes: Some(bytes) }
    }

    #[test]
    fn cumsum_reads_its_axis_from_an_int32_or_int64_input() {
        let n = node("CumSum", &["x", "axis"], vec![int("exclusive", 1), int("reverse", 1)]);
        let axis64 = scalar(data_type::INT64, (-2i64).to_le_bytes().to_vec());
        let m = map_node(&n, 14, &[None, Some(&axis64)]).unwrap();
        assert_eq!(m.op, Op::CumSum { axis: -2, exclusive: true, reverse: true });
        assert_eq!(m.inputs, vec![Some(0)]);
        let axis32 = scalar(data_type::INT32, 1i32.to_le_bytes().to_vec());
        let plain = node("CumSum", &["x", "axis"], vec![]);
        assert_eq!(
            map_node(&plain, 11, &[None, Some(&axis32)]).unwrap().op,
            Op::CumSum { axis: 1, exclusive: false, reverse: false }
        );
        let e = map_node(&plain, 11, &[None, None]).unwrap_err();
        assert!(e.contains("not a known constant"), "{e}");
    }

    #[test]
    fn arg_reductions_default_to_axis_0_with_keepdims() {
        let n = node("ArgMin", &["x"], vec![int("select_last_index", 1)]);
        let m = map_node(&n, 13, &[None]).unwrap();
        assert_eq!(m.op, Op::ArgMin { axis: 0, keepdims: true, select_last_index: true });
        // select_last_index is not an attribute of ArgMax-11.
        let old = node("ArgMax", &["x"], vec![int("select_last_index", 1)]);
        assert!(map_node(&old, 11, &[None]).is_err());
    }
}
