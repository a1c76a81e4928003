// softmax.wgsl: softmax (entry `softmax`) and log-softmax (entry `log_softmax`)
// along one axis of an f32 tensor viewed as [outer, len, inner].
//
// Bindings:
//   @group(0) @binding(0) params: SoftmaxParams   lanes = outer * inner, len, inner,
//       x_base / y_base (where the dispatch's first lane starts in X's / Y's bound
//       window: tensors larger than one binding run in blocks of outer slices)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// One workgroup of 64 per lane (2-D grid of lanes): max, then the sum of
// exp(x - max), both as fixed-order tree reductions (deterministic), then the
// quotient, or for log-softmax (x - max) - log(sum). A lane whose max is -inf
// (all masked) comes out NaN, as in ONNX.

// #include <workgroup_reduce>

// #include <SoftmaxParams>

@group(0) @binding(0) var<storage, read> params: SoftmaxParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let lane = wid.x + wid.y * nwg.x;
    // Uniform across the workgroup, so the early return keeps barriers uniform.
    if lane >= params.lanes { return; }
    let len = params.len;
    let inner = params.inner;
    let base = (lane / inner) * len * inner + lane % inner;
    let xb = params.x_base + base;
    let yb = params.y_base + base;
    // -inf as a runtime value: WGSL rejects non-finite constant expressions.
    var m = bitcast<f32>(0xff800000u | (len & 0u));
    for (var j = t; j < len; j += 64u) { m = max(m, x[xb + j * inner]); }
    m = reduce_max(t, m);
    var s = 0.0;
    for (var j = t; j < len; j += 64u) { s += exp(x[xb + j * inner] - m); }
    s = reduce_sum(t, s);
    for (var j = t; j < len; j += 64u) {
        y[yb + j * inner] = exp(x[xb + j * inner] - m) / s;
    }
}

@compute @workgroup_size(64)
fn log_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let lane = wid.x + wid.y * nwg.x;
    if lane >= params.lanes { return; }
    let len = params.len;
    let inner = params.inner;
    let base = (lane / inner) * len * inner + lane % inner;
    let xb = params.x_base + base;
    let yb = params.y_base + base;
    var m = bitcast<f32>(0xff800000u | (len & 0u));
    for (var j = t; j < len; j += 64u) { m = max(m, x[xb + j * inner]); }
    m = reduce_max(t, m);
    var s = 0.0;
    for (var j = t; j < len; j += 64u) { s += exp(x[xb + j * inner] - m); }
    let log_sum = log(reduce_sum(t, s));
    for (var j = t; j < len; j += 64u) {
        y[yb + j * inner] = (x[xb + j * inner] - m) - log_sum;
    }
}
