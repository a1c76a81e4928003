//! Tensor descriptors and handles.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DType, Error, Result};

/// Shape and dtype of a contiguous row-major tensor.
///
/// The element at multi-index `(i_0, .., i_{r-1})` lives at linear offset
/// `sum_k i_k * stride_k` with `stride_{r-1} = 1` and `stride_k = stride_{k+1} * shape_{k+1}`.
/// A rank-0 tensor (empty shape) is a scalar with one element; any zero dim makes it empty.
///
/// ```
/// use hcal_core::{DType, TensorDesc};
/// let d = TensorDesc::new([2, 3, 4], DType::F16);
/// assert_eq!(d.numel(), 24);
/// assert_eq!(d.byte_len().unwrap(), 48);
/// assert_eq!(d.strides(), vec![12, 4, 1]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TensorDesc {
    /// Extent of each dimension, outermost first.
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: DType,
}

impl TensorDesc {
    /// A descriptor for `shape` of `dtype`.
    pub fn new(shape: impl Into<Vec<usize>>, dtype: DType) -> Self {
        Self { shape: shape.into(), dtype }
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements (the product of the dims; saturates at `usize::MAX`,
    /// which [`TensorDesc::byte_len`] then reports as an error; validation
    /// accepts only tensors whose byte length is a size).
    pub fn numel(&self) -> usize {
        self.shape.iter().fold(1usize, |acc, &d| acc.saturating_mul(d))
    }

    /// Bytes of contiguous storage.
    ///
    /// A tensor is addressable when its element size times the product of its
    /// extents, zero dims counted as 1, fits in `usize`: then every stride,
    /// offset and partial product of its dims fits too, whatever the order of
    /// the dims. An empty tensor with a huge dim (`[0, usize::MAX]`) is not.
    ///
    /// ```
    /// use hcal_core::{DType, TensorDesc};
    /// assert_eq!(TensorDesc::new([0, 1 << 20], DType::F32).byte_len().unwrap(), 0);
    /// assert!(TensorDesc::new([0, usize::MAX], DType::F32).byte_len().is_err());
    /// assert!(TensorDesc::new([usize::MAX, 0], DType::F32).byte_len().is_err());
    /// ```
    ///
    /// A block-quantized tensor ([`DType::is_quantized`]) holds whole blocks
    /// along its last dim: that dim must be a multiple of [`DType::block_len`].
    ///
    /// ```
    /// use hcal_core::{DType, TensorDesc};
    /// assert_eq!(TensorDesc::new([3, 64], DType::Q4_1).byte_len().unwrap(), 3 * 2 * 20);
    /// assert!(TensorDesc::new([3, 33], DType::Q4_1).byte_len().is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::TooLarge`] when the tensor is not addressable; [`Error::Shape`]
    /// for a quantized tensor of rank 0 or whose last dim is not a whole
    /// number of blocks.
    pub fn byte_len(&self) -> Result<usize> {
        let too_large = || Error::TooLarge { desc: self.to_string() };
        let block = self.dtype.block_len();
        if block > 1 {
            let last = self.shape.last().copied();
            if last.is_none_or(|d| d % block != 0) {
                return Err(Error::Shape {
                    op: "tensor",
                    detail: format!(
                        "{self}: a {} tensor stores its last dim in blocks of {block} values, so it must be a multiple of {block}",
                        self.dtype
                    ),
                });
            }
        }
        let size = self.dtype.size_bytes();
        // Per block: the last dim counts blocks, so the product stays exact.
        let mut dims = self.shape.clone();
        if let Some(last) = dims.last_mut() {
            *last /= block;
        }
        dims.iter().try_fold(size, |acc, &d| acc.checked_mul(d.max(1))).ok_or_else(too_large)?;
        Ok(if self.shape.contains(&0) { 0 } else { size * dims.iter().product::<usize>() })
    }

    /// Row-major element strides.
    pub fn strides(&self) -> Vec<usize> {
        contiguous_strides(&self.shape)
    }
}

/// Row-major element strides of `shape` (innermost stride 1).
///
/// ```
/// assert_eq!(hcal_core::contiguous_strides(&[4, 5, 6]), vec![30, 6, 1]);
/// ```
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    strides
}

impl fmt::Display for TensorDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:?}", self.dtype, self.shape)
    }
}

/// Backend-assigned identity of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub u64);

/// A handle to a tensor that lives on one backend: its id and descriptor.
///
/// Handles are plain data; the memory belongs to the backend that made them
/// and is released with [`Backend::free`](crate::Backend::free) (the `hcal`
/// facade wraps this in an owning type that frees on drop).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tensor {
    id: TensorId,
    desc: TensorDesc,
}

impl Tensor {
    /// Builds a handle; called by backends from `alloc`.
    pub fn from_parts(id: TensorId, desc: TensorDesc) -> Self {
        Self { id, desc }
    }

    /// The backend's id for this allocation.
    pub fn id(&self) -> TensorId {
        self.id
    }

    /// Shape and dtype.
    pub fn desc(&self) -> &TensorDesc {
        &self.desc
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.desc.shape
    }

    /// The dtype.
    pub fn dtype(&self) -> DType {
        self.desc.dtype
    }
}
