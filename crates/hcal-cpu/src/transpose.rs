//! Transpose: `Y.shape[k] = X.shape[perm[k]]`, `Y[j] = X[i]` with `i[perm[k]] = j[k]`.

use hcal_core::contiguous_strides;

/// Permute the axes of `x` (works on raw elements of any dtype).
pub fn transpose<T: Copy>(x: &[T], shape: &[usize], perm: &[usize]) -> Vec<T> {
    let in_strides = contiguous_strides(shape);
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let n: usize = out_shape.iter().product();
    (0..n)
        .map(|flat| {
            let (mut rest, mut src) = (flat, 0);
            for k in (0..out_shape.len()).rev() {
                src += (rest % out_shape[k]) * in_strides[perm[k]];
                rest /= out_shape[k];
            }
            x[src]
        })
        .collect()
}
