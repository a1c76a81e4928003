//! Launcher for `shaders/qkv_cache.wgsl`: SplitRotaryScatter in one
//! dispatch, in place when the present caches are the past ones (no copy at
//! all), else after one buffer copy of each past cache into its present.
//! f32 operands, each within one storage binding (`support.rs` declines the rest).

use hcal_core::{QkvCacheGeometry, Result, SplitRotaryScatter};

use crate::ctx::{Ctx, Operand};
use crate::params::QkvCacheParams;
use crate::pipeline::kernel;

/// The operands of one call: the packed projection, its write indices (raw
/// i64) and tables, and the outputs.
pub(crate) struct QkvCacheCall<'a> {
    /// `qkv [B, S, (Hq + 2 Hkv) D]`.
    pub(crate) qkv: &'a Operand,
    /// The past caches, when the present ones are other tensors.
    pub(crate) past: [Option<&'a Operand>; 2],
    /// `write_indices`, i64 `[B]`.
    pub(crate) write_indices: &'a Operand,
    /// cos and sin tables `[P, R/2]`.
    pub(crate) tables: [&'a Operand; 2],
    /// `q_out [B, Hq, S, D]`.
    pub(crate) q_out: &'a Operand,
    /// The present key and value caches.
    pub(crate) present: [&'a Operand; 2],
}

/// Record the call on its resolved geometry.
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    attrs: &SplitRotaryScatter,
    g: &QkvCacheGeometry,
    call: &QkvCacheCall<'_>,
) -> Result<()> {
    for (past, present) in call.past.iter().zip(call.present) {
        if let Some(past) = past {
            ctx.rec.copy(ctx.gpu, &past.buf, &present.buf, present.desc.byte_len()? as u64);
        }
    }
    let elements = call.qkv.desc.numel();
    let params = QkvCacheParams {
        elements: elements as u32,
        seq: g.seq as u32,
        q_heads: g.q_heads as u32,
        kv_heads: g.kv_heads as u32,
        head_dim: g.head_dim as u32,
        cache_len: g.cache_len as u32,
        rotary_dim: g.rotary_dim as u32,
        interleaved: u32::from(attrs.interleaved),
        table_rows: g.table_rows as u32,
    };
    let bindings = [
        (1, &*call.qkv.buf),
        (2, &*call.tables[0].buf),
        (3, &*call.tables[1].buf),
        (4, &*call.write_indices.buf),
        (5, &*call.q_out.buf),
        (6, &*call.present[0].buf),
        (7, &*call.present[1].buf),
    ];
    ctx.per_item(kernel("qkv_cache", "split_rotary_scatter"), &params, &bindings, elements)
}
