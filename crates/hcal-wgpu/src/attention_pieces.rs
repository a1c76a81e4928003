//! Attention whose tensors exceed one storage binding, in pieces.
//!
//! Every query row reads only its batch item's keys and values of its KV
//! head, and the mask rows of its batch item and head, so a call splits into
//! independent pieces of one batch item and a group of KV heads (with the
//! query heads that read them). Each piece's slices of Q, K, V, the caches,
//! the mask and `nonpad_kv_seqlen` are contiguous in the `[B, H, S, D]`
//! layouts; they are copied into buffers that fit one binding (copies are not
//! limited by the binding size), the piece runs as a call of its own, and its
//! output and present caches are copied back. Packed 3-D inputs are first
//! transposed to `[B, H, S, D]` (the transpose splits into windows itself).
//!
//! Pieces keep the whole call's decisions ([`Fixed`]: chunks of keys, blocks
//! of query rows; the path but for the composed path's fit), so each row is
//! computed as the whole call would compute it: split and unsplit runs agree
//! bit for bit (`tests/split.rs`). (The composed path's products are
//! autotuned by shape and batch count, which a piece has less of: where a
//! piece's kernel differs from the whole call's, bits may differ by rounding.)
//! A real case: a KV cache of 8 heads x 33,000 keys x 128 f32 (135 MB) is
//! more than lavapipe's 128 MiB binding.

use std::sync::Arc;

use hcal_core::{Attention, AttentionGeometry, DType, Error, Result, TensorDesc};

use crate::attention::{Fixed, Inputs, record_with};
use crate::ctx::{Ctx, Operand};
use crate::split::whole;
use crate::transpose;

/// f32 elements of each tensor of one KV head's piece of a batch item that
/// grows with the heads, and of the mask when it is shared by all heads.
fn per_head_elements(g: &AttentionGeometry) -> ([usize; 8], usize) {
    let (group, sq, t) = (g.q_heads / g.kv_heads.max(1), g.q_len, g.total_len());
    let (d, dv) = (g.head_dim, g.v_head_dim);
    let (mask_per_head, mask_shared) = match g.mask {
        Some((_, [_, mh, _, tm])) if mh > 1 => (group * sq * tm, 0),
        Some((_, [_, _, _, tm])) => (0, sq * tm),
        None => (0, 0),
    };
    let per_head = [
        group * sq * d,
        group * sq * dv,
        g.kv_len * d,
        g.kv_len * dv,
        g.past_len * d,
        g.past_len * dv,
        t * d.max(dv),
        mask_per_head,
    ];
    (per_head, mask_shared)
}

/// Whether every tensor of the call (f32 views: Q, K, V, the caches, the
/// mask, Y) fits one binding of `max_binding` bytes, so it runs whole.
pub(crate) fn fits_whole(g: &AttentionGeometry, max_binding: u64) -> bool {
    let (per_head, _) = per_head_elements(g);
    let heads = g.batch * g.kv_heads;
    let mask = g.mask.map_or(0, |(_, [mb, mh, sq, tm])| mb * mh * sq * tm);
    per_head.iter().all(|&e| whole(e.saturating_mul(heads).saturating_mul(4), max_binding))
        && whole(mask.saturating_mul(4), max_binding)
}

/// KV heads per piece: the most heads of one batch item whose slices each
/// fit one binding; `None` when one head's do not.
pub(crate) fn heads_per_piece(g: &AttentionGeometry, max_binding: u64) -> Option<usize> {
    let (per_head, mask_shared) = per_head_elements(g);
    let largest = per_head.iter().copied().max().unwrap_or(0).max(1);
    let fits = |heads: usize| whole(largest.saturating_mul(heads).saturating_mul(4), max_binding);
    if !fits(1) || !whole(mask_shared.saturating_mul(4), max_binding) {
        return None;
    }
    // Computed, not searched: head counts can be huge (empty packed inputs
    // split into 2^40 heads; a search from the top ran for hours).
    let most = usize::try_from(max_binding / (largest as u64).saturating_mul(4)).unwrap_or(usize::MAX);
    let mut heads = most.clamp(1, g.kv_heads.max(1));
    // `whole` rounds sizes up: at most a step or two down.
    while heads > 1 && !fits(heads) {
        heads -= 1;
    }
    Some(heads)
}

