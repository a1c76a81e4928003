//! The tolerance model: per-element error bounds from error analysis.
//!
//! A device computes in f32 (unit roundoff `U = 2^-24`) whatever its storage
//! dtype; the reference computes the exact result (f64) and rounds it once to
//! the output dtype. For every output element `i` the bound is
//!
//! ```text
//! bound_i = core_i                      device arithmetic, derived per op below
//!         + u_out |ref_i|               the reference's own rounding to the output dtype
//!         + u_out |ref_i| [out != f32]  the device's final conversion from f32
//!         + floor                       f32::MIN_POSITIVE (devices may flush subnormals,
//!                                       WGSL allows it) + 2 u_out min_normal(out)
//! ```
//!
//! and a case passes when every `|got_i - ref_i| <= bound_i`; the report gives
//! the largest ratio `|got_i - ref_i| / bound_i`, so headroom is visible.
//!
//! `core_i` uses `gamma_n = n U / (1 - n U)` (Higham's bound for `n` chained
//! roundings) and the WGSL accuracy table for transcendentals: `exp` is within
//! `3 + 2|x|` ULP (an ULP of `y` is at most `2U|y|`), division within 2.5 ULP,
//! `inverseSqrt` within 2 ULP, `tanh` inherited from `sinh/cosh` (first order:
//! `(12 + 8|x|) U` absolute). WGSL has no `erf`; the standard grants a device
//! `erf` an absolute error of `8U` (Abramowitz-Stegun 7.1.26 evaluated in f32
//! fits). The `Erf` op is held to more (see [`erf_bound`]): a rational whose
//! f32 evaluation is bounded term by term, relative near 0 where erf is small.
//! `pow` is inherited from `exp2(y log2 x)` (see [`pow_bound`]). A device that
//! needs more than these bounds is a finding to report, never a tolerance to widen.

use hcal_core::broadcast_strides;
use hcal_core::{
    AttentionGeometry, AxisSplit, DType, GeluApproximation, Geometry, Op, OpSignature, ReduceOp, RotaryGeometry,
    UnaryOp,
};
use hcal_cpu::attention::{AttentionInputs, AttentionProblem};

use crate::case::Case;

// along one axis: ReduceProd/L2, LogSoftmax, CumSum
mod along_axis;
// SplitRotaryScatter: rotations and copies
mod qkv_cache;
// RMSNormGemm: the normalization's error carried through the product
mod norm_gemm;

/// Unit roundoff of the f32 arithmetic every device is assumed to compute in.
pub const U: f64 = 1.0 / 16_777_216.0;

/// Absolute error the standard grants a device `erf` on f32.
pub const ERF_BUDGET: f64 = 8.0 * U;

/// The f32 coefficients of the device `erf` of the `Erf` op (`shaders/unary.wgsl`,
/// `erf_rational`): `erf x ~ x P(x^2) / Q(x^2)` on `x` clamped to `[-4, 4]`,
/// highest power first.
pub const ERF_P: [f32; 7] =
    [-2.7261424e-10, 2.7706815e-8, -2.101024e-6, -5.6925062e-5, -7.3499064e-4, -2.9546e-3, -1.6096033e-2];
/// The denominator `Q` of [`ERF_P`].
pub const ERF_Q: [f32; 5] = [-1.45660715e-5, -2.1337405e-4, -1.682827e-3, -7.3733293e-3, -1.4264739e-2];
/// How far the exact rational `x P(x^2) / Q(x^2)` (f32 coefficients, exact
/// arithmetic) lies from erf, relative: measured at most 1.35U on 2e6 points
/// of `[-4, 4]` and 2e4 log-spaced points of `(0, 1]` (f64 evaluation); 2U
/// leaves room between the points.
pub const ERF_RATIONAL_REL: f64 = 2.0 * U;

/// `gamma_n = n U / (1 - n U)`: the relative error bound of `n` chained roundings.
pub fn gamma(n: usize) -> f64 {
    let nu = n as f64 * U;
    nu / (1.0 - nu)
}

