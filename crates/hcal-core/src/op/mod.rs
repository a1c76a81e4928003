//! Operators as data.
//!
//! One variant per operator of the standard, with ONNX semantics where ONNX
//! defines the op (opset 23; Attention and TensorScatter opset 24, Gather and
//! GatherElements opset 13). Because an op is a plain value, the same value is
//! a conformance case, a benchmark row, a log line and a capability query.
//!
//! Inputs and outputs are positional, exactly as ONNX lists them; optional ones
//! are `None` in the input/output slices (see [`crate::Call`]).
//!
//! # Fused ops
//!
//! Three ops are hcal's own ([`Op::SplitRotaryScatter`], [`Op::GatedUnary`],
//! [`Op::RmsNormGemm`]): the launches a decoder step would spend on several
//! ONNX ops, as one. They keep the standard's one meaning by three rules:
//! - **Defined as a composition** of ONNX ops of the standard, including
//!   where an intermediate is rounded to a storage dtype; their validation is
//!   their steps' (errors name the fused op and the step), and the reference
//!   backend runs the steps, so it gives the composition's bits.
//! - **Declinable**: a backend may answer `Unsupported` for any shape, and a
//!   caller then runs the steps (hcal-llm does, per call); plugin ABI 1.2 has
//!   no code for them, so plugins always decline.
//! - **Bounded**: a device may compute them differently (wgpu's normalizing
//!   GEMV takes `1/rms` out of the sum) but is held to a conformance bound
//!   derived from the steps' own, never a looser one.

use serde::{Deserialize, Serialize};

use crate::DType;

