//! Element types of the standard.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The element type of a tensor.
///
/// Floating types are storage formats: a backend may accumulate in a wider type
/// (devices in f32, the reference in f64), and the conformance tolerance model
/// accounts for that through [`DType::unit_roundoff`].
///
/// ```
/// use hcal_core::DType;
/// assert_eq!(DType::F16.size_bytes(), 2);
/// assert_eq!("bf16".parse::<DType>().unwrap(), DType::BF16);
/// assert!(DType::F32.is_float() && !DType::Bool.is_float());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE 754 binary32.
    F32,
    /// IEEE 754 binary16.
    F16,
    /// bfloat16: the top 16 bits of a binary32.
    BF16,
    /// Boolean stored as one byte, 0 or 1 (attention masks).
    Bool,
    /// Signed 64-bit integer (position ids).
    I64,
}

impl DType {
    /// Every dtype, in a stable order (for tables and sweeps).
    pub const ALL: [DType; 5] = [DType::F32, DType::F16, DType::BF16, DType::Bool, DType::I64];

    /// The floating dtypes.
    pub const FLOATS: [DType; 3] = [DType::F32, DType::F16, DType::BF16];

    /// Bytes per element in the contiguous storage layout.
    pub const fn size_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::Bool => 1,
            DType::I64 => 8,
        }
    }

    /// True for f32, f16 and bf16.
    pub const fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F16 | DType::BF16)
    }

    /// Unit roundoff `u = 2^-p` of round-to-nearest for a floating dtype with a
    /// `p`-bit significand (f32: 2^-24, f16: 2^-11, bf16: 2^-8); 0 for exact types.
    pub fn unit_roundoff(self) -> f64 {
        match self {
            DType::F32 => 2f64.powi(-24),
            DType::F16 => 2f64.powi(-11),
            DType::BF16 => 2f64.powi(-8),
            DType::Bool | DType::I64 => 0.0,
        }
    }

    /// Smallest positive normal number of a floating dtype (0 for exact types);
    /// below it the absolute spacing is constant, which the tolerance model needs.
    pub fn min_positive_normal(self) -> f64 {
        match self {
            DType::F32 => f32::MIN_POSITIVE as f64,
            DType::F16 => half::f16::MIN_POSITIVE.to_f64(),
            DType::BF16 => half::bf16::MIN_POSITIVE.to_f64(),
            DType::Bool | DType::I64 => 0.0,
        }
    }

    /// The lowercase name used on the command line and in reports (`"f32"`).
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::Bool => "bool",
            DType::I64 => "i64",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DType::ALL.into_iter().find(|d| d.name() == s).ok_or_else(|| Error::Parse {
            what: "dtype",
            input: s.to_string(),
            expected: "one of f32, f16, bf16, bool, i64".to_string(),
        })
    }
}
