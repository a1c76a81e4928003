// matmul_gemv_f16.wgsl: matmul.wgsl's `gemv` (M = 1, no transposes: the
// decode case) on f16 storage: A, B, C and Y hold f16, two elements per
// 32-bit word (element 2w in the low half), read and written by the kernel
// itself instead of through f32 copies of every operand.
//
// Bindings:
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl), as
//       matmul.wgsl reads them (no K splits: `splits` is 1)
//   @group(0) @binding(1) a: array<u32>   f16 [1, K] per batch item
//   @group(0) @binding(2) b: array<u32>   f16 [K, N] (rows ldb apart)
//   @group(0) @binding(3) c: array<u32>   f16 (a 1-word dummy when C is absent)
//   @group(0) @binding(4) y: array<u32>   f16 [batch, 1, N]; N, y_base and
//       y_batch_stride even, so each invocation owns the word of its two columns
// Each invocation takes two adjacent columns, so 128 columns per workgroup of
// 64 x 4; each column's sum is formed exactly as `gemv` forms it (fma in K
// order over 4 invocation rows, their partials added (0 + 1) + (2 + 3), then
// alpha and beta C), and rounded to f16 once (to nearest even, on bits): the
// bits of the f32 kernel on the operands converted to f32, converted back.
// Dispatch (ceil(N / 128), 1, batch).

// #include <matmul_params>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read> c: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<u32>;

var<workgroup> partial: array<vec2<f32>, 256>;

@compute @workgroup_size(64, 4)
fn gemv_f16(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let n = params.n;
    let k = params.k;
    let ab = batch_offsets(wid.z);
    let col = (wid.x * 64u + lid.x) * 2u;
    // Columns past N read the last one (their sums are never written).
    let c0 = min(col, n - 1u);
    let c1 = min(col + 1u, n - 1u);
    var acc = vec2<f32>(0.0);
    for (var p = lid.y; p < k; p += 4u) {
        let ai = ab.x + p;
        let av = f16_at(a[ai / 2u], ai);
        let row = ab.y + p * params.ldb;
        let bv = vec2<f32>(f16_at(b[(row + c0) / 2u], row + c0), f16_at(b[(row + c1) / 2u], row + c1));
        acc = fma(vec2<f32>(av), bv, acc);
    }
    partial[lid.y * 64u + lid.x] = acc;
    workgroupBarrier();
    if lid.y == 0u && col < n {
        var v = (partial[lid.x] + partial[64u + lid.x]) + (partial[128u + lid.x] + partial[192u + lid.x]);
        let alpha = params.alpha;
        if alpha != 1.0 { v = alpha * v; }
        if (params.flags & 4u) != 0u {
            let i0 = params.c_base + c0 * params.c_stride_n;
            let i1 = params.c_base + c1 * params.c_stride_n;
            v = v + params.beta * vec2<f32>(f16_at(c[i0 / 2u], i0), f16_at(c[i1 / 2u], i1));
        }
        let out = params.y_base + wid.z * params.y_batch_stride + col;
        y[out / 2u] = f32_to_f16_bits(v.x) | (f32_to_f16_bits(v.y) << 16u);
    }
}
