// attention.wgsl: ONNX Attention (opset 24), f32, O(T) memory per query row.
//
// Entry `kv_concat` builds present = concat(past, new) as [B, Hkv, T, dim]:
//   @group(0) @binding(0) params: AttentionParams (generated from crates/hcal-wgpu/src/params/): reads
//       concat_elements (of present), kv_heads, past_len P, concat_new_len S, concat_dim,
//       concat_new_packed (1 = new is [B, S, Hkv*dim], else [B, Hkv, S, dim])
//   @group(0) @binding(6) past: array<f32>   (a dummy when P = 0)
//   @group(0) @binding(7) new_rows: array<f32>
//   @group(0) @binding(8) present: array<f32>
// (its own binding numbers: an entry point binds only what it uses, and the two
// entry points never share a slot)
//
// Entry `attention`, one workgroup of 64 per query row (b, h, i):
//   @group(0) @binding(0) params: AttentionParams (generated from crates/hcal-wgpu/src/params/), its head:
//       rows = B*Hq*Sq, q_heads Hq, kv_heads Hkv, q_len Sq, total_len T, past_len P,
//       head_dim D, v_head_dim Dv, packed_3d (1 = Q and Y are 3-D [B, S, H*D]), scale,
//       softcap (0 = off), causal, mask_kind (0 none, 1 bool as 0/1 floats, 2 additive float),
//       mask_batch (1 or B), mask_heads (1 or Hq), mask_keys Tm
//   @group(0) @binding(1) q: array<f32>
//   @group(0) @binding(2) k: array<f32>      present keys [B, Hkv, T, D]
//   @group(0) @binding(3) v: array<f32>      present values [B, Hkv, T, Dv]
//   @group(0) @binding(4) mask: array<f32>   [mb, mh, Sq, Tm] (a dummy when absent)
//   @group(0) @binding(5) y: array<f32>
//   @group(0) @binding(9) kv_valid: array<u32>   nonpad_kv_seqlen, i64 [B] as (low, high)
//       word pairs, read when params.nonpad is 1 (a dummy otherwise); every entry that
//       masks (attention, scores_softmax(_rows), decode_split) binds it
// Keys stream in tiles of 64 with an online softmax (running max and sum,
// rescaled per tile), so no Sq x T score matrix exists. Query head h reads key
// head h / (Hq / Hkv). Keys j > i + P are masked when causal; keys j >= Tm are
// masked when a mask is given; with nonpad_kv_seqlen (n_b clamped to [0, T])
// keys j >= n_b are masked and, causal, j > i + n_b - Sq instead of j > i + P
// (and the key loops stop at the last key a row can see). A fully masked row
// is NaN, as ONNX (opset 23 as released) defines it.
// Limits: D <= 256 and Dv <= 256 (larger heads take the composed path).
//
// Entries `decode_split` and `decode_combine`, flash-decoding for few query
// rows over many keys (the `attention` block with split_chunks per row, each
// chunk an equal span of the keys the row sees; D and Dv multiples of 4). `decode_split` runs one invocation per
// (query row, chunk of keys), 256 per workgroup on the 2-D grid, with an
// online softmax over its chunk, and writes (max, sum, Dv unnormalized
// outputs) to `partials`; `decode_combine` runs one invocation per output
// element and merges a row's chunks in chunk order. Many invocations share a
// long key sequence, where `attention` gives one row to one workgroup.
// `decode_split_narrow` is `decode_split` in workgroups of 8 (item = x + y * 8 *
// workgroups along x), for SIMD CPU drivers, where each workgroup runs on one thread.
// There `decode_split_grouped` runs instead where it can: `split_item` for the
// Hq/Hkv query heads of one key/value head together (each key and value row
// loaded once for all of them), with named values in place of the loop-indexed
// arrays. It is not in this file: crates/hcal-wgpu/src/attention_decode.rs
// appends it per head geometry, with `decode_grouped_combined`: the same chunks as
// the 8 lanes of one workgroup, merged there as `decode_combine` merges them and
// written to Y (binding 5, or y16 at 16), so no partials and no second dispatch.
//   @group(0) @binding(4) mask, @binding(5) y: as `attention`
//   @group(0) @binding(12) partials: array<f32>   [rows, chunks, 2 + Dv]
//   @group(0) @binding(13) q4: array<vec4<f32>>, (14) k4, (15) v4: q, k, v as vec4
// Their f16 form (kernel variant F16_IO, the `// F16` lines) reads Q, K and V as
// f16 (q4, k4, v4: array<vec2<u32>>, four elements per vec2, widened exactly) and
// writes Y as f16 pairs (@binding(16) y16: array<u32>), each output the f32
// result rounded once to nearest even (include/f16_bits.wgsl): the bits of the
// f32 kernels run on converted copies, without the copies. `decode_combine`
// runs one invocation per pair of outputs in both forms.
//
// Entry `scores_softmax`, for the composed path (scores = Q K^T by the matmul
// kernels, then this, then P V), on a block of query rows [i0, i0 + rows): one
// workgroup of 64 per score row, in place in `scores` (raw dot products in,
// probabilities out): the score `scale * s`, softcapped, plus the mask, -inf
// where causal masks it, then the softmax of the row.
//   @group(0) @binding(0) params: as `attention`, with rows = the score rows B*Hq*rows,
//       total_len = the keys the block sees, block_first_row i0, block_rows
//   @group(0) @binding(4) mask: array<f32>
//   @group(0) @binding(10) scores: array<f32>
// Entry `scores_softmax_rows` does the same with one invocation per score row
// (256 per workgroup; ceil(rows / 256) workgroups on the 2-D grid) and
// vec4 accesses, for T % 4 == 0, through the same buffer bound as
//   @group(0) @binding(11) scores4: array<vec4<f32>>
// For SIMD CPU drivers (lavapipe): there a workgroup barrier is a coroutine
// switch and a storage access a per-lane loop, so `scores_softmax`'s
// workgroup reductions and scalar accesses made it 3x slower than the matmuls
// around it; here each SIMD lane walks its own row with no barrier.

