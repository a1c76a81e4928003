//! Attention: heads, grouped-query ratio, lengths, the past cache and the mask.

use super::addressable_view;
use crate::{DType, Error, Result, TensorDesc};

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
    /// `nonpad_kv_seqlen` (i64 `[B]`, input 6) is given: K and V are a
    /// static cache of which the first `n_b` keys are valid (see [`crate::Attention`]).
    pub nonpad_kv_seqlen: bool,
}

impl AttentionGeometry {
    /// Total keys attended, `T = P + Skv`.
    pub fn total_len(&self) -> usize {
        self.past_len + self.kv_len
    }

    /// The valid keys of batch `b` given its `nonpad_kv_seqlen` value `n`:
    /// `n` clamped to `[0, T]`.
    pub fn valid_keys(&self, n: i64) -> usize {
        usize::try_from(n.max(0)).unwrap_or(usize::MAX).min(self.total_len())
    }

    /// Whether key `j` is hidden from query row `i` by the causal mask and
    /// the valid length: with `nonpad_kv_seqlen` (`valid = Some(n_b)`, from
    /// [`AttentionGeometry::valid_keys`]) keys `j >= n_b` and, when causal,
    /// `j > i + n_b - Sq`; without it, when causal, `j > i + P`.
    ///
    /// ```
    /// use hcal_core::{Attention, DType, Geometry, Op, OpSignature, TensorDesc};
    /// let q = TensorDesc::new([1, 1, 2, 4], DType::F32);
    /// let kv = TensorDesc::new([1, 1, 8, 4], DType::F32);
    /// let n = TensorDesc::new([1], DType::I64);
    /// let op = Op::Attention(Attention { is_causal: true, ..Default::default() });
    /// let inputs = vec![Some(q), Some(kv.clone()), Some(kv), None, None, None, Some(n)];
    /// let sig = OpSignature::new(op, inputs).unwrap();
    /// let Geometry::Attention(g) = sig.geometry() else { unreachable!() };
    /// // Five valid keys, two queries: query 0 sees keys 0..=3, query 1 keys 0..=4.
    /// assert!(!g.key_hidden(true, Some(5), 0, 3) && g.key_hidden(true, Some(5), 0, 4));
    /// assert!(!g.key_hidden(true, Some(5), 1, 4) && g.key_hidden(true, Some(5), 1, 5));
    /// ```
    pub fn key_hidden(&self, is_causal: bool, valid: Option<usize>, i: usize, j: usize) -> bool {
        match valid {
            // j > i + n - Sq, without going below zero.
            Some(n) => j >= n || (is_causal && j + self.q_len > i + n),
            None => is_causal && j > i + self.past_len,
        }
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
/// past tensors that do not match the new keys, a `nonpad_kv_seqlen` that is
/// not i64 `[B]` or comes with a past.
pub fn attention_geometry(
    attrs: &crate::Attention,
    q: &TensorDesc,
    k: &TensorDesc,
    v: &TensorDesc,
    mask: Option<&TensorDesc>,
    past: Option<(&TensorDesc, &TensorDesc)>,
    nonpad_kv_seqlen: Option<&TensorDesc>,
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
    if let Some(n) = nonpad_kv_seqlen {
        if n.dtype != DType::I64 || n.shape != [batch] {
            return Err(Error::shape(OP, format!("nonpad_kv_seqlen {n} must be i64[B={batch}]")));
        }
        if past.is_some() {
            return Err(Error::arity(
                OP,
                "nonpad_kv_seqlen (a static cache given as K and V) cannot be used with past_key/past_value",
            ));
        }
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
        nonpad_kv_seqlen: nonpad_kv_seqlen.is_some(),
    })
}
