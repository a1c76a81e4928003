// TEMPLATE attention_flash_rows.wgsl: ONNX Attention (opset 23) in one pass over
// key blocks with an online softmax, f32, for adapters without subgroups (GL,
// WebGPU without the feature): the flash kernel's work without any cross-lane
// operation. Scale, softcap, causal (with past keys), grouped heads, 3-D Q/Y
// and bool or float masks, as attention_flash.wgsl.
//
// Each invocation owns `$RR` query rows of one head (rows r0 + r $WG + lane of
// the workgroup's tile of $WG $RR rows) and keeps their query, running max,
// sum and output in registers. Keys stream in blocks of $KB: every invocation
// of a workgroup reads the same K and V rows (the same head, the same keys),
// so one load serves $RR rows of every lane, and there is no barrier,
// reduction or score matrix.
//
// Why rows per invocation: without subgroups a broadcast or a row reduction
// would cost a workgroup barrier, and on llvmpipe (GL on the CPU) a barrier is
// a coroutine switch per SIMD chunk; rows per invocation need none. $RR rows
// per invocation amortize each K and V load over $RR fmas per lane.
//
// Two forms. `// KV:buf` lines read K and V where they are, in the present
// buffers. `// KV:tex` lines read them from storage textures staged by
// matmul_stage.wgsl (as attention_flash.wgsl's V): on llvmpipe (Mesa 22.3) a
// storage-buffer load, and a workgroup-memory load alike, is a loop over the
// SIMD lanes with a branch per lane and component even where every lane reads
// the same address, while a storage-texture load is inlined vector code. That
// is also why K and V are not staged in workgroup memory here: its reads
// would cost what the buffer reads cost, plus a barrier per block.
//
// Expanded by crates/hcal-wgpu/src/attention_flash.rs: `$RR` rows per
// invocation, `$WG` invocations per workgroup, `$KB` keys per block (a
// multiple of 4), `$D4` texels of a Q/K row held (D <= 4 $D4; texels past D
// read as zero), `$E4` texels of a V row (Dv / 4), `$MASKED` 1 where the mask
// code is compiled in, `$SMAX` / `$PSUM` a row's max / sum over its block's
// score vectors; a line holding `$r` / `$g` (0..$KB / 4) / `$d` (0..$D4) /
// `$e` (0..$E4) repeats per value (r outer); a run of lines holding `$k`
// repeats as a block per key k in 0..$KB, with `$ks` / `$kp` the key's score /
// probability (component k % 4 of the row's vec4 k / 4).
//
// Bindings:
//   @group(0) @binding(0) params: AttentionParams (generated from crates/hcal-wgpu/src/params/), the
//       `attention` block of attention.wgsl: q_heads, kv_heads, q_len, total_len T, past_len,
//       head_dim, packed_3d (1 = 3-D Q/Y), scale, softcap, causal, and (KV:tex) v_fold_shift, v_folds
//   @group(0) @binding(1) q: array<f32>
//   @group(0) @binding(2) kc: array<vec4<f32>>   present keys [B, Hkv, T, D]   (KV:buf)
//   @group(0) @binding(3) vc: array<vec4<f32>>   present values [B, Hkv, T, Dv]   (KV:buf)
//   @group(0) @binding(2) kt: texture_storage_2d_array<rgba32float, read>   (KV:tex)
//       texel [(b Hkv + h) F + j >> s, j & (2^s - 1), c/4] = K[b, h, j, c..c+4], with
//       s = v_fold_shift (31: no folding) and F = v_folds layers per head
//   @group(0) @binding(3) vt: texture_storage_2d_array<rgba32float, read>   V, as kt   (KV:tex)
//   @group(0) @binding(4) mask: array<f32>   [mb, mh, Sq, Tm] (a dummy when absent), params
//       mask_kind (0 none, 1 bool as 0/1 floats, 2 additive), mask_batch mb, mask_heads mh,
//       mask_keys Tm
//   @group(0) @binding(5) y: array<vec4<f32>>
// Dispatch (ceil(Sq / ($WG $RR)), B Hq, 1). D % 4 == 0, D <= 4 $D4, Dv = 4 $E4, T >= 1.
//
// f16 tensors (kernel variant F16_IO, the `// F16` lines; texture form only): Q
// and Y hold two f16 elements per word, decoded and encoded by
// include/f16_bits.wgsl, and K and V arrive staged from f16 by
// matmul_stage.wgsl; scores, softmax and the output sums stay f32, each output
// rounded once to f16 (the bits of the f32 kernel on converted copies). The
// mask stays f32.

