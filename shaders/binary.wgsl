// binary.wgsl: two-input elementwise functions with numpy broadcasting, and a
// broadcast copy.
//
// Bindings:
//   @group(0) @binding(0) params: BinaryParams
//       n = output elements, op code (0 Add, 1 Sub, 2 Mul, 3 Div, 4 Max, 5 Min,
//       6 Pow, 7 Equal, 8 Less, 9 Greater, 10 LessOrEqual, 11 GreaterOrEqual,
//       12 And, 13 Or; comparisons and logical ops write 1.0 / 0.0, bools come as 0/1),
//       rank r (<= 8), the output shape, a_strides and b_strides
//       (element strides over the output's dims, 0 where broadcast; `expand` ignores B),
//       first (output index of the dispatch's first element: tensors larger than one
//       binding run in pieces), a_origin / b_origin (element where A's / B's bound
//       window starts), out_base (where the dispatch's first output lies in out's window)
//   @group(0) @binding(1) a:   array<f32>
//   @group(0) @binding(2) b:   array<f32>
//   @group(0) @binding(3) out: array<f32>   output element `first` at out_base
// Max/Min propagate NaN like numpy (u + v is NaN when either is); comparisons
// with NaN are false (tested on the bits: drivers may compare NaN as ordered).
// Dispatch: 256 per workgroup, 2-D grid.
// The launcher compiles `binary` once per op code, with `params.op` replaced by
// the constant, and where A, B and the output share one contiguous layout with
// `offsets(..)` replaced by the index itself (crates/hcal-wgpu/src/binary.rs,
// `specialize`): SIMD CPU drivers run every case of a switch on a loaded value.

// #include <linear_id>
// #include <is_nan>

// #include <BinaryParams>

@group(0) @binding(0) var<storage, read> params: BinaryParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// C's pow (numpy's power) on f32. WGSL's pow is only defined for u > 0 (its
// accuracy is that of exp2(v log2 u)), so zeros, infinities, negative bases and
// the cases that ignore a NaN are decided here; the magnitude of a finite
// nonzero base comes from exp2(v log2 |u|).
fn ieee_pow(u: f32, v: f32) -> f32 {
    if v == 0.0 || u == 1.0 { return 1.0; }
    if is_nan(u) || is_nan(v) { return u + v; }
    let au = abs(u);
    let av = abs(v);
    // Built from runtime bits: a constant inf or NaN is a shader-creation error.
    let inf = bitcast<f32>(0x7f800000u | (bitcast<u32>(u) & 0u));
    let nan = bitcast<f32>(0x7fc00000u | (bitcast<u32>(u) & 0u));
    if av == inf {
        if au == 1.0 { return 1.0; }
        return select(0.0, inf, (au > 1.0) == (v > 0.0));
    }
    let integer = floor(v) == v;
    // Past 2^24 every f32 is an even integer.
    let odd = integer && av < 16777216.0 && (floor(av * 0.5) * 2.0 != av);
    let negative = (bitcast<u32>(u) & 0x80000000u) != 0u;
    if negative && au != 0.0 && au != inf && !integer { return nan; }
    var mag: f32;
    if au == 0.0 {
        mag = select(inf, 0.0, v > 0.0);
    } else if au == inf {
        mag = select(0.0, inf, v > 0.0);
    } else {
        mag = exp2(v * log2(au));
    }
    return select(mag, -mag, negative && odd);
}

// 1.0 when `t`, else 0.0.
fn truth(t: bool) -> f32 {
    return select(0.0, 1.0, t);
}

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
    let ordered = !(is_nan(u) || is_nan(v));
    var r: f32;
    switch params.op {
        case 0u: { r = u + v; }
        case 1u: { r = u - v; }
        case 2u: { r = u * v; }
        case 3u: { r = u / v; }
        case 4u: { r = select(u + v, max(u, v), ordered); }
        case 5u: { r = select(u + v, min(u, v), ordered); }
        case 6u: { r = ieee_pow(u, v); }
        case 7u: { r = truth(ordered && u == v); }
        case 8u: { r = truth(ordered && u < v); }
        case 9u: { r = truth(ordered && u > v); }
        case 10u: { r = truth(ordered && u <= v); }
        case 11u: { r = truth(ordered && u >= v); }
        case 12u: { r = truth(u != 0.0 && v != 0.0); }
        default: { r = truth(u != 0.0 || v != 0.0); }
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
