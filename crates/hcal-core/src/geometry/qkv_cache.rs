//! SplitRotaryScatter: a packed query/key/value projection split into heads,
//! rotated, and its keys and values written into static caches.

use super::{RotaryGeometry, addressable_view};
use crate::{DType, Error, Result, TensorDesc};

/// Resolved geometry of an [`crate::Op::SplitRotaryScatter`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QkvCacheGeometry {
    /// Batch size `B`.
    pub batch: usize,
    /// New tokens `S`.
    pub seq: usize,
    /// Query heads `Hq`.
    pub q_heads: usize,
    /// Key/value heads `Hkv` (divides `Hq`).
    pub kv_heads: usize,
    /// Head size `D`.
    pub head_dim: usize,
    /// Positions each cache holds, `M`.
    pub cache_len: usize,
    /// Rotated features per head `R` (even, `<= D`).
    pub rotary_dim: usize,
    /// Rows of the cos/sin tables (positions they cover).
    pub table_rows: usize,
}

impl QkvCacheGeometry {
    /// Features per token of the packed input: `(Hq + 2 Hkv) D`.
    pub fn packed_width(&self) -> usize {
        (self.q_heads + 2 * self.kv_heads) * self.head_dim
    }

    /// The RotaryEmbedding geometry of the query and key heads taken together
    /// as one `[B, S, (Hq + Hkv) D]` input with position ids: the rotation
    /// this op applies is exactly that op's.
    pub fn rotary(&self) -> RotaryGeometry {
        RotaryGeometry {
            batch: self.batch,
            heads: self.q_heads + self.kv_heads,
            seq: self.seq,
            head_dim: self.head_dim,
            rotary_dim: self.rotary_dim,
            packed_3d: true,
            with_position_ids: true,
            cache_rows: self.table_rows,
        }
    }
}

/// Resolve and check SplitRotaryScatter inputs: `qkv [B, S, (Hq + 2 Hkv) D]`,
/// caches `[B, Hkv, M, D]` of qkv's dtype with `S <= M`, `write_indices`
/// i64 `[B]`, and cos/sin tables `[P, R/2]` of qkv's dtype.
///
/// # Errors
/// Naming the operand and dims: a non-float qkv, head counts that are zero or
/// do not divide, a packed width that is not a whole number of heads, caches
/// or tables of another shape or dtype, a bad rotary size.
pub fn qkv_cache_geometry(
    attrs: &crate::SplitRotaryScatter,
    qkv: &TensorDesc,
    caches: [&TensorDesc; 2],
    write_indices: &TensorDesc,
    tables: [&TensorDesc; 2],
) -> Result<QkvCacheGeometry> {
    const OP: &str = "SplitRotaryScatter";
    if !qkv.dtype.is_float() {
        return Err(Error::float_only(OP, "qkv", qkv.dtype));
    }
    let (hq, hkv) = (attrs.q_num_heads, attrs.kv_num_heads);
    if hq == 0 || hkv == 0 || hq % hkv != 0 {
        return Err(Error::attribute(
            OP,
            "q_num_heads",
            format!("{hq} must be a positive multiple of kv_num_heads={hkv} (itself positive)"),
        ));
    }
    if qkv.rank() != 3 {
        return Err(Error::shape(OP, format!("qkv {:?} must be 3-D [B, S, (Hq + 2 Hkv) D]", qkv.shape)));
    }
    let (batch, seq, width) = (qkv.shape[0], qkv.shape[1], qkv.shape[2]);
    let heads = hkv.checked_mul(2).and_then(|kv| kv.checked_add(hq)).ok_or_else(|| {
        Error::attribute(OP, "q_num_heads", format!("{hq} + 2 x kv_num_heads={hkv} heads overflow usize"))
    })?;
    if width % heads != 0 {
        return Err(Error::shape(
            OP,
            format!("qkv {:?}: width {width} is not {hq} + 2 x {hkv} = {heads} heads of one size", qkv.shape),
        ));
    }
    let head_dim = width / heads;
    addressable_view(OP, "qkv", &[batch, seq, heads, head_dim])?;
    for (name, cache) in ["k_cache", "v_cache"].into_iter().zip(caches) {
        if cache.dtype != qkv.dtype {
            return Err(Error::dtype(OP, format!("qkv is {}, {name} is {}", qkv.dtype, cache.dtype)));
        }
        let ok = cache.rank() == 4
            && cache.shape[0] == batch
            && cache.shape[1] == hkv
            && cache.shape[3] == head_dim
            && cache.shape[2] >= seq;
        if !ok {
            return Err(Error::shape(
                OP,
                format!("{name} {:?} must be [B={batch}, Hkv={hkv}, M, D={head_dim}] with M >= S={seq}", cache.shape),
            ));
        }
    }
    if caches[0].shape != caches[1].shape {
        return Err(Error::shape(
            OP,
            format!("k_cache {:?} and v_cache {:?} differ", caches[0].shape, caches[1].shape),
        ));
    }
    if write_indices.dtype != DType::I64 {
        return Err(Error::dtype(OP, format!("write_indices is {}, expected i64", write_indices.dtype)));
    }
    if write_indices.shape != [batch] {
        return Err(Error::shape(OP, format!("write_indices {:?} must be [B={batch}]", write_indices.shape)));
    }
    let rotary_dim = super::rotary::rotary_dim(OP, attrs.rotary_embedding_dim, head_dim)?;
    let half = rotary_dim / 2;
    for (name, t) in ["cos_cache", "sin_cache"].into_iter().zip(tables) {
        if t.dtype != qkv.dtype {
            return Err(Error::dtype(OP, format!("qkv is {}, {name} is {}", qkv.dtype, t.dtype)));
        }
        if t.rank() != 2 || t.shape[1] != half {
            return Err(Error::shape(OP, format!("{name} {:?} must be [max_position, R/2={half}]", t.shape)));
        }
    }
    if tables[0].shape != tables[1].shape {
        return Err(Error::shape(
            OP,
            format!("cos_cache {:?} and sin_cache {:?} differ", tables[0].shape, tables[1].shape),
        ));
    }
    Ok(QkvCacheGeometry {
        batch,
        seq,
        q_heads: hq,
        kv_heads: hkv,
        head_dim,
        cache_len: caches[0].shape[2],
        rotary_dim,
        table_rows: tables[0].shape[0],
    })
}
