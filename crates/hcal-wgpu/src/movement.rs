//! Launcher for `shaders/movement.wgsl` (Slice, Split, Expand, Concat,
//! Trilu), plus the two data-movement ops that need no kernel: Reshape is a
//! buffer copy (Y's bytes are X's) and Range, whose values depend on its
//! attributes alone, is computed on the host and copied in.
//!
//! Tensors larger than one storage binding run in pieces of Y's words,
//! each binding windows of Y and of the X elements it reads ([`pieces`]).

use hcal_core::{DType, Result, StridedView, contiguous_strides};

use crate::ctx::{Ctx, Operand};
use crate::params::{MAX_DIMS, MoveParams, SPLIT_PARTS, SplitParams};
use crate::pipeline::kernel;
use crate::record::Window;

/// Highest rank the kernel's parameter block holds.
pub(crate) const MAX_RANK: usize = MAX_DIMS;

/// A parameter block walking `shape` with the whole of it written.
fn whole_band(shape: &[usize], elem_bytes: usize) -> MoveParams {
    let mut p = MoveParams {
        n: shape.iter().product::<usize>() as u32,
        elem_bytes: elem_bytes as u32,
        rank: shape.len() as u32,
        ..MoveParams::default()
    };
    for (k, &d) in shape.iter().enumerate() {
        p.shape[k] = d as u32;
        p.band_hi[k] = d as u32;
    }
    p
}

/// The elements of X a dispatch reads for Y's elements `[a, b]` (inclusive),
/// as `(first, last)` (inclusive), or `None` when it reads none.
type Reads<'r> = &'r dyn Fn(usize, usize) -> Option<(usize, usize)>;

/// Ranges `[w0, w1)` of the words `[first, last)` of Y whose windows of Y and
/// of the X elements they read (`reads`) fit one binding; one range when X
/// and Y fit whole. `None` when one word's do not.
pub(crate) fn pieces(
    (first, last): (usize, usize),
    elem: usize,
    n: usize,
    reads: Reads<'_>,
    (x_bytes, y_bytes): (usize, usize),
    max: u64,
    align: u64,
) -> Option<Vec<(usize, usize)>> {
    if crate::split::whole(x_bytes, max) && crate::split::whole(y_bytes, max) {
        return Some(vec![(first, last)]);
    }
    let x_whole = crate::split::whole(x_bytes, max);
    let fits = |w0: usize, w1: usize| {
        let y_ok = Window::bytes_needed(w1 - w0, 4, align) <= max;
        let (e0, e1) = (w0 * 4 / elem, ((w1 * 4).div_ceil(elem)).min(n).saturating_sub(1));
        let x_ok = x_whole
            || reads(e0, e1.max(e0)).is_none_or(|(lo, hi)| Window::bytes_needed(hi + 1 - lo, elem, align) <= max);
        y_ok && x_ok
    };
    let ranges = crate::split::pieces(last - first, 1, |a, b| fits(first + a, first + b))?;
    Some(ranges.into_iter().map(|(a, b)| (first + a, first + b)).collect())
}

/// Dispatch over the words of Y holding elements `e0..e1`, in pieces whose
/// windows fit one binding (`reads`: the X elements a range of Y reads).
fn dispatch(
    ctx: &mut Ctx<'_>,
    mut p: MoveParams,
    x: &Operand,
    y: &Operand,
    (e0, e1): (usize, usize),
    reads: Reads<'_>,
) -> Result<()> {
    if e1 <= e0 {
        return Ok(());
    }
    let elem = p.elem_bytes as usize;
    let (w0, w1) = (e0 * elem / 4, (e1 * elem).div_ceil(4));
    let n = p.n as usize;
    let sizes = (x.buf.size() as usize, y.buf.size() as usize);
    let (max, align) = (ctx.max_binding(), ctx.align());
    let ranges = pieces((w0, w1), elem, n, reads, sizes, max, align).ok_or_else(|| hcal_core::Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: x.buf.size().max(y.buf.size()),
    })?;
    for (a, b) in ranges {
        let (ea, eb) = (a * 4 / elem, ((b * 4).div_ceil(elem)).min(n).saturating_sub(1).max(a * 4 / elem));
        let (lo, hi) = reads(ea, eb).unwrap_or((0, 0));
        let (xw, x_origin) = ctx.window(&x.buf, lo, hi + 1 - lo, elem);
        let (yw, y_origin) = ctx.window(&y.buf, a, b - a, 4);
        p.first_word = a as u32;
        p.x_origin = x_origin as u32;
        p.y_origin = y_origin as u32;
        ctx.per_item_windows(kernel("movement", "gather"), &p, &[(1, xw), (2, yw)], b - a)?;
    }
    Ok(())
}

