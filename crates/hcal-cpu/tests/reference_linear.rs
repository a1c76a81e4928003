//! Hand-derived MatMul and Gemm cases for the reference backend, plus one
//! test per error family of the public API.

mod common;

use common::{
    In, TOL, alloc_poisoned, assert_close, backend, f32_bytes, run_f32, run_raw, try_run_raw, u16_from_bytes,
};
use hcal_core::{Backend, BackendExt, DType, Error, Gemm, Op, TensorDesc};

const A23: [f32; 6] = [1., 2., 3., 4., 5., 6.];
const B32: [f32; 6] = [7., 8., 9., 10., 11., 12.];

// ---- MatMul -------------------------------------------------------------------

#[test]
fn matmul_2x3_by_3x2() {
    // By hand: [1,2,3]·[7,9,11]=58, [1,2,3]·[8,10,12]=64, [4,5,6]·[7,9,11]=139, [4,5,6]·[8,10,12]=154.
    let y = run_f32(&Op::MatMul, &[In::F32(&[2, 3], &A23), In::F32(&[3, 2], &B32)], &[2, 2]);
    assert_close("matmul 2x3@3x2", &y, &[58., 64., 139., 154.], TOL);
}

#[test]
fn matmul_vector_dot_vector_is_scalar() {
    // By hand: [1,2,3]·[4,5,6] = 4+10+18 = 32; both added dims are removed, so the output is rank 0.
    let y = run_f32(&Op::MatMul, &[In::F32(&[3], &[1., 2., 3.]), In::F32(&[3], &[4., 5., 6.])], &[]);
    assert_close("matmul [3]@[3]", &y, &[32.], TOL);
}

#[test]
fn matmul_vector_times_matrix() {
    // By hand: row [1,2] times [[1,2,3],[4,5,6]] = [1+8, 2+10, 3+12]; the prepended 1 is removed -> [3].
    let y = run_f32(&Op::MatMul, &[In::F32(&[2], &[1., 2.]), In::F32(&[2, 3], &A23)], &[3]);
    assert_close("matmul [2]@[2,3]", &y, &[9., 12., 15.], TOL);
}

#[test]
fn matmul_matrix_times_vector() {
    // By hand: [[1,2,3],[4,5,6]] times column [1,0,-1] = [1-3, 4-6]; the appended 1 is removed -> [2].
    let y = run_f32(&Op::MatMul, &[In::F32(&[2, 3], &A23), In::F32(&[3], &[1., 0., -1.])], &[2]);
    assert_close("matmul [2,3]@[3]", &y, &[-2., -2.], TOL);
}

#[test]
fn matmul_batch_broadcast() {
    // A[0] = I keeps B[b]; A[1] = [[0,1],[1,0]] swaps B[b]'s rows; B[b] = [[4b+1,4b+2],[4b+3,4b+4]].
    let a = [1., 0., 0., 1., 0., 1., 1., 0.];
    let b: Vec<f32> = (1..=12).map(|v| v as f32).collect();
    let y = run_f32(&Op::MatMul, &[In::F32(&[2, 1, 2, 2], &a), In::F32(&[3, 2, 2], &b)], &[2, 3, 2, 2]);
    #[rustfmt::skip]
    let want = [
        1., 2., 3., 4.,   5., 6., 7., 8.,   9., 10., 11., 12.,
        3., 4., 1., 2.,   7., 8., 5., 6.,   11., 12., 9., 10.,
    ];
    assert_close("matmul [2,1,2,2]@[3,2,2]", &y, &want, TOL);
}

#[test]
fn matmul_empty_inner_dim_gives_zeros() {
    // An empty sum is 0: every element of a [2,0]@[0,3] product is 0 (output pre-filled with NaN).
    let y = run_f32(&Op::MatMul, &[In::F32(&[2, 0], &[]), In::F32(&[0, 3], &[])], &[2, 3]);
    assert_close("matmul K=0", &y, &[0.; 6], 0.0);
}

