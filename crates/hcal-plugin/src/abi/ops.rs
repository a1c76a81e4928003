//! `hcal_op` and its attribute structs: the ops of `hcal_core::Op` as data.

use super::HcalDtype;

// ---- ops ---------------------------------------------------------------------------

/// `hcal_op_kind`: which op an [`HcalOp`] holds.
pub type HcalOpKind = u32;
/// MatMul (no attributes).
pub const HCAL_OP_MATMUL: HcalOpKind = 1;
/// Gemm ([`HcalOpGemm`]).
pub const HCAL_OP_GEMM: HcalOpKind = 2;
/// Softmax ([`HcalOpSoftmax`]).
pub const HCAL_OP_SOFTMAX: HcalOpKind = 3;
/// LayerNormalization ([`HcalOpNormalization`]).
pub const HCAL_OP_LAYER_NORMALIZATION: HcalOpKind = 4;
/// RMSNormalization ([`HcalOpNormalization`]).
pub const HCAL_OP_RMS_NORMALIZATION: HcalOpKind = 5;
/// Attention ([`HcalOpAttention`]).
pub const HCAL_OP_ATTENTION: HcalOpKind = 6;
/// RotaryEmbedding ([`HcalOpRotaryEmbedding`]).
pub const HCAL_OP_ROTARY_EMBEDDING: HcalOpKind = 7;
/// Gelu ([`HcalOpGelu`]).
pub const HCAL_OP_GELU: HcalOpKind = 8;
/// A unary elementwise op ([`HcalOpUnary`]).
pub const HCAL_OP_UNARY: HcalOpKind = 9;
/// A binary elementwise op ([`HcalOpBinary`]).
pub const HCAL_OP_BINARY: HcalOpKind = 10;
/// A reduction ([`HcalOpReduce`]).
pub const HCAL_OP_REDUCE: HcalOpKind = 11;
/// Transpose ([`HcalOpTranspose`]).
pub const HCAL_OP_TRANSPOSE: HcalOpKind = 12;
/// Cast ([`HcalOpCast`]).
pub const HCAL_OP_CAST: HcalOpKind = 13;
// ---- along one axis (ABI 1.2; kinds 42-49 are this family's) ----
/// ArgMax ([`HcalOpArgReduce`]), ABI 1.2.
pub const HCAL_OP_ARG_MAX: HcalOpKind = 42;
/// ArgMin ([`HcalOpArgReduce`]), ABI 1.2.
pub const HCAL_OP_ARG_MIN: HcalOpKind = 43;
/// LogSoftmax ([`HcalOpSoftmax`]), ABI 1.2.
pub const HCAL_OP_LOG_SOFTMAX: HcalOpKind = 44;
/// CumSum ([`HcalOpCumSum`]), ABI 1.2.
pub const HCAL_OP_CUM_SUM: HcalOpKind = 45;
// ---- data movement (ABI 1.2; codes 30-41) ----
/// Concat ([`HcalOpConcat`]).
pub const HCAL_OP_CONCAT: HcalOpKind = 30;
/// Slice ([`HcalOpSlice`]).
pub const HCAL_OP_SLICE: HcalOpKind = 31;
/// Split ([`HcalOpSplit`]).
pub const HCAL_OP_SPLIT: HcalOpKind = 32;
/// Expand ([`HcalOpExpand`]).
pub const HCAL_OP_EXPAND: HcalOpKind = 33;
/// Reshape ([`HcalOpReshape`]).
pub const HCAL_OP_RESHAPE: HcalOpKind = 34;
/// Range ([`HcalOpRange`]).
pub const HCAL_OP_RANGE: HcalOpKind = 35;
/// Trilu ([`HcalOpTrilu`]).
pub const HCAL_OP_TRILU: HcalOpKind = 36;
// Indexing and KV caches (ABI 1.2).
/// Gather.
pub const HCAL_OP_GATHER: HcalOpKind = 14;
/// GatherElements.
pub const HCAL_OP_GATHER_ELEMENTS: HcalOpKind = 15;
/// TensorScatter.
pub const HCAL_OP_TENSOR_SCATTER: HcalOpKind = 16;
// ---- ABI 1.2, elementwise with attributes, clipping and selection (ops-elementwise) ----
/// LeakyRelu (ABI 1.2), attributes in [`HcalOpAttrs::leaky_relu`].
pub const HCAL_OP_LEAKY_RELU: HcalOpKind = 18;
/// HardSigmoid (ABI 1.2), attributes in [`HcalOpAttrs::hard_sigmoid`].
pub const HCAL_OP_HARD_SIGMOID: HcalOpKind = 19;
/// Clip (ABI 1.2): inputs (X, min?, max?), no attributes.
pub const HCAL_OP_CLIP: HcalOpKind = 20;
/// Where (ABI 1.2): inputs (condition, X, Y), no attributes.
pub const HCAL_OP_WHERE: HcalOpKind = 21;
// ---- hcal's fused steps (ABI 1.3; kinds 50-59 are this family's) ----
/// RMSNormGemm ([`HcalOpRmsNormGemm`]), ABI 1.3.
pub const HCAL_OP_RMS_NORM_GEMM: HcalOpKind = 50;
/// GatedUnary ([`HcalOpUnary`]: the activation), ABI 1.3.
pub const HCAL_OP_GATED_UNARY: HcalOpKind = 51;
/// SplitRotaryScatter ([`HcalOpSplitRotaryScatter`]), ABI 1.3.
pub const HCAL_OP_SPLIT_ROTARY_SCATTER: HcalOpKind = 52;

