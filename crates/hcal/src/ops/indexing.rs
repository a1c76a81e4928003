//! Indexing and key/value caches: Gather, GatherElements, TensorScatter
//! (copying and in place), SplitRotaryScatter and Attention over a static cache.

use hcal_core::{Attention, Op, OpSignature, Result, ScatterMode, SplitRotaryScatter};

use super::apply;
use crate::DeviceTensor;

/// Rows of `data` along `axis` picked by i64 `indices` ([`Op::Gather`]):
/// `output[p, i, q] = data[p, indices[i], q]`, negative indices counting from
/// the end; an index outside the axis gives a NaN row (zeros for bool and
/// i64). A block-quantized table (token embeddings) gathers whole rows of
/// blocks, keeping its dtype: [`cast`](super::cast) the rows to dequantize them.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let table = dev.tensor_f32(&[3, 2], &[0., 1., 10., 11., 20., 21.])?;
/// let ids = dev.tensor_i64(&[2], &[2, -3])?;
/// let rows = hcal::ops::gather(&table, &ids, 0)?;
/// assert_eq!((rows.shape(), rows.to_f32()?), (&[2usize, 2][..], vec![20., 21., 0., 1.]));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn gather(data: &DeviceTensor, indices: &DeviceTensor, axis: i64) -> Result<DeviceTensor> {
    apply(&Op::Gather { axis }, &[Some(data), Some(indices)])
}

/// One element of `data` per element of i64 `indices` (same rank) along
/// `axis` ([`Op::GatherElements`]): `output[i] = data[i with i[axis] =
/// indices[i]]`, shaped like `indices`.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 2], &[1., 2., 3., 4.])?;
/// let ids = dev.tensor_i64(&[2, 2], &[0, 0, 1, 0])?;
/// assert_eq!(hcal::ops::gather_elements(&x, &ids, 1)?.to_f32()?, [1., 1., 4., 3.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn gather_elements(data: &DeviceTensor, indices: &DeviceTensor, axis: i64) -> Result<DeviceTensor> {
    apply(&Op::GatherElements { axis }, &[Some(data), Some(indices)])
}

/// A new cache: `cache` with `update` written at `write_indices` (i64 `[B]`,
/// zeros when `None`) along the sequence `axis` ([`Op::TensorScatter`]).
/// This copies the cache; [`tensor_scatter_in_place`] does not.
///
/// ```
/// use hcal::ScatterMode;
/// let dev = hcal::Device::open("cpu")?;
/// let cache = dev.tensor_f32(&[1, 4, 1], &[0., 0., 0., 0.])?;
/// let update = dev.tensor_f32(&[1, 2, 1], &[7., 8.])?;
/// let at = dev.tensor_i64(&[1], &[3])?;
/// let y = hcal::ops::tensor_scatter(&cache, &update, Some(&at), 1, ScatterMode::Circular)?;
/// assert_eq!(y.to_f32()?, [8., 0., 0., 7.]); // positions 3 and (3 + 1) mod 4
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn tensor_scatter(
    cache: &DeviceTensor,
    update: &DeviceTensor,
    write_indices: Option<&DeviceTensor>,
    axis: i64,
    mode: ScatterMode,
) -> Result<DeviceTensor> {
    apply(&Op::TensorScatter { axis, mode }, &[Some(cache), Some(update), write_indices])
}

/// Write `update` into `cache` itself at `write_indices` ([`Op::TensorScatter`]
/// with its present cache being its past cache, an alias the standard
/// allows): a decode step appends its keys without copying the cache.
///
/// ```
/// use hcal::ScatterMode;
/// let dev = hcal::Device::open("cpu")?;
/// let cache = dev.tensor_f32(&[1, 4, 2], &[0.; 8])?;
/// let k = dev.tensor_f32(&[1, 1, 2], &[5., 6.])?;
/// let at = dev.tensor_i64(&[1], &[2])?;
/// hcal::ops::tensor_scatter_in_place(&cache, &k, Some(&at), 1, ScatterMode::Linear)?;
/// assert_eq!(cache.to_f32()?, [0., 0., 0., 0., 5., 6., 0., 0.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn tensor_scatter_in_place(
    cache: &DeviceTensor,
    update: &DeviceTensor,
    write_indices: Option<&DeviceTensor>,
    axis: i64,
    mode: ScatterMode,
) -> Result<()> {
    cache.device().run(&Op::TensorScatter { axis, mode }, &[Some(cache), Some(update), write_indices], &[Some(cache)])
}

