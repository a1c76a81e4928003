// attention.wgsl: ONNX Attention (opset 23), f32, O(T) memory per query row.
//
// Entry `kv_concat` builds present = concat(past, new) as [B, Hkv, T, dim]:
//   @group(0) @binding(0) params: array<u32>
//       [0] n = elements of present, [1] B, [2] Hkv, [3] P (past length), [4] S (new length),
//       [5] dim, [6] 1 = new is [B, S, Hkv*dim] (else [B, Hkv, S, dim])
//   @group(0) @binding(6) past: array<f32>   (a dummy when P = 0)
//   @group(0) @binding(7) new_rows: array<f32>
//   @group(0) @binding(8) present: array<f32>
// (its own binding numbers: an entry point binds only what it uses, and the two
// entry points never share a slot)
//
// Entry `attention`, one workgroup of 64 per query row (b, h, i):
//   @group(0) @binding(0) params: array<u32>
//       [0] rows = B*Hq*Sq, [1] Hq, [2] Hkv, [3] Sq, [4] T, [5] P, [6] D, [7] Dv,
//       [8] 1 = Q and Y are 3-D [B, S, H*D], [9] scale (f32 bits), [10] softcap (f32 bits, 0 = off),
//       [11] 1 = causal, [12] mask kind (0 none, 1 bool as 0/1 floats, 2 additive float),
//       [13] mask batch extent (1 or B), [14] mask head extent (1 or Hq), [15] mask key extent Tm
//   @group(0) @binding(1) q: array<f32>
//   @group(0) @binding(2) k: array<f32>      present keys [B, Hkv, T, D]
//   @group(0) @binding(3) v: array<f32>      present values [B, Hkv, T, Dv]
//   @group(0) @binding(4) mask: array<f32>   [mb, mh, Sq, Tm] (a dummy when absent)
//   @group(0) @binding(5) y: array<f32>
// Keys stream in tiles of 64 with an online softmax (running max and sum,
// rescaled per tile), so no Sq x T score matrix exists. Query head h reads key
// head h / (Hq / Hkv). Keys j > i + P are masked when causal; keys j >= Tm are
// masked when a mask is given. A fully masked row is NaN, as ONNX defines it.
// Limits: D <= 256 and Dv <= 256 (larger heads take the composed path).
//
// Entries `decode_split` and `decode_combine`, flash-decoding for few query
// rows over many keys (the `attention` block; [16] keys per chunk, [17] chunks
// per row, D and Dv multiples of 4). `decode_split` runs one invocation per
// (query row, chunk of keys), 256 per workgroup on the 2-D grid, with an
// online softmax over its chunk, and writes (max, sum, Dv unnormalized
// outputs) to `partials`; `decode_combine` runs one invocation per output
// element and merges a row's chunks in chunk order. Many invocations share a
// long key sequence, where `attention` gives one row to one workgroup.
//   @group(0) @binding(4) mask, @binding(5) y: as `attention`
//   @group(0) @binding(12) partials: array<f32>   [rows, chunks, 2 + Dv]
//   @group(0) @binding(13) q4: array<vec4<f32>>, (14) k4, (15) v4: q, k, v as vec4
//
// Entry `scores_softmax`, for the composed path (scores = Q K^T by the matmul
// kernels, then this, then P V), on a block of query rows [i0, i0 + rows): one
// workgroup of 64 per score row, in place in `scores` (raw dot products in,
// probabilities out): the score `scale * s`, softcapped, plus the mask, -inf
// where causal masks it, then the softmax of the row.
//   @group(0) @binding(0) params: same block as `attention`, with [0] the score rows
//       B*Hq*rows, [16] i0 (first query row of the block), [17] rows in the block
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

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@group(0) @binding(10) var<storage, read_write> scores: array<f32>;
@group(0) @binding(11) var<storage, read_write> scores4: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read_write> partials: array<f32>;
@group(0) @binding(13) var<storage, read> q4: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> k4: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read> v4: array<vec4<f32>>;

@group(0) @binding(6) var<storage, read> past: array<f32>;
@group(0) @binding(7) var<storage, read> new_rows: array<f32>;
@group(0) @binding(8) var<storage, read_write> present: array<f32>;

var<workgroup> q_row: array<f32, 256>;
var<workgroup> probs: array<f32, 64>;
var<workgroup> scratch: array<f32, 64>;

