//! The resolved geometry of a call, computed in one place.
//!
//! [`geometries`] is the only function of hcal-wgpu that calls hcal-core's
//! `*_geometry`, `*_split` and `normalize_axis` resolvers. Its two callers are
//! `dispatch::record` (what the launchers run) and the top of
//! `support::decline` / `support::kernel_variant` (what `supports` and
//! `kernel_variant` report); launchers receive the resolved geometry and never
//! resolve shapes themselves, so the two can never disagree.

use hcal_core::{
    AttentionGeometry, AxisSplit, MatMulGeometry, Op, Result, RotaryGeometry, TensorDesc, attention_geometry,
    matmul_geometry, norm_split, normalize_axis, rotary_geometry, softmax_split,
};

/// What a call's kernels need to know of its shapes, beyond the operands.
#[derive(Clone, Debug)]
pub(crate) enum Geometry {
    /// MatMul: batch dims, broadcast strides, M, N, K.
    MatMul(MatMulGeometry),
    /// Gemm: `[M, N, K]` of `op(A) op(B)`.
    Gemm([usize; 3]),
    /// Attention: heads, lengths, head sizes, mask extents, scale.
    Attention(AttentionGeometry),
    /// RotaryEmbedding: layout, head size, rotated features, cache rows.
    Rotary(RotaryGeometry),
    /// Softmax: the tensor as `[outer, len, inner]` around the axis.
    Softmax(AxisSplit),
    /// Layer/RMS normalization: the first normalized axis and the tensor as `[outer, len]`.
    Norm {
        /// The first normalized axis (non-negative).
        axis: usize,
        /// `outer` rows of `len` normalized elements.
        split: AxisSplit,
    },
    /// Every other op: its launcher reads the operand shapes directly.
    Elementwise,
}

/// Resolve the geometry of `op` on these inputs (`None`: an absent optional input).
///
/// # Errors
/// What hcal-core's resolvers report for shapes that do not fit the op.
pub(crate) fn geometries(op: &Op, inputs: &[Option<&TensorDesc>]) -> Result<Geometry> {
    let d = |i: usize| inputs.get(i).copied().flatten();
    let required = |i: usize| {
        d(i).ok_or_else(|| hcal_core::Error::Arity { op: op.name(), detail: format!("input {i} is required") })
    };
    Ok(match op {
        Op::MatMul => Geometry::MatMul(matmul_geometry(&required(0)?.shape, &required(1)?.shape)?),
        Op::Gemm(attrs) => {
            let (a, b) = (&required(0)?.shape, &required(1)?.shape);
            let (m, k) = if attrs.trans_a { (a[1], a[0]) } else { (a[0], a[1]) };
            let n = if attrs.trans_b { b[0] } else { b[1] };
            Geometry::Gemm([m, n, k])
        }
        Op::Attention(attrs) => Geometry::Attention(attention_geometry(
            attrs,
            required(0)?,
            required(1)?,
            required(2)?,
            d(3),
            d(4).zip(d(5)),
        )?),
        Op::RotaryEmbedding(attrs) => {
            Geometry::Rotary(rotary_geometry(attrs, required(0)?, required(1)?, required(2)?, d(3))?)
        }
        Op::Softmax { axis } => {
            let x = required(0)?;
            Geometry::Softmax(softmax_split(&x.shape, normalize_axis("Softmax", *axis, x.rank())?))
        }
        Op::LayerNormalization { axis, .. } | Op::RmsNormalization { axis, .. } => {
            let x = required(0)?;
            let axis = normalize_axis(op.name(), *axis, x.rank())?;
            Geometry::Norm { axis, split: norm_split(&x.shape, axis) }
        }
        _ => Geometry::Elementwise,
    })
}
