//! ggml block quantization formats and their exact f32 dequantization.
//!
//! This module is hcal's reference text for the block formats of GGUF tensors. A
//! quantized tensor is stored row by row (row = `ne[0]` consecutive values, the
//! contiguous dimension, which is always a multiple of the block size); each row is a
//! sequence of *blocks* of 32 values. Blocks are packed with no padding; all
//! multi-byte fields are little-endian; `f16` is IEEE 754 binary16.
//!
//! | type   | bytes | layout                                   | value `j` of the block (`j` in `0..32`) |
//! |--------|-------|------------------------------------------|------------------------------------------|
//! | `Q4_0` | 18    | `d: f16`, `qs: [u8; 16]`                 | `(q_j - 8) · d`                          |
//! | `Q4_1` | 20    | `d: f16`, `m: f16`, `qs: [u8; 16]`       | `q_j · d + m`                            |
//! | `Q8_0` | 34    | `d: f16`, `qs: [i8; 32]`                 | `q_j · d`                                |
//!
//! **4-bit nibble order** (`Q4_0`, `Q4_1`): byte `qs[i]` (`i` in `0..16`) holds
//! value `i` in its *low* nibble (`qs[i] & 0x0F`) and value `i + 16` in its *high*
//! nibble (`qs[i] >> 4`). So the low nibbles of the 16 bytes are values `0..16` and
//! the high nibbles values `16..32`; nibbles are unsigned (`q_j` in `0..=15`).
//!
//! **Arithmetic** (what makes results bit-exact across implementations): `d` and `m`
//! are converted from f16 to f32 (exact). `Q4_0`: the integer `q_j - 8` (in
//! `-8..=7`) is converted to f32 (exact) and multiplied by `d` in f32, one rounding
//! to nearest-even. `Q8_0`: the `i8` `q_j` converted to f32 (exact) times `d`, one
//! rounding. `Q4_1`: `q_j` converted to f32 (exact), multiplied by `d` in f32
//! (rounded), then `m` added in f32 (rounded): **two** roundings, never a fused
//! multiply-add. This matches ggml's scalar reference (`dequantize_row_q4_1` compiled
//! without FMA contraction) and gguf-py's numpy `dequantize`.
//!
//! `F32` tensors are little-endian f32 values, `F16` little-endian binary16 values
//! converted exactly to f32.
//!
//! ```
//! use hcal_gguf::quant::{dequantize_q4_1, BLOCK_Q4_1_BYTES};
//! use half::f16;
//! let mut block = [0u8; BLOCK_Q4_1_BYTES];
//! block[0..2].copy_from_slice(&f16::from_f32(0.5).to_le_bytes()); // d
//! block[2..4].copy_from_slice(&f16::from_f32(-1.0).to_le_bytes()); // m
//! block[4] = 0x3A; // value 0: low nibble 0xA = 10, value 16: high nibble 0x3 = 3
//! let x = dequantize_q4_1(&block).unwrap();
//! assert_eq!(x[0], 10.0 * 0.5 - 1.0);
//! assert_eq!(x[16], 3.0 * 0.5 - 1.0);
//! assert_eq!(x[1], -1.0); // q = 0
//! ```

use half::f16;

use crate::{GgmlType, GgufError, Result};

/// Values per block of `Q4_0`, `Q4_1` and `Q8_0`.
pub const QK: usize = 32;
/// Bytes per `Q4_0` block: `d: f16` + 16 bytes of nibbles.
pub const BLOCK_Q4_0_BYTES: usize = 18;
/// Bytes per `Q4_1` block: `d: f16`, `m: f16` + 16 bytes of nibbles.
pub const BLOCK_Q4_1_BYTES: usize = 20;
/// Bytes per `Q8_0` block: `d: f16` + 32 `i8`.
pub const BLOCK_Q8_0_BYTES: usize = 34;

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

fn blocks(bytes: &[u8], block: usize, ty: &str) -> Result<Vec<f32>> {
    if bytes.len() % block != 0 {
        return Err(GgufError::Malformed {
            offset: 0,
            what: format!("{} bytes of {ty} data is not a whole number of {block}-byte blocks", bytes.len()),
        });
    }
    let n = bytes.len() / block * QK;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| GgufError::Alloc {
        offset: 0,
        bytes: (n as u64) * 4,
        what: format!("dequantized {ty} values"),
    })?;
    Ok(v)
}

