//! Typed op helpers: infer the output, allocate it, run.
//!
//! Each helper builds one [`Op`] value and runs it on the device of its first
//! input, so it means exactly what that op's documentation in `hcal-core` says
//! (ONNX semantics: opset 23, 24 for Attention and TensorScatter; the three
//! fused ops, [`split_rotary_scatter`], [`gated_unary`] and
//! [`rms_norm_gemm`], are defined as the ONNX ops they stand for). hcal-core validates each call once
//! ([`OpSignature::new`]): the output descriptors to allocate and the geometry
//! the backend runs with both come from that one validation; shape and dtype
//! errors name the op and the dims.
//!
//! ```
//! use hcal::{ops, UnaryOp};
//! let dev = hcal::Device::open("cpu")?;
//! let x = dev.tensor_f32(&[2, 3], &[1., 2., 3., -1., 0., 1.])?;
//! let h = ops::unary(&x, UnaryOp::Relu)?;
//! let p = ops::softmax(&h, -1)?;
//! let s = ops::reduce(&p, hcal::ReduceOp::Sum, Some(&[-1]), false)?;
//! assert!(s.to_f32()?.iter().all(|&v| (v - 1.0).abs() < 1e-6));
//! # Ok::<(), hcal::Error>(())
//! ```
//!
//! # Errors
//! Every helper returns the validation errors of `hcal-core` (shape, dtype,
//! attribute), [`Error::InvalidTensor`] when its inputs live on different
//! devices, [`Error::Unsupported`] when the backend declines the signature,
//! and backend errors (out of memory, device lost).

use hcal_core::{
    Attention, BinaryOp, DType, Error, GeluApproximation, Gemm, Op, OpSignature, ReduceOp, Result, RmsNormGemm,
    RotaryEmbedding, UnaryOp,
};

use crate::DeviceTensor;

// Concat, Slice, Split, Expand, Range, Trilu; Reshape/Squeeze/Unsqueeze/Flatten as views (issue 18).
mod movement;
pub use movement::{concat, expand, flatten, range, reshape, slice, split, squeeze, trilu, unsqueeze};
// Gather, GatherElements, TensorScatter, SplitRotaryScatter, Attention over a static cache.
mod indexing;
pub use indexing::{
    attention_static_cache, gather, gather_elements, split_rotary_scatter, tensor_scatter, tensor_scatter_in_place,
};
// ArgMax, ArgMin, LogSoftmax, CumSum.
mod along_axis;
pub use along_axis::{argmax, argmin, cumsum, log_softmax};

/// Run `op` on `inputs` (positional as ONNX lists them, `None` for an absent
/// optional input) and return its first output, leaving optional outputs out.
///
/// Use it for ops without a helper of their own.
///
/// ```
/// use hcal::{ops, Op};
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 2], &[1., 2., 3., 4.])?;
/// let y = ops::apply(&Op::Transpose { perm: Some(vec![1, 0]) }, &[Some(&x)])?;
/// assert_eq!(y.to_f32()?, [1., 3., 2., 4.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn apply(op: &Op, inputs: &[Option<&DeviceTensor>]) -> Result<DeviceTensor> {
    let mut outputs = run(op, inputs, 1)?;
    Ok(outputs.remove(0))
}

