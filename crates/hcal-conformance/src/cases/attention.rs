//! Attention and RotaryEmbedding cases.

use hcal_core::{Attention, DType, Op, RotaryEmbedding};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

/// Shape of one attention problem.
#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    hq: usize,
    hkv: usize,
    sq: usize,
    skv: usize,
    d: usize,
    dv: usize,
    past: usize,
}

const fn dims(b: usize, hq: usize, hkv: usize, sq: usize, skv: usize, d: usize) -> Dims {
    Dims { b, hq, hkv, sq, skv, d, dv: d, past: 0 }
}

/// Options of one attention case beyond its dims.
#[derive(Clone, Default)]
struct Extra {
    attrs: Attention,
    packed_3d: bool,
    mask: Option<Input>,
    qk_range: Option<f64>,
    present_outputs: bool,
}

fn attention_case(name: String, dtype: DType, d: Dims, extra: Extra) -> Case {
    let Extra { mut attrs, packed_3d, mask, qk_range, present_outputs } = extra;
    let qk = match qk_range {
        Some(r) => Gen::Uniform { lo: -r, hi: r },
        None => unit(),
    };
    let (q, k, v) = if packed_3d {
        attrs.q_num_heads = Some(d.hq);
        attrs.kv_num_heads = Some(d.hkv);
        (
            Input::new([d.b, d.sq, d.hq * d.d], dtype, qk.clone()),
            Input::new([d.b, d.skv, d.hkv * d.d], dtype, qk),
            Input::new([d.b, d.skv, d.hkv * d.dv], dtype, unit()),
        )
    } else {
        (
            Input::new([d.b, d.hq, d.sq, d.d], dtype, qk.clone()),
            Input::new([d.b, d.hkv, d.skv, d.d], dtype, qk),
            Input::new([d.b, d.hkv, d.skv, d.dv], dtype, unit()),
        )
    };
    let mut inputs = vec![Some(q), Some(k), Some(v), mask];
    if d.past > 0 {
        inputs.push(Some(Input::new([d.b, d.hkv, d.past, d.d], dtype, unit())));
        inputs.push(Some(Input::new([d.b, d.hkv, d.past, d.dv], dtype, unit())));
    }
    while inputs.last().is_some_and(Option::is_none) {
        inputs.pop();
    }
    let want_present = present_outputs || d.past > 0;
    let case = Case::new(name, Op::Attention(attrs), vec![]).with_optional_inputs(inputs).with_outputs(vec![
        true,
        want_present,
        want_present,
    ]);
    let work = d.b * d.hq * d.sq * (d.skv + d.past) * (d.d + d.dv);
    if work > 4_000_000 { case.slow() } else { case }
}

