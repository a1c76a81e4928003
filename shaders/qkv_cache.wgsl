// qkv_cache.wgsl: SplitRotaryScatter, f32; one invocation per element of the
// packed projection qkv [B, S, (Hq + 2 Hkv) D].
//
// Bindings:
//   @group(0) @binding(0) params: QkvCacheParams
//       elements = B S (Hq + 2 Hkv) D, seq S, q_heads Hq, kv_heads Hkv, head_dim D,
//       cache_len M, rotary_dim R, interleaved (1 = adjacent pairs), table_rows P
//   @group(0) @binding(1) qkv:     array<f32>
//   @group(0) @binding(2) cos:     array<f32>   [P, R/2]
//   @group(0) @binding(3) sin:     array<f32>   [P, R/2]
//   @group(0) @binding(4) w:       array<u32>   write_indices, i64 [B] as word pairs
//   @group(0) @binding(5) q_out:   array<f32>   [B, Hq, S, D]
//   @group(0) @binding(6) k_cache: array<f32>   [B, Hkv, M, D], written at its rows w_b + s
//   @group(0) @binding(7) v_cache: array<f32>   [B, Hkv, M, D], likewise
// Element f of head h of token (b, s): query heads (h < Hq) go to q_out, key
// heads to k_cache, value heads to v_cache, at position w_b + s (a 64-bit sum
// of the index's words and s). Query and key features f < R rotate as
// rotary.wgsl does (include/rotary_pair.wgsl, so the same bits): pairs
// (x1, x2) are the halves of the first R features or, interleaved, adjacent
// features; y1 = cos x1 - sin x2, y2 = sin x1 + cos x2; a position outside
// [0, P) gives NaN. A position outside [0, M) writes no key or value.

// #include <linear_id>
// #include <rotary_pair>
// #include <QkvCacheParams>

@group(0) @binding(0) var<storage, read> params: QkvCacheParams;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> cos_cache: array<f32>;
@group(0) @binding(3) var<storage, read> sin_cache: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<u32>;
@group(0) @binding(5) var<storage, read_write> q_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(7) var<storage, read_write> v_cache: array<f32>;

@compute @workgroup_size(256)
fn split_rotary_scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.elements { return; }
    let d = params.head_dim;
    let hq = params.q_heads;
    let hkv = params.kv_heads;
    let heads = hq + 2u * hkv;
    let f = i % d;
    let h = (i / d) % heads;
    let token = i / (d * heads);
    let seq = params.seq;
    let b = token / seq;
    let s = token % seq;
    // Position w_b + s in 64 bits: valid when it lies in [0, 2^32).
    let lo = w[2u * b] + s;
    let hi = w[2u * b + 1u] + select(0u, 1u, lo < s);
    let in_range = hi == 0u;
    let pos = lo;
    let cache_row = in_range && pos < params.cache_len;
    if h >= hq + hkv {
        // A value head: copied.
        if cache_row {
            v_cache[((b * hkv + h - hq - hkv) * params.cache_len + pos) * d + f] = qkv[i];
        }
        return;
    }
    var y = qkv[i];
    let r = params.rotary_dim;
    if f < r {
        let pair = rotary_pair(f, r, params.interleaved == 1u, i);
        if in_range && pos < params.table_rows {
            let at = pos * (r / 2u) + pair.p;
            y = rotate(cos_cache[at], sin_cache[at], qkv[i], qkv[pair.partner], pair.first);
        } else {
            y = bitcast<f32>(0x7fc00000u | (params.elements & 0u));
        }
    }
    if h < hq {
        q_out[((b * hq + h) * seq + s) * d + f] = y;
    } else if cache_row {
        k_cache[((b * hkv + h - hq) * params.cache_len + pos) * d + f] = y;
    }
}
