//! Ops along one axis: ArgMax, ArgMin, LogSoftmax, CumSum.

use hcal_core::{Op, Result};

use super::apply;
use crate::DeviceTensor;

/// The i64 index of the largest element along `axis` ([`Op::ArgMax`]): ties
/// go to the first index, or the last with `select_last_index`; NaN counts
/// as the largest (numpy's rule). The axis is removed unless `keepdims`.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2, 3], &[1., 5., 5., f32::NAN, 0., 9.])?;
/// let first = hcal::ops::argmax(&x, -1, false, false)?;
/// assert_eq!((first.dtype(), first.to_f32()?), (hcal::DType::I64, vec![1., 0.]));
/// assert_eq!(hcal::ops::argmax(&x, 1, true, true)?.to_f32()?, [2., 0.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super); an empty axis has no index and is rejected.
pub fn argmax(x: &DeviceTensor, axis: i64, keepdims: bool, select_last_index: bool) -> Result<DeviceTensor> {
    apply(&Op::ArgMax { axis, keepdims, select_last_index }, &[Some(x)])
}

/// The i64 index of the smallest element along `axis` ([`Op::ArgMin`]), with
/// the rules of [`argmax`] (NaN still wins).
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[4], &[2., -1., 3., -1.])?;
/// assert_eq!(hcal::ops::argmin(&x, 0, false, false)?.to_f32()?, [1.]);
/// assert_eq!(hcal::ops::argmin(&x, 0, false, true)?.to_f32()?, [3.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super); an empty axis has no index and is rejected.
pub fn argmin(x: &DeviceTensor, axis: i64, keepdims: bool, select_last_index: bool) -> Result<DeviceTensor> {
    apply(&Op::ArgMin { axis, keepdims, select_last_index }, &[Some(x)])
}

/// `Y_i = X_i - max X - log(sum_j exp(X_j - max X))` along `axis`
/// ([`Op::LogSoftmax`]): the log of [`softmax`](super::softmax) without forming the
/// probabilities, so tiny ones stay finite.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[2], &[0., 200.])?;
/// assert_eq!(hcal::ops::log_softmax(&x, -1)?.to_f32()?, [-200., 0.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn log_softmax(x: &DeviceTensor, axis: i64) -> Result<DeviceTensor> {
    apply(&Op::LogSoftmax { axis }, &[Some(x)])
}

/// Running sums along `axis` ([`Op::CumSum`]): `Y_i = sum_{j <= i} X_j`,
/// leaving out `X_i` when `exclusive` and summing from the end when `reverse`.
///
/// ```
/// let dev = hcal::Device::open("cpu")?;
/// let x = dev.tensor_f32(&[4], &[1., 2., 3., 4.])?;
/// assert_eq!(hcal::ops::cumsum(&x, 0, false, false)?.to_f32()?, [1., 3., 6., 10.]);
/// assert_eq!(hcal::ops::cumsum(&x, -1, true, true)?.to_f32()?, [9., 7., 4., 0.]);
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// See the [module documentation](super).
pub fn cumsum(x: &DeviceTensor, axis: i64, exclusive: bool, reverse: bool) -> Result<DeviceTensor> {
    apply(&Op::CumSum { axis, exclusive, reverse }, &[Some(x)])
}
