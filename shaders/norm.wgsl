// norm.wgsl: LayerNormalization and RMSNormalization over rows of n elements, f32.
//
// Bindings:
//   @group(0) @binding(0) params: NormParams   rows, n, epsilon, has_bias (1 = B present),
//       rms (1 = RMS form), x_base / y_base (where the dispatch's first row starts in
//       X's / Y's bound window: tensors larger than one binding run in blocks of rows)
//   @group(0) @binding(1) x:     array<f32>   [rows, n]
//   @group(0) @binding(2) scale: array<f32>   [n] (broadcast already expanded)
//   @group(0) @binding(3) bias:  array<f32>   [n] (a dummy when absent)
//   @group(0) @binding(4) y:     array<f32>   [rows, n]
//   @group(0) @binding(5) row_mean: array<f32>  `norm_apply`: each row's mean (LayerNorm)
//   @group(0) @binding(6) row_norm: array<f32>  `norm_apply`: each row's ||x - mean||_2
// `norm`: one workgroup of 64 per row (2-D grid). LayerNorm is two-pass (mean,
// then the mean of squared deviations), which keeps rows with a large mean
// accurate; RMS uses the mean of squares. Reductions are fixed-order trees.
// `norm_apply`: one invocation per element of a piece of one row (`rows` of them,
// in row `row`), from the row's mean and norm of deviations, reduced beforehand in
// partial results: rows too long for one binding or for a workgroup's loops on
// Mesa's CPU drivers (crates/hcal-wgpu/src/long_rows.rs).

// #include <workgroup_reduce>
// #include <linear_id>

// #include <NormParams>

@group(0) @binding(0) var<storage, read> params: NormParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read> row_mean: array<f32>;
@group(0) @binding(6) var<storage, read> row_norm: array<f32>;

@compute @workgroup_size(64)
fn norm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let row = wid.x + wid.y * nwg.x;
    if row >= params.rows { return; }
    let n = params.n;
    let epsilon = params.epsilon;
    let has_bias = params.has_bias == 1u;
    let rms = params.rms == 1u;
    let xb = params.x_base + row * n;
    let yb = params.y_base + row * n;
    let inv_n = 1.0 / f32(n);
    var mean = 0.0;
    if !rms {
        var s = 0.0;
        for (var j = t; j < n; j += 64u) { s += x[xb + j]; }
        mean = reduce_sum(t, s) * inv_n;
    }
    var q = 0.0;
    for (var j = t; j < n; j += 64u) {
        let d = x[xb + j] - mean;
        q += d * d;
    }
    let inv = inverseSqrt(reduce_sum(t, q) * inv_n + epsilon);
    for (var j = t; j < n; j += 64u) {
        var v = (x[xb + j] - mean) * inv * scale[j];
        if has_bias { v += bias[j]; }
        y[yb + j] = v;
    }
}

@compute @workgroup_size(256)
fn norm_apply(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.rows { return; }
    let mean = select(row_mean[params.row], 0.0, params.rms == 1u);
    let q = row_norm[params.row];
    let inv = inverseSqrt(q * q * (1.0 / f32(params.n)) + params.epsilon);
    var v = (x[params.x_base + i] - mean) * inv * scale[params.scale_base + i];
    if params.has_bias == 1u { v += bias[params.bias_base + i]; }
    y[params.y_base + i] = v;
}
