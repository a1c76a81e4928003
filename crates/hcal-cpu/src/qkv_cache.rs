//! SplitRotaryScatter: the op's definition run step by step (split, rotate
//! as RotaryEmbedding does, transpose, scatter as TensorScatter does).

use hcal_core::QkvCacheGeometry;

use crate::rotary::rotary_embedding;

/// `q_out [B, Hq, S, D]`, and the caches with this step's keys and values
/// written at `w_b + s` (positions outside `[0, M)` dropped), from `qkv
/// [B, S, (Hq + 2 Hkv) D]`. `k_cache` and `v_cache` are updated in place.
pub fn split_rotary_scatter(
    g: &QkvCacheGeometry,
    interleaved: bool,
    qkv: &[f64],
    tables: [&[f64]; 2],
    write_indices: &[i64],
    k_cache: &mut [f64],
    v_cache: &mut [f64],
) -> Vec<f64> {
    let (d, width) = (g.head_dim, g.packed_width());
    let qk_heads = g.q_heads + g.kv_heads;
    // Split: the query and key heads of every token, packed as one
    // `[B, S, (Hq + Hkv) D]` RotaryEmbedding input, and the value heads.
    let mut qk = Vec::with_capacity(g.batch * g.seq * qk_heads * d);
    for token in qkv.chunks_exact(width.max(1)).take(g.batch * g.seq) {
        qk.extend_from_slice(&token[..qk_heads * d]);
    }
    let positions: Vec<i64> =
        (0..g.batch).flat_map(|b| (0..g.seq).map(move |s| write_indices[b].saturating_add(s as i64))).collect();
    let rotated = rotary_embedding(&g.rotary(), interleaved, &qk, tables[0], tables[1], Some(&positions));
    let mut q_out = vec![0.0; g.batch * g.q_heads * g.seq * d];
    for b in 0..g.batch {
        for s in 0..g.seq {
            let token = (b * g.seq + s) * qk_heads * d;
            for h in 0..g.q_heads {
                let at = ((b * g.q_heads + h) * g.seq + s) * d;
                q_out[at..at + d].copy_from_slice(&rotated[token + h * d..token + (h + 1) * d]);
            }
            // TensorScatter, linear: a position outside the cache is dropped.
            let Some(p) = usize::try_from(positions[b * g.seq + s]).ok().filter(|&p| p < g.cache_len) else {
                continue;
            };
            for h in 0..g.kv_heads {
                let at = ((b * g.kv_heads + h) * g.cache_len + p) * d;
                let k = token + (g.q_heads + h) * d;
                k_cache[at..at + d].copy_from_slice(&rotated[k..k + d]);
                let v = (b * g.seq + s) * width + (qk_heads + h) * d;
                v_cache[at..at + d].copy_from_slice(&qkv[v..v + d]);
            }
        }
    }
    q_out
}