#[test]
fn matmul_f16_small_integers_exact() {
    // [[1,2],[3,4]]^2 = [[7,10],[15,22]] by hand; f16 bits: 1=3C00 2=4000 3=4200 4=4400 7=4700 10=4900 15=4B80 22=4D80.
    let x = [0x3C00, 0x4000, 0x4200, 0x4400];
    let out = run_raw(
        &Op::MatMul,
        &[In::Bits16(&[2, 2], DType::F16, &x), In::Bits16(&[2, 2], DType::F16, &x)],
        &[Some((&[2, 2], DType::F16))],
    );
    assert_eq!(u16_from_bytes(out[0].as_ref().unwrap()), [0x4700, 0x4900, 0x4B80, 0x4D80]);
}

// ---- Gemm ---------------------------------------------------------------------

fn gemm(alpha: f32, beta: f32, trans_a: bool, trans_b: bool) -> Op {
    Op::Gemm(Gemm { alpha, beta, trans_a, trans_b })
}

#[test]
fn gemm_alpha_beta_full_c() {
    // A@B = [[58,64],[139,154]] (see matmul_2x3_by_3x2); 2*AB + 0.5*[[2,4],[6,8]] = [[117,130],[281,312]].
    let c = [2., 4., 6., 8.];
    let y = run_f32(
        &gemm(2.0, 0.5, false, false),
        &[In::F32(&[2, 3], &A23), In::F32(&[3, 2], &B32), In::F32(&[2, 2], &c)],
        &[2, 2],
    );
    assert_close("gemm alpha=2 beta=0.5", &y, &[117., 130., 281., 312.], TOL);
}

#[test]
fn gemm_trans_a_and_trans_b_without_c() {
    // A^T stored as [3,2] and B^T stored as [2,3] are the same matrices transposed, so the product is [[58,64],[139,154]].
    let at = [1., 4., 2., 5., 3., 6.];
    let bt = [7., 9., 11., 8., 10., 12.];
    let y = run_f32(&gemm(1.0, 1.0, true, true), &[In::F32(&[3, 2], &at), In::F32(&[2, 3], &bt)], &[2, 2]);
    assert_close("gemm transA transB", &y, &[58., 64., 139., 154.], TOL);
}

#[test]
fn gemm_trans_a_only() {
    // op(A) = A^T with A stored [3,2]; B as is: same product [[58,64],[139,154]].
    let at = [1., 4., 2., 5., 3., 6.];
    let y = run_f32(&gemm(1.0, 0.0, true, false), &[In::F32(&[3, 2], &at), In::F32(&[3, 2], &B32)], &[2, 2]);
    assert_close("gemm transA", &y, &[58., 64., 139., 154.], TOL);
}

#[test]
fn gemm_c_row_broadcast() {
    // C = [10,20] is added to every row: [[58+10,64+20],[139+10,154+20]].
    let y = run_f32(
        &gemm(1.0, 1.0, false, false),
        &[In::F32(&[2, 3], &A23), In::F32(&[3, 2], &B32), In::F32(&[2], &[10., 20.])],
        &[2, 2],
    );
    assert_close("gemm C [N]", &y, &[68., 84., 149., 174.], TOL);
}

#[test]
fn gemm_c_scalar_like_broadcast() {
    // beta=-1, C=[[100]] subtracts 100 everywhere: [[58-100,64-100],[139-100,154-100]].
    let y = run_f32(
        &gemm(1.0, -1.0, false, false),
        &[In::F32(&[2, 3], &A23), In::F32(&[3, 2], &B32), In::F32(&[1, 1], &[100.])],
        &[2, 2],
    );
    assert_close("gemm C [1,1]", &y, &[-42., -36., 39., 54.], TOL);
}

#[test]
fn gemm_c_column_broadcast() {
    // C = [[1],[2]] adds 1 to row 0 and 2 to row 1: [[59,65],[141,156]].
    let y = run_f32(
        &gemm(1.0, 1.0, false, false),
        &[In::F32(&[2, 3], &A23), In::F32(&[3, 2], &B32), In::F32(&[2, 1], &[1., 2.])],
        &[2, 2],
    );
    assert_close("gemm C [M,1]", &y, &[59., 65., 141., 156.], TOL);
}

// ---- errors through the API ----------------------------------------------------

