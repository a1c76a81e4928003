// TEMPLATE matmul_texture.wgsl: register-tiled Y = A op(B) (MatMul, and Gemm without
// alpha, beta or C) for N % 4 == 0, f32, with both operands read from
// textures and A shared across a subgroup. Needs the `subgroups` feature,
// subgroups of at least $CHUNK invocations (4 or 8: the expansion picks
// the adapter's smallest subgroup, at most 8), and the operands staged by
// matmul_stage.wgsl into rgba32float texture arrays: B by rows (texel
// [layer, p, j] = op(B)[layer][p, 4j..4j+4]; a transposed B is transposed by
// the staging), A by columns of 4 rows (texel [layer, i/4, p] = A[i..i+4, p]).
//
// Why, measured on lavapipe (Mesa 22.3, 2 cores) with perf and the JIT code's
// disassembly: a storage-buffer load there is a branchy per-lane loop, a
// sampled texelFetch an out-of-line call (per-lane mip offsets, every live
// register saved around it), and a read-only storage-texture load an inlined
// gather of 8 lanes x 4 floats. B as a sampled texture made the product about
// 1.9x faster than matmul_tiled.wgsl (22 -> 41 GFLOP/s at 1024^3); both
// operands as storage textures took it to 47-57 GFLOP/s at 512-2048^3, about
// 90% of lavapipe's measured fma peak. All invocations of a workgroup compute
// the same `$RR` rows: lane l loads the texel of A at (step p + l, 4 rows)
// for $CHUNK steps of K at once, and `subgroupBroadcast` hands step j's value of
// each row to every lane (one load per 4 rows and $CHUNK steps). On GPUs the same
// structure uses the texture path for both operands and removes redundant
// loads of A.
//
// A comes one of two ways, the lines tagged `A:tex` or `A:buf` kept by the
// expansion: staged (above), or read from its storage buffer (lane l loads
// A[row, p + l]), which costs less where N is small: the staging pass over A
// then outweighs the loads it saves (attention's P V with head size 64 ran
// at 2/3 of its speed with A staged).
//
// Expanded by crates/hcal-wgpu/src/matmul.rs: `$RR` rows (a multiple of 4) x
// `$CC` vec4 columns per invocation, `$WGX` invocations per workgroup, all
// along N; a line holding `$q` / `$x` / `$c` repeats per quad of rows (0..RR/4)
// / row in the quad (0..4) / column, and a run of lines holding `$j` repeats
// as a block for each j in 0..$CHUNK (the steps of one chunk). `$WGX` is a multiple
// of the adapter's largest subgroup, so a subgroup never mixes workgroups,
// and no invocation returns before the broadcasts (edge rows and columns are
// clamped and their stores skipped), so every lane is active.
//
// Bindings (parameters as matmul.wgsl's block):
//   @group(0) @binding(0) params: MatmulParams (include/matmul_params.wgsl): m, n, k,
//       batch_rank, batch_dims, a_batch_strides / b_batch_strides (each operand: one texture
//       layer per distinct matrix), a_base, b_base (read by matmul_stage.wgsl),
//       y_base, y_batch_stride (multiples of 4), lda (A:buf) and ldy (a multiple of 4):
//       row strides, stage_y0 (the staged A's first texel row of this dispatch's rows:
//       a product whose A or Y exceeds one storage binding runs in blocks of rows)
//   @group(0) @binding(1) at: texture_storage_2d_array<rgba32float, read>  [layers][M/4][K] texels
//                     (A:buf: a: array<f32> [batch.., M, K])
//   @group(0) @binding(2) bt: texture_storage_2d_array<rgba32float, read>  [layers][K][N/4] texels
//   @group(0) @binding(4) y: array<vec4<f32>>              [batch, M, N/4]
// Each output is fma-accumulated over K in order like every matmul kernel, so
// the result is bit-identical to theirs. Gemm's alpha/beta/C epilogue is left
// to the other kernels: inlined per output it tripled this template's compile
// time on lavapipe. Dispatch (ceil(N/4 / (CC*WGX)), ceil(M / RR), batch).
//
// No `enable subgroups;`: naga does not accept it yet; wgpu exposes the
// subgroup built-ins when the device has Features::SUBGROUP.

//
// f16 operands (kernel variant F16_IO, the `// F16` lines): A (A:buf) and Y
// hold two f16 elements per word, decoded and encoded by include/f16_bits.wgsl
// (B and a staged A arrive staged from f16 by matmul_stage.wgsl); the sums
// stay f32, so each output is the f32 result rounded once to f16, the same
// bits as converting the operands to f32, multiplying, and converting back.

// #include <matmul_params>
// #include <f16_bits>

@group(0) @binding(0) var<storage, read> params: MatmulParams;
@group(0) @binding(1) var at: texture_storage_2d_array<rgba32float, read>; // A:tex
@group(0) @binding(1) var<storage, read> a: array<AWord>; // A:buf
@group(0) @binding(2) var bt: texture_storage_2d_array<rgba32float, read>;
@group(0) @binding(4) var<storage, read_write> y: array<YTexel>;

