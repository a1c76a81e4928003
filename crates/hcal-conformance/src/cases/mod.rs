//! The case table: every op with its edge sweeps.
//!
//! Sweeps follow matrixmultiply's adversarial tests: sizes 0..=20, then 17,
//! 257 and 266x265 (not multiples of any tile), K = 0, outputs pre-filled with
//! NaN by the runner, plus per-op edges (large magnitudes for softmax, fully
//! masked attention rows, GQA ratios, odd head dims).

use crate::case::Case;

// along one axis: ReduceMin/Prod/L2 edges, ArgMax/ArgMin, LogSoftmax, CumSum
mod along_axis;
mod attention;
mod data;
mod elementwise;
mod elementwise_edges;
mod large;
mod linear;
// Concat, Slice, Split, Expand, Reshape, Range, Trilu (issue 18)
mod movement;
mod norm_gemm;
mod normalization;
mod quantized;
// Indexing and KV caches.
mod indexing;
mod kv_cache;

/// Every case, each with a seed derived from its name (FNV-1a), so adding a
/// case never changes another case's inputs.
pub fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(linear::cases());
    cases.extend(normalization::cases());
    cases.extend(attention::cases());
    cases.extend(elementwise::cases());
    cases.extend(elementwise_edges::cases());
    cases.extend(data::cases());
    cases.extend(movement::cases());
    cases.extend(large::cases());
    cases.extend(quantized::cases());
    cases.extend(norm_gemm::cases());
    cases.extend(along_axis::cases());
    // Indexing and KV caches.
    cases.extend(indexing::cases());
    cases.extend(kv_cache::cases());
    let mut seen = std::collections::HashSet::new();
    for case in &mut cases {
        assert!(seen.insert(case.name.clone()), "duplicate conformance case name {}", case.name);
        case.seed = fnv1a(case.name.as_bytes());
    }
    cases
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Standard value ranges used across families.
pub(crate) mod ranges {
    use crate::generate::Gen;

    /// Mixed-sign data of order one.
    pub const fn unit() -> Gen {
        Gen::Uniform { lo: -1.0, hi: 1.0 }
    }

    /// Positive data, where errors cannot hide behind cancellation.
    pub const fn positive() -> Gen {
        Gen::Uniform { lo: 0.0, hi: 1.0 }
    }
}
