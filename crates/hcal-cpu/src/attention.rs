//! Attention as ONNX defines it (opset 24), written as the formula reads.
//!
//! For query row `i` of head `h` in batch `b` (key head `h / group`):
//! `s_j = scale <q_i, k_j>`; softcap `c tanh(s_j / c)`; plus the mask bias
//! (bool false or past a short mask: -inf; float: added); causal: `-inf` for
//! `j > i + past_len`; with `nonpad_kv_seqlen` `n_b`: `-inf` for `j >= n_b`
//! and, causal, for `j > i + n_b - Sq`; `p = softmax(s)`; `y_i = sum_j p_j v_j`.

use hcal_core::{AttentionGeometry, DType};
use rayon::prelude::*;

use crate::softmax::softmax_row;

/// Inputs of one call, decoded to f64 in their call layout.
pub struct AttentionInputs<'a> {
    /// Queries.
    pub q: &'a [f64],
    /// New keys.
    pub k: &'a [f64],
    /// New values.
    pub v: &'a [f64],
    /// Mask values (bool decoded to 0/1) with its dtype.
    pub mask: Option<(&'a [f64], DType)>,
    /// Cached keys `[B, Hkv, P, D]`.
    pub past_key: Option<&'a [f64]>,
    /// Cached values `[B, Hkv, P, Dv]`.
    pub past_value: Option<&'a [f64]>,
    /// Valid keys per batch entry (`nonpad_kv_seqlen`, `[B]`).
    pub nonpad_kv_seqlen: Option<&'a [i64]>,
}

/// One attention problem with the KV cache already appended: what every row needs.
pub struct AttentionProblem<'a> {
    geometry: &'a AttentionGeometry,
    softcap: f64,
    is_causal: bool,
    q: &'a [f64],
    mask: Option<(&'a [f64], DType)>,
    nonpad_kv_seqlen: Option<&'a [i64]>,
    /// `[B, Hkv, T, D]`: past keys followed by the new ones.
    pub present_key: Vec<f64>,
    /// `[B, Hkv, T, Dv]`.
    pub present_value: Vec<f64>,
}

impl<'a> AttentionProblem<'a> {
    /// Append the new keys/values to the cache and keep what the rows need.
    pub fn new(attrs: &hcal_core::Attention, g: &'a AttentionGeometry, inputs: &AttentionInputs<'a>) -> Self {
        let present_key = concat_cache(g, inputs.past_key, inputs.k, g.head_dim);
        let present_value = concat_cache(g, inputs.past_value, inputs.v, g.v_head_dim);
        Self {
            geometry: g,
            softcap: attrs.softcap as f64,
            is_causal: attrs.is_causal,
            q: inputs.q,
            mask: inputs.mask,
            nonpad_kv_seqlen: inputs.nonpad_kv_seqlen,
            present_key,
            present_value,
        }
    }

    /// The biased, masked scores `s_j` of query row `i` of head `h` in batch `b`.
    pub fn scores(&self, b: usize, h: usize, i: usize) -> Vec<f64> {
        let g = self.geometry;
        let (d, t) = (g.head_dim, g.total_len());
        let kv_h = h / g.group_size();
        let q_off = g.offset(b, h, i, g.q_heads, g.q_len, d);
        let q_row = &self.q[q_off..q_off + d];
        let valid = self.nonpad_kv_seqlen.map(|n| g.valid_keys(n[b]));
        (0..t)
            .map(|j| {
                let k_off = ((b * g.kv_heads + kv_h) * t + j) * d;
                let dot: f64 = q_row.iter().zip(&self.present_key[k_off..k_off + d]).map(|(x, y)| x * y).sum();
                let mut s = g.scale * dot;
                if self.softcap > 0.0 {
                    s = self.softcap * (s / self.softcap).tanh();
                }
                s += self.mask_bias(b, h, i, j);
                if g.key_hidden(self.is_causal, valid, i, j) {
                    s = f64::NEG_INFINITY;
                }
                s
            })
            .collect()
    }

    /// `softmax(scores)` of a row.
    pub fn probabilities(&self, b: usize, h: usize, i: usize) -> Vec<f64> {
        softmax_row(&self.scores(b, h, i))
    }

    /// Value row `j` of key head `kv_h` in batch `b`, from the appended cache.
    pub fn value(&self, b: usize, kv_h: usize, j: usize) -> &[f64] {
        let g = self.geometry;
        let off = ((b * g.kv_heads + kv_h) * g.total_len() + j) * g.v_head_dim;
        &self.present_value[off..off + g.v_head_dim]
    }

    fn mask_bias(&self, b: usize, h: usize, i: usize, j: usize) -> f64 {
        let (Some((mask, dtype)), Some((_, [mb, mh, sq, tm]))) = (self.mask, self.geometry.mask) else { return 0.0 };
        if j >= tm {
            return f64::NEG_INFINITY;
        }
        let idx = (((if mb == 1 { 0 } else { b }) * mh + if mh == 1 { 0 } else { h }) * sq + i) * tm + j;
        match dtype {
            DType::Bool if mask[idx] == 0.0 => f64::NEG_INFINITY,
            DType::Bool => 0.0,
            _ => mask[idx],
        }
    }

    /// `Y` in the call's layout.
    pub fn output(&self) -> Vec<f64> {
        let g = self.geometry;
        let dv = g.v_head_dim;
        let mut y = vec![0.0; g.batch * g.q_heads * g.q_len * dv];
        // An empty Y needs no scores: with Dv = 0 (and D = 0) the key length T
        // is not bounded by any tensor's size, so a row of scores could be huge.
        if y.is_empty() {
            return y;
        }
        let rows: Vec<(usize, usize, usize, Vec<f64>)> = (0..g.batch * g.q_heads * g.q_len)
            .into_par_iter()
            .map(|flat| {
                let (b, h, i) = (flat / (g.q_heads * g.q_len), (flat / g.q_len) % g.q_heads, flat % g.q_len);
                let p = self.probabilities(b, h, i);
                let kv_h = h / g.group_size();
                let out =
                    (0..dv).map(|c| p.iter().enumerate().map(|(j, pj)| pj * self.value(b, kv_h, j)[c]).sum()).collect();
                (b, h, i, out)
            })
            .collect();
        for (b, h, i, out) in rows {
            let off = g.offset(b, h, i, g.q_heads, g.q_len, dv);
            y[off..off + dv].copy_from_slice(&out);
        }
        y
    }
}

/// `[B, Hkv, P + S, dim]` from a 4-D past and new rows in the call layout.
fn concat_cache(g: &AttentionGeometry, past: Option<&[f64]>, new: &[f64], dim: usize) -> Vec<f64> {
    let t = g.total_len();
    let mut out = vec![0.0; g.batch * g.kv_heads * t * dim];
    // Nothing to copy: the loops below would still run B * Hkv * T times
    // (head counts of empty packed inputs are not bounded by any tensor).
    if out.is_empty() {
        return out;
    }
    for b in 0..g.batch {
        for h in 0..g.kv_heads {
            for j in 0..t {
                let dst = ((b * g.kv_heads + h) * t + j) * dim;
                let src = match (j < g.past_len, past) {
                    (true, Some(p)) => &p[((b * g.kv_heads + h) * g.past_len + j) * dim..][..dim],
                    _ => {
                        let off = g.offset(b, h, j - g.past_len, g.kv_heads, g.kv_len, dim);
                        &new[off..off + dim]
                    }
                };
                out[dst..dst + dim].copy_from_slice(src);
            }
        }
    }
    out
}
