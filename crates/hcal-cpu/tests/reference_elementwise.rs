//! Hand-derived Gelu, unary, binary, reduction, Transpose and Cast cases for
//! the reference backend.

mod common;

use common::{In, TOL, assert_close, f32_from_bytes, i64_from_bytes, run_f32, run_raw, run_unary_f32, u16_from_bytes};
use hcal_core::{BinaryOp, DType, GeluApproximation, Op, ReduceOp, UnaryOp};

fn ln(x: f64) -> f32 {
    x.ln() as f32
}

// ---- Gelu ---------------------------------------------------------------------------

#[test]
fn gelu_exact() {
    // 0.5x(1+erf(x/sqrt2)) with erf(1/sqrt2)=0.6826894921370859 and erf(sqrt2)=0.9544997361036416 (P(|Z|<1), P(|Z|<2)).
    let (e1, e2) = (0.6826894921370859, 0.9544997361036416);
    let y = run_unary_f32(&Op::Gelu { approximate: GeluApproximation::None }, &[5], &[0., 1., -1., 2., -2.]);
    let want = [0., 0.5 * (1. + e1), -0.5 * (1. - e1), 1. + e2, -(1. - e2)];
    assert_close("gelu exact", &y, &want, TOL);
}

#[test]
fn gelu_tanh() {
    // 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3))) evaluated with std f64 tanh.
    let f = |x: f64| 0.5 * x * (1. + ((2. / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x)).tanh());
    let y = run_unary_f32(&Op::Gelu { approximate: GeluApproximation::Tanh }, &[4], &[0., 1., -1., 3.]);
    assert_close("gelu tanh", &y, &[0., f(1.), f(-1.), f(3.)], TOL);
}

// ---- Unary ---------------------------------------------------------------------------

fn unary(op: UnaryOp, x: &[f32]) -> Vec<f32> {
    run_unary_f32(&Op::Unary(op), &[x.len()], x)
}

#[test]
fn unary_relu() {
    // max(x, 0) by inspection.
    let y = unary(UnaryOp::Relu, &[-2., -0.5, 0., 3., f32::INFINITY]);
    assert_close("relu", &y, &[0., 0., 0., 3., f64::INFINITY], 0.0);
}

#[test]
fn unary_sigmoid() {
    // 1/(1+e^-x): 0 -> 1/2; ln3 -> 1/(1+1/3) = 3/4; -ln3 -> 1/(1+3) = 1/4; +-1000 -> 1, 0 (no overflow NaN).
    let l3 = ln(3.);
    let y = unary(UnaryOp::Sigmoid, &[0., l3, -l3, 1000., -1000.]);
    assert_close("sigmoid", &y, &[0.5, 0.75, 0.25, 1., 0.], TOL);
}

#[test]
fn unary_silu() {
    // x * sigmoid(x): 0 -> 0; ln3 -> 0.75 ln3; -ln3 -> -0.25 ln3; -1000 -> 0; 1000 -> 1000.
    let l3 = 3f64.ln();
    let y = unary(UnaryOp::Silu, &[0., l3 as f32, -l3 as f32, -1000., 1000.]);
    assert_close("silu", &y, &[0., 0.75 * l3, -0.25 * l3, 0., 1000.], TOL);
}

#[test]
fn unary_exp() {
    // exp(0)=1, exp(1)=e, exp(ln2)=2, exp(-inf)=0, exp(100) > f32::MAX -> inf.
    let y = unary(UnaryOp::Exp, &[0., 1., ln(2.), f32::NEG_INFINITY, 100.]);
    assert_close("exp", &y, &[1., std::f64::consts::E, 2., 0., f64::INFINITY], TOL);
}

#[test]
fn unary_tanh() {
    // tanh(ln3) = (9-1)/(9+1) = 0.8; odd function; tanh(20) rounds to 1 in f32.
    let l3 = ln(3.);
    let y = unary(UnaryOp::Tanh, &[0., l3, -l3, 20.]);
    assert_close("tanh", &y, &[0., 0.8, -0.8, 1.], TOL);
}