/// Run `op` on `inputs` and return every output slot of the op, optional ones
/// included (Attention's `present_key` and `present_value`).
///
/// ```
/// use hcal::{ops, Attention, Op};
/// let dev = hcal::Device::open("cpu")?;
/// let q = dev.tensor_f32(&[1, 1, 1, 2], &[1., 0.])?;
/// let k = dev.tensor_f32(&[1, 1, 1, 2], &[0., 1.])?;
/// let v = dev.tensor_f32(&[1, 1, 1, 2], &[5., 6.])?;
/// let past_k = dev.tensor_f32(&[1, 1, 1, 2], &[1., 0.])?;
/// let past_v = dev.tensor_f32(&[1, 1, 1, 2], &[1., 2.])?;
/// let op = Op::Attention(Attention::default());
/// let out = ops::apply_all(&op, &[Some(&q), Some(&k), Some(&v), None, Some(&past_k), Some(&past_v)])?;
/// assert_eq!(out.len(), 3);
/// assert_eq!(out[1].shape(), &[1, 1, 2, 2]); // present_key = past_key ++ K
/// assert_eq!(out[1].to_f32()?, [1., 0., 0., 1.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn apply_all(op: &Op, inputs: &[Option<&DeviceTensor>]) -> Result<Vec<DeviceTensor>> {
    run(op, inputs, op.output_arity())
}

/// Validate once, allocate the first `wanted` outputs, run.
fn run(op: &Op, inputs: &[Option<&DeviceTensor>], wanted: usize) -> Result<Vec<DeviceTensor>> {
    let descs = inputs.iter().map(|t| t.map(|t| t.desc().clone())).collect();
    let signature = OpSignature::new(op.clone(), descs)?;
    let device = inputs
        .iter()
        .flatten()
        .map(|t| t.device())
        .next()
        .ok_or_else(|| Error::Arity { op: op.name(), detail: "needs at least one input tensor".to_string() })?;
    let outputs = signature.outputs().iter().take(wanted).map(|d| device.alloc(d)).collect::<Result<Vec<_>>>()?;
    let slots: Vec<_> = outputs.iter().map(Some).collect();
    device.run_signature(signature, inputs, &slots)?;
    Ok(outputs)
}

/// `Y = A @ B` with numpy semantics ([`Op::MatMul`]):
/// `Y[.., m, n] = sum_k A[.., m, k] * B[.., k, n]`; batch dims broadcast, a
/// rank-1 `A` is a row and a rank-1 `B` a column.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let a = dev.tensor_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])?;
/// let b = dev.tensor_f32(&[3], &[1., 0., -1.])?;
/// let y = hcal::ops::matmul(&a, &b)?; // [2, 3] @ [3] -> [2]
/// assert_eq!(y.to_f32()?, [-2., -2.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn matmul(a: &DeviceTensor, b: &DeviceTensor) -> Result<DeviceTensor> {
    apply(&Op::MatMul, &[Some(a), Some(b)])
}

/// `Y = alpha * op(A) @ op(B) + beta * C` ([`Op::Gemm`]), `op(X) = X^T` when
/// the attribute's flag is set; `A` and `B` rank 2, optional `C` broadcast to `[M, N]`.
///
/// ```
/// use hcal::Gemm;
/// let dev = hcal::Device::open("cpu")?;
/// let a = dev.tensor_f32(&[2, 2], &[1., 2., 3., 4.])?;
/// let c = dev.tensor_f32(&[2], &[10., 20.])?; // a row, broadcast over M
/// let attrs = Gemm { alpha: 2.0, beta: 1.0, trans_a: true, trans_b: false };
/// let y = hcal::ops::gemm(&a, &a, Some(&c), attrs)?; // 2 * A^T A + C
/// assert_eq!(y.to_f32()?, [30., 48., 38., 60.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn gemm(a: &DeviceTensor, b: &DeviceTensor, c: Option<&DeviceTensor>, attrs: Gemm) -> Result<DeviceTensor> {
    apply(&Op::Gemm(attrs), &[Some(a), Some(b), c])
}

/// `Y_i = exp(X_i - max X) / sum_j exp(X_j - max X)` along `axis` ([`Op::Softmax`];
/// a negative axis counts from the end).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2], &[0., 2f32.ln()])?;
/// let y = hcal::ops::softmax(&x, -1)?.to_f32()?;
/// assert!((y[0] - 1. / 3.).abs() < 1e-6 && (y[1] - 2. / 3.).abs() < 1e-6);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn softmax(x: &DeviceTensor, axis: i64) -> Result<DeviceTensor> {
    apply(&Op::Softmax { axis }, &[Some(x)])
}

