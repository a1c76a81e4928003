//! MatMul and Gemm: M, N, K, batch broadcasting and the bias broadcast.

use super::{broadcast_shapes, broadcast_strides};
use crate::{Error, Result, TensorDesc};

/// Resolved geometry of a [`crate::Op::MatMul`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatMulGeometry {
    /// Broadcast batch shape (may be empty).
    pub batch: Vec<usize>,
    /// Rows of the product.
    pub m: usize,
    /// Columns of the product.
    pub n: usize,
    /// Reduction length.
    pub k: usize,
    /// Per batch dim, the element stride of `A`'s `[m, k]` matrices (0 where broadcast).
    pub a_batch_strides: Vec<usize>,
    /// Per batch dim, the element stride of `B`'s `[k, n]` matrices (0 where broadcast).
    pub b_batch_strides: Vec<usize>,
    /// Output shape (rank-1 operands' added dims removed).
    pub out_shape: Vec<usize>,
}

impl MatMulGeometry {
    /// Number of matrices in the batch.
    pub fn batch_count(&self) -> usize {
        self.batch.iter().product()
    }

    /// Element offsets of the `A` and `B` matrices of flat batch index `i`.
    pub fn operand_offsets(&self, i: usize) -> (usize, usize) {
        let (mut rest, mut a_off, mut b_off) = (i, 0, 0);
        for d in (0..self.batch.len()).rev() {
            let idx = rest % self.batch[d];
            rest /= self.batch[d];
            a_off += idx * self.a_batch_strides[d];
            b_off += idx * self.b_batch_strides[d];
        }
        (a_off, b_off)
    }
}

/// Resolve MatMul shapes with numpy semantics.
///
/// ```
/// let g = hcal_core::matmul_geometry(&[2, 1, 3, 4], &[5, 4, 6]).unwrap();
/// assert_eq!((g.m, g.n, g.k), (3, 6, 4));
/// assert_eq!(g.out_shape, vec![2, 5, 3, 6]);
/// let v = hcal_core::matmul_geometry(&[4], &[4]).unwrap();
/// assert!(v.out_shape.is_empty());
/// ```
///
/// # Errors
/// [`Error::Shape`] for a rank-0 operand, a K mismatch or unbroadcastable batch dims.
pub fn matmul_geometry(a: &[usize], b: &[usize]) -> Result<MatMulGeometry> {
    const OP: &str = "MatMul";
    if a.is_empty() || b.is_empty() {
        return Err(Error::shape(OP, format!("operands must have rank >= 1, got A {a:?} and B {b:?}")));
    }
    // Then every stride below (a partial product of one operand's dims) fits.
    for (name, s) in [("A", a), ("B", b)] {
        if s.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1))).is_none() {
            return Err(Error::shape(OP, format!("{name} {s:?} is too large to address")));
        }
    }
    let a2: Vec<usize> = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
    let b2: Vec<usize> = if b.len() == 1 { vec![b[0], 1] } else { b.to_vec() };
    let (m, ka) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (kb, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if ka != kb {
        return Err(Error::shape(OP, format!("inner dims differ: A {a:?} has K={ka}, B {b:?} has K={kb}")));
    }
    let a_batch = &a2[..a2.len() - 2];
    let b_batch = &b2[..b2.len() - 2];
    let batch = broadcast_shapes(OP, a_batch, b_batch).map_err(|_| {
        Error::shape(OP, format!("batch dims of A {a:?} and B {b:?} do not broadcast ({a_batch:?} vs {b_batch:?})"))
    })?;
    let scale = |strides: Vec<usize>, mat: usize| strides.into_iter().map(|s| s * mat).collect();
    let a_batch_strides = scale(broadcast_strides(a_batch, &batch), m * ka);
    let b_batch_strides = scale(broadcast_strides(b_batch, &batch), kb * n);
    let mut out_shape = batch.clone();
    if a.len() > 1 {
        out_shape.push(m);
    }
    if b.len() > 1 {
        out_shape.push(n);
    }
    Ok(MatMulGeometry { batch, m, n, k: ka, a_batch_strides, b_batch_strides, out_shape })
}

/// Resolved geometry of a [`crate::Op::Gemm`] call:
/// `Y[m, n] = alpha * sum_k op(A)[m, k] op(B)[k, n] + beta * C[m, n]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GemmGeometry {
    /// Rows of `op(A)` and of `Y`.
    pub m: usize,
    /// Columns of `op(B)` and of `Y`.
    pub n: usize,
    /// Reduction length.
    pub k: usize,
    /// `A` is stored `[K, M]`.
    pub trans_a: bool,
    /// `B` is stored `[N, K]`.
    pub trans_b: bool,
    /// When `C` is present, its element strides over `(m, n)` (0 on broadcast dims).
    pub c_strides: Option<[usize; 2]>,
}

/// Resolve and check Gemm shapes (`A`, `B` rank 2; optional `C`
/// unidirectionally broadcast to `[M, N]`).
///
/// ```
/// use hcal_core::{DType, Gemm, TensorDesc, gemm_geometry};
/// let d = |s: &[usize]| TensorDesc::new(s, DType::F32);
/// let attrs = Gemm { trans_a: true, ..Gemm::default() };
/// let g = gemm_geometry(&attrs, &d(&[4, 3]), &d(&[4, 5]), Some(&d(&[5]))).unwrap();
/// assert_eq!((g.m, g.n, g.k), (3, 5, 4));
/// assert_eq!(g.c_strides, Some([0, 1]));
/// ```
///
/// # Errors
/// [`Error::Shape`] for operands that are not rank 2, a K mismatch or a `C`
/// that does not broadcast; [`Error::Attribute`] for non-finite alpha/beta.
pub fn gemm_geometry(
    attrs: &crate::Gemm,
    a: &TensorDesc,
    b: &TensorDesc,
    c: Option<&TensorDesc>,
) -> Result<GemmGeometry> {
    const OP: &str = "Gemm";
    if a.rank() != 2 || b.rank() != 2 {
        return Err(Error::shape(OP, format!("A {:?} and B {:?} must be rank 2", a.shape, b.shape)));
    }
    if !(attrs.alpha.is_finite() && attrs.beta.is_finite()) {
        return Err(Error::attribute(
            OP,
            "alpha",
            format!("alpha={} and beta={} must be finite", attrs.alpha, attrs.beta),
        ));
    }
    let (m, ka) = if attrs.trans_a { (a.shape[1], a.shape[0]) } else { (a.shape[0], a.shape[1]) };
    let (kb, n) = if attrs.trans_b { (b.shape[1], b.shape[0]) } else { (b.shape[0], b.shape[1]) };
    if ka != kb {
        return Err(Error::shape(
            OP,
            format!(
                "inner dims differ: op(A) is [{m}, {ka}] (A {:?}, transA={}), op(B) is [{kb}, {n}] (B {:?}, transB={})",
                a.shape, attrs.trans_a as u8, b.shape, attrs.trans_b as u8
            ),
        ));
    }
    let c_strides = match c {
        None => None,
        Some(c) => {
            if c.rank() > 2 || broadcast_shapes(OP, &c.shape, &[m, n]).ok().as_deref() != Some(&[m, n][..]) {
                return Err(Error::shape(OP, format!("C {:?} does not broadcast to [M={m}, N={n}]", c.shape)));
            }
            let s = broadcast_strides(&c.shape, &[m, n]);
            Some([s[0], s[1]])
        }
    };
    Ok(GemmGeometry { m, n, k: ka, trans_a: attrs.trans_a, trans_b: attrs.trans_b, c_strides })
}
