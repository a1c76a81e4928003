// matmul.wgsl: batched Y = alpha op(A) op(B) + beta C (MatMul and Gemm), f32.
//
// Bindings:
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl): m, n, k,
//       flags (1 = transA: A is [K, M]; 2 = transB: B is [N, K]; 4 = C present), alpha, beta,
//       batch_rank (<= 6), batch_dims, a_batch_strides / b_batch_strides (0 where broadcast),
//       c_stride_m / c_stride_n (0 where broadcast), a_base, b_base, y_base, y_batch_stride
//       (a view into a larger tensor, e.g. a block of query rows), splits (K splits S of
//       `gemv`, 1: none), split_steps (K steps per split), out_base and out_batch_stride
//       (of `splitk_reduce`), lda / ldb / ldy (elements between stored rows of A, B, Y:
//       a block of a larger product keeps its operands' full row strides), c_base
//       (where C starts in its bound window); flags 8 (continue: the accumulators
//       start from the partial sums Y holds) and 16 (partial: store the raw sums, no
//       epilogue) chain a product whose B exceeds one storage binding over blocks of K
//       (see crates/hcal-wgpu/src/matmul/split.rs)
//   @group(0) @binding(1) a: array<f32>
//   @group(0) @binding(2) b: array<f32>
//   @group(0) @binding(3) c: array<f32>   (a 1-element dummy when C is absent)
//   @group(0) @binding(4) y: array<f32>   [batch, M, N]
// Entry `matmul` (any shape, transposes, batch broadcasting): each invocation
// computes a 4x4 block of Y with f32 fused multiply-adds in K order, so results
// are deterministic. Workgroup 8x8 -> a 32x32 tile; dispatch (ceil(N/32), ceil(M/32), batch).
// Entry `gemv` (M = 1, no transposes: the decode case): 64 columns per
// workgroup, K split over 4 invocation rows whose partial sums are added in a
// fixed order through workgroup memory; dispatch (ceil(N/64), S, batch). With
// S > 1 K splits (small N, long K: attention's P V in decode), workgroup y
// takes K steps [y * split_steps, (y + 1) * split_steps) and writes its raw partial sums to
// Y[batch][y][n] (a scratch buffer); entry `splitk_reduce` then adds the S
// partials of each output in order and applies alpha/beta/C, writing the
// real output through binding 5:
//   @group(0) @binding(5) out: array<f32>   (splitk_reduce; reads partials from `y`)
// dispatch (ceil(N/256), 1, batch).

// #include <matmul_params>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(8, 8)
fn matmul(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m_dim = params.m;
    let n_dim = params.n;
    let k_dim = params.k;
    let flags = params.flags;
    let trans_a = (flags & 1u) != 0u;
    let trans_b = (flags & 2u) != 0u;
    let row0 = gid.y * 4u;
    let col0 = gid.x * 4u;
    if row0 >= m_dim || col0 >= n_dim { return; }

    // Offsets of this batch's matrices (broadcast strides may be 0).
    let ab = batch_offsets(gid.z);
    let a_off = ab.x;
    let b_off = ab.y;
    // Element strides of op(A)[i, p] and op(B)[p, j].
    let a_si = select(params.lda, 1u, trans_a);
    let a_sp = select(1u, params.lda, trans_a);
    let b_sp = select(params.ldb, 1u, trans_b);
    let b_sj = select(1u, params.ldb, trans_b);
    let ldy = params.ldy;
    let y_off = params.y_base + gid.z * params.y_batch_stride;

    var acc: array<vec4<f32>, 4>;
    let rows = min(4u, m_dim - row0);
    let cols = min(4u, n_dim - col0);
    if (flags & 8u) != 0u {
        // A later block of K: carry on from the sums the earlier blocks stored.
        for (var i = 0u; i < rows; i++) {
            for (var j = 0u; j < cols; j++) { acc[i][j] = y[y_off + (row0 + i) * ldy + col0 + j]; }
        }
    }
    for (var p = 0u; p < k_dim; p++) {
        var bv = vec4<f32>(0.0);
        for (var j = 0u; j < cols; j++) {
            bv[j] = b[b_off + p * b_sp + (col0 + j) * b_sj];
        }
        for (var i = 0u; i < rows; i++) {
            let av = a[a_off + (row0 + i) * a_si + p * a_sp];
            acc[i] = fma(vec4<f32>(av), bv, acc[i]);
        }
    }

    let alpha = params.alpha;
    let beta = params.beta;
    let has_c = (flags & 4u) != 0u;
    let partial = (flags & 16u) != 0u;
    for (var i = 0u; i < rows; i++) {
        for (var j = 0u; j < cols; j++) {
            var v = acc[i][j];
            if !partial {
                if alpha != 1.0 { v = alpha * v; }
                if has_c { v = v + beta * c[params.c_base + (row0 + i) * params.c_stride_m + (col0 + j) * params.c_stride_n]; }
            }
            y[y_off + (row0 + i) * ldy + col0 + j] = v;
        }
    }
}

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(64, 4)
fn gemv(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let n = params.n;
    let k = params.k;
    let ab = batch_offsets(wid.z);
    let a_off = ab.x;
    let b_off = ab.y;
    let col = wid.x * 64u + lid.x;
    let col_read = min(col, n - 1u);
    let splits = params.splits;
    let k_begin = wid.y * params.split_steps;
    let k_end = min(k, k_begin + params.split_steps);
    var acc = 0.0;
    for (var p = k_begin + lid.y; p < k_end; p += 4u) {
        acc = fma(a[a_off + p], b[b_off + p * params.ldb + col_read], acc);
    }
    partial[lid.y * 64u + lid.x] = acc;
    workgroupBarrier();
    if lid.y == 0u && col < n {
        var v = (partial[lid.x] + partial[64u + lid.x]) + (partial[128u + lid.x] + partial[192u + lid.x]);
        if splits > 1u {
            y[params.y_base + wid.z * params.y_batch_stride + wid.y * n + col] = v;
            return;
        }
        let alpha = params.alpha;
        if alpha != 1.0 { v = alpha * v; }
        if (params.flags & 4u) != 0u { v = v + params.beta * c[params.c_base + col * params.c_stride_n]; }
        y[params.y_base + wid.z * params.y_batch_stride + col] = v;
    }
}

@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn splitk_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = params.n;
    let col = gid.x;
    if col >= n { return; }
    let splits = params.splits;
    let base = params.y_base + gid.z * params.y_batch_stride;
    var v = 0.0;
    for (var s = 0u; s < splits; s++) { v += y[base + s * n + col]; }
    let alpha = params.alpha;
    if alpha != 1.0 { v = alpha * v; }
    if (params.flags & 4u) != 0u { v = v + params.beta * c[params.c_base + col * params.c_stride_n]; }
    out[params.out_base + gid.z * params.out_batch_stride + col] = v;
}
