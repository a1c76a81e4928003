//! How far a backend's logits may be from the cpu reference's: the
//! conformance tolerance model's per-op bounds, carried through the model by
//! stochastic arithmetic.
//!
//! Every op of a conforming backend is within its conformance bound
//! `l = core_bound + rounding_terms` (`hcal_conformance::tolerance`: the
//! device's f32 arithmetic, plus the reference's rounding of its output) of
//! the reference on the same inputs. Over a whole model these local errors
//! are carried by the later ops; to first order a logit's error is
//! `Z = sum_k J_k d_k`, `|d_k| <= l_k`, over every element `k` of every op
//! output, with `J_k` the logit's sensitivity to it.
//!
//! The worst case `sum_k |J_k| l_k` is no use: carried op by op with
//! absolute values it grows by about `sum_j |W_ij|` (8 for width 64) per
//! matrix product, and on the small model it bounds logits of size 3 by
//! 1e5. Exact worst cases per logit would need the whole Jacobian. Instead
//! the local errors are taken as independent and zero-mean (the standard
//! model of probabilistic rounding error analysis, Higham and Mary 2019),
//! which leaves the bounds themselves worst case:
//!
//! - Hoeffding: `Z` is then sub-Gaussian with variance proxy
//!   `S^2 = sum_k J_k^2 l_k^2`, so `P(|Z| > lambda S) <= 2 exp(-lambda^2 / 2)`.
//! - `S^2` is the mean square of the same sum with Rademacher errors
//!   `d_k = +-l_k`, which is what a [`Perturbed`] device computes: the
//!   reference, each op output then moved by `+-l_k` (random sign,
//!   stochastically rounded to f32 so no perturbation rounds away). `m`
//!   such runs estimate `S` per logit (CESTAC / Monte Carlo arithmetic,
//!   with the conformance bounds as the noise).
//! - `Z` under such errors is a sum of many independent terms, close to
//!   normal, so `m S_hat^2 / S^2` is chi-square with `m` degrees of
//!   freedom: `S <= S_hat sqrt(m / chi2_m(p))` but with probability `p`.
//!
//! The bound per logit is `factor(m) S_hat` with
//! `factor(m) = lambda(p) sqrt(m / chi2_m(p))` and one false-alarm
//! probability `p = 1e-9` per logit for both steps: nothing is tuned to
//! the data. Data movement (Transpose, Attention's `present_*`) is exact on
//! every backend and is not perturbed; inputs written from the host
//! (weights, embeddings, RoPE tables, position ids) are identical on both
//! sides.

use std::sync::Mutex;

use hcal::{Backend, BackendWrapper, Call, DType, Op, Tensor};
use hcal_conformance::generate::Gen;
use hcal_conformance::tolerance::{CaseData, core_bound, rounding_terms};
use hcal_conformance::{Case, Input};

use crate::model::Rng;

/// False-alarm probability per logit, for the tail and for the estimate of `S`.
pub const FALSE_ALARM: f64 = 1e-9;

/// `lambda(p) sqrt(m / chi2_m(p))` (see the module documentation): the
/// multiple of the estimated spread `S_hat` that bounds a logit's error.
///
/// The chi-square quantile uses the Wilson-Hilferty approximation
/// `chi2_m(p) ~ m (1 - 2/(9m) + z_p sqrt(2/(9m)))^3`, with `z_p` the normal
/// quantile (`-6.0` for `p = 1e-9`).
pub fn factor(probes: usize) -> f64 {
    let m = probes as f64;
    let lambda = (2.0 * (2.0 / FALSE_ALARM).ln()).sqrt();
    const Z_P: f64 = -5.9978; // Phi^-1(1e-9)
    let c = 1.0 - 2.0 / (9.0 * m) + Z_P * (2.0 / (9.0 * m)).sqrt();
    if c <= 0.0 {
        return f64::INFINITY; // too few probes to say anything at this confidence
    }
    lambda * (1.0 / (c * c * c)).sqrt()
}

/// The cpu reference with every op output moved by `+-l` per element (the
/// op's conformance bound at its inputs; random sign), then stochastically
/// rounded to its dtype.
pub struct Perturbed {
    inner: Box<dyn Backend>,
    rng: Mutex<Rng>,
}