#[test]
fn unary_neg() {
    // -x; neg(0) is -0 (sign bit set).
    let y = unary(UnaryOp::Neg, &[1., -2., 0., f32::INFINITY]);
    assert_close("neg", &y, &[-1., 2., 0., f64::NEG_INFINITY], 0.0);
    assert_eq!(y[2].to_bits(), 0x8000_0000, "neg(0) must be -0");
}

#[test]
fn unary_sqrt() {
    // sqrt(4)=2, sqrt(2.25)=1.5, sqrt(0)=0, sqrt(-1)=NaN, sqrt(inf)=inf.
    let y = unary(UnaryOp::Sqrt, &[4., 2.25, 0., -1., f32::INFINITY]);
    assert_close("sqrt", &y, &[2., 1.5, 0., f64::NAN, f64::INFINITY], 0.0);
}

#[test]
fn unary_reciprocal() {
    // 1/2, 1/-4, 1/0.5 exact; 1/+0 = +inf, 1/-0 = -inf.
    let y = unary(UnaryOp::Reciprocal, &[2., -4., 0.5, 0., -0.]);
    assert_close("reciprocal", &y, &[0.5, -0.25, 2., f64::INFINITY, f64::NEG_INFINITY], 0.0);
}

#[test]
fn unary_relu_f16() {
    // f16 bits: -1 = BC00 -> +0 = 0000; 1 = 3C00 stays; 0.5 = 3800 stays.
    let out = run_raw(
        &Op::Unary(UnaryOp::Relu),
        &[In::Bits16(&[3], DType::F16, &[0xBC00, 0x3C00, 0x3800])],
        &[Some((&[3], DType::F16))],
    );
    assert_eq!(u16_from_bytes(out[0].as_ref().unwrap()), [0x0000, 0x3C00, 0x3800]);
}

// ---- Binary ---------------------------------------------------------------------------

fn binary(op: BinaryOp, a: (&[usize], &[f32]), b: (&[usize], &[f32]), out: &[usize]) -> Vec<f32> {
    run_f32(&Op::Binary(op), &[In::F32(a.0, a.1), In::F32(b.0, b.1)], out)
}

#[test]
fn binary_broadcast_2x1_with_3() {
    // a = [[1],[2]] against b = [10,20,30] -> [2,3]; each entry a_i (op) b_j worked by hand.
    let a: (&[usize], &[f32]) = (&[2, 1], &[1., 2.]);
    let b: (&[usize], &[f32]) = (&[3], &[10., 20., 40.]);
    let cases: [(BinaryOp, [f64; 6]); 6] = [
        (BinaryOp::Add, [11., 21., 41., 12., 22., 42.]),
        (BinaryOp::Sub, [-9., -19., -39., -8., -18., -38.]),
        (BinaryOp::Mul, [10., 20., 40., 20., 40., 80.]),
        (BinaryOp::Div, [0.1, 0.05, 0.025, 0.2, 0.1, 0.05]),
        (BinaryOp::Max, [10., 20., 40., 10., 20., 40.]),
        (BinaryOp::Min, [1., 1., 1., 2., 2., 2.]),
    ];
    for (op, want) in cases {
        let y = binary(op, a, b, &[2, 3]);
        assert_close(op.name(), &y, &want, TOL);
    }
}

#[test]
fn binary_same_shape() {
    // Elementwise on [3,-1.5,0.5] and [2,0.5,-4], worked by hand.
    let a: (&[usize], &[f32]) = (&[3], &[3., -1.5, 0.5]);
    let b: (&[usize], &[f32]) = (&[3], &[2., 0.5, -4.]);
    let cases: [(BinaryOp, [f64; 3]); 6] = [
        (BinaryOp::Add, [5., -1., -3.5]),
        (BinaryOp::Sub, [1., -2., 4.5]),
        (BinaryOp::Mul, [6., -0.75, -2.]),
        (BinaryOp::Div, [1.5, -3., -0.125]),
        (BinaryOp::Max, [3., 0.5, 0.5]),
        (BinaryOp::Min, [2., -1.5, -4.]),
    ];
    for (op, want) in cases {
        let y = binary(op, a, b, &[3]);
        assert_close(op.name(), &y, &want, 0.0);
    }
}

