// reduce.wgsl: ReduceSum / ReduceMean / ReduceMax / ReduceMin / ReduceProd /
// ReduceL2 over any set of axes, f32.
//
// Bindings:
//   @group(0) @binding(0) params: ReduceParams
//       outputs, op (0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 l2), rank (<= 8),
//       count (inputs per output n),
//       shape and strides of the input, reduced (1 where the axis is reduced),
//       first (output index of the dispatch's first output: tensors larger than one
//       binding run in pieces), x_origin (element where X's bound window starts),
//       y_base (where output `first` lies in Y's bound window)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// One invocation per output element walks its n inputs in order (deterministic).
// Empty reductions: sum 0, mean NaN, max -inf, min +inf, prod 1, l2 0. Max and
// min propagate NaN.
// Prod multiplies mantissas in [1, 2) and adds exponents apart, so a running
// product never overflows or underflows on the way (1e30 * 1e30 * 1e-30 is
// 1e30, not inf); zeros, infinities and NaN are counted apart (0 * inf = NaN).
// L2 takes two passes: the largest magnitude m, then sum (x 2^-k)^2 with 2^k
// near m (an exact scaling), so x^2 neither overflows nor underflows; one pass
// per input more than the others (see the loop budget in support.rs).

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
    if op == 3u { acc = bitcast<f32>(0x7f800000u | (n & 0u)); }
    if op == 4u { acc = 1.0; }
    var saw_nan = false;
    // prod: exponent of the product beside the mantissa `acc`, and what the
    // mantissa cannot hold.
    var exponent = 0i;
    var negative = false;
    var saw_zero = false;
    var saw_inf = false;
    // l2: 2^-k, the exact scaling of the second pass (1 when op != 5).
    var down = 1.0;
    if op == 5u {
        var largest = 0.0;
        for (var r = 0u; r < n; r++) {
            let v = x[input_offset(base, r) - params.x_origin];
            saw_nan = saw_nan || is_nan(v);
            largest = max(largest, abs(v));
        }
        let k = clamp(i32((bitcast<u32>(largest) >> 23u) & 0xffu) - 127, -126, 126);
        down = bitcast<f32>(u32(127 - k) << 23u);
        exponent = k;
    }
    for (var r = 0u; r < n; r++) {
        let v = x[input_offset(base, r) - params.x_origin];
        switch op {
            case 2u: {
                saw_nan = saw_nan || is_nan(v);
                acc = max(acc, v);
            }
            case 3u: {
                saw_nan = saw_nan || is_nan(v);
                acc = min(acc, v);
            }
            case 4u: {
                let bits = bitcast<u32>(v);
                negative = negative != ((bits >> 31u) == 1u);
                let field = (bits >> 23u) & 0xffu;
                if is_nan(v) {
                    saw_nan = true;
                } else if field == 0xffu {
                    saw_inf = true;
                } else if (bits & 0x7fffffffu) == 0u {
                    saw_zero = true;
                } else {
                    // Subnormals are first scaled by 2^23 (exact) to a normal number.
                    var w = abs(v);
                    var e = i32(field) - 127;
                    if field == 0u {
                        w = w * 8388608.0;
                        e = i32((bitcast<u32>(w) >> 23u) & 0xffu) - 127 - 23;
                    }
                    // acc and the mantissa are in [1, 2): the product in [1, 4).
                    acc = acc * bitcast<f32>((bitcast<u32>(w) & 0x7fffffu) | 0x3f800000u);
                    // Saturated far beyond any result's range instead of wrapping.
                    exponent = clamp(exponent + e, -1073741824, 1073741824);
                    if acc >= 2.0 {
                        acc = acc * 0.5;
                        exponent += 1;
                    }
                }
            }
            case 5u: {
                let w = v * down;
                acc += w * w;
            }
            default: {
                acc += v;
            }
        }
    }
    if op == 1u { acc = acc * (1.0 / f32(n)); }
    if op == 4u { acc = finish_product(acc, exponent, negative, saw_zero, saw_inf); }
    if op == 5u { acc = scale_by(sqrt(acc), exponent); }
    if saw_nan { acc = acc + bitcast<f32>(0x7fc00000u | (n & 0u)); }
    y[params.y_base + o] = acc;
}

// Offset of input `r` (counted over the reduced dims) of the output at `base`.
fn input_offset(base: u32, r: u32) -> u32 {
    var rr = r;
    var off = base;
    let rank = params.rank;
    for (var k = 0u; k < rank; k++) {
        let d = rank - 1u - k;
        if params.reduced[d] == 1u {
            off += (rr % params.shape[d]) * params.strides[d];
            rr = rr / params.shape[d];
        }
    }
    return off;
}

// m 2^e for m in [0, 4) and any e, in steps whose factors are normal numbers
// (a result below the normal range may flush to zero, as WGSL allows).
fn scale_by(m: f32, e: i32) -> f32 {
    if m == 0.0 { return m; }
    if e > 128 { return bitcast<f32>(0x7f800000u | (u32(e) & 0u)); }
    if e < -160 { return 0.0; }
    let e1 = clamp(e, -126, 127);
    let e2 = clamp(e - e1, -126, 127);
    return m * bitcast<f32>(u32(e1 + 127) << 23u) * bitcast<f32>(u32(e2 + 127) << 23u);
}

// The product from its mantissa, exponent, sign and the values set apart.
fn finish_product(m: f32, e: i32, negative: bool, saw_zero: bool, saw_inf: bool) -> f32 {
    var r: f32;
    if saw_zero && saw_inf {
        r = bitcast<f32>(0x7fc00000u | (u32(e) & 0u));
    } else if saw_inf {
        r = bitcast<f32>(0x7f800000u | (u32(e) & 0u));
    } else if saw_zero {
        r = 0.0;
    } else {
        r = scale_by(m, e);
    }
    if negative { r = -r; }
    return r;
}
