//! Bad input is a clear error naming the op and the offending dims or dtypes,
//! never a panic: one test per rule family of `infer_outputs` and `Call`.

use hcal_core::{
    Attention, BinaryOp, Call, DType, Error, Gemm, Op, ReduceOp, RotaryEmbedding, Tensor, TensorDesc, TensorId,
    UnaryOp, infer_outputs,
};

fn d(shape: &[usize], dtype: DType) -> TensorDesc {
    TensorDesc::new(shape, dtype)
}

/// Infer with all inputs present and return the error text.
fn err(op: &Op, inputs: &[TensorDesc]) -> String {
    let refs: Vec<_> = inputs.iter().map(Some).collect();
    infer_outputs(op, &refs).expect_err("the call must be rejected").to_string()
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{text:?} does not mention {n:?}");
    }
}

#[test]
fn matmul_inner_dim_mismatch_names_op_and_shapes() {
    let e = err(&Op::MatMul, &[d(&[2, 3], DType::F32), d(&[4, 5], DType::F32)]);
    assert_mentions(&e, &["MatMul", "[2, 3]", "[4, 5]", "K=3", "K=4"]);
}

#[test]
fn matmul_batch_dims_that_do_not_broadcast() {
    let e = err(&Op::MatMul, &[d(&[2, 3, 4], DType::F32), d(&[5, 4, 6], DType::F32)]);
    assert_mentions(&e, &["MatMul", "[2, 3, 4]", "[5, 4, 6]"]);
}

#[test]
fn dtype_mismatch_names_both_dtypes() {
    let e = err(&Op::MatMul, &[d(&[2, 3], DType::F32), d(&[3, 2], DType::F16)]);
    assert_mentions(&e, &["MatMul", "f32", "f16"]);
    let e = err(&Op::Binary(BinaryOp::Add), &[d(&[2], DType::BF16), d(&[2], DType::F32)]);
    assert_mentions(&e, &["Add", "bf16", "f32"]);
}

#[test]
fn float_ops_reject_integer_and_bool_inputs() {
    for op in [
        Op::Softmax { axis: -1 },
        Op::Unary(UnaryOp::Exp),
        Op::Reduce { op: ReduceOp::Sum, axes: None, keepdims: false },
    ] {
        let e = err(&op, &[d(&[4], DType::I64)]);
        assert_mentions(&e, &[op.name(), "i64"]);
    }
}

#[test]
fn gemm_checks_rank_transposes_and_c() {
    let g = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    assert_mentions(&err(&g, &[d(&[2, 3], DType::F32), d(&[3, 4], DType::F32)]), &["Gemm", "transB=1", "[3, 4]"]);
    assert_mentions(
        &err(&Op::Gemm(Gemm::default()), &[d(&[2, 3, 1], DType::F32), d(&[3, 4], DType::F32)]),
        &["Gemm", "rank 2"],
    );
    let e = err(&Op::Gemm(Gemm::default()), &[d(&[2, 3], DType::F32), d(&[3, 4], DType::F32), d(&[3], DType::F32)]);
    assert_mentions(&e, &["Gemm", "C [3]", "[M=2, N=4]"]);
    let nan = Op::Gemm(Gemm { alpha: f32::NAN, ..Gemm::default() });
    assert_mentions(&err(&nan, &[d(&[2, 3], DType::F32), d(&[3, 4], DType::F32)]), &["Gemm", "alpha"]);
}

#[test]
fn axes_out_of_range_or_repeated() {
    assert_mentions(&err(&Op::Softmax { axis: 2 }, &[d(&[3, 4], DType::F32)]), &["Softmax", "axis", "2", "rank 2"]);
    let r = Op::Reduce { op: ReduceOp::Max, axes: Some(vec![1, -1]), keepdims: true };
    assert_mentions(&err(&r, &[d(&[3, 4], DType::F32)]), &["ReduceMax", "axes", "twice"]);
    let t = Op::Transpose { perm: Some(vec![0, 0]) };
    assert_mentions(&err(&t, &[d(&[3, 4], DType::F32)]), &["Transpose", "perm", "[0, 0]"]);
}

#[test]
fn normalization_epsilon_and_scale_shape() {
    for epsilon in [f32::NAN, -1.0, f32::INFINITY] {
        let op = Op::LayerNormalization { axis: -1, epsilon };
        assert_mentions(&err(&op, &[d(&[2, 8], DType::F32), d(&[8], DType::F32)]), &["LayerNormalization", "epsilon"]);
    }
    let op = Op::RmsNormalization { axis: -1, epsilon: 1e-5 };
    assert_mentions(
        &err(&op, &[d(&[2, 8], DType::F32), d(&[7], DType::F32)]),
        &["RMSNormalization", "Scale [7]", "[8]"],
    );
}

