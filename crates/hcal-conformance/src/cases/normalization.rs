//! Softmax, LayerNormalization and RMSNormalization cases.

use hcal_core::{DType, Op};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    // Row lengths 0..=20 and beyond tile widths, on the last axis.
    for len in (0..=20).chain([17 * 3, 257, 1000]) {
        cases.push(Case::new(
            format!("Softmax/f32/rows-3x{len}"),
            Op::Softmax { axis: -1 },
            vec![Input::new([3, len], DType::F32, Gen::Uniform { lo: -4.0, hi: 4.0 })],
        ));
    }
    // Other axes: the reduced axis is strided.
    for (axis, shape) in
        [(0, vec![7, 5]), (1, vec![2, 9, 4]), (-2, vec![3, 6, 5]), (0, vec![1, 4]), (2, vec![2, 3, 266])]
    {
        cases.push(Case::new(
            format!("Softmax/f32/axis{axis}-{shape:?}"),
            Op::Softmax { axis },
            vec![Input::new(shape, DType::F32, Gen::Uniform { lo: -4.0, hi: 4.0 })],
        ));
    }
    // Large magnitudes: exp would overflow without subtracting the max.
    for (what, generator) in [
        ("large-1e4", Gen::Uniform { lo: -1e4, hi: 1e4 }),
        ("large-positive", Gen::Uniform { lo: 80.0, hi: 120.0 }),
        ("equal", Gen::Values(vec![3e4; 4 * 33])),
        ("huge-negative", Gen::Uniform { lo: -3e38, hi: -1e38 }),
    ] {
        cases.push(Case::new(
            format!("Softmax/f32/{what}"),
            Op::Softmax { axis: -1 },
            vec![Input::new([4, 33], DType::F32, generator)],
        ));
    }
    for dtype in [DType::F16, DType::BF16] {
        for (axis, shape) in [(-1, vec![5, 77]), (0, vec![9, 6])] {
            cases.push(Case::new(
                format!("Softmax/{dtype}/axis{axis}-{shape:?}"),
                Op::Softmax { axis },
                vec![Input::new(shape, dtype, Gen::Uniform { lo: -8.0, hi: 8.0 })],
            ));
        }
    }

    // LayerNormalization: axis, bias, broadcast scale, epsilon, offset data.
    let layer_norm = |name: String, axis: i64, epsilon: f32, x: Input, scale: Vec<usize>, bias: Option<Vec<usize>>| {
        let dtype = x.desc.dtype;
        let mut inputs = vec![x, Input::new(scale, dtype, Gen::Uniform { lo: 0.5, hi: 1.5 })];
        if let Some(b) = bias {
            inputs.push(Input::new(b, dtype, unit()));
        }
        Case::new(name, Op::LayerNormalization { axis, epsilon }, inputs)
    };
    for len in [1, 2, 7, 20, 64, 257, 1000] {
        let x = Input::new([4, len], DType::F32, Gen::Uniform { lo: -3.0, hi: 3.0 });
        cases.push(layer_norm(format!("LayerNormalization/f32/bias-4x{len}"), -1, 1e-5, x, vec![len], Some(vec![len])));
    }
    cases.push(layer_norm(
        "LayerNormalization/f32/no-bias".to_string(),
        -1,
        1e-5,
        Input::new([6, 48], DType::F32, unit()),
        vec![48],
        None,
    ));
    cases.push(layer_norm(
        "LayerNormalization/f32/axis1-of-3d".to_string(),
        1,
        1e-3,
        Input::new([3, 5, 7], DType::F32, unit()),
        vec![5, 7],
        Some(vec![7]),
    ));
    cases.push(layer_norm(
        "LayerNormalization/f32/axis0-all".to_string(),
        0,
        0.0,
        Input::new([4, 6], DType::F32, unit()),
        vec![1, 6],
        None,
    ));
    cases.push(layer_norm(
        "LayerNormalization/f32/offset-mean-1000".to_string(),
        -1,
        1e-5,
        Input::new([4, 128], DType::F32, Gen::Uniform { lo: 999.0, hi: 1001.0 }),
        vec![128],
        Some(vec![128]),
    ));
    cases.push(layer_norm(
        "LayerNormalization/f32/constant-row".to_string(),
        -1,
        1e-5,
        Input::new([2, 16], DType::F32, Gen::Values(vec![0.25; 32])),
        vec![16],
        Some(vec![16]),
    ));
    cases.push(layer_norm(
        "LayerNormalization/f32/empty".to_string(),
        -1,
        1e-5,
        Input::new([0, 8], DType::F32, unit()),
        vec![8],
        None,
    ));
    for dtype in [DType::F16, DType::BF16] {
        cases.push(layer_norm(
            format!("LayerNormalization/{dtype}/4x96"),
            -1,
            1e-5,
            Input::new([4, 96], dtype, unit()),
            vec![96],
            Some(vec![96]),
        ));
    }

    // RMSNormalization.
    let rms = |name: String, axis: i64, epsilon: f32, x: Input, scale: Vec<usize>| {
        let dtype = x.desc.dtype;
        Case::new(
            name,
            Op::RmsNormalization { axis, epsilon },
            vec![x, Input::new(scale, dtype, Gen::Uniform { lo: 0.5, hi: 1.5 })],
        )
    };
    for len in [1, 3, 17, 64, 257, 4096] {
        let case =
            rms(format!("RMSNormalization/f32/4x{len}"), -1, 1e-6, Input::new([4, len], DType::F32, unit()), vec![len]);
        cases.push(case);
    }
    cases.push(rms(
        "RMSNormalization/f32/axis1-of-3d".to_string(),
        1,
        1e-5,
        Input::new([2, 3, 10], DType::F32, unit()),
        vec![3, 10],
    ));
    cases.push(rms(
        "RMSNormalization/f32/scale-broadcast".to_string(),
        -2,
        1e-5,
        Input::new([2, 3, 10], DType::F32, unit()),
        vec![10],
    ));
    cases.push(rms(
        "RMSNormalization/f32/zeros-eps".to_string(),
        -1,
        1e-5,
        Input::new([2, 8], DType::F32, Gen::Values(vec![0.0; 16])),
        vec![8],
    ));
    for dtype in [DType::F16, DType::BF16] {
        cases.push(rms(
            format!("RMSNormalization/{dtype}/4x128"),
            -1,
            1e-5,
            Input::new([4, 128], dtype, unit()),
            vec![128],
        ));
    }
    cases
}