mod attrs;
mod display;
pub use attrs::*;

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
    /// RMS-normalized rows times a matrix (not an ONNX op): exactly
    /// [`Op::RmsNormalization`] of `A [M, K]` over its last axis with `Scale`
    /// (its result rounded to A's dtype, as that op's output is), then
    /// [`Op::Gemm`] with that as A (`transA` false):
    ///
    /// `Y = alpha * (A_i / sqrt(mean_k(A_ik^2) + epsilon) * Scale) @ op(B) + beta * C`
    ///
    /// The pre-norm projection of a Llama-style layer in one op (the norm
    /// before the attention's Q/K/V product and before the feed-forward's
    /// gate/up product), so a decode step's GEMV can normalize the row it
    /// reads instead of a separate dispatch writing it. B may be
    /// block-quantized, as Gemm's. Inputs `(A, Scale, B, C?)`, output `(Y)`.
    RmsNormGemm(RmsNormGemm),
    /// A gated linear unit (not an ONNX op): `X`'s last dim holds two halves
    /// of `N`, and `Y[.., j] = f(X[.., j]) * X[.., N + j]` with `f` the
    /// `activation` (a float [`UnaryOp`]): exactly Split into halves,
    /// [`Op::Unary`] on the first (its result rounded to X's dtype, as that
    /// op's output is) and [`BinaryOp::Mul`]. SwiGLU
    /// (Llama's feed-forward) is `activation: Silu` on the stacked gate and up
    /// projections; GLU with the gate first is `Sigmoid`, ReGLU `Relu`. One op
    /// where those are three; with the projections stacked, one product
    /// where there were two. Inputs `(X)` with an even last dim, output `(Y)`
    /// with it halved.
    GatedUnary {
        /// The function of the first half.
        activation: UnaryOp,
    },
    /// A two-input elementwise function with numpy broadcasting. Inputs `(A, B)`,
    /// output `(C)`: A's dtype, or bool for the comparisons.
    Binary(BinaryOp),

    // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
    /// `Y = x` where `x >= 0`, else `alpha x` (NaN stays NaN). Inputs `(X)`, output `(Y)`.
    LeakyRelu {
        /// Slope for negative inputs (ONNX default 0.01); must be finite.
        alpha: f32,
    },
    /// `Y = max(0, min(1, alpha x + beta))` (NaN stays NaN). Inputs `(X)`, output `(Y)`.
    HardSigmoid {
        /// Slope (ONNX default 0.2); must be finite.
        alpha: f32,
        /// Offset (ONNX default 0.5); must be finite.
        beta: f32,
    },
    /// `Y = min(max(x, lo), hi)` with `lo = min` (default -inf) and `hi = max`
    /// (default +inf), both rank-0 tensors of X's dtype (ONNX opset 13). When
    /// `lo > hi` every element is `hi`, as ONNX specifies; a NaN in X or in a
    /// bound gives NaN. Inputs `(X, min?, max?)`, output `(Y)`.
    Clip,
    /// `Y = X` where `condition`, else `Y`, with numpy broadcasting of all three
    /// inputs. `condition` is bool; X and Y share any element dtype, which Y
    /// keeps. Inputs `(condition, X, Y)`, output `(output)`.
    Where,

    // ---- reductions and data movement ---------------------------------------
    /// Reduce over `axes` (all axes when `None`; `Some(vec![])` reduces no
    /// axis and copies X, ONNX's `noop_with_empty_axes`); reduced dims are
    /// kept as 1 when `keepdims`. Reducing an empty set gives the identity:
    /// 0 for sum and L2, 1 for prod, -inf for max, +inf for min, and NaN for
    /// the mean of nothing (ONNX opset 18). Inputs `(X)`, output `(Y)`.
    Reduce {
        /// Sum, mean, max, min, prod or L2 norm.
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

    // ---- along one axis: ArgMax, ArgMin, LogSoftmax, CumSum (ONNX opset 18) ----
    /// The index of the largest element along `axis`, as i64:
    /// `Y[o, i] = argmax_j X[o, j, i]`. Ties give the first index, or the last
    /// with `select_last_index`. NaN counts as larger than every number (as in
    /// numpy): the first (or last) NaN wins. The axis must not be empty (the
    /// index of nothing is undefined). X is floating; `Y` is `I64`, with the
    /// axis kept as 1 when `keepdims`, else removed. Inputs `(X)`, output `(Y)`.
    ArgMax {
        /// The reduced axis (negative counts from the end).
        axis: i64,
        /// Keep the axis with extent 1.
        keepdims: bool,
        /// On ties, the last index instead of the first.
        select_last_index: bool,
    },
    /// The index of the smallest element along `axis`, as [`Op::ArgMax`] with
    /// the order reversed; NaN still wins (as in numpy's `argmin`).
    /// Inputs `(X)`, output `(Y)`.
    ArgMin {
        /// The reduced axis (negative counts from the end).
        axis: i64,
        /// Keep the axis with extent 1.
        keepdims: bool,
        /// On ties, the last index instead of the first.
        select_last_index: bool,
    },
    /// `Y_i = X_i - max X - log(sum_j exp(X_j - max X))` along `axis`, the
    /// logarithm of [`Op::Softmax`] computed without forming the quotient (so
    /// no probability underflows to `log 0`). A row whose max is -inf gives NaN,
    /// as Softmax does. Inputs `(X)`, output `(Y)`.
    LogSoftmax {
        /// The reduced axis (negative counts from the end).
        axis: i64,
    },
    /// Running sum along `axis`: `Y_i = sum_{j <= i} X_j`; `exclusive` leaves
    /// out `X_i` (`j < i`, so `Y_0 = 0`), `reverse` sums from the end
    /// (`j >= i`, or `j > i` when also exclusive). ONNX passes `axis` as a
    /// scalar input tensor; hcal takes it as an attribute (it shapes the call).
    /// Inputs `(X)`, output `(Y)` of X's desc.
    CumSum {
        /// The summed axis (negative counts from the end).
        axis: i64,
        /// Leave out the element itself.
        exclusive: bool,
        /// Sum from the end of the axis.
        reverse: bool,
    },
    // ---- data movement: shapes, views, copies (issue 18) -------------------
    // Every op here moves or selects whole elements, so results are exact
    // (bit for bit) in every dtype; none of them accepts block-quantized data.
    /// Join the inputs along `axis`: all inputs have one rank and equal dims
    /// except along `axis`; `Y.shape[axis] = sum_i X_i.shape[axis]` and
    /// `Y[.., o_i + j, ..] = X_i[.., j, ..]` with `o_i` the extents of the
    /// inputs before `i`. Inputs `(X_0, .., X_{n-1})`, n >= 1, one dtype; output `(Y)`.
    Concat {
        /// The joined axis (negative counts from the end).
        axis: i64,
    },
    /// ONNX `Slice` (opset 13) with its `starts`/`ends`/`axes`/`steps` as
    /// attributes (constant in exported graphs). For each listed axis `a`
    /// with extent `d`: negative `start`/`end` get `d` added, then with
    /// `step > 0` both clamp to `[0, d]`, with `step < 0` `start` clamps to
    /// `[0, d-1]` and `end` to `[-1, d-1]`; `Y.shape[a] = max(0, ceil((end - start) / step))`
    /// and `Y[.., j, ..] = X[.., start + j * step, ..]`. Unlisted axes are kept whole.
    /// Inputs `(X)`, output `(Y)`.
    Slice {
        /// First index per listed axis.
        starts: Vec<i64>,
        /// One past the last index per listed axis (exclusive; clamped).
        ends: Vec<i64>,
        /// The axes `starts` refer to (default `0..starts.len()`), distinct,
        /// negative counting from the end.
        axes: Option<Vec<i64>>,
        /// Step per listed axis (default 1), non-zero; negative walks backwards.
        steps: Option<Vec<i64>>,
    },
    /// Cut `X` along `axis` into consecutive parts, one output each:
    /// output `i` is `X[.., o_i .. o_i + s_i, ..]` with `s_i` the part sizes
    /// of [`SplitParts`] and `o_i = s_0 + .. + s_{i-1}`.
    /// Inputs `(X)`, outputs `(Y_0, .., Y_{n-1})`.
    Split {
        /// The cut axis (negative counts from the end).
        axis: i64,
        /// How many parts and how large.
        parts: SplitParts,
    },
    /// Broadcast `X` against `shape` (numpy rules, both ways: ONNX `Expand`):
    /// `Y.shape = broadcast(X.shape, shape)`, `Y[j] = X[j']` where `j'` takes
    /// index 0 on X's extent-1 dims and drops the leading dims X lacks.
    /// Inputs `(X)`, output `(Y)`.
    Expand {
        /// The shape to broadcast to.
        shape: Vec<usize>,
    },
    /// The same elements in the same row-major order under a new shape:
    /// `Y`'s bytes are `X`'s bytes. One entry of `shape` may be `-1`
    /// (inferred so the element counts agree); every other entry is the
    /// extent itself (`0` is a zero extent, as ONNX `allowzero=1`). ONNX
    /// `Reshape`, `Squeeze`, `Unsqueeze` and `Flatten` are all this op: see
    /// [`crate::squeeze_shape`], [`crate::unsqueeze_shape`] and
    /// [`crate::flatten_shape`]. Inputs `(X)`, output `(Y)`.
    Reshape {
        /// The new shape (at most one `-1`).
        shape: Vec<i64>,
    },
    /// `Y[i] = start + i * delta` for `i` in `0..max(0, ceil((limit - start) / delta))`,
    /// computed in f64 and rounded once to `dtype` (ONNX `Range` with its
    /// scalar inputs as attributes, since they fix the output's length).
    /// For `i64` every value must be an integer of magnitude <= 2^53 (exact
    /// in f64). No inputs; output `(Y)`, 1-D.
    Range {
        /// First value.
        start: f64,
        /// Exclusive bound.
        limit: f64,
        /// Step, non-zero and finite.
        delta: f64,
        /// Output dtype (float or i64).
        dtype: DType,
    },
    /// Keep the upper (or lower) triangle of the last two dims, zero the
    /// rest (ONNX `Trilu`): for `X[.., r, c]`, keep when `c - r >= k` if
    /// `upper`, when `c - r <= k` otherwise; `Y` has X's desc.
    /// Inputs `(X)` of rank >= 2, output `(Y)`.
    Trilu {
        /// Upper (`triu`) or lower (`tril`) triangle.
        upper: bool,
        /// Diagonal offset: 0 the main diagonal, positive above it.
        k: i64,
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
    /// A decoder layer's step from its packed Q/K/V projection to the
    /// attention's operands: Split, RotaryEmbedding, Transpose and
    /// TensorScatter as one op (not an ONNX op; it is what ONNX Runtime's
    /// `GroupQueryAttention` does before its attention, and what a decode
    /// step would otherwise spend several launches on). With
    /// `qkv [B, S, (Hq + 2 Hkv) D]`, caches `[B, Hkv, M, D]`, `write_indices`
    /// i64 `[B]` and cos/sin tables `[P, R/2]`, it is exactly
    ///
    /// ```text
    /// q, k, v   = Split(qkv, axis -1, [Hq D, Hkv D, Hkv D])
    /// positions = w_b + s  for s < S                    (i64 [B, S])
    /// q, k      = RotaryEmbedding(q | k, cos, sin, positions, num_heads Hq | Hkv, interleaved, R)
    /// q_out     = Transpose(q as [B, S, Hq, D], [0, 2, 1, 3])           -> [B, Hq, S, D]
    /// present_key   = TensorScatter(k_cache, Transpose(k as [B, S, Hkv, D], [0, 2, 1, 3]), w, axis 2, linear)
    /// present_value = TensorScatter(v_cache, Transpose(v as [B, S, Hkv, D], [0, 2, 1, 3]), w, axis 2, linear)
    /// ```
    ///
    /// so its results are those ops' results, element for element: a
    /// position outside the tables makes that token's rotated features NaN,
    /// and a write outside `[0, M)` is dropped. `present_key` and
    /// `present_value` may be the caches themselves ([`Op::output_may_alias`]),
    /// written in place; then `Attention` over them with `nonpad_kv_seqlen =
    /// w + S` is the step's attention. Inputs `(qkv, k_cache, v_cache,
    /// write_indices, cos_cache, sin_cache)`, outputs `(q_out, present_key, present_value)`.
    SplitRotaryScatter(SplitRotaryScatter),
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
            Op::GatedUnary { .. } => "GatedUnary",
            Op::RmsNormGemm(_) => "RMSNormGemm",
            Op::Binary(b) => b.name(),
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::HardSigmoid { .. } => "HardSigmoid",
            Op::Clip => "Clip",
            Op::Where => "Where",
            Op::Reduce { op, .. } => op.name(),
            Op::Transpose { .. } => "Transpose",
            Op::Cast { .. } => "Cast",
            // along one axis
            Op::ArgMax { .. } => "ArgMax",
            Op::ArgMin { .. } => "ArgMin",
            Op::LogSoftmax { .. } => "LogSoftmax",
            Op::CumSum { .. } => "CumSum",
            // data movement
            Op::Concat { .. } => "Concat",
            Op::Slice { .. } => "Slice",
            Op::Split { .. } => "Split",
            Op::Expand { .. } => "Expand",
            Op::Reshape { .. } => "Reshape",
            Op::Range { .. } => "Range",
            Op::Trilu { .. } => "Trilu",
            Op::Gather { .. } => "Gather",
            Op::GatherElements { .. } => "GatherElements",
            Op::TensorScatter { .. } => "TensorScatter",
            Op::SplitRotaryScatter(_) => "SplitRotaryScatter",
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
            "RMSNormGemm",
            "Attention",
            "RotaryEmbedding",
            "Gelu",
        ];
        names.extend(UnaryOp::ALL.iter().map(|u| u.name()));
        names.push("GatedUnary");
        names.extend(BinaryOp::ALL.iter().map(|b| b.name()));
        names.extend(["LeakyRelu", "HardSigmoid", "Clip", "Where"]);
        names.extend(ReduceOp::ALL.iter().map(|r| r.name()));
        names.extend(["Transpose", "Cast"]);
        // along one axis
        names.extend(["ArgMax", "ArgMin", "LogSoftmax", "CumSum"]);
        // data movement
        names.extend(["Concat", "Slice", "Split", "Expand", "Reshape", "Range", "Trilu"]);
        // Indexing and KV caches.
        names.extend(["Gather", "GatherElements", "TensorScatter", "SplitRotaryScatter"]);
        names
    }

    /// `(min, max)` number of input slots, optional trailing ones included.
    pub fn input_arity(&self) -> (usize, usize) {
        match self {
            Op::MatMul | Op::Binary(_) => (2, 2),
            Op::Gemm(_) => (2, 3),
            Op::LayerNormalization { .. } => (2, 3),
            Op::RmsNormalization { .. } => (2, 2),
            Op::RmsNormGemm(_) => (3, 4),
            Op::Attention(_) => (3, 7),
            Op::RotaryEmbedding(_) => (3, 4),
            Op::Clip => (1, 3),
            Op::Where => (3, 3),
            Op::Softmax { .. }
            | Op::Gelu { .. }
            | Op::Unary(_)
            | Op::GatedUnary { .. }
            | Op::LeakyRelu { .. }
            | Op::HardSigmoid { .. }
            | Op::Reduce { .. }
            | Op::Transpose { .. }
            | Op::Cast { .. } => (1, 1),
            // along one axis
            Op::ArgMax { .. } | Op::ArgMin { .. } | Op::LogSoftmax { .. } | Op::CumSum { .. } => (1, 1),
            // data movement
            Op::Concat { .. } => (1, usize::MAX),
            Op::Slice { .. } | Op::Split { .. } | Op::Expand { .. } | Op::Reshape { .. } | Op::Trilu { .. } => (1, 1),
            Op::Range { .. } => (0, 0),
            Op::Gather { .. } | Op::GatherElements { .. } => (2, 2),
            Op::TensorScatter { .. } => (2, 3),
            Op::SplitRotaryScatter(_) => (6, 6),
        }
    }

    /// Number of output slots (optional ones included).
    pub fn output_arity(&self) -> usize {
        match self {
            Op::Attention(_) | Op::SplitRotaryScatter(_) => 3,
            Op::Split { parts, .. } => parts.count(),
            _ => 1,
        }
    }

    /// Whether output slot `index` may be left out (`None`).
    pub fn output_is_optional(&self, index: usize) -> bool {
        matches!(self, Op::Attention(_)) && index > 0
    }

    /// Whether every output element is an input element moved or selected
    /// (Transpose, data movement, indexing) or rounded once by a rule the
    /// standard fixes (Cast: round to nearest even; Range: one rounding of an
    /// f64 value): results are then exact, bit for bit, on every backend, and
    /// conformance compares them exactly.
    ///
    /// ```
    /// use hcal_core::Op;
    /// assert!(Op::Concat { axis: 0 }.is_exact());
    /// assert!(!Op::MatMul.is_exact());
    /// ```
    pub fn is_exact(&self) -> bool {
        matches!(
            self,
            Op::Transpose { .. }
                | Op::Cast { .. }
                | Op::Concat { .. }
                | Op::Slice { .. }
                | Op::Split { .. }
                | Op::Expand { .. }
                | Op::Reshape { .. }
                | Op::Range { .. }
                | Op::Trilu { .. }
                | Op::Gather { .. }
                | Op::GatherElements { .. }
                | Op::TensorScatter { .. }
        )
    }

    /// The input slot that output slot `output` may be the very same tensor
    /// as, for ops defined to update in place; `None` for every other
    /// output. [`Op::TensorScatter`]'s `present_cache` (output 0) may be its
    /// `past_cache` (input 0), so a decode step writes its new keys into the
    /// cache without copying the cache; [`Op::SplitRotaryScatter`]'s
    /// `present_key` and `present_value` (outputs 1, 2) may be its caches
    /// (inputs 1, 2).
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
            (Op::SplitRotaryScatter(_), 1 | 2) => Some(output),
            _ => None,
        }
    }
}
