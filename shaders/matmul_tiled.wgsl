// TEMPLATE matmul_tiled.wgsl: register-tiled Y = alpha A B + beta C for N % 4 == 0, f32.
//
// A template, expanded by crates/hcal-wgpu/src/matmul.rs for each tile variant:
// `$RR` rows x `$CC` vec4 columns of Y per invocation, workgroups of `$WGX` x `$WGY`;
// a line holding `$r` repeats for r in 0..RR, one holding `$c` for c in 0..CC
// (both: r outer, c inner). Unrolled on purpose: on SIMD CPU drivers (lavapipe)
// loop-indexed accumulator arrays live in memory, named values in registers.
//
// Bindings (the parameter block is matmul.wgsl's, so both kernels share a launcher):
//   @group(0) @binding(0) params: array<u32>
//       [0] M, [1] N, [2] K, [3] flags (4 = C present; no transposes here), [4] alpha, [5] beta,
//       [6] batch rank br, [7..13) batch dims, [13..19) A batch strides, [19..25) B batch strides,
//       [25] C stride over m, [26] C stride over n, [27] A base, [28] B base (a multiple
//       of 4), [29] Y base, [30] Y batch stride (multiples of 4; elements)
//   @group(0) @binding(1) a: array<f32>         [batch.., M, K]
//   @group(0) @binding(2) b: array<vec4<f32>>   [batch.., K, N/4]
//   @group(0) @binding(3) c: array<f32>         (a dummy when C is absent)
//   @group(0) @binding(4) y: array<vec4<f32>>   [batch, M, N/4]
// Each output is fma-accumulated over K in order, exactly like matmul.wgsl, so
// every variant gives bit-identical results. Dispatch
// (ceil(N/4 / (CC*WGX)), ceil(M / (RR*WGY)), batch).

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

fn epilogue(v: vec4<f32>, row: u32, col: u32) -> vec4<f32> {
    var r = v;
    let alpha = bitcast<f32>(params[4]);
    if alpha != 1.0 { r = alpha * r; }
    if (params[3] & 4u) != 0u {
        let beta = bitcast<f32>(params[5]);
        let base = row * params[25];
        let sn = params[26];
        r = r + beta * vec4<f32>(c[base + col * sn], c[base + (col + 1u) * sn], c[base + (col + 2u) * sn], c[base + (col + 3u) * sn]);
    }
    return r;
}

@compute @workgroup_size($WGX, $WGY)
fn matmul_tiled(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = params[0];
    let n4 = params[1] / 4u;
    let k = params[2];
    let c0 = gid.x * $CCu;
    let r0 = gid.y * $RRu;
    if c0 >= n4 || r0 >= m { return; }
    let br = params[6];
    var rest = gid.z;
    var a_off = params[27];
    var b_off = params[28];
    for (var i = 0u; i < br; i++) {
        let d = br - 1u - i;
        let idx = rest % params[7u + d];
        rest = rest / params[7u + d];
        a_off += idx * params[13u + d];
        b_off += idx * params[19u + d];
    }
    // Edge tiles read clamped rows/columns and skip their stores.
    let arow$r = a_off + min(r0 + $ru, m - 1u) * k;
    let bcol$c = min(c0 + $cu, n4 - 1u);
    var acc$r_$c = vec4<f32>(0.0);
    var bi = b_off / 4u;
    for (var p = 0u; p < k; p++) {
        let b$c = b[bi + bcol$c];
        let a$r = vec4<f32>(a[arow$r + p]);
        acc$r_$c = fma(a$r, b$c, acc$r_$c);
        bi += n4;
    }
    let y_off = (params[29] + gid.z * params[30]) / 4u;
    if r0 + $ru < m && c0 + $cu < n4 { y[y_off + (r0 + $ru) * n4 + c0 + $cu] = epilogue(acc$r_$c, r0 + $ru, (c0 + $cu) * 4u); }
}