/// The smallest and largest of `base + sum_d idx_d * strides[d]` over the
/// flat indices `a..=b` of `shape` (row-major), strides of either sign:
/// as [`crate::split::span`], exact.
pub(crate) fn signed_span(shape: &[usize], strides: &[i64], a: usize, b: usize) -> (i64, i64) {
    let Some((&extent, inner_shape)) = shape.split_first() else { return (0, 0) };
    let stride = strides[0];
    let inner: usize = inner_shape.iter().product();
    if inner == 0 || extent == 0 {
        return (0, 0);
    }
    let ends = |d: usize, s: i64| [0, (d as i64 - 1) * s];
    let inner_min: i64 = inner_shape.iter().zip(&strides[1..]).map(|(&d, &s)| ends(d, s)[0].min(ends(d, s)[1])).sum();
    let inner_max: i64 = inner_shape.iter().zip(&strides[1..]).map(|(&d, &s)| ends(d, s)[0].max(ends(d, s)[1])).sum();
    let (qa, ra, qb, rb) = (a / inner, a % inner, b / inner, b % inner);
    let at = |q: usize| q as i64 * stride;
    if qa == qb {
        let (lo, hi) = signed_span(inner_shape, &strides[1..], ra, rb);
        return (at(qa) + lo, at(qa) + hi);
    }
    let part = |q: usize, r0: usize, r1: usize| {
        let (lo, hi) = if r0 == 0 && r1 == inner - 1 {
            (inner_min, inner_max)
        } else {
            signed_span(inner_shape, &strides[1..], r0, r1)
        };
        (at(q) + lo, at(q) + hi)
    };
    let (l1, h1) = part(qa, ra, inner - 1);
    let (l2, h2) = part(qb, 0, rb);
    let (mut lo, mut hi) = (l1.min(l2), h1.max(h2));
    if qb > qa + 1 {
        lo = lo.min(at(qa + 1).min(at(qb - 1)) + inner_min);
        hi = hi.max(at(qa + 1).max(at(qb - 1)) + inner_max);
    }
    (lo, hi)
}

/// `Y[j] = X[view.offset + sum_k j_k * view.strides_k]` (Slice, a Split part, Expand).
pub(crate) fn gather(ctx: &mut Ctx<'_>, view: &StridedView, x: &Operand, y: &Operand) -> Result<()> {
    let mut p = whole_band(&y.desc.shape, x.desc.dtype.size_bytes());
    for (k, &s) in view.strides.iter().enumerate() {
        // Two's complement: the kernel's wrapping u32 sums land on the right element.
        p.src_strides[k] = s as i32 as u32;
    }
    p.src_base = view.offset as u32;
    dispatch(ctx, p, x, y, (0, y.desc.numel()), &view_reads(view, &y.desc.shape))
}