#[test]
fn binary_rank0_scalar_broadcast() {
    // [[1,2],[3,4]] * scalar 3 = [[3,6],[9,12]]; scalar - matrix = [[2,1],[0,-1]].
    let m: (&[usize], &[f32]) = (&[2, 2], &[1., 2., 3., 4.]);
    let s: (&[usize], &[f32]) = (&[], &[3.]);
    assert_close("mul scalar", &binary(BinaryOp::Mul, m, s, &[2, 2]), &[3., 6., 9., 12.], 0.0);
    assert_close("sub scalar", &binary(BinaryOp::Sub, s, m, &[2, 2]), &[2., 1., 0., -1.], 0.0);
}

#[test]
fn binary_div_by_zero() {
    // IEEE: 1/0 = inf, -1/0 = -inf, 0/0 = NaN.
    let y = binary(BinaryOp::Div, (&[3], &[1., -1., 0.]), (&[3], &[0., 0., 0.]), &[3]);
    assert_close("div by zero", &y, &[f64::INFINITY, f64::NEG_INFINITY, f64::NAN], 0.0);
}

#[test]
fn binary_max_min_propagate_nan() {
    // Documented: NaN if either operand is NaN (unlike IEEE maxNum).
    let a: (&[usize], &[f32]) = (&[4], &[1., f32::NAN, -1., -3.]);
    let b: (&[usize], &[f32]) = (&[4], &[0., 0., f32::NAN, -2.]);
    assert_close("max nan", &binary(BinaryOp::Max, a, b, &[4]), &[1., f64::NAN, f64::NAN, -2.], 0.0);
    assert_close("min nan", &binary(BinaryOp::Min, a, b, &[4]), &[0., f64::NAN, f64::NAN, -3.], 0.0);
}

#[test]
fn binary_bf16_add() {
    // bf16 is the top half of f32: 1 = 3F80, 2 = 4000, 3 = 4040 (f32 0x40400000).
    let out = run_raw(
        &Op::Binary(BinaryOp::Add),
        &[In::Bits16(&[1], DType::BF16, &[0x3F80]), In::Bits16(&[1], DType::BF16, &[0x4000])],
        &[Some((&[1], DType::BF16))],
    );
    assert_eq!(u16_from_bytes(out[0].as_ref().unwrap()), [0x4040]);
}

// ---- Reduce ----------------------------------------------------------------------------

const X23: [f32; 6] = [1., 2., 3., 4., 5., 6.];

fn reduce(op: ReduceOp, axes: Option<&[i64]>, keepdims: bool, shape: &[usize], x: &[f32], out: &[usize]) -> Vec<f32> {
    let op = Op::Reduce { op, axes: axes.map(<[i64]>::to_vec), keepdims };
    run_f32(&op, &[In::F32(shape, x)], out)
}

#[test]
fn reduce_sum() {
    // [[1,2,3],[4,5,6]]: row sums 6,15; column sums 5,7,9; total 21.
    assert_close("sum [1]", &reduce(ReduceOp::Sum, Some(&[1]), false, &[2, 3], &X23, &[2]), &[6., 15.], 0.0);
    assert_close("sum [1] keep", &reduce(ReduceOp::Sum, Some(&[1]), true, &[2, 3], &X23, &[2, 1]), &[6., 15.], 0.0);
    assert_close("sum [0]", &reduce(ReduceOp::Sum, Some(&[0]), false, &[2, 3], &X23, &[3]), &[5., 7., 9.], 0.0);
    assert_close("sum all", &reduce(ReduceOp::Sum, None, false, &[2, 3], &X23, &[]), &[21.], 0.0);
    assert_close("sum all keep", &reduce(ReduceOp::Sum, None, true, &[2, 3], &X23, &[1, 1]), &[21.], 0.0);
}