/// Layer normalization over the dims `[axis, rank)` ([`Op::LayerNormalization`]):
/// `mu = sum x / n`, `var = sum (x - mu)^2 / n`,
/// `Y = (X - mu) / sqrt(var + epsilon) * scale + bias`.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[1, 2], &[1., 3.])?;
/// let scale = dev.tensor_f32(&[2], &[1., 1.])?;
/// let bias = dev.tensor_f32(&[2], &[0., 10.])?;
/// let y = hcal::ops::layer_norm(&x, &scale, Some(&bias), -1, 0.0)?;
/// assert_eq!(y.to_f32()?, [-1., 11.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn layer_norm(
    x: &DeviceTensor,
    scale: &DeviceTensor,
    bias: Option<&DeviceTensor>,
    axis: i64,
    epsilon: f32,
) -> Result<DeviceTensor> {
    apply(&Op::LayerNormalization { axis, epsilon }, &[Some(x), Some(scale), bias])
}

/// RMS normalization over the dims `[axis, rank)` ([`Op::RmsNormalization`]):
/// `Y = X / sqrt(sum x^2 / n + epsilon) * scale`.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2], &[3., 4.])?; // mean square 12.5
/// let scale = dev.tensor_f32(&[2], &[1., 2.])?;
/// let y = hcal::ops::rms_norm(&x, &scale, -1, 0.0)?.to_f32()?;
/// let r = 12.5f32.sqrt();
/// assert!((y[0] - 3. / r).abs() < 1e-6 && (y[1] - 8. / r).abs() < 1e-6);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn rms_norm(x: &DeviceTensor, scale: &DeviceTensor, axis: i64, epsilon: f32) -> Result<DeviceTensor> {
    apply(&Op::RmsNormalization { axis, epsilon }, &[Some(x), Some(scale)])
}

/// RMS-normalized rows times a matrix ([`Op::RmsNormGemm`]): exactly
/// [`rms_norm`] of `A [M, K]` over its last axis (rounded to A's dtype), then
/// [`gemm`] with that as A: `Y = alpha RMSNorm(A) @ op(B) + beta C`. A
/// Llama layer's pre-norm projection in one op; B may be block-quantized.
///
/// ```
/// use hcal::RmsNormGemm;
/// let dev = hcal::Device::open("cpu")?;
/// let a = dev.tensor_f32(&[1, 2], &[3., 4.])?; // mean square 12.5
/// let scale = dev.tensor_f32(&[2], &[1., 2.])?;
/// let b = dev.tensor_f32(&[1, 2], &[1., 1.])?; // [N, K]: the sum of the row
/// let attrs = RmsNormGemm { epsilon: 0.0, alpha: 1.0, beta: 0.0, trans_b: true };
/// let y = hcal::ops::rms_norm_gemm(&a, &scale, &b, None, attrs)?.to_f32()?;
/// assert!((y[0] - 11. / 12.5f32.sqrt()).abs() < 1e-6); // (3 + 8) / r
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn rms_norm_gemm(
    a: &DeviceTensor,
    scale: &DeviceTensor,
    b: &DeviceTensor,
    c: Option<&DeviceTensor>,
    attrs: RmsNormGemm,
) -> Result<DeviceTensor> {
    apply(&Op::RmsNormGemm(attrs), &[Some(a), Some(scale), Some(b), c])
}