/// Split of `x` along `axis` into the parts `ys` as one dispatch of
/// `split.wgsl`, where it applies: every output present, at most
/// [`SPLIT_PARTS`] of them, each a whole number of 32-bit words per index of
/// the dims before the axis, and every tensor within one binding. `false`
/// (nothing recorded) elsewhere: the caller copies each part as a strided
/// view, one dispatch per part.
pub(crate) fn split_words(ctx: &mut Ctx<'_>, axis: i64, x: &Operand, ys: &[Option<Operand>]) -> Result<bool> {
    let parts: Vec<&Operand> = ys.iter().flatten().collect();
    if parts.is_empty() || parts.len() != ys.len() || parts.len() > SPLIT_PARTS {
        return Ok(false);
    }
    let shape = &x.desc.shape;
    let ax = hcal_core::normalize_axis("Split", axis, shape.len())?;
    let inner_bytes = shape[ax + 1..].iter().product::<usize>() * x.desc.dtype.size_bytes();
    let mut ends = [0u32; SPLIT_PARTS];
    let mut end = 0;
    for (p, y) in parts.iter().enumerate() {
        let bytes = y.desc.shape[ax] * inner_bytes;
        if bytes % 4 != 0 {
            return Ok(false);
        }
        end += bytes / 4;
        ends[p] = end as u32;
    }
    ends[parts.len()..].fill(end as u32);
    let words = x.desc.byte_len()? / 4;
    let max = ctx.max_binding();
    if words == 0 || end == 0 || x.buf.size() > max || parts.iter().any(|y| y.buf.size() > max) {
        return Ok(false);
    }
    let params = SplitParams { words: words as u32, row_words: end as u32, ends };
    let dummy = ctx.dummy.clone();
    let mut bindings = vec![(1, &*x.buf)];
    bindings.extend((0..SPLIT_PARTS).map(|p| (2 + p as u32, parts.get(p).map_or(&dummy, |y| &*y.buf))));
    ctx.per_item(kernel("split", "split"), &params, &bindings, words)?;
    Ok(true)
}

/// The X elements a strided view (Slice, Split, Expand) into an output of
/// `shape` reads for output elements `[a, b]`.
pub(crate) fn view_reads<'v>(
    view: &'v StridedView,
    shape: &'v [usize],
) -> impl Fn(usize, usize) -> Option<(usize, usize)> + 'v {
    let strides: Vec<i64> = view.strides.iter().map(|&s| s as i64).collect();
    move |a, b| {
        let (lo, hi) = signed_span(shape, &strides, a, b);
        Some(((view.offset as i64 + lo) as usize, (view.offset as i64 + hi) as usize))
    }
}

/// The elements of Concat's input of `len` at `offset` (of `total`, rows of
/// `inner`) read for output elements `[a, b]`: the input's elements are
/// its band's in order, so the first at or after a to the last at or before b.
pub(crate) fn concat_reads(
    (total, inner): (usize, usize),
    (offset, len): (usize, usize),
) -> impl Fn(usize, usize) -> Option<(usize, usize)> {
    let band = move |e: usize| (e / (total * inner), e / inner % total, e % inner);
    let x_index = move |o: usize, t: usize, i: usize| (o * len + t - offset) * inner + i;
    move |a, b| {
        let (oa, ta, ia) = band(a);
        let from = if ta < offset {
            x_index(oa, offset, 0)
        } else if ta >= offset + len {
            x_index(oa + 1, offset, 0)
        } else {
            x_index(oa, ta, ia)
        };
        let (ob, tb, ib) = band(b);
        let to = if tb >= offset + len {
            (ob + 1) * len * inner
        } else if tb < offset {
            ob * len * inner
        } else {
            x_index(ob, tb, ib) + 1
        };
        (to > from).then(|| (from, to - 1))
    }
}

/// Concat: input `i` (`[outer, lens[i], inner]`) into its band of Y
/// (`[outer, total, inner]`) at `offsets[i]`, one dispatch per input over the
/// words between its band's first and last element.
pub(crate) fn concat(
    ctx: &mut Ctx<'_>,
    (outer, inner): (usize, usize),
    lens: &[usize],
    offsets: &[usize],
    xs: &[&Operand],
    y: &Operand,
) -> Result<()> {
    let total: usize = lens.iter().sum();
    let elem = y.desc.dtype.size_bytes();
    for ((x, &len), &offset) in xs.iter().zip(lens).zip(offsets) {
        if len == 0 || outer == 0 || inner == 0 {
            continue;
        }
        let mut p = whole_band(&[outer, total, inner], elem);
        p.band_lo[1] = offset as u32;
        p.band_hi[1] = (offset + len) as u32;
        p.src_strides[..3].copy_from_slice(&[(len * inner) as u32, inner as u32, 1]);
        p.src_base = 0u32.wrapping_sub((offset * inner) as u32);
        // Words straddling two inputs' bands keep the other input's elements.
        p.keep = u32::from(elem < 4);
        let first = offset * inner;
        let last = ((outer - 1) * total + offset + len) * inner;
        let reads = concat_reads((total, inner), (offset, len));
        dispatch(ctx, p, x, y, (first, last), &reads)?;
    }
    Ok(())
}

