//! Data-movement cases (issue 18): Concat, Slice, Split, Expand, Reshape,
//! Range and Trilu. These ops move whole elements, so the runner compares
//! their outputs exactly; odd extents put sub-word elements (bool, f16, bf16)
//! of two sources in one 32-bit word, and every dtype is swept.

use hcal_core::{DType, Op, SplitParts};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

/// Every dtype the movement ops take, with a generator whose values fill it.
fn dtypes() -> [(DType, Gen); 5] {
    [
        (DType::F32, unit()),
        (DType::F16, unit()),
        (DType::BF16, unit()),
        (DType::Bool, Gen::Bool { p_true: 0.5 }),
        (DType::I64, Gen::Index { max: 1 << 40 }),
    ]
}

fn input(shape: &[usize], dtype: DType, generator: &Gen) -> Input {
    Input::new(shape.to_vec(), dtype, generator.clone())
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (dtype, g) in dtypes() {
        // ---- Concat ----
        let concats: [(&str, i64, Vec<Vec<usize>>); 6] = [
            ("1d", 0, vec![vec![3], vec![5]]),
            ("rows", 0, vec![vec![2, 3], vec![1, 3], vec![4, 3]]),
            ("odd-last", -1, vec![vec![3, 5], vec![3, 2], vec![3, 1]]),
            ("middle-empty-part", 1, vec![vec![2, 1, 5], vec![2, 0, 5], vec![2, 3, 5]]),
            ("single", 1, vec![vec![3, 7]]),
            ("empty", 0, vec![vec![0, 4], vec![0, 4]]),
        ];
        for (what, axis, shapes) in &concats {
            let inputs = shapes.iter().map(|s| input(s, dtype, &g)).collect();
            cases.push(Case::new(format!("Concat/{dtype}/{what}-axis{axis}"), Op::Concat { axis: *axis }, inputs));
        }

        // ---- Slice ----
        type SliceCase = (&'static str, Vec<usize>, Vec<i64>, Vec<i64>, Option<Vec<i64>>, Option<Vec<i64>>);
        let slices: [SliceCase; 9] = [
            ("basic", vec![5, 7], vec![1, 2], vec![4, 6], None, None),
            ("stepped", vec![9, 6], vec![1], vec![8], Some(vec![0]), Some(vec![3])),
            ("reverse-last", vec![3, 7], vec![-1], vec![i64::MIN], Some(vec![-1]), Some(vec![-1])),
            ("reverse-step2", vec![4, 9], vec![7, 3], vec![0, 0], Some(vec![1, 0]), Some(vec![-2, -1])),
            ("clamped", vec![4, 5], vec![-100, 2], vec![100, i64::MAX], None, None),
            ("start-past-end", vec![4, 5], vec![10], vec![20], Some(vec![1]), None),
            ("empty-backwards", vec![6], vec![1], vec![4], None, Some(vec![-1])),
            ("rank3-negative-axes", vec![3, 4, 5], vec![1, -3], vec![3, -1], Some(vec![-1, -2]), None),
            ("rank0", vec![], vec![], vec![], None, None),
        ];
        for (what, shape, starts, ends, axes, steps) in slices {
            let op = Op::Slice { starts, ends, axes, steps };
            cases.push(Case::new(format!("Slice/{dtype}/{what}"), op, vec![input(&shape, dtype, &g)]));
        }

        // ---- Split ----
        let splits: [(&str, Vec<usize>, i64, SplitParts); 5] = [
            ("sizes", vec![7, 3], 0, SplitParts::Sizes(vec![2, 0, 5])),
            ("odd-last-axis", vec![3, 7], -1, SplitParts::Sizes(vec![3, 1, 3])),
            ("equal", vec![2, 6, 2], 1, SplitParts::Equal(3)),
            ("equal-uneven", vec![7, 3], 0, SplitParts::Equal(3)),
            ("one-part", vec![5], 0, SplitParts::Equal(1)),
        ];
        for (what, shape, axis, parts) in splits {
            let op = Op::Split { axis, parts };
            cases.push(Case::new(format!("Split/{dtype}/{what}"), op, vec![input(&shape, dtype, &g)]));
        }

        // ---- Expand ----
        let expands: [(&str, Vec<usize>, Vec<usize>); 5] = [
            ("from-rank0", vec![], vec![2, 3]),
            ("column", vec![3, 1], vec![2, 3, 5]),
            ("both-ways", vec![1, 5], vec![3, 1]),
            ("same", vec![2, 3], vec![2, 3]),
            ("to-empty", vec![1, 4], vec![0, 4]),
        ];
        for (what, shape, to) in expands {
            cases.push(Case::new(
                format!("Expand/{dtype}/{what}"),
                Op::Expand { shape: to },
                vec![input(&shape, dtype, &g)],
            ));
        }

        // ---- Reshape ----
        let reshapes: [(&str, Vec<usize>, Vec<i64>); 4] = [
            ("infer", vec![2, 3, 5], vec![-1, 5]),
            ("to-rank0", vec![1, 1], vec![]),
            ("unsqueeze-like", vec![7], vec![1, 7, 1]),
            ("empty", vec![0, 3], vec![3, 0]),
        ];
        for (what, shape, to) in reshapes {
            cases.push(Case::new(
                format!("Reshape/{dtype}/{what}"),
                Op::Reshape { shape: to },
                vec![input(&shape, dtype, &g)],
            ));
        }

        // ---- Trilu ----
        let trilus: [(&str, Vec<usize>, bool, i64); 7] = [
            ("upper", vec![5, 7], true, 0),
            ("lower", vec![5, 7], false, 0),
            ("upper-k-2", vec![2, 3, 6, 5], true, -2),
            ("lower-k3", vec![6, 5], false, 3),
            ("upper-k-beyond", vec![4, 3], true, 100),
            ("lower-k-min", vec![4, 3], false, i64::MIN),
            ("empty", vec![0, 3], true, 0),
        ];
        for (what, shape, upper, k) in trilus {
            cases.push(Case::new(
                format!("Trilu/{dtype}/{what}"),
                Op::Trilu { upper, k },
                vec![input(&shape, dtype, &g)],
            ));
        }
    }

    // ---- Range (no inputs: its attributes are its data) ----
    let ranges: [(&str, DType, f64, f64, f64); 7] = [
        ("positive", DType::F32, 1.0, 5.0, 2.0),
        ("negative-delta", DType::F32, 10.0, 6.0, -3.0),
        ("fractional", DType::F32, -1.0, 1.0, 0.1),
        ("empty", DType::F32, 5.0, 1.0, 1.0),
        ("fractional", DType::F16, 0.0, 3.0, 0.3),
        ("fractional", DType::BF16, -2.0, 2.0, 0.25),
        ("long", DType::I64, -1000.0, 1000.0, 7.0),
    ];
    for (what, dtype, start, limit, delta) in ranges {
        cases.push(Case::new(format!("Range/{dtype}/{what}"), Op::Range { start, limit, delta, dtype }, Vec::new()));
    }
    cases.push(Case::new(
        "Range/i64/beyond-2^32".to_string(),
        Op::Range { start: -9e15, limit: 9e15, delta: 3e15, dtype: DType::I64 },
        Vec::new(),
    ));
    cases
}
