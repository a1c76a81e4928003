//! Unit tests of the node mapping: attributes, opset rules, refusals.

use super::*;
use crate::proto::TensorProto;

fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), i, r#type: attribute_type::INT, ..Default::default() }
}

fn axes(values: &[i64]) -> OnnxTensor {
    let proto = TensorProto {
        dims: vec![values.len() as i64],
        data_type: data_type::INT64,
        int64_data: values.to_vec(),
        ..Default::default()
    };
    crate::tensor::decode(&proto).unwrap()
}

#[test]
fn reduce_axes_come_from_the_input_in_new_opsets_and_the_attribute_in_old_ones() {
    let t = axes(&[1]);
    let n = node("ReduceSum", &["x", "axes"], &["y"], vec![int("keepdims", 0)]);
    let m = map_node(&n, 13, &[None, Some(&t)]).unwrap();
    assert_eq!(m.op, Op::Reduce { op: ReduceOp::Sum, axes: Some(vec![1]), keepdims: false });
    assert_eq!(m.inputs, [Some(0)]);
    let old = node(
        "ReduceMean",
        &["x"],
        &["y"],
        vec![AttributeProto {
            name: "axes".into(),
            ints: vec![0, 2],
            r#type: attribute_type::INTS,
            ..Default::default()
        }],
    );
    let m = map_node(&old, 13, &[None]).unwrap();
    assert_eq!(m.op, Op::Reduce { op: ReduceOp::Mean, axes: Some(vec![0, 2]), keepdims: true });
}

#[test]
fn empty_axes_reduce_all_unless_noop() {
    let empty = axes(&[]);
    let n = node("ReduceSum", &["x", "axes"], &["y"], vec![]);
    assert!(matches!(map_node(&n, 13, &[None, Some(&empty)]).unwrap().op, Op::Reduce { axes: None, .. }));
    let noop = node("ReduceSum", &["x", "axes"], &["y"], vec![int("noop_with_empty_axes", 1)]);
    let m = map_node(&noop, 13, &[None, Some(&empty)]).unwrap();
    assert_eq!(m.op, Op::Reduce { op: ReduceOp::Sum, axes: Some(vec![]), keepdims: true });
}

#[test]
fn softmax_default_axis_depends_on_the_opset() {
    let n = node("Softmax", &["x"], &["y"], vec![]);
    assert_eq!(map_node(&n, 13, &[None]).unwrap().op, Op::Softmax { axis: -1 });
    let x = OnnxTensor { name: "x".into(), dims: vec![3, 4, 5], elem_type: data_type::FLOAT, bytes: None };
    assert!(map_node(&n, 11, &[Some(&x)]).unwrap_err().contains("flattens"));
    let last = node("Softmax", &["x"], &["y"], vec![int("axis", 2)]);
    assert_eq!(map_node(&last, 11, &[Some(&x)]).unwrap().op, Op::Softmax { axis: -1 });
}

#[test]
fn empty_input_names_are_absent_optional_inputs() {
    let n = node("Attention", &["q", "k", "v", "", "pk", "pv"], &["y", "pk2", "pv2"], vec![int("is_causal", 1)]);
    let m = map_node(&n, 23, &[]).unwrap();
    assert_eq!(m.inputs, [Some(0), Some(1), Some(2), None, Some(4), Some(5), None]);
    assert_eq!(m.outputs, [Some(0), Some(1), Some(2)]);
    let Op::Attention(a) = m.op else { panic!() };
    assert!(a.is_causal && a.scale.is_none());
}

#[test]
fn qk_matmul_output_is_unsupported_with_the_reason() {
    let n = node("Attention", &["q", "k", "v"], &["y", "", "", "qk"], vec![]);
    assert!(map_node(&n, 23, &[]).unwrap_err().contains("qk_matmul_output"));
}

#[test]
fn nonpad_kv_seqlen_is_input_6_from_opset_24() {
    let n = node("Attention", &["q", "k", "v", "", "", "", "n"], &["y"], vec![int("is_causal", 1)]);
    let m = map_node(&n, 24, &[]).unwrap();
    assert_eq!(m.inputs, [Some(0), Some(1), Some(2), None, None, None, Some(6)]);
    assert!(map_node(&n, 23, &[]).unwrap_err().contains("takes 3 to 6"));
}

