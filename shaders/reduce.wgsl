// reduce.wgsl: ReduceSum / ReduceMean / ReduceMax / ReduceMin / ReduceProd /
// ReduceL2 over any set of axes, f32.
//
// Bindings:
//   @group(0) @binding(0) params: ReduceParams
//       outputs (invocations of this dispatch), op (0 sum, 1 mean, 2 max, 3 min,
//       4 prod, 5 l2), rank (<= 8), count (inputs per output n),
//       shape and strides of the input, reduced (1 where the axis is reduced),
//       first (index of the dispatch's first output, item or state: tensors
//       larger than one binding run in pieces), x_origin (element where X's
//       bound window starts), y_base (where item `first` lies in Y's window),
//       and for the partial forms: chunk, chunks, pass_chunk, accumulate, fan_in,
//       groups, finish (see ReduceParams in crates/hcal-wgpu/src/params/)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<f32>
// Entry points:
//   reduce          one invocation per output walks its n inputs in order
//                   (deterministic) and writes the result;
//   reduce_partial  one invocation per (output, chunk) folds `chunk` inputs into
//                   a partial state of 3 words (see State) written to Y, or, in
//                   passes (`pass_chunk` < 0xffffffff), one invocation per output folds
//                   chunk `pass_chunk` into the output's state, kept in Y between passes;
//   reduce_combine  one invocation per output (or group of states) folds up to
//                   `fan_in` states of X in order; writes a state, or the result
//                   when `finish` is 1.
// The partial forms exist for reductions whose inputs of one output span more
// than one storage binding, or more loop iterations than Mesa's CPU drivers run
// in one invocation (see crates/hcal-wgpu/src/reduce_partial.rs).
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

// What a fold has seen so far: the running sum, extreme, product mantissa (with
// `exponent` beside it) or scaled sum of squares (scaled by 2^-2 exponent), and
// flags of what the accumulator cannot hold.
struct State {
    acc: f32,
    exponent: i32,
    flags: u32,
}

const SAW_NAN: u32 = 1u;
const NEGATIVE: u32 = 2u;
const SAW_ZERO: u32 = 4u;
const SAW_INF: u32 = 8u;

@compute @workgroup_size(256)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = linear_id(gid, nwg);
    if o >= params.outputs { return; }
    let n = params.count;
    let s = fold(output_base(params.first + o), 0u, n);
    y[params.y_base + o] = finish(s, n);
}

@compute @workgroup_size(256)
fn reduce_partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.outputs { return; }
    let item = params.first + i;
    // Items are (output, chunk) pairs, chunks fastest, or outputs in one pass.
    var output = item / params.chunks;
    var chunk = item % params.chunks;
    if params.pass_chunk != 0xffffffffu {
        output = item;
        chunk = params.pass_chunk;
    }
    let r0 = chunk * params.chunk;
    let r1 = min(r0 + params.chunk, params.count);
    var s = fold(output_base(output), r0, r1);
    let at = params.y_base + 3u * i;
    if params.accumulate == 1u {
        s = combine(load_state(y[at], y[at + 1u], y[at + 2u]), s);
    }
    y[at] = s.acc;
    y[at + 1u] = f32(s.exponent);
    y[at + 2u] = f32(s.flags);
}

@compute @workgroup_size(256)
fn reduce_combine(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.outputs { return; }
    // Output state j = (output, group) folds states group * fan_in .. of its
    // output's `chunks` states, in order.
    let j = params.first + i;
    let output = j / params.groups;
    let k0 = (j % params.groups) * params.fan_in;
    let k1 = min(k0 + params.fan_in, params.chunks);
    var at = 3u * (output * params.chunks + k0) - params.x_origin;
    var s = load_state(x[at], x[at + 1u], x[at + 2u]);
    for (var k = k0 + 1u; k < k1; k++) {
        at += 3u;
        s = combine(s, load_state(x[at], x[at + 1u], x[at + 2u]));
    }
    if params.finish == 1u {
        y[params.y_base + i] = finish(s, params.count);
    } else {
        let out = params.y_base + 3u * i;
        y[out] = s.acc;
        y[out + 1u] = f32(s.exponent);
        y[out + 2u] = f32(s.flags);
    }
}

