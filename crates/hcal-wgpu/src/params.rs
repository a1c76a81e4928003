//! The parameter block of every kernel family, one `#[repr(C)]` struct each.
//!
//! Each struct is mirrored field for field by a WGSL `struct` of the same
//! name that its shaders bind as `var<storage, read> params: XxxParams` at
//! binding 0 (storage, not uniform, so `array<u32, N>` members keep a 4-byte
//! stride and the layout is plain `repr(C)`). Every member is a `u32` or an
//! `f32`, so there is no padding and both sides agree on every offset; the
//! test `params_structs_match_their_wgsl_mirrors` in `tests/shaders_validate.rs`
//! checks each size and member offset against naga's layout of the WGSL
//! struct. All counts, dims, strides and offsets are in elements (f32 unless
//! a field says otherwise); flags are 0 or 1 unless a field says otherwise.

use bytemuck::{Pod, Zeroable};

/// Batch dims a matmul parameter block holds.
pub(crate) const MATMUL_BATCH_RANK: usize = 6;
/// Dims the elementwise blocks (binary, reduce, transpose) hold.
pub(crate) const MAX_DIMS: usize = 8;

/// `MatmulParams` (`shaders/matmul_params.wgsl`): `matmul.wgsl`, the tile
/// templates, `matmul_smem.wgsl` and `matmul_stage.wgsl` (which also stages
/// attention's K and V for the flash kernel).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct MatmulParams {
    /// Rows of op(A) and Y.
    pub(crate) m: u32,
    /// Columns of op(B) and Y.
    pub(crate) n: u32,
    /// Shared dim.
    pub(crate) k: u32,
    /// 1: A is stored `[K, M]`; 2: B is stored `[N, K]`; 4: C is present.
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
}

/// `AttentionParams` (`shaders/attention_params.wgsl`): every entry of
/// `attention.wgsl` and `attention_flash.wgsl`. Each entry reads the shared
/// head of the block and the fields named after it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct AttentionParams {
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
    /// `decode_split`: keys per chunk.
    pub(crate) split_chunk_keys: u32,
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
}

/// `SoftmaxParams` (`shaders/softmax.wgsl`): the tensor as `[outer, len, inner]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct SoftmaxParams {
    /// Softmax lanes `outer * inner` (0 when len is 0).
    pub(crate) lanes: u32,
    /// Elements per lane.
    pub(crate) len: u32,
    /// Stride between a lane's elements.
    pub(crate) inner: u32,
}

/// `NormParams` (`shaders/norm.wgsl`): rows of `n` normalized elements.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct NormParams {
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
}

/// `BinaryParams` (`shaders/binary.wgsl`): broadcasting over the output's dims.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct BinaryParams {
    /// Output elements.
    pub(crate) n: u32,
    /// 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Max, 5 Min (`expand` ignores it).
    pub(crate) op: u32,
    /// Output rank (at most [`MAX_DIMS`]).
    pub(crate) rank: u32,
    /// Output shape.
    pub(crate) shape: [u32; MAX_DIMS],
    /// A's stride over each output dim (0 where broadcast).
    pub(crate) a_strides: [u32; MAX_DIMS],
    /// B's stride over each output dim (0 where broadcast; `expand` ignores them).
    pub(crate) b_strides: [u32; MAX_DIMS],
}

/// `UnaryParams` (`shaders/unary.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct UnaryParams {
    /// Elements.
    pub(crate) n: u32,
    /// 0 Relu, 1 Sigmoid, 2 Silu, 3 Exp, 4 Tanh, 5 Neg, 6 Sqrt, 7 Reciprocal,
    /// 8 Gelu (erf form), 9 Gelu (tanh form).
    pub(crate) op: u32,
}

/// `ReduceParams` (`shaders/reduce.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct ReduceParams {
    /// Output elements.
    pub(crate) outputs: u32,
    /// 0 sum, 1 mean, 2 max.
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
}

