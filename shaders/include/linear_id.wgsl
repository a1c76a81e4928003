// include/linear_id.wgsl: the linear index of an invocation of a per-item
// kernel. `Ctx::per_item` (crates/hcal-wgpu/src/ctx.rs) lays 256-wide
// workgroups on a 2-D grid of at most 65535 per dimension, so the index is
// x + y * (workgroups along x) * 256.
fn linear_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}
