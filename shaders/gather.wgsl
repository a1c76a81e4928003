// TEMPLATE gather.wgsl: Gather and GatherElements on raw storage (any dtype, blocks of
// a block-quantized table included), one invocation per output word.
//
// Expanded by crates/hcal-wgpu/src/gather.rs: the lines ending in `// BUF` read
// data from its storage buffer, those ending in `// TEX` (Gather of a
// block-quantized table held in a texture, crates/hcal-wgpu/src/packed.rs:
// its bytes, 16 per texel, $TW texels per row, its blocks in the interleaved
// order of block_layout.rs when data_group > 0: `stored_byte`) from the texture.
//
// Bindings (both entries):
//   @group(0) @binding(0) params: GatherParams (generated from crates/hcal-wgpu/src/params/):
//       out_bytes (bytes of the output), unit_bytes (Gather: bytes of one gathered row;
//       GatherElements: bytes per element), axis_len (extent s of the indexed axis),
//       count (Gather: number of indices), fill_period / fill_prefix / fill_pattern
//       (the bytes an index outside [-s, s) writes: byte c of a unit is
//       (fill_pattern >> 8 (c % fill_period)) & 0xFF when c % fill_period < fill_prefix,
//       else 0; see hcal_core::out_of_range_fill), rank / axis / shape (GatherElements:
//       the indices' rank, the axis and the indices' shape = the output's),
//       strides (GatherElements: data's element strides);
//       pieces of tensors larger than one binding: first_word / words (the output words
//       of this dispatch), out_base (where first_word lies in out's window), idx_origin
//       (index where the indices' window starts), data_origin (byte where data's window
//       starts), held_lo / held_hi (the data units the window holds: Gather rows flat over
//       [outer, s], GatherElements elements), write_fill (1: this dispatch writes the
//       fills), merge (1: bytes from units not held, or fills when write_fill is 0, keep
//       what out holds: another dispatch writes them)
//   @group(0) @binding(1) data: array<u32>      data as 32-bit words (or its texture, dt)
//   @group(0) @binding(2) indices: array<u32>   i64 indices as (low, high) word pairs
//   @group(0) @binding(3) out: array<u32>       output as 32-bit words
// Each output byte is looked up on its own (rows and elements need not be
// word aligned), so no two invocations write the same word; whole words are
// copied when units are word multiples. A whole call is one dispatch holding
// all of data (merge 0); a table larger than a binding is read in windows,
// one dispatch each over the same output words, each byte written by the
// dispatch whose window holds its source (or that writes the fills).

// #include <linear_id>
// #include <block_order>
// #include <GatherParams>

@group(0) @binding(0) var<storage, read> params: GatherParams;
@group(0) @binding(1) var<storage, read> data: array<u32>; // BUF
@group(0) @binding(1) var dt: texture_storage_2d<rgba32uint, read>; // TEX
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

const INVALID: u32 = 0xffffffffu;
// A byte this dispatch leaves as it is (see `merge`).
const KEEP: u32 = 0x100u;

// The row index k = indices[p] picks on the axis, or INVALID outside [-s, s).
fn resolve(p: u32) -> u32 {
    let at = 2u * (p - params.idx_origin);
    let lo = indices[at];
    let hi = indices[at + 1u];
    let s = params.axis_len;
    if hi == 0u && lo < s { return lo; }
    // Negative: k = lo - 2^32 with -s <= k, i.e. 2^32 - lo <= s.
    if hi == 0xffffffffu && lo != 0u && 0u - lo <= s { return lo + s; }
    return INVALID;
}

// Word w of data's window.
fn data_word(w: u32) -> u32 {
    return data[w]; // BUF
    let t = w / 4u; // TEX
    let v = textureLoad(dt, vec2<u32>(t & ($TWu - 1u), t / $TWu)); // TEX
    return select(select(v.x, v.y, w % 4u == 1u), select(v.z, v.w, w % 4u == 3u), w % 4u >= 2u); // TEX
}

fn held(unit: u32) -> bool {
    return unit >= params.held_lo && unit < params.held_hi;
}

