//! Edges of the elementwise ops exported transformer graphs use: rounding
//! halves, special values (NaN, +-inf, +-0) for every new function, Pow's
//! special cases, comparisons with NaN and signed zeros, and LeakyRelu,
//! HardSigmoid, Clip and Where over shapes, dtypes and broadcasting.

use hcal_core::{BinaryOp, DType, Op, UnaryOp};

use crate::case::{Case, Input};
use crate::generate::Gen;

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

/// `[NaN, inf, -inf, 0, -0]`.
fn specials() -> Vec<f64> {
    vec![NAN, INF, -INF, 0.0, -0.0]
}

fn values(v: Vec<f64>, dtype: DType) -> Input {
    Input::new([v.len()], dtype, Gen::Values(v))
}

fn unary_edges(cases: &mut Vec<Case>) {
    let unary = |name: &str, op: UnaryOp, v: Vec<f64>, dtype: DType| {
        Case::new(format!("{}/{dtype}/{name}", op.name()), Op::Unary(op), vec![values(v, dtype)])
    };
    // Halves go to the even neighbour; 0.49999997 (just below a half) goes
    // down; 2^23 + 1 and larger are integers already.
    let halves = vec![0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 8388609.0, -1e30];
    cases.push(unary("halves-to-even", UnaryOp::Round, [halves.clone(), specials()].concat(), DType::F32));
    cases.push(unary("halves-to-even", UnaryOp::Round, halves[..6].to_vec(), DType::F16));
    let near_integers = vec![-0.5, 0.5, -1.0, 1.0000001, -1.0000001, 1e30, -1e30, 8388607.5];
    for op in [UnaryOp::Floor, UnaryOp::Ceil] {
        cases.push(unary("near-integers", op, [near_integers.clone(), specials()].concat(), DType::F32));
        cases.push(unary("near-integers", op, near_integers[..5].to_vec(), DType::BF16));
    }
    cases.push(unary("special-values", UnaryOp::Abs, [specials(), vec![-1e-40, -3.5, 3.5]].concat(), DType::F32));
    cases.push(unary("special-values", UnaryOp::Abs, vec![-0.0, -65504.0, -6e-8], DType::F16));
    // Tiny arguments, where erf x ~ 1.128 x and an absolute error bound would hide everything.
    cases.push(Case::new(
        "Erf/f32/tiny",
        Op::Unary(UnaryOp::Erf),
        vec![Input::new([1000], DType::F32, Gen::SignedRange { lo: 1e-7, hi: 1e-3 })],
    ));
    cases.push(unary(
        "special-values",
        UnaryOp::Erf,
        [specials(), vec![1e-30, -1e-10, 0.5, 3.9, 4.0, -4.5, 10.0]].concat(),
        DType::F32,
    ));
}

fn pow_edges(cases: &mut Vec<Case>) {
    // Each column one rule of C's pow: odd and even integer exponents of
    // negative bases, non-integer ones (NaN), signed zeros, infinities, NaN
    // ignored by x^0 and 1^y, overflow and underflow.
    let a = vec![-2.0, -2.0, -2.0, -8.0, 0.0, -0.0, -0.0, 0.0, INF, -INF, -INF, NAN, 1.0, -1.0, 0.5, 2.0, 2.0, 3.0];
    let b =
        vec![3.0, -2.0, 0.5, 1.0 / 3.0, 2.0, 3.0, -3.0, -1.0, -1.0, 3.0, 0.5, 0.0, NAN, INF, -INF, 200.0, -200.0, NAN];
    cases.push(Case::new(
        "Pow/f32/special-values",
        Op::Binary(BinaryOp::Pow),
        vec![values(a, DType::F32), values(b, DType::F32)],
    ));
    // The exponents exported graphs use: squares (variance) and square roots,
    // as a broadcast scalar.
    for (what, base, exponent) in
        [("square", Gen::Uniform { lo: -10.0, hi: 10.0 }, 2.0), ("sqrt", Gen::Uniform { lo: 0.0, hi: 100.0 }, 0.5)]
    {
        for dtype in [DType::F32, DType::F16] {
            cases.push(Case::new(
                format!("Pow/{dtype}/{what}"),
                Op::Binary(BinaryOp::Pow),
                vec![Input::new([33, 17], dtype, base.clone()), Input::new([], dtype, Gen::Values(vec![exponent]))],
            ));
        }
    }
    cases.push(Case::new(
        "Pow/f32/negative-base-integer-exponents",
        Op::Binary(BinaryOp::Pow),
        vec![
            Input::new([9, 1], DType::F32, Gen::Uniform { lo: -4.0, hi: 4.0 }),
            Input::new([1, 7], DType::F32, Gen::Values(vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 5.0])),
        ],
    ));
}

