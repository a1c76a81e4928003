// reduce.wgsl: ReduceSum / ReduceMean / ReduceMax over any set of axes, f32.
//
// Bindings:
//   @group(0) @binding(0) params: array<u32>
//       [0] outputs, [1] op (0 sum, 1 mean, 2 max), [2] rank (<= 8), [3] reduced count n,
//       [4..12) input shape, [12..20) input strides, [20..28) 1 where the axis is reduced
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// One invocation per output element walks its n inputs in order (deterministic).
// Empty reductions: sum 0, mean NaN, max -inf. Max propagates NaN.

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn is_nan(v: f32) -> bool {
    let b = bitcast<u32>(v);
    return (b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu) != 0u;
}

@compute @workgroup_size(256)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = gid.x + gid.y * nwg.x * 256u;
    if o >= params[0] { return; }
    let op = params[1];
    let rank = params[2];
    let n = params[3];
    // Offset of the first input of this output: kept dims take the output index.
    var rest = o;
    var base = 0u;
    for (var k = 0u; k < rank; k++) {
        let d = rank - 1u - k;
        if params[20u + d] == 0u {
            base += (rest % params[4u + d]) * params[12u + d];
            rest = rest / params[4u + d];
        }
    }
    var acc = select(0.0, bitcast<f32>(0xff800000u | (n & 0u)), op == 2u);
    var saw_nan = false;
    for (var r = 0u; r < n; r++) {
        var rr = r;
        var off = base;
        for (var k = 0u; k < rank; k++) {
            let d = rank - 1u - k;
            if params[20u + d] == 1u {
                off += (rr % params[4u + d]) * params[12u + d];
                rr = rr / params[4u + d];
            }
        }
        let v = x[off];
        if op == 2u {
            saw_nan = saw_nan || is_nan(v);
            acc = max(acc, v);
        } else {
            acc += v;
        }
    }
    if op == 1u { acc = acc * (1.0 / f32(n)); }
    if saw_nan { acc = acc + bitcast<f32>(0x7fc00000u | (n & 0u)); }
    y[o] = acc;
}
