// TEMPLATE matmul_quant.wgsl: Y = alpha A dequant(B) + beta C with B block-quantized
// (GGML Q4_0, Q4_1 or Q8_0, read packed: no dequantized copy of B is ever made), f32 A and Y.
//
// A template, expanded by crates/hcal-wgpu/src/matmul/quant.rs per variant: `$Q` is the
// dtype (q4_0, q4_1, q8_0: which `dequant_*` / `value_*` the kernels call), `$BB` its
// bytes per block (18, 20, 34), `$HB` the bytes of its head (its scales: 2, 4, 2), `$RR` the rows of Y one invocation of `matmul_quant`
// computes, and a line holding `$r` repeats for r in 0..RR (named values, not a
// loop-indexed array: on SIMD CPU drivers those live in memory).
//
// Block layout (hcal_core::quant): 32 values along B's last dim; Q4_0 `d: f16, qs: [u8; 16]`,
// x = (q - 8) d; Q4_1 `d: f16, m: f16, qs: [u8; 16]`, x = q d + m; Q8_0 `d: f16, qs: [i8; 32]`,
// x = q d; for the 4-bit types element j < 16 is the low nibble of byte j and element
// j + 16 its high nibble. Blocks of 18 and 34 bytes start on 2-byte boundaries, so the
// kernels read the u32 words that cover a block and realign them by 16 bits. `matmul_quant`
// reads those words as the two (Q4_x) or three (Q8_0) vec4s that cover them and realigns by
// whole words: a storage load costs a loop over the lanes on SIMD CPU drivers, and a vec4
// costs little more than one word (lavapipe: Q8_0 GEMV 1x49152x576 44 -> 29 ms, Q4_1
// 1x1536x576 0.74 -> 0.64 ms, one thread). In a texture's split form (below) the row
// walk reads each block's head and quants from whole texels instead.
// Values are formed exactly as the standard says: `fma(q, d, m)` for Q4_1 (one rounding;
// `q d` is exact), `fma(q, d, -8 d)` for Q4_0 and `q * d` for Q8_0 (both exact).
//
// Bindings (the parameter block is matmul.wgsl's):
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl): m, n, k, flags
//       (1 = transA, 2 = transB: B is [N, K], 4 = C present), alpha, beta, batch dims and
//       strides, C strides, a_base, b_base (elements, a multiple of 32), y_base,
//       y_batch_stride, lda, ldb (elements; a multiple of 32), ldy, c_base
//   @group(0) @binding(1) a: array<vec4<f32>>   (indexed per element by `matmul_quant_any`)
//   @group(0) @binding(2) b: array<u32>          the packed blocks, as stored (b4: the same
//       bytes as vec4<u32>, read by `matmul_quant`; the binding's size is a multiple of 16);
//       in the `// TEX` form the same bytes in a read-only rgba32uint texture bt, 16 per
//       texel, $TW texels per row (crates/hcal-wgpu/src/packed.rs). Every read goes
//       through `b4_at` / `b_at`, whose `// BUF` or `// TEX` lines the expansion keeps.
//       A texture's blocks may be in the interleaved order of
//       crates/hcal-wgpu/src/block_layout.rs (params.b_group > 0): every block address
//       goes through `phys_block` (or `parts`), and the GEMV steps along a row by
//       `unit_stride`. A texture may be in that order's split form (params.b_head
//       > 0: each run's heads, then their quants), which the row walk reads in its
//       `// SPLIT` form (4 columns: one texel of heads, whole texels of quants per column)
//       and the element-wise entries through `parts`.
//   @group(0) @binding(3) c: array<f32>          (a dummy when C is absent)
//   @group(0) @binding(4) y: array<f32>
//
// Entry `matmul_quant` (transB, no transA, no batch: a weight matrix [N, K] with its
// blocks along K, as every GGUF linear layer stores it): one invocation per output
// column j and RR rows; it walks row j of B block by block, dequantizes each block once
// into registers and multiplies it into RR rows of A, whose loads are the same for
// every invocation of a workgroup. (Uniform, but inside the block loop lavapipe 22.3
// still loads them lane by lane: its one-load fast path needs no active exec mask, and
// a loop has one. A GEMV built on uniform loads of B's blocks, 8 lanes sharing each
// block, ran 5-9x slower than this one.) Each row keeps a vec4 of partial sums (f32 fma, element p in lane p % 4, K
// order within a lane), added as (x + y) + (z + w) at the end: deterministic.
// RR = 1 is the GEMV of decode. Each invocation takes $CC adjacent columns (CC > 1 only
// for the GEMV): A's loads of a block are shared by them, and each
// column's sums are formed exactly as with one column, so CC changes no bit. The `$cb`
// lines repeat as a block per column (that column's block dequantized, then used), so
// one column's values die before the next's are made. Without subgroups (`// NOSG1`
// lines for one column, `// NOSGN` for more) each invocation loads A's 8 vec4s of a
// block itself, once for all its columns (inline per use for one column: the
// prefill tile's 8 rows would otherwise hold 64 of them). Where subgroups are exactly 8 wide (the `// SG` lines) the 8 lanes of a subgroup load one vec4 each of a row's
// 32 values of A for the block and share them with `subgroupBroadcast` (a constant
// lane: cheap), since storage loads on SIMD CPU drivers cost a loop over the lanes. A must start and have its rows on multiples of 4
// elements. Workgroups of WG invocations (64, or narrower for the GEMV on CPU drivers: quant.rs
// `gemv_plan`); dispatch (ceil(N / (WG CC)), ceil(M / RR), 1).
//
// The normalizing form of the GEMV (`// NORM` lines; RR = 1; `// PLAIN` lines otherwise) runs
// RMSNormGemm with the row's scalar 1 / sqrt(mean(a^2) + epsilon) taken out of the sum:
// y_j = inv * sum_k (a_k scale_k) b_kj. It reads A as it must for the product anyway,
// each vec4 times Scale's, and sums the squares of what it read (`norm_ss`): each lane
// of an 8-wide subgroup read its own vec4s of the row, added across the subgroup at the
// end. No barrier and no extra pass over A: a workgroup reduction before the product
// (norm.wgsl's tree) made the kernel slower than RMSNormalization's own dispatch on
// lavapipe. Only with subgroups (the `// SG` form): without them every invocation reads
// the whole row and Scale, and llvmpipe's GL decoded slower than with the two ops, so
// the backend runs those there (quant.rs `normalizing_gemv_runs`). Within the tolerance
// model's bound (the factor's error is relative to the whole sum), not the bits of the
// two ops.
//   @group(0) @binding(5) norm_scale: array<vec4<f32>>   the normalization's Scale [K]
//   (in the GEMV's uniform form, `// UNIF`: Scale and A's one row, binding 6, are
//   uniform arrays of K/4 vec4s, read with the same indices; binding 1 is unused)
//
// Entry `matmul_quant_any` (any flags, batch broadcasting: MatMul's B [.., K, N] with
// blocks along N): one invocation per output, each value of B decoded on its own
// (`value_$Q`), f32 fma in K order. Workgroups of 8x8; dispatch (ceil(N/8), ceil(M/8), batch).
//
// Entry `dequantize` (Cast from a quantized dtype): y[i] = value of element i, for
// i < params.n; per-item grid (include/linear_id.wgsl).

