// select.wgsl: Where, numpy broadcasting of condition, X and Y.
//
// Bindings:
//   @group(0) @binding(0) params: WhereParams
//       n = output elements of this dispatch, rank r (<= 8), the output shape,
//       c_strides, x_strides and y_strides (element strides over the output's
//       dims, 0 where broadcast), first (output index of the dispatch's first
//       element: tensors larger than one binding run in pieces), c_origin /
//       x_origin / y_origin (element where each operand's bound window starts),
//       out_base (where the dispatch's first output lies in out's window)
//   @group(0) @binding(1) cond: array<f32>   the condition as 0/1 (bools are staged to f32)
//   @group(0) @binding(2) x:    array<f32>
//   @group(0) @binding(3) y:    array<f32>
//   @group(0) @binding(4) out:  array<f32>   output element `first` at out_base
//   select_where_wide (8-byte elements: i64, moved as word pairs, so no value is
//   staged through f32) binds X, Y and out as words instead:
//   @group(0) @binding(5) x_words, (6) y_words: array<u32>, (7) out_words: array<u32>
// Elements are copied, never computed on, so NaN payloads and -0 pass through.
// Dispatch: 256 per workgroup, 2-D grid.

// #include <linear_id>

// #include <WhereParams>

@group(0) @binding(0) var<storage, read> params: WhereParams;
@group(0) @binding(1) var<storage, read> cond: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn select_where(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    var rest = params.first + i;
    var off = vec3<u32>(0u, 0u, 0u);
    for (var k = 0u; k < params.rank; k++) {
        let d = params.rank - 1u - k;
        let extent = params.shape[d];
        let idx = rest % extent;
        rest = rest / extent;
        off += idx * vec3<u32>(params.c_strides[d], params.x_strides[d], params.y_strides[d]);
    }
    off -= vec3<u32>(params.c_origin, params.x_origin, params.y_origin);
    // Move bits, so a NaN payload survives drivers that canonicalize on select.
    let chosen = select(bitcast<u32>(y[off.z]), bitcast<u32>(x[off.y]), cond[off.x] != 0.0);
    out[params.out_base + i] = bitcast<f32>(chosen);
}

@group(0) @binding(5) var<storage, read> x_words: array<u32>;
@group(0) @binding(6) var<storage, read> y_words: array<u32>;
@group(0) @binding(7) var<storage, read_write> out_words: array<u32>;

@compute @workgroup_size(256)
fn select_where_wide(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_id(gid, nwg);
    if i >= params.n { return; }
    var rest = params.first + i;
    var off = vec3<u32>(0u, 0u, 0u);
    for (var k = 0u; k < params.rank; k++) {
        let d = params.rank - 1u - k;
        let extent = params.shape[d];
        let idx = rest % extent;
        rest = rest / extent;
        off += idx * vec3<u32>(params.c_strides[d], params.x_strides[d], params.y_strides[d]);
    }
    off -= vec3<u32>(params.c_origin, params.x_origin, params.y_origin);
    let o = 2u * (params.out_base + i);
    if cond[off.x] != 0.0 {
        out_words[o] = x_words[2u * off.y];
        out_words[o + 1u] = x_words[2u * off.y + 1u];
    } else {
        out_words[o] = y_words[2u * off.z];
        out_words[o + 1u] = y_words[2u * off.z + 1u];
    }
}
