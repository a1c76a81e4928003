//! The parameter block of every kernel family, one `#[repr(C)]` struct each.
//!
//! Each struct is declared once, here, with [`params_struct!`], which also
//! writes its WGSL declaration from the same field list; a shader pulls it in
//! with `// #include <XxxParams>` (see `pipeline::with_includes`) and binds
//! it as `var<storage, read> params: XxxParams` at binding 0 (storage, not
//! uniform, so `array<u32, N>` members keep a 4-byte stride and the layout is
//! plain `repr(C)`). Every member is a `u32`, an `f32` or an array of them, so
//! there is no padding; the test `params_structs_match_their_wgsl_mirrors`
//! checks each size and member offset against naga's layout of the WGSL
//! struct as every kernel compiles it. All counts, dims, strides and offsets are in elements (f32 unless
//! a field says otherwise); flags are 0 or 1 unless a field says otherwise.

use bytemuck::{Pod, Zeroable};

/// Batch dims a matmul parameter block holds.
pub(crate) const MATMUL_BATCH_RANK: usize = 6;
/// Dims the elementwise blocks (binary, reduce, transpose) hold.
pub(crate) const MAX_DIMS: usize = 8;

/// A WGSL type name for a params member type: `u32`, `f32`, or `[T; N]` as
/// `array<T, N>`.
macro_rules! wgsl_type {
    ([$elem:ident; $len:expr]) => {
        format!("array<{}, {}>", stringify!($elem), $len)
    };
    ($elem:ident) => {
        stringify!($elem).to_string()
    };
}

/// Declare a kernel family's parameter block: the `#[repr(C)]` Rust struct
/// (`Pod`, so it is uploaded as bytes) and, from the same field list, its
/// WGSL declaration ([`ParamsStruct::wgsl`]), so the two cannot drift apart.
macro_rules! params_struct {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* pub(crate) $field:ident: $ty:tt,)* }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
        pub(crate) struct $name {
            $($(#[$fmeta])* pub(crate) $field: $ty,)*
        }

        impl ParamsStruct for $name {
            const NAME: &'static str = stringify!($name);

            fn members() -> Vec<Member> {
                vec![$(Member {
                    name: stringify!($field),
                    wgsl_type: wgsl_type!($ty),
                    offset: std::mem::offset_of!($name, $field),
                }),*]
            }
        }
    };
}

/// One member of a params struct.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Member {
    /// Field name, the same in Rust and WGSL.
    pub(crate) name: &'static str,
    /// Its WGSL type (`u32`, `f32`, `array<u32, 8>`).
    pub(crate) wgsl_type: String,
    /// Its byte offset in the Rust struct.
    pub(crate) offset: usize,
}

/// A parameter block declared with [`params_struct!`].
pub(crate) trait ParamsStruct: Pod {
    /// The struct's name in Rust and WGSL.
    const NAME: &'static str;

    /// Members in declaration order.
    fn members() -> Vec<Member>;

    /// The WGSL declaration: `struct Name { field: type, ... }`.
    fn wgsl() -> String {
        let fields: String = Self::members().iter().map(|m| format!("    {}: {},\n", m.name, m.wgsl_type)).collect();
        format!(
            "// Generated from `{}` in crates/hcal-wgpu/src/params.rs.\nstruct {} {{\n{fields}}}\n",
            Self::NAME,
            Self::NAME
        )
    }
}

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
    /// `BinaryParams` (`shaders/binary.wgsl`): broadcasting over the output's dims.
    BinaryParams {
        /// Output elements.
        pub(crate) n: u32,
        /// 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Max, 5 Min, 6 Pow, 7 Equal, 8 Less,
        /// 9 Greater, 10 LessOrEqual, 11 GreaterOrEqual, 12 And, 13 Or
        /// (`expand` ignores it).
        pub(crate) op: u32,
        /// Output rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Output shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// A's stride over each output dim (0 where broadcast).
        pub(crate) a_strides: [u32; MAX_DIMS],
        /// B's stride over each output dim (0 where broadcast; `expand` ignores them).
        pub(crate) b_strides: [u32; MAX_DIMS],
        /// Output index of this dispatch's first element (a piece of a tensor
        /// larger than one binding).
        pub(crate) first: u32,
        /// Element of A where A's bound window starts (subtracted from its offsets).
        pub(crate) a_origin: u32,
        /// Element of B where B's bound window starts.
        pub(crate) b_origin: u32,
        /// Where output element `first` lies in the output's bound window.
        pub(crate) out_base: u32,
    }
}