fn comparison_edges(cases: &mut Vec<Case>) {
    // NaN on either side, equal infinities, signed zeros, ties.
    let a = vec![NAN, 1.0, NAN, INF, -0.0, 0.0, -INF, 2.0, INF];
    let b = vec![1.0, NAN, NAN, INF, 0.0, -0.0, INF, 2.0, -INF];
    for op in BinaryOp::ALL.into_iter().filter(|op| op.is_comparison()) {
        cases.push(Case::new(
            format!("{}/f32/special-values", op.name()),
            Op::Binary(op),
            vec![values(a.clone(), DType::F32), values(b.clone(), DType::F32)],
        ));
    }
    for op in [BinaryOp::And, BinaryOp::Or] {
        cases.push(Case::new(
            format!("{}/bool/truth-table", op.name()),
            Op::Binary(op),
            vec![values(vec![0.0, 0.0, 1.0, 1.0], DType::Bool), values(vec![0.0, 1.0, 0.0, 1.0], DType::Bool)],
        ));
    }
}

fn activation_edges(cases: &mut Vec<Case>) {
    let activations = [
        ("default", Op::LeakyRelu { alpha: 0.01 }),
        ("alpha0.2", Op::LeakyRelu { alpha: 0.2 }),
        ("negative-alpha", Op::LeakyRelu { alpha: -1.5 }),
        ("default", Op::HardSigmoid { alpha: 0.2, beta: 0.5 }),
        ("alpha1-beta0", Op::HardSigmoid { alpha: 1.0, beta: 0.0 }),
    ];
    for (what, op) in &activations {
        for (dtype, shape) in
            [(DType::F32, vec![266, 265]), (DType::F32, vec![0, 3]), (DType::F16, vec![257]), (DType::BF16, vec![257])]
        {
            cases.push(Case::new(
                format!("{}/{dtype}/{what}-{shape:?}", op.name()),
                op.clone(),
                vec![Input::new(shape, dtype, Gen::Uniform { lo: -8.0, hi: 8.0 })],
            ));
        }
        cases.push(Case::new(
            format!("{}/f32/{what}-special-values", op.name()),
            op.clone(),
            vec![values(specials(), DType::F32)],
        ));
    }
    // 0 x inf is NaN, which clamping must not hide.
    cases.push(Case::new(
        "HardSigmoid/f32/alpha0-inf",
        Op::HardSigmoid { alpha: 0.0, beta: 0.5 },
        vec![values(vec![INF, -INF, 1.0], DType::F32)],
    ));
}