#[test]
fn attention_rules_name_the_operand() {
    let f = DType::F32;
    let op = Op::Attention(Attention::default());
    // Heads that do not divide.
    let e = err(&op, &[d(&[1, 6, 4, 8], f), d(&[1, 4, 4, 8], f), d(&[1, 4, 4, 8], f)]);
    assert_mentions(&e, &["Attention", "q heads (6)", "kv heads (4)"]);
    // Head size mismatch.
    let e = err(&op, &[d(&[1, 2, 4, 8], f), d(&[1, 2, 4, 7], f), d(&[1, 2, 4, 8], f)]);
    assert_mentions(&e, &["Attention", "head size 8", "head size 7"]);
    // 3-D without head counts.
    let e = err(&op, &[d(&[1, 4, 16], f), d(&[1, 4, 16], f), d(&[1, 4, 16], f)]);
    assert_mentions(&e, &["Attention", "q_num_heads", "3-D"]);
    // A mask of the wrong query length.
    let e = err(&op, &[d(&[1, 2, 4, 8], f), d(&[1, 2, 6, 8], f), d(&[1, 2, 6, 8], f), d(&[5, 6], DType::Bool)]);
    assert_mentions(&e, &["Attention", "attn_mask [5, 6]", "Sq=4"]);
    // An integer mask.
    let e = err(&op, &[d(&[1, 2, 4, 8], f), d(&[1, 2, 6, 8], f), d(&[1, 2, 6, 8], f), d(&[4, 6], DType::I64)]);
    assert_mentions(&e, &["Attention", "attn_mask is i64"]);
    // past_key without past_value.
    let refs = [
        Some(&d(&[1, 2, 4, 8], f)),
        Some(&d(&[1, 2, 4, 8], f)),
        Some(&d(&[1, 2, 4, 8], f)),
        None,
        Some(&d(&[1, 2, 3, 8], f)),
    ];
    let e = infer_outputs(&op, &refs).unwrap_err().to_string();
    assert_mentions(&e, &["Attention", "past_key and past_value"]);
    let capped = Op::Attention(Attention { softcap: -1.0, ..Attention::default() });
    assert_mentions(
        &err(&capped, &[d(&[1, 2, 4, 8], f), d(&[1, 2, 4, 8], f), d(&[1, 2, 4, 8], f)]),
        &["softcap", "-1"],
    );
}

#[test]
fn rotary_rules() {
    let f = DType::F32;
    let op = Op::RotaryEmbedding(RotaryEmbedding { rotary_embedding_dim: 5, ..Default::default() });
    let e = err(&op, &[d(&[1, 2, 3, 8], f), d(&[1, 3, 4], f), d(&[1, 3, 4], f)]);
    assert_mentions(&e, &["RotaryEmbedding", "rotary_embedding_dim", "5"]);
    let op = Op::RotaryEmbedding(RotaryEmbedding::default());
    let e = err(&op, &[d(&[1, 2, 3, 8], f), d(&[10, 4], f), d(&[10, 4], f), d(&[1, 3], DType::F32)]);
    assert_mentions(&e, &["RotaryEmbedding", "position_ids is f32", "i64"]);
}

#[test]
fn arity_is_checked() {
    let e = infer_outputs(&Op::MatMul, &[Some(&d(&[2, 2], DType::F32))]).unwrap_err();
    assert!(matches!(e, Error::Arity { op: "MatMul", .. }), "{e}");
    let e = infer_outputs(&Op::Unary(UnaryOp::Relu), &[]).unwrap_err();
    assert!(e.to_string().contains("Relu"), "{e}");
}