/// `max(x, 0)`.
pub const HCAL_UNARY_RELU: u32 = 0;
/// `1 / (1 + exp(-x))`.
pub const HCAL_UNARY_SIGMOID: u32 = 1;
/// `x / (1 + exp(-x))`.
pub const HCAL_UNARY_SILU: u32 = 2;
/// `exp(x)`.
pub const HCAL_UNARY_EXP: u32 = 3;
/// `tanh(x)`.
pub const HCAL_UNARY_TANH: u32 = 4;
/// `-x`.
pub const HCAL_UNARY_NEG: u32 = 5;
/// `sqrt(x)`.
pub const HCAL_UNARY_SQRT: u32 = 6;
/// `1 / x`.
pub const HCAL_UNARY_RECIPROCAL: u32 = 7;
/// `|x|` (ABI 1.2).
pub const HCAL_UNARY_ABS: u32 = 8;
/// `erf x` (ABI 1.2).
pub const HCAL_UNARY_ERF: u32 = 9;
/// Floor (ABI 1.2).
pub const HCAL_UNARY_FLOOR: u32 = 10;
/// Ceil (ABI 1.2).
pub const HCAL_UNARY_CEIL: u32 = 11;
/// Round, halves to even (ABI 1.2).
pub const HCAL_UNARY_ROUND: u32 = 12;
/// Logical not (bool) (ABI 1.2).
pub const HCAL_UNARY_NOT: u32 = 13;

/// `a + b`.
pub const HCAL_BINARY_ADD: u32 = 0;
/// `a - b`.
pub const HCAL_BINARY_SUB: u32 = 1;
/// `a * b`.
pub const HCAL_BINARY_MUL: u32 = 2;
/// `a / b`.
pub const HCAL_BINARY_DIV: u32 = 3;
/// `max(a, b)`.
pub const HCAL_BINARY_MAX: u32 = 4;
/// `min(a, b)`.
pub const HCAL_BINARY_MIN: u32 = 5;
/// C's `pow` (ABI 1.2).
pub const HCAL_BINARY_POW: u32 = 6;
/// `a == b` (bool output) (ABI 1.2).
pub const HCAL_BINARY_EQUAL: u32 = 7;
/// `a < b` (bool output) (ABI 1.2).
pub const HCAL_BINARY_LESS: u32 = 8;
/// `a > b` (bool output) (ABI 1.2).
pub const HCAL_BINARY_GREATER: u32 = 9;
/// `a <= b` (bool output) (ABI 1.2).
pub const HCAL_BINARY_LESS_OR_EQUAL: u32 = 10;
/// `a >= b` (bool output) (ABI 1.2).
pub const HCAL_BINARY_GREATER_OR_EQUAL: u32 = 11;
/// `a and b` (bool) (ABI 1.2).
pub const HCAL_BINARY_AND: u32 = 12;
/// `a or b` (bool) (ABI 1.2).
pub const HCAL_BINARY_OR: u32 = 13;

