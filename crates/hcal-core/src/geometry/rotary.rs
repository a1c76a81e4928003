//! RotaryEmbedding: heads, rotated features and cache rows.

use super::addressable_view;
use crate::{DType, Error, Result, TensorDesc};

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

/// The rotated features per head, `R`: `requested`, or the whole head for
/// 0; even and at most `head_dim`, else an error naming `op`.
pub(super) fn rotary_dim(op: &'static str, requested: usize, head_dim: usize) -> Result<usize> {
    let rotary_dim = if requested == 0 { head_dim } else { requested };
    if rotary_dim > head_dim || rotary_dim % 2 != 0 {
        return Err(Error::attribute(
            op,
            "rotary_embedding_dim",
            format!("{rotary_dim} must be even and <= head size {head_dim}"),
        ));
    }
    Ok(rotary_dim)
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
    let rotary_dim = rotary_dim(OP, attrs.rotary_embedding_dim, head_dim)?;
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
