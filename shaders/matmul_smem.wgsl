// matmul_smem.wgsl: workgroup-memory tiled Y = alpha A B + beta C for N % 4 == 0, f32.
//
// The classic GPU kernel: a 64x64 tile of Y per workgroup of 16x16 invocations,
// each computing 4 rows x one vec4 of columns; K advances 16 at a time through
// a 64x16 tile of A and a 16x64 tile of B staged in workgroup memory, so each
// element of A and B is read from device memory once per tile instead of once
// per output. Out-of-range rows, columns and K steps are staged as zeros, and
// fma(0, 0, acc) == acc, so every output is the same in-order fma chain as in
// matmul.wgsl and matmul_tiled.wgsl (bit-identical results across kernels).
//
// Bindings and parameter block: as matmul_tiled.wgsl
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl): m, n, k,
//       flags (4 = C; 8 / 16 chain blocks of K as in matmul.wgsl), alpha, beta, batch dims
//       and strides, C strides, bases, y_batch_stride, lda / ldb / ldy (row strides; ldb and
//       ldy multiples of 4), c_base
//   @group(0) @binding(1) a: array<f32>
//   @group(0) @binding(2) b: array<vec4<f32>>
//   @group(0) @binding(3) c: array<f32>
//   @group(0) @binding(4) y: array<vec4<f32>>
// Dispatch (ceil(N / 64), ceil(M / 64), batch).

// #include <matmul_params>
// #include <matmul_epilogue>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

// Element i of C (read by the epilogue).
fn c_at(i: u32) -> f32 { return c[i]; }

var<workgroup> a_tile: array<f32, 1024>;       // [64 rows][16 k]
var<workgroup> b_tile: array<vec4<f32>, 256>;  // [16 k][16 vec4 columns]

@compute @workgroup_size(16, 16)
fn matmul_smem(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let m = params.m;
    let n4 = params.n / 4u;
    let k = params.k;
    let ab = batch_offsets(wid.z);
    let a_off = ab.x;
    let b_off = ab.y;
    let b_off4 = b_off / 4u;
    let tid = lid.y * 16u + lid.x;
    let row0 = wid.y * 64u;
    let col4_0 = wid.x * 16u;
    // Staging assignments: A as 64 rows x 4 quads of k, B as 16 k-rows x 16 vec4.
    let a_row = tid / 4u;
    let a_k = (tid % 4u) * 4u;
    let b_k = tid / 16u;
    let b_col = tid % 16u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let y_off = (params.y_base + wid.z * params.y_batch_stride) / 4u;
    let ldy4 = params.ldy / 4u;
    let r = row0 + lid.y * 4u;
    let col4 = col4_0 + lid.x;
    if (params.flags & 8u) != 0u {
        // A later block of K: carry on from the sums the earlier blocks stored
        // (clamped reads for edge rows and columns, whose stores are skipped).
        let yc = y_off + min(col4, n4 - 1u);
        acc0 = y[yc + min(r, m - 1u) * ldy4];
        acc1 = y[yc + min(r + 1u, m - 1u) * ldy4];
        acc2 = y[yc + min(r + 2u, m - 1u) * ldy4];
        acc3 = y[yc + min(r + 3u, m - 1u) * ldy4];
    }
    for (var k0 = 0u; k0 < k; k0 += 16u) {
        let ar = row0 + a_row;
        for (var q = 0u; q < 4u; q++) {
            let kk = k0 + a_k + q;
            a_tile[a_row * 16u + a_k + q] = select(0.0, a[a_off + min(ar, m - 1u) * params.lda + min(kk, k - 1u)], ar < m && kk < k);
        }
        let bk = k0 + b_k;
        let bc = col4_0 + b_col;
        b_tile[tid] = select(vec4<f32>(0.0), b[b_off4 + min(bk, k - 1u) * (params.ldb / 4u) + min(bc, n4 - 1u)], bk < k && bc < n4);
        workgroupBarrier();
        let lr = lid.y * 4u;
        for (var kk = 0u; kk < 16u; kk++) {
            let bv = b_tile[kk * 16u + lid.x];
            acc0 = fma(vec4<f32>(a_tile[lr * 16u + kk]), bv, acc0);
            acc1 = fma(vec4<f32>(a_tile[(lr + 1u) * 16u + kk]), bv, acc1);
            acc2 = fma(vec4<f32>(a_tile[(lr + 2u) * 16u + kk]), bv, acc2);
            acc3 = fma(vec4<f32>(a_tile[(lr + 3u) * 16u + kk]), bv, acc3);
        }
        workgroupBarrier();
    }
    if col4 >= n4 { return; }
    let partial = (params.flags & 16u) != 0u;
    let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        if r + i < m { y[y_off + (r + i) * ldy4 + col4] = select(epilogue(accs[i], r + i, col4 * 4u), accs[i], partial); }
    }
}
