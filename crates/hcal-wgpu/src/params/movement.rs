//! Parameter blocks of the data-movement kernels: Transpose, the movement
//! ops (Concat, Slice, Expand, Trilu), Split, Gather and TensorScatter.

use bytemuck::{Pod, Zeroable};

use super::{MAX_DIMS, Member, ParamsStruct};

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
        /// 0, or the head bytes of the table's blocks in the split form of
        /// that order (`BlockLayout::head`).
        pub(crate) data_head: u32,
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
    /// `QkvCacheParams` (`shaders/qkv_cache.wgsl`).
    QkvCacheParams {
        /// Elements of the packed projection, `B S (Hq + 2 Hkv) D`.
        pub(crate) elements: u32,
        /// New tokens S.
        pub(crate) seq: u32,
        /// Query heads Hq.
        pub(crate) q_heads: u32,
        /// Key/value heads Hkv.
        pub(crate) kv_heads: u32,
        /// Head size D.
        pub(crate) head_dim: u32,
        /// Positions per cache M.
        pub(crate) cache_len: u32,
        /// Rotated features per head R.
        pub(crate) rotary_dim: u32,
        /// 1: adjacent pairs rotate; 0: the two halves of the first R features.
        pub(crate) interleaved: u32,
        /// Rows of the cos/sin tables P.
        pub(crate) table_rows: u32,
    }
}
