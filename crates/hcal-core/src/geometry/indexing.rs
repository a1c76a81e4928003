//! Indexing and KV caches: Gather, GatherElements and TensorScatter.

use super::normalize_axis;
use crate::{DType, Error, Result, ScatterMode, TensorDesc};

/// Resolved geometry of a [`crate::Op::Gather`] call: `data` as
/// `[outer, axis_len, inner]` around the axis, and `count` indices, so the
/// output is `[outer, count, inner]`.
///
/// ```
/// use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};
/// let data = TensorDesc::new([2, 5, 3], DType::F32);
/// let ids = TensorDesc::new([4], DType::I64);
/// let sig = OpSignature::new(Op::Gather { axis: 1 }, vec![Some(data), Some(ids)]).unwrap();
/// let Geometry::Gather(g) = sig.geometry() else { unreachable!() };
/// assert_eq!((g.outer, g.axis_len, g.inner, g.count), (2, 5, 3, 4));
/// assert_eq!(g.inner_bytes(DType::F32), 12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatherGeometry {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Extent `s` of the indexed axis.
    pub axis_len: usize,
    /// Product of the dims after the axis, in values (a block-quantized
    /// table's last dim counts its values, a multiple of 32).
    pub inner: usize,
    /// Number of indices.
    pub count: usize,
}

impl GatherGeometry {
    /// Bytes of one gathered row (`inner` values) of `dtype`: whole blocks
    /// for a block-quantized table.
    pub fn inner_bytes(&self, dtype: DType) -> usize {
        self.inner / dtype.block_len() * dtype.size_bytes()
    }
}

/// Resolved geometry of a [`crate::Op::GatherElements`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatherElementsGeometry {
    /// The indexed axis, resolved to `0..rank`.
    pub axis: usize,
    /// Extent `s` of `data` along the axis.
    pub axis_len: usize,
    /// Element strides of `data` (row-major), walked with the output's indices.
    pub data_strides: Vec<usize>,
}

/// Resolved geometry of a [`crate::Op::TensorScatter`] call: the cache as
/// `[prefix, max_len, inner]` around the sequence axis, the update as
/// `[prefix, seq_len, inner]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScatterGeometry {
    /// The sequence axis, resolved (>= 1).
    pub axis: usize,
    /// Product of the dims before the axis (batch included).
    pub prefix: usize,
    /// Prefixes per batch entry: the product of the dims strictly between
    /// the batch dim and the axis (prefix `p` belongs to batch `p / per_batch`).
    pub per_batch: usize,
    /// The cache's sequence extent `M`.
    pub max_len: usize,
    /// The update's sequence extent `S <= M`.
    pub seq_len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
    /// Write indices are given (else all zero).
    pub with_write_indices: bool,
    /// Linear or circular.
    pub mode: ScatterMode,
}

impl ScatterGeometry {
    /// The cache position that update row `s` of a batch entry with write
    /// index `w` goes to, or `None` when a linear write falls outside the cache.
    ///
    /// ```
    /// use hcal_core::{DType, Geometry, Op, OpSignature, ScatterMode, TensorDesc};
    /// let cache = TensorDesc::new([1, 2, 8, 4], DType::F16);
    /// let update = TensorDesc::new([1, 2, 3, 4], DType::F16);
    /// let op = Op::TensorScatter { axis: -2, mode: ScatterMode::Circular };
    /// let sig = OpSignature::new(op, vec![Some(cache), Some(update)]).unwrap();
    /// let Geometry::TensorScatter(g) = sig.geometry() else { unreachable!() };
    /// assert_eq!(g.position(7, 2), Some(1));
    /// assert_eq!(g.position(-1, 0), Some(7));
    /// ```
    pub fn position(&self, write_index: i64, s: usize) -> Option<usize> {
        let target = i128::from(write_index) + s as i128;
        let m = self.max_len as i128;
        match self.mode {
            ScatterMode::Linear => (0..m).contains(&target).then_some(target as usize),
            ScatterMode::Circular if m > 0 => Some(target.rem_euclid(m) as usize),
            ScatterMode::Circular => None,
        }
    }
}

