//! MatMul and Gemm cases.

use hcal_core::{DType, Gemm, Op};

use super::ranges::{positive, unit};
use crate::case::{Case, Input};

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let matmul = |name: String, a: &[usize], b: &[usize], dtype: DType| {
        Case::new(name, Op::MatMul, vec![Input::new(a, dtype, unit()), Input::new(b, dtype, unit())])
    };
    // Square sweep 0..=20: every size below and around small tile widths.
    for s in 0..=20 {
        cases.push(matmul(format!("MatMul/f32/{s}x{s}x{s}"), &[s, s], &[s, s], DType::F32));
    }
    // Not tile multiples, K = 0, skinny and large-M shapes (M x N x K).
    for (m, n, k) in [
        (17, 257, 33),
        (257, 257, 257),
        (266, 265, 17),
        (5, 7, 0),
        (0, 7, 5),
        (1, 257, 64),
        (64, 1, 257),
        (512, 64, 48),
        (3, 1000, 2),
    ] {
        let case = matmul(format!("MatMul/f32/{m}x{n}x{k}"), &[m, k], &[k, n], DType::F32);
        cases.push(if m * n * k > 1_000_000 { case.slow() } else { case });
    }
    // All-positive operands: the product is as large as the error bound's sum |a b|,
    // so a kernel that loses a few ulps per step cannot hide behind cancellation.
    for (m, n, k) in [(33, 31, 300), (128, 128, 128)] {
        cases.push(Case::new(
            format!("MatMul/f32/positive-{m}x{n}x{k}"),
            Op::MatMul,
            vec![Input::new([m, k], DType::F32, positive()), Input::new([k, n], DType::F32, positive())],
        ));
    }
    // Decode-shaped products: one row against a long K (split over workgroups
    // on devices that split K), also batched.
    cases.push(matmul("MatMul/f32/1x64x4096".to_string(), &[1, 4096], &[4096, 64], DType::F32));
    cases.push(matmul("MatMul/f32/batched-1x33x2500".to_string(), &[3, 1, 2500], &[3, 2500, 33], DType::F32));
    // Numpy rank rules: 1-D operands, batch broadcasting.
    let ranked: [(&str, &[usize], &[usize]); 7] = [
        ("vec-mat", &[9], &[9, 5]),
        ("mat-vec", &[4, 9], &[9]),
        ("vec-vec", &[13], &[13]),
        ("batch", &[3, 5, 6], &[3, 6, 7]),
        ("broadcast-b", &[2, 3, 5, 6], &[6, 7]),
        ("broadcast-both", &[2, 1, 5, 6], &[4, 6, 7]),
        ("batched-vec", &[3, 1, 6], &[6]),
    ];
    for (what, a, b) in ranked {
        cases.push(matmul(format!("MatMul/f32/{what}-{a:?}x{b:?}"), a, b, DType::F32));
    }
    // Half-precision storage (f32 accumulation on devices).
    for dtype in [DType::F16, DType::BF16] {
        for (m, n, k) in [(1, 1, 1), (17, 19, 23), (64, 64, 64), (266, 265, 17)] {
            cases.push(matmul(format!("MatMul/{dtype}/{m}x{n}x{k}"), &[m, k], &[k, n], dtype));
        }
        cases.push(matmul(format!("MatMul/{dtype}/batch-broadcast"), &[2, 1, 5, 6], &[3, 6, 7], dtype));
    }

    // Gemm: transposes, alpha/beta, every C broadcast form.
    let (m, n, k) = (13, 11, 7);
    let c_forms: [(&str, Option<Vec<usize>>); 6] = [
        ("noC", None),
        ("C=[M,N]", Some(vec![m, n])),
        ("C=[N]", Some(vec![n])),
        ("C=[M,1]", Some(vec![m, 1])),
        ("C=[1,1]", Some(vec![1, 1])),
        ("C=[]", Some(vec![])),
    ];
    for (trans_a, trans_b) in [(false, false), (true, false), (false, true), (true, true)] {
        for (c_name, c_shape) in &c_forms {
            let attrs = Gemm { alpha: 0.75, beta: -1.5, trans_a, trans_b };
            let a_shape = if trans_a { [k, m] } else { [m, k] };
            let b_shape = if trans_b { [n, k] } else { [k, n] };
            let mut inputs =
                vec![Some(Input::new(a_shape, DType::F32, unit())), Some(Input::new(b_shape, DType::F32, unit()))];
            if let Some(c) = c_shape {
                inputs.push(Some(Input::new(c.clone(), DType::F32, unit())));
            }
            let name = format!("Gemm/f32/tA{}-tB{}-{c_name}", trans_a as u8, trans_b as u8);
            cases.push(Case::new(name, Op::Gemm(attrs), vec![]).with_optional_inputs(inputs));
        }
    }
    for (m, n, k) in [(0, 4, 3), (4, 3, 0), (257, 33, 65)] {
        let attrs = Gemm { alpha: 2.0, beta: 0.5, trans_a: false, trans_b: true };
        cases.push(Case::new(
            format!("Gemm/f32/{m}x{n}x{k}"),
            Op::Gemm(attrs),
            vec![
                Input::new([m, k], DType::F32, unit()),
                Input::new([n, k], DType::F32, unit()),
                Input::new([n], DType::F32, unit()),
            ],
        ));
    }
    for dtype in [DType::F16, DType::BF16] {
        let attrs = Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true };
        cases.push(Case::new(
            format!("Gemm/{dtype}/tB1-C=[N]"),
            Op::Gemm(attrs),
            vec![
                Input::new([19, 24], dtype, unit()),
                Input::new([21, 24], dtype, unit()),
                Input::new([21], dtype, unit()),
            ],
        ));
    }
    cases
}
