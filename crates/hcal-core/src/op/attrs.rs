//! The attributes of [`Op`](super::Op)'s variants that are types of their
//! own: split sizes, scatter modes, Gemm, Attention and RotaryEmbedding
//! options, and the elementwise and reduction kinds.

use serde::{Deserialize, Serialize};

use crate::DType;
// For the intra-doc links to the variants these types belong to.
#[cfg(doc)]
use super::Op;

/// Part sizes of [`Op::Split`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitParts {
    /// Explicit sizes, summing to the axis extent (zeros allowed).
    Sizes(Vec<usize>),
    /// `n >= 1` parts of `ceil(d / n)` elements, the last one smaller
    /// (`d - (n - 1) * ceil(d / n)`, which must be >= 0): ONNX's `num_outputs`.
    Equal(usize),
}

impl SplitParts {
    /// Number of parts (the op's outputs).
    pub fn count(&self) -> usize {
        match self {
            SplitParts::Sizes(s) => s.len(),
            SplitParts::Equal(n) => *n,
        }
    }
}

/// How [`Op::TensorScatter`] maps write positions onto the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScatterMode {
    /// Position `w + s`; positions outside the cache are dropped.
    Linear,
    /// Position `(w + s) mod M` (a ring buffer of `M` positions).
    Circular,
}

impl ScatterMode {
    /// The ONNX attribute value (`"linear"`, `"circular"`).
    pub const fn name(self) -> &'static str {
        match self {
            ScatterMode::Linear => "linear",
            ScatterMode::Circular => "circular",
        }
    }
}

/// Attributes of [`Op::Gemm`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gemm {
    /// Multiplier of `op(A) @ op(B)`.
    pub alpha: f32,
    /// Multiplier of `C`.
    pub beta: f32,
    /// Use `A^T` (A is `[K, M]`).
    pub trans_a: bool,
    /// Use `B^T` (B is `[N, K]`).
    pub trans_b: bool,
}

impl Default for Gemm {
    fn default() -> Self {
        Self { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false }
    }
}

/// Attributes of [`Op::RmsNormGemm`]: RMSNormalization's `epsilon` and the
/// Gemm's `alpha`, `beta` and `transB` (A is never transposed: its rows are
/// what is normalized).
///
/// ```
/// use hcal_core::{Gemm, RmsNormGemm};
/// let attrs = RmsNormGemm { epsilon: 1e-5, alpha: 1.0, beta: 0.0, trans_b: true };
/// assert_eq!(attrs.gemm(), Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: true });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RmsNormGemm {
    /// Added to the mean square; must be finite and >= 0.
    pub epsilon: f32,
    /// Multiplier of `RMSNorm(A) @ op(B)`.
    pub alpha: f32,
    /// Multiplier of `C`.
    pub beta: f32,
    /// Use `B^T` (B is `[N, K]`, as a GGUF weight is stored).
    pub trans_b: bool,
}

impl RmsNormGemm {
    /// The Gemm step's attributes (`transA` false).
    pub fn gemm(&self) -> Gemm {
        Gemm { alpha: self.alpha, beta: self.beta, trans_a: false, trans_b: self.trans_b }
    }

    /// The RMSNormalization step (over A's last axis).
    pub fn norm(&self) -> super::Op {
        super::Op::RmsNormalization { axis: -1, epsilon: self.epsilon }
    }
}

/// Attributes of [`Op::Attention`] (ONNX `Attention`, opset 24).
///
/// With 4-D inputs `Q: [B, Hq, Sq, D]`, `K: [B, Hkv, Skv, D]`,
/// `V: [B, Hkv, Skv, Dv]`; 3-D inputs `[B, S, H*D]` are split into heads using
/// `q_num_heads` / `kv_num_heads`. `past_key`/`past_value` `[B, Hkv, P, D|Dv]`
/// are prepended along the sequence, giving `T = P + Skv` keys and the outputs
/// `present_key`/`present_value`. Query head `h` uses key head
/// `h / (Hq / Hkv)` (grouped-query attention). For each query row `i`:
///
/// ```text
/// s_j = scale * <q_i, k_j>                       (scale default 1/sqrt(D))
/// s_j = softcap * tanh(s_j / softcap)            (when softcap > 0)
/// s_j = s_j + bias_ij                            (float mask: added; bool mask: false -> -inf;
///                                                 a mask shorter than T is padded with -inf)
/// s_j = -inf  where is_causal and j > i + P      (bottom-right aligned causal mask)
/// p   = softmax(s);   y_i = sum_j p_j v_j
/// ```
///
/// `nonpad_kv_seqlen` (input 6, i64 `[B]`, opset 24) marks a static-size
/// cache that holds `n_b` valid keys in batch `b` (the K and V inputs are the
/// whole cache, written by [`Op::TensorScatter`]; it cannot be combined with
/// `past_key`/`past_value`): keys `j >= n_b` are masked, and the causal
/// frontier is aligned to the valid keys, `j > i + n_b - Sq` masked (ONNX's
/// `offset = nonpad_kv_seqlen - q_sequence_length`). The lengths are data:
/// `n_b` is clamped to `[0, T]`, and query rows left with no key (`n_b = 0`,
/// or `i + n_b < Sq` when causal) are fully masked.
///
/// A row whose every key is masked has `max s = -inf`, so softmax is `0/0`
/// and the row is NaN, as in the released opset-23 reference implementation
/// (ONNX 1.23's errata makes such rows zero; hcal keeps NaN until the
/// standard changes it for every path at once).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attention {
    /// Mask keys after the query's position (offset by the past length).
    pub is_causal: bool,
    /// Query heads; required for 3-D inputs, must match `Q.shape[1]` for 4-D.
    pub q_num_heads: Option<usize>,
    /// Key/value heads; required for 3-D inputs, must match `K.shape[1]` for 4-D.
    pub kv_num_heads: Option<usize>,
    /// Multiplier of `Q K^T`; `None` means `1 / sqrt(D)`.
    pub scale: Option<f32>,
    /// Cap `c` of `c * tanh(s / c)`; 0 disables it.
    pub softcap: f32,
}

