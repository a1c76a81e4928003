// TEMPLATE attention_flash.wgsl: ONNX Attention (opset 23) in one pass over key
// blocks, FlashAttention-2 style, f32, for subgroups of a fixed width $W (any
// power of two from 4 to 64: lavapipe's 4, 8 or 16, GPUs' 32 or 64); scale,
// softcap, causal (with past keys), grouped heads and 3-D Q/Y are handled, and
// bool or float masks. Needs the `subgroups` feature.
//
// One workgroup = one subgroup of $W invocations computes `$RR` query rows of
// one head. The query tile is loaded once into registers (lane l holds
// Q[row, $W c + l] of each chunk c of $W dims). Keys stream in blocks of
// $BK = 4 $KT $W: each lane scores 4 $KT of them ($KT texels) for all rows,
// like matmul_texture.wgsl's tiles, `subgroupBroadcast` sharing each query
// value across the lanes and K^T coming from a texture. The running max and
// sum per row use subgroupMax / subgroupAdd (no barrier); the output rows
// (lane l owns texels [$CO l, $CO (l + 1)) of the Dv / 4, clamped where
// Dv < 4 $W, those lanes' stores skipped) take each key's probability by
// broadcast from the lane that scored it and its V row from a texture. No
// score matrix exists; memory is the staged K and V.
//
// Why this shape, measured on lavapipe (Mesa 22.3, B1 H8 S1024 D64, 8 lanes): a
// sampled-texture fetch there is an out-of-line call that recomputes
// per-lane mip offsets and forces every live register to be saved around it,
// while a read-only storage-texture load is inlined (about 40 instructions for
// 8 lanes x 4 floats); a storage-buffer load is a branchy per-lane loop. Storage
// textures for K and V took the kernel from 34 to 37.5 GFLOP/s, and keeping Q
// in registers instead of reloading it for every key block to 41-45. Blocks
// of 64 keys at 4 to 16 lanes keep the work per broadcast the same at every
// width (16, 8, 4 keys per lane); from 32 lanes each lane scores one texel.
//
// Expanded by crates/hcal-wgpu/src/attention_flash.rs: `$W` lanes, `$RR` rows,
// `$KT` key texels per lane, `$BK` keys per block, `$CO` output texels per
// lane, `$DV4` texels of a V row (Dv / 4), `$MASKED` 1 where the mask code is
// compiled in, `$QSEL` the pick of chunk `ch` among a row's query registers,
// `$SMAX` / `$PSUM` a row's max / sum over its score texels, `$DSTEP` the K
// row of step j (clamped to D - 1 only where $W does not divide D);
// a line holding `$r` / `$c` (0..$KT) / `$o` (0..$CO) / `$h` (the query chunks)
// repeats per value (r outer); a run of lines holding `$j` repeats as a block
// per step j in 0..$W, a run holding `$k` per key k in 0..$BK, with `$kl` = the
// lane that scored key k, `$kc` its texel and `$kx` its component.
//
// Bindings:
//   @group(0) @binding(0) params: AttentionParams (generated from crates/hcal-wgpu/src/params/), the
//       `attention` block of attention.wgsl: q_heads, kv_heads, q_len, total_len T, past_len,
//       head_dim, packed_3d (1 = 3-D Q/Y), scale, softcap, causal, and v_fold_shift, v_folds
//   @group(0) @binding(1) q: array<f32>
//   @group(0) @binding(2) kt: texture_storage_2d_array<rgba32float, read>   K staged transposed
//       by matmul_stage.wgsl: texel [b Hkv + h, d, j/4] = K[b, h, j..j+4, d]
//   @group(0) @binding(3) vt: texture_storage_2d_array<rgba32float, read>
//       texel [(b Hkv + h) F + j >> s, j & (2^s - 1), c/4] = V[b, h, j, c..c+4], with
//       s = v_fold_shift (31: no folding) and F = v_folds layers per head, so T may
//       exceed the texture height
//   @group(0) @binding(4) mask: array<f32>   [mb, mh, Sq, Tm] (a dummy when absent), params
//       mask_kind (0 none, 1 bool as 0/1 floats, 2 additive), mask_batch mb, mask_heads mh,
//       mask_keys Tm
//   @group(0) @binding(5) y: array<vec4<f32>>
// Dispatch (ceil(Sq / RR), B Hq, 1). D <= $W x (query chunks) (dims past D
// read as zero), Dv = 4 $DV4, T >= 1.

//
// f16 tensors (kernel variant F16_IO, the `// F16` lines): Q and Y hold two f16
// elements per word, decoded and encoded by include/f16_bits.wgsl, and K and
// V arrive staged from f16 by matmul_stage.wgsl; scores, softmax and the
// output sums stay f32, each output rounded once to f16. The mask stays f32.

