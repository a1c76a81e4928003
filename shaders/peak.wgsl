// peak.wgsl: microbenchmarks of the device peak (hcal_core::Probe), so that
// benchmarks divide by a throughput measured on the device itself.
//
// Bindings:
//   @group(0) @binding(0) params: PeakParams
//       fma_peak:  iterations, m, c, invocations
//       copy_peak: copy_vec4s = vec4 count n
//   @group(0) @binding(1) src: array<vec4<f32>>   (copy_peak only)
//   @group(0) @binding(2) dst: array<vec4<f32>>   fma_peak: one vec4 per invocation
//                                                 copy_peak: n vec4
// fma_peak runs 8 independent vec4 chains x <- fma(x, m, c) per invocation
// (64 FLOPs per iteration) and stores their sum so nothing is dead code; m and
// c come from params so the compiler cannot fold the loop. On lavapipe, which
// vectorizes invocations across SIMD lanes, 8 chains measured ~30 GFLOP/s
// against ~21 with 4 (16 was within noise of 8); GPUs hide latency across
// invocations anyway. copy_peak copies n vec4s (16 bytes read and 16 written
// each). Dispatch: 256 per workgroup, 2-D grid; the linear index is
// x + y * num_workgroups.x * 256.

// #include <PeakParams>

@group(0) @binding(0) var<storage, read> params: PeakParams;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn fma_peak(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= params.invocations) {
        return;
    }
    let m = vec4<f32>(params.m);
    let c = vec4<f32>(params.c);
    let seed = f32(i & 1023u) * 1e-3;
    var x0 = vec4<f32>(seed, seed + 0.1, seed + 0.2, seed + 0.3);
    var x1 = x0 + 0.01;
    var x2 = x0 + 0.02;
    var x3 = x0 + 0.03;
    var x4 = x0 + 0.04;
    var x5 = x0 + 0.05;
    var x6 = x0 + 0.06;
    var x7 = x0 + 0.07;
    for (var t = 0u; t < params.iterations; t++) {
        x0 = fma(x0, m, c);
        x1 = fma(x1, m, c);
        x2 = fma(x2, m, c);
        x3 = fma(x3, m, c);
        x4 = fma(x4, m, c);
        x5 = fma(x5, m, c);
        x6 = fma(x6, m, c);
        x7 = fma(x7, m, c);
    }
    dst[i] = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7));
}

@compute @workgroup_size(256)
fn copy_peak(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * 256u;
    if (i >= params.copy_vec4s) {
        return;
    }
    dst[i] = src[i];
}