/// Scaled dot-product attention ([`Op::Attention`], ONNX opset 24): for each
/// query row `i`, `s_j = scale * <q_i, k_j>` (softcap and causal mask as
/// `attrs` say), `p = softmax(s)`, `y_i = sum_j p_j v_j`. Inputs are
/// `[B, H, S, D]`, or `[B, S, H*D]` with `q_num_heads`/`kv_num_heads` set;
/// grouped-query attention when K/V have fewer heads than Q.
///
/// ```
/// use hcal::Attention;
/// let dev = hcal::Device::open("cpu")?;
/// let q = dev.tensor_f32(&[1, 1, 2, 1], &[1., 1.])?;
/// let k = dev.tensor_f32(&[1, 1, 2, 1], &[0., 0.])?; // equal scores
/// let v = dev.tensor_f32(&[1, 1, 2, 1], &[2., 4.])?;
/// let y = hcal::ops::attention(&q, &k, &v, Attention { is_causal: true, ..Default::default() })?;
/// assert_eq!(y.to_f32()?, [2., 3.]); // row 0 sees key 0 only; row 1 averages both
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn attention(q: &DeviceTensor, k: &DeviceTensor, v: &DeviceTensor, attrs: Attention) -> Result<DeviceTensor> {
    apply(&Op::Attention(attrs), &[Some(q), Some(k), Some(v)])
}

/// [`attention`] with an attention mask: a float mask is added to the scores,
/// a bool mask sets the scores where it is `false` to `-inf`; it broadcasts
/// over batch and heads (`[Sq, T]`, `[B|1, H|1, Sq, T]`).
///
/// ```
/// use hcal::{Attention, DType, TensorDesc};
/// let dev = hcal::Device::open("cpu")?;
/// let q = dev.tensor_f32(&[1, 1, 1, 1], &[1.])?;
/// let k = dev.tensor_f32(&[1, 1, 2, 1], &[0., 0.])?;
/// let v = dev.tensor_f32(&[1, 1, 2, 1], &[2., 4.])?;
/// let mask = dev.tensor_from_bytes(TensorDesc::new([1, 2], DType::Bool), &[0, 1])?;
/// let y = hcal::ops::attention_masked(&q, &k, &v, &mask, Attention::default())?;
/// assert_eq!(y.to_f32()?, [4.]); // key 0 masked out
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn attention_masked(
    q: &DeviceTensor,
    k: &DeviceTensor,
    v: &DeviceTensor,
    mask: &DeviceTensor,
    attrs: Attention,
) -> Result<DeviceTensor> {
    apply(&Op::Attention(attrs), &[Some(q), Some(k), Some(v), Some(mask)])
}

/// What [`attention_with_cache`] returns: the attention output and the KV
/// cache grown by this call's keys and values.
#[derive(Debug)]
pub struct AttentionWithCache {
    /// `Y`, in the layout of `Q` (`[B, Hq, Sq, Dv]`, or `[B, Sq, Hq*Dv]` for 3-D inputs).
    pub y: DeviceTensor,
    /// `past_key ++ K` along the sequence: `[B, Hkv, P + S, D]` (always 4-D).
    pub present_key: DeviceTensor,
    /// `past_value ++ V`: `[B, Hkv, P + S, Dv]`.
    pub present_value: DeviceTensor,
}

