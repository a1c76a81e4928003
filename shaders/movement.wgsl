// movement.wgsl: data movement on raw elements of any dtype (Slice, Split,
// Expand, Concat, Trilu), so every result is bit-exact.
//
// Bindings:
//   @group(0) @binding(0) params: MoveParams
//       n = elements of Y, elem_bytes (1, 2, 4 or 8), rank (<= 8), shape (Y's,
//       or the [outer, total, inner] view of Concat), src_strides and src_base:
//       Y[j] reads X[src_base + sum_k j_k * src_strides_k], in wrapping u32
//       arithmetic, so negative strides (backward slices) and a negative base
//       (Concat's later inputs) are their two's-complement bits;
//       band_lo/band_hi: only elements with band_lo_k <= j_k < band_hi_k are
//       written (Concat writes one input's band per dispatch; the other bits
//       of a shared word are kept when `keep` is 1, so Y is read only then);
//       trilu (0 none, 1 keep c - r >= k, 2 keep c - r <= k) with k (i32 bits):
//       elements outside the kept triangle of the last two dims are zero bits;
//       first_word (the word of Y the dispatch's invocation 0 writes),
//       x_origin / y_origin (the element of X / word of Y where their bound windows
//       start: tensors larger than one binding run in pieces of Y's words).
//   @group(0) @binding(1) x: array<u32>   input as 32-bit words
//   @group(0) @binding(2) y: array<u32>   output as 32-bit words
// One invocation per output word, so sub-word elements (bool, f16, bf16) are
// gathered into whole words and no two invocations write the same word.

// #include <linear_id>
// #include <MoveParams>

@group(0) @binding(0) var<storage, read> params: MoveParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

// Whether element e of Y is written by this dispatch, and from which element of X
// (`vec2(written, source)`; source is u32::MAX for a zeroed Trilu element).
fn locate(e: u32) -> vec2<u32> {
    let rank = params.rank;
    var rest = e;
    var src = params.src_base;
    var inside = 1u;
    var col = 0u;
    var row = 0u;
    for (var i = 0u; i < rank; i++) {
        let d = rank - 1u - i;
        let j = rest % params.shape[d];
        rest = rest / params.shape[d];
        if j < params.band_lo[d] || j >= params.band_hi[d] { inside = 0u; }
        src += j * params.src_strides[d];
        if i == 0u { col = j; }
        if i == 1u { row = j; }
    }
    if params.trilu != 0u {
        let diagonal = i32(col) - i32(row);
        let k = bitcast<i32>(params.k);
        let keep = select(diagonal <= k, diagonal >= k, params.trilu == 1u);
        if !keep { src = 0xffffffffu; }
    }
    return vec2<u32>(inside, src);
}

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = params.first_word + linear_id(gid, nwg);
    let n = params.n;
    let bytes = params.elem_bytes;
    if bytes >= 4u {
        let words = bytes / 4u;
        let e = w / words;
        if e >= n { return; }
        let at = locate(e);
        if at.x == 0u { return; }
        if at.y == 0xffffffffu {
            y[w - params.y_origin] = 0u;
        } else {
            y[w - params.y_origin] = x[(at.y - params.x_origin) * words + w % words];
        }
        return;
    }
    let per_word = 4u / bytes;
    if w * per_word >= n { return; }
    let bits = bytes * 8u;
    let mask = (1u << bits) - 1u;
    var word = 0u;
    if params.keep != 0u { word = y[w - params.y_origin]; }
    for (var k = 0u; k < per_word && w * per_word + k < n; k++) {
        let at = locate(w * per_word + k);
        if at.x == 0u { continue; }
        var v = 0u;
        if at.y != 0xffffffffu {
            // X's window starts on a word: the element's bits in its word are unchanged.
            v = (x[(at.y - params.x_origin) / per_word] >> ((at.y % per_word) * bits)) & mask;
        }
        word = (word & ~(mask << (k * bits))) | (v << (k * bits));
    }
    y[w - params.y_origin] = word;
}
