//! Shape rules shared by validation and by every backend, and the resolved
//! [`Geometry`] that hcal-core computes once per validated call.
//!
//! Validation ([`crate::infer_outputs`], [`crate::OpSignature::new`],
//! [`crate::Call`]) runs these rules once and stores the result; backends read
//! it with [`crate::Call::geometry`] / [`crate::OpSignature::geometry`] and
//! index tensors with it, so a rule lives in exactly one place and runs once.
//! One file per op family: `matmul.rs` (MatMul, Gemm), `attention.rs`,
//! `rotary.rs`, `axes.rs` (Softmax, normalizations, Reduce, Transpose),
//! `movement.rs` (Concat, Slice, Split, Expand, Reshape, Range, Trilu).
//! `indexing.rs` (Gather, GatherElements, TensorScatter), `qkv_cache.rs`
//! (SplitRotaryScatter).

mod attention;
mod axes;
mod indexing;
mod matmul;
mod movement;
mod qkv_cache;
mod rotary;

pub use attention::{AttentionGeometry, attention_geometry};
pub use axes::{AxisSplit, norm_split, reduce_axes, softmax_split, transpose_perm};
pub use matmul::{GemmGeometry, MatMulGeometry, gemm_geometry, matmul_geometry};
pub use movement::{
    StridedView, concat_shape, expand_view, flatten_shape, range_len, reshape_shape, slice_view, split_sizes,
    squeeze_shape, unsqueeze_shape,
};
pub(crate) use movement::{elementwise_dtype, split_views};
pub use qkv_cache::{QkvCacheGeometry, qkv_cache_geometry};
pub use rotary::{RotaryGeometry, rotary_geometry};
// Indexing and KV caches.
pub use indexing::{
    GatherElementsGeometry, GatherGeometry, ScatterGeometry, gather_elements_geometry, gather_geometry,
    out_of_range_fill, resolve_index, scatter_geometry,
};

use crate::{Error, Result};

/// The resolved geometry of one validated call, one variant per op family:
/// everything a backend needs to index its operands, derived from the op's
/// attributes and the input descriptors by hcal-core's rules.
///
/// Backends receive it with the call ([`crate::Call::geometry`]) or the
/// signature ([`crate::OpSignature::geometry`]) and never recompute shapes.
/// The variant always matches the op (`Op::MatMul` comes with
/// `Geometry::MatMul`, both normalizations with `Geometry::Normalization`, ...).
///
/// ```
/// use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};
/// let a = TensorDesc::new([8, 3, 4], DType::F32);
/// let b = TensorDesc::new([4, 5], DType::F32);
/// let sig = OpSignature::new(Op::MatMul, vec![Some(a), Some(b)]).unwrap();
/// let Geometry::MatMul(g) = sig.geometry() else { unreachable!() };
/// assert_eq!((g.m, g.n, g.k, g.batch_count()), (3, 5, 4, 8));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    /// [`crate::Op::MatMul`]: M, N, K and the broadcast batch.
    MatMul(MatMulGeometry),
    /// [`crate::Op::Gemm`]: M, N, K, the transposes and C's broadcast strides.
    Gemm(GemmGeometry),
    /// [`crate::Op::Softmax`] and [`crate::Op::LogSoftmax`]: the input as
    /// `[outer, len, inner]` around the axis.
    Softmax(AxisSplit),
    /// [`crate::Op::LayerNormalization`] and [`crate::Op::RmsNormalization`]:
    /// the input as `[outer, len]`, normalized over the dims `[axis, rank)`.
    Normalization {
        /// First normalized axis, resolved to `0..rank`.
        axis: usize,
        /// `outer` groups of `len` normalized elements.
        split: AxisSplit,
    },
    /// [`crate::Op::RmsNormGemm`]: A's rows as `[M, K]` (the normalization)
    /// and the product's geometry.
    NormGemm {
        /// `M` rows of `K` normalized elements.
        split: AxisSplit,
        /// The Gemm on the normalized rows.
        gemm: GemmGeometry,
    },
    /// [`crate::Op::Attention`]: heads, lengths, mask shape and scale.
    Attention(AttentionGeometry),
    /// [`crate::Op::RotaryEmbedding`]: heads, rotated features, cache rows.
    RotaryEmbedding(RotaryGeometry),
    /// [`crate::Op::Gelu`], [`crate::Op::Unary`], [`crate::Op::Cast`],
    /// [`crate::Op::LeakyRelu`], [`crate::Op::HardSigmoid`] and
    /// [`crate::Op::Clip`] (whose bounds are scalars): one element out per
    /// element of X, same shape.
    Elementwise,
    /// [`crate::Op::GatedUnary`]: X as `rows` rows of `2 half` (the halves
    /// side by side), Y as `rows` rows of `half`.
    Gated {
        /// Product of the dims before the last.
        rows: usize,
        /// `N`, half of X's last dim.
        half: usize,
    },
    /// [`crate::Op::Binary`]: numpy broadcasting of both inputs.
    Broadcast {
        /// The output shape.
        out_shape: Vec<usize>,
        /// Element strides of A walked over `out_shape` (0 on broadcast dims).
        a_strides: Vec<usize>,
        /// Element strides of B walked over `out_shape` (0 on broadcast dims).
        b_strides: Vec<usize>,
    },
    /// [`crate::Op::Where`]: numpy broadcasting of condition, X and Y.
    Where {
        /// The output shape.
        out_shape: Vec<usize>,
        /// Element strides of condition, X and Y walked over `out_shape` (0 on broadcast dims).
        strides: [Vec<usize>; 3],
    },
    /// [`crate::Op::Reduce`]: the reduced axes, sorted, resolved to `0..rank`.
    Reduce {
        /// Reduced axes.
        axes: Vec<usize>,
    },
    /// [`crate::Op::Transpose`]: the permutation (the default resolved).
    Transpose {
        /// `Y.shape[k] = X.shape[perm[k]]`.
        perm: Vec<usize>,
    },
    /// [`crate::Op::ArgMax`], [`crate::Op::ArgMin`] and [`crate::Op::CumSum`]:
    /// the input as `[outer, len, inner]` around the resolved axis; the
    /// arg-reductions' output is `[outer, inner]` in that order.
    AlongAxis {
        /// The axis, resolved to `0..rank`.
        axis: usize,
        /// `outer` blocks of `len` elements `inner` apart.
        split: AxisSplit,
    },
    // ---- data movement (issue 18) ----
    /// [`crate::Op::Slice`], [`crate::Op::Expand`] and [`crate::Op::Split`]:
    /// output `i` (of its inferred shape) reads X through `views[i]`.
    Views(Vec<StridedView>),
    /// [`crate::Op::Concat`]: input `i` is `[outer, lens[i], inner]`, Y is
    /// `[outer, sum lens, inner]` and input `i` lands at `offsets[i]` along the middle dim.
    Concat {
        /// Product of the dims before the axis.
        outer: usize,
        /// Product of the dims after the axis.
        inner: usize,
        /// Each input's extent along the axis.
        lens: Vec<usize>,
        /// Where each input starts along the axis of Y.
        offsets: Vec<usize>,
    },
    /// [`crate::Op::Reshape`]: Y's bytes are X's bytes.
    Copy,
    /// [`crate::Op::Range`]: the output's length.
    Range {
        /// Number of values.
        len: usize,
    },
    /// [`crate::Op::Trilu`]: X as `batch` matrices of `rows x cols`.
    Matrices {
        /// Product of the dims before the last two.
        batch: usize,
        /// Second-to-last dim.
        rows: usize,
        /// Last dim.
        cols: usize,
    },
    // Indexing and KV caches.
    /// [`crate::Op::Gather`]: data as `[outer, axis_len, inner]`, the index count.
    Gather(GatherGeometry),
    /// [`crate::Op::GatherElements`]: the axis and data's strides.
    GatherElements(GatherElementsGeometry),
    /// [`crate::Op::TensorScatter`]: cache and update around the sequence axis.
    TensorScatter(ScatterGeometry),
    /// [`crate::Op::SplitRotaryScatter`]: heads, head size, cache and table lengths.
    SplitRotaryScatter(QkvCacheGeometry),
}

