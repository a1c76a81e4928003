//! Shape rules shared by validation and by every backend.
//!
//! Backends index tensors with these resolved geometries instead of re-deriving
//! shape rules, so a rule lives in exactly one place.

use crate::{DType, Error, Result, TensorDesc};

/// Resolve a possibly negative `axis` against `rank` (ONNX: `-rank <= axis < rank`).
///
/// ```
/// assert_eq!(hcal_core::normalize_axis("Softmax", -1, 3).unwrap(), 2);
/// assert!(hcal_core::normalize_axis("Softmax", 3, 3).is_err());
/// ```
///
/// # Errors
/// [`Error::Attribute`] naming `op` when the axis is out of range.
pub fn normalize_axis(op: &'static str, axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if axis < -r || axis >= r {
        return Err(Error::attribute(
            op,
            "axis",
            format!("{axis} is out of range for rank {rank} (valid: {} ..= {})", -r, r - 1),
        ));
    }
    Ok(if axis < 0 { (axis + r) as usize } else { axis as usize })
}

/// Numpy broadcasting of two shapes: align from the right; each pair of dims
/// must be equal or one of them 1.
///
/// ```
/// assert_eq!(hcal_core::broadcast_shapes("Add", &[3, 1, 5], &[4, 1]).unwrap(), vec![3, 4, 5]);
/// assert!(hcal_core::broadcast_shapes("Add", &[2, 3], &[4]).is_err());
/// ```
///
/// # Errors
/// [`Error::Shape`] naming both shapes and the clashing dim.
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for k in 0..rank {
        let da = if k + a.len() >= rank { a[k + a.len() - rank] } else { 1 };
        let db = if k + b.len() >= rank { b[k + b.len() - rank] } else { 1 };
        out[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            (x, y) => {
                return Err(Error::shape(
                    op,
                    format!("{a:?} and {b:?} do not broadcast: dim {k} of the result is {x} vs {y}"),
                ));
            }
        };
    }
    Ok(out)
}

/// For an operand of `shape` broadcast to `out_shape` (already checked), the
/// element strides to use when walking `out_shape`: 0 on broadcast dims.
///
/// ```
/// assert_eq!(hcal_core::broadcast_strides(&[4, 1], &[3, 4, 5]), vec![0, 1, 0]);
/// ```
pub fn broadcast_strides(shape: &[usize], out_shape: &[usize]) -> Vec<usize> {
    let strides = crate::contiguous_strides(shape);
    let offset = out_shape.len() - shape.len();
    (0..out_shape.len()).map(|k| if k < offset || shape[k - offset] == 1 { 0 } else { strides[k - offset] }).collect()
}

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

/// Split of a tensor around a normalized axis: `outer` groups of `inner` elements.
///
/// For softmax (`inner_from_axis = false`) the tensor is `[outer, len, inner]`;
/// for the normalizations (`[axis, rank)` flattened) it is `[outer, len]`.
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

/// Resolved geometry of an [`crate::Op::Attention`] call (all heads split out).
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionGeometry {
    /// Batch size `B`.
    pub batch: usize,
    /// Query heads `Hq`.
    pub q_heads: usize,
    /// Key/value heads `Hkv` (divides `Hq`).
    pub kv_heads: usize,
    /// Query length `Sq`.
    pub q_len: usize,
    /// New keys in this call `Skv`.
    pub kv_len: usize,
    /// Cached keys before this call `P` (0 without past).
    pub past_len: usize,
    /// Head size of Q and K, `D`.
    pub head_dim: usize,
    /// Head size of V, `Dv`.
    pub v_head_dim: usize,
    /// Inputs were `[B, S, H*D]` (output is then `[B, Sq, Hq*Dv]`).
    pub packed_3d: bool,
    /// The mask, if any: its dtype and its shape right-aligned to 4-D
    /// `[mb, mh, Sq, Tm]`, where `mb` is 1 or `B`, `mh` 1 or `Hq`, and
    /// `Tm <= T`; keys `j >= Tm` count as masked.
    pub mask: Option<(DType, [usize; 4])>,
    /// The effective scale (attribute or `1/sqrt(D)`).
    pub scale: f64,
}

impl AttentionGeometry {
    /// Total keys attended, `T = P + Skv`.
    pub fn total_len(&self) -> usize {
        self.past_len + self.kv_len
    }

    /// Query heads sharing one key/value head.
    pub fn group_size(&self) -> usize {
        self.q_heads / self.kv_heads
    }