/// ReduceSum.
pub const HCAL_REDUCE_SUM: u32 = 0;
/// ReduceMean.
pub const HCAL_REDUCE_MEAN: u32 = 1;
/// ReduceMax.
pub const HCAL_REDUCE_MAX: u32 = 2;
/// ReduceMin (ABI 1.2).
pub const HCAL_REDUCE_MIN: u32 = 3;
/// ReduceProd (ABI 1.2).
pub const HCAL_REDUCE_PROD: u32 = 4;
/// ReduceL2 (ABI 1.2).
pub const HCAL_REDUCE_L2: u32 = 5;

/// TensorScatter writes at `w + s`, dropping positions past the cache (ABI 1.2).
pub const HCAL_SCATTER_LINEAR: u32 = 0;
/// TensorScatter writes at `(w + s) mod M` (ABI 1.2).
pub const HCAL_SCATTER_CIRCULAR: u32 = 1;

/// Exact (erf) Gelu.
pub const HCAL_GELU_NONE: u32 = 0;
/// Tanh-approximated Gelu.
pub const HCAL_GELU_TANH: u32 = 1;

/// `hcal_op_gemm`: `Y = alpha op(A) op(B) + beta C`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpGemm {
    /// Multiplier of the product.
    pub alpha: f32,
    /// Multiplier of C.
    pub beta: f32,
    /// 0 or 1.
    pub trans_a: u32,
    /// 0 or 1.
    pub trans_b: u32,
}

/// `hcal_op_softmax`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpSoftmax {
    /// The reduced axis (negative counts from the end).
    pub axis: i64,
}

/// `hcal_op_normalization`: LayerNormalization and RMSNormalization.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpNormalization {
    /// First normalized axis.
    pub axis: i64,
    /// Added to the variance / mean square.
    pub epsilon: f32,
    /// 0.
    pub reserved: u32,
}

/// `hcal_op_attention`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpAttention {
    /// 0 or 1.
    pub is_causal: u32,
    /// 0: the scale is `1/sqrt(head size)`.
    pub has_scale: u32,
    /// Used when `has_scale` is 1.
    pub scale: f32,
    /// 0 disables it.
    pub softcap: f32,
    /// 0: absent.
    pub q_num_heads: u64,
    /// 0: absent.
    pub kv_num_heads: u64,
}

/// `hcal_op_rotary_embedding`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpRotaryEmbedding {
    /// 0 or 1.
    pub interleaved: u32,
    /// 0.
    pub reserved: u32,
    /// 0: the head size.
    pub rotary_embedding_dim: u64,
    /// 0: absent.
    pub num_heads: u64,
}

/// `hcal_op_gelu`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpGelu {
    /// `HCAL_GELU_*`.
    pub approximate: u32,
}

/// `hcal_op_unary`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpUnary {
    /// `HCAL_UNARY_*`.
    pub op: u32,
}

/// `hcal_op_binary`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpBinary {
    /// `HCAL_BINARY_*`.
    pub op: u32,
}

/// `hcal_op_reduce`: reduce over `num_axes` axes (`has_axes` 0: every axis).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOpReduce {
    /// `HCAL_REDUCE_*`.
    pub op: u32,
    /// 0 or 1.
    pub keepdims: u32,
    /// 0 or 1.
    pub has_axes: u32,
    /// Number of entries at `axes`.
    pub num_axes: u32,
    /// The axes, owned by the caller for the duration of the call.
    pub axes: *const i64,
}

/// `hcal_op_transpose`: permute by `perm` (`has_perm` 0: reversed axes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOpTranspose {
    /// 0 or 1.
    pub has_perm: u32,
    /// Number of entries at `perm`.
    pub num_perm: u32,
    /// The permutation, owned by the caller for the duration of the call.
    pub perm: *const u64,
}

/// `hcal_op_cast`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpCast {
    /// Target `HCAL_DTYPE_*`.
    pub to: HcalDtype,
}

