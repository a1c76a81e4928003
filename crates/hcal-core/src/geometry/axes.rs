//! Views of a tensor around axes: Softmax, the normalizations, reductions and Transpose.

use super::normalize_axis;
use crate::{Error, Result};

/// Split of a tensor around a normalized axis: `outer` groups of `len`
/// elements, each `inner` apart.
///
/// For Softmax the tensor is `[outer, len, inner]`; for the normalizations
/// (`[axis, rank)` flattened) it is `[outer, len]` with `inner = 1`.
///
/// ```
/// let s = hcal_core::softmax_split(&[2, 3, 4], 1);
/// assert_eq!((s.outer, s.len, s.inner), (2, 3, 4));
/// let n = hcal_core::norm_split(&[2, 3, 4], 1);
/// assert_eq!((n.outer, n.len, n.inner), (2, 12, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisSplit {
    /// Product of dims before the axis.
    pub outer: usize,
    /// Extent of the reduced group.
    pub len: usize,
    /// Product of dims after the axis (1 for the normalizations).
    pub inner: usize,
}

/// `[outer, shape[axis], inner]` view of a shape (Softmax).
pub fn softmax_split(shape: &[usize], axis: usize) -> AxisSplit {
    AxisSplit { outer: shape[..axis].iter().product(), len: shape[axis], inner: shape[axis + 1..].iter().product() }
}

/// `[outer, prod(shape[axis..])]` view of a shape (LayerNormalization, RMSNormalization).
pub fn norm_split(shape: &[usize], axis: usize) -> AxisSplit {
    AxisSplit { outer: shape[..axis].iter().product(), len: shape[axis..].iter().product(), inner: 1 }
}

/// The axes a reduction removes, sorted and deduplicated-checked.
///
/// # Errors
/// [`Error::Attribute`] for an out-of-range or repeated axis.
pub fn reduce_axes(op: &'static str, axes: Option<&[i64]>, rank: usize) -> Result<Vec<usize>> {
    let Some(axes) = axes else { return Ok((0..rank).collect()) };
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let ax = normalize_axis(op, a, rank)
            .map_err(|_| Error::attribute(op, "axes", format!("{a} is out of range for rank {rank}")))?;
        if out.contains(&ax) {
            return Err(Error::attribute(op, "axes", format!("{axes:?} names axis {ax} twice")));
        }
        out.push(ax);
    }
    out.sort_unstable();
    Ok(out)
}

/// The permutation a Transpose applies (default: reversed axes).
///
/// # Errors
/// [`Error::Attribute`] unless `perm` is a permutation of `0..rank`.
pub fn transpose_perm(perm: Option<&[usize]>, rank: usize) -> Result<Vec<usize>> {
    let Some(perm) = perm else { return Ok((0..rank).rev().collect()) };
    let mut seen = vec![false; rank];
    let valid = perm.len() == rank && perm.iter().all(|&p| p < rank && !std::mem::replace(&mut seen[p], true));
    if !valid {
        return Err(Error::attribute("Transpose", "perm", format!("{perm:?} is not a permutation of 0..{rank}")));
    }
    Ok(perm.to_vec())
}
