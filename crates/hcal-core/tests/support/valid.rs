//! Calls valid by construction: one strategy per op family, [`valid_spec`]
//! over all of them and [`medium_spec`] for the ops whose kernels tile,
//! split or loop.

use hcal_core::{
    Attention, BinaryOp, DType, Gemm, Op, ReduceOp, RmsNormGemm, RotaryEmbedding, SplitParts, SplitRotaryScatter,
    UnaryOp,
};
use proptest::prelude::*;
use proptest::sample::select;

use super::*;

pub fn matmul() -> impl Strategy<Value = Spec> {
    (float_dtype(), broadcast_pair(2), ext(true), ext(true), ext(true), any::<bool>(), any::<bool>()).prop_map(
        |(dt, (ba, bb), m, k, n, a_vec, b_vec)| {
            let a = if a_vec { vec![k] } else { [ba, vec![m, k]].concat() };
            let b = if b_vec { vec![k, n][..1].to_vec() } else { [bb, vec![k, n]].concat() };
            Spec::new(Op::MatMul, vec![d(a, dt), d(b, dt)])
        },
    )
}

pub fn gemm() -> impl Strategy<Value = Spec> {
    (float_dtype(), ext(true), ext(true), ext(true), any::<bool>(), any::<bool>(), -2f32..2.0, -2f32..2.0, 0u8..6)
        .prop_map(|(dt, m, k, n, trans_a, trans_b, alpha, beta, c)| {
            let a = if trans_a { vec![k, m] } else { vec![m, k] };
            let b = if trans_b { vec![n, k] } else { vec![k, n] };
            let c = match c {
                0 => None,
                1 => d(vec![], dt),
                2 => d(vec![n], dt),
                3 => d(vec![1, n], dt),
                4 => d(vec![m, 1], dt),
                _ => d(vec![m, n], dt),
            };
            let op = Op::Gemm(Gemm { alpha, beta, trans_a, trans_b });
            Spec::new(op, vec![d(a, dt), d(b, dt), c])
        })
}

/// RMSNormGemm: A `[M, K]`, Scale `[K]` or `[1]`, B either way round, C absent, a row or whole.
pub fn norm_gemm() -> impl Strategy<Value = Spec> {
    let attrs = (-2f32..2.0, -2f32..2.0, 0f32..1e-2, any::<bool>());
    (float_dtype(), ext(true), ext(true), ext(true), attrs, 0u8..3, any::<bool>()).prop_map(
        |(dt, m, k, n, (alpha, beta, epsilon, trans_b), c, one_scale)| {
            let b = if trans_b { vec![n, k] } else { vec![k, n] };
            let c = match c {
                0 => None,
                1 => d(vec![n], dt),
                _ => d(vec![m, n], dt),
            };
            let scale = if one_scale { vec![1] } else { vec![k] };
            let op = Op::RmsNormGemm(RmsNormGemm { epsilon, alpha, beta, trans_b });
            Spec::new(op, vec![d(vec![m, k], dt), d(scale, dt), d(b, dt), c])
        },
    )
}

pub fn softmax() -> impl Strategy<Value = Spec> {
    (float_dtype(), shape_and_axis(1)).prop_map(|(dt, (s, axis))| Spec::new(Op::Softmax { axis }, vec![d(s, dt)]))
}

pub fn norm() -> impl Strategy<Value = Spec> {
    (float_dtype(), shape_and_axis(1), any::<bool>(), any::<bool>(), 0f32..1e-2)
        .prop_flat_map(|(dt, (s, axis), rms, bias, epsilon)| {
            let r = s.len() as i64;
            let ax = if axis < 0 { axis + r } else { axis } as usize;
            let normalized = s[ax..].to_vec();
            (Just((dt, s, axis, rms, bias, epsilon)), broadcast_to(normalized.clone()), broadcast_to(normalized))
        })
        .prop_map(|((dt, s, axis, rms, bias, epsilon), scale, b)| {
            if rms {
                Spec::new(Op::RmsNormalization { axis, epsilon }, vec![d(s, dt), d(scale, dt)])
            } else {
                let b = if bias { d(b, dt) } else { None };
                Spec::new(Op::LayerNormalization { axis, epsilon }, vec![d(s, dt), d(scale, dt), b])
            }
        })
}

