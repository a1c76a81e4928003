// matmul_stage.wgsl: copy the B operand of a product into an rgba32float
// texture array for matmul_texture.wgsl, f32.
//
// Bindings:
//   @group(0) @binding(0) params: array<u32>   matmul.wgsl's block; reads [1] N, [2] K, [28] B base
//   @group(0) @binding(1) b: array<f32>        layer l of B at [28] + l K N, row-major [K, N]
//                                               (entry `stage_b`, any N and base)
//   @group(0) @binding(2) bt: texture_storage_2d_array<rgba32float, write>
//       texel [l, p, j] = B[l][p, 4j..4j+4], zero past column N
//   @group(0) @binding(3) b4: array<vec4<f32>> the same B when N and the base are
//                                               multiples of 4 (entry `stage_b4`:
//                                               one vec4 load per texel)
// Workgroup 16x16 over (texel column, row); dispatch (ceil(N/4 / 16), ceil(K / 16), layers).

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var bt: texture_storage_2d_array<rgba32float, write>;
@group(0) @binding(3) var<storage, read> b4: array<vec4<f32>>;

@compute @workgroup_size(16, 16)
fn stage_b(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = params[1];
    let k = params[2];
    let j = gid.x;
    let p = gid.y;
    if 4u * j >= n || p >= k { return; }
    let row = params[28] + gid.z * k * n + p * n;
    var v = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
        if 4u * j + i < n { v[i] = b[row + 4u * j + i]; }
    }
    textureStore(bt, vec2<u32>(j, p), gid.z, v);
}

@compute @workgroup_size(16, 16)
fn stage_b4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = params[1] / 4u;
    let k = params[2];
    if gid.x >= n4 || gid.y >= k { return; }
    textureStore(bt, gid.xy, gid.z, b4[params[28] / 4u + (gid.z * k + gid.y) * n4 + gid.x]);
}