impl Default for Attention {
    fn default() -> Self {
        Self { is_causal: false, q_num_heads: None, kv_num_heads: None, scale: None, softcap: 0.0 }
    }
}

/// Attributes of [`Op::RotaryEmbedding`] (ONNX `RotaryEmbedding`, opset 23).
///
/// `X` is `[B, H, S, D]` or `[B, S, H*D]` (then `num_heads` is required). The
/// first `R = rotary_embedding_dim` (0 means `D`) features of each head rotate
/// in pairs `(x1, x2)`: halves `x[..R/2]`, `x[R/2..R]`, or with `interleaved`
/// even/odd features. With `cos, sin` the caches at the token's position
/// (`cache[position_ids[b, s]]` when position ids are given, else `cache[b, s]`):
/// `y1 = cos x1 - sin x2`, `y2 = sin x1 + cos x2`; features past `R` pass through.
/// Position ids are data, not checked at validation: an id outside
/// `[0, max_position)` makes that token's rotated features NaN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RotaryEmbedding {
    /// Pair adjacent features instead of the two halves.
    pub interleaved: bool,
    /// Rotated features per head; 0 means the whole head.
    pub rotary_embedding_dim: usize,
    /// Heads, required for 3-D input.
    pub num_heads: Option<usize>,
}

/// Attributes of [`Op::SplitRotaryScatter`]: the head counts of the packed
/// projection and the rotation, as [`RotaryEmbedding`] takes it.
///
/// ```
/// use hcal_core::SplitRotaryScatter;
/// // SmolLM2-135M: 9 query heads and 3 key/value heads of 64, whole heads rotate in adjacent pairs.
/// let attrs = SplitRotaryScatter { q_num_heads: 9, kv_num_heads: 3, interleaved: true, rotary_embedding_dim: 0 };
/// assert_eq!(attrs.q_num_heads / attrs.kv_num_heads, 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitRotaryScatter {
    /// Query heads `Hq`, a multiple of `kv_num_heads`.
    pub q_num_heads: usize,
    /// Key/value heads `Hkv`.
    pub kv_num_heads: usize,
    /// Pair adjacent features instead of the two halves (as [`RotaryEmbedding`]).
    pub interleaved: bool,
    /// Rotated features per head; 0 means the whole head.
    pub rotary_embedding_dim: usize,
}

/// Which formula [`Op::Gelu`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GeluApproximation {
    /// `0.5 x (1 + erf(x / sqrt 2))`.
    None,
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    Tanh,
}

/// One-input elementwise functions: floating dtypes, except [`UnaryOp::Not`]
/// on bool. Every function maps NaN to NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `x / (1 + exp(-x))` (SiLU / swish).
    Silu,
    /// `exp(x)`.
    Exp,
    /// `tanh(x)`.
    Tanh,
    /// `-x`.
    Neg,
    /// `sqrt(x)` (NaN for x < 0).
    Sqrt,
    /// `1 / x`.
    Reciprocal,
    // ---- added with the transformer-graph ops (ops-elementwise) ----
    /// `|x|`.
    Abs,
    /// `erf x = 2/sqrt(pi) integral_0^x exp(-t^2) dt`.
    Erf,
    /// The largest integer `<= x` (`-0` and infinities stay).
    Floor,
    /// The smallest integer `>= x`.
    Ceil,
    /// The nearest integer, halves to the even one (`round(2.5) = 2`,
    /// `round(-0.5) = -0`), as ONNX `Round`.
    Round,
    /// Logical negation of a bool tensor (the one unary op on bool).
    Not,
}

impl UnaryOp {
    /// Every unary op.
    pub const ALL: [UnaryOp; 14] = [
        UnaryOp::Relu,
        UnaryOp::Sigmoid,
        UnaryOp::Silu,
        UnaryOp::Exp,
        UnaryOp::Tanh,
        UnaryOp::Neg,
        UnaryOp::Sqrt,
        UnaryOp::Reciprocal,
        UnaryOp::Abs,
        UnaryOp::Erf,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Not,
    ];