/// Attention: grouped heads, 3-D or 4-D, optional past, bool or float masks
/// of rank 2 to 4 (possibly shorter than T), causal, scale and softcap.
pub fn attention() -> impl Strategy<Value = Spec> {
    let dims = (1usize..3, 1usize..3, 1usize..3, ext(true), ext(true), 1usize..6, 1usize..6);
    let attrs = (any::<bool>(), any::<bool>(), prop::option::of(0.05f32..1.0), prop_oneof![Just(0f32), 1f32..30.0]);
    let extras = (0usize..3, 0u8..3, 2usize..5, any::<bool>(), any::<bool>(), 0usize..3, any::<bool>());
    (float_dtype(), dims, attrs, extras).prop_map(|(dt, dims, attrs, extras)| {
        let (b, hkv, group, sq, skv, hd, vd) = dims;
        let (packed, is_causal, scale, softcap) = attrs;
        let (past, mask_kind, mask_rank, mask_heads, mask_batch, mask_short, presents) = extras;
        let hq = hkv * group;
        let t = past + skv;
        let (q, k, v) = if packed {
            (vec![b, sq, hq * hd], vec![b, skv, hkv * hd], vec![b, skv, hkv * vd])
        } else {
            (vec![b, hq, sq, hd], vec![b, hkv, skv, hd], vec![b, hkv, skv, vd])
        };
        let mask = match mask_kind {
            0 => None,
            kind => {
                let full = [if mask_batch { b } else { 1 }, if mask_heads { hq } else { 1 }, sq, t - mask_short.min(t)];
                d(full[4 - mask_rank..].to_vec(), if kind == 1 { DType::Bool } else { dt })
            }
        };
        let (pk, pv) =
            if past > 0 { (d(vec![b, hkv, past, hd], dt), d(vec![b, hkv, past, vd], dt)) } else { (None, None) };
        let heads = |h| if packed { Some(h) } else { None };
        let op =
            Op::Attention(Attention { is_causal, q_num_heads: heads(hq), kv_num_heads: heads(hkv), scale, softcap });
        let mut spec = Spec::new(op, vec![d(q, dt), d(k, dt), d(v, dt), mask, pk, pv]);
        spec.outputs = vec![true, presents, presents];
        spec
    })
}

pub fn rotary() -> impl Strategy<Value = Spec> {
    let dims = (1usize..3, 1usize..3, ext(true), 1usize..4, 0usize..3);
    (float_dtype(), dims, any::<bool>(), any::<bool>(), prop::option::of(1usize..6)).prop_map(
        |(dt, (b, h, s, half, rot), interleaved, packed, positions)| {
            let hd = 2 * half;
            // 0 means the whole head; else an even part of it.
            let rotary_embedding_dim = if rot == 0 { 0 } else { 2 * rot.min(half) };
            let r_half = if rotary_embedding_dim == 0 { half } else { rotary_embedding_dim / 2 };
            let x = if packed { vec![b, s, h * hd] } else { vec![b, h, s, hd] };
            let (cache, ids) = match positions {
                Some(max_pos) => (vec![max_pos, r_half], d(vec![b, s], DType::I64)),
                None => (vec![b, s, r_half], None),
            };
            let num_heads = if packed { Some(h) } else { None };
            let op = Op::RotaryEmbedding(RotaryEmbedding { interleaved, rotary_embedding_dim, num_heads });
            Spec::new(op, vec![d(x, dt), d(cache.clone(), dt), d(cache, dt), ids])
        },
    )
}

/// SplitRotaryScatter: packed Q/K/V of 1-2 tokens with grouped heads, caches
/// with room to spare, tables of any length (positions past them are data).
pub fn qkv_cache() -> impl Strategy<Value = Spec> {
    let dims = (1usize..3, 1usize..3, 1usize..3, 1usize..3, 1usize..4, 0usize..3, 1usize..6, 0usize..3);
    (float_dtype(), dims, any::<bool>()).prop_map(|(dt, (b, s, hkv, group, half, spare, rows, rot), interleaved)| {
        let (hq, hd) = (hkv * group, 2 * half);
        let rotary_embedding_dim = if rot == 0 { 0 } else { 2 * rot.min(half) };
        let r_half = if rotary_embedding_dim == 0 { half } else { rotary_embedding_dim / 2 };
        let cache = vec![b, hkv, s + spare, hd];
        let attrs = SplitRotaryScatter { q_num_heads: hq, kv_num_heads: hkv, interleaved, rotary_embedding_dim };
        let inputs = vec![
            d(vec![b, s, (hq + 2 * hkv) * hd], dt),
            d(cache.clone(), dt),
            d(cache, dt),
            d(vec![b], DType::I64),
            d(vec![rows, r_half], dt),
            d(vec![rows, r_half], dt),
        ];
        Spec::new(Op::SplitRotaryScatter(attrs), inputs)
    })
}

