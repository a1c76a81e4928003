//! Gather, GatherElements and TensorScatter, on raw storage units: they move
//! elements (or whole blocks of a block-quantized table) without arithmetic,
//! so every dtype is exact.

use hcal_core::{GatherElementsGeometry, GatherGeometry, ScatterGeometry, resolve_index};

/// `output[o, c, ..] = data[o, indices[c], ..]`: rows of `row_bytes` bytes
/// (`inner` values of the data's dtype); an index outside the axis writes
/// the row `fill` repeats over (see [`hcal_core::out_of_range_fill`]).
pub fn gather(g: &GatherGeometry, row_bytes: usize, data: &[u8], indices: &[i64], fill: &[u8]) -> Vec<u8> {
    let missing: Vec<u8> = fill.iter().copied().cycle().take(row_bytes).collect();
    let mut out = Vec::with_capacity(g.outer * g.count * row_bytes);
    for o in 0..g.outer {
        for &k in indices {
            match resolve_index(k, g.axis_len) {
                Some(row) => {
                    let at = (o * g.axis_len + row) * row_bytes;
                    out.extend_from_slice(&data[at..at + row_bytes]);
                }
                None => out.extend_from_slice(&missing),
            }
        }
    }
    out
}

/// `output[i] = data[i with i[axis] = indices[i]]` over the indices' shape,
/// on elements of `elem` bytes; an index outside the axis writes `fill`.
pub fn gather_elements(
    g: &GatherElementsGeometry,
    elem: usize,
    data: &[u8],
    indices: &[i64],
    index_shape: &[usize],
    fill: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(indices.len() * elem);
    for (flat, &k) in indices.iter().enumerate() {
        let Some(row) = resolve_index(k, g.axis_len) else {
            out.extend_from_slice(fill);
            continue;
        };
        // The data offset of the output's multi-index with the axis replaced.
        let (mut rest, mut src) = (flat, 0);
        for d in (0..index_shape.len()).rev() {
            let i = if d == g.axis { row } else { rest % index_shape[d] };
            src += i * g.data_strides[d];
            rest /= index_shape[d].max(1);
        }
        out.extend_from_slice(&data[src * elem..(src + 1) * elem]);
    }
    out
}

/// Write `update` into `cache` (updated in place: the present cache) at the
/// positions [`ScatterGeometry::position`] gives, rows of `inner` elements of
/// `elem` bytes; `write_indices` per batch entry (zeros when absent).
pub fn tensor_scatter(
    g: &ScatterGeometry,
    elem: usize,
    cache: &mut [u8],
    update: &[u8],
    write_indices: Option<&[i64]>,
) {
    let row = g.inner * elem;
    for p in 0..g.prefix {
        let w = write_indices.map_or(0, |w| w[p / g.per_batch.max(1)]);
        for s in 0..g.seq_len {
            let Some(pos) = g.position(w, s) else { continue };
            let dst = (p * g.max_len + pos) * row;
            let src = (p * g.seq_len + s) * row;
            cache[dst..dst + row].copy_from_slice(&update[src..src + row]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_rows_with_negative_and_missing_indices() {
        let g = GatherGeometry { outer: 1, axis_len: 3, inner: 2, count: 3 };
        let data: Vec<u8> = (0..6).collect();
        assert_eq!(gather(&g, 2, &data, &[2, -3, 3], &[9]), [4, 5, 0, 1, 9, 9]);
    }
}
