// TEMPLATE attention_flash_rows.wgsl: ONNX Attention (opset 23) in one pass over
// key blocks with an online softmax, f32, for adapters without subgroups (GL,
// WebGPU without the feature): the flash kernel's work without any cross-lane
// operation. Scale, softcap, causal (with past keys), grouped heads, 3-D Q/Y
// and bool or float masks, as attention_flash.wgsl.
//
// Each invocation owns `$RR` query rows of one head (rows r0 + r $WG + lane of
// the workgroup's tile of $WG $RR rows) and keeps their query, running max,
// sum and output in registers. Keys stream in blocks of 8: every invocation of
// a workgroup reads the same K and V rows (the same head, the same keys), so
// one load serves $RR rows of every lane, and there is no barrier, reduction
// or score matrix. Memory is the present K and V, read where they are.
//
// Why rows per invocation: without subgroups a broadcast or a row reduction
// would cost a workgroup barrier, and on llvmpipe (GL on the CPU) a barrier is
// a coroutine switch per SIMD chunk; rows per invocation need none. $RR rows
// per invocation amortize each K and V load over $RR fmas per lane.
//
// Expanded by crates/hcal-wgpu/src/attention_flash.rs: `$RR` rows per
// invocation, `$WG` invocations per workgroup, `$D4` texels of a Q/K row held
// (D <= 4 $D4; texels past D read as zero), `$E4` texels of a V row (Dv / 4),
// `$MASKED` 1 where the mask code is compiled in; a line holding `$r` / `$d`
// (0..$D4) / `$e` (0..$E4) repeats per value (r outer); a run of lines holding
// `$k` repeats as a block per key k in 0..8, with `$kp` the key's probability
// (component k % 4 of the row's first or second group of 4).
//
// Bindings:
//   @group(0) @binding(0) params: AttentionParams (generated from crates/hcal-wgpu/src/params.rs), the
//       `attention` block of attention.wgsl: q_heads, kv_heads, q_len, total_len T, past_len,
//       head_dim, packed_3d (1 = 3-D Q/Y), scale, softcap, causal
//   @group(0) @binding(1) q: array<f32>
//   @group(0) @binding(2) kc: array<vec4<f32>>   present keys [B, Hkv, T, D]
//   @group(0) @binding(3) vc: array<vec4<f32>>   present values [B, Hkv, T, Dv]
//   @group(0) @binding(4) mask: array<f32>   [mb, mh, Sq, Tm] (a dummy when absent), params
//       mask_kind (0 none, 1 bool as 0/1 floats, 2 additive), mask_batch mb, mask_heads mh,
//       mask_keys Tm
//   @group(0) @binding(5) y: array<vec4<f32>>
// Dispatch (ceil(Sq / ($WG $RR)), B Hq, 1). D % 4 == 0, D <= 4 $D4, Dv = 4 $E4, T >= 1.

// #include <AttentionParams>
// #include <kv_head>

@group(0) @binding(0) var<storage, read> params: AttentionParams;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kc: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> vc: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;

fn hmax(v: vec4<f32>) -> f32 {
    return max(max(v.x, v.y), max(v.z, v.w));
}

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
    let q$r_$d = select(vec4<f32>(0.0), vec4<f32>(q[qrow$r + qd$d], q[qrow$r + qd$d + 1u], q[qrow$r + qd$d + 2u], q[qrow$r + qd$d + 3u]), $du < d4);
    var m$r = neg_inf;
    var l$r = 0.0;
    var o$r_$e = vec4<f32>(0.0);
    let kbase = layer * total;
    let last = min(r0 + $WGu * $RRu, sq) - 1u;
    // Causal: blocks past the tile's last diagonal are skipped.
    let keys = select(total, min(total, last + params.past_len + 1u), params.causal == 1u);
    for (var kb = 0u; kb < keys; kb += 8u) {
        // Scores of keys kb..kb + 8 for every row: each K texel loaded once.
        var s$r_0 = 0.0;
        var s$r_1 = 0.0;
        var s$r_2 = 0.0;
        var s$r_3 = 0.0;
        var s$r_4 = 0.0;
        var s$r_5 = 0.0;
        var s$r_6 = 0.0;
        var s$r_7 = 0.0;
        let krow$k = (kbase + min(kb + $ku, total - 1u)) * d4;
        let kv$k_$d = kc[krow$k + min($du, d4 - 1u)];
        s$r_$k = s$r_$k + dot(q$r_$d, kv$k_$d);
        let sa$r = prep4(vec4<f32>(s$r_0, s$r_1, s$r_2, s$r_3), b, h, i$r, kb);
        let sb$r = prep4(vec4<f32>(s$r_4, s$r_5, s$r_6, s$r_7), b, h, i$r, kb + 4u);
        // Online softmax, per row: the new max over this block, then rescale.
        let mn$r = max(m$r, max(hmax(sa$r), hmax(sb$r)));
        // A row with no visible key yet keeps l = 0 and o = 0 (no exp(-inf + inf)).
        let f$r = select(exp(m$r - mn$r), 1.0, mn$r == neg_inf);
        let pa$r = select(exp(sa$r - vec4<f32>(mn$r)), vec4<f32>(0.0), sa$r == vec4<f32>(neg_inf));
        let pb$r = select(exp(sb$r - vec4<f32>(mn$r)), vec4<f32>(0.0), sb$r == vec4<f32>(neg_inf));
        l$r = fma(l$r, f$r, dot(pa$r + pb$r, vec4<f32>(1.0)));
        o$r_$e = o$r_$e * f$r;
        m$r = mn$r;
        // Values; keys past T read a zero row (a clamped row could hold anything).
        let vrow$k = (kbase + min(kb + $ku, total - 1u)) * $E4u;
        let vv$k_$e = select(vec4<f32>(0.0), vc[vrow$k + $eu], kb + $ku < total);
        o$r_$e = fma(vec4<f32>($kp), vv$k_$e, o$r_$e);
    }
    // A row whose keys are all masked has l = 0 and o = 0: NaN, as ONNX defines it.
    if r0 + $ru * $WGu + lid.x < sq { y[select(((b * hq + h) * sq + i$r) * $E4u, ((b * sq + i$r) * hq + h) * $E4u, packed) + $eu] = o$r_$e / l$r; }
}
