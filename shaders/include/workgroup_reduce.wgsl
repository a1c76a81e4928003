// include/workgroup_reduce.wgsl: sum and max over a workgroup of 64
// invocations as fixed-order trees (pairs 32 apart, then 16, ... 1), so a
// row's result is deterministic. Pulled in by `// #include <workgroup_reduce>`
// (softmax.wgsl, norm.wgsl, attention.wgsl); declares the workgroup
// `scratch` it reduces in. Every invocation must call it (barriers).

var<workgroup> scratch: array<f32, 64>;

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