/// Relative error of a device `exp(x)`: WGSL's `3 + 2|x|` ULP, plus an argument
/// that carries `2|x|U` absolute error (a subtraction, and a scaling by `log2 e`
/// when the device goes through `exp2`).
fn exp_rel(x: f64) -> f64 {
    (6.0 + 6.0 * x.abs()) * U
}

/// Absolute error of a device `tanh(x)`, inherited from `sinh(x) / cosh(x)`.
fn tanh_abs(x: f64) -> f64 {
    (12.0 + 8.0 * x.abs()) * U
}

/// Decoded case data the bounds are computed from.
pub struct CaseData<'a> {
    /// The case.
    pub case: &'a Case,
    /// Its validated signature ([`Case::signature`]): the geometry the bounds index with.
    pub signature: &'a OpSignature,
    /// Input values (rounded to their dtypes), per slot.
    pub inputs: &'a [Option<Vec<f64>>],
    /// Reference outputs (rounded to their dtypes), per slot.
    pub reference: &'a [Option<Vec<f64>>],
}

impl CaseData<'_> {
    fn input(&self, i: usize) -> Option<&[f64]> {
        self.inputs.get(i).and_then(|v| v.as_deref())
    }

    fn required(&self, i: usize) -> &[f64] {
        self.input(i).expect("case inputs validated by hcal-core")
    }

    fn shape(&self, i: usize) -> &[usize] {
        &self.case.inputs[i].as_ref().expect("present input").desc.shape
    }
}

