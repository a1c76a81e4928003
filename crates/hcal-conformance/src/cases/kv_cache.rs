//! The in-place KV cache: TensorScatter (linear and circular writes, write
//! positions outside the cache, every element dtype, odd rows of sub-word
//! elements) and Attention over a static cache with `nonpad_kv_seqlen`
//! (decode and prefill, causal frontiers at the valid length, fully masked
//! rows, short masks, lengths outside `[0, T]`), on each attention path;
//! SplitRotaryScatter (decode and prefill, grouped heads, whole and partial
//! rotations in both pairings, positions past the tables and the caches).

use hcal_core::{Attention, DType, Op, ScatterMode, SplitRotaryScatter};

use super::ranges::unit;
use crate::case::{Case, Input};
use crate::generate::Gen;

fn ints(values: &[i64]) -> Gen {
    Gen::Values(values.iter().map(|&v| v as f64).collect())
}

fn data(dtype: DType) -> Gen {
    match dtype {
        DType::Bool => Gen::Bool { p_true: 0.5 },
        DType::I64 => Gen::Index { max: 1 << 40 },
        _ => unit(),
    }
}

pub(super) fn cases() -> Vec<Case> {
    let mut cases = scatter_cases();
    cases.extend(nonpad_cases());
    cases.extend(split_rotary_scatter_cases());
    cases
}

fn scatter_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let scatter = |name: &str, axis: i64, mode: ScatterMode, cache: &[usize], update: &[usize], w: Option<&[i64]>| {
        let dtype = DType::F32;
        let mut inputs = vec![Some(Input::new(cache, dtype, unit())), Some(Input::new(update, dtype, unit()))];
        if let Some(w) = w {
            inputs.push(Some(Input::new([w.len()], DType::I64, ints(w))));
        }
        Case::new(format!("TensorScatter/f32/{name}"), Op::TensorScatter { axis, mode }, vec![])
            .with_optional_inputs(inputs)
    };
    use ScatterMode::{Circular, Linear};
    cases.push(scatter("decode", -2, Linear, &[2, 3, 8, 4], &[2, 3, 1, 4], Some(&[3, 7])));
    cases.push(scatter("prefill-no-indices", -2, Linear, &[2, 3, 8, 4], &[2, 3, 5, 4], None));
    cases.push(scatter("full-update", -2, Linear, &[1, 2, 6, 3], &[1, 2, 6, 3], Some(&[0])));
    cases.push(scatter("circular-wraps", -2, Circular, &[2, 3, 8, 4], &[2, 3, 4, 4], Some(&[6, -1])));
    // ONNX requires w + S <= M in linear mode; positions past the cache are dropped.
    cases.push(scatter("linear-out-of-range-dropped", -2, Linear, &[3, 2, 8, 4], &[3, 2, 4, 4], Some(&[6, 9, -2])));
    cases.push(scatter("axis1-3d", 1, Linear, &[2, 8, 6], &[2, 3, 6], Some(&[5, 0])));
    cases.push(scatter("empty-update", -2, Linear, &[2, 1, 5, 4], &[2, 1, 0, 4], Some(&[1, 2])));
    cases.push(scatter("rank2-last-axis", -1, Circular, &[3, 10], &[3, 4], Some(&[8, 1, 12])));
    cases.push(scatter("long-257", -2, Linear, &[1, 3, 257, 64], &[1, 3, 1, 64], Some(&[256])));
    for dtype in [DType::F16, DType::BF16, DType::Bool, DType::I64] {
        // Rows of 3 sub-word elements: writes start and end mid-word.
        cases.push(
            Case::new(
                format!("TensorScatter/{dtype}/odd-rows-circular"),
                Op::TensorScatter { axis: 1, mode: Circular },
                vec![],
            )
            .with_optional_inputs(vec![
                Some(Input::new([2, 5, 3], dtype, data(dtype))),
                Some(Input::new([2, 2, 3], dtype, data(dtype))),
                Some(Input::new([2], DType::I64, ints(&[1, 4]))),
            ]),
        );
        cases.push(
            Case::new(
                format!("TensorScatter/{dtype}/single-elements"),
                Op::TensorScatter { axis: -1, mode: Linear },
                vec![],
            )
            .with_optional_inputs(vec![
                Some(Input::new([3, 7], dtype, data(dtype))),
                Some(Input::new([3, 1], dtype, data(dtype))),
                Some(Input::new([3], DType::I64, ints(&[0, 3, 6]))),
            ]),
        );
    }
    cases
}