    /// Element offset of `(b, h, s, 0)` in a tensor with `heads` heads of size
    /// `dim` and `len` rows, in the call's layout (4-D `[B,H,S,D]` or 3-D `[B,S,H*D]`).
    pub fn offset(&self, b: usize, h: usize, s: usize, heads: usize, len: usize, dim: usize) -> usize {
        if self.packed_3d { ((b * len + s) * heads + h) * dim } else { ((b * heads + h) * len + s) * dim }
    }
}

/// Resolve and check Attention inputs (`past_*` are always 4-D).
///
/// # Errors
/// Naming the operand and dims: rank mismatches, head counts that are missing,
/// inconsistent or not dividing, head-size mismatches, bad mask shape or dtype,
/// past tensors that do not match the new keys.
pub fn attention_geometry(
    attrs: &crate::Attention,
    q: &TensorDesc,
    k: &TensorDesc,
    v: &TensorDesc,
    mask: Option<&TensorDesc>,
    past: Option<(&TensorDesc, &TensorDesc)>,
) -> Result<AttentionGeometry> {
    const OP: &str = "Attention";
    let (rq, rk, rv) = (q.rank(), k.rank(), v.rank());
    if !(rq == rk && rk == rv && (rq == 3 || rq == 4)) {
        return Err(Error::shape(
            OP,
            format!("Q, K, V must all be 3-D or all 4-D, got Q {:?}, K {:?}, V {:?}", q.shape, k.shape, v.shape),
        ));
    }
    let packed_3d = rq == 3;
    let batch = q.shape[0];
    if k.shape[0] != batch || v.shape[0] != batch {
        return Err(Error::shape(OP, format!("batch dims differ: Q {:?}, K {:?}, V {:?}", q.shape, k.shape, v.shape)));
    }
    let (q_heads, kv_heads, q_len, kv_len, head_dim, k_dim, v_head_dim, v_len);
    if packed_3d {
        let hq = attrs.q_num_heads.ok_or_else(|| Error::attribute(OP, "q_num_heads", "is required for 3-D inputs"))?;
        let hkv =
            attrs.kv_num_heads.ok_or_else(|| Error::attribute(OP, "kv_num_heads", "is required for 3-D inputs"))?;
        if hq == 0 || hkv == 0 {
            return Err(Error::attribute(
                OP,
                "q_num_heads",
                format!("head counts must be >= 1, got q_num_heads={hq}, kv_num_heads={hkv}"),
            ));
        }
        for (name, t, h) in [("Q", q, hq), ("K", k, hkv), ("V", v, hkv)] {
            if t.shape[2] % h != 0 {
                return Err(Error::shape(
                    OP,
                    format!("{name} {:?}: hidden size {} is not divisible by {h} heads", t.shape, t.shape[2]),
                ));
            }
        }
        (q_heads, kv_heads) = (hq, hkv);
        (q_len, kv_len, v_len) = (q.shape[1], k.shape[1], v.shape[1]);
        (head_dim, k_dim, v_head_dim) = (q.shape[2] / hq, k.shape[2] / hkv, v.shape[2] / hkv);
    } else {
        (q_heads, kv_heads) = (q.shape[1], k.shape[1]);
        if v.shape[1] != kv_heads {
            return Err(Error::shape(OP, format!("K {:?} and V {:?} have different head counts", k.shape, v.shape)));
        }
        if let Some(h) = attrs.q_num_heads.filter(|&h| h != q_heads) {
            return Err(Error::attribute(OP, "q_num_heads", format!("{h} disagrees with Q {:?}", q.shape)));
        }
        if let Some(h) = attrs.kv_num_heads.filter(|&h| h != kv_heads) {
            return Err(Error::attribute(OP, "kv_num_heads", format!("{h} disagrees with K {:?}", k.shape)));
        }
        (q_len, kv_len, v_len) = (q.shape[2], k.shape[2], v.shape[2]);
        (head_dim, k_dim, v_head_dim) = (q.shape[3], k.shape[3], v.shape[3]);
    }
    if kv_heads == 0 || q_heads % kv_heads != 0 {
        return Err(Error::shape(
            OP,
            format!(
                "q heads ({q_heads}) must be a multiple of kv heads ({kv_heads}) (Q {:?}, K {:?})",
                q.shape, k.shape
            ),
        ));
    }
    if k_dim != head_dim {
        return Err(Error::shape(
            OP,
            format!("Q head size {head_dim} differs from K head size {k_dim} (Q {:?}, K {:?})", q.shape, k.shape),
        ));
    }
    if v_len != kv_len {
        return Err(Error::shape(
            OP,
            format!("K has {kv_len} positions but V has {v_len} (K {:?}, V {:?})", k.shape, v.shape),
        ));
    }
    for (name, t) in [("Q", q), ("K", k), ("V", v)] {
        if !t.dtype.is_float() {
            return Err(Error::float_only(OP, name, t.dtype));
        }
        if t.dtype != q.dtype {
            return Err(Error::dtype(OP, format!("Q is {}, {name} is {}", q.dtype, t.dtype)));
        }
    }
    let mut past_len = 0;
    if let Some((pk, pv)) = past {
        for (name, t, dim) in [("past_key", pk, head_dim), ("past_value", pv, v_head_dim)] {
            if t.dtype != q.dtype {
                return Err(Error::dtype(OP, format!("Q is {}, {name} is {}", q.dtype, t.dtype)));
            }
            if t.rank() != 4 || t.shape[0] != batch || t.shape[1] != kv_heads || t.shape[3] != dim {
                return Err(Error::shape(
                    OP,
                    format!("{name} {:?} must be [B={batch}, Hkv={kv_heads}, P, {dim}]", t.shape),
                ));
            }
        }
        if pk.shape[2] != pv.shape[2] {
            return Err(Error::shape(
                OP,
                format!("past_key {:?} and past_value {:?} have different lengths", pk.shape, pv.shape),
            ));
        }
        past_len = pk.shape[2];
    }
    let total = past_len
        .checked_add(kv_len)
        .ok_or_else(|| Error::shape(OP, format!("past length {past_len} + new length {kv_len} overflows usize")))?;
    let mask = match mask {
        None => None,
        Some(m) => {
            if m.dtype != DType::Bool && m.dtype != q.dtype {
                return Err(Error::dtype(
                    OP,
                    format!("attn_mask is {}, expected bool or {} (the dtype of Q)", m.dtype, q.dtype),
                ));
            }
            if m.rank() < 2 || m.rank() > 4 {
                return Err(Error::shape(OP, format!("attn_mask {:?} must have rank 2, 3 or 4", m.shape)));
            }
            let mut s4 = [1usize; 4];
            s4[4 - m.rank()..].copy_from_slice(&m.shape);
            let ok_b = s4[0] == 1 || s4[0] == batch;
            let ok_h = s4[1] == 1 || s4[1] == q_heads;
            if !ok_b || !ok_h || s4[2] != q_len || s4[3] > total {
                return Err(Error::shape(
                    OP,
                    format!(
                        "attn_mask {:?} must broadcast to [B={batch}, Hq={q_heads}, Sq={q_len}, T] with its last dim <= T={total}",
                        m.shape
                    ),
                ));
            }
            Some((m.dtype, s4))
        }
    };
    if let Some(s) = attrs.scale.filter(|s| !s.is_finite()) {
        return Err(Error::attribute(OP, "scale", format!("{s} is not finite")));
    }
    if !(attrs.softcap.is_finite() && attrs.softcap >= 0.0) {
        return Err(Error::attribute(OP, "softcap", format!("{} must be finite and >= 0", attrs.softcap)));
    }
    // Packed 3-D inputs with a hidden size of 0 split into any number of
    // heads: the [B, H, S, D] views must be addressable like the tensors.
    for (name, view) in [
        ("Q", [batch, q_heads, q_len, head_dim]),
        ("K", [batch, kv_heads, total, head_dim]),
        ("V", [batch, kv_heads, total, v_head_dim]),
        ("Y", [batch, q_heads, q_len, v_head_dim]),
    ] {
        addressable_view(OP, name, &view)?;
    }
    let scale = attrs.scale.map(f64::from).unwrap_or_else(|| 1.0 / (head_dim as f64).sqrt());
    Ok(AttentionGeometry {
        batch,
        q_heads,
        kv_heads,
        q_len,
        kv_len,
        past_len,
        head_dim,
        v_head_dim,
        packed_3d,
        mask,
        scale,
    })
}

