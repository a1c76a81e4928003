// softmax.wgsl: softmax along one axis of an f32 tensor viewed as [outer, len, inner].
//
// Bindings:
//   @group(0) @binding(0) params: array<u32>   [0] lanes = outer * inner, [1] len, [2] inner
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// One workgroup of 64 per lane (2-D grid of lanes): max, then the sum of
// exp(x - max), both as fixed-order tree reductions (deterministic), then the
// quotient. A lane whose max is -inf (all masked) comes out NaN, as in ONNX.

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> scratch: array<f32, 64>;

fn reduce_max(t: u32, v: f32) -> f32 {
    scratch[t] = v;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s / 2u) {
        if t < s { scratch[t] = max(scratch[t], scratch[t + s]); }
        workgroupBarrier();
    }
    let r = scratch[0];
    workgroupBarrier();
    return r;
}

fn reduce_sum(t: u32, v: f32) -> f32 {
    scratch[t] = v;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s / 2u) {
        if t < s { scratch[t] = scratch[t] + scratch[t + s]; }
        workgroupBarrier();
    }
    let r = scratch[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(64)
fn softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let lane = wid.x + wid.y * nwg.x;
    // Uniform across the workgroup, so the early return keeps barriers uniform.
    if lane >= params[0] { return; }
    let len = params[1];
    let inner = params[2];
    let base = (lane / inner) * len * inner + lane % inner;
    // -inf as a runtime value: WGSL rejects non-finite constant expressions.
    var m = bitcast<f32>(0xff800000u | (len & 0u));
    for (var j = t; j < len; j += 64u) { m = max(m, x[base + j * inner]); }
    m = reduce_max(t, m);
    var s = 0.0;
    for (var j = t; j < len; j += 64u) { s += exp(x[base + j * inner] - m); }
    s = reduce_sum(t, s);
    for (var j = t; j < len; j += 64u) {
        y[base + j * inner] = exp(x[base + j * inner] - m) / s;
    }
}
