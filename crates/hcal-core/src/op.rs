//! Operators as data.
//!
//! One variant per operator of the standard, with ONNX semantics where ONNX
//! defines the op (opset 23; Attention and TensorScatter opset 24, Gather and
//! GatherElements opset 13). Because an op is a plain value, the same value is
//! a conformance case, a benchmark row, a log line and a capability query.
//!
//! Inputs and outputs are positional, exactly as ONNX lists them; optional ones
//! are `None` in the input/output slices (see [`crate::Call`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DType;

/// An operator and its attributes.
///
/// ```
/// use hcal_core::{Op, UnaryOp};
/// let ops = [Op::MatMul, Op::Softmax { axis: -1 }, Op::Unary(UnaryOp::Relu)];
/// assert_eq!(ops[1].name(), "Softmax");
/// assert_eq!(ops[2].to_string(), "Relu");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    // ---- linear algebra -------------------------------------------------
    /// `Y = A @ B` with numpy semantics: rank-1 `A` is a row `[1, K]` and
    /// rank-1 `B` a column `[K, 1]` (the added dim is removed from `Y`); the
    /// batch dims (all but the last two) broadcast.
    /// `Y[.., m, n] = sum_k A[.., m, k] * B[.., k, n]`; `K = 0` gives zeros.
    /// `B` may be block-quantized weights ([`DType::QUANTIZED`]): the product
    /// of `A` with B's dequantized values ([`crate::quant`]); `Y` has A's dtype.
    /// Inputs `(A, B)`, output `(Y)`.
    MatMul,
    /// `Y = alpha * op(A) @ op(B) + beta * C`, `op(X) = X^T` when the flag is
    /// set; `A`, `B` rank 2; optional `C` unidirectionally broadcast to `[M, N]`.
    /// `B` may be block-quantized (as for MatMul); with `transB` its blocks
    /// run along K, the layout GGML stores weights in.
    /// Inputs `(A, B, C?)`, output `(Y)`.
    Gemm(Gemm),

    // ---- normalization ----------------------------------------------------
    /// `Y_i = exp(X_i - max X) / sum_j exp(X_j - max X)` along `axis`
    /// (negative counts from the end). Inputs `(X)`, output `(Y)`.
    Softmax {
        /// The reduced axis.
        axis: i64,
    },
    /// Over the dims `[axis, rank)` taken as one group of `n` elements:
    /// `mu = sum x / n`, `var = sum (x - mu)^2 / n`,
    /// `Y = (X - mu) / sqrt(var + epsilon) * Scale + B`. `Scale` and optional
    /// `B` broadcast to the normalized shape. Inputs `(X, Scale, B?)`, output `(Y)`.
    LayerNormalization {
        /// First normalized axis.
        axis: i64,
        /// Added to the variance; must be finite and >= 0.
        epsilon: f32,
    },
    /// Over the dims `[axis, rank)`: `Y = X / sqrt(sum x^2 / n + epsilon) * Scale`.
    /// Inputs `(X, Scale)`, output `(Y)`.
    RmsNormalization {
        /// First normalized axis.
        axis: i64,
        /// Added to the mean square; must be finite and >= 0.
        epsilon: f32,
    },

    // ---- attention ----------------------------------------------------------
    /// Scaled dot-product attention as ONNX `Attention` (opset 24); see [`Attention`].
    /// Inputs `(Q, K, V, attn_mask?, past_key?, past_value?, nonpad_kv_seqlen?)`,
    /// outputs `(Y, present_key?, present_value?)`.
    Attention(Attention),
    /// Rotary position embedding as ONNX `RotaryEmbedding`; see [`RotaryEmbedding`].
    /// Inputs `(X, cos_cache, sin_cache, position_ids?)`, output `(Y)`.
    RotaryEmbedding(RotaryEmbedding),

    // ---- elementwise ---------------------------------------------------------
    /// `Y = 0.5 x (1 + erf(x / sqrt 2))`, or with `Tanh`
    /// `Y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`. Inputs `(X)`, output `(Y)`.
    Gelu {
        /// Exact or tanh approximation.
        approximate: GeluApproximation,
    },
    /// A one-input elementwise function. Inputs `(X)`, output `(Y)` of the same desc.
    Unary(UnaryOp),
    /// A two-input elementwise function with numpy broadcasting. Inputs `(A, B)`, output `(C)`.
    Binary(BinaryOp),

    // ---- reductions and data movement ---------------------------------------
    /// Reduce over `axes` (all axes when `None`); reduced dims are kept as 1
    /// when `keepdims`. Reducing an empty set gives the identity (0 for sum,
    /// NaN for the mean of nothing, -inf for max). Inputs `(X)`, output `(Y)`.
    Reduce {
        /// Sum, mean or max.
        op: ReduceOp,
        /// Axes to reduce (negative counts from the end); `None` reduces all.
        axes: Option<Vec<i64>>,
        /// Keep reduced dims with extent 1.
        keepdims: bool,
    },
    /// Permute axes: `Y.shape[k] = X.shape[perm[k]]` and `Y[j] = X[i]` where
    /// `i[perm[k]] = j[k]`. `perm = None` reverses the axes.
    /// Inputs `(X)`, output `(Y)`.
    Transpose {
        /// A permutation of `0..rank`.
        perm: Option<Vec<usize>>,
    },
    /// Convert every element to `to` (round to nearest even for floats; to
    /// bool: `x != 0`; float to i64 truncates toward zero, NaN/inf to i64 are
    /// undefined in ONNX and give 0 / saturate here). From a block-quantized
    /// dtype it dequantizes ([`crate::quant`]) and rounds to `to`; `to` is
    /// never quantized. Inputs `(X)`, output `(Y)`.
    Cast {
        /// Target dtype.
        to: DType,
    },

    // ---- indexing and KV caches (Gather, GatherElements, TensorScatter) ----
    /// Rows of `data` picked by `indices` along `axis`, as ONNX `Gather`
    /// (opset 13): with `data` `[P.., s, Q..]` (`s` at `axis`) and `indices`
    /// of any shape `I`, `output` is `[P.., I.., Q..]` and
    /// `output[p, i, q] = data[p, indices[i], q]`. An index `k` in `[-s, s)`
    /// picks row `k` (negative counts from the end, `k + s`).
    ///
    /// Indices are data, not checked at validation (ONNX calls an index
    /// outside `[-s, s)` an error): such an index gives a row of NaN for
    /// floating data (as RotaryEmbedding's position ids do), of `false` / 0
    /// for bool and i64 data, and of blocks with NaN scales (values NaN) for
    /// block-quantized data; [`crate::out_of_range_fill`] gives those bytes.
    ///
    /// `data` may be a block-quantized table ([`DType::QUANTIZED`], an LLM's
    /// token embeddings) when `axis` is not its last dim: blocks run along the
    /// last dim, so whole blocks move and `output` keeps the quantized dtype
    /// (a following [`Op::Cast`] dequantizes). Inputs `(data, indices: i64)`,
    /// output `(output)`.
    ///
    /// ```
    /// use hcal_core::{infer_outputs, DType, Op, TensorDesc};
    /// let table = TensorDesc::new([49152, 576], DType::Q8_0);
    /// let ids = TensorDesc::new([1, 7], DType::I64);
    /// let rows = infer_outputs(&Op::Gather { axis: 0 }, &[Some(&table), Some(&ids)]).unwrap();
    /// assert_eq!(rows[0], TensorDesc::new([1, 7, 576], DType::Q8_0));
    /// ```
    Gather {
        /// The indexed axis (negative counts from the end).
        axis: i64,
    },
    /// One element of `data` per element of `indices`, as ONNX
    /// `GatherElements` (opset 13): `indices` has `data`'s rank, each of its
    /// dims no larger than `data`'s except at `axis`, and `output` (shaped like
    /// `indices`) is `output[i] = data[i with i[axis] replaced by
    /// indices[i]]`. Indices in `[-s, s)` (`s = data.shape[axis]`) as for
    /// [`Op::Gather`], and one outside gives the same fill (NaN, `false`, 0).
    /// Element dtypes only. Inputs `(data, indices: i64)`, output `(output)`.
    GatherElements {
        /// The indexed axis (negative counts from the end).
        axis: i64,
    },
    /// Write `update` into a fixed-size cache at given positions, as ONNX
    /// `TensorScatter` (opset 24), the in-place KV-cache update of a decode
    /// step. `past_cache` is `[B, D1.., M, ..Dn]` with the sequence dim `M`
    /// at `axis` (not 0, the batch dim), `update` the same with `S <= M` at
    /// `axis`, and optional `write_indices: i64 [B]` (zeros when absent).
    /// `present_cache` is `past_cache` with, for every prefix `p` (the dims
    /// before `axis`, batch `b = p[0]`) and `s < S`:
    ///
    /// ```text
    /// present[p, w_b + s, ..] = update[p, s, ..]        (linear)
    /// present[p, (w_b + s) mod M, ..] = update[p, s, ..] (circular; mod is Euclidean)
    /// ```
    ///
    /// ONNX requires `w_b + S <= M` in linear mode; the indices are data, so
    /// here a linear write to a position outside `[0, M)` is dropped (that
    /// row of `update` is not written anywhere).
    ///
    /// `present_cache` may be the `past_cache` tensor itself
    /// ([`Op::output_may_alias`]): the update then happens in place and
    /// nothing proportional to `M` is copied. Element dtypes only.
    /// Inputs `(past_cache, update, write_indices?)`, output `(present_cache)`.
    TensorScatter {
        /// The sequence dim (negative counts from the end; ONNX's default is -2).
        axis: i64,
        /// Linear or circular (wrap-around) writes.
        mode: ScatterMode,
    },
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