/// A tensor split into heads, `[B, H, S, D]`, must be addressable (its
/// extents, zero dims counted as 1, multiply within `usize`), so every index
/// a backend computes over it fits.
fn addressable_view(op: &'static str, name: &str, view: &[usize; 4]) -> Result<()> {
    match view.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1))) {
        Some(_) => Ok(()),
        None => Err(Error::shape(op, format!("{name} split into heads {view:?} is too large to address"))),
    }
}

/// Resolved geometry of an [`crate::Op::RotaryEmbedding`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotaryGeometry {
    /// Batch size.
    pub batch: usize,
    /// Heads.
    pub heads: usize,
    /// Sequence length.
    pub seq: usize,
    /// Head size.
    pub head_dim: usize,
    /// Rotated features per head (even, <= head size).
    pub rotary_dim: usize,
    /// Input was `[B, S, H*D]`.
    pub packed_3d: bool,
    /// Caches are indexed by position ids (else by `(b, s)`).
    pub with_position_ids: bool,
    /// Rows in the caches (max position + 1 with ids; else `B*S`).
    pub cache_rows: usize,
}

impl RotaryGeometry {
    /// Element offset of `(b, h, s, 0)` in X / Y.
    pub fn offset(&self, b: usize, h: usize, s: usize) -> usize {
        if self.packed_3d {
            ((b * self.seq + s) * self.heads + h) * self.head_dim
        } else {
            ((b * self.heads + h) * self.seq + s) * self.head_dim
        }
    }
}