params_struct! {
    /// `WhereParams` (`shaders/select.wgsl`): broadcasting of three operands over the output's dims.
    WhereParams {
        /// Output elements of this dispatch.
        pub(crate) n: u32,
        /// Output rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Output shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// The condition's stride over each output dim (0 where broadcast).
        pub(crate) c_strides: [u32; MAX_DIMS],
        /// X's stride over each output dim.
        pub(crate) x_strides: [u32; MAX_DIMS],
        /// Y's stride over each output dim.
        pub(crate) y_strides: [u32; MAX_DIMS],
        /// Output index of this dispatch's first element.
        pub(crate) first: u32,
        /// Element of the condition where its bound window starts.
        pub(crate) c_origin: u32,
        /// Element of X where its bound window starts.
        pub(crate) x_origin: u32,
        /// Element of Y where its bound window starts.
        pub(crate) y_origin: u32,
        /// Where output element `first` lies in the output's bound window.
        pub(crate) out_base: u32,
    }
}

params_struct! {
    /// `UnaryParams` (`shaders/unary.wgsl`).
    UnaryParams {
        /// Elements.
        pub(crate) n: u32,
        /// 0 Relu, 1 Sigmoid, 2 Silu, 3 Exp, 4 Tanh, 5 Neg, 6 Sqrt, 7 Reciprocal,
        /// 8 Gelu (erf form), 9 Gelu (tanh form), 10 Abs, 11 Erf, 12 Floor,
        /// 13 Ceil, 14 Round, 15 Not, 16 LeakyRelu, 17 HardSigmoid.
        pub(crate) op: u32,
        /// LeakyRelu's and HardSigmoid's alpha (0 for the other ops).
        pub(crate) alpha: f32,
        /// HardSigmoid's beta (0 for the other ops).
        pub(crate) beta: f32,
    }
}

params_struct! {
    /// `ReduceParams` (`shaders/reduce.wgsl`).
    ReduceParams {
        /// Output elements.
        pub(crate) outputs: u32,
        /// 0 sum, 1 mean, 2 max, 3 min, 4 prod, 5 l2.
        pub(crate) op: u32,
        /// Input rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Inputs reduced into each output.
        pub(crate) count: u32,
        /// Input shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// Input strides.
        pub(crate) strides: [u32; MAX_DIMS],
        /// 1 where the axis is reduced.
        pub(crate) reduced: [u32; MAX_DIMS],
        /// Output index of this dispatch's first output (a piece of a
        /// tensor larger than one binding).
        pub(crate) first: u32,
        /// Element of X where X's bound window starts (subtracted from its offsets).
        pub(crate) x_origin: u32,
        /// Where output `first` lies in Y's bound window.
        pub(crate) y_base: u32,
        /// `reduce_partial`: inputs folded into one partial state (the last
        /// chunk of an output may be shorter).
        pub(crate) chunk: u32,
        /// `reduce_partial`: chunks per output; `reduce_combine`: states per
        /// output in X.
        pub(crate) chunks: u32,
        /// `reduce_partial`: the chunk every output folds in this dispatch
        /// (a pass), or `u32::MAX` for one invocation per (output, chunk).
        pub(crate) pass_chunk: u32,
        /// `reduce_partial` in passes: 1 to fold into the state Y holds.
        pub(crate) accumulate: u32,
        /// `reduce_combine`: states folded into one.
        pub(crate) fan_in: u32,
        /// `reduce_combine`: states written per output (`chunks / fan_in`
        /// rounded up).
        pub(crate) groups: u32,
        /// `reduce_combine`: 1 to write results instead of states.
        pub(crate) finish: u32,
    }
}