/// Why `g` cannot run in pieces, if it cannot: one KV head of one batch item
/// (or a mask shared by all heads) exceeds a binding.
pub(crate) fn decline(g: &AttentionGeometry, max_binding: u64) -> Option<String> {
    heads_per_piece(g, max_binding).is_none().then(|| {
        let (per_head, mask_shared) = per_head_elements(g);
        let bytes = 4 * per_head.iter().copied().max().unwrap_or(0).max(mask_shared);
        format!(
            "attention runs in pieces of one batch item and KV head, but one piece's slice ({bytes} bytes: {} keys of head size {}) exceeds max_storage_buffer_binding_size ({max_binding} bytes)",
            g.total_len(),
            g.head_dim.max(g.v_head_dim)
        )
    })
}

/// An f32 operand on `buf` with `shape`.
fn f32_operand(buf: Arc<wgpu::Buffer>, shape: &[usize]) -> Operand {
    Operand { packed: None, buf, desc: TensorDesc::new(shape, DType::F32) }
}

/// A new buffer holding elements `[first, first + count)` of `src`
/// (`elem_bytes` each), as an operand of `shape`/`dtype`.
fn take(
    ctx: &mut Ctx<'_>,
    src: &Operand,
    [first, count]: [usize; 2],
    shape: &[usize],
    dtype: DType,
) -> Result<Operand> {
    let elem = dtype.size_bytes();
    let buf = ctx.scratch(count * elem)?;
    ctx.rec.copy_region(ctx.gpu, (&src.buf, (first * elem) as u64), (&buf, 0), (count * elem) as u64);
    Ok(Operand { packed: None, buf, desc: TensorDesc::new(shape, dtype) })
}