// #include <linear_id>
// #include <AttentionParams>
// #include <kv_head>
// #include <workgroup_reduce>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@group(0) @binding(10) var<storage, read_write> scores: array<f32>;
@group(0) @binding(11) var<storage, read_write> scores4: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> partials: array<f32>;
@group(0) @binding(13) var<storage, read> q4: array<vec4<f32>>; // F32
@group(0) @binding(14) var<storage, read> k4: array<vec4<f32>>; // F32
@group(0) @binding(15) var<storage, read> v4: array<vec4<f32>>; // F32
// The f16 form: four f16 elements per vec2 of words, and Y as f16 pairs.
@group(0) @binding(13) var<storage, read> q4: array<vec2<u32>>; // F16
@group(0) @binding(14) var<storage, read> k4: array<vec2<u32>>; // F16
@group(0) @binding(15) var<storage, read> v4: array<vec2<u32>>; // F16
@group(0) @binding(16) var<storage, read_write> y16: array<u32>; // F16

@group(0) @binding(9) var<storage, read> kv_valid: array<u32>;

@group(0) @binding(6) var<storage, read> past: array<f32>;
@group(0) @binding(7) var<storage, read> new_rows: array<f32>;
@group(0) @binding(8) var<storage, read_write> present: array<f32>;

var<workgroup> q_row: array<f32, 256>;
var<workgroup> probs: array<f32, 64>;

// Four f16 elements (two words, element 2w in the low half) as f32: exact.
fn widen4(w: vec2<u32>) -> vec4<f32> { // F16
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); // F16
} // F16

