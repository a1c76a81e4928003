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
    /// GGML Q4_0: blocks of 32 values along the last dim, 18 bytes each: an
    /// f16 scale `d` and 4-bit `q`, `x = (q - 8) d` (see [`crate::quant`]).
    #[serde(rename = "q4_0")]
    Q4_0,
    /// GGML Q4_1: blocks of 32 values, 20 bytes each: f16 `d` and `m`, 4-bit
    /// `q`, `x = q d + m` (see [`crate::quant`]).
    #[serde(rename = "q4_1")]
    Q4_1,
    /// GGML Q8_0: blocks of 32 values, 34 bytes each: f16 `d`, 8-bit signed
    /// `q`, `x = q d` (see [`crate::quant`]).
    #[serde(rename = "q8_0")]
    Q8_0,
}

impl DType {
    /// Every element dtype (one value per element), in a stable order (for
    /// tables and sweeps); the block-quantized ones are [`DType::QUANTIZED`].
    pub const ALL: [DType; 5] = [DType::F32, DType::F16, DType::BF16, DType::Bool, DType::I64];

    /// The block-quantized storage dtypes (weights): an op on them means
    /// "dequantize, then the op" ([`crate::quant`]).
    pub const QUANTIZED: [DType; 3] = [DType::Q4_0, DType::Q4_1, DType::Q8_0];

    /// The floating dtypes.
    pub const FLOATS: [DType; 3] = [DType::F32, DType::F16, DType::BF16];

    /// Bytes per element in the contiguous storage layout; for a
    /// block-quantized dtype, bytes per block of [`DType::block_len`] values
    /// (a tensor's size is [`crate::TensorDesc::byte_len`]).
    pub const fn size_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F16 | DType::BF16 => 2,
            DType::Bool => 1,
            DType::I64 => 8,
            DType::Q4_0 => 18,
            DType::Q4_1 => 20,
            DType::Q8_0 => 34,
        }
    }

    /// Values per storage unit: 1 for element dtypes, 32 for the
    /// block-quantized ones (blocks run along the last dim).
    pub const fn block_len(self) -> usize {
        if self.is_quantized() { crate::quant::BLOCK } else { 1 }
    }

    /// True for Q4_0, Q4_1 and Q8_0.
    pub const fn is_quantized(self) -> bool {
        matches!(self, DType::Q4_0 | DType::Q4_1 | DType::Q8_0)
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
            // Quantized operands are exact values (their blocks define them).
            DType::Bool | DType::I64 | DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => 0.0,
        }
    }

    /// Smallest positive normal number of a floating dtype (0 for exact types);
    /// below it the absolute spacing is constant, which the tolerance model needs.
    pub fn min_positive_normal(self) -> f64 {
        match self {
            DType::F32 => f32::MIN_POSITIVE as f64,
            DType::F16 => half::f16::MIN_POSITIVE.to_f64(),
            DType::BF16 => half::bf16::MIN_POSITIVE.to_f64(),
            DType::Bool | DType::I64 | DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => 0.0,
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
            DType::Q4_0 => "q4_0",
            DType::Q4_1 => "q4_1",
            DType::Q8_0 => "q8_0",
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
        DType::ALL.into_iter().chain(DType::QUANTIZED).find(|d| d.name() == s).ok_or_else(|| Error::Parse {
            what: "dtype",
            input: s.to_string(),
            expected: "one of f32, f16, bf16, bool, i64, q4_0, q4_1, q8_0".to_string(),
        })
    }
}