    /// Whether the op takes and returns bool ([`UnaryOp::Not`]) rather than floats.
    pub const fn is_logical(self) -> bool {
        matches!(self, UnaryOp::Not)
    }

    /// ONNX-style name.
    pub const fn name(self) -> &'static str {
        match self {
            UnaryOp::Relu => "Relu",
            UnaryOp::Sigmoid => "Sigmoid",
            UnaryOp::Silu => "Silu",
            UnaryOp::Exp => "Exp",
            UnaryOp::Tanh => "Tanh",
            UnaryOp::Neg => "Neg",
            UnaryOp::Sqrt => "Sqrt",
            UnaryOp::Reciprocal => "Reciprocal",
            UnaryOp::Abs => "Abs",
            UnaryOp::Erf => "Erf",
            UnaryOp::Floor => "Floor",
            UnaryOp::Ceil => "Ceil",
            UnaryOp::Round => "Round",
            UnaryOp::Not => "Not",
        }
    }
}

/// Two-input elementwise functions with numpy broadcasting. Both inputs
/// share one dtype: floating for the arithmetic ops and the comparisons (which
/// output bool), bool for [`BinaryOp::And`] and [`BinaryOp::Or`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// `max(a, b)`, NaN if either is NaN.
    Max,
    /// `min(a, b)`, NaN if either is NaN.
    Min,
    // ---- added with the transformer-graph ops (ops-elementwise) ----
    /// `a^b` as C's `pow` (numpy `power` on floats): `a^0 = 1` and `1^b = 1`
    /// even for NaN; a negative `a` with an integer `b` gives `(-1)^b |a|^b`,
    /// with a non-integer `b` NaN; `0^b` is `+-0` for `b > 0`, `+-inf` for
    /// `b < 0` (the sign kept for odd integer `b`). Float inputs only.
    Pow,
    /// `a == b` (bool; false when either is NaN, `-0 == 0`).
    Equal,
    /// `a < b` (bool; false when either is NaN).
    Less,
    /// `a > b` (bool; false when either is NaN).
    Greater,
    /// `a <= b` (bool; false when either is NaN).
    LessOrEqual,
    /// `a >= b` (bool; false when either is NaN).
    GreaterOrEqual,
    /// `a and b` on bool inputs.
    And,
    /// `a or b` on bool inputs.
    Or,
}

impl BinaryOp {
    /// Every binary op.
    pub const ALL: [BinaryOp; 14] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Pow,
        BinaryOp::Equal,
        BinaryOp::Less,
        BinaryOp::Greater,
        BinaryOp::LessOrEqual,
        BinaryOp::GreaterOrEqual,
        BinaryOp::And,
        BinaryOp::Or,
    ];

    /// Whether the op compares floats and outputs bool.
    pub const fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Equal | BinaryOp::Less | BinaryOp::Greater | BinaryOp::LessOrEqual | BinaryOp::GreaterOrEqual
        )
    }

    /// Whether the op takes and returns bool ([`BinaryOp::And`], [`BinaryOp::Or`]).
    pub const fn is_logical(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or)
    }

    /// The output dtype for inputs of `input` dtype: bool for comparisons, else `input`.
    pub const fn output_dtype(self, input: DType) -> DType {
        if self.is_comparison() { DType::Bool } else { input }
    }

    /// ONNX-style name.
    pub const fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "Add",
            BinaryOp::Sub => "Sub",
            BinaryOp::Mul => "Mul",
            BinaryOp::Div => "Div",
            BinaryOp::Max => "Max",
            BinaryOp::Min => "Min",
            BinaryOp::Pow => "Pow",
            BinaryOp::Equal => "Equal",
            BinaryOp::Less => "Less",
            BinaryOp::Greater => "Greater",
            BinaryOp::LessOrEqual => "LessOrEqual",
            BinaryOp::GreaterOrEqual => "GreaterOrEqual",
            BinaryOp::And => "And",
            BinaryOp::Or => "Or",
        }
    }
}

/// Reductions of [`Op::Reduce`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReduceOp {
    /// `sum x`.
    Sum,
    /// `sum x / n`.
    Mean,
    /// `max x` (NaN if any is NaN; -inf of nothing).
    Max,
    /// `min x` (NaN if any is NaN; +inf of nothing).
    Min,
    /// `prod x` (1 of nothing; `0 * inf` is NaN).
    Prod,
    /// `sqrt(sum x^2)`, the Euclidean norm (0 of nothing).
    L2,
}

impl ReduceOp {
    /// Every reduction.
    pub const ALL: [ReduceOp; 6] =
        [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod, ReduceOp::L2];

    /// ONNX name (`ReduceSum`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "ReduceSum",
            ReduceOp::Mean => "ReduceMean",
            ReduceOp::Max => "ReduceMax",
            ReduceOp::Min => "ReduceMin",
            ReduceOp::Prod => "ReduceProd",
            ReduceOp::L2 => "ReduceL2",
        }
    }
}