/// Attention with a KV cache ([`Op::Attention`] with `past_key`/`past_value`
/// in, `present_key`/`present_value` out): the new keys and values are
/// appended to `past` (none on the first call, the prefill) and every query
/// attends to all `P + S` of them; with `is_causal` the mask is aligned
/// bottom-right, so query `i` sees keys `0..=P + i`. Pass the returned
/// `present_*` as the next call's `past`.
///
/// ```
/// use hcal::{ops, Attention};
/// let dev = hcal::Device::open("cpu")?;
/// let attrs = Attention { is_causal: true, q_num_heads: Some(2), kv_num_heads: Some(1), ..Default::default() };
/// // Prefill two tokens: Q [B=1, S=2, Hq*D=2*2], K and V [1, 2, Hkv*D=1*2].
/// let q = dev.tensor_f32(&[1, 2, 4], &[1., 0., 0., 1., 1., 0., 0., 1.])?;
/// let k = dev.tensor_f32(&[1, 2, 2], &[1., 0., 0., 1.])?;
/// let v = dev.tensor_f32(&[1, 2, 2], &[1., 2., 3., 4.])?;
/// let step = ops::attention_with_cache(&q, &k, &v, None, None, attrs)?;
/// assert_eq!(step.present_key.shape(), &[1, 1, 2, 2]); // [B, Hkv, T, D]
/// // Decode one token against the cache.
/// let q1 = dev.tensor_f32(&[1, 1, 4], &[0.; 4])?;
/// let k1 = dev.tensor_f32(&[1, 1, 2], &[0.; 2])?;
/// let v1 = dev.tensor_f32(&[1, 1, 2], &[5., 6.])?;
/// let past = (&step.present_key, &step.present_value);
/// let next = ops::attention_with_cache(&q1, &k1, &v1, None, Some(past), attrs)?;
/// assert_eq!(next.present_value.to_f32()?, [1., 2., 3., 4., 5., 6.]);
/// assert_eq!(next.y.to_f32()?, [3., 4., 3., 4.]); // zero query: the mean of the 3 values, per head
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn attention_with_cache(
    q: &DeviceTensor,
    k: &DeviceTensor,
    v: &DeviceTensor,
    mask: Option<&DeviceTensor>,
    past: Option<(&DeviceTensor, &DeviceTensor)>,
    attrs: Attention,
) -> Result<AttentionWithCache> {
    let (past_key, past_value) = past.unzip();
    let op = Op::Attention(attrs);
    let mut out = apply_all(&op, &[Some(q), Some(k), Some(v), mask, past_key, past_value])?.into_iter();
    match (out.next(), out.next(), out.next()) {
        (Some(y), Some(present_key), Some(present_value)) => Ok(AttentionWithCache { y, present_key, present_value }),
        _ => unreachable!("Attention has three output slots"),
    }
}

/// Rotary position embedding ([`Op::RotaryEmbedding`]): pairs `(x1, x2)` of
/// each head's first `R` features become `(cos x1 - sin x2, sin x1 + cos x2)`
/// with the caches at the token's position (`position_ids[b, s]` when given).
///
/// ```
/// use hcal::RotaryEmbedding;
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[1, 1, 1, 2], &[1., 0.])?; // [B, H, S, D]
/// let cos = dev.tensor_f32(&[1, 1, 1], &[0.])?;       // [B, S, R/2]: a quarter turn
/// let sin = dev.tensor_f32(&[1, 1, 1], &[1.])?;
/// let y = hcal::ops::rotary_embedding(&x, &cos, &sin, None, RotaryEmbedding::default())?;
/// assert_eq!(y.to_f32()?, [0., 1.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn rotary_embedding(
    x: &DeviceTensor,
    cos_cache: &DeviceTensor,
    sin_cache: &DeviceTensor,
    position_ids: Option<&DeviceTensor>,
    attrs: RotaryEmbedding,
) -> Result<DeviceTensor> {
    apply(&Op::RotaryEmbedding(attrs), &[Some(x), Some(cos_cache), Some(sin_cache), position_ids])
}

/// `Y = 0.5 x (1 + erf(x / sqrt 2))`, or with [`GeluApproximation::Tanh`]
/// `Y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` ([`Op::Gelu`]).
///
/// ```
/// use hcal::GeluApproximation;
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[3], &[-10., 0., 10.])?;
/// let y = hcal::ops::gelu(&x, GeluApproximation::None)?.to_f32()?;
/// assert!(y[0].abs() < 1e-6 && y[1] == 0.0 && y[2] == 10.0); // x * Phi(x): ~0 far left, ~x far right
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn gelu(x: &DeviceTensor, approximate: GeluApproximation) -> Result<DeviceTensor> {
    apply(&Op::Gelu { approximate }, &[Some(x)])
}

