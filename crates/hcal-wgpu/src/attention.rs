//! Launchers for `shaders/attention.wgsl`: KV-cache append, then attention.

use hcal_core::{Attention, AttentionGeometry, Result};

use crate::pipeline::kernel;
use crate::record::{Ctx, Operand, bits};

/// Largest head size the kernel holds in workgroup memory and registers.
pub(crate) const MAX_HEAD_DIM: usize = 256;

/// Inputs of one attention call (f32 views).
pub(crate) struct Inputs<'a> {
    pub(crate) q: &'a Operand,
    pub(crate) k: &'a Operand,
    pub(crate) v: &'a Operand,
    /// The mask and whether it was boolean (now 0/1 floats).
    pub(crate) mask: Option<(&'a Operand, bool)>,
    pub(crate) past: Option<(&'a Operand, &'a Operand)>,
}

/// Write `present = concat(past, new)` as `[B, Hkv, T, dim]` into `dst`.
fn append(
    ctx: &mut Ctx<'_>,
    g: &AttentionGeometry,
    past: Option<&Operand>,
    new: &Operand,
    dim: usize,
    dst: &wgpu::Buffer,
) -> Result<()> {
    let n = g.batch * g.kv_heads * g.total_len() * dim;
    let params = [
        n as u32,
        g.batch as u32,
        g.kv_heads as u32,
        g.past_len as u32,
        g.kv_len as u32,
        dim as u32,
        u32::from(g.packed_3d),
    ];
    let past_buf = past.map_or_else(|| ctx.dummy.clone(), |p| (*p.buf).clone());
    ctx.per_item(kernel("attention", "kv_concat"), &params, &[(6, &past_buf), (7, &new.buf), (8, dst)], n)
}

/// Attention with present keys/values written to `present` (or to scratch
/// buffers when the caller did not ask for them).
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    attrs: &Attention,
    g: &AttentionGeometry,
    inputs: Inputs<'_>,
    y: &Operand,
    present: [Option<&Operand>; 2],
) -> Result<()> {
    let t = g.total_len();
    let mut cache = Vec::with_capacity(2);
    for (slot, (new, dim, past)) in
        [(inputs.k, g.head_dim, inputs.past.map(|p| p.0)), (inputs.v, g.v_head_dim, inputs.past.map(|p| p.1))]
            .into_iter()
            .enumerate()
    {
        let dst = match present[slot] {
            Some(p) => p.buf.clone(),
            None => ctx.scratch(g.batch * g.kv_heads * t * dim * 4)?,
        };
        append(ctx, g, past, new, dim, &dst)?;
        cache.push(dst);
    }
    let (mask_kind, [mb, mh, _, tm]) = match (inputs.mask, g.mask) {
        (Some((_, true)), Some((_, s))) => (1, s),
        (Some((_, false)), Some((_, s))) => (2, s),
        _ => (0, [1, 1, 1, 0]),
    };
    let rows = g.batch * g.q_heads * g.q_len;
    let params = [
        rows as u32,
        g.q_heads as u32,
        g.kv_heads as u32,
        g.q_len as u32,
        t as u32,
        g.past_len as u32,
        g.head_dim as u32,
        g.v_head_dim as u32,
        u32::from(g.packed_3d),
        bits(g.scale as f32),
        bits(attrs.softcap),
        u32::from(attrs.is_causal),
        mask_kind,
        mb as u32,
        mh as u32,
        tm as u32,
    ];
    let mask_buf = inputs.mask.map_or_else(|| ctx.dummy.clone(), |(m, _)| (*m.buf).clone());
    ctx.per_row(
        kernel("attention", "attention"),
        &params,
        &[(1, &inputs.q.buf), (2, &cache[0]), (3, &cache[1]), (4, &mask_buf), (5, &y.buf)],
        rows,
    )
}
