// include/matmul_params.wgsl: the parameter block of every matmul kernel
// (matmul.wgsl, matmul_tiled.wgsl, matmul_smem.wgsl, matmul_texture.wgsl,
// matmul_stage.wgsl), mirrored by `MatmulParams` in crates/hcal-wgpu/src/params/
// (see there for what each field means), and the batch-offset walk they share.
// Pulled in by `// #include <matmul_params>`; the includer binds
//   @group(0) @binding(0) var<storage, read> params: MatmulParams;

// #include <MatmulParams>

// Element offsets (A, B) of batch item `item`'s matrices: the item's index
// along each batch dim (innermost fastest) times the operand's stride there
// (0 where it is broadcast), from the bases.
fn batch_offsets(item: u32) -> vec2<u32> {
    let br = params.batch_rank;
    var rest = item;
    var a_off = params.a_base;
    var b_off = params.b_base;
    for (var i = 0u; i < br; i++) {
        let d = br - 1u - i;
        let idx = rest % params.batch_dims[d];
        rest = rest / params.batch_dims[d];
        a_off += idx * params.a_batch_strides[d];
        b_off += idx * params.b_batch_strides[d];
    }
    return vec2<u32>(a_off, b_off);
}