/// A bool mask `[rows, cols]` with a fixed pattern, and `masked_rows` all false.
fn bool_mask(rows: usize, cols: usize, masked_rows: &[usize]) -> Gen {
    Gen::Values(
        (0..rows * cols)
            .map(|idx| {
                let (i, j) = (idx / cols, idx % cols);
                f64::from(u8::from(!masked_rows.contains(&i) && (i * 7 + j * 3) % 5 != 0))
            })
            .collect(),
    )
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let plain = Extra::default;
    let causal = || Extra { attrs: Attention { is_causal: true, ..Attention::default() }, ..Extra::default() };
    let f32 = DType::F32;

    cases.push(attention_case("Attention/f32/4d-basic".to_string(), f32, dims(2, 3, 3, 4, 6, 8), plain()));
    cases.push(attention_case(
        "Attention/f32/4d-diff-head-sizes".to_string(),
        f32,
        Dims { dv: 10, ..dims(2, 3, 3, 4, 6, 8) },
        plain(),
    ));
    // Head dims that are not powers of two (and 1).
    for d in [1, 3, 17, 65, 128] {
        cases.push(attention_case(format!("Attention/f32/head-dim-{d}"), f32, dims(1, 2, 2, 9, 11, d), plain()));
    }
    // Sq != Skv both ways; decode (Sq = 1) over a long cache.
    cases.push(attention_case("Attention/f32/sq-gt-skv".to_string(), f32, dims(1, 2, 2, 13, 5, 16), plain()));
    cases.push(attention_case("Attention/f32/decode-sq1-skv257".to_string(), f32, dims(2, 4, 4, 1, 257, 32), plain()));
    cases.push(attention_case(
        "Attention/f32/decode-sq1-skv4100".to_string(),
        f32,
        dims(1, 2, 1, 1, 4100, 16),
        plain(),
    ));
    cases.push(attention_case("Attention/f32/prefill-s257".to_string(), f32, dims(1, 2, 2, 257, 257, 64), causal()));
    // Grouped-query ratios.
    for hkv in [8, 4, 2, 1] {
        cases.push(attention_case(format!("Attention/f32/gqa-8to{hkv}"), f32, dims(1, 8, hkv, 6, 10, 16), plain()));
        cases.push(attention_case(
            format!("Attention/f32/gqa-8to{hkv}-causal"),
            f32,
            dims(1, 8, hkv, 10, 10, 16),
            causal(),
        ));
    }
    // Causal: square, more queries than keys, fewer queries than keys, with past.
    for (sq, skv) in [(33, 33), (7, 3), (3, 12)] {
        cases.push(attention_case(
            format!("Attention/f32/causal-{sq}x{skv}"),
            f32,
            dims(2, 2, 2, sq, skv, 8),
            causal(),
        ));
    }
    cases.push(attention_case(
        "Attention/f32/causal-with-past".to_string(),
        f32,
        Dims { past: 7, ..dims(1, 4, 2, 5, 5, 16) },
        causal(),
    ));
    // Head sizes 64 and 128 (the tiled kernels' shapes): key counts that are
    // not whole blocks of 64, causal with past keys and more queries than
    // keys, grouped heads, 3-D inputs with softcap, a scale.
    cases.push(attention_case(
        "Attention/f32/d64-gqa-causal-past".to_string(),
        f32,
        Dims { past: 30, ..dims(2, 4, 2, 70, 45, 64) },
        causal(),
    ));
    cases.push(attention_case(
        "Attention/f32/d64-3d-softcap".to_string(),
        f32,
        dims(1, 4, 1, 33, 130, 64),
        Extra {
            attrs: Attention { softcap: 2.5, scale: Some(0.3), ..Attention::default() },
            packed_3d: true,
            qk_range: Some(3.0),
            ..Extra::default()
        },
    ));
    cases.push(attention_case(
        "Attention/f32/d128-causal-sq-gt-skv".to_string(),
        f32,
        dims(1, 2, 2, 40, 9, 128),
        causal(),
    ));
    // Query/key head sizes other than V's: the tiled kernel holds a query row
    // in chunks of 8 and picks one per step, so a size that is not a multiple
    // of 32 (40), and sizes of 32 and 96, cover each count of chunks.
    for (d, dv, extra) in [(40, 64, causal()), (32, 64, plain()), (96, 128, causal())] {
        cases.push(attention_case(
            format!("Attention/f32/d{d}-dv{dv}"),
            f32,
            Dims { dv, past: 5, ..dims(1, 4, 2, 21, 70, d) },
            extra,
        ));
    }
    // More keys than a 16384-texel texture is high: the tiled kernel folds
    // V's rows into texture layers on such devices (lavapipe).
    cases.push(attention_case("Attention/f32/d64-keys-16400".to_string(), f32, dims(1, 4, 2, 9, 16400, 64), plain()));
    cases.push(attention_case(
        "Attention/f32/d64-bool-mask-fully-masked-rows".to_string(),
        f32,
        dims(1, 2, 2, 20, 70, 64),
        Extra { mask: Some(Input::new([20, 70], DType::Bool, bool_mask(20, 70, &[3, 11]))), ..Extra::default() },
    ));
    cases.push(attention_case(
        "Attention/f32/d64-float-mask-b1-gqa-causal".to_string(),
        f32,
        dims(2, 4, 2, 17, 40, 64),
        Extra {
            attrs: Attention { is_causal: true, ..Attention::default() },
            mask: Some(Input::new([2, 1, 17, 40], f32, Gen::Uniform { lo: -3.0, hi: 3.0 })),
            ..Extra::default()
        },
    ));
    // Masks: bool and float, every broadcast form, short masks, fully masked rows.
    let (b, hq, sq, skv) = (2, 4, 6, 9);
    let mask_forms: [(&str, Vec<usize>); 4] = [
        ("2d", vec![sq, skv]),
        ("b1", vec![b, 1, sq, skv]),
        ("1h", vec![1, hq, sq, skv]),
        ("full", vec![b, hq, sq, skv]),
    ];
    for (form, shape) in &mask_forms {
        let rows = shape[..shape.len() - 1].iter().product();
        let bool_in = Input::new(shape.clone(), DType::Bool, bool_mask(rows, skv, &[]));
        cases.push(attention_case(
            format!("Attention/f32/bool-mask-{form}"),
            f32,
            dims(b, hq, 2, sq, skv, 8),
            Extra { mask: Some(bool_in), ..Extra::default() },
        ));
        let float_in = Input::new(shape.clone(), f32, Gen::Uniform { lo: -3.0, hi: 3.0 });
        cases.push(attention_case(
            format!("Attention/f32/float-mask-{form}"),
            f32,
            dims(b, hq, 2, sq, skv, 8),
            Extra { mask: Some(float_in), ..Extra::default() },
        ));
    }
    cases.push(attention_case(
        "Attention/f32/bool-mask-shorter-than-keys".to_string(),
        f32,
        dims(1, 2, 2, 4, 9, 8),
        Extra { mask: Some(Input::new([4, 6], DType::Bool, bool_mask(4, 6, &[]))), ..Extra::default() },
    ));
    cases.push(attention_case(
        "Attention/f32/fully-masked-rows-bool".to_string(),
        f32,
        dims(1, 2, 2, 5, 7, 8),
        Extra { mask: Some(Input::new([5, 7], DType::Bool, bool_mask(5, 7, &[1, 4]))), ..Extra::default() },
    ));
    let mut minus_inf = vec![0.5; 5 * 7];
    minus_inf[2 * 7..3 * 7].fill(f64::NEG_INFINITY);
    minus_inf[3] = f64::NEG_INFINITY;
    cases.push(attention_case(
        "Attention/f32/fully-masked-row-float".to_string(),
        f32,
        dims(1, 2, 2, 5, 7, 8),
        Extra { mask: Some(Input::new([5, 7], f32, Gen::Values(minus_inf))), ..Extra::default() },
    ));
    cases.push(attention_case(
        "Attention/f32/causal-and-bool-mask".to_string(),
        f32,
        dims(1, 2, 1, 8, 8, 8),
        Extra { mask: Some(Input::new([8, 8], DType::Bool, bool_mask(8, 8, &[]))), ..causal() },
    ));
    // Scale, softcap, large scores.
    cases.push(attention_case(
        "Attention/f32/scale-0.1".to_string(),
        f32,
        dims(1, 2, 2, 5, 8, 16),
        Extra { attrs: Attention { scale: Some(0.1), ..Attention::default() }, ..Extra::default() },
    ));
    cases.push(attention_case(
        "Attention/f32/softcap-2".to_string(),
        f32,
        dims(1, 2, 2, 5, 8, 16),
        Extra { attrs: Attention { softcap: 2.0, ..Attention::default() }, qk_range: Some(2.0), ..Extra::default() },
    ));
    cases.push(attention_case(
        "Attention/f32/softcap-causal-mask".to_string(),
        f32,
        dims(1, 2, 2, 6, 6, 16),
        Extra {
            attrs: Attention { softcap: 5.0, is_causal: true, ..Attention::default() },
            mask: Some(Input::new([6, 6], f32, Gen::Uniform { lo: -1.0, hi: 1.0 })),
            qk_range: Some(2.0),
            ..Extra::default()
        },
    ));
    cases.push(attention_case(
        "Attention/f32/large-scores".to_string(),
        f32,
        dims(1, 2, 2, 8, 8, 16),
        Extra { qk_range: Some(30.0), ..Extra::default() },
    ));
    // 3-D packed inputs, with GQA, causal and past.
    cases.push(attention_case(
        "Attention/f32/3d".to_string(),
        f32,
        dims(2, 3, 3, 4, 6, 8),
        Extra { packed_3d: true, ..plain() },
    ));
    cases.push(attention_case(
        "Attention/f32/3d-gqa-causal".to_string(),
        f32,
        dims(1, 6, 2, 7, 7, 8),
        Extra { packed_3d: true, ..causal() },
    ));
    cases.push(attention_case(
        "Attention/f32/3d-past".to_string(),
        f32,
        Dims { past: 5, ..dims(1, 4, 2, 3, 3, 8) },
        Extra { packed_3d: true, ..plain() },
    ));
    // KV cache: decode step, prefill with past, present without past.
    cases.push(attention_case(
        "Attention/f32/past-decode".to_string(),
        f32,
        Dims { past: 31, ..dims(2, 4, 4, 1, 1, 16) },
        causal(),
    ));
    cases.push(attention_case(
        "Attention/f32/past-gqa".to_string(),
        f32,
        Dims { past: 9, ..dims(1, 8, 2, 4, 4, 32) },
        plain(),
    ));
    cases.push(attention_case(
        "Attention/f32/present-without-past".to_string(),
        f32,
        dims(1, 2, 2, 3, 5, 8),
        Extra { present_outputs: true, ..plain() },
    ));
    cases.push(attention_case("Attention/f32/empty-batch".to_string(), f32, dims(0, 2, 2, 3, 5, 8), plain()));
    // Half-precision storage.
    for dtype in [DType::F16, DType::BF16] {
        cases.push(attention_case(format!("Attention/{dtype}/4d-gqa"), dtype, dims(1, 4, 2, 9, 17, 64), plain()));
        cases.push(attention_case(
            format!("Attention/{dtype}/causal-past"),
            dtype,
            Dims { past: 6, ..dims(1, 2, 2, 5, 5, 32) },
            causal(),
        ));
    }

    cases.extend(rotary_cases());
    cases
}