// #include <AttentionParams>
// #include <kv_head>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<f32>; // F32
@group(0) @binding(1) var<storage, read> q: array<u32>; // F16
@group(0) @binding(2) var kt: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(3) var vt: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>; // F32
@group(0) @binding(5) var<storage, read_write> y: array<vec2<u32>>; // F16

// #include <attention_qy>

// #include <attention_prep4>

@compute @workgroup_size($W, 1)
fn attention_flash(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let hq = params.q_heads;
    let sq = params.q_len;
    let total = params.total_len;
    let d = params.head_dim;
    let packed = params.packed_3d == 1u;
    let h = wid.y % hq;
    let b = wid.y / hq;
    let layer = b * params.kv_heads + kv_head(h);
    let r0 = wid.x * $RRu;
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    let i$r = min(r0 + $ru, sq - 1u);
    let qrow$r = select(((b * hq + h) * sq + i$r) * d, ((b * sq + i$r) * hq + h) * d, packed);
    // The query tile, loaded once (a storage-buffer load is a per-lane loop
    // on lavapipe): lane l holds Q[row, $W c + l] for each chunk c of $W dims,
    // zero past D (so a chunk's last steps add nothing where $W does not divide D).
    let q$r_$h = select(0.0, q_at(qrow$r + min($Wu * $hu + lane, d - 1u)), $Wu * $hu + lane < d);
    var m$r = neg_inf;
    var l$r = 0.0;
    var o$r_$o = vec4<f32>(0.0);
    let kt_width = (total + 3u) / 4u;
    // V's rows fold into layers of 2^vshift keys, v_folds layers per head.
    let vshift = params.v_fold_shift;
    let vmask = (1u << vshift) - 1u;
    let vlayer = layer * params.v_folds;
    let last = min(r0 + $RRu, sq) - 1u;
    // Causal: blocks past the tile's last diagonal are skipped.
    let keys = select(total, min(total, last + params.past_len + 1u), params.causal == 1u);
    for (var kb = 0u; kb < keys; kb += $BKu) {
        // Scores of keys kb + 4 $KT lane + 4 c + (0..4) for every row.
        let ktex$c = min(kb / 4u + $KTu * lane + $cu, kt_width - 1u);
        var s$r_$c = vec4<f32>(0.0);
        for (var d0 = 0u; d0 < d; d0 += $Wu) {
            // Chunk d0 / $W of each row, picked from registers (a loop-indexed
            // private array would live in memory on lavapipe).
            let ch = d0 / $Wu;
            let av$r = $QSEL;
            let a$r_$j = vec4<f32>(subgroupBroadcast(av$r, $ju));
            let b$c_$j = textureLoad(kt, vec2<u32>(ktex$c, $DSTEP), layer);
            s$r_$c = fma(a$r_$j, b$c_$j, s$r_$c);
        }
        s$r_$c = prep4(s$r_$c, b, h, i$r, kb + 4u * $KTu * lane + 4u * $cu);
        // Online softmax, per row: the new max over this block, then rescale.
        let mn$r = max(m$r, subgroupMax($SMAX));
        // A row with no visible key yet keeps l = 0 and o = 0 (no exp(-inf + inf)).
        let f$r = select(exp(m$r - mn$r), 1.0, mn$r == neg_inf);
        let p$r_$c = select(exp(s$r_$c - vec4<f32>(mn$r)), vec4<f32>(0.0), s$r_$c == vec4<f32>(neg_inf));
        l$r = fma(l$r, f$r, subgroupAdd(dot($PSUM, vec4<f32>(1.0))));
        o$r_$o = o$r_$o * f$r;
        m$r = mn$r;
        // Values: key k's probability from the lane that scored it; keys past
        // T read a zero row (a clamped texel could hold anything).
        let vrow = min(kb, total - 1u);
        let vcol$o = min($COu * lane + $ou, $DV4u - 1u);
        let valid = total - kb;
        let vj$k = min(vrow + $ku, total - 1u);
        let pk$r_$k = vec4<f32>(subgroupBroadcast(p$r_$kc.$kx, $klu));
        let v$o_$k = select(vec4<f32>(0.0), textureLoad(vt, vec2<u32>(vcol$o, vj$k & vmask), vlayer + (vj$k >> vshift)), $ku < valid);
        o$r_$o = fma(pk$r_$k, v$o_$k, o$r_$o);
    }
    // A row whose keys are all masked has l = 0 and o = 0: NaN, as ONNX defines it.
    if r0 + $ru < sq && $COu * lane + $ou < $DV4u { y_put(select(((b * hq + h) * sq + r0 + $ru) * $DV4u, ((b * sq + r0 + $ru) * hq + h) * $DV4u, packed) + $COu * lane + $ou, o$r_$o / l$r); }
}