/// The core (device arithmetic) bound of every element of output `slot`.
/// Empty data gives an empty bound; exact outputs get zeros.
pub fn core_bound(data: &CaseData<'_>, slot: usize) -> Vec<f64> {
    let reference = data.reference[slot].as_deref().unwrap_or(&[]);
    let zeros = || vec![0.0; reference.len()];
    match (&data.case.op, data.signature.geometry()) {
        (Op::MatMul, Geometry::MatMul(g)) => {
            let (a, b) = (abs(data.required(0)), abs(data.required(1)));
            let magnitude = hcal_cpu::matmul::matmul(g, &a, &b);
            let k = g.k + dequantize_roundings(data);
            magnitude.iter().map(|m| gamma(k) * m).collect()
        }
        (Op::Gemm(attrs), Geometry::Gemm(g)) => {
            let (a, b) = (abs(data.required(0)), abs(data.required(1)));
            let product = hcal_cpu::matmul::gemm(g, f64::from(attrs.alpha.abs()), 0.0, &a, &b, None);
            let (k, n) = (g.k + dequantize_roundings(data), g.n);
            let c_term = |idx: usize| match (data.input(2), g.c_strides) {
                (Some(c), Some(s)) => gamma(2) * (attrs.beta as f64 * c[(idx / n) * s[0] + (idx % n) * s[1]]).abs(),
                _ => 0.0,
            };
            product.iter().enumerate().map(|(idx, p)| gamma(k + 2) * p + c_term(idx)).collect()
        }
        (Op::RmsNormGemm(_), Geometry::NormGemm { split, gemm }) => norm_gemm::bound(data, *split, gemm),
        (Op::Softmax { .. }, Geometry::Softmax(split)) => softmax_bound(data, *split),
        (Op::LayerNormalization { .. } | Op::RmsNormalization { .. }, Geometry::Normalization { axis, split }) => {
            norm_bound(data, *axis, *split)
        }
        (Op::Attention(_), Geometry::Attention(g)) if slot == 0 => attention_bound(data, g),
        (Op::Attention(_), _) => zeros(), // present_key / present_value are copies
        (Op::RotaryEmbedding(_), Geometry::RotaryEmbedding(g)) => rotary_bound(data, g),
        (Op::SplitRotaryScatter(_), Geometry::SplitRotaryScatter(g)) => {
            qkv_cache::bound(data, g, slot, reference.len())
        }
        (Op::Gelu { approximate }, _) => {
            data.required(0).iter().zip(reference).map(|(&x, &y)| gelu_bound(*approximate, x, y)).collect()
        }
        (Op::Unary(op), _) => data.required(0).iter().zip(reference).map(|(&x, &y)| unary_bound(*op, x, y)).collect(),
        (Op::GatedUnary { activation }, Geometry::Gated { rows, half }) => gated_bound(data, *activation, *rows, *half),
        (Op::Binary(hcal_core::BinaryOp::Pow), Geometry::Broadcast { out_shape, a_strides, b_strides }) => {
            let (a, b) = (data.required(0), data.required(1));
            let pairs = hcal_cpu::binary::broadcast_pairs(a, a_strides, b, b_strides, out_shape);
            pairs.iter().zip(reference).map(|(&(x, e), &y)| pow_bound(x, e, y)).collect()
        }
        (Op::Binary(op), _) => {
            use hcal_core::BinaryOp as B;
            let factor = match op {
                B::Add | B::Sub | B::Mul => U,
                B::Div => 5.0 * U,
                B::Pow => unreachable!("Pow is matched above"),
                // Selections and truth values are exact.
                B::Max | B::Min => 0.0,
                B::Equal | B::Less | B::Greater | B::LessOrEqual | B::GreaterOrEqual | B::And | B::Or => 0.0,
            };
            reference.iter().map(|y| factor * y.abs()).collect()
        }
        // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
        // alpha x: one rounding (exact for x >= 0).
        (Op::LeakyRelu { .. }, _) => reference.iter().map(|y| U * y.abs()).collect(),
        // alpha x + beta: two roundings, which clamping to [0, 1] cannot grow.
        (Op::HardSigmoid { alpha, beta }, _) => data
            .required(0)
            .iter()
            .map(|&x| gamma(2) * ((f64::from(*alpha) * x).abs() + f64::from(*beta).abs()))
            .collect(),
        (Op::Clip | Op::Where, _) => zeros(),
        (Op::Reduce { op, .. }, Geometry::Reduce { axes }) => {
            let shape = data.shape(0);
            let n: usize = axes.iter().map(|&d| shape[d]).product();
            match op {
                ReduceOp::Max | ReduceOp::Min => zeros(),
                ReduceOp::Prod | ReduceOp::L2 => along_axis::reduce_bound(*op, n, reference),
                ReduceOp::Sum => {
                    let mag = hcal_cpu::reduce::reduce(ReduceOp::Sum, &abs(data.required(0)), shape, axes);
                    mag.iter().map(|m| gamma(n) * m).collect()
                }
                ReduceOp::Mean => {
                    // sum * (1/n): the reciprocal within 2.5 ULP, one more rounding.
                    let mag = hcal_cpu::reduce::reduce(ReduceOp::Mean, &abs(data.required(0)), shape, axes);
                    mag.iter().zip(reference).map(|(m, y)| gamma(n) * m + 6.0 * U * y.abs()).collect()
                }
            }
        }
        // Moved, selected or rounded once by the standard's rule (`Op::is_exact`).
        (op, _) if op.is_exact() => zeros(),
        // along one axis (ArgMax/ArgMin give i64, compared exactly by the runner)
        (Op::ArgMax { .. } | Op::ArgMin { .. }, _) => zeros(),
        (Op::LogSoftmax { .. }, Geometry::Softmax(split)) => along_axis::log_softmax_bound(data, *split, reference),
        (Op::CumSum { exclusive, reverse, .. }, Geometry::AlongAxis { split, .. }) => {
            along_axis::cumsum_bound(data, *split, *exclusive, *reverse)
        }
        (op, geometry) => unreachable!("hcal-core pairs every op with its geometry: {op} with {geometry:?}"),
    }
}

/// Extra roundings per product term when B is block-quantized: Q4_1's
/// `q d + m` is one f32 rounding on a device (`q d` is exact in f32, and Q4_0
/// and Q8_0 have no `+ m`); see `hcal_core::quant`.
fn dequantize_roundings(data: &CaseData<'_>) -> usize {
    dequantize_roundings_at(data, 1)
}

