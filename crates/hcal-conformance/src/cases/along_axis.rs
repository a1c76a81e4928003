//! ReduceMin/ReduceProd/ReduceL2 edges, ArgMax/ArgMin, LogSoftmax and CumSum.
//!
//! The reduction sweeps of `data.rs` run over every `ReduceOp`; the edges
//! here are the ones the new reductions add: NaN and infinities, products
//! that leave the f32 range on the way, norms of values whose squares do,
//! no axes at all (`noop_with_empty_axes`), ties and NaN for the
//! arg-reductions, masked rows for LogSoftmax, long prefixes for CumSum.

use hcal_core::{DType, Op, ReduceOp};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

pub(super) fn cases() -> Vec<Case> {
    let mut cases = reduce_edges();
    cases.extend(arg_cases());
    cases.extend(log_softmax_cases());
    cases.extend(cumsum_cases());
    cases
}

/// A row of `len` values from `f(i)`.
fn values(len: usize, f: impl Fn(usize) -> f64) -> Gen {
    Gen::Values((0..len).map(f).collect())
}

fn reduce_edges() -> Vec<Case> {
    let mut cases = Vec::new();
    let reduce = |op: ReduceOp, axes: Option<Vec<i64>>, keepdims: bool| Op::Reduce { op, axes, keepdims };
    let specials = values(12, |i| {
        [1.0, f64::NAN, -2.0, 3.0, f64::INFINITY, -1.0, -0.5, f64::NEG_INFINITY, 0.0, 4.0, 2.0, -3.0][i]
    });
    for op in [ReduceOp::Min, ReduceOp::Prod, ReduceOp::L2] {
        let name = op.name();
        // Rows [1, NaN, -2] [3, inf, -1] [-0.5, -inf, 0] [4, 2, -3]: NaN, inf and 0 * inf.
        cases.push(Case::new(
            format!("{name}/f32/nan-inf-rows"),
            reduce(op, Some(vec![1]), false),
            vec![Input::new([4, 3], DType::F32, specials.clone())],
        ));
        cases.push(Case::new(
            format!("{name}/f32/no-axes-is-a-copy"),
            reduce(op, Some(vec![]), true),
            vec![Input::new([3, 5], DType::F32, unit())],
        ));
        cases.push(Case::new(
            format!("{name}/f32/negative-axes"),
            reduce(op, Some(vec![-1, -3]), false),
            vec![Input::new([3, 4, 5], DType::F32, Gen::Uniform { lo: 0.5, hi: 1.5 })],
        ));
        cases.push(Case::new(
            format!("{name}/f32/empty-all-keepdims"),
            reduce(op, None, true),
            vec![Input::new([2, 0, 3], DType::F32, unit())],
        ));
    }
    // Products near 1 over long rows: the error grows with the row.
    cases.push(Case::new(
        "ReduceProd/f32/near-one-long",
        reduce(ReduceOp::Prod, Some(vec![-1]), false),
        vec![Input::new([3, 5000], DType::F32, Gen::SignedRange { lo: 0.99, hi: 1.01 })],
    ));
    // 1e30 * 1e30 overflows f32 on the way; 1e-30 * 1e-30 underflows: the results are finite.
    cases.push(Case::new(
        "ReduceProd/f32/leaves-the-range-midway",
        reduce(ReduceOp::Prod, Some(vec![1]), true),
        vec![Input::new(
            [3, 4],
            DType::F32,
            values(12, |i| [1e30, 1e30, 1e-30, 1e-30, 1e-30, 1e-30, 1e30, 3e30, 1e38, 1e38, -1e-38, 5e-39][i]),
        )],
    ));
    cases.push(Case::new(
        "ReduceProd/f32/overflows",
        reduce(ReduceOp::Prod, None, false),
        vec![Input::new([4], DType::F32, values(4, |i| [1e30, -1e30, 2.0, 0.5][i]))],
    ));
    cases.push(Case::new(
        "ReduceProd/f32/subnormal-factors",
        reduce(ReduceOp::Prod, None, false),
        vec![Input::new([3], DType::F32, values(3, |i| [1e-40, 1e30, 1e20][i]))],
    ));
    // Squares of 1e30 overflow f32 and squares of 1e-30 underflow; the norms do not.
    for (what, scale) in [("huge", 1e30), ("tiny", 1e-30), ("max", 3e38)] {
        cases.push(Case::new(
            format!("ReduceL2/f32/{what}"),
            reduce(ReduceOp::L2, Some(vec![-1]), true),
            vec![Input::new([4, 33], DType::F32, Gen::Uniform { lo: -scale, hi: scale })],
        ));
    }
    cases.push(Case::new(
        "ReduceL2/f32/subnormals",
        reduce(ReduceOp::L2, None, false),
        vec![Input::new([4], DType::F32, values(4, |i| [3e-40, -4e-40, 0.0, 1e-45][i]))],
    ));
    cases
}

