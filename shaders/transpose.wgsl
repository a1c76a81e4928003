// transpose.wgsl: permute axes of a tensor of any dtype, moving raw bytes.
//
// Bindings:
//   @group(0) @binding(0) params: TransposeParams
//       n = elements, elem_bytes (1, 2, 4 or 8), rank (<= 8),
//       the output shape, in_strides (input element stride of each output dim),
//       first (output element of the dispatch's first element: tensors larger than one
//       binding run in pieces starting at word boundaries; n counts the piece),
//       x_origin (element where X's bound window starts, a word boundary), y_base (the
//       word of Y's bound window that holds element `first`)
//   @group(0) @binding(1) x: array<u32>   input as 32-bit words
//   @group(0) @binding(2) y: array<u32>   output as 32-bit words
// One invocation per output word, so sub-word elements (bool, f16, bf16) are
// gathered into whole words and no two invocations write the same word.
// `transpose_scatter` (4- and 8-byte elements; narrower ones run as f32 copies)
// runs the other way round, for
// transposes whose every few outputs gather from across more than a binding (a
// short outer axis moved innermost): one invocation per input element of a
// contiguous range writes it where it goes. There shape and in_strides walk
// the input (the output element stride of each input dim), first is the first
// input element, x_origin where Y's bound window starts and y_base the word of
// X's bound window holding element `first`.

// #include <linear_id>
// #include <TransposeParams>

@group(0) @binding(0) var<storage, read> params: TransposeParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

// Index in X's bound window of the input element of the piece's element e.
fn source(e: u32) -> u32 {
    let rank = params.rank;
    var rest = params.first + e;
    var src = 0u;
    for (var k = 0u; k < rank; k++) {
        let d = rank - 1u - k;
        src += (rest % params.shape[d]) * params.in_strides[d];
        rest = rest / params.shape[d];
    }
    return src - params.x_origin;
}

@compute @workgroup_size(256)
fn transpose(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = linear_id(gid, nwg);
    let n = params.n;
    let bytes = params.elem_bytes;
    if bytes >= 4u {
        let words = bytes / 4u;
        if w >= n * words { return; }
        y[params.y_base + w] = x[source(w / words) * words + w % words];
        return;
    }
    let per_word = 4u / bytes;
    if w * per_word >= n { return; }
    let bits = bytes * 8u;
    let mask = (1u << bits) - 1u;
    var word = 0u;
    for (var k = 0u; k < per_word && w * per_word + k < n; k++) {
        let s = source(w * per_word + k);
        let v = (x[s / per_word] >> ((s % per_word) * bits)) & mask;
        word = word | (v << (k * bits));
    }
    y[params.y_base + w] = word;
}

@compute @workgroup_size(256)
fn transpose_scatter(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    let words = params.elem_bytes / 4u;
    let dst = source(i) * words;
    for (var k = 0u; k < words; k++) {
        y[dst + k] = x[params.y_base + i * words + k];
    }
}
