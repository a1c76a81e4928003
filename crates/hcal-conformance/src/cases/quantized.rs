//! Block-quantized weights (Q4_0, Q4_1, Q8_0) as B of MatMul and Gemm, and
//! Cast dequantizing them: the op on the dequantized values
//! (`hcal_core::quant`). Blocks run along the last dim, so with Gemm's
//! `transB` they run along K (GGML's weight layout) and with MatMul along N.

use hcal_core::{DType, Gemm, Op};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let weights_t = Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: true };
    for q in DType::QUANTIZED {
        // Decode (one row), an odd N, K of two blocks.
        cases.push(Case::new(
            format!("Gemm/{q}/weights-1x33x64"),
            Op::Gemm(weights_t),
            vec![Input::new([1, 64], DType::F32, unit()), Input::new([33, 64], q, unit())],
        ));
        // Prefill-like, alpha and a bias row.
        cases.push(Case::new(
            format!("Gemm/{q}/weights-7x5x96-alpha-C=[N]"),
            Op::Gemm(Gemm { alpha: 0.5, beta: 1.0, ..weights_t }),
            vec![
                Input::new([7, 96], DType::F32, unit()),
                Input::new([5, 96], q, unit()),
                Input::new([5], DType::F32, unit()),
            ],
        ));
        // Device kernel shapes: a decode GEMV over two workgroups of 64
        // columns with an odd tail and an odd count of blocks per row (rows
        // of 18- and 34-byte blocks start on alternating halfwords), and a
        // prefill past one tile of 8 rows with a ragged last tile.
        cases.push(Case::new(
            format!("Gemm/{q}/gemv-1x67x224"),
            Op::Gemm(weights_t),
            vec![Input::new([1, 224], DType::F32, unit()), Input::new([67, 224], q, unit())],
        ));
        cases.push(Case::new(
            format!("Gemm/{q}/rows-13x70x160"),
            Op::Gemm(weights_t),
            vec![Input::new([13, 160], DType::F32, unit()), Input::new([70, 160], q, unit())],
        ));
        cases.push(Case::new(
            format!("Gemm/{q}/weights-64x64x256"),
            Op::Gemm(weights_t),
            vec![Input::new([64, 256], DType::F32, unit()), Input::new([64, 256], q, unit())],
        ));
        // N in fours, two groups of 32 rows and a short one of 4, three
        // blocks per row: on CPU drivers the 4-column GEMV over a Q4_1
        // texture in the split form (block_layout.rs; Q4_0 and Q8_0 need N
        // in eights, the next case); alpha and a bias row.
        cases.push(Case::new(
            format!("Gemm/{q}/gemv-4cols-1x68x96-alpha-C=[N]"),
            Op::Gemm(Gemm { alpha: 0.5, beta: 1.0, ..weights_t }),
            vec![
                Input::new([1, 96], DType::F32, unit()),
                Input::new([68, 96], q, unit()),
                Input::new([68], DType::F32, unit()),
            ],
        ));
        // N in eights: a group of 32 rows and one of 8, in the split form
        // for every quantized dtype.
        cases.push(Case::new(
            format!("Gemm/{q}/gemv-4cols-1x40x64"),
            Op::Gemm(weights_t),
            vec![Input::new([1, 64], DType::F32, unit()), Input::new([40, 64], q, unit())],
        ));
        // MatMul's B [K, N] in blocks along N: K in eights (a split texture
        // read element by element).
        cases.push(Case::new(
            format!("MatMul/{q}/weights-2x64x16"),
            Op::MatMul,
            vec![Input::new([2, 16], DType::F32, unit()), Input::new([16, 64], q, unit())],
        ));
        // MatMul's B [K, N] in blocks along N; an f16 A.
        cases.push(Case::new(
            format!("MatMul/{q}/weights-3x64x17"),
            Op::MatMul,
            vec![Input::new([3, 17], DType::F32, unit()), Input::new([17, 64], q, unit())],
        ));
        cases.push(Case::new(
            format!("MatMul/{q}/weights-f16-4x32x32"),
            Op::MatMul,
            vec![Input::new([4, 32], DType::F16, unit()), Input::new([32, 32], q, unit())],
        ));
        for to in [DType::F32, DType::F16] {
            cases.push(Case::new(format!("Cast/{q}/to-{to}"), Op::Cast { to }, vec![Input::new([3, 64], q, unit())]));
        }
        // Rows in eights: a split texture dequantized.
        cases.push(Case::new(
            format!("Cast/{q}/rows-in-eights-8x64"),
            Op::Cast { to: DType::F32 },
            vec![Input::new([8, 64], q, unit())],
        ));
    }
    // Q4_0's scale is v / -8 for the value v of largest magnitude: mostly
    // positive data gives negative scales.
    cases.push(Case::new(
        "Gemm/q4_0/negative-scales".to_string(),
        Op::Gemm(weights_t),
        vec![
            Input::new([3, 64], DType::F32, unit()),
            Input::new([9, 64], DType::Q4_0, Gen::Uniform { lo: -0.2, hi: 1.0 }),
        ],
    ));
    // The same through the decode GEMV (one row, C as a bias).
    cases.push(Case::new(
        "Gemm/q4_0/negative-scales-gemv-C=[N]".to_string(),
        Op::Gemm(Gemm { beta: 1.0, ..weights_t }),
        vec![
            Input::new([1, 96], DType::F32, unit()),
            Input::new([65, 96], DType::Q4_0, Gen::Uniform { lo: -0.2, hi: 1.0 }),
            Input::new([65], DType::F32, unit()),
        ],
    ));
    // Q4_1 blocks of one repeated value: d = 0, every element is the minimum m.
    let constant_blocks: Vec<f64> = (0..9 * 64).map(|i| ((i / 32) as f64 - 4.0) * 0.125).collect();
    cases.push(Case::new(
        "Gemm/q4_1/min-only-blocks".to_string(),
        Op::Gemm(weights_t),
        vec![Input::new([3, 64], DType::F32, unit()), Input::new([9, 64], DType::Q4_1, Gen::Values(constant_blocks))],
    ));
    cases
}