#[test]
fn reduce_sum_two_axes_3d() {
    // X[i,j,k] = 4i+2j+k over 0..8; axes [0,2] keep j: j=0 -> 0+1+4+5 = 10, j=1 -> 2+3+6+7 = 18.
    let x: Vec<f32> = (0..8).map(|v| v as f32).collect();
    let y = reduce(ReduceOp::Sum, Some(&[0, -1]), true, &[2, 2, 2], &x, &[1, 2, 1]);
    assert_close("sum [0,2]", &y, &[10., 18.], 0.0);
}

#[test]
fn reduce_middle_axis_dropped() {
    // X[i,j,k] = 4i+2j+k; axis 1 removed: Y[i,k] = X[i,0,k] + X[i,1,k] = [0+2, 1+3, 4+6, 5+7].
    let x: Vec<f32> = (0..8).map(|v| v as f32).collect();
    let y = reduce(ReduceOp::Sum, Some(&[1]), false, &[2, 2, 2], &x, &[2, 2]);
    assert_close("sum middle", &y, &[2., 4., 10., 12.], 0.0);
}

#[test]
fn reduce_mean() {
    // Row means (1+2+3)/3 = 2, (4+5+6)/3 = 5; total mean 21/6 = 3.5.
    assert_close("mean [-1]", &reduce(ReduceOp::Mean, Some(&[-1]), false, &[2, 3], &X23, &[2]), &[2., 5.], TOL);
    assert_close("mean all", &reduce(ReduceOp::Mean, None, false, &[2, 3], &X23, &[]), &[3.5], TOL);
    assert_close(
        "mean [0] keep",
        &reduce(ReduceOp::Mean, Some(&[0]), true, &[2, 3], &X23, &[1, 3]),
        &[2.5, 3.5, 4.5],
        TOL,
    );
}

#[test]
fn reduce_max() {
    // Column maxima 4,5,6; total max 6; negative rows [-1,-5,-3] -> -1, and a NaN row -> NaN.
    assert_close("max [0]", &reduce(ReduceOp::Max, Some(&[0]), false, &[2, 3], &X23, &[3]), &[4., 5., 6.], 0.0);
    assert_close("max all", &reduce(ReduceOp::Max, None, true, &[2, 3], &X23, &[1, 1]), &[6.], 0.0);
    let x = [-1., -5., -3., -2., f32::NAN, 0.];
    assert_close("max nan", &reduce(ReduceOp::Max, Some(&[1]), false, &[2, 3], &x, &[2]), &[-1., f64::NAN], 0.0);
}

#[test]
fn reduce_over_empty_axis_gives_identity() {
    // Documented: sum of nothing 0, mean of nothing NaN, max of nothing -inf.
    let sum = reduce(ReduceOp::Sum, Some(&[1]), false, &[2, 0], &[], &[2]);
    assert_close("sum empty", &sum, &[0., 0.], 0.0);
    let mean = reduce(ReduceOp::Mean, Some(&[1]), false, &[2, 0], &[], &[2]);
    assert_close("mean empty", &mean, &[f64::NAN, f64::NAN], 0.0);
    let max = reduce(ReduceOp::Max, Some(&[1]), false, &[2, 0], &[], &[2]);
    assert_close("max empty", &max, &[f64::NEG_INFINITY, f64::NEG_INFINITY], 0.0);
}

// ---- Transpose ---------------------------------------------------------------------------

#[test]
fn transpose_default_reverses_axes() {
    // [[1,2,3],[4,5,6]]^T = [[1,4],[2,5],[3,6]].
    let y = run_f32(&Op::Transpose { perm: None }, &[In::F32(&[2, 3], &X23)], &[3, 2]);
    assert_close("transpose default", &y, &[1., 4., 2., 5., 3., 6.], 0.0);
}

