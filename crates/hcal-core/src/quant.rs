//! Block-quantized storage: the exact meaning of GGML's Q4_0, Q4_1 and Q8_0.
//!
//! A block-quantized tensor stores its **last dimension** in blocks of
//! [`BLOCK`] = 32 consecutive values (so that dimension must be a multiple of
//! 32); blocks follow each other in row-major order. Each block is a few
//! little-endian scalars and packed integers, and its 32 values are defined
//! exactly (in real arithmetic) by:
//!
//! | dtype | bytes | layout | value `x[j]`, `j` in `0..32` |
//! | --- | --- | --- | --- |
//! | [`DType::Q4_0`] | 18 | `d: f16, qs: [u8; 16]` | `(q[j] - 8) * d` |
//! | [`DType::Q4_1`] | 20 | `d: f16, m: f16, qs: [u8; 16]` | `q[j] * d + m` |
//! | [`DType::Q8_0`] | 34 | `d: f16, qs: [i8; 32]` | `qs[j] * d` |
//!
//! where for the 4-bit types `q[j] = qs[j] & 0xF` and `q[j + 16] = qs[j] >> 4`
//! for `j` in `0..16`: the low nibbles hold the first half of the block, the
//! high nibbles the second half (not interleaved pairs). `d` and `m` are IEEE
//! binary16. An op on a quantized operand means: dequantize it this way, then
//! the op on the values (f32 accumulation on devices, f64 in the reference).
//! On a device `q * d` is exact in f32 (an 11-bit significand times a 4- or
//! 8-bit integer); Q4_1's `+ m` is one f32 rounding, which the conformance
//! tolerance model counts.
//!
//! [`quantize`] is one reasonable quantizer (GGML's reference rounding), for
//! test data and for users who quantize their own weights; it is not part of
//! any op's meaning.
//!
//! ```
//! use hcal_core::{DType, quant};
//! let values: Vec<f32> = (0..32).map(|i| i as f32 / 4.0 - 2.0).collect();
//! let block = quant::quantize(DType::Q8_0, &values).unwrap();
//! assert_eq!(block.len(), 34);
//! let back = quant::dequantize(DType::Q8_0, &block).unwrap();
//! // Within half a step of d = max|x| / 127 (5.75 / 127 here).
//! assert!(back.iter().zip(&values).all(|(b, v)| (*b as f32 - v).abs() <= 0.5 * 5.75 / 127.0 + 1e-3));
//! ```

use half::f16;

use crate::{DType, Error, Result};

/// Values per block of every block-quantized dtype.
pub const BLOCK: usize = 32;

/// Dequantize whole blocks of `dtype` into f64 values (exact: every value of
/// the formulas above is an f64).
///
/// # Errors
/// [`Error::Parse`] when `dtype` is not block-quantized or `bytes` is not a
/// whole number of blocks.
pub fn dequantize(dtype: DType, bytes: &[u8]) -> Result<Vec<f64>> {
    let size = block_bytes(dtype)?;
    if bytes.len() % size != 0 {
        return Err(Error::Parse {
            what: "quantized blocks",
            input: format!("{} bytes of {dtype}", bytes.len()),
            expected: format!("a multiple of the {size}-byte block"),
        });
    }
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len() / size * BLOCK).map_err(|e| Error::OutOfMemory {
        backend: "host".into(),
        bytes: bytes.len() / size * BLOCK * 8,
        detail: format!("dequantizing {dtype}: {e}"),
    })?;
    for block in bytes.chunks_exact(size) {
        let half = |at: usize| f16::from_le_bytes([block[at], block[at + 1]]).to_f64();
        let d = half(0);
        match dtype {
            DType::Q4_0 | DType::Q4_1 => {
                let (m, qs) = if dtype == DType::Q4_1 { (half(2), &block[4..]) } else { (0.0, &block[2..]) };
                let offset = if dtype == DType::Q4_0 { 8.0 } else { 0.0 };
                let low = qs.iter().map(|&q| f64::from(q & 0xF));
                let high = qs.iter().map(|&q| f64::from(q >> 4));
                out.extend(low.chain(high).map(|q| (q - offset) * d + m));
            }
            DType::Q8_0 => out.extend(block[2..].iter().map(|&q| f64::from(q as i8) * d)),
            _ => unreachable!("block_bytes accepted only block-quantized dtypes"),
        }
    }
    Ok(out)
}