/// [`dequantize_roundings`] of the product whose B is input `slot`.
fn dequantize_roundings_at(data: &CaseData<'_>, slot: usize) -> usize {
    usize::from(data.signature.input(slot).is_some_and(|b| b.dtype == DType::Q4_1))
}

/// RMSNormalization's relative error of `1/sqrt(ms + eps)` over a row of `n`
/// with mean square `ms` (see [`norm_bound`]).
fn rms_rel_inv(ms: f64, epsilon: f64, n: usize) -> f64 {
    (gamma(n + 1) * ms + U * (ms + epsilon)) / (2.0 * (ms + epsilon)) + 4.0 * U
}

fn abs(values: &[f64]) -> Vec<f64> {
    values.iter().map(|v| v.abs()).collect()
}

/// Softmax: with `d_j = max - x_j` and `p` the exact probabilities, `e_j` has
/// relative error `eps_j = exp_rel(d_j)`, the sum `sum_j p_j eps_j + gamma_n`,
/// the division `5U`: `core_i = p_i (eps_i + sum_j p_j eps_j + gamma_n + 5U)`.
fn softmax_bound(data: &CaseData<'_>, split: AxisSplit) -> Vec<f64> {
    let x = data.required(0);
    let mut bound = vec![0.0; x.len()];
    for o in 0..split.outer {
        for c in 0..split.inner {
            let idx = |j: usize| (o * split.len + j) * split.inner + c;
            let lane: Vec<f64> = (0..split.len).map(|j| x[idx(j)]).collect();
            let p = hcal_cpu::softmax::softmax_row(&lane);
            let max = lane.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let eps: Vec<f64> = lane.iter().map(|&v| exp_rel(max - v)).collect();
            let spread: f64 = p.iter().zip(&eps).map(|(p, e)| p * e).sum::<f64>() + gamma(split.len) + 5.0 * U;
            for j in 0..split.len {
                bound[idx(j)] = p[j] * (eps[j] + spread);
            }
        }
    }
    bound
}

/// Parameter (Scale or B) of a normalization expanded over the normalized shape.
fn expand(values: &[f64], shape: &[usize], normalized: &[usize]) -> Vec<f64> {
    let strides = broadcast_strides(shape, normalized);
    (0..normalized.iter().product())
        .map(|flat: usize| {
            let (mut rest, mut off) = (flat, 0);
            for d in (0..normalized.len()).rev() {
                off += (rest % normalized[d]) * strides[d];
                rest /= normalized[d];
            }
            values[off]
        })
        .collect()
}