/// The dtype a unary op takes: bool for Not, else `float`.
pub fn unary_dtype(op: UnaryOp, float: DType) -> DType {
    if op.is_logical() { DType::Bool } else { float }
}

/// The dtype a binary op takes: bool for And and Or, else `float`.
pub fn binary_dtype(op: BinaryOp, float: DType) -> DType {
    if op.is_logical() { DType::Bool } else { float }
}

pub fn elementwise() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (float_dtype(), shape(0..=4), gelu())
            .prop_map(|(dt, s, approximate)| Spec::new(Op::Gelu { approximate }, vec![d(s, dt)])),
        (float_dtype(), shape(0..=4), select(UnaryOp::ALL.to_vec()))
            .prop_map(|(dt, s, u)| Spec::new(Op::Unary(u), vec![d(s, unary_dtype(u, dt))])),
        (
            float_dtype(),
            shape(1..=3),
            select(UnaryOp::ALL.iter().copied().filter(|u| !u.is_logical()).collect::<Vec<_>>())
        )
            .prop_map(|(dt, mut s, activation)| {
                // An even last dim: two halves.
                *s.last_mut().expect("rank >= 1") *= 2;
                Spec::new(Op::GatedUnary { activation }, vec![d(s, dt)])
            }),
        (float_dtype(), broadcast_pair(4), select(BinaryOp::ALL.to_vec())).prop_map(|(dt, (a, b), op)| {
            let dt = binary_dtype(op, dt);
            Spec::new(Op::Binary(op), vec![d(a, dt), d(b, dt)])
        }),
        elementwise_with_attributes(),
    ]
}

/// LeakyRelu, HardSigmoid, Clip (bounds present or not) and Where (three-way broadcasting).
pub fn elementwise_with_attributes() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (float_dtype(), shape(0..=4), -2f32..2.0)
            .prop_map(|(dt, s, alpha)| Spec::new(Op::LeakyRelu { alpha }, vec![d(s, dt)])),
        (float_dtype(), shape(0..=4), -2f32..2.0, -2f32..2.0)
            .prop_map(|(dt, s, alpha, beta)| Spec::new(Op::HardSigmoid { alpha, beta }, vec![d(s, dt)])),
        (float_dtype(), shape(0..=4), any::<bool>(), any::<bool>()).prop_map(|(dt, s, lo, hi)| {
            let bound = |present: bool| if present { d(vec![], dt) } else { None };
            Spec::new(Op::Clip, vec![d(s, dt), bound(lo), bound(hi)])
        }),
        (any_dtype(), broadcast_pair(4), 0u8..3).prop_map(|(dt, (a, b), y)| {
            let y = match y {
                0 => a.clone(),
                1 => b.clone(),
                _ => vec![],
            };
            Spec::new(Op::Where, vec![d(a, DType::Bool), d(b, dt), d(y, dt)])
        }),
    ]
}

pub fn reduce() -> impl Strategy<Value = Spec> {
    (float_dtype(), shape(0..=4), select(ReduceOp::ALL.to_vec()), any::<bool>(), any::<bool>())
        .prop_flat_map(|(dt, s, op, all, keepdims)| {
            let r = s.len();
            let axes = prop::sample::subsequence((0..r).collect::<Vec<_>>(), 0..=r)
                .prop_shuffle()
                .prop_flat_map(move |axes| {
                    let n = axes.len();
                    (Just(axes), prop::collection::vec(any::<bool>(), n))
                })
                .prop_map(move |(axes, negative)| {
                    axes.iter()
                        .zip(negative)
                        .map(|(&a, neg)| if neg { a as i64 - r as i64 } else { a as i64 })
                        .collect()
                });
            (Just((dt, s, op, all, keepdims)), axes)
        })
        .prop_map(|((dt, s, op, all, keepdims), axes): (_, Vec<i64>)| {
            let axes = if all { None } else { Some(axes) };
            Spec::new(Op::Reduce { op, axes, keepdims }, vec![d(s, dt)])
        })
}

pub fn transpose_and_cast() -> impl Strategy<Value = Spec> {
    prop_oneof![
        (any_dtype(), shape(0..=4), any::<bool>())
            .prop_flat_map(|(dt, s, default)| {
                let r = s.len();
                (Just((dt, s, default)), Just((0..r).collect::<Vec<_>>()).prop_shuffle())
            })
            .prop_map(|((dt, s, default), perm)| {
                let perm = if default { None } else { Some(perm) };
                Spec::new(Op::Transpose { perm }, vec![d(s, dt)])
            }),
        (any_dtype(), shape(0..=4), any_dtype()).prop_map(|(dt, s, to)| Spec::new(Op::Cast { to }, vec![d(s, dt)])),
    ]
}

