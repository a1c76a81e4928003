//! Parameter blocks of the products and row kernels: matmul, attention,
//! softmax, normalization, rotary embedding, and the peak probes.

use bytemuck::{Pod, Zeroable};

use super::{MATMUL_BATCH_RANK, Member, ParamsStruct};

params_struct! {
    /// `MatmulParams` (with the batch-offset walk in `shaders/include/matmul_params.wgsl`): `matmul.wgsl`, the tile
    /// templates, `matmul_smem.wgsl` and `matmul_stage.wgsl` (which also stages
    /// attention's K and V for the flash kernel).
    MatmulParams {
        /// Rows of op(A) and Y.
        pub(crate) m: u32,
        /// Columns of op(B) and Y.
        pub(crate) n: u32,
        /// Shared dim.
        pub(crate) k: u32,
        /// 1: A is stored `[K, M]`; 2: B is stored `[N, K]`; 4: C is present;
        /// 8: continue (accumulators start from the partial sums Y holds);
        /// 16: partial (store raw sums, no epilogue). 8 and 16 chain a product
        /// over blocks of K (see `matmul/split.rs`).
        pub(crate) flags: u32,
        /// Gemm's alpha (1 for MatMul).
        pub(crate) alpha: f32,
        /// Gemm's beta.
        pub(crate) beta: f32,
        /// Batch dims in use (at most [`MATMUL_BATCH_RANK`]).
        pub(crate) batch_rank: u32,
        /// The broadcast batch dims, outermost first.
        pub(crate) batch_dims: [u32; MATMUL_BATCH_RANK],
        /// A's stride over each batch dim (0 where broadcast).
        pub(crate) a_batch_strides: [u32; MATMUL_BATCH_RANK],
        /// B's stride over each batch dim (0 where broadcast).
        pub(crate) b_batch_strides: [u32; MATMUL_BATCH_RANK],
        /// C's stride over rows (0 where broadcast).
        pub(crate) c_stride_m: u32,
        /// C's stride over columns (0 where broadcast).
        pub(crate) c_stride_n: u32,
        /// Where A starts in its buffer.
        pub(crate) a_base: u32,
        /// Where B starts in its buffer.
        pub(crate) b_base: u32,
        /// Where Y starts in its buffer (`gemv` with K splits: its partial sums).
        pub(crate) y_base: u32,
        /// Elements between consecutive output matrices.
        pub(crate) y_batch_stride: u32,
        /// K splits of `gemv` (1: none; more: partial sums, then `splitk_reduce`).
        pub(crate) splits: u32,
        /// K steps per split of `gemv`.
        pub(crate) split_steps: u32,
        /// Where `splitk_reduce` writes its first output.
        pub(crate) out_base: u32,
        /// Elements between `splitk_reduce`'s consecutive output matrices.
        pub(crate) out_batch_stride: u32,
        /// Elements between consecutive stored rows of A (K, or M when transposed):
        /// a block of a larger product keeps its operand's full row stride.
        pub(crate) lda: u32,
        /// Elements between consecutive stored rows of B (N, or K when transposed).
        pub(crate) ldb: u32,
        /// Elements between consecutive rows of Y (N).
        pub(crate) ldy: u32,
        /// Where C starts in its bound window (Gemm).
        pub(crate) c_base: u32,
        /// `matmul_stage.wgsl`: the first texel column a staging dispatch writes.
        pub(crate) stage_x0: u32,
        /// `matmul_stage.wgsl`: the first texel row a staging dispatch writes;
        /// `matmul_texture.wgsl`: the staged A's first texel row of the dispatch's rows.
        pub(crate) stage_y0: u32,
        /// `matmul_quant.wgsl`, B in a texture in interleaved block order
        /// (`block_layout.rs`): rows per group, 0 for stored order.
        pub(crate) b_group: u32,
        /// Consecutive blocks of a row kept together (1 or 2).
        pub(crate) b_unit: u32,
        /// B's rows (all dims but the last).
        pub(crate) b_rows: u32,
        /// B's blocks per row.
        pub(crate) b_blocks_per_row: u32,
        /// 0, or the head bytes of B's blocks in the split form of that order
        /// (`BlockLayout::head`: each run's heads, then their rests).
        pub(crate) b_head: u32,
        /// `matmul_quant.wgsl`'s normalizing GEMV (RMSNormGemm): the
        /// normalization's epsilon.
        pub(crate) norm_epsilon: f32,
    }
}