/// LayerNormalization (two-pass or Welford variance) and RMSNormalization.
///
/// LayerNorm, per row of `n` with exact mean `mu`, variance `var`,
/// `inv = 1/sqrt(var + eps)`, `xh_i = (x_i - mu) inv`:
/// - mean: `dmu = gamma_n mean|x| + U |mu|`; centred values `dc_i = dmu + U |x_i - mu|`;
/// - variance: `dvar = (gamma_{n+2} + 2U) var + 2 dmu mean|x - mu|`;
/// - `inverseSqrt`: `rel_inv = (dvar + U (var + eps)) / (2 (var + eps)) + 4U`;
/// - `core_i = |g_i| (dc_i inv + |xh_i| (rel_inv + 2U)) + U (|y_i| + |b_i|)`.
///
/// RMSNorm with `ms = mean x^2`: `rel_inv = (gamma_{n+1} ms + U (ms + eps)) / (2 (ms + eps)) + 4U`,
/// `core_i = |y_i| (rel_inv + 2U)`.
fn norm_bound(data: &CaseData<'_>, axis: usize, split: AxisSplit) -> Vec<f64> {
    let (op, epsilon) = match &data.case.op {
        Op::LayerNormalization { epsilon, .. } => ("LayerNormalization", *epsilon as f64),
        Op::RmsNormalization { epsilon, .. } => ("RMSNormalization", *epsilon as f64),
        _ => unreachable!("norm_bound is only called for normalizations"),
    };
    let x = data.required(0);
    let shape = data.shape(0);
    let normalized = &shape[axis..];
    let n = split.len;
    let gamma_v = expand(data.required(1), data.shape(1), normalized);
    let beta = match data.input(2) {
        Some(b) => expand(b, data.shape(2), normalized),
        None => vec![0.0; n],
    };
    let mut bound = vec![0.0; x.len()];
    if n == 0 {
        return bound;
    }
    for (row, xs) in x.chunks(n).enumerate() {
        let out = &mut bound[row * n..(row + 1) * n];
        if op == "RMSNormalization" {
            let ms = xs.iter().map(|v| v * v).sum::<f64>() / n as f64;
            let inv = 1.0 / (ms + epsilon).sqrt();
            let rel_inv = rms_rel_inv(ms, epsilon, n);
            for i in 0..n {
                out[i] = (xs[i] * inv * gamma_v[i]).abs() * (rel_inv + 2.0 * U);
            }
        } else {
            let mu = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / n as f64;
            let inv = 1.0 / (var + epsilon).sqrt();
            let mean_abs = xs.iter().map(|v| v.abs()).sum::<f64>() / n as f64;
            let mean_dev = xs.iter().map(|v| (v - mu).abs()).sum::<f64>() / n as f64;
            let dmu = gamma(n) * mean_abs + U * mu.abs();
            let dvar = (gamma(n + 2) + 2.0 * U) * var + 2.0 * dmu * mean_dev;
            let rel_inv = (dvar + U * (var + epsilon)) / (2.0 * (var + epsilon)) + 4.0 * U;
            for i in 0..n {
                let xh = (xs[i] - mu) * inv;
                let y = xh * gamma_v[i] + beta[i];
                let dc = dmu + U * (xs[i] - mu).abs();
                out[i] = gamma_v[i].abs() * (dc * inv + xh.abs() * (rel_inv + 2.0 * U)) + U * (y.abs() + beta[i].abs());
            }
        }
    }
    bound
}