/// Which formula [`Op::Gelu`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GeluApproximation {
    /// `0.5 x (1 + erf(x / sqrt 2))`.
    None,
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    Tanh,
}

/// One-input elementwise functions (floating dtypes).
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
}

impl UnaryOp {
    /// Every unary op.
    pub const ALL: [UnaryOp; 8] = [
        UnaryOp::Relu,
        UnaryOp::Sigmoid,
        UnaryOp::Silu,
        UnaryOp::Exp,
        UnaryOp::Tanh,
        UnaryOp::Neg,
        UnaryOp::Sqrt,
        UnaryOp::Reciprocal,
    ];

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
        }
    }
}

/// Two-input elementwise functions with numpy broadcasting (floating dtypes).
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
}

impl BinaryOp {
    /// Every binary op.
    pub const ALL: [BinaryOp; 6] =
        [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Max, BinaryOp::Min];

    /// ONNX-style name.
    pub const fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "Add",
            BinaryOp::Sub => "Sub",
            BinaryOp::Mul => "Mul",
            BinaryOp::Div => "Div",
            BinaryOp::Max => "Max",
            BinaryOp::Min => "Min",
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
    /// `max x` (NaN if any is NaN).
    Max,
}

impl ReduceOp {
    /// Every reduction.
    pub const ALL: [ReduceOp; 3] = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max];

    /// ONNX name (`ReduceSum`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "ReduceSum",
            ReduceOp::Mean => "ReduceMean",
            ReduceOp::Max => "ReduceMax",
        }
    }
}