/// `TransposeParams` (`shaders/transpose.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct TransposeParams {
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
}

/// `RotaryParams` (`shaders/rotary.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct RotaryParams {
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
}

/// `ConvertParams` (`shaders/convert.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct ConvertParams {
    /// Elements.
    pub(crate) n: u32,
}

/// `PeakParams` (`shaders/peak.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct PeakParams {
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

/// A struct's name, size and `(member, byte offset)` list.
#[cfg(test)]
type Layout = (&'static str, usize, Vec<(&'static str, usize)>);

/// Each params struct with its WGSL name, size and member offsets (bytes),
/// for the layout test against the shaders' mirrors.
#[cfg(test)]
fn layouts() -> Vec<Layout> {
    macro_rules! layout {
        ($t:ident { $($f:ident),* $(,)? }) => {
            (stringify!($t), size_of::<$t>(), vec![$((stringify!($f), std::mem::offset_of!($t, $f))),*])
        };
    }
    vec![
        layout!(MatmulParams {
            m,
            n,
            k,
            flags,
            alpha,
            beta,
            batch_rank,
            batch_dims,
            a_batch_strides,
            b_batch_strides,
            c_stride_m,
            c_stride_n,
            a_base,
            b_base,
            y_base,
            y_batch_stride,
            splits,
            split_steps,
            out_base,
            out_batch_stride,
        }),
        layout!(AttentionParams {
            rows,
            q_heads,
            kv_heads,
            q_len,
            total_len,
            past_len,
            head_dim,
            v_head_dim,
            packed_3d,
            scale,
            softcap,
            causal,
            mask_kind,
            mask_batch,
            mask_heads,
            mask_keys,
            split_chunk_keys,
            split_chunks,
            block_first_row,
            block_rows,
            v_fold_shift,
            v_folds,
            concat_elements,
            concat_new_len,
            concat_dim,
            concat_new_packed,
        }),
        layout!(SoftmaxParams { lanes, len, inner }),
        layout!(NormParams { rows, n, epsilon, has_bias, rms }),
        layout!(BinaryParams { n, op, rank, shape, a_strides, b_strides }),
        layout!(UnaryParams { n, op }),
        layout!(ReduceParams { outputs, op, rank, count, shape, strides, reduced }),
        layout!(TransposeParams { n, elem_bytes, rank, shape, in_strides }),
        layout!(RotaryParams {
            n,
            batch,
            heads,
            seq,
            head_dim,
            rotary_dim,
            interleaved,
            packed_3d,
            with_position_ids,
            cache_rows,
        }),
        layout!(ConvertParams { n }),
        layout!(PeakParams { iterations, m, c, invocations, copy_vec4s }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::family_sources;

    /// Every params struct has a WGSL mirror in the shaders that bind it, and
    /// naga lays each mirror out exactly as Rust lays out the struct: same
    /// size, same members in the same order at the same offsets.
    #[test]
    fn params_structs_match_their_wgsl_mirrors() {
        let layouts = layouts();
        let mut checked = vec![0usize; layouts.len()];
        // Plain kernels as compiled, templates in every expansion.
        let plain = family_sources().iter().filter(|(_, s)| !s.starts_with("// TEMPLATE"));
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
                let (name, size, fields) = &layouts[i];
                let naga::TypeInner::Struct { members, span } = &ty.inner else {
                    panic!("{shader}: {name} is no struct")
                };
                assert_eq!(*span as usize, *size, "{shader}: size of {name}");
                let wgsl: Vec<(&str, usize)> =
                    members.iter().map(|m| (m.name.as_deref().unwrap_or_default(), m.offset as usize)).collect();
                assert_eq!(&wgsl, fields, "{shader}: members of {name} (name, byte offset)");
                checked[i] += 1;
            }
        }
        for (l, n) in layouts.iter().zip(checked) {
            assert!(n > 0, "no shader mirrors {}", l.0);
        }
    }
}