/// Attention, per query row with exact scores `s_j` and probabilities `p_j`:
/// - score error `ds_j = gamma_{D+3} A_j` with `A_j = |scale| sum_d |q_d k_jd|`
///   (the dot product and up to two scalings); softcap `c tanh(s/c)` maps it to
///   `ds_j (1 - tanh^2) + c tanh_abs(s/c) + 2U |s_j|`; the mask add `U |s_j|`;
/// - exponent: `sigma_j = ds_j + exp_rel(max - s_j)`;
/// - probability: `r_j = sigma_j + sum_k p_k sigma_k + gamma_T + 5U` (relative);
/// - output: `core_c = sum_j p_j (r_j + gamma_T) |v_jc|`.
fn attention_bound(data: &CaseData<'_>, g: &AttentionGeometry) -> Vec<f64> {
    let Op::Attention(attrs) = &data.case.op else { unreachable!("attention_bound is only called for Attention") };
    let desc = |i: usize| data.case.inputs.get(i).and_then(|x| x.as_ref()).map(|x| &x.desc);
    let mask_dtype = desc(3).map(|d| d.dtype);
    // Valid lengths are small integers: exact as f64.
    let nonpad: Option<Vec<i64>> = data.input(6).map(|n| n.iter().map(|&v| v as i64).collect());
    let inputs = AttentionInputs {
        q: data.required(0),
        k: data.required(1),
        v: data.required(2),
        mask: data.input(3).zip(mask_dtype),
        past_key: data.input(4),
        past_value: data.input(5),
        nonpad_kv_seqlen: nonpad.as_deref(),
    };
    let problem = AttentionProblem::new(attrs, g, &inputs);
    // |scale| sum |q k|: the same problem on magnitudes, unmasked and uncapped.
    let (q_abs, k_abs, past_abs) = (abs(inputs.q), abs(inputs.k), inputs.past_key.map(abs));
    let magnitude_attrs =
        hcal_core::Attention { is_causal: false, softcap: 0.0, scale: Some(g.scale.abs() as f32), ..*attrs };
    let magnitude_geometry = hcal_core::AttentionGeometry { mask: None, scale: g.scale.abs(), ..g.clone() };
    let magnitude_inputs = AttentionInputs {
        q: &q_abs,
        k: &k_abs,
        v: inputs.v,
        mask: None,
        past_key: past_abs.as_deref(),
        past_value: inputs.past_value,
        nonpad_kv_seqlen: None,
    };
    let magnitude = AttentionProblem::new(&magnitude_attrs, &magnitude_geometry, &magnitude_inputs);
    // Pre-cap scores `scale <q, k>` (softcap's derivative depends on them).
    let raw_attrs = hcal_core::Attention { is_causal: false, softcap: 0.0, scale: Some(g.scale as f32), ..*attrs };
    let raw_geometry = hcal_core::AttentionGeometry { mask: None, ..g.clone() };
    let raw_inputs = AttentionInputs { mask: None, ..inputs };
    let raw = AttentionProblem::new(&raw_attrs, &raw_geometry, &raw_inputs);

    let (t, dv) = (g.total_len(), g.v_head_dim);
    let softcap = attrs.softcap as f64;
    let mut bound = vec![0.0; g.batch * g.q_heads * g.q_len * dv];
    for b in 0..g.batch {
        for h in 0..g.q_heads {
            let kv_h = h / g.group_size();
            for i in 0..g.q_len {
                let scores = problem.scores(b, h, i);
                let p = hcal_cpu::softmax::softmax_row(&scores);
                let a = magnitude.scores(b, h, i);
                let pre_cap = if softcap > 0.0 { raw.scores(b, h, i) } else { Vec::new() };
                let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sigma: Vec<f64> = (0..t)
                    .map(|j| {
                        if !scores[j].is_finite() {
                            return 0.0; // masked: p_j = 0 exactly
                        }
                        let mut ds = gamma(g.head_dim + 3) * a[j];
                        if softcap > 0.0 {
                            let arg = pre_cap[j] / softcap;
                            let th = arg.tanh();
                            ds = ds * (1.0 - th * th) + softcap * tanh_abs(arg) + 2.0 * U * pre_cap[j].abs();
                        }
                        ds + U * scores[j].abs() + exp_rel(max - scores[j])
                    })
                    .collect();
                let spread: f64 = p.iter().zip(&sigma).map(|(p, s)| p * s).sum::<f64>() + gamma(t) + 5.0 * U;
                let off = g.offset(b, h, i, g.q_heads, g.q_len, dv);
                for c in 0..dv {
                    bound[off + c] = (0..t)
                        .filter(|&j| p[j] > 0.0)
                        .map(|j| p[j] * (sigma[j] + spread + gamma(t)) * problem.value(b, kv_h, j)[c].abs())
                        .sum();
                }
            }
        }
    }
    bound
}

/// RotaryEmbedding: `y1 = c x1 - s x2` (and `y2 = s x1 + c x2`) costs two
/// products and a sum: `core = gamma_2 (|c x1| + |s x2|)`; pass-through features are exact.
fn rotary_bound(data: &CaseData<'_>, g: &RotaryGeometry) -> Vec<f64> {
    let Op::RotaryEmbedding(attrs) = &data.case.op else {
        unreachable!("rotary_bound is only called for RotaryEmbedding")
    };
    let (x, cos, sin) = (data.required(0), data.required(1), data.required(2));
    let ids = data.input(3);
    let half = g.rotary_dim / 2;
    let mut bound = vec![0.0; x.len()];
    for b in 0..g.batch {
        for s in 0..g.seq {
            let row = match ids {
                Some(ids) => ids[b * g.seq + s] as usize,
                None => b * g.seq + s,
            };
            for h in 0..g.heads {
                let off = g.offset(b, h, s);
                for p in 0..half {
                    let (i1, i2) =
                        if attrs.interleaved { (off + 2 * p, off + 2 * p + 1) } else { (off + p, off + half + p) };
                    let (c, sn) = (
                        cos.get(row * half + p).copied().unwrap_or(0.0),
                        sin.get(row * half + p).copied().unwrap_or(0.0),
                    );
                    bound[i1] = gamma(2) * ((c * x[i1]).abs() + (sn * x[i2]).abs());
                    bound[i2] = gamma(2) * ((sn * x[i1]).abs() + (c * x[i2]).abs());
                }
            }
        }
    }
    bound
}