params_struct! {
    /// `AlongAxisParams` (`shaders/along_axis.wgsl`): ArgMax/ArgMin and
    /// CumSum over the tensor as `[outer, len, inner]`.
    AlongAxisParams {
        /// Lanes (`outer * inner`) of this dispatch.
        pub(crate) lanes: u32,
        /// Elements per lane (at least 1 for the arg-reductions).
        pub(crate) len: u32,
        /// Stride between a lane's elements.
        pub(crate) inner: u32,
        /// `arg_extreme`: 1 largest (ArgMax), 2 select_last_index;
        /// `cumsum`: 1 exclusive, 2 reverse.
        pub(crate) flags: u32,
        /// Where this dispatch's first lane starts in X's bound window.
        pub(crate) x_base: u32,
        /// Where it starts in Y's bound window (in Y's elements: i64 indices
        /// for `arg_extreme`, f32 for `cumsum`).
        pub(crate) y_base: u32,
        /// The `*_segment` entries: the first step along the axis this
        /// dispatch takes (lanes longer than one binding or than the CPU
        /// drivers' loop budget run in segments, one dispatch each).
        pub(crate) seg_first: u32,
        /// One past its last step.
        pub(crate) seg_end: u32,
        /// 1: continue from the lane states (a segment after the first).
        pub(crate) carry: u32,
        /// `arg_extreme_segment`: 1 to write the indices (the last segment).
        pub(crate) finish: u32,
        /// Where the dispatch's first lane's state lies in the bound window
        /// of the states (in words).
        pub(crate) s_base: u32,
    }
}