/// The row an index value `k` picks on an axis of extent `len`: `k` for
/// `0 <= k < len`, `k + len` for `-len <= k < 0`, `None` outside (the op
/// then writes [`out_of_range_fill`]).
///
/// ```
/// assert_eq!(hcal_core::resolve_index(-1, 5), Some(4));
/// assert_eq!(hcal_core::resolve_index(5, 5), None);
/// ```
pub fn resolve_index(k: i64, len: usize) -> Option<usize> {
    let len = i128::from(u64::try_from(len).unwrap_or(u64::MAX));
    let k = i128::from(k);
    let row = if k < 0 { k + len } else { k };
    (0..len).contains(&row).then_some(row as usize)
}

/// The bytes of one storage unit (an element, or a block of a
/// block-quantized dtype) that Gather and GatherElements write for an index
/// outside its axis: a quiet NaN for floats (`0x7FC00000`, `0x7E00`,
/// `0x7FC0`), 0 for bool and i64, and for a block a NaN scale `d` (and min
/// `m`) with zero quants, so every value of the block is NaN.
///
/// ```
/// use hcal_core::{DType, out_of_range_fill, quant};
/// assert_eq!(out_of_range_fill(DType::F32), 0x7FC0_0000u32.to_le_bytes());
/// assert_eq!(out_of_range_fill(DType::I64), [0; 8]);
/// let block = out_of_range_fill(DType::Q4_1);
/// assert!(quant::dequantize(DType::Q4_1, &block).unwrap().iter().all(|v| v.is_nan()));
/// ```
pub fn out_of_range_fill(dtype: DType) -> Vec<u8> {
    const F16_NAN: [u8; 2] = 0x7E00u16.to_le_bytes();
    let mut unit = vec![0u8; dtype.size_bytes()];
    match dtype {
        DType::F32 => unit.copy_from_slice(&0x7FC0_0000u32.to_le_bytes()),
        DType::F16 => unit.copy_from_slice(&F16_NAN),
        DType::BF16 => unit.copy_from_slice(&0x7FC0u16.to_le_bytes()),
        DType::Bool | DType::I64 => {}
        DType::Q4_0 | DType::Q8_0 => unit[..2].copy_from_slice(&F16_NAN),
        DType::Q4_1 => {
            unit[..2].copy_from_slice(&F16_NAN);
            unit[2..4].copy_from_slice(&F16_NAN);
        }
    }
    unit
}

fn indices_dtype(op: &'static str, indices: &TensorDesc) -> Result<()> {
    if indices.dtype == DType::I64 {
        Ok(())
    } else {
        Err(Error::dtype(op, format!("indices is {}, expected i64", indices.dtype)))
    }
}

/// Resolve and check Gather inputs; the output descriptor and the geometry.
///
/// # Errors
/// Naming the op and dims: rank-0 data, an axis out of range, indices that
/// are not i64, a block-quantized table gathered along its last dim (which
/// would split blocks).
pub fn gather_geometry(axis: i64, data: &TensorDesc, indices: &TensorDesc) -> Result<(TensorDesc, GatherGeometry)> {
    const OP: &str = "Gather";
    if data.rank() == 0 {
        return Err(Error::shape(OP, format!("data {data} must have rank >= 1")));
    }
    let ax = normalize_axis(OP, axis, data.rank())?;
    indices_dtype(OP, indices)?;
    if data.dtype.is_quantized() && ax == data.rank() - 1 {
        return Err(Error::shape(
            OP,
            format!(
                "data {data} is block-quantized along its last dim; gathering along that dim (axis {axis}) would split its blocks (gather rows with an earlier axis, then Cast)"
            ),
        ));
    }
    let shape: Vec<usize> =
        data.shape[..ax].iter().chain(&indices.shape).chain(&data.shape[ax + 1..]).copied().collect();
    let g = GatherGeometry {
        outer: data.shape[..ax].iter().product(),
        axis_len: data.shape[ax],
        inner: data.shape[ax + 1..].iter().product(),
        count: indices.numel(),
    };
    Ok((TensorDesc::new(shape, data.dtype), g))
}

