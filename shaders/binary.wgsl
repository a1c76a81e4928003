// binary.wgsl: two-input elementwise functions with numpy broadcasting, and a
// broadcast copy.
//
// Bindings:
//   @group(0) @binding(0) params: BinaryParams
//       n = output elements, op code (0 Add, 1 Sub, 2 Mul, 3 Div, 4 Max, 5 Min),
//       rank r (<= 8), the output shape, a_strides and b_strides
//       (element strides over the output's dims, 0 where broadcast; `expand` ignores B),
//       first (output index of the dispatch's first element: tensors larger than one
//       binding run in pieces), a_origin / b_origin (element where A's / B's bound
//       window starts), out_base (where the dispatch's first output lies in out's window)
//   @group(0) @binding(1) a:   array<f32>
//   @group(0) @binding(2) b:   array<f32>
//   @group(0) @binding(3) out: array<f32>   output element `first` at out_base
// Max/Min propagate NaN like numpy (u + v is NaN when either is). Dispatch: 256 per workgroup, 2-D grid.

// #include <linear_id>
// #include <is_nan>

// #include <BinaryParams>

@group(0) @binding(0) var<storage, read> params: BinaryParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Offsets of output element i in A and B.
fn offsets(i: u32) -> vec2<u32> {
    let rank = params.rank;
    var rest = i;
    var off = vec2<u32>(0u, 0u);
    for (var k = 0u; k < rank; k++) {
        let d = rank - 1u - k;
        let extent = params.shape[d];
        let idx = rest % extent;
        rest = rest / extent;
        off += idx * vec2<u32>(params.a_strides[d], params.b_strides[d]);
    }
    return off;
}

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    let off = offsets(params.first + i) - vec2<u32>(params.a_origin, params.b_origin);
    let u = a[off.x];
    let v = b[off.y];
    var r: f32;
    switch params.op {
        case 0u: { r = u + v; }
        case 1u: { r = u - v; }
        case 2u: { r = u * v; }
        case 3u: { r = u / v; }
        case 4u: { r = select(max(u, v), u + v, is_nan(u) || is_nan(v)); }
        default: { r = select(min(u, v), u + v, is_nan(u) || is_nan(v)); }
    }
    out[params.out_base + i] = r;
}

// out[i] = a[broadcast offset of i]: materializes a broadcast operand.
@compute @workgroup_size(256)
fn expand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    out[params.out_base + i] = a[offsets(params.first + i).x - params.a_origin];
}