/// `Y = f(X)` elementwise for a [`UnaryOp`] `f` (relu, sigmoid, silu, exp, tanh,
/// neg, sqrt, reciprocal, abs, erf, floor, ceil, round half to even; not on bool).
///
/// ```
/// use hcal::UnaryOp;
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2], &[4., 0.25])?;
/// assert_eq!(hcal::ops::unary(&x, UnaryOp::Sqrt)?.to_f32()?, [2., 0.5]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn unary(x: &DeviceTensor, op: UnaryOp) -> Result<DeviceTensor> {
    apply(&Op::Unary(op), &[Some(x)])
}

/// A gated linear unit ([`Op::GatedUnary`]): with X's last dim the two
/// halves `[a | b]` of `N` each, `Y = f(a) * b`, shape `[.., N]`. SwiGLU is
/// `f = Silu` on the stacked gate and up projections.
///
/// ```
/// use hcal::UnaryOp;
/// let dev = hcal::Device::open("cpu")?;
/// // Two rows of [a0, a1 | b0, b1]: relu(a) * b.
/// let x = dev.tensor_f32(&[2, 4], &[1., -1., 3., 5., 2., 0.5, -1., 4.])?;
/// assert_eq!(hcal::ops::gated_unary(&x, UnaryOp::Relu)?.to_f32()?, [3., 0., -2., 2.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn gated_unary(x: &DeviceTensor, activation: UnaryOp) -> Result<DeviceTensor> {
    apply(&Op::GatedUnary { activation }, &[Some(x)])
}

/// `C = f(A, B)` elementwise for a [`BinaryOp`] `f`, with numpy broadcasting
/// (`C.shape = broadcast(A.shape, B.shape)`): arithmetic, max/min and pow keep
/// A's dtype, the comparisons (equal, less, greater, less-or-equal,
/// greater-or-equal) output bool, and and/or take bool.
///
/// ```
/// use hcal::BinaryOp;
/// let dev = hcal::Device::open("cpu")?;
/// let a = dev.tensor_f32(&[2, 1], &[1., 2.])?;
/// let b = dev.tensor_f32(&[3], &[10., 20., 30.])?;
/// let c = hcal::ops::binary(&a, &b, BinaryOp::Add)?; // [2, 1] + [3] -> [2, 3]
/// assert_eq!(c.to_f32()?, [11., 21., 31., 12., 22., 32.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn binary(a: &DeviceTensor, b: &DeviceTensor, op: BinaryOp) -> Result<DeviceTensor> {
    apply(&Op::Binary(op), &[Some(a), Some(b)])
}

/// `Y = x` where `x >= 0`, else `alpha x` ([`Op::LeakyRelu`]; ONNX's default alpha is 0.01).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[3], &[-2., 0., 3.])?;
/// assert_eq!(hcal::ops::leaky_relu(&x, 0.5)?.to_f32()?, [-1., 0., 3.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self); `alpha` must be finite.
pub fn leaky_relu(x: &DeviceTensor, alpha: f32) -> Result<DeviceTensor> {
    apply(&Op::LeakyRelu { alpha }, &[Some(x)])
}

/// `Y = max(0, min(1, alpha x + beta))` ([`Op::HardSigmoid`]; ONNX's defaults
/// are alpha 0.2, beta 0.5).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[3], &[-5., 0., 5.])?;
/// assert_eq!(hcal::ops::hard_sigmoid(&x, 0.2, 0.5)?.to_f32()?, [0., 0.5, 1.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self); `alpha` and `beta` must be finite.
pub fn hard_sigmoid(x: &DeviceTensor, alpha: f32, beta: f32) -> Result<DeviceTensor> {
    apply(&Op::HardSigmoid { alpha, beta }, &[Some(x)])
}