/// One Attention case over a static cache `[B, Hkv, T, D]` with valid
/// lengths `valid` (`nonpad_kv_seqlen`), and optionally a bool mask `[Sq, Tm]`.
struct Static<'a> {
    name: &'a str,
    dtype: DType,
    dims: [usize; 5], // [Hq, Hkv, Sq, T, D]
    valid: &'a [i64],
    causal: bool,
    packed_3d: bool,
    mask_keys: Option<usize>,
}

fn static_case(c: Static<'_>) -> Case {
    let [hq, hkv, sq, t, d] = c.dims;
    let b = c.valid.len();
    let mut attrs = Attention { is_causal: c.causal, ..Attention::default() };
    let (q, k, v) = if c.packed_3d {
        attrs.q_num_heads = Some(hq);
        attrs.kv_num_heads = Some(hkv);
        ([b, sq, hq * d].to_vec(), [b, t, hkv * d].to_vec(), [b, t, hkv * d].to_vec())
    } else {
        ([b, hq, sq, d].to_vec(), [b, hkv, t, d].to_vec(), [b, hkv, t, d].to_vec())
    };
    let mask = c.mask_keys.map(|tm| {
        let pattern = (0..sq * tm).map(|idx| f64::from(u8::from(idx % 5 != 3))).collect();
        Input::new([sq, tm], DType::Bool, Gen::Values(pattern))
    });
    let inputs = vec![
        Some(Input::new(q, c.dtype, unit())),
        Some(Input::new(k, c.dtype, unit())),
        Some(Input::new(v, c.dtype, unit())),
        mask,
        None,
        None,
        Some(Input::new([b], DType::I64, ints(c.valid))),
    ];
    Case::new(format!("Attention/{}/nonpad-{}", c.dtype, c.name), Op::Attention(attrs), vec![])
        .with_optional_inputs(inputs)
        .with_outputs(vec![true, false, false])
}