@compute @workgroup_size(256)
fn kv_concat(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.concat_elements { return; }
    let hkv = params.kv_heads;
    let p = params.past_len;
    let s = params.concat_new_len;
    let dim = params.concat_dim;
    let t = p + s;
    let c = i % dim;
    let j = (i / dim) % t;
    let h = (i / (dim * t)) % hkv;
    let b = i / (dim * t * hkv);
    if j < p {
        present[i] = past[((b * hkv + h) * p + j) * dim + c];
    } else if params.concat_new_packed == 1u {
        present[i] = new_rows[((b * s + (j - p)) * hkv + h) * dim + c];
    } else {
        present[i] = new_rows[((b * hkv + h) * s + (j - p)) * dim + c];
    }
}

// (b, h, i) of score row `row`, rows ordered by batch, head, query.
fn query_coords(row: u32) -> vec3<u32> {
    let sq = params.q_len;
    let hq = params.q_heads;
    return vec3<u32>(row / (sq * hq), (row / sq) % hq, row % sq);
}

// (b, h, i) of row `row` of the composed path's score block: rows ordered by
// batch, head, then the block's query rows, which start at query block_first_row.
fn block_coords(row: u32) -> vec3<u32> {
    let rows = params.block_rows;
    return vec3<u32>(row / (rows * params.q_heads), (row / rows) % params.q_heads, params.block_first_row + row % rows);
}

// Where score row `row`'s query (and output) row sits in Q and Y: itself for
// [B, H, S, D], at (b, i, h) for 3-D [B, S, H*D].
fn qy_row(row: u32) -> u32 {
    if params.packed_3d != 1u { return row; }
    let c = query_coords(row);
    return (c.x * params.q_len + c.z) * params.q_heads + c.y;
}

// nonpad_kv_seqlen of batch b clamped to [0, T]: the keys of its static cache that hold data.
fn valid_keys(b: u32) -> u32 {
    let lo = kv_valid[2u * b];
    let hi = kv_valid[2u * b + 1u];
    if hi >= 0x80000000u { return 0u; }
    if hi != 0u { return params.total_len; }
    return min(lo, params.total_len);
}

// Keys [0, limit) a row (b, i) loops over: every key it may see (later ones are masked).
fn key_limit(b: u32, i: u32) -> u32 {
    let total = params.total_len;
    let causal = params.causal == 1u;
    if params.nonpad == 1u {
        let n = valid_keys(b);
        // Causal: j <= i + n - Sq, so i + n + 1 - Sq keys (none when i + n < Sq).
        let frontier = select(n, select(0u, i + n + 1u - params.q_len, i + n + 1u > params.q_len), causal);
        return min(n, frontier);
    }
    return select(total, min(total, i + params.past_len + 1u), causal && params.mask_kind == 0u);
}