// #include <matmul_params>
// #include <linear_id>
// #include <block_order>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<u32>; // BUF
// The same binding as vec4s, for `matmul_quant` only (no entry uses both).
@group(0) @binding(2) var<storage, read> b4: array<vec4<u32>>; // BUF
// B held in a texture (crates/hcal-wgpu/src/packed.rs): its bytes, 16 per
// texel, $TW texels per row, its blocks in the order `parts` maps.
@group(0) @binding(2) var bt: texture_storage_2d<rgba32uint, read>; // TEX
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> norm_scale: array<vec4<f32>>; // STOR
// The GEMV's uniform form (`// UNIF` lines, one row: quant.rs `uniform_extent`):
// A's row and Scale in uniform buffers of exactly $AK vec4s, which lavapipe
// loads as a branch-free gather where a storage load is a loop over the lanes
// with a branch per lane and a bounds test per component.
@group(0) @binding(5) var<uniform> norm_scale: array<vec4<f32>, $AK>; // UNIF
@group(0) @binding(6) var<uniform> a_row: array<vec4<f32>, $AK>; // UNIF

// The normalizing form's running sums of the squares of the A values this
// invocation read, one per vec4 lane.
var<private> norm_ss: vec4<f32>;

// Vec4 `i` of A, in the row whose first vec4 is `row4`: as stored, or in the
// normalizing form times Scale's vec4, its squares added to `norm_ss`.
fn a_vec(i: u32, row4: u32) -> vec4<f32> {
    let v = a[i]; // STOR
    let v = a_row[i - row4]; // UNIF
    norm_ss = fma(v, v, norm_ss); // NORM
    return v * norm_scale[i - row4]; // NORM
    return v; // PLAIN
}

