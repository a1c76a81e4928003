// matmul_stage.wgsl: copy the operands of a product into rgba32float
// texture arrays for matmul_texture.wgsl, f32: B by rows (`stage_b`,
// `stage_b4`), A by columns of 4 rows (`stage_a`).
//
// Layers: one per distinct B matrix. Of the batch dims (params [6] rank,
// [7..13) dims, [19..25) B strides), those where B's stride is not 0 number
// the layers, innermost fastest; layer l's B starts at [28] + sum of idx_d *
// stride_d over those dims (matmul_texture.wgsl numbers them the same way).
//
// Bindings:
//   @group(0) @binding(0) params: array<u32>   matmul.wgsl's block; reads [1] N, [2] K,
//                                               [3] flags (2 = B transposed), [6..13) batch
//                                               dims, [19..25) B strides, [28] B base
//   @group(0) @binding(1) b: array<f32>        B, row-major [K, N], or [N, K] with flag 2
//                                               (Gemm's transB, attention's keys); entry
//                                               `stage_b`, any N and base
//   @group(0) @binding(2) bt: texture_storage_2d_array<rgba32float, write>
//       texel [l, p, j] = B[l][p, 4j..4j+4], zero past column N
//   @group(0) @binding(3) b4: array<vec4<f32>> B as [K, N] when N and the base are
//                                               multiples of 4 (entry `stage_b4`:
//                                               one vec4 load per texel)
// Workgroup 16x16 over (texel column, row); dispatch (ceil(N/4 / 16), ceil(K / 16), layers).
//
// Entry `stage_a` stages A ([0] M, [2] K, [13..19) A strides, [27] A base,
// layers numbered by the dims where A's stride is not 0) into `bt` as texel
// [l, i/4, p] = A[l][i..i+4, p] (x = p along K, y = a quad of rows; zero
// past row M), so the 8 lanes that load steps p..p+8 of 4 rows read 8
// neighbouring texels. Dispatch (ceil(K / 16), ceil(M/4 / 16), layers).

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var bt: texture_storage_2d_array<rgba32float, write>;
@group(0) @binding(3) var<storage, read> b4: array<vec4<f32>>;

// Element offset of layer `layer`'s B matrix.
fn layer_offset(layer: u32) -> u32 {
    return layer_offset_of(layer, 19u, params[28]);
}

// Element offset of layer `layer` of the operand whose batch strides start at
// params[strides] and whose base is `base`.
fn layer_offset_of(layer: u32, strides: u32, base: u32) -> u32 {
    let br = params[6];
    var rest = layer;
    var off = base;
    for (var i = 0u; i < br; i++) {
        let d = br - 1u - i;
        let stride = params[strides + d];
        if stride != 0u {
            off += (rest % params[7u + d]) * stride;
            rest = rest / params[7u + d];
        }
    }
    return off;
}

// A texel of 4 elements `stride` apart from `base`, zero from element `count` on.
fn gather4(base: u32, stride: u32, count: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
        if i < count { v[i] = b[base + i * stride]; }
    }
    return v;
}

@compute @workgroup_size(16, 16)
fn stage_b(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = params[1];
    let k = params[2];
    let j = gid.x;
    let p = gid.y;
    if 4u * j >= n || p >= k { return; }
    // Element (p, col) of op(B): B[p, col] row-major, or B[col, p] when transposed.
    let transposed = (params[3] & 2u) != 0u;
    let step_p = select(n, 1u, transposed);
    let step_col = select(1u, k, transposed);
    let base = layer_offset(gid.z) + p * step_p + 4u * j * step_col;
    textureStore(bt, vec2<u32>(j, p), gid.z, gather4(base, step_col, n - 4u * j));
}

@compute @workgroup_size(16, 16)
fn stage_b4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = params[1] / 4u;
    let k = params[2];
    if gid.x >= n4 || gid.y >= k { return; }
    textureStore(bt, gid.xy, gid.z, b4[layer_offset(gid.z) / 4u + gid.y * n4 + gid.x]);
}

@compute @workgroup_size(16, 16)
fn stage_a(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = params[0];
    let k = params[2];
    let p = gid.x;
    let quad = gid.y;
    if p >= k || 4u * quad >= m { return; }
    let base = layer_offset_of(gid.z, 13u, params[27]) + 4u * quad * k + p;
    textureStore(bt, vec2<u32>(p, quad), gid.z, gather4(base, k, m - 4u * quad));
}
