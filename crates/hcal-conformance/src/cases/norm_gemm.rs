//! RMSNormGemm: a Llama layer's pre-norm projections (SmolLM2's Q/K/V and
//! stacked gate/up products at decode), every quantized dtype through a
//! GEMV with an odd tail and a bias and with N in eights, several rows (a device's per-row
//! normalization, also with alpha and a C per row), rows past the GEMV
//! (devices may run the two steps), an f32 and an f16 B, a broadcast Scale,
//! an empty batch, empty rows (K = 0), and rows of zeros, of small values
//! (where epsilon dominates) and of large values.

use hcal_core::{DType, Op, RmsNormGemm};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

/// Scale as a trained RMSNorm's: positive, around one.
fn scale() -> Gen {
    Gen::Uniform { lo: 0.5, hi: 1.5 }
}

pub(super) fn cases() -> Vec<Case> {
    let weights = RmsNormGemm { epsilon: 1e-5, alpha: 1.0, beta: 0.0, trans_b: true };
    let case = |name: String, attrs: RmsNormGemm, m: usize, k: usize, b: (Vec<usize>, DType), c: Option<Vec<usize>>| {
        let mut inputs = vec![
            Input::new([m, k], DType::F32, unit()),
            Input::new([k], DType::F32, scale()),
            Input::new(b.0, b.1, unit()),
        ];
        inputs.extend(c.map(|c| Input::new(c, DType::F32, unit())));
        Case::new(name, Op::RmsNormGemm(attrs), inputs)
    };
    let mut cases = vec![
        case("RMSNormGemm/q4_1/smollm2-qkv-1x960x576".into(), weights, 1, 576, (vec![960, 576], DType::Q4_1), None),
        case(
            "RMSNormGemm/q4_1/smollm2-gate-up-1x3072x576".into(),
            weights,
            1,
            576,
            (vec![3072, 576], DType::Q4_1),
            None,
        ),
        case("RMSNormGemm/q4_1/rows-3x65x96".into(), weights, 3, 96, (vec![65, 96], DType::Q4_1), None),
        case("RMSNormGemm/q8_0/prefill-13x70x160".into(), weights, 13, 160, (vec![70, 160], DType::Q8_0), None),
        case("RMSNormGemm/q4_0/empty-0x5x64".into(), weights, 0, 64, (vec![5, 64], DType::Q4_0), None),
        // Empty rows (K = 0): Y is beta C.
        case(
            "RMSNormGemm/q4_0/K=0-C-2x5x0".into(),
            RmsNormGemm { beta: 0.5, ..weights },
            2,
            0,
            (vec![5, 0], DType::Q4_0),
            Some(vec![2, 5]),
        ),
        // Several rows through the GEMV with alpha and a C per row.
        case(
            "RMSNormGemm/q8_0/rows-alpha-C=[M,N]-3x37x64".into(),
            RmsNormGemm { epsilon: 1e-6, alpha: -1.5, beta: 2.0, trans_b: true },
            3,
            64,
            (vec![37, 64], DType::Q8_0),
            Some(vec![3, 37]),
        ),
        case(
            "RMSNormGemm/f32/B-[K,N]-C-3x7x40".into(),
            RmsNormGemm { epsilon: 1e-6, alpha: 1.0, beta: 1.0, trans_b: false },
            3,
            40,
            (vec![40, 7], DType::F32),
            Some(vec![3, 7]),
        ),
    ];
    for q in DType::QUANTIZED {
        cases.push(case(
            format!("RMSNormGemm/{q}/gemv-alpha-C=[N]-1x67x224"),
            RmsNormGemm { epsilon: 1e-5, alpha: 0.5, beta: 1.0, trans_b: true },
            1,
            224,
            (vec![67, 224], q),
            Some(vec![67]),
        ));
        // N in eights: on CPU drivers the normalizing GEMV over a texture in
        // the split form (block_layout.rs) for every quantized dtype.
        cases.push(case(format!("RMSNormGemm/{q}/gemv-4cols-1x40x64"), weights, 1, 64, (vec![40, 64], q), None));
    }
    cases.push(Case::new(
        "RMSNormGemm/f16/2x16x64",
        Op::RmsNormGemm(RmsNormGemm { trans_b: false, ..weights }),
        vec![
            Input::new([2, 64], DType::F16, unit()),
            Input::new([64], DType::F16, scale()),
            Input::new([64, 16], DType::F16, unit()),
        ],
    ));
    cases.push(Case::new(
        "RMSNormGemm/q4_0/scale-[1]-1x33x64",
        Op::RmsNormGemm(weights),
        vec![
            Input::new([1, 64], DType::F32, unit()),
            Input::new([1], DType::F32, scale()),
            Input::new([33, 64], DType::Q4_0, unit()),
        ],
    ));
    // Row 0 all zeros (normalized to zeros by epsilon), row 1 large.
    cases.push(ramp_rows("RMSNormGemm/q4_1/zero-and-large-rows-2x9x64", weights, &[0.0, 1e4], DType::Q4_1));
    // f32 B (the two steps on every device): row 0 zeros, row 1 small
    // (mean square 1.4e-7, so epsilon 1e-5 dominates it: a device that drops
    // or misplaces epsilon fails here), row 2 large.
    cases.push(ramp_rows("RMSNormGemm/f32/zero-small-and-large-rows-3x9x64", weights, &[0.0, 2e-5, 1e4], DType::F32));
    cases
}

/// A case of A `[rows, 64]` whose row `i` is the ramp `slopes[i] (j - 31.5)`
/// (all zeros for a slope of 0), times B `[9, 64]` of `b`.
fn ramp_rows(name: &str, attrs: RmsNormGemm, slopes: &[f64], b: DType) -> Case {
    let ramp = |slope: f64| (0..64).map(move |j| if slope == 0.0 { 0.0 } else { slope * (j as f64 - 31.5) });
    let rows: Vec<f64> = slopes.iter().flat_map(|&slope| ramp(slope)).collect();
    Case::new(
        name,
        Op::RmsNormGemm(attrs),
        vec![
            Input::new([slopes.len(), 64], DType::F32, Gen::Values(rows)),
            Input::new([64], DType::F32, scale()),
            Input::new([9, 64], b, unit()),
        ],
    )
}
