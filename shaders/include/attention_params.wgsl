// include/attention_params.wgsl: the parameter block of every attention
// kernel (attention.wgsl, attention_flash.wgsl), mirrored by `AttentionParams`
// in crates/hcal-wgpu/src/params.rs (see there for what each field means).
// The head (rows .. mask_keys) is shared; each later field belongs to the
// entry named in its prefix (split_: decode_split/decode_combine, block_:
// scores_softmax(_rows), v_fold: attention_flash, concat_: kv_concat).
// Pulled in by `// #include <attention_params>`; the includer binds
//   @group(0) @binding(0) var<storage, read> params: AttentionParams;

struct AttentionParams {
    rows: u32,
    q_heads: u32,
    kv_heads: u32,
    q_len: u32,
    total_len: u32,
    past_len: u32,
    head_dim: u32,
    v_head_dim: u32,
    packed_3d: u32,
    scale: f32,
    softcap: f32,
    causal: u32,
    mask_kind: u32,
    mask_batch: u32,
    mask_heads: u32,
    mask_keys: u32,
    split_chunk_keys: u32,
    split_chunks: u32,
    block_first_row: u32,
    block_rows: u32,
    v_fold_shift: u32,
    v_folds: u32,
    concat_elements: u32,
    concat_new_len: u32,
    concat_dim: u32,
    concat_new_packed: u32,
}