/// `Y = min(max(x, min), max)` ([`Op::Clip`]); an absent bound does not
/// bound. The bounds are rank-0 tensors of X's dtype; when `min > max` every
/// element is `max`, as ONNX specifies.
///
/// ```
/// use hcal::{DType, TensorDesc};
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[4], &[-3., -0.5, 0.5, 3.])?;
/// let hi = dev.tensor_from_f32(TensorDesc::new([], DType::F32), &[1.])?;
/// assert_eq!(hcal::ops::clip(&x, None, Some(&hi))?.to_f32()?, [-3., -0.5, 0.5, 1.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn clip(x: &DeviceTensor, min: Option<&DeviceTensor>, max: Option<&DeviceTensor>) -> Result<DeviceTensor> {
    apply(&Op::Clip, &[Some(x), min, max])
}

/// `Y = condition ? x : y` elementwise with numpy broadcasting of all three
/// (ONNX `Where`, [`Op::Where`]); `condition` is bool, `x` and `y` share a dtype.
///
/// ```
/// use hcal::{DType, TensorDesc};
/// let dev = hcal::Device::open("cpu")?;
/// let keep = dev.tensor_from_f32(TensorDesc::new([1, 3], DType::Bool), &[1., 0., 1.])?;
/// let x = dev.tensor_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])?;
/// let masked = dev.tensor_f32(&[], &[f32::NEG_INFINITY])?;
/// let y = hcal::ops::select(&keep, &x, &masked)?;
/// assert_eq!(y.to_f32()?, [1., f32::NEG_INFINITY, 3., 4., f32::NEG_INFINITY, 6.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
#[doc(alias = "where")]
pub fn select(condition: &DeviceTensor, x: &DeviceTensor, y: &DeviceTensor) -> Result<DeviceTensor> {
    apply(&Op::Where, &[Some(condition), Some(x), Some(y)])
}

/// Reduce over `axes` (all axes when `None`; negative axes count from the end)
/// with sum, mean or max ([`Op::Reduce`]); reduced dims stay as 1 when `keepdims`.
///
/// ```
/// use hcal::ReduceOp;
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])?;
/// let y = hcal::ops::reduce(&x, ReduceOp::Mean, Some(&[0]), true)?;
/// assert_eq!((y.shape(), y.to_f32()?), (&[1usize, 3][..], vec![2.5, 3.5, 4.5]));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn reduce(x: &DeviceTensor, op: ReduceOp, axes: Option<&[i64]>, keepdims: bool) -> Result<DeviceTensor> {
    apply(&Op::Reduce { op, axes: axes.map(<[i64]>::to_vec), keepdims }, &[Some(x)])
}

/// Permute axes ([`Op::Transpose`]): `Y.shape[k] = X.shape[perm[k]]`;
/// `perm = None` reverses the axes.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[1, 2, 3], &[0., 1., 2., 3., 4., 5.])?;
/// let y = hcal::ops::transpose(&x, Some(&[2, 0, 1]))?;
/// assert_eq!((y.shape(), y.to_f32()?), (&[3usize, 1, 2][..], vec![0., 3., 1., 4., 2., 5.]));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn transpose(x: &DeviceTensor, perm: Option<&[usize]>) -> Result<DeviceTensor> {
    apply(&Op::Transpose { perm: perm.map(<[usize]>::to_vec) }, &[Some(x)])
}

/// Convert every element to `to` ([`Op::Cast`]): floats round to nearest even,
/// to bool is `x != 0`, float to i64 truncates toward zero.
///
/// ```
/// use hcal::DType;
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[3], &[1.0, 1.0 + 1.0 / 1024.0, -2.7])?;
/// assert_eq!(hcal::ops::cast(&x, DType::BF16)?.to_f32()?, [1.0, 1.0, -2.703125]);
/// assert_eq!(hcal::ops::cast(&x, DType::I64)?.to_f32()?, [1.0, 1.0, -2.0]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](self).
pub fn cast(x: &DeviceTensor, to: DType) -> Result<DeviceTensor> {
    apply(&Op::Cast { to }, &[Some(x)])
}