fn arg_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let arg = |largest: bool, axis: i64, keepdims: bool, select_last_index: bool| {
        if largest {
            Op::ArgMax { axis, keepdims, select_last_index }
        } else {
            Op::ArgMin { axis, keepdims, select_last_index }
        }
    };
    // Rows: ties at both ends, NaN first and last, +-inf, -0 == 0, all equal.
    let edges = values(6 * 5, |i| {
        [
            [3.0, -1.0, 3.0, 0.5, -1.0],
            [1.0, f64::NAN, 2.0, f64::NAN, -5.0],
            [f64::INFINITY, 1e38, f64::NEG_INFINITY, -1e38, f64::INFINITY],
            [-0.0, 0.0, -0.0, 0.0, -1e-45],
            [7.0, 7.0, 7.0, 7.0, 7.0],
            [f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY, 2.0, f64::NEG_INFINITY],
        ][i / 5][i % 5]
    });
    for largest in [true, false] {
        let name = if largest { "ArgMax" } else { "ArgMin" };
        for last in [false, true] {
            cases.push(Case::new(
                format!("{name}/f32/edges-last{}", last as u8),
                arg(largest, -1, true, last),
                vec![Input::new([6, 5], DType::F32, edges.clone())],
            ));
        }
        for (axis, shape, keepdims) in
            [(0, vec![17, 5], false), (1, vec![4, 6, 5], true), (-3, vec![4, 6, 5], false), (0, vec![1, 4], true)]
        {
            cases.push(Case::new(
                format!("{name}/f32/axis{axis}-{shape:?}-keepdims{}", keepdims as u8),
                arg(largest, axis, keepdims, false),
                vec![Input::new(shape, DType::F32, unit())],
            ));
        }
        cases.push(Case::new(
            format!("{name}/f32/long-row"),
            arg(largest, 1, false, true),
            vec![Input::new([3, 5000], DType::F32, unit())],
        ));
        // f16 and bf16 round many values onto the same one: ties are frequent, and exact.
        for dtype in [DType::F16, DType::BF16] {
            for last in [false, true] {
                cases.push(Case::new(
                    format!("{name}/{dtype}/near-ties-last{}", last as u8),
                    arg(largest, -1, false, last),
                    vec![Input::new([8, 300], dtype, Gen::Uniform { lo: 1.0, hi: 1.05 })],
                ));
            }
        }
    }
    cases
}