/// Resolve and check RotaryEmbedding inputs.
///
/// # Errors
/// Naming the operand and dims.
pub fn rotary_geometry(
    attrs: &crate::RotaryEmbedding,
    x: &TensorDesc,
    cos: &TensorDesc,
    sin: &TensorDesc,
    position_ids: Option<&TensorDesc>,
) -> Result<RotaryGeometry> {
    const OP: &str = "RotaryEmbedding";
    if !x.dtype.is_float() {
        return Err(Error::float_only(OP, "X", x.dtype));
    }
    for (name, t) in [("cos_cache", cos), ("sin_cache", sin)] {
        if t.dtype != x.dtype {
            return Err(Error::dtype(OP, format!("X is {}, {name} is {}", x.dtype, t.dtype)));
        }
    }
    let (batch, heads, seq, head_dim, packed_3d) = match x.rank() {
        4 => {
            if let Some(h) = attrs.num_heads.filter(|&h| h != x.shape[1]) {
                return Err(Error::attribute(OP, "num_heads", format!("{h} disagrees with X {:?}", x.shape)));
            }
            (x.shape[0], x.shape[1], x.shape[2], x.shape[3], false)
        }
        3 => {
            let h = attrs
                .num_heads
                .filter(|&h| h > 0)
                .ok_or_else(|| Error::attribute(OP, "num_heads", "a positive value is required for 3-D input"))?;
            if x.shape[2] % h != 0 {
                return Err(Error::shape(
                    OP,
                    format!("X {:?}: hidden size {} is not divisible by num_heads={h}", x.shape, x.shape[2]),
                ));
            }
            (x.shape[0], h, x.shape[1], x.shape[2] / h, true)
        }
        _ => return Err(Error::shape(OP, format!("X {:?} must be 3-D [B, S, H*D] or 4-D [B, H, S, D]", x.shape))),
    };
    addressable_view(OP, "X", &[batch, heads, seq, head_dim])?;
    let rotary_dim = if attrs.rotary_embedding_dim == 0 { head_dim } else { attrs.rotary_embedding_dim };
    if rotary_dim > head_dim || rotary_dim % 2 != 0 {
        return Err(Error::attribute(
            OP,
            "rotary_embedding_dim",
            format!("{rotary_dim} must be even and <= head size {head_dim}"),
        ));
    }
    let half = rotary_dim / 2;
    let cache_rows = match position_ids {
        Some(p) => {
            if p.dtype != DType::I64 {
                return Err(Error::dtype(OP, format!("position_ids is {}, expected i64", p.dtype)));
            }
            if p.shape != [batch, seq] {
                return Err(Error::shape(OP, format!("position_ids {:?} must be [B={batch}, S={seq}]", p.shape)));
            }
            for (name, t) in [("cos_cache", cos), ("sin_cache", sin)] {
                if t.rank() != 2 || t.shape[1] != half {
                    return Err(Error::shape(
                        OP,
                        format!("{name} {:?} must be [max_position, {half}] with position_ids", t.shape),
                    ));
                }
            }
            if cos.shape != sin.shape {
                return Err(Error::shape(
                    OP,
                    format!("cos_cache {:?} and sin_cache {:?} differ", cos.shape, sin.shape),
                ));
            }
            cos.shape[0]
        }
        None => {
            for (name, t) in [("cos_cache", cos), ("sin_cache", sin)] {
                if t.shape != [batch, seq, half] {
                    return Err(Error::shape(
                        OP,
                        format!("{name} {:?} must be [B={batch}, S={seq}, {half}] without position_ids", t.shape),
                    ));
                }
            }
            batch.checked_mul(seq).ok_or_else(|| {
                Error::shape(OP, format!("X {:?}: B={batch} x S={seq} cache rows overflow usize", x.shape))
            })?
        }
    };
    Ok(RotaryGeometry {
        batch,
        heads,
        seq,
        head_dim,
        rotary_dim,
        packed_3d,
        with_position_ids: position_ids.is_some(),
        cache_rows,
    })
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
