//! Gelu, unary and binary cases.

use hcal_core::{BinaryOp, DType, GeluApproximation, Op, UnaryOp};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

/// The input domain each unary op is exercised on (its interesting range,
/// where WGSL's accuracy table applies).
fn unary_domain(op: UnaryOp) -> Gen {
    match op {
        UnaryOp::Relu | UnaryOp::Neg => Gen::Uniform { lo: -10.0, hi: 10.0 },
        UnaryOp::Sigmoid | UnaryOp::Silu | UnaryOp::Tanh => Gen::Uniform { lo: -12.0, hi: 12.0 },
        UnaryOp::Exp => Gen::Uniform { lo: -20.0, hi: 20.0 },
        UnaryOp::Sqrt => Gen::Uniform { lo: 0.0, hi: 100.0 },
        UnaryOp::Reciprocal => Gen::SignedRange { lo: 0.01, hi: 100.0 },
    }
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for approximate in [GeluApproximation::None, GeluApproximation::Tanh] {
        for (dtype, shape) in
            [(DType::F32, vec![1000]), (DType::F32, vec![0]), (DType::F16, vec![3, 77]), (DType::BF16, vec![257])]
        {
            cases.push(Case::new(
                format!("Gelu/{dtype}/{approximate:?}-{shape:?}"),
                Op::Gelu { approximate },
                vec![Input::new(shape, dtype, Gen::Uniform { lo: -6.0, hi: 6.0 })],
            ));
        }
    }
    for op in UnaryOp::ALL {
        for (dtype, shape) in [
            (DType::F32, vec![1]),
            (DType::F32, vec![17]),
            (DType::F32, vec![266, 265]),
            (DType::F16, vec![257]),
            (DType::BF16, vec![257]),
        ] {
            let case = Case::new(
                format!("{}/{dtype}/{shape:?}", op.name()),
                Op::Unary(op),
                vec![Input::new(shape, dtype, unary_domain(op))],
            );
            cases.push(case);
        }
        cases.push(Case::new(
            format!("{}/f32/empty", op.name()),
            Op::Unary(op),
            vec![Input::new([0, 3], DType::F32, unit())],
        ));
    }
    // NaN propagation from outside the domain, and special values.
    cases.push(Case::new(
        "Sqrt/f32/negative-gives-nan",
        Op::Unary(UnaryOp::Sqrt),
        vec![Input::new([16], DType::F32, Gen::Uniform { lo: -4.0, hi: 4.0 })],
    ));
    cases.push(Case::new(
        "Reciprocal/f32/zero-and-inf",
        Op::Unary(UnaryOp::Reciprocal),
        vec![Input::new([4], DType::F32, Gen::Values(vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY]))],
    ));
    cases.push(Case::new(
        "Exp/f32/overflow-and-underflow",
        Op::Unary(UnaryOp::Exp),
        vec![Input::new([4], DType::F32, Gen::Values(vec![100.0, -200.0, f64::INFINITY, f64::NEG_INFINITY]))],
    ));
    for op in [UnaryOp::Relu, UnaryOp::Neg, UnaryOp::Tanh, UnaryOp::Sigmoid] {
        cases.push(Case::new(
            format!("{}/f32/special-values", op.name()),
            Op::Unary(op),
            vec![Input::new([5], DType::F32, Gen::Values(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0]))],
        ));
    }

    let shapes: [(&str, Vec<usize>, Vec<usize>); 6] = [
        ("same", vec![266, 265], vec![266, 265]),
        ("scalar", vec![4, 5], vec![]),
        ("row", vec![7, 33], vec![33]),
        ("column", vec![7, 33], vec![7, 1]),
        ("outer", vec![9, 1], vec![1, 11]),
        ("3way", vec![2, 1, 5], vec![3, 1]),
    ];
    for op in BinaryOp::ALL {
        let b_gen = if op == BinaryOp::Div {
            Gen::SignedRange { lo: 0.1, hi: 10.0 }
        } else {
            Gen::Uniform { lo: -10.0, hi: 10.0 }
        };
        for (what, a, b) in &shapes {
            cases.push(Case::new(
                format!("{}/f32/{what}", op.name()),
                Op::Binary(op),
                vec![
                    Input::new(a.clone(), DType::F32, Gen::Uniform { lo: -10.0, hi: 10.0 }),
                    Input::new(b.clone(), DType::F32, b_gen.clone()),
                ],
            ));
        }
        for dtype in [DType::F16, DType::BF16] {
            cases.push(Case::new(
                format!("{}/{dtype}/row", op.name()),
                Op::Binary(op),
                vec![
                    Input::new([5, 40], dtype, Gen::Uniform { lo: -10.0, hi: 10.0 }),
                    Input::new([40], dtype, b_gen.clone()),
                ],
            ));
        }
        cases.push(Case::new(
            format!("{}/f32/empty", op.name()),
            Op::Binary(op),
            vec![Input::new([0, 4], DType::F32, unit()), Input::new([4], DType::F32, b_gen.clone())],
        ));
    }
    cases.push(Case::new(
        "Div/f32/by-zero",
        Op::Binary(BinaryOp::Div),
        vec![
            Input::new([3], DType::F32, Gen::Values(vec![1.0, -1.0, 0.0])),
            Input::new([1], DType::F32, Gen::Values(vec![0.0])),
        ],
    ));
    for op in [BinaryOp::Max, BinaryOp::Min, BinaryOp::Add] {
        cases.push(Case::new(
            format!("{}/f32/nan-propagates", op.name()),
            Op::Binary(op),
            vec![
                Input::new([4], DType::F32, Gen::Values(vec![f64::NAN, 1.0, f64::NAN, f64::INFINITY])),
                Input::new([4], DType::F32, Gen::Values(vec![2.0, f64::NAN, f64::NAN, 3.0])),
            ],
        ));
    }
    cases
}