@compute @workgroup_size(64)
fn attention(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    if row >= params.rows { return; }
    let total = params.total_len;
    let past_len = params.past_len;
    let d = params.head_dim;
    let dv = params.v_head_dim;
    let causal = params.causal == 1u;
    let mask_kind = params.mask_kind;
    let coords = query_coords(row);
    let b = coords.x;
    let h = coords.y;
    let i = coords.z;
    let kh = kv_head(h);
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));

    let q_off = qy_row(row) * d;
    for (var c = t; c < d; c += 64u) { q_row[c] = q[q_off + c]; }
    workgroupBarrier();

    let kv_base = (b * params.kv_heads + kh) * total;
    var m = neg_inf;
    var l = 0.0;
    // Four named accumulators (output dims t, t+64, t+128, t+192): an array
    // indexed in a loop would live in memory on SIMD CPU drivers.
    var acc0 = 0.0;
    var acc1 = 0.0;
    var acc2 = 0.0;
    var acc3 = 0.0;
    let pp = prep_params(b);
    // Keys a row cannot see (causal, or past its valid length) are skipped, not masked.
    let keys = key_limit(b, i);
    for (var tile = 0u; tile < keys; tile += 64u) {
        let j = tile + t;
        var s = neg_inf;
        if j < total {
            var dot = 0.0;
            let k_off = (kv_base + j) * d;
            for (var c = 0u; c < d; c++) { dot = fma(q_row[c], k[k_off + c], dot); }
            s = prep_with(dot, b, h, i, j, pp);
        }
        let m_new = max(m, reduce_max(t, s));
        // Uniform branch: every invocation sees the same m_new.
        if m_new == neg_inf { continue; }
        let p = exp(s - m_new);
        probs[t] = p;
        let factor = exp(m - m_new);
        l = l * factor + reduce_sum(t, p);
        let count = min(64u, total - tile);
        acc0 = acc0 * factor;
        acc1 = acc1 * factor;
        acc2 = acc2 * factor;
        acc3 = acc3 * factor;
        let v_base = (kv_base + tile) * dv;
        // Output dims beyond Dv read a clamped column and are never stored.
        let c0 = min(t, dv - 1u);
        let c1 = min(t + 64u, dv - 1u);
        let c2 = min(t + 128u, dv - 1u);
        let c3 = min(t + 192u, dv - 1u);
        for (var jj = 0u; jj < count; jj++) {
            let p_j = probs[jj];
            let row = v_base + jj * dv;
            acc0 = fma(p_j, v[row + c0], acc0);
            if dv > 64u { acc1 = fma(p_j, v[row + c1], acc1); }
            if dv > 128u { acc2 = fma(p_j, v[row + c2], acc2); }
            if dv > 192u { acc3 = fma(p_j, v[row + c3], acc3); }
        }
        m = m_new;
        workgroupBarrier();
    }
    let y_off = qy_row(row) * dv;
    let nan = bitcast<f32>(0x7fc00000u | (total & 0u));
    let accs = array<f32, 4>(acc0, acc1, acc2, acc3);
    for (var r = 0u; r < 4u; r++) {
        let c = t + 64u * r;
        if c < dv {
            // No keys at all: an empty sum, 0. Keys but all masked: NaN.
            y[y_off + c] = select(select(accs[r] / l, nan, l == 0.0), 0.0, total == 0u);
        }
    }
}

// What `prep_with` reads of the parameters for batch b, read once by a
// kernel before its loop over keys: inside a loop every storage read is a
// loop over the lanes on SIMD CPU drivers.
struct Prep {
    q_len: u32,
    total_len: u32,
    past_len: u32,
    scale: f32,
    softcap: f32,
    mask_kind: u32,
    mask_batch: u32,
    mask_heads: u32,
    mask_keys: u32,
    causal: bool,
    nonpad: bool,
    // nonpad_kv_seqlen of batch b clamped to [0, T] (0 without it).
    valid: u32,
}

fn prep_params(b: u32) -> Prep {
    var valid = 0u;
    if params.nonpad == 1u { valid = valid_keys(b); }
    return Prep(
        params.q_len, params.total_len, params.past_len, params.scale, params.softcap, params.mask_kind,
        params.mask_batch, params.mask_heads, params.mask_keys, params.causal == 1u, params.nonpad == 1u, valid,
    );
}

// The biased, masked score of raw dot product `raw_s` at (b, h, i, j), `pp`
// being `prep_params(b)`: the scale, the softcap, the mask, then -inf for a key
// hidden by the causal frontier or the valid length
// (hcal_core::AttentionGeometry::key_hidden).
fn prep_with(raw_s: f32, b: u32, h: u32, i: u32, j: u32, pp: Prep) -> f32 {
    let neg_inf = bitcast<f32>(0xff800000u | (pp.total_len & 0u));
    var s = raw_s * pp.scale;
    if pp.softcap > 0.0 { s = pp.softcap * tanh(clamp(s / pp.softcap, -15.0, 15.0)); }
    if pp.mask_kind != 0u {
        let mb = pp.mask_batch;
        let mh = pp.mask_heads;
        let tm = pp.mask_keys;
        if j >= tm {
            s = neg_inf;
        } else {
            let mv = mask[((select(b, 0u, mb == 1u) * mh + select(h, 0u, mh == 1u)) * pp.q_len + i) * tm + j];
            if pp.mask_kind == 1u {
                if mv == 0.0 { s = neg_inf; }
            } else {
                s = s + mv;
            }
        }
    }
    let hidden_past = pp.causal && j > i + pp.past_len;
    let hidden_valid = j >= pp.valid || (pp.causal && j + pp.q_len > i + pp.valid);
    if select(hidden_past, hidden_valid, pp.nonpad) { s = neg_inf; }
    return s;
}