@compute @workgroup_size(256)
fn kv_concat(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if i >= params[0] { return; }
    let hkv = params[2];
    let p = params[3];
    let s = params[4];
    let dim = params[5];
    let t = p + s;
    let c = i % dim;
    let j = (i / dim) % t;
    let h = (i / (dim * t)) % hkv;
    let b = i / (dim * t * hkv);
    if j < p {
        present[i] = past[((b * hkv + h) * p + j) * dim + c];
    } else if params[6] == 1u {
        present[i] = new_rows[((b * s + (j - p)) * hkv + h) * dim + c];
    } else {
        present[i] = new_rows[((b * hkv + h) * s + (j - p)) * dim + c];
    }
}

// (b, h, i) of score row `row`, rows ordered by batch, head, query.
fn query_coords(row: u32) -> vec3<u32> {
    let sq = params[3];
    let hq = params[1];
    return vec3<u32>(row / (sq * hq), (row / sq) % hq, row % sq);
}

// Where score row `row`'s query (and output) row sits in Q and Y: itself for
// [B, H, S, D], at (b, i, h) for 3-D [B, S, H*D].
fn qy_row(row: u32) -> u32 {
    if params[8] != 1u { return row; }
    let c = query_coords(row);
    return (c.x * params[3] + c.z) * params[1] + c.y;
}

fn reduce(t: u32, value: f32, is_max: bool) -> f32 {
    scratch[t] = value;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s / 2u) {
        if t < s {
            scratch[t] = select(scratch[t] + scratch[t + s], max(scratch[t], scratch[t + s]), is_max);
        }
        workgroupBarrier();
    }
    let r = scratch[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(64)
fn attention(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    if row >= params[0] { return; }
    let hq = params[1];
    let hkv = params[2];
    let sq = params[3];
    let total = params[4];
    let past_len = params[5];
    let d = params[6];
    let dv = params[7];
    let scale = bitcast<f32>(params[9]);
    let softcap = bitcast<f32>(params[10]);
    let causal = params[11] == 1u;
    let mask_kind = params[12];
    let coords = query_coords(row);
    let b = coords.x;
    let h = coords.y;
    let i = coords.z;
    let kh = h / (hq / hkv);
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));

    let q_off = qy_row(row) * d;
    for (var c = t; c < d; c += 64u) { q_row[c] = q[q_off + c]; }
    workgroupBarrier();

    let kv_base = (b * hkv + kh) * total;
    var m = neg_inf;
    var l = 0.0;
    // Four named accumulators (output dims t, t+64, t+128, t+192): an array
    // indexed in a loop would live in memory on SIMD CPU drivers.
    var acc0 = 0.0;
    var acc1 = 0.0;
    var acc2 = 0.0;
    var acc3 = 0.0;
    // Causal: keys past i + P are masked for this row, so tiles beyond it are skipped.
    let keys = select(total, min(total, i + past_len + 1u), causal && mask_kind == 0u);
    for (var tile = 0u; tile < keys; tile += 64u) {
        let j = tile + t;
        var s = neg_inf;
        if j < total {
            var dot = 0.0;
            let k_off = (kv_base + j) * d;
            for (var c = 0u; c < d; c++) { dot = fma(q_row[c], k[k_off + c], dot); }
            s = dot * scale;
            if softcap > 0.0 { s = softcap * tanh(clamp(s / softcap, -15.0, 15.0)); }
            if mask_kind != 0u {
                let mb = params[13];
                let mh = params[14];
                let tm = params[15];
                if j >= tm {
                    s = neg_inf;
                } else {
                    let mi = ((select(b, 0u, mb == 1u) * mh + select(h, 0u, mh == 1u)) * sq + i) * tm + j;
                    let mv = mask[mi];
                    if mask_kind == 1u {
                        if mv == 0.0 { s = neg_inf; }
                    } else {
                        s = s + mv;
                    }
                }
            }
            if causal && j > i + past_len { s = neg_inf; }
        }
        let m_new = max(m, reduce(t, s, true));
        // Uniform branch: every invocation sees the same m_new.
        if m_new == neg_inf { continue; }
        let p = exp(s - m_new);
        probs[t] = p;
        let factor = exp(m - m_new);
        l = l * factor + reduce(t, p, false);
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

// The biased, masked score of raw dot product `raw_s` at (b, h, i, j).
fn prep(raw_s: f32, b: u32, h: u32, i: u32, j: u32) -> f32 {
    let sq = params[3];
    let total = params[4];
    let softcap = bitcast<f32>(params[10]);
    let mask_kind = params[12];
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    var s = raw_s * bitcast<f32>(params[9]);
    if softcap > 0.0 { s = softcap * tanh(clamp(s / softcap, -15.0, 15.0)); }
    if mask_kind != 0u {
        let mb = params[13];
        let mh = params[14];
        let tm = params[15];
        if j >= tm {
            s = neg_inf;
        } else {
            let mv = mask[((select(b, 0u, mb == 1u) * mh + select(h, 0u, mh == 1u)) * sq + i) * tm + j];
            if mask_kind == 1u {
                if mv == 0.0 { s = neg_inf; }
            } else {
                s = s + mv;
            }
        }
    }
    if params[11] == 1u && j > i + params[5] { s = neg_inf; }
    return s;
}

@compute @workgroup_size(64)
fn scores_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    if row >= params[0] { return; }
    let hq = params[1];
    let total = params[4];
    let rows = params[17];
    let i = params[16] + row % rows;
    let h = (row / rows) % hq;
    let b = row / (rows * hq);
    let base = row * total;
    var m = bitcast<f32>(0xff800000u | (total & 0u));
    for (var j = t; j < total; j += 64u) {
        let s = prep(scores[base + j], b, h, i, j);
        scores[base + j] = s;
        m = max(m, s);
    }
    m = reduce(t, m, true);
    var l = 0.0;
    for (var j = t; j < total; j += 64u) { l += exp(scores[base + j] - m); }
    l = reduce(t, l, false);
    for (var j = t; j < total; j += 64u) { scores[base + j] = exp(scores[base + j] - m) / l; }
}


