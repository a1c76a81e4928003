//! Microbenchmarks a backend may run so that benchmarks can state "% of peak"
//! against a peak measured on the device itself (as FlagPerf does).

use serde::{Deserialize, Serialize};

/// A microbenchmark for [`crate::Instruments::run_probe`].
///
/// ```
/// use hcal_core::Probe;
/// let p = Probe::Copy { bytes: 64 << 20 };
/// assert_eq!(p.to_string(), "copy of 67108864 bytes");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Probe {
    /// Compute throughput: independent chains of fused multiply-adds
    /// (`x <- x * m + c`, 2 FLOPs each) with no memory traffic to speak of,
    /// about `flops` FLOPs in all (the backend rounds to its kernel's grain).
    Fma {
        /// Requested floating-point operations.
        flops: u64,
    },
    /// Memory bandwidth: copy `bytes` from one device buffer to another with
    /// a kernel (`2 * bytes` moved: each byte read once and written once).
    Copy {
        /// Bytes copied.
        bytes: u64,
    },
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Probe::Fma { flops } => write!(f, "fma throughput of {flops} flops"),
            Probe::Copy { bytes } => write!(f, "copy of {bytes} bytes"),
        }
    }
}

/// What a probe enqueued: the work actually done (for dividing by the time
/// the caller measures) and how, in words.
///
/// ```
/// use hcal_core::ProbeWork;
/// let w = ProbeWork { flops: 0, bytes: 2 << 20, method: "WGSL vec4 copy".into() };
/// assert_eq!(w.bytes, 2 * 1024 * 1024);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeWork {
    /// Floating-point operations performed (`2` per fused multiply-add).
    pub flops: u64,
    /// Bytes moved to and from device memory (reads plus writes).
    pub bytes: u64,
    /// The kernel that ran, for reports ("WGSL fma kernel, 8 vec4 chains").
    pub method: String,
}