/// ArgMax/ArgMin (on a non-empty axis), LogSoftmax and CumSum.
pub fn along_axis() -> impl Strategy<Value = Spec> {
    (float_dtype(), shape_and_axis(1), 0u8..4, any::<bool>(), any::<bool>()).prop_map(
        |(dt, (mut s, axis), which, flag_a, flag_b)| {
            let op = match which {
                0 | 1 => {
                    let ax = if axis < 0 { axis + s.len() as i64 } else { axis } as usize;
                    s[ax] = s[ax].max(1);
                    let (keepdims, select_last_index) = (flag_a, flag_b);
                    if which == 0 {
                        Op::ArgMax { axis, keepdims, select_last_index }
                    } else {
                        Op::ArgMin { axis, keepdims, select_last_index }
                    }
                }
                2 => Op::LogSoftmax { axis },
                _ => Op::CumSum { axis, exclusive: flag_a, reverse: flag_b },
            };
            Spec::new(op, vec![d(s, dt)])
        },
    )
}
/// Dtypes whose elements the movement ops move (every one but the block-quantized).
pub fn element_dtype() -> impl Strategy<Value = DType> {
    select(DType::ALL.iter().copied().filter(|d| !d.is_quantized()).collect::<Vec<_>>())
}

/// Valid data-movement calls (issue 18): Concat, Slice, Split, Expand,
/// Reshape, Range, Trilu, zero dims and negative axes and steps included.
pub fn movement() -> impl Strategy<Value = Spec> {
    let signed = |a: usize, r: usize, neg: bool| if neg { a as i64 - r as i64 } else { a as i64 };
    prop_oneof![
        (element_dtype(), shape(1..=4), any::<Index>(), prop::collection::vec(ext(true), 1..4), any::<bool>())
            .prop_map(move |(dt, s, ax, lens, neg)| {
                let a = ax.index(s.len());
                let inputs = lens.iter().map(|&l| d([&s[..a], &[l], &s[a + 1..]].concat(), dt)).collect();
                Spec::new(Op::Concat { axis: signed(a, s.len(), neg) }, inputs)
            }),
        (element_dtype(), shape(0..=4), prop::collection::vec((-7i64..7, -7i64..7, -3i64..4), 0..=4)).prop_map(
            |(dt, s, entries)| {
                let entries: Vec<_> = entries.into_iter().take(s.len()).collect();
                let starts = entries.iter().map(|e| e.0).collect();
                let ends = entries.iter().map(|e| e.1).collect();
                let steps = entries.iter().map(|e| if e.2 == 0 { 1 } else { e.2 }).collect();
                Spec::new(Op::Slice { starts, ends, axes: None, steps: Some(steps) }, vec![d(s, dt)])
            }
        ),
        (element_dtype(), shape(1..=4), any::<Index>(), 1usize..4, any::<bool>()).prop_map(
            move |(dt, s, ax, n, neg)| {
                let a = ax.index(s.len());
                // Equal parts need ceil(d / n) * (n - 1) <= d; explicit sizes always work.
                let parts = if s[a].div_ceil(n) * (n - 1) <= s[a] && neg {
                    SplitParts::Equal(n)
                } else {
                    let mut sizes = vec![s[a] / n; n];
                    sizes[0] += s[a] % n;
                    SplitParts::Sizes(sizes)
                };
                Spec::new(Op::Split { axis: signed(a, s.len(), neg), parts }, vec![d(s, dt)])
            }
        ),
        (element_dtype(), shape(0..=3), prop::collection::vec(ext(true), 0..2), any::<u8>()).prop_map(
            |(dt, s, prefix, mask)| {
                // Extent-1 dims of X take any extent; others keep theirs or become 1.
                let tail = s
                    .iter()
                    .enumerate()
                    .map(|(k, &e)| {
                        if e == 1 {
                            (mask as usize >> k) % 4
                        } else if mask >> k & 1 == 1 {
                            1
                        } else {
                            e
                        }
                    })
                    .collect::<Vec<_>>();
                Spec::new(Op::Expand { shape: [prefix, tail].concat() }, vec![d(s, dt)])
            }
        ),
        (element_dtype(), shape(0..=4), any::<bool>()).prop_map(|(dt, s, infer)| {
            let mut to: Vec<i64> = s.iter().rev().map(|&e| e as i64).collect();
            if infer && !s.contains(&0) && !to.is_empty() {
                to[0] = -1;
            }
            Spec::new(Op::Reshape { shape: to }, vec![d(s, dt)])
        }),
        (select(vec![DType::F32, DType::F16, DType::BF16, DType::I64]), -20i64..20, -20i64..20, -4i64..5).prop_map(
            |(dtype, start, limit, delta)| {
                let delta = if delta == 0 { 1.0 } else { delta as f64 };
                Spec::new(Op::Range { start: start as f64, limit: limit as f64, delta, dtype }, vec![])
            }
        ),
        (element_dtype(), shape(2..=4), any::<bool>(), -6i64..6)
            .prop_map(|(dt, s, upper, k)| Spec::new(Op::Trilu { upper, k }, vec![d(s, dt)])),
    ]
}