// #include <AttentionParams>
// #include <kv_head>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<f32>; // F32
@group(0) @binding(1) var<storage, read> q: array<u32>; // F16
@group(0) @binding(2) var<storage, read> kc: array<vec4<f32>>; // KV:buf
@group(0) @binding(3) var<storage, read> vc: array<vec4<f32>>; // KV:buf
@group(0) @binding(2) var kt: texture_storage_2d_array<rgba32float, read>; // KV:tex
@group(0) @binding(3) var vt: texture_storage_2d_array<rgba32float, read>; // KV:tex
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>; // F32
@group(0) @binding(5) var<storage, read_write> y: array<vec2<u32>>; // F16

// #include <attention_qy>

// #include <attention_prep4>

@compute @workgroup_size($WG, 1)
fn attention_flash_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let hq = params.q_heads;
    let sq = params.q_len;
    let total = params.total_len;
    let d = params.head_dim;
    let d4 = d / 4u;
    let packed = params.packed_3d == 1u;
    let h = wid.y % hq;
    let b = wid.y / hq;
    let layer = b * params.kv_heads + kv_head(h);
    let r0 = wid.x * ($WGu * $RRu);
    let neg_inf = bitcast<f32>(0xff800000u | (total & 0u));
    let i$r = min(r0 + $ru * $WGu + lid.x, sq - 1u);
    let qrow$r = select(((b * hq + h) * sq + i$r) * d, ((b * sq + i$r) * hq + h) * d, packed);
    let qd$d = min(4u * $du, d - 4u);
    let q$r_$d = select(vec4<f32>(0.0), vec4<f32>(q_at(qrow$r + qd$d), q_at(qrow$r + qd$d + 1u), q_at(qrow$r + qd$d + 2u), q_at(qrow$r + qd$d + 3u)), $du < d4);
    var m$r = neg_inf;
    var l$r = 0.0;
    var o$r_$e = vec4<f32>(0.0);
    let kbase = layer * total; // KV:buf
    // K's and V's rows fold into layers of 2^vshift keys, v_folds layers per head.
    let vshift = params.v_fold_shift; // KV:tex
    let vmask = (1u << vshift) - 1u; // KV:tex
    let vlayer = layer * params.v_folds; // KV:tex
    let last = min(r0 + $WGu * $RRu, sq) - 1u;
    // Causal: blocks past the tile's last diagonal are skipped.
    let keys = select(total, min(total, last + params.past_len + 1u), params.causal == 1u);
    for (var kb = 0u; kb < keys; kb += $KBu) {
        // Scores of keys kb..kb + $KB for every row, 4 keys per vec4: each K
        // texel loaded once for all rows.
        var s$r_$g = vec4<f32>(0.0);
        let kj$k = min(kb + $ku, total - 1u);
        let kv$k_$d = kc[(kbase + kj$k) * d4 + min($du, d4 - 1u)]; // KV:buf
        let kv$k_$d = textureLoad(kt, vec2<u32>(min($du, d4 - 1u), kj$k & vmask), vlayer + (kj$k >> vshift)); // KV:tex
        $ks = $ks + dot(q$r_$d, kv$k_$d);
        let sp$r_$g = prep4(s$r_$g, b, h, i$r, kb + 4u * $gu);
        // Online softmax, per row: the new max over this block, then rescale.
        let mn$r = max(m$r, $SMAX);
        // A row with no visible key yet keeps l = 0 and o = 0 (no exp(-inf + inf)).
        let f$r = select(exp(m$r - mn$r), 1.0, mn$r == neg_inf);
        let p$r_$g = select(exp(sp$r_$g - vec4<f32>(mn$r)), vec4<f32>(0.0), sp$r_$g == vec4<f32>(neg_inf));
        l$r = fma(l$r, f$r, dot($PSUM, vec4<f32>(1.0)));
        o$r_$e = o$r_$e * f$r;
        m$r = mn$r;
        // Values; keys past T read a zero row (a clamped row could hold anything).
        let vj$k = min(kb + $ku, total - 1u);
        let vv$k_$e = select(vec4<f32>(0.0), vc[(kbase + vj$k) * $E4u + $eu], kb + $ku < total); // KV:buf
        let vv$k_$e = select(vec4<f32>(0.0), textureLoad(vt, vec2<u32>($eu, vj$k & vmask), vlayer + (vj$k >> vshift)), kb + $ku < total); // KV:tex
        o$r_$e = fma(vec4<f32>($kp), vv$k_$e, o$r_$e);
    }
    // A row whose keys are all masked has l = 0 and o = 0: NaN, as ONNX defines it.
    if r0 + $ru * $WGu + lid.x < sq { y_put(select(((b * hq + h) * sq + i$r) * $E4u, ((b * sq + i$r) * hq + h) * $E4u, packed) + $eu, o$r_$e / l$r); }
}
