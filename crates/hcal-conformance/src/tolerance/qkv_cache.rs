//! Bound of SplitRotaryScatter: its query heads and written key rows are
//! RotaryEmbedding's results (`gamma_2 (|c x1| + |s x2|)` per rotated
//! feature, exact pass-through); value rows and untouched cache rows are
//! copies, exact.

use hcal_core::{Op, QkvCacheGeometry};

use super::{CaseData, gamma};

/// The core bound of every element of output `slot` (0: `q_out`, 1: the
/// present keys, 2: the present values).
pub(super) fn bound(data: &CaseData<'_>, g: &QkvCacheGeometry, slot: usize, len: usize) -> Vec<f64> {
    let mut bound = vec![0.0; len];
    if slot == 2 {
        return bound;
    }
    let Op::SplitRotaryScatter(attrs) = &data.case.op else {
        unreachable!("qkv_cache::bound is only called for SplitRotaryScatter")
    };
    let (qkv, w, cos, sin) = (data.required(0), data.required(3), data.required(4), data.required(5));
    let (d, width, half) = (g.head_dim, g.packed_width(), g.rotary_dim / 2);
    for b in 0..g.batch {
        for s in 0..g.seq {
            // The position as the reference takes it; rows it drops get no bound.
            let pos = w[b] + s as f64;
            let row = (pos >= 0.0 && pos < g.table_rows as f64).then_some(pos as usize);
            let cache_row = (pos >= 0.0 && pos < g.cache_len as f64).then_some(pos as usize);
            let (heads, first_head) = if slot == 0 { (g.q_heads, 0) } else { (g.kv_heads, g.q_heads) };
            for h in 0..heads {
                let at = match (slot, cache_row) {
                    (0, _) => ((b * g.q_heads + h) * g.seq + s) * d,
                    (_, Some(p)) => ((b * g.kv_heads + h) * g.cache_len + p) * d,
                    (_, None) => continue,
                };
                let x = &qkv[(b * g.seq + s) * width + (first_head + h) * d..][..d];
                for p in 0..half {
                    let (i1, i2) = if attrs.interleaved { (2 * p, 2 * p + 1) } else { (p, half + p) };
                    let (c, sn) = row.map_or((0.0, 0.0), |r| (cos[r * half + p], sin[r * half + p]));
                    bound[at + i1] = gamma(2) * ((c * x[i1]).abs() + (sn * x[i2]).abs());
                    bound[at + i2] = gamma(2) * ((sn * x[i1]).abs() + (c * x[i2]).abs());
                }
            }
        }
    }
    bound
}
