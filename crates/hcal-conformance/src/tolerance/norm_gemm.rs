//! Bound of RMSNormGemm, from its definition as RMSNormalization (rounded
//! to A's dtype) then Gemm.
//!
//! With `n` the exact normalized rows and `n_ref` the reference's (rounded
//! to A's dtype, unit roundoff `u`, smallest normal `m`), the device's
//! normalized values `ñ` (f32, never stored) satisfy
//! `|ñ_k - n_ref_k| <= d_k = |n_k| (rel_inv + 2U) + MIN_POSITIVE + u (|n_k| + m)`:
//! RMSNormalization's core bound (see `norm_bound`), a flushed subnormal,
//! and the reference's rounding, which a device keeping f32 need not make.
//! The product then adds Gemm's own:
//!
//! ```text
//! core_ij = |alpha| sum_k d_k |b_kj|
//!         + gamma_{K+2+q} |alpha| sum_k (|n_ref_k| + d_k) |b_kj|
//!         + gamma_2 |beta c_ij|
//! ```
//!
//! (`q` the dequantization's roundings per term, as for Gemm.)

use hcal_core::{AxisSplit, GemmGeometry, Op};
use hcal_cpu::norm::Param;

use super::{CaseData, U, abs, dequantize_roundings_at, gamma, rms_rel_inv};

/// The core bound of every element of Y.
pub(super) fn bound(data: &CaseData<'_>, split: AxisSplit, g: &GemmGeometry) -> Vec<f64> {
    let Op::RmsNormGemm(attrs) = &data.case.op else { unreachable!("norm_gemm::bound is only called for RMSNormGemm") };
    let (a, scale, b) = (data.required(0), data.required(1), data.required(2));
    let epsilon = f64::from(attrs.epsilon);
    let k = split.len;
    let dtype = data.case.inputs[0].as_ref().expect("present input").desc.dtype;
    let (u, m) = (dtype.unit_roundoff(), dtype.min_positive_normal());
    let exact = hcal_cpu::norm::rms_norm(split, &[k], a, epsilon, Param { values: scale, shape: data.shape(1) });
    let rounded = hcal_cpu::convert::to_f64(dtype, &hcal_cpu::convert::from_f64(dtype, &exact));
    let mut deviation = vec![0.0; exact.len()];
    if k > 0 {
        for (row, (xs, ns)) in a.chunks(k).zip(exact.chunks(k)).enumerate() {
            let ms = xs.iter().map(|v| v * v).sum::<f64>() / k as f64;
            let rel_inv = rms_rel_inv(ms, epsilon, k);
            for (i, n) in ns.iter().enumerate() {
                let norm_step = n.abs() * (rel_inv + 2.0 * U) + f64::from(f32::MIN_POSITIVE);
                deviation[row * k + i] = norm_step + u * (n.abs() + m);
            }
        }
    }
    let magnitude: Vec<f64> = rounded.iter().zip(&deviation).map(|(n, d)| n.abs() + d).collect();
    let alpha = f64::from(attrs.alpha.abs());
    let b = abs(b);
    let spread = hcal_cpu::matmul::gemm(g, alpha, 0.0, &deviation, &b, None);
    let product = hcal_cpu::matmul::gemm(g, alpha, 0.0, &magnitude, &b, None);
    let roundings = g.k + 2 + dequantize_roundings_at(data, 2);
    let c = data.input(3);
    let n = g.n;
    let c_term = |idx: usize| match (c, g.c_strides) {
        (Some(c), Some(s)) => gamma(2) * (f64::from(attrs.beta) * c[(idx / n) * s[0] + (idx % n) * s[1]]).abs(),
        _ => 0.0,
    };
    spread.iter().zip(&product).enumerate().map(|(idx, (s, p))| s + gamma(roundings) * p + c_term(idx)).collect()
}
