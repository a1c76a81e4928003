// matmul_stage.wgsl: copy the operands of a product into rgba32float
// texture arrays for matmul_texture.wgsl, f32: B by rows (`stage_b`,
// `stage_b4`), A by columns of 4 rows (`stage_a`).
//
// Layers: one per distinct B matrix. Of the batch dims (params.batch_rank,
// batch_dims, b_batch_strides), those where B's stride is not 0 number the
// layers, innermost fastest; layer l's B starts at b_base + sum of idx_d *
// stride_d over those dims (matmul_texture.wgsl numbers them the same way).
//
// Bindings:
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl); reads n, k,
//                                               flags (2 = B transposed), batch_rank,
//                                               batch_dims, b_batch_strides, b_base
//   @group(0) @binding(1) b: array<f32>        B, row-major [K, N], or [N, K] with flag 2
//                                               (Gemm's transB, attention's keys); entry
//                                               `stage_b`, any N and base
//   @group(0) @binding(2) bt: texture_storage_2d_array<rgba32float, write>
//       texel [l, p, j] = B[l][p, 4j..4j+4], zero past column N
//   @group(0) @binding(3) b4: array<vec4<f32>> B as [K, N] when N and the base are
//                                               multiples of 4 (entry `stage_b4`:
//                                               one vec4 load per texel)
// Workgroup 16x16 over (texel column, row); dispatch (ceil(N/4 / 16), ceil(K / 16), layers).
// ldb is B's row stride (N, or K with flag 2). An operand larger than one storage
// binding is staged in pieces, each binding a window of it (b_base / a_base relative
// to the window) and writing its texels from (stage_x0, stage_y0) on; n, k (and m)
// then count the piece.
//
// Entry `stage_a` stages A (m, k, a_batch_strides, a_base,
// layers numbered by the dims where A's stride is not 0) into `bt` as texel
// [l, i/4, p] = A[l][i..i+4, p] (x = p along K, y = a quad of rows; zero
// past row M), so the 8 lanes that load steps p..p+8 of 4 rows read 8
// neighbouring texels. Dispatch (ceil(K / 16), ceil(M/4 / 16), layers).

//
// f16 operands (kernel variant F16_IO, the `// F16` lines): b holds two f16
// elements per word (b4 four per vec2 of words), decoded exactly to f32 by
// include/f16_bits.wgsl, so the staged texels equal those of the operand
// converted to f32 first; element indices, bases and strides stay in elements.

// #include <matmul_params>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var<storage, read> b: array<f32>; // F32
@group(0) @binding(1) var<storage, read> b: array<u32>; // F16
@group(0) @binding(2) var bt: texture_storage_2d_array<rgba32float, write>;
@group(0) @binding(3) var<storage, read> b4: array<vec4<f32>>; // F32
@group(0) @binding(3) var<storage, read> b4: array<vec2<u32>>; // F16

// Element i of b, and texel i (elements 4i..4i+4) of b4, as f32.
fn b_at(i: u32) -> f32 { return b[i]; } // F32
fn b_at(i: u32) -> f32 { return f16_at(b[i / 2u], i); } // F16
fn b4_at(i: u32) -> vec4<f32> { return b4[i]; } // F32
fn b4_at(i: u32) -> vec4<f32> { return f16x4(b4[i]); } // F16

// Element offset of layer `layer`'s B matrix.
fn layer_offset(layer: u32) -> u32 {
    return layer_offset_of(layer, false, params.b_base);
}

// Element offset of layer `layer` of A (`of_a`) or B, whose base is `base`.
fn layer_offset_of(layer: u32, of_a: bool, base: u32) -> u32 {
    let br = params.batch_rank;
    var rest = layer;
    var off = base;
    for (var i = 0u; i < br; i++) {
        let d = br - 1u - i;
        let stride = select(params.b_batch_strides[d], params.a_batch_strides[d], of_a);
        if stride != 0u {
            off += (rest % params.batch_dims[d]) * stride;
            rest = rest / params.batch_dims[d];
        }
    }
    return off;
}

// A texel of 4 elements `stride` apart from `base`, zero from element `count` on.
fn gather4(base: u32, stride: u32, count: u32) -> vec4<f32> {
    var v = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
        if i < count { v[i] = b_at(base + i * stride); }
    }
    return v;
}

@compute @workgroup_size(16, 16)
fn stage_b(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Texel (j, p) = op(B)[p, 4j..4j+4]; element (p, col) of op(B) is B[p, col]
    // row-major, or B[col, p] when transposed.
    if 4u * gid.x >= params.n || gid.y >= params.k { return; }
    let transposed = (params.flags & 2u) != 0u;
    let step_p = select(params.ldb, 1u, transposed);
    let step_col = select(1u, params.ldb, transposed);
    let base = layer_offset(gid.z) + gid.y * step_p + 4u * gid.x * step_col;
    textureStore(bt, gid.xy + vec2<u32>(params.stage_x0, params.stage_y0), gid.z, gather4(base, step_col, params.n - 4u * gid.x));
}

@compute @workgroup_size(16, 16)
fn stage_b4(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = params.n / 4u;
    let k = params.k;
    if gid.x >= n4 || gid.y >= k { return; }
    let texel = gid.xy + vec2<u32>(params.stage_x0, params.stage_y0);
    textureStore(bt, texel, gid.z, b4_at(layer_offset(gid.z) / 4u + gid.y * (params.ldb / 4u) + gid.x));
}

@compute @workgroup_size(16, 16)
fn stage_a(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Texel (p, quad) = A[4 quad..4 quad+4, p]: x steps along K, y over quads of rows.
    if gid.x >= params.k || 4u * gid.y >= params.m { return; }
    let base = layer_offset_of(gid.z, true, params.a_base) + 4u * gid.y * params.lda + gid.x;
    let texel = gid.xy + vec2<u32>(0u, params.stage_y0);
    textureStore(bt, texel, gid.z, gather4(base, params.lda, params.m - 4u * gid.y));
}