// Where byte `a` of a block-quantized table is stored: itself, or in the
// interleaved block order of crates/hcal-wgpu/src/block_layout.rs (data_group > 0).
// In the split form (data_head > 0) a block's head and rest lie apart (`block_parts`).
fn stored_byte(a: u32) -> u32 {
    if params.data_group == 0u { return a; }
    let bb = params.data_block_bytes;
    let head = params.data_head;
    let c = a % bb;
    let parts = block_parts(a / bb, params.data_group, params.data_unit, params.data_rows, params.data_blocks_per_row, bb, head, head);
    return select(parts.y + c - head, parts.x + c, c < head);
}

fn data_byte(at: u32) -> u32 {
    let a = stored_byte(at - params.data_origin);
    return (data_word(a / 4u) >> (8u * (a % 4u))) & 0xffu;
}

// Byte c of the fill unit (KEEP when another dispatch writes the fills).
fn fill_byte(c: u32) -> u32 {
    if params.write_fill == 0u { return KEEP; }
    let k = c % params.fill_period;
    if k >= params.fill_prefix { return 0u; }
    return (params.fill_pattern >> (8u * k)) & 0xffu;
}

// Gather: output byte e of [outer, count, row] comes from data [outer, s, row].
fn gather_byte(e: u32) -> u32 {
    let row = params.unit_bytes;
    let r = e / row;
    let c = e % row;
    let k = resolve(r % params.count);
    if k == INVALID { return fill_byte(c); }
    let unit = (r / params.count) * params.axis_len + k;
    if !held(unit) { return KEEP; }
    return data_byte(unit * row + c);
}

// The output word `w` (global) at `slot` of out's window, from its four
// looked-up bytes (KEEP: the byte out holds).
fn store(slot: u32, e0: u32, bytes: array<u32, 4>) {
    var word = 0u;
    var old = 0u;
    if params.merge == 1u { old = out[slot]; }
    for (var b = 0u; b < 4u; b++) {
        var v = bytes[b];
        if v == KEEP { v = (old >> (8u * b)) & 0xffu; }
        if e0 + b < params.out_bytes { word = word | (v << (8u * b)); }
    }
    out[slot] = word;
}

@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let local = linear_id(gid, nwg);
    if local >= params.words { return; }
    let w = params.first_word + local;
    let slot = params.out_base + local;
    let e0 = 4u * w;
    if e0 >= params.out_bytes { return; }
    let row = params.unit_bytes;
    if row % 4u == 0u && params.data_group == 0u {
        let r = e0 / row;
        let k = resolve(r % params.count);
        if k == INVALID {
            if params.write_fill == 0u { return; }
            let c = e0 % row;
            out[slot] = fill_byte(c) | (fill_byte(c + 1u) << 8u) | (fill_byte(c + 2u) << 16u) | (fill_byte(c + 3u) << 24u);
        } else {
            let unit = (r / params.count) * params.axis_len + k;
            if !held(unit) { return; }
            out[slot] = data_word((unit * row + e0 % row - params.data_origin) / 4u);
        }
        return;
    }
    var bytes = array<u32, 4>(0u, 0u, 0u, 0u);
    for (var b = 0u; b < 4u && e0 + b < params.out_bytes; b++) { bytes[b] = gather_byte(e0 + b); }
    store(slot, e0, bytes);
}

// GatherElements: output byte e of element i comes from data at i with
// i[axis] replaced by indices[i].
fn gather_elements_byte(e: u32) -> u32 {
    let elem = params.unit_bytes;
    let i = e / elem;
    let c = e % elem;
    let k = resolve(i);
    if k == INVALID { return fill_byte(c); }
    var rest = i;
    var src = 0u;
    for (var d = params.rank; d > 0u; d--) {
        let dim = d - 1u;
        let extent = params.shape[dim];
        var at = rest % extent;
        if dim == params.axis { at = k; }
        src += at * params.strides[dim];
        rest = rest / extent;
    }
    if !held(src) { return KEEP; }
    return data_byte(src * elem + c);
}

@compute @workgroup_size(256)
fn gather_elements(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let local = linear_id(gid, nwg);
    if local >= params.words { return; }
    let w = params.first_word + local;
    let e0 = 4u * w;
    if e0 >= params.out_bytes { return; }
    var bytes = array<u32, 4>(0u, 0u, 0u, 0u);
    for (var b = 0u; b < 4u && e0 + b < params.out_bytes; b++) { bytes[b] = gather_elements_byte(e0 + b); }
    store(params.out_base + local, e0, bytes);
}
