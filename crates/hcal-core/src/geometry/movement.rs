//! Data movement: Concat, Slice, Split, Expand, Reshape (and the Squeeze,
//! Unsqueeze and Flatten shapes it stands for), Range and Trilu.
//!
//! Most of these ops read each output element from one input element at a
//! position linear in the output index, so their geometry is a
//! [`StridedView`]: `Y[j] = X[offset + sum_k j_k * strides_k]` with signed
//! strides (negative for a backward slice, 0 on broadcast dims).

use super::{broadcast_shapes, broadcast_strides, normalize_axis};
use crate::{DType, Error, Result, SplitParts, contiguous_strides};

/// Where each element of an output comes from in its (contiguous) input:
/// `Y[j] = X[offset + sum_k j_k * strides_k]` for every index `j` of the
/// output's shape. Every such position lies inside X (hcal-core checked).
///
/// ```
/// use hcal_core::{DType, Geometry, Op, OpSignature, TensorDesc};
/// // X[1:4:2, ::-1] of a [5, 3] tensor.
/// let op = Op::Slice { starts: vec![1, -1], ends: vec![4, i64::MIN], axes: None, steps: Some(vec![2, -1]) };
/// let sig = OpSignature::new(op, vec![Some(TensorDesc::new([5, 3], DType::F32))]).unwrap();
/// assert_eq!(sig.outputs()[0].shape, [2, 3]);
/// let Geometry::Views(views) = sig.geometry() else { unreachable!() };
/// assert_eq!((views[0].offset, views[0].strides.as_slice()), (5, &[6, -1][..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StridedView {
    /// Element of X that `Y[0, .., 0]` reads.
    pub offset: usize,
    /// Signed element step in X per unit step of each output dim.
    pub strides: Vec<isize>,
}

impl StridedView {
    /// The source element of the output element at row-major position `flat`
    /// of `out_shape`.
    pub fn source(&self, out_shape: &[usize], flat: usize) -> usize {
        let (mut rest, mut src) = (flat, self.offset as isize);
        for k in (0..out_shape.len()).rev() {
            src += (rest % out_shape[k]) as isize * self.strides[k];
            rest /= out_shape[k];
        }
        src as usize
    }
}

/// Fail unless `dtype` holds whole elements (not block-quantized blocks).
pub(crate) fn elementwise_dtype(op: &'static str, operand: &str, dtype: DType) -> Result<()> {
    if dtype.is_quantized() {
        return Err(Error::dtype(
            op,
            format!("{operand} is {dtype}: blocks run along the last dim, so {op} cannot move its elements"),
        ));
    }
    Ok(())
}

/// The output shape of a Concat of `shapes` along `axis` and the offset
/// along the axis where each input starts.
///
/// # Errors
/// [`Error::Attribute`] for an axis out of range (or a rank-0 input);
/// [`Error::Shape`] when the ranks differ or a dim other than `axis` does.
pub fn concat_shape(shapes: &[&[usize]], axis: i64) -> Result<(Vec<usize>, usize, Vec<usize>)> {
    let first = shapes[0];
    if first.is_empty() {
        return Err(Error::shape("Concat", "input 0 is a scalar (rank 0); Concat joins tensors of rank >= 1"));
    }
    let ax = normalize_axis("Concat", axis, first.len())?;
    let mut out = first.to_vec();
    out[ax] = 0;
    let mut offsets = Vec::with_capacity(shapes.len());
    for (i, s) in shapes.iter().enumerate() {
        let differs = s.len() != first.len() || (0..first.len()).any(|k| k != ax && s[k] != first[k]);
        if differs {
            return Err(Error::shape(
                "Concat",
                format!("input {i} {s:?} does not match input 0 {first:?} outside axis {ax}"),
            ));
        }
        offsets.push(out[ax]);
        out[ax] = out[ax].checked_add(s[ax]).ok_or_else(|| {
            Error::shape("Concat", format!("the extents along axis {ax} overflow usize at input {i}"))
        })?;
    }
    Ok((out, ax, offsets))
}