/// `hcal_op_arg_reduce`: ArgMax / ArgMin along `axis` (ABI 1.2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpArgReduce {
    /// The searched axis (negative counts from the end).
    pub axis: i64,
    /// 0 or 1.
    pub keepdims: u32,
    /// 0 or 1.
    pub select_last_index: u32,
}

/// `hcal_op_cum_sum`: CumSum along `axis` (ABI 1.2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpCumSum {
    /// The summed axis (negative counts from the end).
    pub axis: i64,
    /// 0 or 1.
    pub exclusive: u32,
    /// 0 or 1.
    pub reverse: u32,
}
// ---- data movement (ABI 1.2) ----

/// `hcal_op_concat`: join the inputs along `axis`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpConcat {
    /// The joined axis (negative counts from the end).
    pub axis: i64,
}

/// `hcal_op_slice`: ONNX Slice with its index lists as attributes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOpSlice {
    /// Entries at `starts`, `ends` (and `axes`, `steps` when present).
    pub num_axes: u32,
    /// 0 or 1.
    pub has_axes: u32,
    /// 0 or 1.
    pub has_steps: u32,
    /// 0.
    pub reserved: u32,
    /// First index per axis.
    pub starts: *const i64,
    /// Exclusive end per axis.
    pub ends: *const i64,
    /// The axes (null unless `has_axes`).
    pub axes: *const i64,
    /// The steps (null unless `has_steps`).
    pub steps: *const i64,
}

/// `hcal_op_split`: cut along `axis` into `num_parts` outputs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOpSplit {
    /// The cut axis.
    pub axis: i64,
    /// 1: equal parts of `ceil(d / num_parts)` (the last smaller), `sizes` null.
    pub equal: u32,
    /// Number of parts (outputs).
    pub num_parts: u32,
    /// Part sizes (null when `equal`).
    pub sizes: *const u64,
}

/// `hcal_op_expand`: broadcast X to `shape`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOpExpand {
    /// Entries at `shape`.
    pub rank: u32,
    /// 0.
    pub reserved: u32,
    /// The extents.
    pub shape: *const u64,
}

/// `hcal_op_reshape`: Y's bytes are X's, under `shape` (one entry may be -1).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOpReshape {
    /// Entries at `shape`.
    pub rank: u32,
    /// 0.
    pub reserved: u32,
    /// The new shape.
    pub shape: *const i64,
}

/// `hcal_op_range`: `Y[i] = start + i * delta`, no inputs.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpRange {
    /// First value.
    pub start: f64,
    /// Exclusive bound.
    pub limit: f64,
    /// Step.
    pub delta: f64,
    /// Output `HCAL_DTYPE_*`.
    pub dtype: HcalDtype,
    /// 0.
    pub reserved: u32,
}
// Indexing and KV caches (ABI 1.2).
/// `hcal_op_gather`: Gather and GatherElements.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpGather {
    /// The indexed axis (negative counts from the end).
    pub axis: i64,
}

/// `hcal_op_tensor_scatter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpTensorScatter {
    /// The sequence axis (negative counts from the end).
    pub axis: i64,
    /// `HCAL_SCATTER_*`.
    pub mode: u32,
    /// 0.
    pub reserved: u32,
}

/// `hcal_op_trilu`: keep a triangle of the last two dims.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpTrilu {
    /// 0 or 1.
    pub upper: u32,
    /// 0.
    pub reserved: u32,
    /// Diagonal offset.
    pub k: i64,
}
/// `hcal_op_leaky_relu` (ABI 1.2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpLeakyRelu {
    /// Slope for negative inputs.
    pub alpha: f32,
}

/// `hcal_op_hard_sigmoid` (ABI 1.2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpHardSigmoid {
    /// Slope.
    pub alpha: f32,
    /// Offset.
    pub beta: f32,
}

/// `hcal_op_rms_norm_gemm` (ABI 1.3).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpRmsNormGemm {
    /// Added to the mean square.
    pub epsilon: f32,
    /// Multiplier of the product.
    pub alpha: f32,
    /// Multiplier of C.
    pub beta: f32,
    /// 0 or 1: B is `[N, K]`.
    pub trans_b: u32,
}