/// [`attention`](super::attention) over a static cache: `k` and `v` hold `T` positions of which
/// the first `nonpad_kv_seqlen[b]` (i64 `[B]`) are valid in batch `b`; later
/// keys are masked and the causal frontier is `j <= i + n_b - Sq` (ONNX
/// opset 24's `nonpad_kv_seqlen`, see [`Attention`]).
///
/// ```
/// use hcal::Attention;
/// let dev = hcal::Device::open("cpu")?;
/// let q = dev.tensor_f32(&[1, 1, 1, 1], &[1.])?;
/// let k = dev.tensor_f32(&[1, 1, 4, 1], &[0.; 4])?; // equal scores
/// let v = dev.tensor_f32(&[1, 1, 4, 1], &[2., 4., 100., 100.])?;
/// let valid = dev.tensor_i64(&[1], &[2])?;
/// let y = hcal::ops::attention_static_cache(&q, &k, &v, &valid, Attention { is_causal: true, ..Default::default() })?;
/// assert_eq!(y.to_f32()?, [3.]); // only the 2 valid keys
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn attention_static_cache(
    q: &DeviceTensor,
    k: &DeviceTensor,
    v: &DeviceTensor,
    nonpad_kv_seqlen: &DeviceTensor,
    attrs: Attention,
) -> Result<DeviceTensor> {
    apply(&Op::Attention(attrs), &[Some(q), Some(k), Some(v), None, None, None, Some(nonpad_kv_seqlen)])
}

/// A decoder step's query, key and value heads from its packed projection
/// ([`Op::SplitRotaryScatter`]): splits `qkv [B, S, (Hq + 2 Hkv) D]`, rotates
/// the query and key heads at positions `write_indices[b] + s` with the
/// `[P, R/2]` cos/sin tables (as RotaryEmbedding with position ids), writes
/// the keys and values into `k_cache` and `v_cache` (`[B, Hkv, M, D]`) in
/// place at those positions (as TensorScatter), and returns the rotated
/// queries `[B, Hq, S, D]`: one op where Split, two RotaryEmbeddings and two
/// TensorScatters would be five, ready for
/// [`attention_static_cache`] with `nonpad_kv_seqlen = write_indices + S`.
///
/// ```
/// use hcal::SplitRotaryScatter;
/// let dev = hcal::Device::open("cpu")?;
/// // One query head and one key/value head of 2 features: q (1, 0), k (3, 4), v (5, 6).
/// let qkv = dev.tensor_f32(&[1, 1, 6], &[1., 0., 3., 4., 5., 6.])?;
/// let (k_cache, v_cache) = (dev.tensor_f32(&[1, 1, 2, 2], &[0.; 4])?, dev.tensor_f32(&[1, 1, 2, 2], &[0.; 4])?);
/// // Position 1 turns by 90 degrees: (x1, x2) -> (-x2, x1).
/// let (cos, sin) = (dev.tensor_f32(&[2, 1], &[1., 0.])?, dev.tensor_f32(&[2, 1], &[0., 1.])?);
/// let at = dev.tensor_i64(&[1], &[1])?;
/// let attrs = SplitRotaryScatter { q_num_heads: 1, kv_num_heads: 1, interleaved: true, rotary_embedding_dim: 0 };
/// let q = hcal::ops::split_rotary_scatter(&qkv, &k_cache, &v_cache, &at, &cos, &sin, attrs)?;
/// assert_eq!(q.to_f32()?, [0., 1.]);
/// assert_eq!(k_cache.to_f32()?, [0., 0., -4., 3.]);
/// assert_eq!(v_cache.to_f32()?, [0., 0., 5., 6.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn split_rotary_scatter(
    qkv: &DeviceTensor,
    k_cache: &DeviceTensor,
    v_cache: &DeviceTensor,
    write_indices: &DeviceTensor,
    cos: &DeviceTensor,
    sin: &DeviceTensor,
    attrs: SplitRotaryScatter,
) -> Result<DeviceTensor> {
    let inputs = [qkv, k_cache, v_cache, write_indices, cos, sin];
    let signature =
        OpSignature::new(Op::SplitRotaryScatter(attrs), inputs.iter().map(|t| Some(t.desc().clone())).collect())?;
    let q = qkv.device().alloc(&signature.outputs()[0])?;
    let inputs = inputs.map(Some);
    qkv.device().run_signature(signature, &inputs, &[Some(&q), Some(k_cache), Some(v_cache)])?;
    Ok(q)
}
