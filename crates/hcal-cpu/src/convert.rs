//! Storage bytes <-> f64 values: the reference computes every op in f64.
//!
//! Reading widens exactly (every f32, f16, bf16 and bool value is an f64);
//! writing rounds once to the destination dtype (round to nearest even), so a
//! reference result is the exact-ish f64 value correctly rounded.

use half::{bf16, f16};
use hcal_core::DType;

/// Decode little-endian storage of `dtype` into f64 values.
///
/// i64 values beyond 2^53 lose low bits; positions and ids never get there.
pub fn to_f64(dtype: DType, bytes: &[u8]) -> Vec<f64> {
    match dtype {
        DType::F32 => bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
        DType::F16 => bytes.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f64()).collect(),
        DType::BF16 => bytes.chunks_exact(2).map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f64()).collect(),
        DType::Bool => bytes.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 }).collect(),
        DType::I64 => {
            bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("chunk of 8")) as f64).collect()
        }
        // Whole blocks (byte_len checked the last dim): the standard's exact values.
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => {
            hcal_core::quant::dequantize(dtype, bytes).expect("a validated tensor holds whole blocks")
        }
    }
}

/// Decode i64 storage exactly (position ids).
pub fn to_i64(bytes: &[u8]) -> Vec<i64> {
    bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("chunk of 8"))).collect()
}

/// Encode f64 values as `dtype` storage, rounding once.
///
/// To bool: `x != 0` (NaN is true). To i64: truncation toward zero, NaN to 0,
/// out-of-range values saturate (ONNX leaves these undefined). To a
/// block-quantized dtype (test data, never an op's output): GGML's reference
/// quantizer of [`hcal_core::quant::quantize`] on the values rounded to f32.
pub fn from_f64(dtype: DType, values: &[f64]) -> Vec<u8> {
    if dtype.is_quantized() {
        let f32s: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        return hcal_core::quant::quantize(dtype, &f32s).expect("whole blocks of a quantized tensor");
    }
    let mut out = Vec::with_capacity(values.len() * dtype.size_bytes());
    match dtype {
        DType::F32 => values.iter().for_each(|&v| out.extend_from_slice(&(v as f32).to_le_bytes())),
        DType::F16 => values.iter().for_each(|&v| out.extend_from_slice(&f16::from_f64(v).to_le_bytes())),
        DType::BF16 => values.iter().for_each(|&v| out.extend_from_slice(&bf16::from_f64(v).to_le_bytes())),
        DType::Bool => values.iter().for_each(|&v| out.push(u8::from(v != 0.0))),
        DType::I64 => values.iter().for_each(|&v| out.extend_from_slice(&(v as i64).to_le_bytes())),
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("quantized above"),
    }
    out
}