@compute @workgroup_size(64)
fn scores_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    if row >= params.rows { return; }
    let total = params.total_len;
    let c = block_coords(row);
    let base = row * total;
    var m = bitcast<f32>(0xff800000u | (total & 0u));
    let pp = prep_params(c.x);
    for (var j = t; j < total; j += 64u) {
        let s = prep_with(scores[base + j], c.x, c.y, c.z, j, pp);
        scores[base + j] = s;
        m = max(m, s);
    }
    m = reduce_max(t, m);
    var l = 0.0;
    for (var j = t; j < total; j += 64u) { l += exp(scores[base + j] - m); }
    l = reduce_sum(t, l);
    for (var j = t; j < total; j += 64u) { scores[base + j] = exp(scores[base + j] - m) / l; }
}


@compute @workgroup_size(256)
fn scores_softmax_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = linear_id(gid, nwg);
    if row >= params.rows { return; }
    let total = params.total_len;
    let c = block_coords(row);
    let t4 = total / 4u;
    let base = row * t4;
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    var m4 = vec4<f32>(neg_inf);
    let pp = prep_params(c.x);
    for (var jj = 0u; jj < t4; jj++) {
        let raw = scores4[base + jj];
        let j = 4u * jj;
        let s = vec4<f32>(
            prep_with(raw.x, c.x, c.y, c.z, j, pp), prep_with(raw.y, c.x, c.y, c.z, j + 1u, pp),
            prep_with(raw.z, c.x, c.y, c.z, j + 2u, pp), prep_with(raw.w, c.x, c.y, c.z, j + 3u, pp),
        );
        scores4[base + jj] = s;
        m4 = max(m4, s);
    }
    let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
    var l4 = vec4<f32>(0.0);
    for (var jj = 0u; jj < t4; jj++) { l4 += exp(scores4[base + jj] - m); }
    let l = (l4.x + l4.y) + (l4.z + l4.w);
    for (var jj = 0u; jj < t4; jj++) { scores4[base + jj] = exp(scores4[base + jj] - m) / l; }
}

@compute @workgroup_size(256)
fn decode_split(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    split_item(linear_id(gid, nwg));
}

// `decode_split` in workgroups of 8 (one SIMD group on lavapipe's 8-wide
// lanes), for SIMD CPU drivers: each workgroup runs on one thread there, so a
// decode step's few (row, chunk) items (9 heads x 13 chunks of 400 keys) in one
// 256-wide workgroup ran on one core while the other idled.
@compute @workgroup_size(8)
fn decode_split_narrow(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    split_item(gid.x + gid.y * nwg.x * 8u);
}

// Keys per chunk of the split path for a row that sees `keys` keys: spans
// of ceil(keys / chunks), so the trailing chunks may be short or empty (an
// empty one merges as nothing). The loops over keys follow the keys a row
// sees, not the cache's length; an empty chunk still costs its item's fixed
// work, which is why CPU drivers take few chunks (attention.rs,
// split_chunks). At most ceil(total_len / chunks), which the host keeps
// within the loop limit of Mesa's CPU drivers.
fn split_span(keys: u32, chunks: u32) -> u32 {
    return (keys + chunks - 1u) / chunks;
}