/// GatedUnary: `y = f(a) b` carries f's bound times `|b|` and one f32
/// product rounding; the reference rounds `f(a)` to X's dtype first, which a
/// device computing in f32 need not do for f16/bf16 (`u` that dtype's unit
/// roundoff, `m` its smallest normal, below which the rounding is absolute):
/// `core = |b| (unary_bound(f, a, f(a)) + u (|f(a)| + m)) + U |f(a) b|`.
fn gated_bound(data: &CaseData<'_>, activation: UnaryOp, rows: usize, half: usize) -> Vec<f64> {
    let x = data.required(0);
    let dtype = data.case.inputs[0].as_ref().expect("present input").desc.dtype;
    let (u, m) = if dtype == DType::F32 { (0.0, 0.0) } else { (dtype.unit_roundoff(), dtype.min_positive_normal()) };
    let mut bound = Vec::with_capacity(rows * half);
    for row in x.chunks_exact((2 * half).max(1)).take(rows) {
        let (a, b) = row.split_at(half);
        bound.extend(a.iter().zip(b).map(|(&a, &b)| {
            let fa = hcal_cpu::unary::unary(activation, a);
            b.abs() * (unary_bound(activation, a, fa) + u * (fa.abs() + m)) + U * (fa * b).abs()
        }));
    }
    bound
}

/// Gelu. Exact form: the argument `x/sqrt 2` carries `U|x|/sqrt 2`, which
/// `erf' <= 2/sqrt(pi)` turns into `0.8 U |x|`; with the erf budget, `1 + erf`
/// and two products: `core = 0.5|x| (ERF_BUDGET + 0.8U|x| + 2U) + 2U|y|`.
/// Tanh form: the inner polynomial `k (x + 0.044715 x^3)` carries
/// `d = 5U k (|x| + 0.044715 |x|^3)`: `core = 0.5|x| (d (1 - t^2) + tanh_abs(inner) + 2U) + 2U|y|`.
fn gelu_bound(approximate: GeluApproximation, x: f64, y: f64) -> f64 {
    match approximate {
        GeluApproximation::None => 0.5 * x.abs() * (ERF_BUDGET + 0.8 * U * x.abs() + 2.0 * U) + 2.0 * U * y.abs(),
        GeluApproximation::Tanh => {
            let k = (2.0 / std::f64::consts::PI).sqrt();
            let inner = k * (x + 0.044715 * x * x * x);
            let d = 5.0 * U * k * (x.abs() + 0.044715 * x.abs().powi(3));
            let t = inner.tanh();
            0.5 * x.abs() * (d * (1.0 - t * t) + tanh_abs(inner) + 2.0 * U) + 2.0 * U * y.abs()
        }
    }
}

/// Unary functions, from the WGSL accuracy table (see the module docs).
fn unary_bound(op: UnaryOp, x: f64, y: f64) -> f64 {
    match op {
        UnaryOp::Relu | UnaryOp::Neg => 0.0,
        UnaryOp::Exp => (6.0 + 4.0 * x.abs()) * U * y.abs(),
        // 1 / (1 + t), t = exp(-x): t's error reaches the sum scaled by t/(1+t) = 1 - y.
        UnaryOp::Sigmoid => y.abs() * (exp_rel(x) * (1.0 - y).abs() + 6.0 * U),
        UnaryOp::Silu => {
            let s = 1.0 / (1.0 + (-x).exp());
            y.abs() * (exp_rel(x) * (1.0 - s).abs() + 7.0 * U)
        }
        UnaryOp::Tanh => tanh_abs(x) + 2.0 * U * y.abs(),
        UnaryOp::Sqrt => 9.0 * U * y.abs(),
        UnaryOp::Reciprocal => 5.0 * U * y.abs(),
        UnaryOp::Abs | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round | UnaryOp::Not => 0.0,
        UnaryOp::Erf => erf_bound(x),
    }
}

