// split.wgsl: ONNX Split in one dispatch for up to 4 parts (movement.wgsl's
// strided copy takes one dispatch per part), on 32-bit words, so any dtype
// moves bit-exactly where every part is a whole number of words per row.
//
// Bindings:
//   @group(0) @binding(0) params: SplitParams
//       words (of X), row_words (words of X per index of the dims before the
//       axis: X as [outer, axis_len * inner]), ends (the word within a row
//       where part p ends, cumulative; parts past the last repeat its end)
//   @group(0) @binding(1) x: array<u32>    input as 32-bit words
//   @group(0) @binding(2..5) y0..y3: array<u32>   the parts as 32-bit words
//       (a part that does not exist is bound to a dummy and never written)
// One invocation per word of X: word c of row r goes to the part p whose
// columns [ends[p-1], ends[p]) hold c, at r * width_p + c - ends[p-1].

// #include <linear_id>
// #include <SplitParams>

@group(0) @binding(0) var<storage, read> params: SplitParams;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y0: array<u32>;
@group(0) @binding(3) var<storage, read_write> y1: array<u32>;
@group(0) @binding(4) var<storage, read_write> y2: array<u32>;
@group(0) @binding(5) var<storage, read_write> y3: array<u32>;

@compute @workgroup_size(256)
fn split(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = linear_id(gid, nwg);
    if w >= params.words { return; }
    let r = w / params.row_words;
    let c = w % params.row_words;
    let v = x[w];
    let e0 = params.ends[0];
    let e1 = params.ends[1];
    let e2 = params.ends[2];
    let e3 = params.ends[3];
    if c < e0 {
        y0[r * e0 + c] = v;
    } else if c < e1 {
        y1[r * (e1 - e0) + c - e0] = v;
    } else if c < e2 {
        y2[r * (e2 - e1) + c - e1] = v;
    } else if c < e3 {
        y3[r * (e3 - e2) + c - e2] = v;
    }
}
