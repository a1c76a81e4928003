//! Seeded input generators: the same case always produces the same bytes.

use hcal_core::{DType, TensorDesc};
use serde::{Deserialize, Serialize};

/// SplitMix64: tiny, fast, and good enough to spread test values; a case's
/// inputs depend only on its seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How a case fills one input tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Gen {
    /// Uniform in `[lo, hi)`.
    Uniform {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
    /// Magnitude uniform in `[lo, hi)` with a random sign (keeps away from 0).
    SignedRange {
        /// Smallest magnitude.
        lo: f64,
        /// Largest magnitude.
        hi: f64,
    },
    /// Bernoulli booleans (1.0 = true) with probability `p_true`.
    Bool {
        /// Probability of true.
        p_true: f64,
    },
    /// Integers uniform in `[0, max)` (position ids).
    Index {
        /// Exclusive upper end.
        max: i64,
    },
    /// These exact values (length must match the tensor).
    Values(Vec<f64>),
    /// These exact storage bytes: a block-quantized tensor given block for
    /// block (its values, re-quantized, could land on other scales).
    Bytes(Vec<u8>),
}

impl Gen {
    /// `numel` values for `desc`, already rounded to its dtype, so what the
    /// backend stores is exactly what the tolerance model sees.
    pub fn values(&self, desc: &TensorDesc, rng: &mut Rng) -> Vec<f64> {
        let n = desc.numel();
        let raw: Vec<f64> = match self {
            Gen::Uniform { lo, hi } => (0..n).map(|_| lo + (hi - lo) * rng.unit()).collect(),
            Gen::SignedRange { lo, hi } => (0..n)
                .map(|_| {
                    let m = lo + (hi - lo) * rng.unit();
                    if rng.next_u64() & 1 == 0 { m } else { -m }
                })
                .collect(),
            Gen::Bool { p_true } => (0..n).map(|_| f64::from(u8::from(rng.unit() < *p_true))).collect(),
            Gen::Index { max } => (0..n).map(|_| (rng.next_u64() % (*max).max(1) as u64) as f64).collect(),
            Gen::Values(v) => v.clone(),
            Gen::Bytes(b) => return hcal_cpu::convert::to_f64(desc.dtype, b),
        };
        round_to(desc.dtype, &raw)
    }
}

/// Round values to what `dtype` stores.
pub fn round_to(dtype: DType, values: &[f64]) -> Vec<f64> {
    hcal_cpu::convert::to_f64(dtype, &hcal_cpu::convert::from_f64(dtype, values))
}