/// Resolve and check GatherElements inputs; the output descriptor and the geometry.
///
/// # Errors
/// Naming the op and dims: rank-0 data, ranks that differ, an index dim
/// larger than data's off the axis, non-i64 indices, block-quantized data.
pub fn gather_elements_geometry(
    axis: i64,
    data: &TensorDesc,
    indices: &TensorDesc,
) -> Result<(TensorDesc, GatherElementsGeometry)> {
    const OP: &str = "GatherElements";
    if data.rank() == 0 {
        return Err(Error::shape(OP, format!("data {data} must have rank >= 1")));
    }
    let ax = normalize_axis(OP, axis, data.rank())?;
    indices_dtype(OP, indices)?;
    if data.dtype.is_quantized() {
        return Err(Error::dtype(
            OP,
            format!("data is {}: GatherElements moves single elements, not blocks", data.dtype),
        ));
    }
    let fits = indices.rank() == data.rank()
        && indices.shape.iter().zip(&data.shape).enumerate().all(|(d, (&i, &x))| d == ax || i <= x);
    if !fits {
        return Err(Error::shape(
            OP,
            format!(
                "indices {:?} must have the rank of data {:?} and no dim larger than data's except at axis {ax}",
                indices.shape, data.shape
            ),
        ));
    }
    let g = GatherElementsGeometry { axis: ax, axis_len: data.shape[ax], data_strides: data.strides() };
    Ok((TensorDesc::new(indices.shape.clone(), data.dtype), g))
}

/// Resolve and check TensorScatter inputs.
///
/// # Errors
/// Naming the op and dims: rank below 2, axis 0 (the batch dim) or out of
/// range, an update whose dtype or dims differ from the cache's (other than a
/// sequence extent at most the cache's), write indices that are not i64 `[B]`,
/// block-quantized caches.
pub fn scatter_geometry(
    axis: i64,
    mode: ScatterMode,
    cache: &TensorDesc,
    update: &TensorDesc,
    write_indices: Option<&TensorDesc>,
) -> Result<ScatterGeometry> {
    const OP: &str = "TensorScatter";
    if cache.rank() < 2 {
        return Err(Error::shape(
            OP,
            format!("past_cache {cache} must have rank >= 2 (a batch dim and a sequence dim)"),
        ));
    }
    let ax = normalize_axis(OP, axis, cache.rank())?;
    if ax == 0 {
        return Err(Error::attribute(OP, "axis", format!("{axis} names dim 0 of {cache}, the batch dim")));
    }
    if cache.dtype.is_quantized() {
        return Err(Error::dtype(OP, format!("past_cache is {}: caches hold element dtypes", cache.dtype)));
    }
    if update.dtype != cache.dtype {
        return Err(Error::dtype(OP, format!("past_cache is {}, update is {}", cache.dtype, update.dtype)));
    }
    let same_dims = update.rank() == cache.rank()
        && update.shape.iter().zip(&cache.shape).enumerate().all(|(d, (&u, &c))| if d == ax { u <= c } else { u == c });
    if !same_dims {
        return Err(Error::shape(
            OP,
            format!(
                "update {:?} must equal past_cache {:?} in every dim but the sequence dim {ax}, and be no longer there",
                update.shape, cache.shape
            ),
        ));
    }
    if let Some(w) = write_indices {
        if w.dtype != DType::I64 {
            return Err(Error::dtype(OP, format!("write_indices is {}, expected i64", w.dtype)));
        }
        if w.shape != [cache.shape[0]] {
            return Err(Error::shape(
                OP,
                format!("write_indices {:?} must be [B={}] (past_cache {:?})", w.shape, cache.shape[0], cache.shape),
            ));
        }
    }
    Ok(ScatterGeometry {
        axis: ax,
        prefix: cache.shape[..ax].iter().product(),
        per_batch: cache.shape[1..ax].iter().product(),
        max_len: cache.shape[ax],
        seq_len: update.shape[ax],
        inner: cache.shape[ax + 1..].iter().product(),
        with_write_indices: write_indices.is_some(),
        mode,
    })
}