/// Attention on `g` in pieces of (batch item, KV head group); see the module docs.
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    attrs: &Attention,
    g: &AttentionGeometry,
    inputs: Inputs<'_>,
    y: &Operand,
    present: [Option<&Operand>; 2],
) -> Result<()> {
    let max = ctx.max_binding();
    let per_piece = heads_per_piece(g, max).ok_or_else(|| Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max,
        requested: (g.total_len() * g.head_dim.max(g.v_head_dim) * 4) as u64,
    })?;
    let (b, hq, hkv, sq, s, p, t) = (g.batch, g.q_heads, g.kv_heads, g.q_len, g.kv_len, g.past_len, g.total_len());
    let (d, dv, group) = (g.head_dim, g.v_head_dim, g.q_heads / g.kv_heads);
    // Packed [B, S, H*D] inputs as [B, H, S, D].
    let unpack = |ctx: &mut Ctx<'_>, x: &Operand, heads: usize, len: usize, dim: usize| -> Result<Operand> {
        if !g.packed_3d {
            return Ok(x.clone());
        }
        let out = f32_operand(ctx.scratch(b * heads * len * dim * 4)?, &[b, heads, len, dim]);
        transpose::record(ctx, &[0, 2, 1, 3], &f32_operand(x.buf.clone(), &[b, len, heads, dim]), &out)?;
        Ok(out)
    };
    let q = unpack(ctx, inputs.q, hq, sq, d)?;
    let k = unpack(ctx, inputs.k, hkv, s, d)?;
    let v = unpack(ctx, inputs.v, hkv, s, dv)?;
    let y4 = if g.packed_3d { f32_operand(ctx.scratch(b * hq * sq * dv * 4)?, &[b, hq, sq, dv]) } else { y.clone() };
    for bi in 0..b {
        for h0 in (0..hkv).step_by(per_piece) {
            let n = per_piece.min(hkv - h0);
            let nq = n * group;
            // Scratch of this piece goes back to the pool after it, for the next.
            let mark = ctx.temps.len();
            let mask = match (inputs.mask, g.mask) {
                (Some((m, is_bool)), Some((dtype, [mb, mh, _, tm]))) => {
                    let bm = if mb == 1 { 0 } else { bi };
                    let (first, heads) =
                        if mh == 1 { (bm * sq * tm, 1) } else { ((bm * hq + h0 * group) * sq * tm, nq) };
                    let piece = take(ctx, m, [first, heads * sq * tm], &[1, heads, sq, tm], DType::F32)?;
                    Some((piece, is_bool, (dtype, [1, heads, sq, tm])))
                }
                _ => None,
            };
            let gp = AttentionGeometry {
                batch: 1,
                q_heads: nq,
                kv_heads: n,
                packed_3d: false,
                mask: mask.as_ref().map(|m| m.2),
                ..*g
            };
            let fixed = Fixed::of(ctx, g, &gp, inputs.mask.is_some());
            let qp = take(ctx, &q, [(bi * hq + h0 * group) * sq * d, nq * sq * d], &[1, nq, sq, d], DType::F32)?;
            let kp = take(ctx, &k, [(bi * hkv + h0) * s * d, n * s * d], &[1, n, s, d], DType::F32)?;
            let vp = take(ctx, &v, [(bi * hkv + h0) * s * dv, n * s * dv], &[1, n, s, dv], DType::F32)?;
            let past = match inputs.past {
                Some((pk, pv)) => Some((
                    take(ctx, pk, [(bi * hkv + h0) * p * d, n * p * d], &[1, n, p, d], DType::F32)?,
                    take(ctx, pv, [(bi * hkv + h0) * p * dv, n * p * dv], &[1, n, p, dv], DType::F32)?,
                )),
                None => None,
            };
            let nonpad = match inputs.nonpad {
                Some(np) => Some(take(ctx, np, [bi, 1], &[1], DType::I64)?),
                None => None,
            };
            let yp = f32_operand(ctx.scratch(nq * sq * dv * 4)?, &[1, nq, sq, dv]);
            let mut present_p = [None, None];
            for (slot, dim) in [(0, d), (1, dv)] {
                if present[slot].is_some() {
                    present_p[slot] = Some(f32_operand(ctx.scratch(n * t * dim * 4)?, &[1, n, t, dim]));
                }
            }
            let piece_inputs = Inputs {
                q: &qp,
                k: &kp,
                v: &vp,
                mask: mask.as_ref().map(|(m, is_bool, _)| (m, *is_bool)),
                past: past.as_ref().map(|(pk, pv)| (pk, pv)),
                nonpad: nonpad.as_ref(),
            };
            record_with(
                ctx,
                attrs,
                &gp,
                piece_inputs,
                &yp,
                [present_p[0].as_ref(), present_p[1].as_ref()],
                Some(fixed),
            )?;
            let y_at = ((bi * hq + h0 * group) * sq * dv * 4) as u64;
            ctx.rec.copy_region(ctx.gpu, (&yp.buf, 0), (&y4.buf, y_at), (nq * sq * dv * 4) as u64);
            for (slot, dim) in [(0, d), (1, dv)] {
                if let (Some(dst), Some(src)) = (present[slot], &present_p[slot]) {
                    let at = ((bi * hkv + h0) * t * dim * 4) as u64;
                    ctx.rec.copy_region(ctx.gpu, (&src.buf, 0), (&dst.buf, at), (n * t * dim * 4) as u64);
                }
            }
            for buf in ctx.temps.split_off(mark) {
                ctx.mem.recycle(buf);
            }
        }
    }
    if g.packed_3d {
        transpose::record(ctx, &[0, 2, 1, 3], &y4, &f32_operand(y.buf.clone(), &[b, sq, hq, dv]))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Decode of `4 kv_heads` query heads over `total` keys of head size 128.
    pub(crate) fn geometry(batch: usize, kv_heads: usize, total: usize) -> AttentionGeometry {
        AttentionGeometry {
            batch,
            q_heads: 4 * kv_heads,
            kv_heads,
            q_len: 1,
            kv_len: total,
            past_len: 0,
            head_dim: 128,
            v_head_dim: 128,
            packed_3d: false,
            mask: None,
            scale: 1.0,
            nonpad_kv_seqlen: false,
        }
    }

    #[test]
    fn a_cache_beyond_a_binding_splits_into_head_groups() {
        let lavapipe = 128 << 20;
        // 8 heads x 33,000 keys x 128 f32: 135 MB, in pieces of 7 heads (118 MB) and 1;
        // 32,768 keys are exactly 128 MiB, one binding.
        let g = geometry(1, 8, 33_000);
        assert!(!fits_whole(&g, lavapipe));
        assert_eq!(heads_per_piece(&g, lavapipe), Some(7));
        assert!(fits_whole(&geometry(1, 8, 32_768), lavapipe));
        // One head of 300k keys (154 MB) fits no piece.
        assert_eq!(heads_per_piece(&geometry(1, 8, 300_000), lavapipe), None);
        assert!(decline(&geometry(1, 8, 300_000), lavapipe).unwrap().contains("300000 keys"));
    }
}