#[test]
fn calls_check_outputs_and_aliasing() {
    let t = |id, shape: &[usize], dtype| Tensor::from_parts(TensorId(id), d(shape, dtype));
    let (a, b) = (t(1, &[2, 3], DType::F32), t(2, &[3, 4], DType::F32));
    let wrong_shape = t(3, &[2, 5], DType::F32);
    let e = Call::new(&Op::MatMul, &[&a, &b], &[&wrong_shape]).unwrap_err();
    assert!(matches!(e, Error::OutputMismatch { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("f32[2, 5]") && e.to_string().contains("f32[2, 4]"), "{e}");
    let wrong_dtype = t(4, &[2, 4], DType::F16);
    assert!(Call::new(&Op::MatMul, &[&a, &b], &[&wrong_dtype]).is_err());
    let x = t(5, &[4], DType::F32);
    let e = Call::new(&Op::Unary(UnaryOp::Exp), &[&x], &[&x]).unwrap_err();
    assert!(matches!(e, Error::Aliasing { .. }), "{e}");
    let e = Call::new(&Op::MatMul, &[&a, &b], &[]).unwrap_err();
    assert!(e.to_string().contains("output 0"), "{e}");
}

#[test]
fn sizes_that_overflow_are_errors() {
    let huge = d(&[usize::MAX / 2, 4], DType::F32);
    assert!(matches!(huge.byte_len(), Err(Error::TooLarge { .. })));
}

#[test]
fn quantized_weights_need_whole_blocks_and_stay_weights() {
    // Gemm with transB: B [N, K] in blocks along K; K = 33 is not whole blocks.
    let gemm = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    let e = err(&gemm, &[d(&[2, 33], DType::F32), d(&[5, 33], DType::Q4_1)]);
    assert_mentions(&e, &["Gemm", "input 1", "q4_1", "multiple of 32"]);
    // Whole blocks are fine, the output has A's dtype.
    let ok = infer_outputs(&gemm, &[Some(&d(&[2, 64], DType::F16)), Some(&d(&[5, 64], DType::Q8_0))]).unwrap();
    assert_eq!(ok, vec![d(&[2, 5], DType::F16)]);
    // A quantized A, a permuted or produced quantized tensor: errors naming the dtype.
    assert_mentions(&err(&Op::MatMul, &[d(&[2, 32], DType::Q4_0), d(&[32, 32], DType::F32)]), &["MatMul", "q4_0"]);
    assert_mentions(&err(&Op::Transpose { perm: None }, &[d(&[2, 32], DType::Q8_0)]), &["Transpose", "q8_0"]);
    assert_mentions(&err(&Op::Cast { to: DType::Q4_0 }, &[d(&[2, 32], DType::F32)]), &["Cast", "q4_0", "dequantizes"]);
    assert_mentions(&err(&Op::Unary(UnaryOp::Relu), &[d(&[32], DType::Q4_1)]), &["Relu", "q4_1"]);
    let cast = infer_outputs(&Op::Cast { to: DType::F32 }, &[Some(&d(&[3, 64], DType::Q4_1))]).unwrap();
    assert_eq!(cast, vec![d(&[3, 64], DType::F32)]);
}

// ---- along one axis: ArgMax, ArgMin, LogSoftmax, CumSum; ReduceMin/Prod/L2 ----

#[test]
fn arg_reductions_give_i64_indices_and_reject_an_empty_axis() {
    let x = d(&[2, 3, 4], DType::F16);
    let arg = |axis, keepdims| Op::ArgMax { axis, keepdims, select_last_index: false };
    assert_eq!(infer_outputs(&arg(1, true), &[Some(&x)]).unwrap(), vec![d(&[2, 1, 4], DType::I64)]);
    assert_eq!(infer_outputs(&arg(-1, false), &[Some(&x)]).unwrap(), vec![d(&[2, 3], DType::I64)]);
    let e = err(&Op::ArgMin { axis: 1, keepdims: true, select_last_index: true }, &[d(&[2, 0, 4], DType::F32)]);
    assert_mentions(&e, &["ArgMin", "axis 1", "[2, 0, 4]", "empty"]);
    assert_mentions(&err(&arg(0, true), &[d(&[], DType::F32)]), &["ArgMax", "rank"]);
    assert_mentions(&err(&arg(3, true), &[d(&[2, 3, 4], DType::F32)]), &["ArgMax", "axis", "3", "rank 3"]);
    assert_mentions(&err(&arg(0, true), &[d(&[4], DType::I64)]), &["ArgMax", "i64"]);
}

#[test]
fn log_softmax_and_cumsum_keep_the_shape_and_check_the_axis() {
    let x = d(&[3, 0, 5], DType::BF16);
    let cumsum = Op::CumSum { axis: -2, exclusive: true, reverse: true };
    assert_eq!(infer_outputs(&cumsum, &[Some(&x)]).unwrap(), vec![x.clone()]);
    assert_eq!(infer_outputs(&Op::LogSoftmax { axis: 0 }, &[Some(&x)]).unwrap(), vec![x.clone()]);
    let bad = Op::CumSum { axis: -4, exclusive: false, reverse: false };
    assert_mentions(&err(&bad, std::slice::from_ref(&x)), &["CumSum", "axis", "-4", "rank 3"]);
    assert_mentions(&err(&Op::LogSoftmax { axis: 0 }, &[d(&[], DType::F32)]), &["LogSoftmax", "rank"]);
    assert_mentions(&err(&cumsum, &[d(&[2, 2], DType::Bool)]), &["CumSum", "bool"]);
}

#[test]
fn new_reductions_follow_the_reduce_rules() {
    for op in [ReduceOp::Min, ReduceOp::Prod, ReduceOp::L2] {
        let r = Op::Reduce { op, axes: Some(vec![0, -2]), keepdims: false };
        assert_mentions(&err(&r, &[d(&[3, 4], DType::F32)]), &[op.name(), "axes", "twice"]);
        let keep = Op::Reduce { op, axes: Some(vec![-1]), keepdims: true };
        assert_eq!(infer_outputs(&keep, &[Some(&d(&[3, 0], DType::F32))]).unwrap(), vec![d(&[3, 1], DType::F32)]);
    }
}
// ---- elementwise ops of exported transformer graphs (ops-elementwise) ----

#[test]
fn logical_ops_take_bool_and_comparisons_output_bool() {
    assert_mentions(&err(&Op::Unary(UnaryOp::Not), &[d(&[3], DType::F32)]), &["Not", "f32", "bool"]);
    assert_mentions(
        &err(&Op::Binary(BinaryOp::And), &[d(&[3], DType::F16), d(&[3], DType::F16)]),
        &["And", "f16", "bool"],
    );
    assert_mentions(&err(&Op::Unary(UnaryOp::Erf), &[d(&[3], DType::Bool)]), &["Erf", "bool"]);
    let (a, b) = (d(&[2, 1], DType::F16), d(&[3], DType::F16));
    let out = infer_outputs(&Op::Binary(BinaryOp::LessOrEqual), &[Some(&a), Some(&b)]).unwrap();
    assert_eq!(out, [d(&[2, 3], DType::Bool)]);
    let e = err(&Op::Binary(BinaryOp::Pow), &[d(&[2], DType::I64), d(&[2], DType::I64)]);
    assert_mentions(&e, &["Pow", "i64"]);
}

#[test]
fn clip_bounds_are_scalars_of_x_dtype() {
    let x = d(&[4, 5], DType::F32);
    let e = infer_outputs(&Op::Clip, &[Some(&x), Some(&d(&[1], DType::F32))]).unwrap_err().to_string();
    assert_mentions(&e, &["Clip", "min", "rank 0", "[1]"]);
    let e = infer_outputs(&Op::Clip, &[Some(&x), None, Some(&d(&[], DType::F16))]).unwrap_err().to_string();
    assert_mentions(&e, &["Clip", "max", "f16", "f32"]);
    assert_eq!(infer_outputs(&Op::Clip, &[Some(&x), None, None]).unwrap(), [x]);
}

#[test]
fn where_needs_a_bool_condition_and_three_shapes_that_broadcast() {
    let e = err(&Op::Where, &[d(&[3], DType::F32), d(&[3], DType::F32), d(&[3], DType::F32)]);
    assert_mentions(&e, &["Where", "condition", "f32", "bool"]);
    let e = err(&Op::Where, &[d(&[2, 1], DType::Bool), d(&[3], DType::F32), d(&[4], DType::F32)]);
    assert_mentions(&e, &["Where", "[2, 1]", "[3]", "[4]"]);
    let e = err(&Op::Where, &[d(&[3], DType::Bool), d(&[3], DType::F32), d(&[3], DType::I64)]);
    assert_mentions(&e, &["Where", "f32", "i64"]);
    let out = infer_outputs(
        &Op::Where,
        &[Some(&d(&[2, 1, 1], DType::Bool)), Some(&d(&[3, 1], DType::I64)), Some(&d(&[4], DType::I64))],
    );
    assert_eq!(out.unwrap(), [d(&[2, 3, 4], DType::I64)]);
}

#[test]
fn activation_attributes_must_be_finite() {
    let e = err(&Op::LeakyRelu { alpha: f32::NAN }, &[d(&[3], DType::F32)]);
    assert_mentions(&e, &["LeakyRelu", "alpha", "NaN"]);
    let e = err(&Op::HardSigmoid { alpha: 0.2, beta: f32::INFINITY }, &[d(&[3], DType::F32)]);
    assert_mentions(&e, &["HardSigmoid", "beta", "inf"]);
}
