//! Hand-derived cases for the elementwise ops of exported transformer graphs
//! on the reference backend: rounding, erf, pow, comparisons and logic (bool
//! outputs), LeakyRelu, HardSigmoid, Clip and Where.

mod common;

use common::{In, TOL, assert_close, f32_from_bytes, i64_from_bytes, run_f32, run_raw, run_unary_f32};
use hcal_core::{BinaryOp, DType, Op, UnaryOp};

const NAN: f32 = f32::NAN;
const INF: f32 = f32::INFINITY;

fn unary(op: UnaryOp, x: &[f32]) -> Vec<f32> {
    run_unary_f32(&Op::Unary(op), &[x.len()], x)
}

/// The bool output of a binary op on f32 operands, as 0/1 bytes.
fn compare(op: BinaryOp, a: &[f32], b: &[f32]) -> Vec<u8> {
    let out =
        run_raw(&Op::Binary(op), &[In::F32(&[a.len()], a), In::F32(&[b.len()], b)], &[Some((&[a.len()], DType::Bool))]);
    out[0].clone().unwrap()
}

#[test]
fn round_takes_halves_to_even_and_keeps_the_sign_of_zero() {
    let y = unary(UnaryOp::Round, &[0.5, 1.5, 2.5, -0.5, -1.5, -2.4, 0.49999997, NAN, -INF]);
    assert_close("round", &y, &[0., 2., 2., -0., -2., -2., 0., f64::NAN, f64::NEG_INFINITY], 0.0);
    assert!(y[3].is_sign_negative(), "round(-0.5) is -0, got {}", y[3]);
}

#[test]
fn floor_ceil_abs() {
    assert_close("floor", &unary(UnaryOp::Floor, &[-0.5, 0.5, -1.0, 2.7]), &[-1., 0., -1., 2.], 0.0);
    let ceil = unary(UnaryOp::Ceil, &[-0.5, 0.5, -1.0, 2.2]);
    assert_close("ceil", &ceil, &[-0., 1., -1., 3.], 0.0);
    assert!(ceil[0].is_sign_negative(), "ceil(-0.5) is -0");
    let abs = unary(UnaryOp::Abs, &[-0.0, -3.5, 2.0, -INF]);
    assert_close("abs", &abs, &[0., 3.5, 2., f64::INFINITY], 0.0);
    assert!(abs[0].is_sign_positive(), "abs(-0) is +0");
}

#[test]
fn erf_at_known_points() {
    // erf(0.5), erf(1), erf(2) from tables (DLMF 7.2); odd function; erf(inf) = 1.
    let y = unary(UnaryOp::Erf, &[0.5, 1.0, -2.0, 0.0, INF, NAN]);
    let want = [0.5204998778130465, 0.8427007929497149, -0.9953222650189527, 0.0, 1.0, f64::NAN];
    assert_close("erf", &y, &want, TOL);
}

#[test]
fn not_and_or_are_truth_tables_with_broadcasting() {
    let not = run_raw(&Op::Unary(UnaryOp::Not), &[In::Bool(&[2], &[true, false])], &[Some((&[2], DType::Bool))]);
    assert_eq!(not[0].as_deref(), Some(&[0u8, 1][..]));
    // [2, 1] against [2]: a row per value of A.
    let (a, b) = (In::Bool(&[2, 1], &[false, true]), In::Bool(&[2], &[false, true]));
    let and = run_raw(&Op::Binary(BinaryOp::And), &[a, b], &[Some((&[2, 2], DType::Bool))]);
    assert_eq!(and[0].as_deref(), Some(&[0u8, 0, 0, 1][..]));
    let (a, b) = (In::Bool(&[2, 1], &[false, true]), In::Bool(&[2], &[false, true]));
    let or = run_raw(&Op::Binary(BinaryOp::Or), &[a, b], &[Some((&[2, 2], DType::Bool))]);
    assert_eq!(or[0].as_deref(), Some(&[0u8, 1, 1, 1][..]));
}

#[test]
fn comparisons_are_false_with_nan_and_see_signed_zeros_as_equal() {
    let a = [NAN, 1.0, -0.0, 2.0, INF];
    let b = [1.0, NAN, 0.0, 3.0, INF];
    assert_eq!(compare(BinaryOp::Equal, &a, &b), [0, 0, 1, 0, 1]);
    assert_eq!(compare(BinaryOp::Less, &a, &b), [0, 0, 0, 1, 0]);
    assert_eq!(compare(BinaryOp::Greater, &a, &b), [0, 0, 0, 0, 0]);
    assert_eq!(compare(BinaryOp::LessOrEqual, &a, &b), [0, 0, 1, 1, 1]);
    assert_eq!(compare(BinaryOp::GreaterOrEqual, &a, &b), [0, 0, 1, 0, 1]);
}

