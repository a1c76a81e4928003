//! The agreement check: one model run on the cpu reference, on perturbed
//! references (the bound, see `tolerance.rs`) and on a backend, all on the
//! same tokens; logits compared element by element.

use std::fmt;

use hcal::Device;

use crate::model::{Decoder, Generation, Result, Weights, generate};
use crate::tolerance::{Perturbed, factor};

/// The reference run: its tokens, logits, and each logit's bound.
pub struct Reference {
    /// The prompt.
    pub prompt: Vec<u32>,
    /// What the cpu reference computed (greedy decoding).
    pub generation: Generation,
    /// Per logit tensor of `generation`, the bound of each element.
    pub bounds: Vec<Vec<f64>>,
    /// Perturbed runs the bounds were estimated from.
    pub probes: usize,
}

impl Reference {
    /// Run `weights` on the cpu reference (prefill `prompt`, then `steps`
    /// greedy decode steps), and `probes` times on a [`Perturbed`] reference
    /// on the same tokens; each logit's bound is `factor(probes)` times the
    /// root mean square of its perturbed runs' deviations.
    pub fn run(weights: &Weights, prompt: &[u32], steps: usize, probes: usize) -> Result<Self> {
        let k = factor(probes);
        if !k.is_finite() {
            return Err(
                format!("{probes} perturbed runs cannot bound the logits at this confidence; use 16 or more").into()
            );
        }
        let decoder = Decoder::new(&Device::open("cpu")?, weights)?;
        let generation = generate(&decoder, prompt, steps, None)?;
        let mut sum_sq: Vec<Vec<f64>> = generation.host_logits.iter().map(|l| vec![0.0; l.len()]).collect();
        for probe in 0..probes {
            let device = Device::new(Box::new(Perturbed::new(0xC0FFEE + probe as u64)));
            let decoder = Decoder::new(&device, weights)?;
            let run = generate(&decoder, prompt, steps, Some(&generation.tokens))?;
            for ((acc, want), got) in sum_sq.iter_mut().zip(&generation.host_logits).zip(&run.host_logits) {
                for ((a, &w), &g) in acc.iter_mut().zip(want).zip(got) {
                    *a += (f64::from(g) - f64::from(w)).powi(2);
                }
            }
        }
        let bounds = sum_sq.iter().map(|acc| acc.iter().map(|s| k * (s / probes as f64).sqrt()).collect()).collect();
        Ok(Self { prompt: prompt.to_vec(), generation, bounds, probes })
    }

    /// Run `decoder` on the reference's prompt and tokens (the backend's own
    /// greedy choices are recorded but not fed back).
    pub fn replay(&self, decoder: &Decoder) -> Result<Generation> {
        let tokens = &self.generation.tokens;
        generate(decoder, &self.prompt, tokens.len(), Some(tokens))
    }

    /// Compare a replay's logits with the reference's.
    pub fn compare(&self, run: &Generation) -> Agreement {
        let mut a = Agreement {
            logits: 0,
            violations: 0,
            max_error: 0.0,
            bound_at_max_error: 0.0,
            max_ratio: 0.0,
            max_bound: 0.0,
            worst: (0, 0),
            argmax_agree: 0,
            steps: run.argmax.len(),
        };
        let reference = &self.generation.host_logits;
        for (step, ((want, got), bound)) in reference.iter().zip(&run.host_logits).zip(&self.bounds).enumerate() {
            for (i, ((&w, &g), &b)) in want.iter().zip(got).zip(bound).enumerate() {
                let err = (f64::from(g) - f64::from(w)).abs();
                let err = if err.is_nan() { f64::INFINITY } else { err };
                a.logits += 1;
                a.max_bound = a.max_bound.max(b);
                if err > b {
                    a.violations += 1;
                }
                if err > a.max_error {
                    (a.max_error, a.bound_at_max_error) = (err, b);
                }
                let ratio = if b > 0.0 {
                    err / b
                } else if err == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                };
                if ratio > a.max_ratio {
                    (a.max_ratio, a.worst) = (ratio, (step, i));
                }
            }
        }
        a.logits += reference.len().abs_diff(run.host_logits.len()); // a missing step counts as wrong
        a.violations += reference.len().abs_diff(run.host_logits.len());
        a.argmax_agree = self.generation.argmax.iter().zip(&run.argmax).filter(|(a, b)| a == b).count();
        a
    }
}

/// How a backend's logits compare with the reference's.
#[derive(Clone, Debug)]
pub struct Agreement {
    /// Logits compared (prefill rows and decode steps).
    pub logits: usize,
    /// Logits whose error exceeds their bound.
    pub violations: usize,
    /// Largest `|got - reference|`.
    pub max_error: f64,
    /// The bound of that logit.
    pub bound_at_max_error: f64,
    /// Largest `error / bound`: below 1 everywhere is a pass.
    pub max_ratio: f64,
    /// Largest bound of any logit.
    pub max_bound: f64,
    /// `(step, index)` of the largest ratio (step 0 is the prefill, `index`
    /// runs over its `[S, V]` logits).
    pub worst: (usize, usize),
    /// Steps whose greedy choice matches the reference's.
    pub argmax_agree: usize,
    /// Greedy choices compared (the prefill's and each step's).
    pub steps: usize,
}

impl Agreement {
    /// Every logit within its bound.
    pub fn passed(&self) -> bool {
        self.violations == 0
    }
}

impl fmt::Display for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{} logits within bound; max |err| {:.3e} (bound there {:.3e}); max err/bound {:.3} at step {} index {}; largest bound {:.3e}; greedy token agrees {}/{}",
            if self.passed() { "PASS" } else { "FAIL" },
            self.logits - self.violations,
            self.logits,
            self.max_error,
            self.bound_at_max_error,
            self.max_ratio,
            self.worst.0,
            self.worst.1,
            self.max_bound,
            self.argmax_agree,
            self.steps,
        )
    }
}
