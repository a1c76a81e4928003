//! The data-movement ops' shape rules (issue 18): ONNX's clamping and
//! negative steps for Slice, Split's part sizes, bidirectional Expand,
//! Reshape's -1, and errors that name the op and the dims.

use hcal_core::{DType, Geometry, Op, OpSignature, SplitParts, TensorDesc, infer_outputs};

fn d(shape: &[usize]) -> TensorDesc {
    TensorDesc::new(shape, DType::F32)
}

fn shapes(op: Op, inputs: &[TensorDesc]) -> Vec<Vec<usize>> {
    let refs: Vec<_> = inputs.iter().map(Some).collect();
    infer_outputs(&op, &refs).unwrap_or_else(|e| panic!("{op}: {e}")).into_iter().map(|t| t.shape).collect()
}

fn err(op: Op, inputs: &[TensorDesc]) -> String {
    let refs: Vec<_> = inputs.iter().map(Some).collect();
    infer_outputs(&op, &refs).expect_err("the call must be rejected").to_string()
}

fn slice(starts: &[i64], ends: &[i64], axes: Option<&[i64]>, steps: Option<&[i64]>) -> Op {
    Op::Slice {
        starts: starts.to_vec(),
        ends: ends.to_vec(),
        axes: axes.map(<[i64]>::to_vec),
        steps: steps.map(<[i64]>::to_vec),
    }
}

#[test]
fn slice_clamps_bounds_and_walks_backwards_like_onnx() {
    // numpy: x[-100:100] of 5 -> 5; x[3:1:-1] -> 2; x[10:20] -> 0; x[::-1] -> 5.
    assert_eq!(shapes(slice(&[-100], &[100], None, None), &[d(&[5])]), [[5]]);
    assert_eq!(shapes(slice(&[3], &[1], None, Some(&[-1])), &[d(&[5])]), [[2]]);
    assert_eq!(shapes(slice(&[10], &[20], None, None), &[d(&[5])]), [[0]]);
    assert_eq!(shapes(slice(&[-1], &[i64::MIN], None, Some(&[-1])), &[d(&[5])]), [[5]]);
    // x[1:6:2] of 6 -> 1, 3, 5.
    assert_eq!(shapes(slice(&[1], &[6], None, Some(&[2])), &[d(&[6])]), [[3]]);
    // Backwards from past the end: start clamps to d - 1, end to -1 (x[::-3] of 7; x[100:-7:-3] would stop before 0).
    let sig = OpSignature::new(slice(&[i64::MAX], &[i64::MIN], Some(&[-1]), Some(&[-3])), vec![Some(d(&[2, 7]))]);
    let sig = sig.unwrap();
    assert_eq!(sig.outputs()[0].shape, [2, 3]); // columns 6, 3, 0
    let Geometry::Views(views) = sig.geometry() else { panic!("{:?}", sig.geometry()) };
    assert_eq!((views[0].offset, views[0].strides.clone()), (6, vec![7, -3]));
    assert_eq!(views[0].source(&[2, 3], 5), 7); // Y[1, 2] = X[1, 0]
}

#[test]
fn slice_errors_name_the_attribute() {
    let e = err(slice(&[0], &[1], None, Some(&[0])), &[d(&[4])]);
    assert!(e.contains("Slice") && e.contains("steps"), "{e}");
    let e = err(slice(&[0, 0], &[1, 1], Some(&[1, -1]), None), &[d(&[4, 4])]);
    assert!(e.contains("axes") && e.contains("twice"), "{e}");
    let e = err(slice(&[0], &[1, 2], None, None), &[d(&[4, 4])]);
    assert!(e.contains("ends") && e.contains("2 entries"), "{e}");
}

