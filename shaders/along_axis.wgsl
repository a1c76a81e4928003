// along_axis.wgsl: ArgMax / ArgMin (entry `arg_extreme`) and CumSum (entry
// `cumsum`) along one axis of an f32 tensor viewed as [outer, len, inner].
//
// Bindings:
//   @group(0) @binding(0) params: AlongAxisParams   lanes (outer * inner of this
//       dispatch), len, inner, flags, x_base / y_base (where the dispatch's first
//       lane starts in X's / Y's bound window, in lanes' elements: tensors larger
//       than one binding run in blocks of outer slices)
//   @group(0) @binding(1) x: array<f32>
//   @group(0) @binding(2) y: array<u32>   arg_extreme: i64 indices as (low, high)
//       word pairs, laid out [outer, inner]; cumsum: f32 bits, laid out as X
//   @group(0) @binding(3) state: array<u32>   the `*_segment` entries: each lane's
//       running state between segments (arg: best value bits and index; cumsum:
//       the sum's bits)
// One invocation per lane walks it in order (deterministic), so a lane costs
// `len` loop iterations (see the loop budget in support.rs). Lanes longer than
// that budget, or than one binding, run in segments of steps (`*_segment`, one
// dispatch per segment, crates/hcal-wgpu/src/along_axis_segments.rs), each
// continuing the previous one's state: the same steps in the same order, so
// the same bits.
//
// arg_extreme: flags bit 0 = largest (ArgMax), bit 1 = select_last_index. NaN
// beats every number (numpy): the first NaN wins, or the last with bit 1. Ties
// go to the first index, or the last with bit 1.
// cumsum: flags bit 0 = exclusive, bit 1 = reverse.

// #include <linear_id>
// #include <is_nan>

// #include <AlongAxisParams>

@group(0) @binding(0) var<storage, read> params: AlongAxisParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
@group(0) @binding(3) var<storage, read_write> state: array<u32>;

// The best element so far of an ArgMax/ArgMin lane and its index.
struct Best {
    value: f32,
    index: u32,
}

@compute @workgroup_size(256)
fn arg_extreme(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    let xb = params.x_base + (lane / params.inner) * params.len * params.inner + lane % params.inner;
    let best = arg_steps(xb, 1u, params.len, Best(x[xb], 0u));
    let out = 2u * (params.y_base + lane);
    y[out] = best.index;
    y[out + 1u] = 0u;
}

// Steps `first .. end` of the lane at `xb`, from `best`.
fn arg_steps(xb: u32, first: u32, end: u32, start: Best) -> Best {
    let inner = params.inner;
    let largest = (params.flags & 1u) != 0u;
    let last = (params.flags & 2u) != 0u;
    var best = start;
    for (var j = first; j < end; j++) {
        let v = x[xb + j * inner];
        if takes(v, best.value, largest, last) {
            best = Best(v, j);
        }
    }
    return best;
}

// Whether `v`, met after `best`, replaces it.
fn takes(v: f32, best: f32, largest: bool, last: bool) -> bool {
    let v_nan = is_nan(v);
    let best_nan = is_nan(best);
    if v_nan || best_nan {
        return v_nan && (!best_nan || last);
    }
    if v == best {
        return last;
    }
    return (v > best) == largest;
}

@compute @workgroup_size(256)
fn arg_extreme_segment(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    // x_base may lie before the window's start (wrapping): the segment's own
    // elements lie within it.
    let xb = params.x_base + (lane / params.inner) * params.len * params.inner + lane % params.inner;
    let at = params.s_base + 2u * lane;
    let j = params.seg_first;
    var best: Best;
    if params.carry == 1u {
        best = arg_steps(xb, j, params.seg_end, Best(bitcast<f32>(state[at]), state[at + 1u]));
    } else {
        best = arg_steps(xb, j + 1u, params.seg_end, Best(x[xb + j * params.inner], j));
    }
    if params.finish == 1u {
        let out = 2u * (params.y_base + lane);
        y[out] = best.index;
        y[out + 1u] = 0u;
    } else {
        state[at] = bitcast<u32>(best.value);
        state[at + 1u] = best.index;
    }
}

@compute @workgroup_size(256)
fn cumsum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    let base = (lane / params.inner) * params.len * params.inner + lane % params.inner;
    cumsum_steps(params.x_base + base, params.y_base + base, 0u, params.len, 0.0);
}

// Steps `first .. end` of the CumSum lane at `xb` / `yb` (backwards with
// reverse), from the running sum `start`; returns the sum after them.
fn cumsum_steps(xb: u32, yb: u32, first: u32, end: u32, start: f32) -> f32 {
    let len = params.len;
    let inner = params.inner;
    let exclusive = (params.flags & 1u) != 0u;
    let reverse = (params.flags & 2u) != 0u;
    var sum = start;
    for (var step = first; step < end; step++) {
        let j = select(step, len - 1u - step, reverse);
        let v = x[xb + j * inner];
        if !exclusive { sum += v; }
        y[yb + j * inner] = bitcast<u32>(sum);
        if exclusive { sum += v; }
    }
    return sum;
}

@compute @workgroup_size(256)
fn cumsum_segment(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    // Bases may lie before the windows' starts (wrapping), as above.
    let base = (lane / params.inner) * params.len * params.inner + lane % params.inner;
    let at = params.s_base + lane;
    var sum = 0.0;
    if params.carry == 1u { sum = bitcast<f32>(state[at]); }
    sum = cumsum_steps(params.x_base + base, params.y_base + base, params.seg_first, params.seg_end, sum);
    state[at] = bitcast<u32>(sum);
}