/// Trilu: Y = X with the elements outside the kept triangle zeroed.
pub(crate) fn trilu(ctx: &mut Ctx<'_>, upper: bool, k: i64, x: &Operand, y: &Operand) -> Result<()> {
    let mut p = whole_band(&x.desc.shape, x.desc.dtype.size_bytes());
    for (k, &s) in contiguous_strides(&x.desc.shape).iter().enumerate() {
        p.src_strides[k] = s as u32;
    }
    p.trilu = if upper { 1 } else { 2 };
    // |c - r| < 2^31 (u32 element counts), so clamping k to i32 keeps every answer.
    p.k = k.clamp(-(i32::MAX as i64), i32::MAX as i64) as i32 as u32;
    dispatch(ctx, p, x, y, (0, x.desc.numel()), &|a, b| Some((a, b)))
}

/// Reshape: Y's bytes are X's bytes.
pub(crate) fn copy(ctx: &mut Ctx<'_>, x: &Operand, y: &Operand) {
    let bytes = (x.desc.numel() * x.desc.dtype.size_bytes()) as u64;
    ctx.rec.copy(ctx.gpu, &x.buf, &y.buf, bytes);
}

/// Range: `start + i * delta` computed on the host (in f64, rounded once to
/// Y's dtype; exactly in integers for i64) and copied into Y.
pub(crate) fn range(ctx: &mut Ctx<'_>, (start, delta): (f64, f64), y: &Operand) {
    let len = y.desc.numel();
    let bytes: Vec<u8> = match y.desc.dtype {
        DType::I64 => (0..len)
            .flat_map(|i| ((i128::from(start as i64) + i as i128 * i128::from(delta as i64)) as i64).to_le_bytes())
            .collect(),
        dtype => (0..len)
            .flat_map(|i| {
                let v = start + i as f64 * delta;
                match dtype {
                    DType::F16 => half::f16::from_f64(v).to_le_bytes().to_vec(),
                    DType::BF16 => half::bf16::from_f64(v).to_le_bytes().to_vec(),
                    _ => (v as f32).to_le_bytes().to_vec(),
                }
            })
            .collect(),
    };
    if bytes.is_empty() {
        return;
    }
    let mut padded = bytes;
    let len = padded.len();
    padded.resize(len.div_ceil(4) * 4, 0);
    // A fresh buffer, not a pooled one that commands recorded earlier in the
    // batch may still use: its write lands before the batch runs, and the
    // copy out of it runs in order with them.
    let staging = ctx.gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("hcal range values"),
        size: padded.len() as u64,
        usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    ctx.gpu.queue.write_buffer(&staging, 0, &padded);
    ctx.rec.copy(ctx.gpu, &staging, &y.buf, len as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_span_is_exact() {
        let brute = |shape: &[usize], strides: &[i64], a: usize, b: usize| {
            let v: Vec<i64> = (a..=b)
                .map(|i| {
                    let (mut rest, mut off) = (i, 0);
                    for d in (0..shape.len()).rev() {
                        off += (rest % shape[d]) as i64 * strides[d];
                        rest /= shape[d];
                    }
                    off
                })
                .collect();
            (*v.iter().min().unwrap(), *v.iter().max().unwrap())
        };
        let cases: [(&[usize], &[i64]); 4] =
            [(&[4, 5, 6], &[30, 6, 1]), (&[4, 5, 6], &[30, -6, 1]), (&[3, 4], &[-4, -1]), (&[2, 3, 4], &[0, 4, -1])];
        for (shape, strides) in cases {
            let n: usize = shape.iter().product();
            for a in 0..n {
                for b in a..n {
                    assert_eq!(signed_span(shape, strides, a, b), brute(shape, strides, a, b), "{shape:?} {strides:?}");
                }
            }
        }
    }
}
