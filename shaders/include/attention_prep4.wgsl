// include/attention_prep4.wgsl: the score preparation of the flash attention
// templates (attention_flash.wgsl, attention_flash_rows.wgsl) for 4 keys at
// once; the includer binds `params: AttentionParams` and `mask`, and its
// expansion sets `$MASKED` (1: the mask code is compiled in).
// Scale, softcap, the mask, and -inf for keys past T or (causal) past row
// i's diagonal; `j` is the key of component x, (b, h) the batch and head.
fn prep4(raw: vec4<f32>, b: u32, h: u32, i: u32, j: u32) -> vec4<f32> {
    let total = params.total_len;
    let softcap = params.softcap;
    var s = raw * params.scale;
    if softcap > 0.0 { s = softcap * tanh(clamp(s / softcap, vec4<f32>(-15.0), vec4<f32>(15.0))); }
    let keys = vec4<u32>(j) + vec4<u32>(0u, 1u, 2u, 3u);
    var visible = keys < vec4<u32>(total);
    if params.causal == 1u { visible = visible & (keys <= vec4<u32>(i + params.past_len)); }
    let mask_kind = params.mask_kind;
    if $MASKEDu == 1u && mask_kind != 0u {
        // [mb, mh, Sq, Tm], broadcast over batch and heads; keys >= Tm masked.
        let tm = params.mask_keys;
        let row = ((select(b, 0u, params.mask_batch == 1u) * params.mask_heads + select(h, 0u, params.mask_heads == 1u)) * params.q_len + i) * tm;
        let inside = keys < vec4<u32>(tm);
        let at = min(keys, vec4<u32>(max(tm, 1u) - 1u));
        let mv = vec4<f32>(mask[row + at.x], mask[row + at.y], mask[row + at.z], mask[row + at.w]);
        visible = visible & inside;
        if mask_kind == 1u { visible = visible & (mv != vec4<f32>(0.0)); } else { s = s + mv; }
    }
    return select(vec4<f32>(bitcast<f32>(0xff800000u | (total & 0u))), s, visible);
}