/// Small calls valid by construction, covering every op of the standard.
pub fn valid_spec() -> impl Strategy<Value = Spec> {
    prop_oneof![
        2 => matmul(),
        1 => gemm(),
        1 => norm_gemm(),
        1 => softmax(),
        2 => norm(),
        3 => attention(),
        2 => rotary(),
        1 => qkv_cache(),
        2 => elementwise(),
        1 => reduce(),
        1 => transpose_and_cast(),
        1 => along_axis(),
        2 => movement(),
    ]
}

/// Valid calls of medium size for the ops whose kernels tile, split or loop
/// (several workgroups, partial tiles, long rows, long key sequences, large
/// head sizes), where the device paths differ from those of tiny shapes.
pub fn medium_spec() -> impl Strategy<Value = Spec> {
    let matmul = (float_dtype(), 0usize..3, 1usize..150, 1usize..150, 1usize..150).prop_map(|(dt, batch, m, k, n)| {
        let batch = vec![2; batch];
        Spec::new(Op::MatMul, vec![d([batch.clone(), vec![m, k]].concat(), dt), d([batch, vec![k, n]].concat(), dt)])
    });
    let gemm = (float_dtype(), 1usize..100, 1usize..100, 1usize..100, any::<bool>(), any::<bool>()).prop_map(
        |(dt, m, k, n, trans_a, trans_b)| {
            let a = if trans_a { vec![k, m] } else { vec![m, k] };
            let b = if trans_b { vec![n, k] } else { vec![k, n] };
            let op = Op::Gemm(Gemm { alpha: 0.5, beta: 2.0, trans_a, trans_b });
            Spec::new(op, vec![d(a, dt), d(b, dt), d(vec![n], dt)])
        },
    );
    let rows = (float_dtype(), 1usize..4, 1usize..700, select(ReduceOp::ALL.to_vec()), 0u8..4).prop_map(
        |(dt, r, c, reduce, which)| {
            let x = vec![r, c];
            match which {
                0 => Spec::new(Op::Softmax { axis: -1 }, vec![d(x, dt)]),
                1 => Spec::new(Op::Reduce { op: reduce, axes: Some(vec![-1]), keepdims: false }, vec![d(x, dt)]),
                2 => Spec::new(Op::LayerNormalization { axis: -1, epsilon: 1e-5 }, vec![d(x, dt), d(vec![c], dt)]),
                _ => Spec::new(Op::Reduce { op: reduce, axes: Some(vec![0]), keepdims: true }, vec![d(x, dt)]),
            }
        },
    );
    let attention =
        (float_dtype(), 1usize..3, 1usize..40, 1usize..40, select(vec![8usize, 16, 32, 64, 80, 128]), any::<bool>())
            .prop_map(|(dt, h, sq, skv, hd, is_causal)| {
                let op = Op::Attention(Attention { is_causal, ..Attention::default() });
                let (q, kv) = (vec![1, h, sq, hd], vec![1, h, skv, hd]);
                let mut spec = Spec::new(op, vec![d(q, dt), d(kv.clone(), dt), d(kv, dt)]);
                spec.outputs = vec![true, false, false];
                spec
            });
    let binary = (float_dtype(), 1usize..64, 1usize..64, select(BinaryOp::ALL.to_vec())).prop_map(|(dt, r, c, op)| {
        let dt = binary_dtype(op, dt);
        Spec::new(Op::Binary(op), vec![d(vec![r, c], dt), d(vec![1, c], dt)])
    });
    prop_oneof![3 => matmul, 1 => gemm, 2 => rows, 2 => attention, 1 => binary]
}