fn clip_edges(cases: &mut Vec<Case>) {
    let x = |shape: Vec<usize>, dtype| Some(Input::new(shape, dtype, Gen::Uniform { lo: -5.0, hi: 5.0 }));
    let scalar = |v: f64, dtype| Some(Input::new([], dtype, Gen::Values(vec![v])));
    let clips = [
        ("both", Some(-1.0), Some(2.0)),
        ("min-only", Some(0.0), None),
        ("max-only", None, Some(0.5)),
        ("neither", None, None),
        // ONNX: when min > max every element is max.
        ("min-above-max", Some(3.0), Some(-1.0)),
        ("nan-bound", Some(NAN), Some(1.0)),
        ("infinite-bounds", Some(-INF), Some(INF)),
    ];
    for (what, lo, hi) in clips {
        let inputs = vec![
            x(vec![7, 33], DType::F32),
            lo.and_then(|v| scalar(v, DType::F32)),
            hi.and_then(|v| scalar(v, DType::F32)),
        ];
        let case = Case::new(format!("Clip/f32/{what}"), Op::Clip, vec![]).with_optional_inputs(inputs);
        cases.push(case);
    }
    for dtype in [DType::F16, DType::BF16] {
        let inputs = vec![x(vec![257], dtype), scalar(-0.75, dtype), scalar(1.25, dtype)];
        cases.push(Case::new(format!("Clip/{dtype}/both"), Op::Clip, vec![]).with_optional_inputs(inputs));
    }
    cases.push(Case::new(
        "Clip/f32/special-values",
        Op::Clip,
        vec![
            values([specials(), vec![-3.0, 3.0]].concat(), DType::F32),
            Input::new([], DType::F32, Gen::Values(vec![-1.0])),
            Input::new([], DType::F32, Gen::Values(vec![1.0])),
        ],
    ));
    let empty = vec![x(vec![0, 4], DType::F32), scalar(0.0, DType::F32), scalar(1.0, DType::F32)];
    cases.push(Case::new("Clip/f32/empty", Op::Clip, vec![]).with_optional_inputs(empty));
    cases.push(Case::new("Clip/f32/large", Op::Clip, vec![]).with_optional_inputs(vec![
        x(vec![266, 265], DType::F32),
        scalar(-2.0, DType::F32),
        scalar(2.0, DType::F32),
    ]));
}

fn where_edges(cases: &mut Vec<Case>) {
    let cond = |shape: &[usize]| Input::new(shape.to_vec(), DType::Bool, Gen::Bool { p_true: 0.5 });
    let data = |shape: &[usize], dtype| Input::new(shape.to_vec(), dtype, Gen::Uniform { lo: -10.0, hi: 10.0 });
    /// (what, condition shape, X shape, Y shape).
    type Shapes = (&'static str, Vec<usize>, Vec<usize>, Vec<usize>);
    let shapes: [Shapes; 6] = [
        ("same", vec![266, 265], vec![266, 265], vec![266, 265]),
        ("3way", vec![2, 1, 5], vec![3, 1], vec![5]),
        ("scalar-values", vec![4, 9], vec![], vec![]),
        ("scalar-condition", vec![], vec![3, 4], vec![3, 4]),
        ("causal-mask", vec![1, 1, 8, 8], vec![2, 4, 8, 8], vec![]),
        ("empty", vec![0, 3], vec![1, 3], vec![3]),
    ];
    for (what, c, x, y) in &shapes {
        cases.push(Case::new(
            format!("Where/f32/{what}"),
            Op::Where,
            vec![cond(c), data(x, DType::F32), data(y, DType::F32)],
        ));
    }
    for dtype in [DType::F16, DType::BF16] {
        cases.push(Case::new(
            format!("Where/{dtype}/3way"),
            Op::Where,
            vec![cond(&[2, 1, 5]), data(&[3, 1], dtype), data(&[5], dtype)],
        ));
    }
    cases.push(Case::new(
        "Where/bool/values",
        Op::Where,
        vec![
            cond(&[6, 5]),
            Input::new([5], DType::Bool, Gen::Bool { p_true: 0.5 }),
            Input::new([6, 1], DType::Bool, Gen::Bool { p_true: 0.5 }),
        ],
    ));
    // Large integers: Where moves i64 elements, never converts them (a device
    // that stages through f32, which holds integers only to 2^24, declines).
    cases.push(Case::new(
        "Where/i64/values",
        Op::Where,
        vec![
            cond(&[4]),
            Input::new([4], DType::I64, Gen::Index { max: 1 << 40 }),
            Input::new([1], DType::I64, Gen::Values(vec![-7.0])),
        ],
    ));
    cases.push(Case::new(
        "Where/f32/special-values",
        Op::Where,
        vec![
            values(vec![1.0, 1.0, 1.0, 0.0, 0.0], DType::Bool),
            values(specials(), DType::F32),
            values(vec![0.0, -0.0, NAN, INF, -INF], DType::F32),
        ],
    ));
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    unary_edges(&mut cases);
    pow_edges(&mut cases);
    comparison_edges(&mut cases);
    activation_edges(&mut cases);
    clip_edges(&mut cases);
    where_edges(&mut cases);
    cases
}