// 1 / sqrt(mean(x^2) + epsilon) of a row of K = params.k values from the sum
// of their squares.
fn inv_rms(sum_squares: f32) -> f32 {
    return inverseSqrt(sum_squares * (1.0 / f32(params.k)) + params.norm_epsilon);
}

const BLOCK_BYTES: u32 = $BBu;

// Bytes at the head of a block: its scales (d, or d and m).
const HEAD_BYTES: u32 = $HBu;

// Where logical block `l` of B is stored (include/block_order.wgsl).
fn phys_block(l: u32) -> u32 {
    return interleaved_block(l, params.b_group, params.b_unit, params.b_rows, params.b_blocks_per_row);
}

// Byte offsets of logical block `l`'s head (its scales) and of its quants,
// in stored, interleaved or split order (include/block_order.wgsl).
fn parts(l: u32) -> vec2<u32> {
    return block_parts(l, params.b_group, params.b_unit, params.b_rows, params.b_blocks_per_row, BLOCK_BYTES, HEAD_BYTES, params.b_head);
}

// Blocks from one unit of logical block `l`'s row to the next: 1 in stored
// order, the rows of its group in the interleaved one (times b_unit per unit).
fn unit_stride(l: u32) -> u32 {
    let group = params.b_group;
    if group == 0u { return 1u; }
    let g = l / params.b_blocks_per_row / group;
    return min(group, params.b_rows - g * group) * params.b_unit;
}

// Words 4i..4i+3 of B.
fn b4_at(i: u32) -> vec4<u32> {
    return b4[i]; // BUF
    return textureLoad(bt, vec2<u32>(i & ($TWu - 1u), i / $TWu)); // TEX
}

// Word w of B.
fn b_at(w: u32) -> u32 {
    return b[w]; // BUF
    let v = b4_at(w >> 2u); // TEX
    return pick(w & 3u, v.x, v.y, v.z, v.w); // TEX
}

// Word `s` (0..3) of the four words a0..a3: three selects, no indexed array
// (which SIMD CPU drivers keep in memory).
fn pick(s: u32, a0: u32, a1: u32, a2: u32, a3: u32) -> u32 {
    return select(select(a0, a1, s == 1u), select(a2, a3, s == 3u), s >= 2u);
}

// Five words of B from word `w` on.
struct Words5 {
    x0: u32,
    x1: u32,
    x2: u32,
    x3: u32,
    x4: u32,
}

// Words w..w+4 of B from the two vec4 loads that cover them (a storage load
// costs a loop over the lanes on SIMD CPU drivers, a vec4 hardly more than a
// word), realigned by `w % 4` words.
fn words5(w: u32) -> Words5 {
    let v0 = b4_at(w >> 2u);
    let v1 = b4_at((w >> 2u) + 1u);
    let s = w & 3u;
    return Words5(
        pick(s, v0.x, v0.y, v0.z, v0.w), pick(s, v0.y, v0.z, v0.w, v1.x), pick(s, v0.z, v0.w, v1.x, v1.y),
        pick(s, v0.w, v1.x, v1.y, v1.z), pick(s, v1.x, v1.y, v1.z, v1.w),
    );
}