/// `hcal_op_split_rotary_scatter` (ABI 1.3).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcalOpSplitRotaryScatter {
    /// Query heads, a multiple of `kv_num_heads`.
    pub q_num_heads: u64,
    /// Key/value heads.
    pub kv_num_heads: u64,
    /// 0 or 1: pair adjacent features, not halves.
    pub interleaved: u32,
    /// 0.
    pub reserved: u32,
    /// Rotated features per head; 0: the whole head.
    pub rotary_embedding_dim: u64,
}

/// The anonymous `attrs` union of `hcal_op`: which member is live follows
/// [`HcalOp::kind`]. `reserved` makes room for later attributes.
#[repr(C)]
#[derive(Clone, Copy)]
pub union HcalOpAttrs {
    /// `HCAL_OP_GEMM`.
    pub gemm: HcalOpGemm,
    /// `HCAL_OP_SOFTMAX`.
    pub softmax: HcalOpSoftmax,
    /// Both normalizations.
    pub normalization: HcalOpNormalization,
    /// `HCAL_OP_ATTENTION`.
    pub attention: HcalOpAttention,
    /// `HCAL_OP_ROTARY_EMBEDDING`.
    pub rotary_embedding: HcalOpRotaryEmbedding,
    /// `HCAL_OP_GELU`.
    pub gelu: HcalOpGelu,
    /// `HCAL_OP_UNARY`.
    pub unary: HcalOpUnary,
    /// `HCAL_OP_BINARY`.
    pub binary: HcalOpBinary,
    /// `HCAL_OP_REDUCE`.
    pub reduce: HcalOpReduce,
    /// `HCAL_OP_TRANSPOSE`.
    pub transpose: HcalOpTranspose,
    /// `HCAL_OP_CAST`.
    pub cast: HcalOpCast,
    /// `HCAL_OP_ARG_MAX`, `HCAL_OP_ARG_MIN` (ABI 1.2).
    pub arg_reduce: HcalOpArgReduce,
    /// `HCAL_OP_CUM_SUM` (ABI 1.2).
    pub cum_sum: HcalOpCumSum,
    /// `HCAL_OP_CONCAT`.
    pub concat: HcalOpConcat,
    /// `HCAL_OP_SLICE`.
    pub slice: HcalOpSlice,
    /// `HCAL_OP_SPLIT`.
    pub split: HcalOpSplit,
    /// `HCAL_OP_EXPAND`.
    pub expand: HcalOpExpand,
    /// `HCAL_OP_RESHAPE`.
    pub reshape: HcalOpReshape,
    /// `HCAL_OP_RANGE`.
    pub range: HcalOpRange,
    /// `HCAL_OP_TRILU`.
    pub trilu: HcalOpTrilu,
    /// `HCAL_OP_GATHER`, `HCAL_OP_GATHER_ELEMENTS` (ABI 1.2).
    pub gather: HcalOpGather,
    /// `HCAL_OP_TENSOR_SCATTER` (ABI 1.2).
    pub tensor_scatter: HcalOpTensorScatter,
    /// `HCAL_OP_LEAKY_RELU` (ABI 1.2).
    pub leaky_relu: HcalOpLeakyRelu,
    /// `HCAL_OP_HARD_SIGMOID` (ABI 1.2).
    pub hard_sigmoid: HcalOpHardSigmoid,
    /// `HCAL_OP_RMS_NORM_GEMM` (ABI 1.3).
    pub rms_norm_gemm: HcalOpRmsNormGemm,
    /// `HCAL_OP_SPLIT_ROTARY_SCATTER` (ABI 1.3).
    pub split_rotary_scatter: HcalOpSplitRotaryScatter,
    /// Room for later attributes within this major version.
    pub reserved: [u64; 8],
}

impl Default for HcalOpAttrs {
    /// All bytes zero (MatMul's attributes).
    fn default() -> Self {
        HcalOpAttrs { reserved: [0; 8] }
    }
}

impl std::fmt::Debug for HcalOpAttrs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HcalOpAttrs { .. }")
    }
}

/// `hcal_op`: an op kind and its attributes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalOp {
    /// `sizeof(hcal_op)` of whoever filled it in.
    pub struct_size: u32,
    /// `HCAL_OP_*`.
    pub kind: HcalOpKind,
    /// The attributes of `kind`.
    pub attrs: HcalOpAttrs,
}