// A's storage words (elements per word) and Y's texels, by storage dtype.
alias AWord = f32; // F32
alias AWord = u32; // F16
const A_PER_WORD = 1u; // F32
const A_PER_WORD = 2u; // F16
alias YTexel = vec4<f32>; // F32
alias YTexel = vec2<u32>; // F16
// Element i of A, from its word w, as f32.
fn a_elem(w: AWord, i: u32) -> f32 { return w; } // F32
fn a_elem(w: AWord, i: u32) -> f32 { return f16_at(w, i); } // F16
fn a_at(i: u32) -> f32 { return a_elem(a[i / A_PER_WORD], i); } // A:buf
// Texel i of Y, stored from f32.
fn y_put(i: u32, v: vec4<f32>) { y[i] = v; } // F32
fn y_put(i: u32, v: vec4<f32>) { y[i] = to_f16x4(v); } // F16

@compute @workgroup_size($WGX, 1)
fn matmul_texture(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(subgroup_invocation_id) lane: u32, // SG
) {
    let m = params.m;
    let n4 = params.n / 4u;
    let k = params.k;
    let c0 = gid.x * $CCu;
    let r0 = wid.y * $RRu;
    // Uniform over the workgroup, so whole subgroups leave together.
    if r0 >= m { return; }
    let br = params.batch_rank;
    var rest = gid.z;
    var a_off = params.a_base; // A:buf
    // The texture layers of A and B: the batch dims where the operand's
    // stride is not 0, innermost fastest (as matmul_stage.wgsl numbers them).
    var alayer = 0u;
    var a_inside = 1u;
    var layer = 0u;
    var layers_inside = 1u;
    for (var i = 0u; i < br; i++) {
        let d = br - 1u - i;
        let idx = rest % params.batch_dims[d];
        rest = rest / params.batch_dims[d];
        a_off += idx * params.a_batch_strides[d]; // A:buf
        if params.a_batch_strides[d] != 0u {
            alayer += idx * a_inside;
            a_inside *= params.batch_dims[d];
        }
        if params.b_batch_strides[d] != 0u {
            layer += idx * layers_inside;
            layers_inside *= params.batch_dims[d];
        }
    }
    // Rows r0 + 4 q + x: texel row q of the staged A holds rows 4 q .. 4 q + 4.
    let m4 = (m + 3u) / 4u;
    let aq$q = params.stage_y0 + min(r0 / 4u + $qu, m4 - 1u); // A:tex
    let arow$q_$x = a_off + min(r0 + 4u * $qu + $xu, m - 1u) * params.lda; // A:buf
    let bcol$c = min(c0 + $cu, n4 - 1u);
    var acc$q_$x_$c = vec4<f32>(0.0);
    var p = 0u;
    let step = lane % $CHUNKu; // SG
    let k8 = k - k % $CHUNKu; // SG
    while p < k8 { // SG
        // Lane l holds A[rows, p + l]; step j's value comes by broadcast from lane j.
        let av$q = textureLoad(at, vec2<u32>(p + step, aq$q), alayer); // SG // A:tex
        let a$q_$x_$j = vec4<f32>(subgroupBroadcast(av$q[$xu], $ju)); // SG // A:tex
        let av$q_$x = a_at(arow$q_$x + p + step); // SG // A:buf
        let a$q_$x_$j = vec4<f32>(subgroupBroadcast(av$q_$x, $ju)); // SG // A:buf
        let b$c_$j = textureLoad(bt, vec2<u32>(bcol$c, p + $ju), layer); // SG
        acc$q_$x_$c = fma(a$q_$x_$j, b$c_$j, acc$q_$x_$c); // SG
        p += $CHUNKu; // SG
    } // SG
    // The steps past the chunks (without subgroups: every step, each lane
    // loading A's texels itself, the same ones as every lane of its workgroup).
    while p < k {
        let av$q = textureLoad(at, vec2<u32>(p, aq$q), alayer); // A:tex
        let av$q_$x = a_at(arow$q_$x + p); // A:buf
        let b$c = textureLoad(bt, vec2<u32>(bcol$c, p), layer);
        acc$q_$x_$c = fma(vec4<f32>(av$q[$xu]), b$c, acc$q_$x_$c); // A:tex
        acc$q_$x_$c = fma(vec4<f32>(av$q_$x), b$c, acc$q_$x_$c); // A:buf
        p += 1u;
    }
    let y_off = (params.y_base + gid.z * params.y_batch_stride) / 4u;
    let ldy4 = params.ldy / 4u;
    if r0 + 4u * $qu + $xu < m && c0 + $cu < n4 { y_put(y_off + (r0 + 4u * $qu + $xu) * ldy4 + c0 + $cu, acc$q_$x_$c); }
}
