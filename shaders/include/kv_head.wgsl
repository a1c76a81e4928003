// include/kv_head.wgsl: grouped-query attention's head mapping, shared by the
// attention kernels (the includer binds `params: AttentionParams`): query
// head h reads key/value head h / (Hq / Hkv).
fn kv_head(h: u32) -> u32 {
    return h / (params.q_heads / params.kv_heads);
}