/// Slice's output shape and view (see [`crate::Op::Slice`] for the rules).
///
/// # Errors
/// [`Error::Attribute`] when `starts`, `ends`, `axes`, `steps` differ in
/// length, an axis is out of range or repeated, or a step is 0.
pub fn slice_view(
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<(Vec<usize>, StridedView)> {
    const OP: &str = "Slice";
    let n = starts.len();
    for (name, len) in
        [("ends", Some(ends.len())), ("axes", axes.map(<[i64]>::len)), ("steps", steps.map(<[i64]>::len))]
    {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(Error::attribute(OP, name, format!("has {len} entries but starts has {n}")));
        }
    }
    let rank = shape.len();
    let in_strides = contiguous_strides(shape);
    let mut out = shape.to_vec();
    let mut strides: Vec<isize> = in_strides.iter().map(|&s| s as isize).collect();
    let mut offset = 0usize;
    let mut seen = vec![false; rank];
    for i in 0..n {
        let raw_axis = axes.map_or(i as i64, |a| a[i]);
        let ax = normalize_axis(OP, raw_axis, rank)
            .map_err(|_| Error::attribute(OP, "axes", format!("{raw_axis} is out of range for rank {rank}")))?;
        if std::mem::replace(&mut seen[ax], true) {
            return Err(Error::attribute(OP, "axes", format!("names axis {ax} twice")));
        }
        let step = steps.map_or(1, |s| s[i]);
        if step == 0 {
            return Err(Error::attribute(OP, "steps", format!("entry {i} (axis {ax}) is 0")));
        }
        // i128: an i64::MIN or i64::MAX bound plus the extent must not overflow.
        let d = shape[ax] as i128;
        let resolve = |v: i64| if v < 0 { v as i128 + d } else { v as i128 };
        let (start, end) = if step > 0 {
            (resolve(starts[i]).clamp(0, d), resolve(ends[i]).clamp(0, d))
        } else {
            (resolve(starts[i]).clamp(0, (d - 1).max(0)), resolve(ends[i]).clamp(-1, d - 1))
        };
        let step128 = step as i128;
        let len = if d == 0 { 0 } else { ((end - start) + step128 - step128.signum()) / step128 };
        out[ax] = len.max(0) as usize;
        strides[ax] = (in_strides[ax] as i128 * step128) as isize;
        if out[ax] > 0 {
            offset += start as usize * in_strides[ax];
        }
    }
    if out.contains(&0) {
        offset = 0;
    }
    Ok((out, StridedView { offset, strides }))
}

/// Split's part sizes along the (resolved) axis of extent `d`.
///
/// # Errors
/// [`Error::Attribute`] when the sizes do not sum to `d`, `Equal(0)`, or
/// `Equal(n)` leaves the last part negative.
pub fn split_sizes(parts: &SplitParts, d: usize, ax: usize) -> Result<Vec<usize>> {
    const OP: &str = "Split";
    match parts {
        SplitParts::Sizes(sizes) => {
            let total = sizes.iter().try_fold(0usize, |acc, &s| acc.checked_add(s));
            if sizes.is_empty() || total != Some(d) {
                return Err(Error::attribute(
                    OP,
                    "split",
                    format!("{sizes:?} does not sum to the extent {d} of axis {ax}"),
                ));
            }
            Ok(sizes.clone())
        }
        SplitParts::Equal(0) => Err(Error::attribute(OP, "num_outputs", "0: a split has at least one part")),
        SplitParts::Equal(n) => {
            let chunk = d.div_ceil(*n);
            let last = chunk.checked_mul(n - 1).and_then(|used| d.checked_sub(used)).ok_or_else(|| {
                Error::attribute(
                    OP,
                    "num_outputs",
                    format!("{n} parts of {chunk} (ceil({d} / {n})) overrun the extent {d} of axis {ax}"),
                )
            })?;
            let mut sizes = vec![chunk; *n];
            sizes[n - 1] = last;
            Ok(sizes)
        }
    }
}