#[test]
fn pow_follows_c_special_cases() {
    // C11 F.10.4.4: x^0 = 1 and 1^y = 1 even for NaN; odd integer powers keep
    // the sign; a negative base with a non-integer exponent is NaN; 0^-1 = inf.
    let a = [2.0, -2.0, -2.0, -8.0, NAN, 1.0, -0.0, 0.0, -1.0, 4.0];
    let b = [10.0, 3.0, 0.5, -1.0, 0.0, NAN, -3.0, -1.0, INF, 0.5];
    let y = run_f32(&Op::Binary(BinaryOp::Pow), &[In::F32(&[10], &a), In::F32(&[10], &b)], &[10]);
    let want = [1024., -8., f64::NAN, -0.125, 1., 1., f64::NEG_INFINITY, f64::INFINITY, 1., 2.];
    assert_close("pow", &y, &want, 0.0);
}

#[test]
fn leaky_relu_and_hard_sigmoid() {
    let y = run_unary_f32(&Op::LeakyRelu { alpha: 0.5 }, &[4], &[-2., -0.0, 3., NAN]);
    assert_close("leaky relu", &y, &[-1., 0., 3., f64::NAN], 0.0);
    // max(0, min(1, 0.2 x + 0.5)): -5 -> -0.5 -> 0, 1 -> 0.7, 5 -> 1.5 -> 1.
    let y = run_unary_f32(&Op::HardSigmoid { alpha: 0.2, beta: 0.5 }, &[4], &[-5., 1., 5., NAN]);
    assert_close("hard sigmoid", &y, &[0., 0.7, 1., f64::NAN], TOL);
}

#[test]
fn clip_bounds_are_optional_and_min_above_max_gives_max() {
    let x = [-3.0, -0.5, 0.5, 3.0, NAN];
    let scalar = |v: &'static [f32]| In::F32(&[], v);
    let y = run_f32(&Op::Clip, &[In::F32(&[5], &x), scalar(&[-1.0]), scalar(&[1.0])], &[5]);
    assert_close("clip both", &y, &[-1., -0.5, 0.5, 1., f64::NAN], 0.0);
    let y = run_f32(&Op::Clip, &[In::F32(&[5], &x), In::Absent, scalar(&[0.0])], &[5]);
    assert_close("clip max only", &y, &[-3., -0.5, 0., 0., f64::NAN], 0.0);
    let y = run_f32(&Op::Clip, &[In::F32(&[5], &x), scalar(&[2.0]), scalar(&[-1.0])], &[5]);
    assert_close("clip min > max", &y, &[-1., -1., -1., -1., f64::NAN], 0.0);
    let y = run_f32(&Op::Clip, &[In::F32(&[5], &x)], &[5]);
    assert_close("clip unbounded", &y, &[-3., -0.5, 0.5, 3., f64::NAN], 0.0);
}

#[test]
fn where_broadcasts_three_ways() {
    // condition [2, 1], X [3], Y scalar -> [2, 3].
    let cond = In::Bool(&[2, 1], &[true, false]);
    let y = run_f32(&Op::Where, &[cond, In::F32(&[3], &[1., 2., 3.]), In::F32(&[], &[-1.])], &[2, 3]);
    assert_eq!(y, [1., 2., 3., -1., -1., -1.]);
    let out = run_raw(
        &Op::Where,
        &[In::Bool(&[3], &[true, false, true]), In::F32(&[1], &[NAN]), In::F32(&[3], &[0., -0.0, 7.])],
        &[Some((&[3], DType::F32))],
    );
    let y = f32_from_bytes(out[0].as_ref().unwrap());
    assert!(y[0].is_nan() && y[1].to_bits() == (-0.0f32).to_bits() && y[2].is_nan(), "{y:?}");
}

#[test]
fn where_moves_i64_exactly() {
    // Past 2^53 an f64 round trip would change these.
    let big = [(1i64 << 60) + 1, -(1i64 << 55) - 3];
    let out = run_raw(
        &Op::Where,
        &[
            In::Bool(&[2], &[true, false]),
            In::I64(&[2], &big),
            In::I64(&[2], &big[..].iter().map(|v| v + 2).collect::<Vec<_>>()),
        ],
        &[Some((&[2], DType::I64))],
    );
    assert_eq!(i64_from_bytes(out[0].as_ref().unwrap()), [big[0], big[1] + 2]);
}
