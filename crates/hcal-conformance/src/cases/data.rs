//! Reduction, Transpose and Cast cases.

use hcal_core::{DType, Op, ReduceOp};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    /// (what, input shape, axes).
    type Reduction = (&'static str, Vec<usize>, Option<Vec<i64>>);
    let reductions: [Reduction; 8] = [
        ("all", vec![7, 9], None),
        ("axis0", vec![17, 5], Some(vec![0])),
        ("last", vec![3, 257], Some(vec![-1])),
        ("middle", vec![4, 6, 5], Some(vec![1])),
        ("outer-two", vec![4, 6, 5], Some(vec![0, 2])),
        ("long-row", vec![2, 5000], Some(vec![1])),
        ("empty-axis", vec![3, 0], Some(vec![1])),
        ("rank0", vec![], None),
    ];
    for op in ReduceOp::ALL {
        for (what, shape, axes) in &reductions {
            for keepdims in [true, false] {
                // The max of nothing is -inf and the mean of nothing NaN; both are defined.
                cases.push(Case::new(
                    format!("{}/f32/{what}-keepdims{}", op.name(), keepdims as u8),
                    Op::Reduce { op, axes: axes.clone(), keepdims },
                    vec![Input::new(shape.clone(), DType::F32, Gen::Uniform { lo: -5.0, hi: 5.0 })],
                ));
            }
        }
        cases.push(Case::new(
            format!("{}/f32/positive-long", op.name()),
            Op::Reduce { op, axes: Some(vec![-1]), keepdims: false },
            vec![Input::new([3, 4099], DType::F32, Gen::Uniform { lo: 0.0, hi: 1.0 })],
        ));
        for dtype in [DType::F16, DType::BF16] {
            cases.push(Case::new(
                format!("{}/{dtype}/last", op.name()),
                Op::Reduce { op, axes: Some(vec![-1]), keepdims: true },
                vec![Input::new([6, 300], dtype, unit())],
            ));
        }
    }

    let perms: [(Vec<usize>, Option<Vec<usize>>); 6] = [
        (vec![266, 265], Some(vec![1, 0])),
        (vec![4, 5, 6], None),
        (vec![2, 3, 4, 5], Some(vec![0, 2, 1, 3])),
        (vec![2, 3, 4, 5], Some(vec![3, 1, 0, 2])),
        (vec![7], Some(vec![0])),
        (vec![0, 3], Some(vec![1, 0])),
    ];
    for (shape, perm) in &perms {
        cases.push(Case::new(
            format!(
                "Transpose/f32/{shape:?}-perm{}",
                perm.as_ref().map_or("-default".to_string(), |p| format!("{p:?}"))
            ),
            Op::Transpose { perm: perm.clone() },
            vec![Input::new(shape.clone(), DType::F32, unit())],
        ));
    }
    for (dtype, generator) in [
        (DType::F16, unit()),
        (DType::BF16, unit()),
        (DType::Bool, Gen::Bool { p_true: 0.5 }),
        (DType::I64, Gen::Index { max: 1 << 40 }),
    ] {
        cases.push(Case::new(
            format!("Transpose/{dtype}/[3, 5, 7]-perm[2, 0, 1]"),
            Op::Transpose { perm: Some(vec![2, 0, 1]) },
            vec![Input::new([3, 5, 7], dtype, generator)],
        ));
    }

    // Cast between every pair, from values that exercise rounding and special cases.
    let source = |dtype: DType| match dtype {
        DType::Bool => Gen::Bool { p_true: 0.5 },
        DType::I64 => Gen::Values((0..64).map(|i| (i as f64 - 32.0) * 37.0).collect()),
        _ => Gen::Values(
            (0..64)
                .map(|i| match i {
                    0 => f64::NAN,
                    1 => f64::INFINITY,
                    2 => -0.0,
                    3 => 1.0 + 2f64.powi(-12),
                    4 => 65504.0,
                    5 => 1e-6,
                    _ => ((i as f64) * 0.731).sin() * 10f64.powi(i % 7 - 2),
                })
                .collect(),
        ),
    };
    for from in DType::ALL {
        for to in DType::ALL {
            // Float -> i64 of NaN/inf is undefined in ONNX; use finite values there.
            let generator = if from.is_float() && to == DType::I64 {
                Gen::Uniform { lo: -1000.0, hi: 1000.0 }
            } else {
                source(from)
            };
            cases.push(Case::new(
                format!("Cast/{from}/to-{to}"),
                Op::Cast { to },
                vec![Input::new([64], from, generator)],
            ));
        }
    }
    cases
}