/// Horner's rule on `coefficients` (highest power first) at `t`.
fn horner(coefficients: &[f32], t: f64) -> f64 {
    coefficients.iter().fold(0.0, |acc, &c| acc * t + f64::from(c))
}

/// The device `Erf` (see [`ERF_P`]): with `xc = clamp(x, -4, 4)`, `t = xc^2`
/// (one rounding, relative `U`), Horner's rule over `n` coefficients in f32
/// errs by at most `gamma_2n P~(t) + n U P~(t)` (Higham 5.1; the second term
/// is `t`'s rounding through `|t P'(t)| <= n P~(t)`), where `P~` has the
/// coefficients' magnitudes. Relative to `|P(t)|` that is `r_P`, likewise
/// `r_Q`; then `x P` and the division (WGSL: 2.5 ULP) add `U + 5U`:
/// `core = |y| (r_P + r_Q + 6U + ERF_RATIONAL_REL) + |erf x - erf xc| + ...`,
/// the last term for the clamp (below `0.3 U`, as `erf 4` is `1 - 1.5e-8`).
pub fn erf_bound(x: f64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    let xc = x.clamp(-4.0, 4.0);
    let t = xc * xc;
    let relative = |c: &[f32]| {
        let magnitudes: Vec<f32> = c.iter().map(|v| v.abs()).collect();
        let n = c.len() - 1;
        (gamma(2 * n) + n as f64 * U) * horner(&magnitudes, t) / horner(c, t).abs()
    };
    let y = hcal_cpu::unary::erf(xc);
    let clamp = (hcal_cpu::unary::erf(x) - y).abs();
    y.abs() * (relative(&ERF_P) + relative(&ERF_Q) + 6.0 * U + ERF_RATIONAL_REL) + clamp
}

/// `pow(x, e)` on a device: zeros, infinities, NaN and negative bases are
/// decided exactly (`shaders/binary.wgsl`), the magnitude of the rest is
/// `exp2(e log2 |x|)`, whose accuracy WGSL defines by inheritance. With
/// `L = log2 |x|`, `log2` errs by 3 ULP (`6U |L|`), or `2^-21` absolute for
/// `|x|` in `[0.5, 2]`; `t = e L` adds `U |t|`; so the argument of `exp2`
/// carries `dt = |e| dL + U |t|`, which `exp2` turns into `ln 2 dt` relative,
/// and `exp2` itself is within `3 + 2|t|` ULP: `core = |y| (ln2 dt + (6 + 4|t|) U)`.
pub fn pow_bound(x: f64, e: f64, y: f64) -> f64 {
    let exact = e == 0.0 || x == 1.0 || x == 0.0 || !x.is_finite() || !e.is_finite() || !y.is_finite();
    if exact || y == 0.0 {
        return 0.0;
    }
    let magnitude = x.abs();
    let l = magnitude.log2();
    let dl = if (0.5..=2.0).contains(&magnitude) { 2f64.powi(-21) } else { 6.0 * U * l.abs() };
    let t = e * l;
    let dt = e.abs() * dl + U * t.abs();
    y.abs() * (std::f64::consts::LN_2 * dt + (6.0 + 4.0 * t.abs()) * U)
}

/// The part of every bound that depends only on the output dtype.
pub fn rounding_terms(dtype: DType, reference: f64) -> f64 {
    let u_out = dtype.unit_roundoff();
    let conversions = if dtype == DType::F32 { 1.0 } else { 2.0 };
    conversions * u_out * reference.abs() + f32::MIN_POSITIVE as f64 + 2.0 * u_out * dtype.min_positive_normal()
}