// A state as stored: the exponent and flags as f32 (exact: exponents beyond
// 2^24 in magnitude are far past any result's range, so their rounding cannot
// change one).
fn load_state(acc: f32, exponent: f32, flags: f32) -> State {
    return State(acc, i32(exponent), u32(flags));
}

// Element offset of the first input of the output at `output`: kept dims
// take the output index.
fn output_base(output: u32) -> u32 {
    let rank = params.rank;
    var rest = output;
    var base = 0u;
    for (var k = 0u; k < rank; k++) {
        let d = rank - 1u - k;
        if params.reduced[d] == 0u {
            base += (rest % params.shape[d]) * params.strides[d];
            rest = rest / params.shape[d];
        }
    }
    return base;
}

// Inputs r0 .. r1 (counted over the reduced dims) of the output at `base`, in order.
fn fold(base: u32, r0: u32, r1: u32) -> State {
    let op = params.op;
    var acc = select(0.0, bitcast<f32>(0xff800000u | (r1 & 0u)), op == 2u);
    if op == 3u { acc = bitcast<f32>(0x7f800000u | (r1 & 0u)); }
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
        for (var r = r0; r < r1; r++) {
            let v = x[input_offset(base, r) - params.x_origin];
            saw_nan = saw_nan || is_nan(v);
            largest = max(largest, abs(v));
        }
        let k = clamp(i32((bitcast<u32>(largest) >> 23u) & 0xffu) - 127, -126, 126);
        down = bitcast<f32>(u32(127 - k) << 23u);
        exponent = k;
    }
    for (var r = r0; r < r1; r++) {
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
    var flags = select(0u, SAW_NAN, saw_nan) | select(0u, NEGATIVE, negative);
    flags = flags | select(0u, SAW_ZERO, saw_zero) | select(0u, SAW_INF, saw_inf);
    return State(acc, exponent, flags);
}

// The state of a's inputs followed by b's.
fn combine(a: State, b: State) -> State {
    let op = params.op;
    var s = State(a.acc + b.acc, 0i, a.flags | b.flags);
    switch op {
        case 2u: {
            s.acc = max(a.acc, b.acc);
        }
        case 3u: {
            s.acc = min(a.acc, b.acc);
        }
        case 4u: {
            // Mantissas in [1, 2) (or 1 for a state of zeros, infinities and NaN only).
            s.acc = a.acc * b.acc;
            s.exponent = clamp(a.exponent + b.exponent, -1073741824, 1073741824);
            if s.acc >= 2.0 {
                s.acc = s.acc * 0.5;
                s.exponent += 1;
            }
            s.flags = (s.flags & ~NEGATIVE) | ((a.flags ^ b.flags) & NEGATIVE);
        }
        case 5u: {
            // Sums of squares scaled by 2^-2ka and 2^-2kb, brought to the larger scale.
            let k = max(a.exponent, b.exponent);
            s.acc = scale_by(a.acc, 2 * (a.exponent - k)) + scale_by(b.acc, 2 * (b.exponent - k));
            s.exponent = k;
        }
        default: {}
    }
    return s;
}

// The result of reducing n inputs into state s.
fn finish(s: State, n: u32) -> f32 {
    let op = params.op;
    var acc = s.acc;
    if op == 1u { acc = acc * (1.0 / f32(n)); }
    if op == 4u {
        acc = finish_product(acc, s.exponent, (s.flags & NEGATIVE) != 0u, (s.flags & SAW_ZERO) != 0u, (s.flags & SAW_INF) != 0u);
    }
    if op == 5u { acc = scale_by(sqrt(acc), s.exponent); }
    if (s.flags & SAW_NAN) != 0u { acc = acc + bitcast<f32>(0x7fc00000u | (n & 0u)); }
    return acc;
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

// m 2^e for m >= 0 below 2^24 and any e, in steps whose factors are normal
// numbers (a result below the normal range may flush to zero, as WGSL allows).
fn scale_by(m: f32, e: i32) -> f32 {
    if m == 0.0 { return m; }
    if e > 128 { return bitcast<f32>(0x7f800000u | (u32(e) & 0u)); }
    if e < -200 { return 0.0; }
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