fn nonpad_cases() -> Vec<Case> {
    let base = Static {
        name: "",
        dtype: DType::F32,
        dims: [4, 2, 1, 16, 8],
        valid: &[5, 16],
        causal: true,
        packed_3d: false,
        mask_keys: None,
    };
    let mut cases = vec![
        static_case(Static { name: "decode-gqa-causal", ..base }),
        static_case(Static { name: "decode-not-causal", causal: false, ..base }),
        static_case(Static { name: "prefill-causal", dims: [2, 2, 4, 16, 8], valid: &[4, 9], ..base }),
        // Fewer valid keys than queries: the leading rows see no key (NaN rows);
        // n = 0 masks everything.
        static_case(Static { name: "negative-offset-and-empty", dims: [2, 1, 4, 12, 8], valid: &[2, 0], ..base }),
        // Lengths outside [0, T] are clamped.
        static_case(Static { name: "lengths-clamped", dims: [2, 2, 3, 10, 4], valid: &[20, -3], ..base }),
        static_case(Static {
            name: "short-bool-mask",
            dims: [2, 2, 3, 16, 8],
            valid: &[7, 10],
            mask_keys: Some(10),
            ..base
        }),
        static_case(Static { name: "packed-3d", dims: [4, 2, 3, 12, 8], valid: &[12, 6], packed_3d: true, ..base }),
        static_case(Static { name: "decode-gqa-causal", dtype: DType::F16, ..base }),
        // Long static caches: the split (decode) and composed (prefill) paths.
        static_case(Static { name: "decode-long-cache", dims: [9, 3, 1, 300, 64], valid: &[37, 300], ..base }),
        // Few keys in a long cache: the split path gives each chunk an equal
        // share of a row's keys, so rows with fewer keys than chunks leave
        // chunks empty (max -inf, sum 0), which its merge must weigh as
        // nothing (8 chunks on a 2-core CPU driver, 64 on a GPU); 0 keys is
        // a fully masked (NaN) row. Decode, prefill rows of one query
        // position each, and f16.
        static_case(Static {
            name: "decode-long-cache-empty-chunks",
            dims: [1, 1, 1, 2048, 64],
            valid: &[5, 40, 1, 0],
            ..base
        }),
        static_case(Static {
            name: "prefill-long-cache-empty-chunks",
            dims: [1, 1, 3, 2048, 64],
            valid: &[5, 2],
            ..base
        }),
        static_case(Static {
            name: "decode-long-cache-empty-chunks",
            dtype: DType::F16,
            dims: [2, 1, 1, 1024, 32],
            valid: &[3, 70],
            ..base
        }),
        static_case(Static { name: "prefill-long-cache", dims: [2, 1, 64, 160, 32], valid: &[100, 64], ..base }),
        static_case(Static {
            name: "prefill-long-not-causal",
            dims: [2, 1, 64, 160, 32],
            valid: &[1, 150],
            causal: false,
            ..base
        }),
    ];
    for c in &mut cases {
        if c.name.contains("long") {
            c.quick = false;
        }
    }
    cases
}

/// SplitRotaryScatter of `qkv [B, S, (Hq + 2 Hkv) D]` into caches
/// `[B, Hkv, M, D]` at `w`, with `[P, R/2]` tables.
fn split_rotary_scatter_cases() -> Vec<Case> {
    let case = |name: &str, attrs: SplitRotaryScatter, [s, d, m, p]: [usize; 4], w: &[i64]| {
        let (b, hq, hkv) = (w.len(), attrs.q_num_heads, attrs.kv_num_heads);
        let half = if attrs.rotary_embedding_dim == 0 { d / 2 } else { attrs.rotary_embedding_dim / 2 };
        let dtype = DType::F32;
        let inputs = vec![
            Input::new([b, s, (hq + 2 * hkv) * d], dtype, unit()),
            Input::new([b, hkv, m, d], dtype, unit()),
            Input::new([b, hkv, m, d], dtype, unit()),
            Input::new([b], DType::I64, ints(w)),
            Input::new([p, half], dtype, unit()),
            Input::new([p, half], dtype, unit()),
        ];
        Case::new(format!("SplitRotaryScatter/f32/{name}"), Op::SplitRotaryScatter(attrs), inputs)
    };
    let smollm2 = SplitRotaryScatter { q_num_heads: 9, kv_num_heads: 3, interleaved: true, rotary_embedding_dim: 0 };
    let halves = SplitRotaryScatter { q_num_heads: 4, kv_num_heads: 2, interleaved: false, rotary_embedding_dim: 4 };
    vec![
        case("decode-gqa-interleaved", smollm2, [1, 64, 40, 40], &[17]),
        case("decode-at-last-position", smollm2, [1, 64, 40, 40], &[39]),
        case("prefill-batch2-partial-halves", halves, [3, 8, 8, 8], &[0, 4]),
        // Positions past the tables rotate to NaN; past the caches (or
        // negative) they write nothing.
        case("positions-past-tables-and-caches", halves, [2, 8, 8, 7], &[6, -1, 7]),
        case(
            "multi-query-whole-head",
            SplitRotaryScatter { q_num_heads: 6, kv_num_heads: 1, interleaved: false, rotary_embedding_dim: 0 },
            [2, 6, 5, 9],
            &[3, 0],
        ),
    ]
}