#[test]
fn error_matmul_k_mismatch_names_op_and_shapes() {
    // [2,3]@[4,5]: K=3 vs K=4 must be rejected before any kernel runs.
    let err = try_run_raw(
        &Op::MatMul,
        &[In::F32(&[2, 3], &[0.; 6]), In::F32(&[4, 5], &[0.; 20])],
        &[Some((&[2, 5], DType::F32))],
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("MatMul"), "{msg}");
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");
}

#[test]
fn error_dtype_mismatch_names_both_dtypes() {
    // f32 + f16 is not a valid Add; the message names both dtypes.
    let be = backend();
    let a = be.alloc(&TensorDesc::new([2], DType::F32)).unwrap();
    let b = be.alloc(&TensorDesc::new([2], DType::F16)).unwrap();
    let y = be.alloc(&TensorDesc::new([2], DType::F32)).unwrap();
    let msg = be.run(&Op::Binary(hcal_core::BinaryOp::Add), &[&a, &b], &[&y]).unwrap_err().to_string();
    assert!(msg.contains("f32") && msg.contains("f16"), "{msg}");
}

#[test]
fn error_output_with_wrong_shape_is_rejected() {
    // [2,3]@[3,4] is [2,4]; an output handle of [2,5] must be refused.
    let err = try_run_raw(
        &Op::MatMul,
        &[In::F32(&[2, 3], &[0.; 6]), In::F32(&[3, 4], &[0.; 12])],
        &[Some((&[2, 5], DType::F32))],
    )
    .unwrap_err();
    assert!(matches!(err, Error::OutputMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("[2, 5]") && msg.contains("[2, 4]"), "{msg}");
}

#[test]
fn error_output_with_wrong_dtype_is_rejected() {
    // Relu of f32 produces f32; an f16 output handle must be refused.
    let be = backend();
    let x = be.alloc(&TensorDesc::new([2], DType::F32)).unwrap();
    let y = be.alloc(&TensorDesc::new([2], DType::F16)).unwrap();
    assert!(be.run(&Op::Unary(hcal_core::UnaryOp::Relu), &[&x], &[&y]).is_err());
}

#[test]
fn error_unknown_tensor_after_free() {
    // After free the id is dead: read, write, run and a second free all fail.
    let be = backend();
    let desc = TensorDesc::new([2], DType::F32);
    let x = be.alloc(&desc).unwrap();
    be.write(&x, &f32_bytes(&[1., 2.])).unwrap();
    let y = alloc_poisoned(&be, &[2], DType::F32);
    be.free(&x).unwrap();
    let err = be.read(&x).unwrap_err();
    assert!(matches!(err, Error::InvalidTensor { .. }), "{err}");
    assert!(be.write(&x, &f32_bytes(&[1., 2.])).is_err());
    assert!(be.run(&Op::Unary(hcal_core::UnaryOp::Relu), &[&x], &[&y]).is_err());
    assert!(be.free(&x).is_err());
    // The live tensor is unaffected.
    assert_eq!(be.read(&y).unwrap(), vec![0xFF; 8]);
}

#[test]
fn error_write_with_wrong_byte_length() {
    // f32[2, 2] holds 16 bytes; 12 or 20 bytes must be refused.
    let be = backend();
    let x = be.alloc(&TensorDesc::new([2, 2], DType::F32)).unwrap();
    let err = be.write(&x, &[0u8; 12]).unwrap_err();
    assert!(matches!(err, Error::ByteLength { expected: 16, got: 12, .. }), "{err}");
    assert!(be.write(&x, &[0u8; 20]).is_err());
    be.write(&x, &[0u8; 16]).unwrap();
}

#[test]
fn error_output_aliasing_input_is_rejected() {
    // Outputs must never alias inputs: y = relu(y) with the same handle fails validation.
    let be = backend();
    let x = be.alloc(&TensorDesc::new([2], DType::F32)).unwrap();
    let err = be.run(&Op::Unary(hcal_core::UnaryOp::Relu), &[&x], &[&x]).unwrap_err();
    assert!(matches!(err, Error::Aliasing { .. }), "{err}");
}