/// Quantize `values` (a whole number of [`BLOCK`]s) to `dtype` with GGML's
/// reference rounding: Q4_0 `d = v / -8` for the value `v` of largest
/// magnitude and `q = min(15, trunc(x / d + 8.5))`; Q4_1 `d = (max - min) /
/// 15`, `m = min`, `q = min(15, trunc((x - m) / d + 0.5))`; Q8_0 `d = max|x| /
/// 127`, `q = round(x / d)`. NaN and infinite values quantize to garbage, as in
/// GGML.
///
/// # Errors
/// [`Error::Parse`] when `dtype` is not block-quantized or `values` is not a
/// whole number of blocks.
pub fn quantize(dtype: DType, values: &[f32]) -> Result<Vec<u8>> {
    let size = block_bytes(dtype)?;
    if values.len() % BLOCK != 0 {
        return Err(Error::Parse {
            what: "values to quantize",
            input: format!("{} values", values.len()),
            expected: format!("a multiple of the {BLOCK}-value block"),
        });
    }
    let mut out = Vec::with_capacity(values.len() / BLOCK * size);
    for x in values.chunks_exact(BLOCK) {
        match dtype {
            DType::Q4_0 => {
                let v = x.iter().copied().fold(0f32, |a, b| if b.abs() > a.abs() { b } else { a });
                let d = v / -8.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                let q = |x: f32| ((x * id + 8.5) as u8).min(15);
                out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
            }
            DType::Q4_1 => {
                let min = x.iter().copied().fold(f32::INFINITY, f32::min);
                let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let d = (max - min) / 15.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                out.extend_from_slice(&f16::from_f32(min).to_le_bytes());
                let q = |x: f32| (((x - min) * id + 0.5) as u8).min(15);
                out.extend((0..16).map(|j| q(x[j]) | (q(x[j + 16]) << 4)));
            }
            DType::Q8_0 => {
                let amax = x.iter().fold(0f32, |a, b| a.max(b.abs()));
                let d = amax / 127.0;
                let id = if d != 0.0 { 1.0 / d } else { 0.0 };
                out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
                out.extend(x.iter().map(|&v| (v * id).round() as i8 as u8));
            }
            _ => unreachable!("block_bytes accepted only block-quantized dtypes"),
        }
    }
    Ok(out)
}

/// Bytes of one block of `dtype`, or an error for an element dtype.
fn block_bytes(dtype: DType) -> Result<usize> {
    if dtype.is_quantized() {
        Ok(dtype.size_bytes())
    } else {
        Err(Error::Parse {
            what: "dtype",
            input: dtype.to_string(),
            expected: "a block-quantized dtype (q4_0, q4_1, q8_0)".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibbles_hold_the_halves_of_a_block_low_first() {
        // d = 1, m = 0.5: q[j] = j % 16 in the low nibbles, 15 - j % 16 in the high.
        let mut block = f16::from_f32(1.0).to_le_bytes().to_vec();
        block.extend_from_slice(&f16::from_f32(0.5).to_le_bytes());
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let x = dequantize(DType::Q4_1, &block).unwrap();
        assert_eq!(x[0], 0.5);
        assert_eq!(x[15], 15.5);
        assert_eq!(x[16], 15.5, "element 16 is the high nibble of byte 0");
        assert_eq!(x[31], 0.5);
    }

    #[test]
    fn q4_0_is_offset_by_8_and_q8_0_is_signed() {
        let mut q4 = f16::from_f32(-0.5).to_le_bytes().to_vec();
        q4.extend([0x0Fu8; 16]);
        let x = dequantize(DType::Q4_0, &q4).unwrap();
        assert_eq!((x[0], x[16]), (-3.5, 4.0), "(15 - 8) * -0.5 and (0 - 8) * -0.5");
        let mut q8 = f16::from_f32(0.25).to_le_bytes().to_vec();
        q8.extend((0..32).map(|j| if j == 0 { 0x80 } else { 1 }));
        let x = dequantize(DType::Q8_0, &q8).unwrap();
        assert_eq!((x[0], x[1]), (-32.0, 0.25));
    }

    #[test]
    fn quantizing_then_dequantizing_stays_within_the_rounding_step() {
        let values: Vec<f32> = (0..64).map(|i| ((i * 37 % 64) as f32 - 31.0) / 7.0).collect();
        for dtype in DType::QUANTIZED {
            let back = dequantize(dtype, &quantize(dtype, &values).unwrap()).unwrap();
            for (block, got) in values.chunks(32).zip(back.chunks(32)) {
                let amax = block.iter().fold(0f32, |a, b| a.max(b.abs()));
                let (lo, hi) = block.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
                // Half a step of rounding; Q4_0's 16 levels are asymmetric
                // ((q - 8) d for q in 0..16), so the side opposite the
                // largest magnitude clips by up to one step d = amax / 8.
                let bound = match dtype {
                    DType::Q4_0 => amax / 8.0,
                    DType::Q4_1 => (hi - lo) / 15.0 / 2.0,
                    _ => amax / 127.0 / 2.0,
                };
                for (v, b) in block.iter().zip(got) {
                    assert!((f64::from(*v) - b).abs() <= f64::from(bound) * 1.01 + 1e-3, "{dtype}: {v} -> {b}");
                }
            }
        }
    }

    #[test]
    fn element_dtypes_and_partial_blocks_are_errors() {
        assert!(dequantize(DType::F32, &[0; 4]).is_err());
        assert!(dequantize(DType::Q4_0, &[0; 17]).is_err());
        assert!(quantize(DType::Q8_0, &[0.0; 31]).is_err());
    }
}