#[test]
fn gather_and_tensor_scatter_defaults() {
    let m = map_node(&node("Gather", &["d", "i"], &["y"], vec![]), 13, &[]).unwrap();
    assert_eq!(m.op, Op::Gather { axis: 0 });
    let m = map_node(&node("GatherElements", &["d", "i"], &["y"], vec![int("axis", -1)]), 13, &[]).unwrap();
    assert_eq!(m.op, Op::GatherElements { axis: -1 });
    let m = map_node(&node("TensorScatter", &["p", "u"], &["y"], vec![]), 24, &[]).unwrap();
    assert_eq!(m.op, Op::TensorScatter { axis: -2, mode: ScatterMode::Linear });
    assert_eq!(m.inputs, [Some(0), Some(1), None]);
}

#[test]
fn gelu_approximate_is_a_string() {
    let tanh = AttributeProto {
        name: "approximate".into(),
        s: b"tanh".to_vec(),
        r#type: attribute_type::STRING,
        ..Default::default()
    };
    let m = map_node(&node("Gelu", &["x"], &["y"], vec![tanh]), 20, &[None]).unwrap();
    assert_eq!(m.op, Op::Gelu { approximate: GeluApproximation::Tanh });
}

#[test]
fn layer_norm_training_outputs_are_listed_as_unchecked() {
    let n = node("LayerNormalization", &["x", "w", "b"], &["y", "mean", "inv"], vec![]);
    let m = map_node(&n, 17, &[]).unwrap();
    assert_eq!(m.op, Op::LayerNormalization { axis: -1, epsilon: 1e-5 });
    assert_eq!(m.unchecked.len(), 2);
}

#[test]
fn unknown_attributes_and_variadic_max_are_unsupported() {
    let n = node("Add", &["a", "b"], &["c"], vec![int("broadcast", 1)]);
    assert_eq!(map_node(&n, 6, &[]).unwrap_err(), "attribute broadcast of Add is not in the hcal standard");
    let max3 = node("Max", &["a", "b", "c"], &["y"], vec![]);
    assert!(map_node(&max3, 13, &[]).unwrap_err().contains("variadic"));
}

fn ints_input(values: &[i64], dims: &[i64]) -> OnnxTensor {
    let proto = TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::INT64,
        int64_data: values.to_vec(),
        ..Default::default()
    };
    crate::tensor::decode(&proto).unwrap()
}

fn float_x(dims: &[usize]) -> OnnxTensor {
    OnnxTensor { name: "x".into(), dims: dims.to_vec(), elem_type: data_type::FLOAT, bytes: None }
}

#[test]
fn movement_lists_come_from_constant_inputs() {
    let (starts, ends, axes, steps) =
        (ints_input(&[0], &[1]), ints_input(&[-1], &[1]), ints_input(&[1], &[1]), ints_input(&[2], &[1]));
    let n = node("Slice", &["x", "s", "e", "a", "t"], &["y"], vec![]);
    let m = map_node(&n, 13, &[None, Some(&starts), Some(&ends), Some(&axes), Some(&steps)]).unwrap();
    assert_eq!(m.op, Op::Slice { starts: vec![0], ends: vec![-1], axes: Some(vec![1]), steps: Some(vec![2]) });
    assert_eq!(m.inputs, [Some(0)]);
    // A list that is not a known constant is unsupported with the reason.
    assert!(map_node(&n, 13, &[None, None, None, None, None]).unwrap_err().contains("not a known constant"));
}

#[test]
fn reshape_family_maps_to_reshape() {
    let x = float_x(&[2, 1, 3]);
    // allowzero=0: a 0 copies X's extent.
    let shape = ints_input(&[0, -1], &[2]);
    let m = map_node(&node("Reshape", &["x", "s"], &["y"], vec![]), 14, &[Some(&x), Some(&shape)]).unwrap();
    assert_eq!(m.op, Op::Reshape { shape: vec![2, -1] });
    let m = map_node(&node("Squeeze", &["x"], &["y"], vec![]), 13, &[Some(&x)]).unwrap();
    assert_eq!(m.op, Op::Reshape { shape: vec![2, 3] });
    let axes = ints_input(&[0], &[1]);
    let e = map_node(&node("Squeeze", &["x", "a"], &["y"], vec![]), 13, &[Some(&x), Some(&axes)]).unwrap_err();
    assert!(e.contains("Squeeze") && e.contains("extent 2"), "{e}");
    let m = map_node(&node("Flatten", &["x"], &["y"], vec![int("axis", -1)]), 13, &[Some(&x)]).unwrap();
    assert_eq!(m.op, Op::Reshape { shape: vec![2, 3] });
}