fn log_softmax_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let op = |axis| Op::LogSoftmax { axis };
    for len in (0..=5).chain([17, 64, 65, 257, 1000]) {
        cases.push(Case::new(
            format!("LogSoftmax/f32/rows-3x{len}"),
            op(-1),
            vec![Input::new([3, len], DType::F32, Gen::Uniform { lo: -4.0, hi: 4.0 })],
        ));
    }
    for (axis, shape) in [(0, vec![7, 5]), (1, vec![2, 9, 4]), (-2, vec![3, 6, 5])] {
        cases.push(Case::new(
            format!("LogSoftmax/f32/axis{axis}-{shape:?}"),
            op(axis),
            vec![Input::new(shape, DType::F32, Gen::Uniform { lo: -4.0, hi: 4.0 })],
        ));
    }
    // Probabilities that underflow (log of them would be -inf if formed) and large magnitudes.
    for (what, generator) in [
        ("large-1e4", Gen::Uniform { lo: -1e4, hi: 1e4 }),
        ("large-positive", Gen::Uniform { lo: 80.0, hi: 120.0 }),
        ("equal", Gen::Values(vec![3e4; 4 * 33])),
    ] {
        cases.push(Case::new(
            format!("LogSoftmax/f32/{what}"),
            op(-1),
            vec![Input::new([4, 33], DType::F32, generator)],
        ));
    }
    // Masked (-inf) entries give -inf; a row masked everywhere or holding NaN gives NaN.
    cases.push(Case::new(
        "LogSoftmax/f32/masked",
        op(-1),
        vec![Input::new(
            [3, 4],
            DType::F32,
            values(12, |i| {
                let ninf = f64::NEG_INFINITY;
                [1.0, ninf, 2.0, ninf, ninf, ninf, ninf, ninf, 0.5, f64::NAN, 1.0, 2.0][i]
            }),
        )],
    ));
    for dtype in [DType::F16, DType::BF16] {
        cases.push(Case::new(
            format!("LogSoftmax/{dtype}/rows-5x77"),
            op(-1),
            vec![Input::new([5, 77], dtype, Gen::Uniform { lo: -8.0, hi: 8.0 })],
        ));
    }
    cases
}

fn cumsum_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for exclusive in [false, true] {
        for reverse in [false, true] {
            let op = |axis| Op::CumSum { axis, exclusive, reverse };
            let flags = format!("exclusive{}-reverse{}", exclusive as u8, reverse as u8);
            cases.push(Case::new(
                format!("CumSum/f32/{flags}-rows-3x20"),
                op(-1),
                vec![Input::new([3, 20], DType::F32, unit())],
            ));
            cases.push(Case::new(
                format!("CumSum/f32/{flags}-axis0-[7, 5]"),
                op(0),
                vec![Input::new([7, 5], DType::F32, unit())],
            ));
            cases.push(Case::new(
                format!("CumSum/f32/{flags}-middle-[2, 9, 4]"),
                op(-2),
                vec![Input::new([2, 9, 4], DType::F32, unit())],
            ));
        }
    }
    let plain = |axis| Op::CumSum { axis, exclusive: false, reverse: false };
    // Long prefixes: the bound grows with the prefix like a sum's with its row.
    cases.push(Case::new(
        "CumSum/f32/long-row-positive",
        plain(1),
        vec![Input::new([2, 5000], DType::F32, Gen::Uniform { lo: 0.0, hi: 1.0 })],
    ));
    cases.push(Case::new(
        "CumSum/f32/long-row-reverse-exclusive",
        Op::CumSum { axis: 1, exclusive: true, reverse: true },
        vec![Input::new([2, 5000], DType::F32, unit())],
    ));
    cases.push(Case::new("CumSum/f32/empty-axis", plain(1), vec![Input::new([3, 0], DType::F32, unit())]));
    cases.push(Case::new(
        "CumSum/f32/nan-inf",
        plain(0),
        vec![Input::new([6], DType::F32, values(6, |i| [1.0, f64::INFINITY, 2.0, f64::NAN, -1.0, 3.0][i]))],
    ));
    for dtype in [DType::F16, DType::BF16] {
        cases.push(Case::new(
            format!("CumSum/{dtype}/rows-6x300"),
            plain(-1),
            vec![Input::new([6, 300], dtype, unit())],
        ));
    }
    cases
}