/// The view of X that each part of a Split along `ax` reads.
pub(crate) fn split_views(shape: &[usize], ax: usize, sizes: &[usize]) -> Vec<StridedView> {
    let in_strides = contiguous_strides(shape);
    let strides: Vec<isize> = in_strides.iter().map(|&s| s as isize).collect();
    let mut start = 0;
    sizes
        .iter()
        .map(|&s| {
            let empty = s == 0 || shape.contains(&0);
            let view = StridedView { offset: if empty { 0 } else { start * in_strides[ax] }, strides: strides.clone() };
            start += s;
            view
        })
        .collect()
}

/// Expand's output shape and view of X.
///
/// # Errors
/// [`Error::Shape`] when `shape` and X's shape do not broadcast.
pub fn expand_view(x: &[usize], shape: &[usize]) -> Result<(Vec<usize>, StridedView)> {
    let out = broadcast_shapes("Expand", x, shape)?;
    let strides = broadcast_strides(x, &out).into_iter().map(|s| s as isize).collect();
    Ok((out, StridedView { offset: 0, strides }))
}

/// Reshape's output shape: `shape` with its `-1` inferred.
///
/// ```
/// assert_eq!(hcal_core::reshape_shape(&[2, 3, 4], &[-1, 4]).unwrap(), vec![6, 4]);
/// assert!(hcal_core::reshape_shape(&[2, 3], &[4, -1]).is_err());
/// ```
///
/// # Errors
/// [`Error::Attribute`] for an entry below -1, two `-1`, or element counts
/// that cannot agree.
pub fn reshape_shape(x: &[usize], shape: &[i64]) -> Result<Vec<usize>> {
    const OP: &str = "Reshape";
    let numel: usize = x.iter().product();
    if let Some(bad) = shape.iter().find(|&&v| v < -1) {
        return Err(Error::attribute(OP, "shape", format!("{shape:?} has the entry {bad}; extents are >= 0 (or -1)")));
    }
    if shape.iter().filter(|&&v| v == -1).count() > 1 {
        return Err(Error::attribute(OP, "shape", format!("{shape:?} has more than one -1")));
    }
    let known = shape.iter().filter(|&&v| v >= 0).try_fold(1usize, |acc, &v| acc.checked_mul(v as usize));
    let mismatch = || Error::attribute(OP, "shape", format!("{shape:?} cannot hold the {numel} elements of X {x:?}"));
    let known = known.ok_or_else(mismatch)?;
    let inferred = if shape.contains(&-1) {
        if known == 0 || numel % known != 0 {
            return Err(mismatch());
        }
        numel / known
    } else if known != numel {
        return Err(mismatch());
    } else {
        0
    };
    Ok(shape.iter().map(|&v| if v == -1 { inferred } else { v as usize }).collect())
}

/// The shape ONNX `Squeeze` gives: the listed axes (all extent-1 axes when
/// `None`) removed. Run it as [`crate::Op::Reshape`].
///
/// ```
/// assert_eq!(hcal_core::squeeze_shape(&[1, 3, 1], Some(&[-1])).unwrap(), vec![1, 3]);
/// assert_eq!(hcal_core::squeeze_shape(&[1, 3, 1], None).unwrap(), vec![3]);
/// assert!(hcal_core::squeeze_shape(&[1, 3], Some(&[1])).is_err());
/// ```
///
/// # Errors
/// [`Error::Attribute`] naming `Squeeze` for an axis out of range, repeated,
/// or whose extent is not 1.
pub fn squeeze_shape(x: &[usize], axes: Option<&[i64]>) -> Result<Vec<usize>> {
    let Some(axes) = axes else { return Ok(x.iter().copied().filter(|&d| d != 1).collect()) };
    let removed = super::reduce_axes("Squeeze", Some(axes), x.len())?;
    if let Some(&ax) = removed.iter().find(|&&a| x[a] != 1) {
        return Err(Error::attribute("Squeeze", "axes", format!("axis {ax} of {x:?} has extent {} (not 1)", x[ax])));
    }
    Ok((0..x.len()).filter(|k| !removed.contains(k)).map(|k| x[k]).collect())
}

