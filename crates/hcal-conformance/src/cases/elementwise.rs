//! Gelu, unary, GatedUnary and binary cases over shapes and dtypes (the
//! edges of the ops added for transformer graphs are in `elementwise_edges.rs`).

use hcal_core::{BinaryOp, DType, GeluApproximation, Op, UnaryOp};

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
        UnaryOp::Abs | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round => Gen::Uniform { lo: -10.0, hi: 10.0 },
        UnaryOp::Erf => Gen::Uniform { lo: -5.0, hi: 5.0 },
        UnaryOp::Not => Gen::Bool { p_true: 0.5 },
    }
}

/// The input domain of A and of B for each binary op.
fn binary_domains(op: BinaryOp) -> (Gen, Gen) {
    let ten = Gen::Uniform { lo: -10.0, hi: 10.0 };
    match op {
        BinaryOp::Div => (ten, Gen::SignedRange { lo: 0.1, hi: 10.0 }),
        // Positive bases (negative ones are edge cases): |t| = |b log2 a| <= 10.
        BinaryOp::Pow => (Gen::Uniform { lo: 0.01, hi: 10.0 }, Gen::Uniform { lo: -1.5, hi: 1.5 }),
        // Small integers, so ties are common.
        op if op.is_comparison() => (Gen::Index { max: 5 }, Gen::Index { max: 5 }),
        BinaryOp::And | BinaryOp::Or => (Gen::Bool { p_true: 0.5 }, Gen::Bool { p_true: 0.5 }),
        _ => (ten.clone(), ten),
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
        // Not takes bool: one dtype, so the f16/bf16 rows are left out.
        let float_dtype = |dtype: DType| if op.is_logical() { DType::Bool } else { dtype };
        for (dtype, shape) in [
            (DType::F32, vec![1]),
            (DType::F32, vec![17]),
            (DType::F32, vec![266, 265]),
            (DType::F16, vec![257]),
            (DType::BF16, vec![257]),
        ] {
            if op.is_logical() && dtype != DType::F32 {
                continue;
            }
            let dtype = float_dtype(dtype);
            let case = Case::new(
                format!("{}/{dtype}/{shape:?}", op.name()),
                Op::Unary(op),
                vec![Input::new(shape, dtype, unary_domain(op))],
            );
            cases.push(case);
        }
        let dtype = float_dtype(DType::F32);
        cases.push(Case::new(
            format!("{}/{dtype}/empty", op.name()),
            Op::Unary(op),
            vec![Input::new([0, 3], dtype, unary_domain(op))],
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

    cases.extend(gated_cases());

    let shapes: [(&str, Vec<usize>, Vec<usize>); 6] = [
        ("same", vec![266, 265], vec![266, 265]),
        ("scalar", vec![4, 5], vec![]),
        ("row", vec![7, 33], vec![33]),
        ("column", vec![7, 33], vec![7, 1]),
        ("outer", vec![9, 1], vec![1, 11]),
        ("3way", vec![2, 1, 5], vec![3, 1]),
    ];
    for op in BinaryOp::ALL {
        let (a_gen, b_gen) = binary_domains(op);
        // And and Or take bool: one dtype, so the f16/bf16 rows are left out.
        let base = if op.is_logical() { DType::Bool } else { DType::F32 };
        for (what, a, b) in &shapes {
            cases.push(Case::new(
                format!("{}/{base}/{what}", op.name()),
                Op::Binary(op),
                vec![Input::new(a.clone(), base, a_gen.clone()), Input::new(b.clone(), base, b_gen.clone())],
            ));
        }
        let halves = if op.is_logical() { vec![] } else { vec![DType::F16, DType::BF16] };
        for dtype in halves {
            cases.push(Case::new(
                format!("{}/{dtype}/row", op.name()),
                Op::Binary(op),
                vec![Input::new([5, 40], dtype, a_gen.clone()), Input::new([40], dtype, b_gen.clone())],
            ));
        }
        cases.push(Case::new(
            format!("{}/{base}/empty", op.name()),
            Op::Binary(op),
            vec![Input::new([0, 4], base, a_gen.clone()), Input::new([4], base, b_gen.clone())],
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

/// GatedUnary: SwiGLU at SmolLM2's decode width, rows, halves of 1 and 17,
/// f16/bf16, an empty batch, and NaN or infinity in either half.
fn gated_cases() -> Vec<Case> {
    let case = |op: UnaryOp, dtype: DType, shape: Vec<usize>, what: &str| {
        Case::new(
            format!("GatedUnary/{dtype}/{}-{what}{shape:?}", op.name()),
            Op::GatedUnary { activation: op },
            vec![Input::new(shape, dtype, unary_domain(op))],
        )
    };
    let mut cases = vec![
        case(UnaryOp::Silu, DType::F32, vec![1, 3072], ""),
        case(UnaryOp::Silu, DType::F32, vec![5, 2, 34], ""),
        case(UnaryOp::Silu, DType::F32, vec![2], ""),
        case(UnaryOp::Sigmoid, DType::F16, vec![3, 154], ""),
        case(UnaryOp::Relu, DType::BF16, vec![514], ""),
        case(UnaryOp::Tanh, DType::F32, vec![7, 34], ""),
        case(UnaryOp::Silu, DType::F32, vec![0, 8], "empty"),
    ];
    let special = vec![f64::NAN, 1.0, 2.0, 0.5, -30.0, 3.0, f64::NAN, f64::INFINITY, -2.0, f64::NEG_INFINITY];
    cases.push(Case::new(
        "GatedUnary/f32/Silu-nan-and-inf-in-either-half",
        Op::GatedUnary { activation: UnaryOp::Silu },
        vec![Input::new([10], DType::F32, Gen::Values(special))],
    ));
    cases
}
