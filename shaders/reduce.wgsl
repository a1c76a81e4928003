// reduce.wgsl: ReduceSum / ReduceMean / ReduceMax over any set of axes, f32.
//
// Bindings:
//   @group(0) @binding(0) params: ReduceParams
//       outputs, op (0 sum, 1 mean, 2 max), rank (<= 8), count (inputs per output n),
//       shape and strides of the input, reduced (1 where the axis is reduced),
//       first (output index of the dispatch's first output: tensors larger than one
//       binding run in pieces), x_origin (element where X's bound window starts),
//       y_base (where output `first` lies in Y's bound window)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// One invocation per output element walks its n inputs in order (deterministic).
// Empty reductions: sum 0, mean NaN, max -inf. Max propagates NaN.

// #include <linear_id>
// #include <is_nan>

// #include <ReduceParams>

@group(0) @binding(0) var<storage, read> params: ReduceParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = linear_id(gid, nwg);
    if o >= params.outputs { return; }
    let op = params.op;
    let rank = params.rank;
    let n = params.count;
    // Offset of the first input of this output: kept dims take the output index.
    var rest = params.first + o;
    var base = 0u;
    for (var k = 0u; k < rank; k++) {
        let d = rank - 1u - k;
        if params.reduced[d] == 0u {
            base += (rest % params.shape[d]) * params.strides[d];
            rest = rest / params.shape[d];
        }
    }
    var acc = select(0.0, bitcast<f32>(0xff800000u | (n & 0u)), op == 2u);
    var saw_nan = false;
    for (var r = 0u; r < n; r++) {
        var rr = r;
        var off = base;
        for (var k = 0u; k < rank; k++) {
            let d = rank - 1u - k;
            if params.reduced[d] == 1u {
                off += (rr % params.shape[d]) * params.strides[d];
                rr = rr / params.shape[d];
            }
        }
        let v = x[off - params.x_origin];
        if op == 2u {
            saw_nan = saw_nan || is_nan(v);
            acc = max(acc, v);
        } else {
            acc += v;
        }
    }
    if op == 1u { acc = acc * (1.0 / f32(n)); }
    if saw_nan { acc = acc + bitcast<f32>(0x7fc00000u | (n & 0u)); }
    y[params.y_base + o] = acc;
}