#[test]
fn split_sizes_and_equal_parts() {
    let split = |parts| Op::Split { axis: -1, parts };
    assert_eq!(shapes(split(SplitParts::Equal(3)), &[d(&[2, 7])]), [[2, 3], [2, 3], [2, 1]]);
    assert_eq!(shapes(split(SplitParts::Sizes(vec![0, 7])), &[d(&[2, 7])]), [[2, 0], [2, 7]]);
    let e = err(split(SplitParts::Sizes(vec![3, 3])), &[d(&[2, 7])]);
    assert!(e.contains("Split") && e.contains("[3, 3]") && e.contains('7'), "{e}");
    // ceil(5 / 4) = 2 per part leaves -1 for the last of four.
    assert!(err(split(SplitParts::Equal(4)), &[d(&[5])]).contains("num_outputs"));
}

#[test]
fn concat_needs_equal_dims_off_the_axis() {
    assert_eq!(shapes(Op::Concat { axis: 1 }, &[d(&[2, 1, 3]), d(&[2, 0, 3]), d(&[2, 4, 3])]), [[2, 5, 3]]);
    let e = err(Op::Concat { axis: 1 }, &[d(&[2, 1, 3]), d(&[3, 1, 3])]);
    assert!(e.contains("Concat") && e.contains("[3, 1, 3]") && e.contains("[2, 1, 3]"), "{e}");
    let mixed = [d(&[2]), TensorDesc::new([2], DType::F16)];
    assert!(err(Op::Concat { axis: 0 }, &mixed).contains("f16"));
}

#[test]
fn expand_broadcasts_both_ways_and_from_rank_0() {
    assert_eq!(shapes(Op::Expand { shape: vec![3, 1] }, &[d(&[1, 4])]), [[3, 4]]);
    assert_eq!(shapes(Op::Expand { shape: vec![2, 3] }, &[d(&[])]), [[2, 3]]);
    assert!(err(Op::Expand { shape: vec![3] }, &[d(&[2])]).contains("Expand"));
}

#[test]
fn reshape_infers_one_dim() {
    assert_eq!(shapes(Op::Reshape { shape: vec![-1, 4] }, &[d(&[2, 3, 4])]), [[6, 4]]);
    assert_eq!(shapes(Op::Reshape { shape: vec![] }, &[d(&[1, 1])]), [Vec::<usize>::new()]);
    let e = err(Op::Reshape { shape: vec![-1, -1] }, &[d(&[4])]);
    assert!(e.contains("Reshape") && e.contains("more than one -1"), "{e}");
    assert!(err(Op::Reshape { shape: vec![5] }, &[d(&[2, 3])]).contains("6 elements"));
}

#[test]
fn range_length_and_domain() {
    let range = |start, limit, delta, dtype| Op::Range { start, limit, delta, dtype };
    assert_eq!(shapes(range(1.0, 5.0, 2.0, DType::F32), &[]), [[2]]);
    assert_eq!(shapes(range(10.0, 4.0, -3.0, DType::I64), &[]), [[2]]);
    assert_eq!(shapes(range(5.0, 1.0, 1.0, DType::F32), &[]), [[0]]);
    assert!(err(range(0.0, 1.0, 0.0, DType::F32), &[]).contains("delta"));
    assert!(err(range(0.5, 1.0, 1.0, DType::I64), &[]).contains("2^53"));
    assert!(err(range(0.0, f64::NAN, 1.0, DType::F32), &[]).contains("limit"));
    assert!(err(range(0.0, 1.0, 1.0, DType::Q8_0), &[]).contains("Range"));
}

#[test]
fn trilu_needs_a_matrix_and_movement_refuses_quantized_blocks() {
    assert!(err(Op::Trilu { upper: true, k: 0 }, &[d(&[4])]).contains("rank >= 2"));
    let q = TensorDesc::new([2, 32], DType::Q4_0);
    for op in [Op::Trilu { upper: true, k: 0 }, Op::Reshape { shape: vec![64] }, Op::Concat { axis: 0 }] {
        let e = err(op.clone(), std::slice::from_ref(&q));
        assert!(e.contains(op.name()) && e.contains("q4_0"), "{e}");
    }
}
