//! Data-movement helpers (issue 18): Concat, Slice, Split, Expand, Range,
//! Trilu, and Reshape with the Squeeze, Unsqueeze and Flatten shapes, which
//! are zero-copy views here (no kernel runs; the standard's
//! [`Op::Reshape`] copies, for backends and graphs that need a new tensor).

use hcal_core::{DType, Op, OpSignature, Result, SplitParts, flatten_shape, squeeze_shape, unsqueeze_shape};

use super::{apply, run};
use crate::{Device, DeviceTensor};

/// Join tensors along `axis` ([`Op::Concat`]): equal dims except along
/// `axis`, whose extents add up.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let a = dev.tensor_f32(&[2, 1], &[1., 2.])?;
/// let b = dev.tensor_f32(&[2, 2], &[3., 4., 5., 6.])?;
/// let y = hcal::ops::concat(&[&a, &b], -1)?;
/// assert_eq!((y.shape(), y.to_f32()?), (&[2usize, 3][..], vec![1., 3., 4., 2., 5., 6.]));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn concat(xs: &[&DeviceTensor], axis: i64) -> Result<DeviceTensor> {
    let inputs: Vec<Option<&DeviceTensor>> = xs.iter().copied().map(Some).collect();
    apply(&Op::Concat { axis }, &inputs)
}

/// ONNX Slice ([`Op::Slice`]): along each listed axis (default `0..starts.len()`),
/// `start, start + step, ..` up to `end` (exclusive), bounds clamped, negative
/// values counting from the end; `steps` default 1 and may be negative.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[5], &[0., 1., 2., 3., 4.])?;
/// let y = hcal::ops::slice(&x, &[-1], &[i64::MIN], None, Some(&[-2]))?; // x[::-2]
/// assert_eq!(y.to_f32()?, [4., 2., 0.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn slice(
    x: &DeviceTensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<DeviceTensor> {
    let op = Op::Slice {
        starts: starts.to_vec(),
        ends: ends.to_vec(),
        axes: axes.map(<[i64]>::to_vec),
        steps: steps.map(<[i64]>::to_vec),
    };
    apply(&op, &[Some(x)])
}

/// Cut `x` along `axis` into parts ([`Op::Split`]), one tensor each.
///
/// ```
/// use hcal::SplitParts;
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[5], &[0., 1., 2., 3., 4.])?;
/// let parts = hcal::ops::split(&x, 0, SplitParts::Equal(2))?; // ceil(5 / 2) = 3, then 2
/// assert_eq!((parts[0].to_f32()?, parts[1].to_f32()?), (vec![0., 1., 2.], vec![3., 4.]));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn split(x: &DeviceTensor, axis: i64, parts: SplitParts) -> Result<Vec<DeviceTensor>> {
    let op = Op::Split { axis, parts };
    run(&op, &[Some(x)], op.output_arity())
}

/// Broadcast `x` against `shape` ([`Op::Expand`], numpy rules both ways).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 1], &[1., 2.])?;
/// let y = hcal::ops::expand(&x, &[1, 3])?;
/// assert_eq!((y.shape(), y.to_f32()?), (&[2usize, 3][..], vec![1., 1., 1., 2., 2., 2.]));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn expand(x: &DeviceTensor, shape: &[usize]) -> Result<DeviceTensor> {
    apply(&Op::Expand { shape: shape.to_vec() }, &[Some(x)])
}

/// Keep the upper (`upper`) or lower triangle of the last two dims, from
/// diagonal `k` on, zeroing the rest ([`Op::Trilu`]).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 2], &[1., 2., 3., 4.])?;
/// assert_eq!(hcal::ops::trilu(&x, false, 0)?.to_f32()?, [1., 0., 3., 4.]); // a causal mask's shape
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn trilu(x: &DeviceTensor, upper: bool, k: i64) -> Result<DeviceTensor> {
    apply(&Op::Trilu { upper, k }, &[Some(x)])
}

/// `[start, start + delta, ..)` up to `limit` (exclusive) on `device`
/// ([`Op::Range`]), computed in f64 and rounded once to `dtype`.
///
/// ```
/// use hcal::DType;
/// let dev = hcal::Device::open("cpu")?;
/// assert_eq!(hcal::ops::range(&dev, 10., 4., -3., DType::I64)?.to_f32()?, [10., 7.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn range(device: &Device, start: f64, limit: f64, delta: f64, dtype: DType) -> Result<DeviceTensor> {
    let signature = OpSignature::new(Op::Range { start, limit, delta, dtype }, Vec::new())?;
    let y = device.alloc(&signature.outputs()[0])?;
    device.run_signature(signature, &[], &[Some(&y)])?;
    Ok(y)
}

/// `x` under `shape` ([`Op::Reshape`]'s rules: one entry may be `-1`) as a
/// zero-copy view of the same memory (see [`DeviceTensor::reshape`]).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.])?;
/// let y = hcal::ops::reshape(&x, &[-1, 2])?;
/// assert_eq!(y.shape(), &[3, 2]);
/// assert!(y.shares_storage(&x));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// hcal-core's Reshape validation (element counts that cannot agree).
pub fn reshape(x: &DeviceTensor, shape: &[i64]) -> Result<DeviceTensor> {
    let signature = OpSignature::new(Op::Reshape { shape: shape.to_vec() }, vec![Some(x.desc().clone())])?;
    x.reshape(&signature.outputs()[0].shape)
}

/// ONNX Squeeze as a view: the listed extent-1 axes removed (all of them when `None`).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[1, 3, 1], &[1., 2., 3.])?;
/// assert_eq!(hcal::ops::squeeze(&x, Some(&[0]))?.shape(), &[3, 1]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// An axis out of range, repeated, or of extent other than 1.
pub fn squeeze(x: &DeviceTensor, axes: Option<&[i64]>) -> Result<DeviceTensor> {
    x.reshape(&squeeze_shape(x.shape(), axes)?)
}

/// ONNX Unsqueeze as a view: extent-1 axes inserted at `axes` of the result.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[3], &[1., 2., 3.])?;
/// assert_eq!(hcal::ops::unsqueeze(&x, &[0, -1])?.shape(), &[1, 3, 1]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// An axis out of range or repeated.
pub fn unsqueeze(x: &DeviceTensor, axes: &[i64]) -> Result<DeviceTensor> {
    x.reshape(&unsqueeze_shape(x.shape(), axes)?)
}

/// ONNX Flatten as a view: `[prod(dims before axis), prod(dims from axis)]`.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 3, 2], &[0.; 12])?;
/// assert_eq!(hcal::ops::flatten(&x, -1)?.shape(), &[6, 2]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// An axis outside `-rank..=rank`.
pub fn flatten(x: &DeviceTensor, axis: i64) -> Result<DeviceTensor> {
    x.reshape(&flatten_shape(x.shape(), axis)?)
}