#[test]
fn transpose_perm_3d() {
    // X[i0,i1,i2] = 100 i0 + 10 i1 + i2 of shape [2,2,3]; perm [2,0,1] gives Y[a,b,c] = X[b,c,a] = 100b + 10c + a.
    let x: Vec<f32> = (0..12).map(|f| (100 * (f / 6) + 10 * ((f / 3) % 2) + f % 3) as f32).collect();
    let y = run_f32(&Op::Transpose { perm: Some(vec![2, 0, 1]) }, &[In::F32(&[2, 2, 3], &x)], &[3, 2, 2]);
    #[rustfmt::skip]
    let want = [0., 10., 100., 110.,   1., 11., 101., 111.,   2., 12., 102., 112.];
    assert_close("transpose perm", &y, &want, 0.0);
}

#[test]
fn transpose_i64_and_bool() {
    // Non-float dtypes move unchanged: [[1,2],[3,4]]^T = [[1,3],[2,4]]; bool [[1,0,0],[1,1,0]]^T = [[1,1],[0,1],[0,0]].
    let out =
        run_raw(&Op::Transpose { perm: None }, &[In::I64(&[2, 2], &[1, 2, 3, 4])], &[Some((&[2, 2], DType::I64))]);
    assert_eq!(i64_from_bytes(out[0].as_ref().unwrap()), [1, 3, 2, 4]);
    let b = [true, false, false, true, true, false];
    let out = run_raw(&Op::Transpose { perm: None }, &[In::Bool(&[2, 3], &b)], &[Some((&[3, 2], DType::Bool))]);
    assert_eq!(out[0].as_deref().unwrap(), [1, 1, 0, 1, 0, 0]);
}

// ---- Cast ------------------------------------------------------------------------------------

fn cast(to: DType, input: In<'_>, n: usize) -> Vec<u8> {
    run_raw(&Op::Cast { to }, &[input], &[Some((&[n], to))]).remove(0).unwrap()
}

#[test]
fn cast_f32_to_f16_round_to_nearest_even() {
    // f16 has 10 fraction bits: ulp(1) = 2^-10. 1+2^-10 -> 3C01 exact; 1+2^-12 < half ulp -> 3C00;
    // 1+2^-11 tie -> even 3C00; 1+3*2^-11 tie -> even 3C02; 1+2^-11+2^-20 above tie -> 3C01;
    // 65504 = max -> 7BFF; 65520 tie with 2^16 -> inf 7C00; -2 -> C000; -0 -> 8000; 2^-24 -> 0001; 2^-25 tie -> 0000.
    let p = |e: i32| 2f32.powi(e);
    let x = [
        1.0,
        1.0009765625f64 as f32, // = 1 + 2^-10, exact in f32
        1.0 + p(-12),
        1.0 + p(-11),
        1.0 + 3.0 * p(-11),
        1.0 + p(-11) + p(-20),
        65504.0,
        65520.0,
        -2.0,
        -0.0,
        p(-24),
        p(-25),
    ];
    let y = u16_from_bytes(&cast(DType::F16, In::F32(&[x.len()], &x), x.len()));
    let want = [0x3C00, 0x3C01, 0x3C00, 0x3C00, 0x3C02, 0x3C01, 0x7BFF, 0x7C00, 0xC000, 0x8000, 0x0001, 0x0000];
    for (i, (&g, &w)) in y.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "f32 {} -> f16 bits {g:#06x}, want {w:#06x}", x[i]);
    }
}

#[test]
fn cast_f32_nan_to_f16_is_nan() {
    // A NaN keeps an all-ones exponent and a nonzero fraction.
    let y = u16_from_bytes(&cast(DType::F16, In::F32(&[1], &[f32::NAN]), 1));
    assert!(y[0] & 0x7C00 == 0x7C00 && y[0] & 0x03FF != 0, "{:#06x}", y[0]);
}

