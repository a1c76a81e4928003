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

@compute @workgroup_size(256)
fn arg_extreme(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    let len = params.len;
    let inner = params.inner;
    let largest = (params.flags & 1u) != 0u;
    let last = (params.flags & 2u) != 0u;
    let xb = params.x_base + (lane / inner) * len * inner + lane % inner;
    var best = x[xb];
    var index = 0u;
    for (var j = 1u; j < len; j++) {
        let v = x[xb + j * inner];
        if takes(v, best, largest, last) {
            best = v;
            index = j;
        }
    }
    let out = 2u * (params.y_base + lane);
    y[out] = index;
    y[out + 1u] = 0u;
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
    let inner = params.inner;
    let largest = (params.flags & 1u) != 0u;
    let last = (params.flags & 2u) != 0u;
    // x_base may lie before the window's start (wrapping): the segment's own
    // elements lie within it.
    let xb = params.x_base + (lane / inner) * params.len * inner + lane % inner;
    let at = params.s_base + 2u * lane;
    var j = params.seg_first;
    var best: f32;
    var index: u32;
    if params.carry == 1u {
        best = bitcast<f32>(state[at]);
        index = state[at + 1u];
    } else {
        best = x[xb + j * inner];
        index = j;
        j += 1u;
    }
    for (; j < params.seg_end; j++) {
        let v = x[xb + j * inner];
        if takes(v, best, largest, last) {
            best = v;
            index = j;
        }
    }
    if params.finish == 1u {
        let out = 2u * (params.y_base + lane);
        y[out] = index;
        y[out + 1u] = 0u;
    } else {
        state[at] = bitcast<u32>(best);
        state[at + 1u] = index;
    }
}

@compute @workgroup_size(256)
fn cumsum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    let len = params.len;
    let inner = params.inner;
    let exclusive = (params.flags & 1u) != 0u;
    let reverse = (params.flags & 2u) != 0u;
    let base = (lane / inner) * len * inner + lane % inner;
    let xb = params.x_base + base;
    let yb = params.y_base + base;
    var sum = 0.0;
    for (var step = 0u; step < len; step++) {
        let j = select(step, len - 1u - step, reverse);
        let v = x[xb + j * inner];
        if !exclusive { sum += v; }
        y[yb + j * inner] = bitcast<u32>(sum);
        if exclusive { sum += v; }
    }
}

@compute @workgroup_size(256)
fn cumsum_segment(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lane = linear_id(gid, nwg);
    if lane >= params.lanes { return; }
    let len = params.len;
    let inner = params.inner;
    let exclusive = (params.flags & 1u) != 0u;
    let reverse = (params.flags & 2u) != 0u;
    // Bases may lie before the windows' starts (wrapping), as above.
    let base = (lane / inner) * len * inner + lane % inner;
    let xb = params.x_base + base;
    let yb = params.y_base + base;
    let at = params.s_base + lane;
    var sum = 0.0;
    if params.carry == 1u { sum = bitcast<f32>(state[at]); }
    for (var step = params.seg_first; step < params.seg_end; step++) {
        let j = select(step, len - 1u - step, reverse);
        let v = x[xb + j * inner];
        if !exclusive { sum += v; }
        y[yb + j * inner] = bitcast<u32>(sum);
        if exclusive { sum += v; }
    }
    state[at] = bitcast<u32>(sum);
}