@compute @workgroup_size(256)
fn scores_softmax_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = gid.x + gid.y * nwg.x * 256u;
    if row >= params[0] { return; }
    let hq = params[1];
    let total = params[4];
    let rows = params[17];
    let i = params[16] + row % rows;
    let h = (row / rows) % hq;
    let b = row / (rows * hq);
    let t4 = total / 4u;
    let base = row * t4;
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    var m4 = vec4<f32>(neg_inf);
    for (var jj = 0u; jj < t4; jj++) {
        let raw = scores4[base + jj];
        let j = 4u * jj;
        let s = vec4<f32>(prep(raw.x, b, h, i, j), prep(raw.y, b, h, i, j + 1u), prep(raw.z, b, h, i, j + 2u), prep(raw.w, b, h, i, j + 3u));
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
    let item = gid.x + gid.y * nwg.x * 256u;
    let chunks = params[17];
    if item >= params[0] * chunks { return; }
    let row = item / chunks;
    let hq = params[1];
    let total = params[4];
    let d4 = params[6] / 4u;
    let dv = params[7];
    let dv4 = dv / 4u;
    let coords = query_coords(row);
    let b = coords.x;
    let h = coords.y;
    let i = coords.z;
    let kv_base = (b * params[2] + h / (hq / params[2])) * total;
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    let q_off = qy_row(row) * d4;
    var qv: array<vec4<f32>, 64>;
    for (var c = 0u; c < d4; c++) { qv[c] = q4[q_off + c]; }
    // Causal without a mask: keys past the diagonal are skipped, not masked.
    let keys = select(total, min(total, i + params[5] + 1u), params[11] == 1u && params[12] == 0u);
    let j0 = (item % chunks) * params[16];
    let j1 = min(keys, j0 + params[16]);
    var m = neg_inf;
    var l = 0.0;
    var o: array<vec4<f32>, 64>;
    for (var j = j0; j < j1; j++) {
        let kb = (kv_base + j) * d4;
        var dot4 = vec4<f32>(0.0);
        for (var c = 0u; c < d4; c++) { dot4 = fma(qv[c], k4[kb + c], dot4); }
        let s = prep((dot4.x + dot4.y) + (dot4.z + dot4.w), b, h, i, j);
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
        for (var c = 0u; c < dv4; c++) { o[c] = fma(vec4<f32>(p), v4[vb + c], o[c]); }
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
    let item = gid.x + gid.y * nwg.x * 256u;
    let dv = params[7];
    if item >= params[0] * dv { return; }
    let row = item / dv;
    let c = item % dv;
    let chunks = params[17];
    let stride = 2u + dv;
    let first = row * chunks * stride;
    var mx = bitcast<f32>(0xff800000u | (chunks & 0u));
    for (var k = 0u; k < chunks; k++) { mx = max(mx, partials[first + k * stride]); }
    // A fully masked row has mx = -inf, so every weight is NaN: NaN, as ONNX defines it.
    var l = 0.0;
    var acc = 0.0;
    for (var k = 0u; k < chunks; k++) {
        let at = first + k * stride;
        let w = exp(partials[at] - mx);
        l = fma(partials[at + 1u], w, l);
        acc = fma(partials[at + 2u + c], w, acc);
    }
    y[qy_row(row) * dv + c] = acc / l;
}
