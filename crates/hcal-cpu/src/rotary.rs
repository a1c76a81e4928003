//! RotaryEmbedding: rotate feature pairs `(x1, x2)` by the cached angle of the token's position.

use hcal_core::RotaryGeometry;

/// `y1 = cos x1 - sin x2`, `y2 = sin x1 + cos x2` on the first `rotary_dim`
/// features of every head; the rest pass through.
pub fn rotary_embedding(
    g: &RotaryGeometry,
    interleaved: bool,
    x: &[f64],
    cos: &[f64],
    sin: &[f64],
    position_ids: Option<&[i64]>,
) -> Vec<f64> {
    let mut y = x.to_vec();
    let half = g.rotary_dim / 2;
    // Nothing rotates: skip the B * S * H loop (with empty packed inputs the
    // head count is bounded by no tensor).
    if half == 0 || y.is_empty() {
        return y;
    }
    for b in 0..g.batch {
        for s in 0..g.seq {
            // Cache row of this token: its position id, or (b, s) without ids.
            // An id outside the cache reads nothing: the row stays NaN (documented in Op docs).
            let row = match position_ids {
                Some(ids) => usize::try_from(ids[b * g.seq + s]).ok().filter(|&r| r < g.cache_rows),
                None => Some(b * g.seq + s),
            };
            for h in 0..g.heads {
                let off = g.offset(b, h, s);
                for p in 0..half {
                    let (i1, i2) = if interleaved { (off + 2 * p, off + 2 * p + 1) } else { (off + p, off + half + p) };
                    let (c, sn) = match row {
                        Some(r) => (cos[r * half + p], sin[r * half + p]),
                        None => (f64::NAN, f64::NAN),
                    };
                    let (x1, x2) = (x[i1], x[i2]);
                    y[i1] = c * x1 - sn * x2;
                    y[i2] = sn * x1 + c * x2;
                }
            }
        }
    }
    y
}
