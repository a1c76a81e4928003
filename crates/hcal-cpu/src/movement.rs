//! Data movement: Concat, Slice/Split/Expand (strided views), Reshape,
//! Range and Trilu. Every function but [`range`] moves whole elements as
//! bytes, so each is exact in every dtype.

use hcal_core::StridedView;

/// `Y[j] = X[view.offset + sum_k j_k * view.strides_k]` over `out_shape`
/// (Slice, Split parts, Expand), on elements of `elem` bytes.
pub fn gather_view(x: &[u8], elem: usize, out_shape: &[usize], view: &StridedView) -> Vec<u8> {
    let n: usize = out_shape.iter().product();
    let mut y = Vec::with_capacity(n * elem);
    for flat in 0..n {
        let src = view.source(out_shape, flat);
        y.extend_from_slice(&x[src * elem..(src + 1) * elem]);
    }
    y
}

/// Concat: input `i` is `[outer, lens[i], inner]`; Y is `[outer, sum lens, inner]`
/// and holds, for each outer index, the inputs' rows one after another.
pub fn concat(xs: &[Vec<u8>], elem: usize, outer: usize, inner: usize, lens: &[usize]) -> Vec<u8> {
    let total: usize = lens.iter().sum();
    let mut y = Vec::with_capacity(outer * total * inner * elem);
    for o in 0..outer {
        for (x, &len) in xs.iter().zip(lens) {
            let block = len * inner * elem;
            y.extend_from_slice(&x[o * block..(o + 1) * block]);
        }
    }
    y
}

/// Trilu: keep `X[b, r, c]` where `c - r >= k` (`upper`) or `c - r <= k`
/// (lower), write zero bytes (0, 0.0, false) elsewhere.
pub fn trilu(x: &[u8], elem: usize, (rows, cols): (usize, usize), upper: bool, k: i64) -> Vec<u8> {
    let mut y = x.to_vec();
    if rows == 0 || cols == 0 {
        return y;
    }
    for (e, value) in y.chunks_exact_mut(elem).enumerate() {
        let (r, c) = ((e / cols) % rows, e % cols);
        let diagonal = c as i128 - r as i128;
        let keep = if upper { diagonal >= i128::from(k) } else { diagonal <= i128::from(k) };
        if !keep {
            value.fill(0);
        }
    }
    y
}

/// Range's values `start + i * delta`, computed in f64 (one rounding to the
/// output dtype happens when they are stored).
pub fn range(start: f64, delta: f64, len: usize) -> Vec<f64> {
    (0..len).map(|i| start + i as f64 * delta).collect()
}

/// Range's values for an i64 output, exactly: `start + i * delta` in i128.
pub fn range_i64(start: i64, delta: i64, len: usize) -> Vec<i64> {
    (0..len).map(|i| (i128::from(start) + i as i128 * i128::from(delta)) as i64).collect()
}