fn rotary_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let caches = |rows: Vec<usize>, dtype: DType| {
        // Real angles: cos^2 + sin^2 = 1 is not assumed by the op, but real models have it.
        [
            Input::new(rows.clone(), dtype, Gen::Uniform { lo: -1.0, hi: 1.0 }),
            Input::new(rows, dtype, Gen::Uniform { lo: -1.0, hi: 1.0 }),
        ]
    };
    for interleaved in [false, true] {
        for (what, attrs, x_shape, half, packed) in [
            ("4d", RotaryEmbedding { interleaved, ..Default::default() }, vec![2, 3, 5, 8], 4, false),
            (
                "4d-partial",
                RotaryEmbedding { interleaved, rotary_embedding_dim: 4, ..Default::default() },
                vec![1, 2, 4, 10],
                2,
                false,
            ),
            ("3d", RotaryEmbedding { interleaved, num_heads: Some(4), ..Default::default() }, vec![2, 3, 24], 3, true),
        ] {
            let (b, s) = if packed { (x_shape[0], x_shape[1]) } else { (x_shape[0], x_shape[2]) };
            let [cos, sin] = caches(vec![b, s, half], DType::F32);
            cases.push(Case::new(
                format!("RotaryEmbedding/f32/{what}-interleaved{}", interleaved as u8),
                Op::RotaryEmbedding(attrs),
                vec![Input::new(x_shape, DType::F32, unit()), cos, sin],
            ));
            // The same with position ids into a longer cache.
            let [cos, sin] = caches(vec![32, half], DType::F32);
            let ids = Input::new([b, s], DType::I64, Gen::Index { max: 32 });
            let x =
                Input::new(if packed { vec![b, s, 4 * 2 * half] } else { vec![b, 2, s, 2 * half] }, DType::F32, unit());
            cases.push(Case::new(
                format!("RotaryEmbedding/f32/{what}-position-ids-interleaved{}", interleaved as u8),
                Op::RotaryEmbedding(attrs),
                vec![x, cos, sin, ids],
            ));
        }
    }
    for dtype in [DType::F16, DType::BF16] {
        let [cos, sin] = caches(vec![64, 32], dtype);
        cases.push(Case::new(
            format!("RotaryEmbedding/{dtype}/4d-position-ids"),
            Op::RotaryEmbedding(RotaryEmbedding::default()),
            vec![
                Input::new([1, 4, 9, 64], dtype, unit()),
                cos,
                sin,
                Input::new([1, 9], DType::I64, Gen::Index { max: 64 }),
            ],
        ));
    }
    cases
}