params_struct! {
    /// `AttentionParams`: every entry of `attention.wgsl` and
    /// `attention_flash.wgsl`. The head (`rows` .. `mask_keys`) is shared; each
    /// later field belongs to the entry named by its prefix (`split_`:
    /// `decode_split`/`decode_combine`, `block_`: `scores_softmax(_rows)`,
    /// `v_fold`: `attention_flash`, `concat_`: `kv_concat`).
    AttentionParams {
        /// Query rows `B * Hq * Sq` (the composed path's softmax: score rows of its block).
        pub(crate) rows: u32,
        /// Query heads Hq.
        pub(crate) q_heads: u32,
        /// Key/value heads Hkv (Hq is a multiple).
        pub(crate) kv_heads: u32,
        /// Query length Sq.
        pub(crate) q_len: u32,
        /// Keys T = P + S (the composed path's softmax: keys its block sees).
        pub(crate) total_len: u32,
        /// Past keys P.
        pub(crate) past_len: u32,
        /// Head size D of Q and K.
        pub(crate) head_dim: u32,
        /// Head size Dv of V and Y.
        pub(crate) v_head_dim: u32,
        /// 1: Q and Y are 3-D `[B, S, H*D]` (else `[B, H, S, D]`).
        pub(crate) packed_3d: u32,
        /// Score scale.
        pub(crate) scale: f32,
        /// Softcap (0: off).
        pub(crate) softcap: f32,
        /// 1: causal.
        pub(crate) causal: u32,
        /// 0: no mask; 1: bool mask as 0/1 floats; 2: additive float mask.
        pub(crate) mask_kind: u32,
        /// Mask batch extent (1 or B).
        pub(crate) mask_batch: u32,
        /// Mask head extent (1 or Hq).
        pub(crate) mask_heads: u32,
        /// Mask key extent Tm (keys from Tm on are masked).
        pub(crate) mask_keys: u32,
        /// `decode_split` / `decode_combine`: chunks per query row.
        pub(crate) split_chunks: u32,
        /// `scores_softmax(_rows)`: the block's first query row i0.
        pub(crate) block_first_row: u32,
        /// `scores_softmax(_rows)`: query rows in the block.
        pub(crate) block_rows: u32,
        /// `attention_flash`: log2 of V's keys per texture layer (31: no folding).
        pub(crate) v_fold_shift: u32,
        /// `attention_flash`: V's texture layers per head.
        pub(crate) v_folds: u32,
        /// `kv_concat`: elements of present `[B, Hkv, T, dim]`.
        pub(crate) concat_elements: u32,
        /// `kv_concat`: new keys or values S.
        pub(crate) concat_new_len: u32,
        /// `kv_concat`: head size of what it concatenates.
        pub(crate) concat_dim: u32,
        /// `kv_concat`: 1 when the new rows are `[B, S, Hkv*dim]` (else `[B, Hkv, S, dim]`).
        pub(crate) concat_new_packed: u32,
        /// 1: `nonpad_kv_seqlen` is bound at slot 9 (keys past each batch entry's
        /// valid length are masked, the causal frontier aligned to it).
        pub(crate) nonpad: u32,
    }
}

params_struct! {
    /// `SoftmaxParams` (`shaders/softmax.wgsl`): the tensor as `[outer, len, inner]`.
    SoftmaxParams {
        /// Softmax lanes `outer * inner` of this dispatch (0 when len is 0).
        pub(crate) lanes: u32,
        /// Elements per lane.
        pub(crate) len: u32,
        /// Stride between a lane's elements.
        pub(crate) inner: u32,
        /// Where this dispatch's first lane starts in X's bound window (a
        /// block of outer slices of a tensor larger than one binding).
        pub(crate) x_base: u32,
        /// Where it starts in Y's bound window.
        pub(crate) y_base: u32,
    }
}

params_struct! {
    /// `NormParams` (`shaders/norm.wgsl`): rows of `n` normalized elements.
    NormParams {
        /// Rows.
        pub(crate) rows: u32,
        /// Elements per row.
        pub(crate) n: u32,
        /// Epsilon.
        pub(crate) epsilon: f32,
        /// 1: the bias B is present.
        pub(crate) has_bias: u32,
        /// 1: RMSNormalization (else LayerNormalization).
        pub(crate) rms: u32,
        /// Where this dispatch's first row starts in X's bound window (a
        /// block of rows of a tensor larger than one binding).
        pub(crate) x_base: u32,
        /// Where it starts in Y's bound window.
        pub(crate) y_base: u32,
        /// `norm_apply`: the row of this dispatch's elements.
        pub(crate) row: u32,
        /// `norm_apply`: where the dispatch's first element's scale lies in
        /// Scale's bound window.
        pub(crate) scale_base: u32,
        /// `norm_apply`: the same in B's window.
        pub(crate) bias_base: u32,
    }
}

params_struct! {
    /// `RotaryParams` (`shaders/rotary.wgsl`).
    RotaryParams {
        /// Elements.
        pub(crate) n: u32,
        /// Batch B.
        pub(crate) batch: u32,
        /// Heads H.
        pub(crate) heads: u32,
        /// Sequence length S.
        pub(crate) seq: u32,
        /// Head size D.
        pub(crate) head_dim: u32,
        /// Rotated features R per head.
        pub(crate) rotary_dim: u32,
        /// 1: interleaved pairs (else halves).
        pub(crate) interleaved: u32,
        /// 1: X is `[B, S, H*D]` (else `[B, H, S, D]`).
        pub(crate) packed_3d: u32,
        /// 1: position ids are present.
        pub(crate) with_position_ids: u32,
        /// Rows of the cos/sin caches.
        pub(crate) cache_rows: u32,
        /// Element of X the dispatch's first invocation computes (tensors
        /// larger than one binding run in pieces of whole heads rows; `n` counts the piece).
        pub(crate) first: u32,
        /// Where element `first` lies in X's bound window.
        pub(crate) x_base: u32,
        /// Where element `first` lies in Y's bound window.
        pub(crate) y_base: u32,
        /// First cache row bound (caches larger than one binding run in
        /// windows of rows; 0 otherwise).
        pub(crate) cache_first: u32,
        /// One past the last cache row bound.
        pub(crate) cache_end: u32,
        /// Where row `cache_first` starts in the bound cos and sin windows.
        pub(crate) cache_base: u32,
    }
}

params_struct! {
    /// `PeakParams` (`shaders/peak.wgsl`).
    PeakParams {
        /// `fma_peak`: loop iterations per invocation.
        pub(crate) iterations: u32,
        /// `fma_peak`: the multiplier of `x <- fma(x, m, c)`.
        pub(crate) m: f32,
        /// `fma_peak`: the addend.
        pub(crate) c: f32,
        /// `fma_peak`: invocations.
        pub(crate) invocations: u32,
        /// `copy_peak`: vec4s copied.
        pub(crate) copy_vec4s: u32,
    }
}