// One (query row, chunk of keys) item of the split path.
fn split_item(item: u32) {
    let chunks = params.split_chunks;
    if item >= params.rows * chunks { return; }
    let row = item / chunks;
    let total = params.total_len;
    let d4 = params.head_dim / 4u;
    let dv = params.v_head_dim;
    let dv4 = dv / 4u;
    let coords = query_coords(row);
    let b = coords.x;
    let h = coords.y;
    let i = coords.z;
    let kv_base = (b * params.kv_heads + kv_head(h)) * total;
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    let q_off = qy_row(row) * d4;
    var qv: array<vec4<f32>, 64>;
    for (var c = 0u; c < d4; c++) { qv[c] = q4[q_off + c]; } // F32
    for (var c = 0u; c < d4; c++) { qv[c] = widen4(q4[q_off + c]); } // F16
    let pp = prep_params(b);
    // Keys a row cannot see (causal, or past its valid length) are skipped, not masked.
    let keys = key_limit(b, i);
    // The row's visible keys in spans of ceil(keys / chunks) (split_span).
    let span = split_span(keys, chunks);
    let j0 = (item % chunks) * span;
    let j1 = min(keys, j0 + span);
    var m = neg_inf;
    var l = 0.0;
    var o: array<vec4<f32>, 64>;
    for (var j = j0; j < j1; j++) {
        let kb = (kv_base + j) * d4;
        var dot4 = vec4<f32>(0.0);
        for (var c = 0u; c < d4; c++) { dot4 = fma(qv[c], k4[kb + c], dot4); } // F32
        for (var c = 0u; c < d4; c++) { dot4 = fma(qv[c], widen4(k4[kb + c]), dot4); } // F16
        let s = prep_with((dot4.x + dot4.y) + (dot4.z + dot4.w), b, h, i, j, pp);
        // A masked key adds nothing (and must not make exp(-inf + inf) = NaN).
        if s == neg_inf { continue; }
        if s > m {
            let factor = exp(m - s);
            l = l * factor;
            for (var c = 0u; c < dv4; c++) { o[c] = o[c] * factor; }
            m = s;
        }
        let p = exp(s - m);
        l += p;
        let vb = (kv_base + j) * dv4;
        for (var c = 0u; c < dv4; c++) { o[c] = fma(vec4<f32>(p), v4[vb + c], o[c]); } // F32
        for (var c = 0u; c < dv4; c++) { o[c] = fma(vec4<f32>(p), widen4(v4[vb + c]), o[c]); } // F16
    }
    let base = item * (2u + dv);
    partials[base] = m;
    partials[base + 1u] = l;
    for (var c = 0u; c < dv4; c++) {
        let at = base + 2u + 4u * c;
        partials[at] = o[c].x;
        partials[at + 1u] = o[c].y;
        partials[at + 2u] = o[c].z;
        partials[at + 3u] = o[c].w;
    }
}

@compute @workgroup_size(256)
fn decode_combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let item = linear_id(gid, nwg);
    let dv = params.v_head_dim;
    // One invocation per pair of outputs (Dv is a multiple of 4), so the f16
    // form writes whole words; each output's sums are formed as for one alone.
    let pairs = dv / 2u;
    if item >= params.rows * pairs { return; }
    let row = item / pairs;
    let c = (item % pairs) * 2u;
    let chunks = params.split_chunks;
    let stride = 2u + dv;
    let first = row * chunks * stride;
    var mx = bitcast<f32>(0xff800000u | (chunks & 0u));
    for (var k = 0u; k < chunks; k++) { mx = max(mx, partials[first + k * stride]); }
    // A fully masked row has mx = -inf, so every weight is NaN: NaN, as ONNX defines it.
    var l = 0.0;
    var acc0 = 0.0;
    var acc1 = 0.0;
    for (var k = 0u; k < chunks; k++) {
        let at = first + k * stride;
        let w = exp(partials[at] - mx);
        l = fma(partials[at + 1u], w, l);
        acc0 = fma(partials[at + 2u + c], w, acc0);
        acc1 = fma(partials[at + 3u + c], w, acc1);
    }
    let out = qy_row(row) * dv + c;
    y[out] = acc0 / l; // F32
    y[out + 1u] = acc1 / l; // F32
    y16[out / 2u] = f32_to_f16_bits(acc0 / l) | (f32_to_f16_bits(acc1 / l) << 16u); // F16
}
