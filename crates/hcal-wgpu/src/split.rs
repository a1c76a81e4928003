//! Splitting work on tensors larger than one storage binding.
//!
//! A storage binding holds at most `max_storage_buffer_binding_size` bytes
//! (128 MiB on lavapipe), far less than `max_buffer_size`. Ops on larger
//! tensors run in pieces, each piece binding windows of its operands (see
//! [`crate::record::Window`]) small enough for one binding:
//!
//! - contiguous elementwise work (unary ops, dtype conversions, Cast) in
//!   ranges of elements ([`contiguous`]), whose windows start exactly at the
//!   piece (ranges start at multiples of the window alignment in elements),
//!   so the kernels need no parameter for it;
//! - strided elementwise work (binary broadcasting, Transpose, Reduce) in
//!   ranges of output elements ([`strided`]), each as long as its reads fit;
//!   each operand's window covers the offsets the range reads ([`span`],
//!   exact), and the kernel gets the range's first index, each window's
//!   origin, and where the range starts in the output's window. A range ends
//!   where a broadcast operand larger than a binding would wrap around;
//! - row-wise work (Softmax, normalizations) in blocks of whole rows
//!   ([`row_blocks`]), the kernel told where the block starts in each window;
//! - products in blocks of rows, columns and steps of K (`matmul/split.rs`);
//!   a block-quantized weight `[N, K]` in blocks of its rows (`matmul/quant.rs`);
//! - attention in pieces of (batch item, KV head group), their slices copied
//!   through buffers that fit (`attention_pieces.rs`); RotaryEmbedding in
//!   blocks of rows (`rotary.rs`);
//! - Gather and GatherElements in ranges of output words times windows of the
//!   table, each byte written by the window holding its source (`gather.rs`);
//!   Slice, Split, Expand, Concat and Trilu in ranges of output words with
//!   windows of what they read (`movement.rs`); TensorScatter in blocks of
//!   whole cache prefixes (`scatter.rs`).
//!
//! Still declined below `max_buffer_size`: a Reduce whose single output
//! reads inputs spread over more than a binding, and a Softmax/norm row
//! larger than a binding (both would need partial reductions and a combine,
//! which would not be bit-identical); one row (a KV head's cache, a table
//! row, a weight row) larger than a binding.
//!
//! Pieces are recorded in order into the same batch; every element is
//! computed by the same kernel code as unsplit, so results are bit-identical
//! to an unsplit run (products: see `matmul/split.rs`). The same pure
//! functions decide in `support::decline` whether a signature can run at
//! all, so what `supports` accepts is what the launchers split.

/// The piece sizes of `n` contiguous elements whose largest operand has
/// `elem_bytes` bytes per element: ranges `(first, len)` of at most one
/// binding, each starting at a multiple of `align` elements (so every
/// operand's byte offset, at least one byte per element, is aligned).
/// One piece when everything fits; none for `n == 0`.
pub(crate) fn contiguous(n: usize, elem_bytes: usize, max_binding: u64, align: u64) -> Vec<(usize, usize)> {
    let per = (max_binding / elem_bytes.max(1) as u64 / align * align).max(align) as usize;
    (0..n).step_by(per).map(|i0| (i0, per.min(n - i0))).collect()
}

/// Ranges `[i0, i1)` covering `0..n` for which `fits(i0, i1)`, each as long
/// as it can be: starts at multiples of `unit` (the last range ends at `n`).
/// `fits` must only turn false as a range grows. `None` when a range of
/// one `unit` does not fit.
pub(crate) fn pieces(n: usize, unit: usize, fits: impl Fn(usize, usize) -> bool) -> Option<Vec<(usize, usize)>> {
    pieces_at_most(n, unit, usize::MAX, fits)
}