/// The shape ONNX `Unsqueeze` gives: extent-1 axes inserted so that they sit
/// at `axes` of the result (negative counts from the result's end). Run it
/// as [`crate::Op::Reshape`].
///
/// ```
/// assert_eq!(hcal_core::unsqueeze_shape(&[3, 4], &[0, -1]).unwrap(), vec![1, 3, 4, 1]);
/// ```
///
/// # Errors
/// [`Error::Attribute`] naming `Unsqueeze` for an axis out of range or repeated.
pub fn unsqueeze_shape(x: &[usize], axes: &[i64]) -> Result<Vec<usize>> {
    let rank = x.len() + axes.len();
    let inserted = super::reduce_axes("Unsqueeze", Some(axes), rank)?;
    let mut rest = x.iter();
    Ok((0..rank).map(|k| if inserted.contains(&k) { 1 } else { *rest.next().expect("counted") }).collect())
}

/// The shape ONNX `Flatten` gives: `[prod(x[..axis]), prod(x[axis..])]`
/// (`axis` in `-rank..=rank`). Run it as [`crate::Op::Reshape`].
///
/// A negative axis counts from the end (`-1` flattens all but the last dim).
///
/// ```
/// assert_eq!(hcal_core::flatten_shape(&[2, 3, 4], 1).unwrap(), vec![2, 12]);
/// assert_eq!(hcal_core::flatten_shape(&[2, 3, 4], 0).unwrap(), vec![1, 24]);
/// assert_eq!(hcal_core::flatten_shape(&[2, 3, 4], 3).unwrap(), vec![24, 1]);
/// assert_eq!(hcal_core::flatten_shape(&[2, 3, 4], -1).unwrap(), vec![6, 4]);
/// assert!(hcal_core::flatten_shape(&[2, 3, 4], -4).is_err());
/// ```
///
/// # Errors
/// [`Error::Attribute`] naming `Flatten` for an axis out of range.
pub fn flatten_shape(x: &[usize], axis: i64) -> Result<Vec<usize>> {
    let r = x.len() as i64;
    if !(-r..=r).contains(&axis) {
        return Err(Error::attribute(
            "Flatten",
            "axis",
            format!("{axis} is out of range for rank {r} (valid: {} ..= {r})", -r),
        ));
    }
    let ax = if axis < 0 { axis + r } else { axis } as usize;
    Ok(vec![x[..ax].iter().product(), x[ax..].iter().product()])
}

/// Range's length `max(0, ceil((limit - start) / delta))`.
///
/// # Errors
/// [`Error::Attribute`] for a non-finite value, `delta = 0`, an i64 range
/// with a value that is not an integer within 2^53, or a length past `usize`.
pub fn range_len(start: f64, limit: f64, delta: f64, dtype: DType) -> Result<usize> {
    const OP: &str = "Range";
    for (name, v) in [("start", start), ("limit", limit), ("delta", delta)] {
        if !v.is_finite() {
            return Err(Error::attribute(OP, name, format!("{v} is not finite")));
        }
        if dtype == DType::I64 && (v.fract() != 0.0 || v.abs() > 2f64.powi(53)) {
            return Err(Error::attribute(OP, name, format!("{v} is not an i64 within 2^53 (exact in f64)")));
        }
    }
    if delta == 0.0 {
        return Err(Error::attribute(OP, "delta", "0 gives no progress"));
    }
    if !(dtype.is_float() || dtype == DType::I64) {
        return Err(Error::dtype(OP, format!("dtype {dtype}: Range makes float or i64 values")));
    }
    let len = ((limit - start) / delta).ceil().max(0.0);
    if len >= usize::MAX as f64 {
        return Err(Error::attribute(OP, "limit", format!("({limit} - {start}) / {delta} elements overflow usize")));
    }
    Ok(len as usize)
}