// One block's 32 values: v[i] holds elements 4i..4i+3.
struct Block {
    v0: vec4<f32>,
    v1: vec4<f32>,
    v2: vec4<f32>,
    v3: vec4<f32>,
    v4: vec4<f32>,
    v5: vec4<f32>,
    v6: vec4<f32>,
    v7: vec4<f32>,
}

// The nibbles of a 4-bit block's packed word i (bytes 4i..4i+3) left in place:
// component k is `q << 8k` for the low nibble q of byte k (elements 4i..4i+3),
// exact in f32 (under 2^28). Multiplied by `d 2^-8k` (`scaled`) it gives `q d`
// exactly, both being the same real number, so `fma(low_nibbles(w), scaled(d),
// m)` has the bits of `fma(f32(q), d, m)`; a mask per value instead of a shift
// and a mask (the shifts were a quarter of the dequantization's instructions on
// SIMD CPU drivers), and a signed conversion, which x86 has as one instruction.
fn low_nibbles(w: u32) -> vec4<f32> {
    return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(w) & vec4<u32>(0xfu, 0xf00u, 0xf0000u, 0xf000000u)));
}

// The high nibbles of word i (elements 16+4i..16+4i+3), in place as for `low_nibbles`.
fn high_nibbles(w: u32) -> vec4<f32> {
    return low_nibbles(w >> 4u);
}

// `d 2^-8k` in component k: the scales `low_nibbles`' in-place values take.
// Exact: d is an f16 (at least 2^-24 in magnitude unless 0), so `d 2^-24`
// stays a normal f32; infinities and NaNs stay what they are.
fn scaled(d: f32) -> vec4<f32> {
    return vec4<f32>(d) * vec4<f32>(1.0, 0.00390625, 1.52587890625e-05, 5.9604644775390625e-08);
}