/// [`pieces`], or `None` as soon as more than `cap` ranges would be needed
/// (so a caller comparing cuts does not walk millions of them).
pub(crate) fn pieces_at_most(
    n: usize,
    unit: usize,
    cap: usize,
    fits: impl Fn(usize, usize) -> bool,
) -> Option<Vec<(usize, usize)>> {
    let unit = unit.max(1);
    let mut out = Vec::new();
    let mut i0 = 0;
    while i0 < n {
        if out.len() >= cap {
            return None;
        }
        if fits(i0, n) {
            out.push((i0, n));
            break;
        }
        let end = |j: usize| (i0 + j * unit).min(n);
        if !fits(i0, end(1)) {
            return None;
        }
        // Largest j with fits(i0, end(j)): fits at lo, not at hi.
        let (mut lo, mut hi) = (1, (n - i0).div_ceil(unit));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if fits(i0, end(mid)) { lo = mid } else { hi = mid }
        }
        out.push((i0, end(lo)));
        i0 = end(lo);
    }
    Some(out)
}

/// The smallest and largest element offset `sum_d idx_d * strides[d]` over
/// the flat indices `a..=b` of `shape` (row-major, `a <= b`, strides >= 0):
/// exact, splitting the range at each dim into a partial first block, whole
/// middle blocks and a partial last block.
pub(crate) fn span(shape: &[usize], strides: &[usize], a: usize, b: usize) -> (usize, usize) {
    let Some((&extent, inner_shape)) = shape.split_first() else { return (0, 0) };
    let stride = strides[0];
    let inner: usize = inner_shape.iter().product();
    let inner_max: usize = inner_shape.iter().zip(&strides[1..]).map(|(&d, &s)| d.saturating_sub(1) * s).sum();
    if inner == 0 || extent == 0 {
        return (0, 0);
    }
    let (qa, ra, qb, rb) = (a / inner, a % inner, b / inner, b % inner);
    if qa == qb {
        let (lo, hi) = span(inner_shape, &strides[1..], ra, rb);
        return (qa * stride + lo, qa * stride + hi);
    }
    // Whole inner blocks need no recursion: 0 ..= inner_max.
    let part = |q: usize, r0: usize, r1: usize| {
        let (lo, hi) =
            if r0 == 0 && r1 == inner - 1 { (0, inner_max) } else { span(inner_shape, &strides[1..], r0, r1) };
        (q * stride + lo, q * stride + hi)
    };
    let (l1, h1) = part(qa, ra, inner - 1);
    let (l2, h2) = part(qb, 0, rb);
    let (mut lo, mut hi) = (l1.min(l2), h1.max(h2));
    if qb > qa + 1 {
        lo = lo.min((qa + 1) * stride);
        hi = hi.max((qb - 1) * stride + inner_max);
    }
    (lo, hi)
}

/// Blocks `[r0, r1)` of `rows` rows of `row_len` contiguous f32 elements
/// whose windows fit one binding (one block when the whole tensor does);
/// `None` when one row does not.
pub(crate) fn row_blocks(rows: usize, row_len: usize, max_binding: u64, align: u64) -> Option<Vec<(usize, usize)>> {
    if whole(rows * row_len * 4, max_binding) {
        return Some(if rows == 0 { vec![] } else { vec![(0, rows)] });
    }
    pieces(rows, 1, |r0, r1| crate::record::Window::bytes_needed((r1 - r0) * row_len, 4, align) <= max_binding)
}

/// How a strided kernel reads one operand: output element `i` (flat over
/// `shape`, the output's shape) reads the operand at `sum_d idx_d(i) *
/// strides[d]` and up to `extra` elements past that.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reads<'a> {
    pub(crate) shape: &'a [usize],
    pub(crate) strides: &'a [usize],
    pub(crate) extra: usize,
    pub(crate) elem_bytes: usize,
    /// Bound whole: the operand fits one binding, so any range reads it.
    pub(crate) whole: bool,
}