#[test]
fn cast_f32_to_bf16_round_to_nearest_even() {
    // bf16 has 7 fraction bits: 1 -> 3F80; 1+2^-8 tie -> even 3F80; 1+2^-7 -> 3F81; 1+3*2^-8 tie -> even 3F82; 3 -> 4040.
    let p = |e: i32| 2f32.powi(e);
    let x = [1.0, 1.0 + p(-8), 1.0 + p(-7), 1.0 + 3.0 * p(-8), 3.0];
    let y = u16_from_bytes(&cast(DType::BF16, In::F32(&[5], &x), 5));
    assert_eq!(y, [0x3F80, 0x3F80, 0x3F81, 0x3F82, 0x4040]);
}

#[test]
fn cast_f32_to_bool() {
    // x != 0: zeros (either sign) are false; 0.5, -3, NaN, inf are true.
    let x = [0.0, -0.0, 0.5, -3.0, f32::NAN, f32::INFINITY];
    assert_eq!(cast(DType::Bool, In::F32(&[6], &x), 6), [0, 0, 1, 1, 1, 1]);
}

#[test]
fn cast_f32_to_i64_truncates() {
    // Toward zero: 2.7 -> 2, -2.7 -> -2, -0.5 -> 0, 1e10 exact (2^10 * 9765625); NaN -> 0, +-inf saturate.
    let x = [2.7, -2.7, 0.0, -0.5, 1e10, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
    let y = i64_from_bytes(&cast(DType::I64, In::F32(&[8], &x), 8));
    assert_eq!(y, [2, -2, 0, 0, 10_000_000_000, 0, i64::MAX, i64::MIN]);
}

#[test]
fn cast_bool_to_f32() {
    // false -> 0.0, true -> 1.0.
    let y = f32_from_bytes(&cast(DType::F32, In::Bool(&[3], &[false, true, true]), 3));
    assert_eq!(y, [0.0, 1.0, 1.0]);
}

#[test]
fn cast_i64_to_f32_and_bool() {
    // 2^24+1 is a tie between 2^24 and 2^24+2 -> even 2^24; -3 exact. To bool: nonzero is true.
    let y = f32_from_bytes(&cast(DType::F32, In::I64(&[3], &[-3, 16_777_217, 0]), 3));
    assert_eq!(y, [-3.0, 16_777_216.0, 0.0]);
    assert_eq!(cast(DType::Bool, In::I64(&[3], &[0, 5, -1]), 3), [0, 1, 1]);
}

#[test]
fn cast_f16_and_bf16_to_f32() {
    // f16 3C01 = 1+2^-10, 0001 = 2^-24, FC00 = -inf; bf16 4040 = 3.
    let y = f32_from_bytes(&cast(DType::F32, In::Bits16(&[3], DType::F16, &[0x3C01, 0x0001, 0xFC00]), 3));
    assert_eq!(y, [1.0 + 2f32.powi(-10), 2f32.powi(-24), f32::NEG_INFINITY]);
    let y = f32_from_bytes(&cast(DType::F32, In::Bits16(&[1], DType::BF16, &[0x4040]), 1));
    assert_eq!(y, [3.0]);
}

#[test]
fn cast_f16_to_bf16_and_identity() {
    // f16 1+2^-10 is below half a bf16 ulp (2^-8) above 1 -> 3F80; f16 4200 = 3 -> bf16 4040; f32 -> f32 is a copy.
    let y = u16_from_bytes(&cast(DType::BF16, In::Bits16(&[2], DType::F16, &[0x3C01, 0x4200]), 2));
    assert_eq!(y, [0x3F80, 0x4040]);
    let y = f32_from_bytes(&cast(DType::F32, In::F32(&[2], &[1.5, -0.0]), 2));
    assert_eq!([y[0].to_bits(), y[1].to_bits()], [1.5f32.to_bits(), (-0.0f32).to_bits()]);
}