/// Dequantizes `Q4_0` blocks (18 bytes each → 32 values): `x = (q - 8) · d`.
/// An error if `bytes.len()` is not a multiple of 18.
///
/// ```
/// let mut block = [0u8; 18];
/// block[0..2].copy_from_slice(&half::f16::from_f32(2.0).to_le_bytes());
/// block[2] = 0xF0; // value 0: q = 0 → -16, value 16: q = 15 → 14
/// let x = hcal_gguf::quant::dequantize_q4_0(&block).unwrap();
/// assert_eq!((x[0], x[16], x[1]), (-16.0, 14.0, -16.0));
/// ```
pub fn dequantize_q4_0(bytes: &[u8]) -> Result<Vec<f32>> {
    let mut out = blocks(bytes, BLOCK_Q4_0_BYTES, "Q4_0")?;
    for b in bytes.chunks_exact(BLOCK_Q4_0_BYTES) {
        let d = f16_at(b, 0);
        let qs = &b[2..18];
        out.extend(qs.iter().map(|&q| ((q & 0x0F) as i32 - 8) as f32 * d));
        out.extend(qs.iter().map(|&q| ((q >> 4) as i32 - 8) as f32 * d));
    }
    Ok(out)
}

/// Dequantizes `Q4_1` blocks (20 bytes each → 32 values): `x = q · d + m`, rounded
/// after the product and after the sum (no FMA). An error if `bytes.len()` is not a
/// multiple of 20.
///
/// ```
/// let mut block = [0u8; 20];
/// block[0..2].copy_from_slice(&half::f16::from_f32(0.25).to_le_bytes());
/// block[2..4].copy_from_slice(&half::f16::from_f32(1.0).to_le_bytes());
/// block[19] = 0x21; // value 15: q = 1, value 31: q = 2
/// let x = hcal_gguf::quant::dequantize_q4_1(&block).unwrap();
/// assert_eq!((x[15], x[31], x[0]), (1.25, 1.5, 1.0));
/// ```
pub fn dequantize_q4_1(bytes: &[u8]) -> Result<Vec<f32>> {
    let mut out = blocks(bytes, BLOCK_Q4_1_BYTES, "Q4_1")?;
    for b in bytes.chunks_exact(BLOCK_Q4_1_BYTES) {
        let d = f16_at(b, 0);
        let m = f16_at(b, 2);
        let qs = &b[4..20];
        out.extend(qs.iter().map(|&q| (q & 0x0F) as f32 * d + m));
        out.extend(qs.iter().map(|&q| (q >> 4) as f32 * d + m));
    }
    Ok(out)
}

/// Dequantizes `Q8_0` blocks (34 bytes each → 32 values): `x = q · d` with `q` an
/// `i8`. An error if `bytes.len()` is not a multiple of 34.
///
/// ```
/// let mut block = [0u8; 34];
/// block[0..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
/// block[2] = (-3i8) as u8;
/// block[33] = 127;
/// let x = hcal_gguf::quant::dequantize_q8_0(&block).unwrap();
/// assert_eq!((x[0], x[31]), (-1.5, 63.5));
/// ```
pub fn dequantize_q8_0(bytes: &[u8]) -> Result<Vec<f32>> {
    let mut out = blocks(bytes, BLOCK_Q8_0_BYTES, "Q8_0")?;
    for b in bytes.chunks_exact(BLOCK_Q8_0_BYTES) {
        let d = f16_at(b, 0);
        out.extend(b[2..34].iter().map(|&q| q as i8 as f32 * d));
    }
    Ok(out)
}

fn plain<const N: usize>(bytes: &[u8], ty: &str, f: impl Fn([u8; N]) -> f32) -> Result<Vec<f32>> {
    if bytes.len() % N != 0 {
        return Err(GgufError::Malformed {
            offset: 0,
            what: format!("{} bytes of {ty} data is not a whole number of {N}-byte values", bytes.len()),
        });
    }
    let n = bytes.len() / N;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| GgufError::Alloc {
        offset: 0,
        bytes: (n as u64) * 4,
        what: format!("{ty} values"),
    })?;
    v.extend(bytes.chunks_exact(N).map(|c| f(c.try_into().expect("chunk of N bytes"))));
    Ok(v)
}

/// Converts packed data of type `ty` to f32 values in storage order (for a tensor:
/// row-major in the hcal shape). Supports `F32`, `F16`, `Q4_0`, `Q4_1` and `Q8_0`;
/// any other type is an error, as is a byte length that is not a whole number of
/// blocks.
///
/// ```
/// use hcal_gguf::{quant::dequantize, GgmlType};
/// let bytes: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
/// assert_eq!(dequantize(GgmlType::F32, &bytes).unwrap(), vec![1.5, -2.0]);
/// assert!(dequantize(GgmlType::Q4_K, &[0; 144]).is_err());
/// ```
pub fn dequantize(ty: GgmlType, bytes: &[u8]) -> Result<Vec<f32>> {
    match ty {
        GgmlType::F32 => plain::<4>(bytes, "F32", f32::from_le_bytes),
        GgmlType::F16 => plain::<2>(bytes, "F16", |b| f16::from_le_bytes(b).to_f32()),
        GgmlType::Q4_0 => dequantize_q4_0(bytes),
        GgmlType::Q4_1 => dequantize_q4_1(bytes),
        GgmlType::Q8_0 => dequantize_q8_0(bytes),
        other => Err(GgufError::Malformed {
            offset: 0,
            what: format!("dequantization of ggml type {other} is not supported"),
        }),
    }
}
