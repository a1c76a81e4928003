// rotary.wgsl: RotaryEmbedding, f32; one invocation per output element.
//
// Bindings:
//   @group(0) @binding(0) params: RotaryParams
//       n = elements, batch B, heads H, seq S, head_dim D, rotary_dim R (rotated features),
//       interleaved (1 = interleaved pairs), packed_3d (1 = X is [B, S, H*D], else
//       [B, H, S, D]), with_position_ids, cache_rows, first (element of the dispatch's
//       first invocation: tensors larger than one binding run in pieces of whole rows of
//       D, and n counts the piece), x_base / y_base (where element `first` lies in X's /
//       Y's bound window), cache_first / cache_end (the cache rows bound: caches larger
//       than one binding run in windows of rows, each dispatch writing the rotated
//       features of the tokens whose row lies in its window, the first window also the
//       copied features and the NaN of ids out of range), cache_base (where row
//       cache_first starts in the bound cos and sin windows)
//   @group(0) @binding(1) x:   array<f32>
//   @group(0) @binding(2) cos: array<f32>   [rows, R/2]
//   @group(0) @binding(3) sin: array<f32>   [rows, R/2]
//   @group(0) @binding(4) ids: array<u32>   i64 position ids [B, S] as word pairs (dummy if absent)
//   @group(0) @binding(5) y:   array<f32>
// Pairs (x1, x2) are the halves of the first R features or, interleaved,
// adjacent features: y1 = cos x1 - sin x2, y2 = sin x1 + cos x2. Features past R
// are copied. A position id outside [0, rows) gives NaN for the rotated features.

// #include <linear_id>
// #include <rotary_pair>
// #include <RotaryParams>

@group(0) @binding(0) var<storage, read> params: RotaryParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cos_cache: array<f32>;
@group(0) @binding(3) var<storage, read> sin_cache: array<f32>;
@group(0) @binding(4) var<storage, read> ids: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn rotary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let local = linear_id(gid, nwg);
    if local >= params.n { return; }
    let i = params.first + local;
    let xi = params.x_base + local;
    let yi = params.y_base + local;
    let heads = params.heads;
    let seq = params.seq;
    let d = params.head_dim;
    let r = params.rotary_dim;
    let f = i % d;
    let first_window = params.cache_first == 0u;
    if f >= r {
        if first_window { y[yi] = x[xi]; }
        return;
    }
    // (b, s) of this element in either layout.
    let tok = i / d;
    var b: u32;
    var s: u32;
    if params.packed_3d == 1u {
        b = tok / (seq * heads);
        s = (tok / heads) % seq;
    } else {
        b = tok / (heads * seq);
        s = tok % seq;
    }
    let half = r / 2u;
    var row = b * seq + s;
    var valid = true;
    if params.with_position_ids == 1u {
        let lo = ids[2u * row];
        let hi = ids[2u * row + 1u];
        valid = hi == 0u && lo < params.cache_rows;
        row = lo;
    }
    let pair = rotary_pair(f, r, params.interleaved == 1u, xi);
    if !valid {
        if first_window { y[yi] = bitcast<f32>(0x7fc00000u | (params.n & 0u)); }
        return;
    }
    if row < params.cache_first || row >= params.cache_end { return; }
    let at = (row - params.cache_first) * half + pair.p + params.cache_base;
    y[yi] = rotate(cos_cache[at], sin_cache[at], x[xi], x[pair.partner], pair.first);
}
