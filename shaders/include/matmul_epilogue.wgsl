// include/matmul_epilogue.wgsl: Gemm's `alpha v + beta C` on one vec4 of
// outputs, for the vec4 matmul kernels (matmul_tiled.wgsl, matmul_smem.wgsl).
// Pulled in by `// #include <matmul_epilogue>` after <matmul_params>; the
// includer defines `c_at(i) -> f32`, element i of C (bound as a dummy when C
// is absent). `row` and `col` count from the dispatch's block; C's window
// starts at params.c_base.

fn epilogue(v: vec4<f32>, row: u32, col: u32) -> vec4<f32> {
    var r = v;
    let alpha = params.alpha;
    if alpha != 1.0 { r = alpha * r; }
    if (params.flags & 4u) != 0u {
        let beta = params.beta;
        let base = params.c_base + row * params.c_stride_m;
        let sn = params.c_stride_n;
        r = r + beta * vec4<f32>(c_at(base + col * sn), c_at(base + (col + 1u) * sn), c_at(base + (col + 2u) * sn), c_at(base + (col + 3u) * sn));
    }
    return r;
}