impl Reads<'_> {
    /// `(first, count)`: the elements output range `[i0, i1)` reads.
    pub(crate) fn range(&self, i0: usize, i1: usize) -> (usize, usize) {
        let (lo, hi) = span(self.shape, self.strides, i0, i1 - 1);
        (lo, hi + self.extra + 1 - lo)
    }
}

/// Most dispatches a strided split may take: a plan needing more (a
/// transpose moving a short outer axis innermost, whose every few outputs
/// read across the whole input) would record for minutes, so it is declined.
pub(crate) const MAX_STRIDED_PIECES: usize = 1 << 16;

/// Ranges of `n` output elements (of `out_bytes` each, written through a
/// window of the range, so ranges start anywhere, at word boundaries) whose
/// reads of every operand fit one binding, each range as long as it can be
/// (so a range ends where a broadcast operand would wrap around). `None`
/// when a single output's reads do not fit: an operand read across more than
/// a binding by one output (a reduction over the outer axis of a huge
/// tensor), or when more than [`MAX_STRIDED_PIECES`] ranges would be needed.
pub(crate) fn strided(
    n: usize,
    out_bytes: usize,
    reads: &[Reads<'_>],
    max_binding: u64,
    align: u64,
) -> Option<Vec<(usize, usize)>> {
    let unit = (4 / out_bytes.clamp(1, 4)).max(1);
    pieces_at_most(n, unit, MAX_STRIDED_PIECES, |i0, i1| {
        let out = crate::record::Window::bytes_needed(i1 - i0, out_bytes, align);
        out <= max_binding
            && reads.iter().all(|r| {
                r.whole || {
                    let (_, count) = r.range(i0, i1);
                    crate::record::Window::bytes_needed(count, r.elem_bytes, align) <= max_binding
                }
            })
    })
}

/// Whether a tensor of `bytes` is bound whole (its buffer fits one binding).
pub(crate) fn whole(bytes: usize, max_binding: u64) -> bool {
    crate::memory::buffer_size(bytes) <= max_binding
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(shape: &[usize], strides: &[usize], a: usize, b: usize) -> (usize, usize) {
        let offsets = (a..=b).map(|i| {
            let mut rest = i;
            let mut off = 0;
            for d in (0..shape.len()).rev() {
                off += (rest % shape[d]) * strides[d];
                rest /= shape[d];
            }
            off
        });
        let v: Vec<usize> = offsets.collect();
        (*v.iter().min().unwrap(), *v.iter().max().unwrap())
    }

    #[test]
    fn span_is_exact() {
        let cases: [(&[usize], &[usize]); 5] = [
            (&[2, 3], &[0, 1]),
            (&[4, 5, 6], &[30, 6, 1]),
            (&[4, 5, 6], &[1, 4, 20]),
            (&[3, 1, 7], &[7, 0, 1]),
            (&[2, 3, 4, 5], &[0, 5, 0, 1]),
        ];
        for (shape, strides) in cases {
            let n: usize = shape.iter().product();
            for a in 0..n {
                for b in a..n {
                    assert_eq!(
                        span(shape, strides, a, b),
                        brute(shape, strides, a, b),
                        "{shape:?} {strides:?} {a}..={b}"
                    );
                }
            }
        }
    }

    #[test]
    fn pieces_cover_the_range_and_fit() {
        let fits = |i0: usize, i1: usize| i1 - i0 <= 1000;
        let p = pieces(2600, 256, fits).unwrap();
        assert_eq!(p, [(0, 768), (768, 1536), (1536, 2304), (2304, 2600)]);
        assert_eq!(pieces(10, 4, |_, _| false), None);
        assert_eq!(pieces(0, 4, |_, _| false), Some(vec![]));
        assert_eq!(contiguous(1000, 4, 1024, 256), [(0, 256), (256, 256), (512, 256), (768, 232)]);
        assert_eq!(contiguous(100, 4, 1 << 20, 256), [(0, 100)]);
    }
}
