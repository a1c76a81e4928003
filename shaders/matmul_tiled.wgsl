// TEMPLATE matmul_tiled.wgsl: register-tiled Y = alpha A B + beta C for N % 4 == 0, f32.
//
// A template, expanded by crates/hcal-wgpu/src/matmul.rs for each tile variant:
// `$RR` rows x `$CC` vec4 columns of Y per invocation, workgroups of `$WGX` x `$WGY`;
// a line holding `$r` repeats for r in 0..RR, one holding `$c` for c in 0..CC
// (both: r outer, c inner). Unrolled on purpose: on SIMD CPU drivers (lavapipe)
// loop-indexed accumulator arrays live in memory, named values in registers.
//
// Bindings (the parameter block is matmul.wgsl's, so both kernels share a launcher):
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl): m, n, k,
//       flags (4 = C present; no transposes here), alpha, beta, batch dims and strides,
//       C strides, a_base, b_base (a multiple of 4), y_base, y_batch_stride (multiples of 4),
//       lda, ldb, ldy (row strides of A, B, Y; ldb and ldy multiples of 4), c_base;
//       flags 8 / 16 chain blocks of K (as matmul.wgsl)
//   @group(0) @binding(1) a: array<f32>         [batch.., M, K]
//   @group(0) @binding(2) b: array<vec4<f32>>   [batch.., K, N/4]
//   @group(0) @binding(3) c: array<f32>         (a dummy when C is absent)
//   @group(0) @binding(4) y: array<vec4<f32>>   [batch, M, N/4]
// Each output is fma-accumulated over K in order, exactly like matmul.wgsl, so
// every variant gives bit-identical results. Dispatch
// (ceil(N/4 / (CC*WGX)), ceil(M / (RR*WGY)), batch).

//
// f16 operands (kernel variant F16_IO, the `// F16` lines): A, B, C and Y hold
// two f16 elements per word (B and Y four per vec2 of words), decoded and
// encoded by include/f16_bits.wgsl; the sums stay f32, and each output is
// rounded once to f16 (the bits of converting to f32 and back around the f32
// kernel). Products chained over blocks of K (flags 8 / 16) stay f32.

// #include <matmul_params>
// #include <matmul_epilogue>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>; // F32
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>; // F32
@group(0) @binding(3) var<storage, read> c: array<f32>; // F32
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>; // F32
@group(0) @binding(1) var<storage, read> a: array<u32>; // F16
@group(0) @binding(2) var<storage, read> b: array<vec2<u32>>; // F16
@group(0) @binding(3) var<storage, read> c: array<u32>; // F16
@group(0) @binding(4) var<storage, read_write> y: array<vec2<u32>>; // F16

// Element i of A and C, texel i (4 elements) of B and Y, as f32; Y's stored from f32.
fn a_at(i: u32) -> f32 { return a[i]; } // F32
fn c_at(i: u32) -> f32 { return c[i]; } // F32
fn b_at(i: u32) -> vec4<f32> { return b[i]; } // F32
fn y_at(i: u32) -> vec4<f32> { return y[i]; } // F32
fn y_put(i: u32, v: vec4<f32>) { y[i] = v; } // F32
fn a_at(i: u32) -> f32 { return f16_at(a[i / 2u], i); } // F16
fn c_at(i: u32) -> f32 { return f16_at(c[i / 2u], i); } // F16
fn b_at(i: u32) -> vec4<f32> { return f16x4(b[i]); } // F16
fn y_at(i: u32) -> vec4<f32> { return f16x4(y[i]); } // F16
fn y_put(i: u32, v: vec4<f32>) { y[i] = to_f16x4(v); } // F16

@compute @workgroup_size($WGX, $WGY)
fn matmul_tiled(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = params.m;
    let n4 = params.n / 4u;
    let k = params.k;
    let c0 = gid.x * $CCu;
    let r0 = gid.y * $RRu;
    if c0 >= n4 || r0 >= m { return; }
    let ab = batch_offsets(gid.z);
    let a_off = ab.x;
    let b_off = ab.y;
    // Edge tiles read clamped rows/columns and skip their stores.
    let arow$r = a_off + min(r0 + $ru, m - 1u) * params.lda;
    let bcol$c = min(c0 + $cu, n4 - 1u);
    let y_off = (params.y_base + gid.z * params.y_batch_stride) / 4u;
    let ldy4 = params.ldy / 4u;
    let yrow$r = y_off + min(r0 + $ru, m - 1u) * ldy4;
    var acc$r_$c = vec4<f32>(0.0);
    if (params.flags & 8u) != 0u {
        // A later block of K: carry on from the sums the earlier blocks stored.
        acc$r_$c = y_at(yrow$r + bcol$c);
    }
    let ldb4 = params.ldb / 4u;
    var bi = b_off / 4u;
    for (var p = 0u; p < k; p++) {
        let b$c = b_at(bi + bcol$c);
        let a$r = vec4<f32>(a_at(arow$r + p));
        acc$r_$c = fma(a$r, b$c, acc$r_$c);
        bi += ldb4;
    }
    let partial = (params.flags & 16u) != 0u;
    if r0 + $ru < m && c0 + $cu < n4 { y_put(yrow$r + c0 + $cu, select(epilogue(acc$r_$c, r0 + $ru, (c0 + $cu) * 4u), acc$r_$c, partial)); }
}