impl Perturbed {
    /// A perturbed reference drawing its signs from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { inner: hcal::open("cpu").expect("the cpu backend always opens"), rng: Mutex::new(Rng::new(seed)) }
    }

    fn values(&self, t: &Tensor) -> hcal::Result<Vec<f64>> {
        Ok(hcal_cpu::convert::to_f64(t.dtype(), &self.inner.read(t)?))
    }

    fn perturb(&self, call: &Call<'_>) -> hcal::Result<()> {
        let op = call.op();
        // Ops that only move elements (a Gather of packed rows included, whose
        // output dtype is the table's) are exact: nothing to perturb.
        let exact_copy = |slot: usize| {
            matches!(op, Op::Transpose { .. } | Op::Gather { .. }) || (matches!(op, Op::Attention(_)) && slot > 0)
        };
        if (0..call.outputs().len()).all(exact_copy) {
            return Ok(());
        }
        let read_all = |slots: &[Option<&Tensor>]| -> hcal::Result<Vec<Option<Vec<f64>>>> {
            slots.iter().map(|t| t.map(|t| self.values(t)).transpose()).collect()
        };
        let x = read_all(call.inputs())?;
        let y = read_all(call.outputs())?;
        let case = Case::new("decoder", op.clone(), Vec::new())
            .with_optional_inputs(
                call.inputs()
                    .iter()
                    .map(|t| t.map(|t| Input::new(t.shape(), t.dtype(), Gen::Values(Vec::new()))))
                    .collect(),
            )
            .with_outputs(call.outputs().iter().map(Option::is_some).collect());
        let data = CaseData { case: &case, signature: call.signature(), inputs: &x, reference: &y };
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        for (slot, out) in call.outputs().iter().enumerate() {
            let (Some(out), Some(reference)) = (out, &y[slot]) else { continue };
            if exact_copy(slot) {
                continue;
            }
            let dtype = out.dtype();
            if dtype != DType::F32 {
                return Err(hcal::Error::Unsupported {
                    op: op.to_string(),
                    backend: "perturbed reference".into(),
                    reason: format!("output dtype {dtype}: the decoder computes in f32"),
                });
            }
            let bound = core_bound(&data, slot);
            let moved: Vec<f64> = reference
                .iter()
                .zip(&bound)
                .map(|(&r, &core)| {
                    let l = core + rounding_terms(dtype, r);
                    let sign = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                    round_stochastically(r + sign * l, unit(&mut rng))
                })
                .collect();
            let bytes: Vec<u8> = moved.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect();
            self.inner.write(out, &bytes)?;
        }
        Ok(())
    }
}

/// Uniform in `[0, 1)`.
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `v` rounded to one of its two neighbouring f32 values, up with
/// probability proportional to its distance from the lower one: unbiased,
/// so a perturbation below half an ULP still moves the value on average.
/// The result is an f32 value held in an f64.
fn round_stochastically(v: f64, r: f64) -> f64 {
    let nearest = v as f32;
    if !v.is_finite() || f64::from(nearest) == v || !nearest.is_finite() {
        return f64::from(nearest);
    }
    let other = if f64::from(nearest) < v { step(nearest, true) } else { step(nearest, false) };
    let (lo, hi) = if f64::from(nearest) < v { (nearest, other) } else { (other, nearest) };
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    if r < (v - lo) / (hi - lo) { hi } else { lo }
}

/// The next f32 after `x` towards +inf (`up`) or -inf.
fn step(x: f32, up: bool) -> f32 {
    if x == 0.0 {
        let tiny = f32::from_bits(1);
        return if up { tiny } else { -tiny };
    }
    let bits = x.to_bits();
    // Away from zero is +1 on the magnitude bits, towards zero -1.
    if (x > 0.0) == up { f32::from_bits(bits + 1) } else { f32::from_bits(bits - 1) }
}

impl BackendWrapper for Perturbed {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }

    fn execute(&self, call: &Call<'_>) -> hcal::Result<()> {
        self.inner.execute(call)?;
        self.perturb(call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stochastic_rounding_lands_on_a_neighbour_and_is_unbiased() {
        let v = 1.0 + 2f64.powi(-30); // 1/128 of an f32 ULP above 1
        let ulp = 2f64.powi(-23);
        let mut rng = Rng::new(7);
        let n = 20_000;
        let mean = (0..n)
            .map(|_| {
                let r = round_stochastically(v, unit(&mut rng));
                assert!(r == 1.0 || r == 1.0 + ulp, "{r}");
                r
            })
            .sum::<f64>()
            / n as f64;
        assert!((mean - v).abs() < 0.05 * ulp, "mean {mean} vs {v}");
        assert_eq!(step(-1.0, true), -1.0 + ulp as f32 / 2.0);
        assert_eq!(step(0.0, false), -f32::from_bits(1));
    }
}