// The four signed bytes of a word, sign-extended, lowest byte first.
fn signed_bytes(w: u32) -> vec4<f32> {
    return vec4<f32>((vec4<i32>(bitcast<i32>(w)) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

// The word that starts at byte `2 h + 2` of a block whose first word is x0 (h = 0)
// or at byte 2 h of a block starting 2 bytes into x0 (h = 1): bytes realigned by 16 bits.
fn join(lo: u32, hi: u32, odd: bool) -> u32 {
    return select((lo >> 16u) | (hi << 16u), hi, odd);
}

fn dequant_q4_0(byte: u32) -> Block {
    let w = byte >> 2u;
    let odd = (byte & 2u) != 0u;
    let x = words5(w);
    let x0 = x.x0;
    let x1 = x.x1;
    let x2 = x.x2;
    let x3 = x.x3;
    let x4 = x.x4;
    let d = unpack2x16float(select(x0, x0 >> 16u, odd)).x;
    return q4_0_block(d, join(x0, x1, odd), join(x1, x2, odd), join(x2, x3, odd), join(x3, x4, odd));
}

// One Q4_0 block from its scale d and its 16 bytes of nibbles.
fn q4_0_block(d: f32, q0: u32, q1: u32, q2: u32, q3: u32) -> Block {
    let dv = scaled(d);
    let mv = vec4<f32>(-8.0 * d);
    return Block(
        fma(low_nibbles(q0), dv, mv), fma(low_nibbles(q1), dv, mv),
        fma(low_nibbles(q2), dv, mv), fma(low_nibbles(q3), dv, mv),
        fma(high_nibbles(q0), dv, mv), fma(high_nibbles(q1), dv, mv),
        fma(high_nibbles(q2), dv, mv), fma(high_nibbles(q3), dv, mv),
    );
}

fn dequant_q4_1(byte: u32) -> Block {
    // 20-byte blocks always start on a word.
    let x = words5(byte >> 2u);
    return q4_1_block(x.x0, x.x1, x.x2, x.x3, x.x4);
}

// One Q4_1 block from its five words: d and m, then the 16 bytes of nibbles.
fn q4_1_block(dm_word: u32, q0: u32, q1: u32, q2: u32, q3: u32) -> Block {
    let dm = unpack2x16float(dm_word);
    let dv = scaled(dm.x);
    let mv = vec4<f32>(dm.y);
    return Block(
        fma(low_nibbles(q0), dv, mv), fma(low_nibbles(q1), dv, mv),
        fma(low_nibbles(q2), dv, mv), fma(low_nibbles(q3), dv, mv),
        fma(high_nibbles(q0), dv, mv), fma(high_nibbles(q1), dv, mv),
        fma(high_nibbles(q2), dv, mv), fma(high_nibbles(q3), dv, mv),
    );
}

// A block in the split form, its head and quants at `p` (`parts`): the
// word holding its scales, and the texels of its quants (whole texels: see
// block_layout.rs).
fn dequant_split_q4_1(p: vec2<u32>) -> Block {
    let t = b4_at(p.y / 16u);
    return q4_1_block(b_at(p.x / 4u), t.x, t.y, t.z, t.w);
}

fn dequant_split_q4_0(p: vec2<u32>) -> Block {
    let t = b4_at(p.y / 16u);
    return q4_0_block(half_at(p.x), t.x, t.y, t.z, t.w);
}

fn dequant_split_q8_0(p: vec2<u32>) -> Block {
    return q8_0_block(half_at(p.x), b4_at(p.y / 16u), b4_at(p.y / 16u + 1u));
}

// Column `c` (0..3) of the 4-column GEMV in the split form: `heads` is the
// texel holding the lane's 4 heads from byte `at` on (`at` a multiple of 16
// for 4-byte heads, of 8 for 2-byte ones), `rest` where the column's quants start.
fn split4_q4_1(heads: vec4<u32>, at: u32, c: u32, rest: u32) -> Block {
    let t = b4_at(rest / 16u);
    return q4_1_block(pick(c, heads.x, heads.y, heads.z, heads.w), t.x, t.y, t.z, t.w);
}

// The f16 scale of column `c` among 4 two-byte heads from byte `at` of `heads`.
fn split4_half(heads: vec4<u32>, at: u32, c: u32) -> f32 {
    let word = pick((at & 8u) / 4u + c / 2u, heads.x, heads.y, heads.z, heads.w);
    return unpack2x16float(word >> (16u * (c & 1u))).x;
}

fn split4_q4_0(heads: vec4<u32>, at: u32, c: u32, rest: u32) -> Block {
    let t = b4_at(rest / 16u);
    return q4_0_block(split4_half(heads, at, c), t.x, t.y, t.z, t.w);
}

fn split4_q8_0(heads: vec4<u32>, at: u32, c: u32, rest: u32) -> Block {
    return q8_0_block(split4_half(heads, at, c), b4_at(rest / 16u), b4_at(rest / 16u + 1u));
}

// Two adjacent Q4_1 blocks.
struct Pair {
    a: Block,
    b: Block,
}

// The two Q4_1 blocks from byte `byte` on (a multiple of 8, so the first word
// sits at 0 or 2 in its vec4): the three vec4s that cover their ten words,
// realigned by one select per word.
fn dequant_q4_1_pair(byte: u32) -> Pair {
    let w = byte >> 2u;
    let v0 = b4_at(w >> 2u);
    let v1 = b4_at((w >> 2u) + 1u);
    let v2 = b4_at((w >> 2u) + 2u);
    let s2 = (w & 3u) == 2u;
    return Pair(
        q4_1_block(select(v0.x, v0.z, s2), select(v0.y, v0.w, s2), select(v0.z, v1.x, s2), select(v0.w, v1.y, s2), select(v1.x, v1.z, s2)),
        q4_1_block(select(v1.y, v1.w, s2), select(v1.z, v2.x, s2), select(v1.w, v2.y, s2), select(v2.x, v2.z, s2), select(v2.y, v2.w, s2)),
    );
}

fn dequant_q8_0(byte: u32) -> Block {
    let w = byte >> 2u;
    let odd = (byte & 2u) != 0u;
    let v0 = b4_at(w >> 2u);
    let v1 = b4_at((w >> 2u) + 1u);
    let v2 = b4_at((w >> 2u) + 2u);
    let s = w & 3u;
    let x0 = pick(s, v0.x, v0.y, v0.z, v0.w);
    let x1 = pick(s, v0.y, v0.z, v0.w, v1.x);
    let x2 = pick(s, v0.z, v0.w, v1.x, v1.y);
    let x3 = pick(s, v0.w, v1.x, v1.y, v1.z);
    let x4 = pick(s, v1.x, v1.y, v1.z, v1.w);
    let x5 = pick(s, v1.y, v1.z, v1.w, v2.x);
    let x6 = pick(s, v1.z, v1.w, v2.x, v2.y);
    let x7 = pick(s, v1.w, v2.x, v2.y, v2.z);
    let x8 = pick(s, v2.x, v2.y, v2.z, v2.w);
    let d = unpack2x16float(select(x0, x0 >> 16u, odd)).x;
    return q8_0_block(
        d, vec4<u32>(join(x0, x1, odd), join(x1, x2, odd), join(x2, x3, odd), join(x3, x4, odd)),
        vec4<u32>(join(x4, x5, odd), join(x5, x6, odd), join(x6, x7, odd), join(x7, x8, odd)),
    );
}

// One Q8_0 block from its scale d and its 32 bytes of quants (two texels' worth).
fn q8_0_block(d: f32, lo: vec4<u32>, hi: vec4<u32>) -> Block {
    let dv = vec4<f32>(d);
    return Block(
        signed_bytes(lo.x) * dv, signed_bytes(lo.y) * dv, signed_bytes(lo.z) * dv, signed_bytes(lo.w) * dv,
        signed_bytes(hi.x) * dv, signed_bytes(hi.y) * dv, signed_bytes(hi.z) * dv, signed_bytes(hi.w) * dv,
    );
}

// The byte at byte offset `at` of B.
fn byte_at(at: u32) -> u32 {
    return (b_at(at >> 2u) >> ((at & 3u) * 8u)) & 0xffu;
}

// The f16 at (even) byte offset `at` of B, as f32.
fn half_at(at: u32) -> f32 {
    return unpack2x16float(b_at(at >> 2u) >> ((at & 2u) * 8u)).x;
}

// Value of element `e` of a quantized tensor (its row-major index), one at a time.
fn value_q4_0(e: u32) -> f32 {
    let at = parts(e / 32u);
    let j = e % 32u;
    let q = (byte_at(at.y + j % 16u) >> ((j / 16u) * 4u)) & 15u;
    let d = half_at(at.x);
    return fma(f32(q), d, -8.0 * d);
}

fn value_q4_1(e: u32) -> f32 {
    let at = parts(e / 32u);
    let j = e % 32u;
    let q = (byte_at(at.y + j % 16u) >> ((j / 16u) * 4u)) & 15u;
    return fma(f32(q), half_at(at.x), half_at(at.x + 2u));
}

fn value_q8_0(e: u32) -> f32 {
    let at = parts(e / 32u);
    let q = (bitcast<i32>(byte_at(at.y + e % 32u)) << 24u) >> 24u;
    return f32(q) * half_at(at.x);
}

fn a_at(i: u32) -> f32 {
    return a[i >> 2u][i & 3u];
}

// Gemm's epilogue on output (row, col) of the product.
fn finish(v: f32, row: u32, col: u32) -> f32 {
    var r = v;
    if params.alpha != 1.0 { r = params.alpha * r; }
    if (params.flags & 4u) != 0u {
        r = r + params.beta * c[params.c_base + row * params.c_stride_m + col * params.c_stride_n];
    }
    return r;
}

@compute @workgroup_size($WG)
fn matmul_quant(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) { // SG
fn matmul_quant(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) { // NOSG
    let m_dim = params.m;
    let n_dim = params.n;
    let col0 = gid.x * $CCu;
    let row0 = wid.y * $RRu;
    let lda4 = params.lda / 4u;
    let a4 = params.a_base / 4u;
    let arow$r = a4 + min(row0 + $ru, m_dim - 1u) * lda4;
    var acc$r_$c = vec4<f32>(0.0);
    let blocks = params.k / 32u;
    // Out-of-range columns compute on the last column and store nothing, so
    // every lane runs the same loop.
    let first$c = params.b_base / 32u + min(col0 + $cu, n_dim - 1u) * (params.ldb / 32u); // WHOLE
    var byte$c = phys_block(first$c) * BLOCK_BYTES; // WHOLE
    // In the split form (`// SPLIT` lines) an invocation's columns are
    // rows of one group (N in fours; beyond N the last four).
    let first$c = params.b_base / 32u + (min(col0, n_dim - $CCu) + $cu) * (params.ldb / 32u); // SPLIT
    var parts$c = parts(first$c); // SPLIT
    // Bytes from a unit of the row to the next (see `phys_block`).
    let step$c = unit_stride(first$c) * BLOCK_BYTES;
    var blk = 0u;
    // The one-column Q4_1 GEMV with subgroups (the `// Q41` lines): two blocks
    // per step where every row's pairs start on 8 bytes (B's first block and
    // its blocks per row even): their ten words come from three vec4 loads
    // realigned by 0 or 2 words, not four loads and 3-way selects. The same
    // fmas in the same order as the one-block loop below, which takes the
    // rest. (lavapipe w8, alternated with the one-block loop, 6 pairs:
    // 576x576 and 576x1536 faster in 5 and 4 of 6. With 2 columns per
    // invocation (1536x576), without subgroups (llvmpipe GL) and in the 8-row
    // prefill tile, the pairs' extra live values made it slower.)
    // In the interleaved order only where its units are pairs.
    let even = ((params.b_base / 32u) | (params.ldb / 32u)) % 2u == 0u; // Q41
    let pairs = select(0u, blocks / 2u, select(even, params.b_unit == 2u, params.b_group != 0u)); // Q41
    for (; blk < 2u * pairs; blk += 2u) { // Q41
        let p = blk * 8u; // Q41
        let al$r = a_vec(arow$r + p + lane, arow$r); // Q41
        let bl$r = a_vec(arow$r + p + 8u + lane, arow$r); // Q41
        let y$cb = dequant_q4_1_pair(byte$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v0, subgroupBroadcast(al$r, 0u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v1, subgroupBroadcast(al$r, 1u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v2, subgroupBroadcast(al$r, 2u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v3, subgroupBroadcast(al$r, 3u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v4, subgroupBroadcast(al$r, 4u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v5, subgroupBroadcast(al$r, 5u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v6, subgroupBroadcast(al$r, 6u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.a.v7, subgroupBroadcast(al$r, 7u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v0, subgroupBroadcast(bl$r, 0u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v1, subgroupBroadcast(bl$r, 1u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v2, subgroupBroadcast(bl$r, 2u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v3, subgroupBroadcast(bl$r, 3u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v4, subgroupBroadcast(bl$r, 4u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v5, subgroupBroadcast(bl$r, 5u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v6, subgroupBroadcast(bl$r, 6u), acc$r_$cb); // Q41
        acc$r_$cb = fma(y$cb.b.v7, subgroupBroadcast(bl$r, 7u), acc$r_$cb); // Q41
        byte$cb += select(2u * BLOCK_BYTES, step$cb, params.b_group != 0u); // Q41
    } // Q41
    for (; blk < blocks; blk++) {
        let p = blk * 8u;
        let al$r = a_vec(arow$r + p + lane, arow$r); // SG
        let a$r_0 = a_vec(arow$r + p, arow$r); // NOSGN
        let a$r_1 = a_vec(arow$r + p + 1u, arow$r); // NOSGN
        let a$r_2 = a_vec(arow$r + p + 2u, arow$r); // NOSGN
        let a$r_3 = a_vec(arow$r + p + 3u, arow$r); // NOSGN
        let a$r_4 = a_vec(arow$r + p + 4u, arow$r); // NOSGN
        let a$r_5 = a_vec(arow$r + p + 5u, arow$r); // NOSGN
        let a$r_6 = a_vec(arow$r + p + 6u, arow$r); // NOSGN
        let a$r_7 = a_vec(arow$r + p + 7u, arow$r); // NOSGN
        // 4 columns in the split form: their 4 heads lie in one texel.
        let heads = b4_at(parts0.x / 16u); // SPLIT4
        let x$cb = dequant_$Q(byte$cb); // WHOLE
        let x$cb = split4_$Q(heads, parts0.x, $cbu, parts$cb.y); // SPLIT4
        let x$cb = dequant_split_$Q(parts$cb); // SPLIT1
        acc$r_$cb = fma(x$cb.v0, a_vec(arow$r + p, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v1, a_vec(arow$r + p + 1u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v2, a_vec(arow$r + p + 2u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v3, a_vec(arow$r + p + 3u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v4, a_vec(arow$r + p + 4u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v5, a_vec(arow$r + p + 5u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v6, a_vec(arow$r + p + 6u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v7, a_vec(arow$r + p + 7u, arow$r), acc$r_$cb); // NOSG1
        acc$r_$cb = fma(x$cb.v0, a$r_0, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v1, a$r_1, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v2, a$r_2, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v3, a$r_3, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v4, a$r_4, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v5, a$r_5, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v6, a$r_6, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v7, a$r_7, acc$r_$cb); // NOSGN
        acc$r_$cb = fma(x$cb.v0, subgroupBroadcast(al$r, 0u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v1, subgroupBroadcast(al$r, 1u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v2, subgroupBroadcast(al$r, 2u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v3, subgroupBroadcast(al$r, 3u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v4, subgroupBroadcast(al$r, 4u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v5, subgroupBroadcast(al$r, 5u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v6, subgroupBroadcast(al$r, 6u), acc$r_$cb); // SG
        acc$r_$cb = fma(x$cb.v7, subgroupBroadcast(al$r, 7u), acc$r_$cb); // SG
        // The next block: the next unit, or within a pair of the interleaved order the pair's second.
        byte$cb += select(step$cb, select(BLOCK_BYTES, step$cb - BLOCK_BYTES, (blk & 1u) == 1u), params.b_unit == 2u); // WHOLE
        parts$cb += vec2<u32>(step$cb); // SPLIT
    }
    let ldy = params.ldy;
    // The normalizing form: the row's squares summed (a lane's own vec4s,
    // then across the subgroup), then 1/rms.
    let own = (norm_ss.x + norm_ss.y) + (norm_ss.z + norm_ss.w); // NORM
    let inv = inv_rms(subgroupAdd(own)); // NORM
    let inv = 1.0; // PLAIN
    if row0 + $ru < m_dim && col0 + $cu < n_dim { y[params.y_base + (row0 + $ru) * ldy + col0 + $cu] = finish(((acc$r_$c.x + acc$r_$c.y) + (acc$r_$c.z + acc$r_$c.w)) * inv, row0 + $ru, col0 + $cu); }
}

@compute @workgroup_size(8, 8)
fn matmul_quant_any(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if row >= params.m || col >= params.n { return; }
    let trans_a = (params.flags & 1u) != 0u;
    let trans_b = (params.flags & 2u) != 0u;
    let ab = batch_offsets(gid.z);
    // Element strides of op(A)[i, p] and op(B)[p, j].
    let a_si = select(params.lda, 1u, trans_a);
    let a_sp = select(1u, params.lda, trans_a);
    let b_sp = select(params.ldb, 1u, trans_b);
    let b_sj = select(1u, params.ldb, trans_b);
    var acc = 0.0;
    for (var p = 0u; p < params.k; p++) {
        acc = fma(a_at(ab.x + row * a_si + p * a_sp), value_$Q(ab.y + p * b_sp + col * b_sj), acc);
    }
    y[params.y_base + gid.z * params.y_batch_stride + row * params.ldy + col] = finish(acc, row, col);
}

@compute @workgroup_size(256)
fn dequantize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    y[i] = value_$Q(i);
}