#[test]
fn split_parts_follow_the_opset() {
    let x = float_x(&[7]);
    let n = node("Split", &["x"], &["a", "b", "c"], vec![int("num_outputs", 3)]);
    let m = map_node(&n, 18, &[Some(&x)]).unwrap();
    assert_eq!(m.op, Op::Split { axis: 0, parts: hcal_core::SplitParts::Equal(3) });
    assert_eq!(m.outputs, [Some(0), Some(1), Some(2)]);
    // Split-13 without sizes needs equal parts: 7 is not a multiple of 3.
    let n13 = node("Split", &["x"], &["a", "b", "c"], vec![]);
    assert!(map_node(&n13, 13, &[Some(&x)]).unwrap_err().contains("not a multiple"));
}

#[test]
fn clip_bounds_are_optional_inputs_and_old_clip_is_unsupported() {
    let n = node("Clip", &["x", "", "hi"], &["y"], vec![]);
    let m = map_node(&n, 13, &[]).unwrap();
    assert_eq!((m.op, m.inputs), (Op::Clip, vec![Some(0), None, Some(2)]));
    assert!(map_node(&node("Clip", &["x"], &["y"], vec![]), 6, &[]).unwrap_err().contains("attributes"));
}

#[test]
fn activation_defaults_follow_onnx() {
    let m = map_node(&node("HardSigmoid", &["x"], &["y"], vec![]), 6, &[None]).unwrap();
    assert_eq!(m.op, Op::HardSigmoid { alpha: 0.2, beta: 0.5 });
    let m = map_node(&node("LeakyRelu", &["x"], &["y"], vec![]), 16, &[None]).unwrap();
    assert_eq!(m.op, Op::LeakyRelu { alpha: 0.01 });
    let m = map_node(&node("LessOrEqual", &["a", "b"], &["c"], vec![]), 16, &[]).unwrap();
    assert_eq!(m.op, Op::Binary(hcal_core::BinaryOp::LessOrEqual));
}

#[test]
fn cast_targets_outside_the_standard_are_unsupported() {
    let n = node("Cast", &["x"], &["y"], vec![int("to", i64::from(data_type::DOUBLE))]);
    assert!(map_node(&n, 23, &[]).unwrap_err().contains("Cast to DOUBLE"));
    let ok = node("Cast", &["x"], &["y"], vec![int("to", i64::from(data_type::FLOAT16)), int("saturate", 1)]);
    assert_eq!(map_node(&ok, 23, &[]).unwrap().op, Op::Cast { to: hcal_core::DType::F16 });
}

#[test]
fn newer_opset_attributes_at_their_inert_value_map_as_opset_23() {
    let int =
        |name: &str, i: i64| AttributeProto { name: name.into(), i, r#type: attribute_type::INT, ..Default::default() };
    let node = |attribute: Vec<AttributeProto>| NodeProto {
        op_type: "Attention".into(),
        input: vec!["q".into(), "k".into(), "v".into()],
        output: vec!["y".into()],
        attribute,
        ..Default::default()
    };
    let plain = map_node(&node(vec![int("is_causal", 1)]), 23, &[]).unwrap();
    let windowless = node(vec![int("is_causal", 1), int("left_window_size", -1), int("right_window_size", -1)]);
    assert_eq!(map_node(&windowless, 25, &[]).unwrap(), plain);
    let window = node(vec![int("left_window_size", 2)]);
    let err = map_node(&window, 25, &[]).unwrap_err();
    assert!(err.contains("left_window_size=2 (opset 25)"), "{err}");
    // Before opset 25 the attribute does not exist: unknown, as any other.
    assert!(map_node(&windowless, 23, &[]).unwrap_err().contains("not in the hcal standard"));
}
