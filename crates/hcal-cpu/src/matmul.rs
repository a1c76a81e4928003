//! MatMul and Gemm: `Y[m, n] = sum_k A[m, k] B[k, n]`, accumulated in f64.

use hcal_core::{GemmGeometry, MatMulGeometry};
use rayon::prelude::*;

/// ONNX MatMul on row-major operands with broadcast batch dims.
pub fn matmul(g: &MatMulGeometry, a: &[f64], b: &[f64]) -> Vec<f64> {
    let (m, n, k) = (g.m, g.n, g.k);
    let mut y = vec![0.0; g.batch_count() * m * n];
    if m * n == 0 {
        return y;
    }
    y.par_chunks_mut(n).enumerate().for_each(|(row, y_row)| {
        let (batch, i) = (row / m, row % m);
        let (a_off, b_off) = g.operand_offsets(batch);
        let a_row = &a[a_off + i * k..a_off + (i + 1) * k];
        for (j, y_ij) in y_row.iter_mut().enumerate() {
            *y_ij = (0..k).map(|p| a_row[p] * b[b_off + p * n + j]).sum();
        }
    });
    y
}

/// ONNX Gemm: `Y = alpha op(A) op(B) + beta C`, `A`, `B` rank 2, `C`
/// broadcast with the strides of [`GemmGeometry::c_strides`].
pub fn gemm(g: &GemmGeometry, alpha: f64, beta: f64, a: &[f64], b: &[f64], c: Option<&[f64]>) -> Vec<f64> {
    let (m, n, k) = (g.m, g.n, g.k);
    let a_at = |i: usize, p: usize| if g.trans_a { a[p * m + i] } else { a[i * k + p] };
    let b_at = |p: usize, j: usize| if g.trans_b { b[j * k + p] } else { b[p * n + j] };
    let mut y = vec![0.0; m * n];
    if n == 0 {
        return y;
    }
    y.par_chunks_mut(n).enumerate().for_each(|(i, y_row)| {
        for (j, y_ij) in y_row.iter_mut().enumerate() {
            let dot: f64 = (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum();
            let bias = match (c, g.c_strides) {
                (Some(c), Some(s)) => beta * c[i * s[0] + j * s[1]],
                _ => 0.0,
            };
            *y_ij = alpha * dot + bias;
        }
    });
    y
}
