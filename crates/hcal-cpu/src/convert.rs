//! Storage bytes <-> f64 values: the reference computes every op in f64.
//!
//! Reading widens exactly (every f32, f16, bf16 and bool value is an f64);
//! writing rounds once to the destination dtype (round to nearest even), so a
//! reference result is the exact-ish f64 value correctly rounded.

use half::{bf16, f16};
use hcal_core::{DType, Result};

/// Decode little-endian storage of `dtype` into f64 values.
///
/// i64 values beyond 2^53 lose low bits; positions and ids never get there.
pub fn to_f64(dtype: DType, bytes: &[u8]) -> Vec<f64> {
    let mut out = Vec::with_capacity(bytes.len() / dtype.size_bytes() * dtype.block_len());
    extend_f64(dtype, bytes, &mut out);
    out
}

/// As [`to_f64`], with the result allocated fallibly: a tensor the host
/// cannot widen to f64 is [`hcal_core::Error::OutOfMemory`] naming `what`,
/// not an abort.
///
/// ```
/// use hcal_core::DType;
/// let v = hcal_cpu::convert::try_to_f64(DType::F32, &1.5f32.to_le_bytes(), "x").unwrap();
/// assert_eq!(v, [1.5]);
/// ```
///
/// # Errors
/// [`hcal_core::Error::OutOfMemory`].
pub fn try_to_f64(dtype: DType, bytes: &[u8], what: &str) -> Result<Vec<f64>> {
    let values = bytes.len() / dtype.size_bytes() * dtype.block_len();
    let mut out = hcal_core::host_vec_with_capacity(values, what)?;
    extend_f64(dtype, bytes, &mut out);
    Ok(out)
}

/// Append the values of `bytes` (storage of `dtype`) to `out`.
fn extend_f64(dtype: DType, bytes: &[u8], out: &mut Vec<f64>) {
    match dtype {
        DType::F32 => out.extend(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)),
        DType::F16 => out.extend(bytes.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f64())),
        DType::BF16 => out.extend(bytes.chunks_exact(2).map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f64())),
        DType::Bool => out.extend(bytes.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 })),
        DType::I64 => {
            out.extend(bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().expect("chunk of 8")) as f64))
        }
        // Whole blocks (byte_len checked the last dim): the standard's exact values.
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => {
            out.extend(hcal_core::quant::dequantize(dtype, bytes).expect("a validated tensor holds whole blocks"))
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
    extend_bytes(dtype, values, &mut out);
    out
}

/// As [`from_f64`], with the result allocated fallibly (see [`try_to_f64`]).
///
/// ```
/// use hcal_core::DType;
/// assert_eq!(hcal_cpu::convert::try_from_f64(DType::Bool, &[0.0, 2.0], "y").unwrap(), [0, 1]);
/// ```
///
/// # Errors
/// [`hcal_core::Error::OutOfMemory`].
pub fn try_from_f64(dtype: DType, values: &[f64], what: &str) -> Result<Vec<u8>> {
    if dtype.is_quantized() {
        return Ok(from_f64(dtype, values));
    }
    let mut out = hcal_core::host_vec_with_capacity(values.len().saturating_mul(dtype.size_bytes()), what)?;
    extend_bytes(dtype, values, &mut out);
    Ok(out)
}

/// Append `values` encoded as `dtype` storage to `out`.
fn extend_bytes(dtype: DType, values: &[f64], out: &mut Vec<u8>) {
    match dtype {
        DType::F32 => values.iter().for_each(|&v| out.extend_from_slice(&(v as f32).to_le_bytes())),
        DType::F16 => values.iter().for_each(|&v| out.extend_from_slice(&f16::from_f64(v).to_le_bytes())),
        DType::BF16 => values.iter().for_each(|&v| out.extend_from_slice(&bf16::from_f64(v).to_le_bytes())),
        DType::Bool => values.iter().for_each(|&v| out.push(u8::from(v != 0.0))),
        DType::I64 => values.iter().for_each(|&v| out.extend_from_slice(&(v as i64).to_le_bytes())),
        DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("quantized above"),
    }
}