/// Resolve a possibly negative `axis` against `rank` (ONNX: `-rank <= axis < rank`).
///
/// ```
/// assert_eq!(hcal_core::normalize_axis("Softmax", -1, 3).unwrap(), 2);
/// assert!(hcal_core::normalize_axis("Softmax", 3, 3).is_err());
/// ```
///
/// # Errors
/// [`Error::Attribute`] naming `op` when the axis is out of range.
pub fn normalize_axis(op: &'static str, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        return Err(Error::attribute(
            op,
            "axis",
            format!("{axis} is out of range for rank {rank} (valid: {} ..= {})", -r, r - 1),
        ));
    }
    Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
}

/// Numpy broadcasting of two shapes: align from the right; each pair of dims
/// must be equal or one of them 1.
///
/// ```
/// assert_eq!(hcal_core::broadcast_shapes("Add", &[3, 1, 5], &[4, 1]).unwrap(), vec![3, 4, 5]);
/// assert!(hcal_core::broadcast_shapes("Add", &[2, 3], &[4]).is_err());
/// ```
///
/// # Errors
/// [`Error::Shape`] naming both shapes and the clashing dim.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for k in 0..rank {
        let da = if k + a.len() >= rank { a[k + a.len() - rank] } else { 1 };
        let db = if k + b.len() >= rank { b[k + b.len() - rank] } else { 1 };
        out[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(Error::shape(
                    op,
                    format!("{a:?} and {b:?} do not broadcast: dim {k} of the result is {x} vs {y}"),
                ));
            }
        };
    }
    Ok(out)
}

/// For an operand of `shape` broadcast to `out_shape` (already checked), the
/// element strides to use when walking `out_shape`: 0 on broadcast dims.
///
/// ```
/// assert_eq!(hcal_core::broadcast_strides(&[4, 1], &[3, 4, 5]), vec![0, 1, 0]);
/// ```
pub fn broadcast_strides(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let strides = crate::contiguous_strides(shape);
    let offset = out_shape.len() - shape.len();
    (0..out_shape.len()).map(|k| if k < offset || shape[k - offset] == 1 { 0 } else { strides[k - offset] }).collect()
}

/// A tensor split into heads, `[B, H, S, D]`, must be addressable (its
/// extents, zero dims counted as 1, multiply within `usize`), so every index
/// a backend computes over it fits.
fn addressable_view(op: &'static str, name: &str, view: &[usize; 4]) -> Result<()> {
    match view.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1))) {
        Some(_) => Ok(()),
        None => Err(Error::shape(op, format!("{name} split into heads {view:?} is too large to address"))),
    }
}