params_struct! {
    /// `TransposeParams` (`shaders/transpose.wgsl`).
    TransposeParams {
        /// Elements.
        pub(crate) n: u32,
        /// Bytes per element (1, 2, 4 or 8).
        pub(crate) elem_bytes: u32,
        /// Rank (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// Output shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// Input element stride of each output dim.
        pub(crate) in_strides: [u32; MAX_DIMS],
        /// Output element of this dispatch's first element (a piece of a
        /// tensor larger than one binding; a word boundary).
        pub(crate) first: u32,
        /// Element of X where X's bound window starts (a word boundary;
        /// subtracted from its element indices).
        pub(crate) x_origin: u32,
        /// The word of Y's bound window that holds output element `first`.
        pub(crate) y_base: u32,
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

// Indexing and KV caches.
params_struct! {
    /// `GatherParams` (`shaders/gather.wgsl`): `gather` and `gather_elements`, on bytes.
    GatherParams {
        /// Bytes of the output.
        pub(crate) out_bytes: u32,
        /// `gather`: bytes of one gathered row; `gather_elements`: bytes per element.
        pub(crate) unit_bytes: u32,
        /// Extent of the indexed axis.
        pub(crate) axis_len: u32,
        /// `gather`: number of indices.
        pub(crate) count: u32,
        /// Period in bytes of the out-of-range fill (a storage unit: element or block).
        pub(crate) fill_period: u32,
        /// Leading bytes of each period that take `fill_pattern` (at most 4; the rest are 0).
        pub(crate) fill_prefix: u32,
        /// Those bytes, little-endian.
        pub(crate) fill_pattern: u32,
        /// `gather_elements`: rank of indices and data (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// `gather_elements`: the indexed axis.
        pub(crate) axis: u32,
        /// `gather_elements`: the indices' (and output's) shape.
        pub(crate) shape: [u32; MAX_DIMS],
        /// `gather_elements`: data's element strides.
        pub(crate) strides: [u32; MAX_DIMS],
        // Pieces (tensors larger than one binding): ranges of output words
        // times windows of data, each dispatch writing the bytes it holds.
        /// Output word of the dispatch's first invocation.
        pub(crate) first_word: u32,
        /// Output words of the dispatch.
        pub(crate) words: u32,
        /// Where word `first_word` lies in the output's bound window.
        pub(crate) out_base: u32,
        /// Index (i64 element) where the indices' bound window starts.
        pub(crate) idx_origin: u32,
        /// Byte where data's bound window starts.
        pub(crate) data_origin: u32,
        /// Units of data the window holds, `[held_lo, held_hi)`: rows of the
        /// table flat over `[outer, axis_len]` (`gather`) or elements (`gather_elements`).
        pub(crate) held_lo: u32,
        /// End of the held units.
        pub(crate) held_hi: u32,
        /// 1: this dispatch writes the fill of indices outside their axis.
        pub(crate) write_fill: u32,
        /// 1: bytes this dispatch neither holds nor fills keep what the output
        /// holds (another dispatch writes them); 0: every byte is written.
        pub(crate) merge: u32,
        /// A block-quantized table in a texture in interleaved block order
        /// (`block_layout.rs`): rows per group, 0 for stored order.
        pub(crate) data_group: u32,
        /// Consecutive blocks of a row kept together (1 or 2).
        pub(crate) data_unit: u32,
        /// The table's rows (all dims but the last).
        pub(crate) data_rows: u32,
        /// Blocks per row.
        pub(crate) data_blocks_per_row: u32,
        /// Bytes per block.
        pub(crate) data_block_bytes: u32,
    }
}

params_struct! {
    /// `ScatterParams` (`shaders/scatter.wgsl`).
    ScatterParams {
        /// Elements of the update.
        pub(crate) elements: u32,
        /// Bytes per element (1, 2, 4 or 8).
        pub(crate) elem_bytes: u32,
        /// Prefixes (dims before the sequence axis) per batch entry.
        pub(crate) per_batch: u32,
        /// The cache's sequence extent M.
        pub(crate) max_len: u32,
        /// The update's sequence extent S.
        pub(crate) seq_len: u32,
        /// Elements after the sequence axis.
        pub(crate) inner: u32,
        /// 1: write indices are bound.
        pub(crate) with_write_indices: u32,
        /// 1: circular positions (mod M); 0: linear, positions outside the cache dropped.
        pub(crate) circular: u32,
        /// Update element of the dispatch's first invocation (tensors larger
        /// than one binding run in pieces of whole prefixes; `elements` counts the piece).
        pub(crate) first: u32,
        /// Element of the update where its bound window starts.
        pub(crate) update_origin: u32,
        /// Element of the cache where its bound window starts.
        pub(crate) present_origin: u32,
    }
}

params_struct! {
    /// `ConvertParams` (`shaders/convert.wgsl`).
    ConvertParams {
        /// Elements.
        pub(crate) n: u32,
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

// ---- data movement (issue 18) ----
params_struct! {
    /// `MoveParams` (`shaders/movement.wgsl`).
    MoveParams {
        /// Elements of Y (of `shape`).
        pub(crate) n: u32,
        /// Bytes per element (1, 2, 4 or 8).
        pub(crate) elem_bytes: u32,
        /// Rank of `shape` (at most [`MAX_DIMS`]).
        pub(crate) rank: u32,
        /// The index space walked: Y's shape (Concat: `[outer, total, inner]`).
        pub(crate) shape: [u32; MAX_DIMS],
        /// X's element step per unit of each dim, as wrapping u32 (two's
        /// complement for negative steps).
        pub(crate) src_strides: [u32; MAX_DIMS],
        /// The element of X at index 0 (wrapping u32).
        pub(crate) src_base: u32,
        /// First index written, per dim.
        pub(crate) band_lo: [u32; MAX_DIMS],
        /// One past the last index written, per dim.
        pub(crate) band_hi: [u32; MAX_DIMS],
        /// 1: words only partly written keep Y's other bits (Concat).
        pub(crate) keep: u32,
        /// 0 none, 1 keep `c - r >= k` (upper), 2 keep `c - r <= k` (lower).
        pub(crate) trilu: u32,
        /// Trilu's diagonal offset as i32 bits.
        pub(crate) k: u32,
        /// The word of Y invocation 0 writes.
        pub(crate) first_word: u32,
        /// Element of X where X's bound window starts (tensors larger than
        /// one binding run in pieces of output words, each binding windows).
        pub(crate) x_origin: u32,
        /// Word of Y where Y's bound window starts.
        pub(crate) y_origin: u32,
    }
}

/// Most outputs one dispatch of `split.wgsl` writes.
pub(crate) const SPLIT_PARTS: usize = 4;

params_struct! {
    /// `SplitParams` (`shaders/split.wgsl`): Split as one dispatch, on words.
    SplitParams {
        /// Words of X.
        pub(crate) words: u32,
        /// Words of X per index of the dims before the axis (a row of
        /// `[outer, axis_len * inner]`).
        pub(crate) row_words: u32,
        /// Word (within a row) where each part ends, cumulative; unused parts
        /// repeat the last end.
        pub(crate) ends: [u32; SPLIT_PARTS],
    }
}

/// `(name, WGSL declaration)` of every params struct, for the shader loader.
pub(crate) fn wgsl_declarations() -> Vec<(&'static str, String)> {
    fn decl<T: ParamsStruct>() -> (&'static str, String) {
        (T::NAME, T::wgsl())
    }
    vec![
        decl::<MatmulParams>(),
        decl::<AttentionParams>(),
        decl::<SoftmaxParams>(),
        decl::<NormParams>(),
        decl::<BinaryParams>(),
        decl::<UnaryParams>(),
        decl::<WhereParams>(),
        decl::<ReduceParams>(),
        decl::<AlongAxisParams>(),
        decl::<TransposeParams>(),
        decl::<RotaryParams>(),
        decl::<ConvertParams>(),
        decl::<PeakParams>(),
        decl::<MoveParams>(),
        decl::<SplitParams>(),
        // Indexing and KV caches.
        decl::<GatherParams>(),
        decl::<ScatterParams>(),
    ]
}

/// `(name, size, members)` of every params struct, for the layout test.
#[cfg(test)]
fn layouts() -> Vec<(&'static str, usize, Vec<Member>)> {
    fn layout<T: ParamsStruct>() -> (&'static str, usize, Vec<Member>) {
        (T::NAME, size_of::<T>(), T::members())
    }
    vec![
        layout::<MatmulParams>(),
        layout::<AttentionParams>(),
        layout::<SoftmaxParams>(),
        layout::<NormParams>(),
        layout::<BinaryParams>(),
        layout::<UnaryParams>(),
        layout::<WhereParams>(),
        layout::<ReduceParams>(),
        layout::<AlongAxisParams>(),
        layout::<TransposeParams>(),
        layout::<RotaryParams>(),
        layout::<ConvertParams>(),
        layout::<PeakParams>(),
        layout::<MoveParams>(),
        layout::<SplitParams>(),
        // Indexing and KV caches.
        layout::<GatherParams>(),
        layout::<ScatterParams>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::family_sources;

    /// Every params struct is bound by some kernel, and naga lays out the
    /// WGSL declaration each kernel compiles exactly as Rust lays out the
    /// struct: same size, same members in the same order at the same offsets.
    #[test]
    fn params_structs_match_their_wgsl_mirrors() {
        let layouts = layouts();
        let mut checked = vec![0usize; layouts.len()];
        // Plain kernels as compiled, templates in every expansion (and the
        // plain kernels with f16 forms in both storage forms, among them).
        let plain = family_sources().iter().filter(|(_, s)| !s.starts_with("// TEMPLATE") && !s.contains("// F16"));
        let sources = plain.map(|(n, s)| (n.to_string(), s.clone())).chain(crate::template_expansions());
        for (shader, text) in sources {
            let module = naga::front::wgsl::parse_str(&text)
                .unwrap_or_else(|e| panic!("{shader} does not parse:\n{}", e.emit_to_string(&text)));
            let mut binds_params = false;
            for (_, var) in module.global_variables.iter() {
                if var.name.as_deref() == Some("params") {
                    binds_params = true;
                    let name = module.types[var.ty].name.as_deref().unwrap_or_default();
                    assert!(layouts.iter().any(|l| l.0 == name), "{shader}: params is a {name}, not a params struct");
                    assert_eq!(var.space, naga::AddressSpace::Storage { access: naga::StorageAccess::LOAD });
                }
            }
            assert!(binds_params, "{shader} binds no params");
            for (_, ty) in module.types.iter() {
                let Some(i) = layouts.iter().position(|l| Some(l.0) == ty.name.as_deref()) else { continue };
                let (name, size, members) = &layouts[i];
                let naga::TypeInner::Struct { members: wgsl, span } = &ty.inner else {
                    panic!("{shader}: {name} is no struct")
                };
                assert_eq!(*span as usize, *size, "{shader}: size of {name}");
                let wgsl: Vec<(&str, usize)> =
                    wgsl.iter().map(|m| (m.name.as_deref().unwrap_or_default(), m.offset as usize)).collect();
                let rust: Vec<(&str, usize)> = members.iter().map(|m| (m.name, m.offset)).collect();
                assert_eq!(wgsl, rust, "{shader}: members of {name} (name, byte offset)");
                checked[i] += 1;
            }
        }
        for (l, n) in layouts.iter().zip(checked) {
            assert!(n > 0, "no shader binds {}", l.0);
        }
    }

    #[test]
    fn a_declaration_reads_like_hand_written_wgsl() {
        let text = SoftmaxParams::wgsl();
        assert!(text.contains("struct SoftmaxParams {\n    lanes: u32,\n    len: u32,\n    inner: u32,\n"), "{text}");
        assert!(BinaryParams::wgsl().contains("    shape: array<u32, 8>,\n"));
    }
}