impl Op {
    /// The ONNX operator name (`"MatMul"`, `"ReduceSum"`, `"Relu"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Op::MatMul => "MatMul",
            Op::Gemm(_) => "Gemm",
            Op::Softmax { .. } => "Softmax",
            Op::LayerNormalization { .. } => "LayerNormalization",
            Op::RmsNormalization { .. } => "RMSNormalization",
            Op::Attention(_) => "Attention",
            Op::RotaryEmbedding(_) => "RotaryEmbedding",
            Op::Gelu { .. } => "Gelu",
            Op::Unary(u) => u.name(),
            Op::Binary(b) => b.name(),
            Op::Reduce { op, .. } => op.name(),
            Op::Transpose { .. } => "Transpose",
            Op::Cast { .. } => "Cast",
            Op::Gather { .. } => "Gather",
            Op::GatherElements { .. } => "GatherElements",
            Op::TensorScatter { .. } => "TensorScatter",
        }
    }

    /// Every operator name of the standard, for filters and coverage tables.
    pub fn all_names() -> Vec<&'static str> {
        let mut names = vec![
            "MatMul",
            "Gemm",
            "Softmax",
            "LayerNormalization",
            "RMSNormalization",
            "Attention",
            "RotaryEmbedding",
            "Gelu",
        ];
        names.extend(UnaryOp::ALL.iter().map(|u| u.name()));
        names.extend(BinaryOp::ALL.iter().map(|b| b.name()));
        names.extend(ReduceOp::ALL.iter().map(|r| r.name()));
        names.extend(["Transpose", "Cast"]);
        // Indexing and KV caches.
        names.extend(["Gather", "GatherElements", "TensorScatter"]);
        names
    }

    /// `(min, max)` number of input slots, optional trailing ones included.
    pub fn input_arity(&self) -> (usize, usize) {
        match self {
            Op::MatMul | Op::Binary(_) => (2, 2),
            Op::Gemm(_) => (2, 3),
            Op::LayerNormalization { .. } => (2, 3),
            Op::RmsNormalization { .. } => (2, 2),
            Op::Attention(_) => (3, 7),
            Op::RotaryEmbedding(_) => (3, 4),
            Op::Softmax { .. }
            | Op::Gelu { .. }
            | Op::Unary(_)
            | Op::Reduce { .. }
            | Op::Transpose { .. }
            | Op::Cast { .. } => (1, 1),
            Op::Gather { .. } | Op::GatherElements { .. } => (2, 2),
            Op::TensorScatter { .. } => (2, 3),
        }
    }

    /// Number of output slots (optional ones included).
    pub fn output_arity(&self) -> usize {
        match self {
            Op::Attention(_) => 3,
            _ => 1,
        }
    }

    /// Whether output slot `index` may be left out (`None`).
    pub fn output_is_optional(&self, index: usize) -> bool {
        matches!(self, Op::Attention(_)) && index > 0
    }

    /// The input slot that output slot `output` may be the very same tensor
    /// as, for ops defined to update in place; `None` for every other
    /// output. Only [`Op::TensorScatter`] declares one: its `present_cache`
    /// (output 0) may be its `past_cache` (input 0), so a decode step writes
    /// its new keys into the cache without copying the cache.
    /// [`crate::Call`] accepts exactly these aliases and rejects all others.
    ///
    /// ```
    /// use hcal_core::{Op, ScatterMode};
    /// assert_eq!(Op::TensorScatter { axis: -2, mode: ScatterMode::Linear }.output_may_alias(0), Some(0));
    /// assert_eq!(Op::MatMul.output_may_alias(0), None);
    /// ```
    pub fn output_may_alias(&self, output: usize) -> Option<usize> {
        match (self, output) {
            (Op::TensorScatter { .. }, 0) => Some(0),
            _ => None,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::MatMul | Op::Unary(_) | Op::Binary(_) => f.write_str(self.name()),
            Op::Gemm(g) => write!(
                f,
                "Gemm(alpha={}, beta={}, transA={}, transB={})",
                g.alpha, g.beta, g.trans_a as u8, g.trans_b as u8
            ),
            Op::Softmax { axis } => write!(f, "Softmax(axis={axis})"),
            Op::LayerNormalization { axis, epsilon } => {
                write!(f, "LayerNormalization(axis={axis}, epsilon={epsilon:e})")
            }
            Op::RmsNormalization { axis, epsilon } => {
                write!(f, "RMSNormalization(axis={axis}, epsilon={epsilon:e})")
            }
            Op::Attention(a) => {
                write!(f, "Attention(causal={}", a.is_causal as u8)?;
                if let Some(h) = a.q_num_heads {
                    write!(f, ", q_heads={h}")?;
                }
                if let Some(h) = a.kv_num_heads {
                    write!(f, ", kv_heads={h}")?;
                }
                if let Some(s) = a.scale {
                    write!(f, ", scale={s}")?;
                }
                if a.softcap != 0.0 {
                    write!(f, ", softcap={}", a.softcap)?;
                }
                f.write_str(")")
            }
            Op::RotaryEmbedding(r) => write!(
                f,
                "RotaryEmbedding(interleaved={}, dim={}{})",
                r.interleaved as u8,
                r.rotary_embedding_dim,
                r.num_heads.map(|h| format!(", heads={h}")).unwrap_or_default()
            ),
            Op::Gelu { approximate } => write!(f, "Gelu({approximate:?})"),
            Op::Reduce { op, axes, keepdims } => {
                write!(f, "{}(axes={axes:?}, keepdims={})", op.name(), *keepdims as u8)
            }
            Op::Transpose { perm } => write!(f, "Transpose(perm={perm:?})"),
            Op::Cast { to } => write!(f, "Cast(to={to})"),
            Op::Gather { axis } => write!(f, "Gather(axis={axis})"),
            Op::GatherElements { axis } => write!(f, "GatherElements(axis={axis})"),
            Op::TensorScatter { axis, mode } => write!(f, "TensorScatter(axis={axis}, mode={})", mode.name()),
        }
    }
}
