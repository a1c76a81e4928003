//! ONNX's blocked `DequantizeLinear` (opset 21: `block_size` along one axis)
//! as hcal's block-quantized dtypes.
//!
//! `y = (x - zero_point) * scale`, one scale and zero point per block of
//! `block_size` elements along `axis`. With blocks of 32 along the last axis
//! and f16 scales this is exactly a GGML block tensor cast to the scale's
//! type (hcal's `Cast` from a block-quantized dtype dequantizes):
//!
//! | x | zero point | hcal dtype | block |
//! | --- | --- | --- | --- |
//! | INT8 | 0 (or absent) | Q8_0 | `d = s`, `qs = x` |
//! | INT4 | 0 (or absent) | Q4_0 | `d = s`, `q = x + 8` |
//! | UINT4 | 8 everywhere | Q4_0 | `d = s`, `q = x` |
//! | INT4 / UINT4 | any | Q4_1 | `d = s`, `q = x (+ 8)`, `m = -(z (+ 8)) s` |
//!
//! A scale that is no f16 value, or a Q4_1 minimum `m` that is none, would
//! change the values, so such tensors are not mapped (the reason says
//! which). The 4-bit and 8-bit integers themselves are decoded here too: ONNX
//! packs two 4-bit elements per byte, the first in the low nibble.

use half::f16;
use hcal_core::DType;

use crate::proto::{TensorProto, data_type};
use crate::tensor::OnnxTensor;

/// Bits per element of ONNX's small integer types (INT8, UINT8, INT4, UINT4).
pub(crate) fn small_int_bits(code: i32) -> Option<u32> {
    match code {
        data_type::INT8 | data_type::UINT8 => Some(8),
        data_type::INT4 | data_type::UINT4 => Some(4),
        _ => None,
    }
}

/// One byte per element of a small-integer tensor of `numel` elements: its
/// value's low byte (signed types sign-extended from 4 bits), from
/// `raw_data` (4-bit elements two per byte, the first in the low nibble) or
/// `int32_data` (one element, or one byte of two 4-bit elements, per entry).
pub(crate) fn small_int_payload(t: &TensorProto, numel: usize, bits: u32) -> Result<Vec<u8>, String> {
    let packed_len = if bits == 4 { numel.div_ceil(2) } else { numel };
    let name = data_type::name(t.data_type);
    let packed: Vec<u8> = if !t.raw_data.is_empty() || numel == 0 {
        if t.raw_data.len() != packed_len {
            return Err(format!(
                "tensor {:?} ({name}{:?}) has {} bytes of raw_data, expected {packed_len}",
                t.name,
                t.dims,
                t.raw_data.len()
            ));
        }
        t.raw_data.clone()
    } else {
        if t.int32_data.len() != packed_len {
            return Err(format!(
                "tensor {:?} ({name}{:?}) has {} int32_data values, expected {packed_len}",
                t.name,
                t.dims,
                t.int32_data.len()
            ));
        }
        t.int32_data.iter().map(|&v| v as u8).collect()
    };
    if bits == 8 {
        return Ok(packed);
    }
    let signed = t.data_type == data_type::INT4;
    let widen = |nibble: u8| if signed && nibble >= 8 { nibble | 0xF0 } else { nibble };
    Ok((0..numel).map(|i| widen((packed[i / 2] >> (4 * (i % 2))) & 0xF)).collect())
}

/// The values of a small-integer tensor (see [`small_int_payload`]).
pub(crate) fn small_ints(t: &OnnxTensor) -> Option<Vec<i32>> {
    let bytes = t.bytes.as_ref()?;
    match t.elem_type {
        data_type::INT8 | data_type::INT4 => Some(bytes.iter().map(|&b| i32::from(b as i8)).collect()),
        data_type::UINT8 | data_type::UINT4 => Some(bytes.iter().map(|&b| i32::from(b)).collect()),
        _ => None,
    }
}

/// Values per block of hcal's block dtypes.
const BLOCK: usize = hcal_core::quant::BLOCK;

/// Pack `x` with its per-block `scale` and optional `zero_point` (blocks of
/// 32 along the last axis) into the hcal block dtype that holds `(x - zero) *
/// scale` exactly, with its bytes.
///
/// # Errors
/// Why no hcal block dtype holds the tensor: shapes, element types, a scale
/// or Q4_1 minimum that is no f16 value.
pub fn pack(x: &OnnxTensor, scale: &OnnxTensor, zero: Option<&OnnxTensor>) -> Result<(DType, Vec<u8>), String> {
    let k = *x.dims.last().ok_or("DequantizeLinear of a scalar has no blocks")?;
    if k % BLOCK != 0 {
        return Err(format!("DequantizeLinear blocks along an axis of {k}: hcal's block dtypes need a multiple of 32"));
    }
    let mut blocks_shape = x.dims.clone();
    *blocks_shape.last_mut().expect("rank >= 1") = k / BLOCK;
    if scale.dims != blocks_shape || zero.is_some_and(|z| z.dims != blocks_shape) {
        return Err(format!("DequantizeLinear scale/zero point dims must be {blocks_shape:?} for x {:?}", x.dims));
    }
    let xs = small_ints(x).ok_or_else(|| format!("DequantizeLinear of {}", x.type_string()))?;
    let scales = scale.values().ok_or("DequantizeLinear scale is neither f32 nor f16 data")?;
    let zeros = match zero {
        Some(z) => {
            if z.elem_type != x.elem_type {
                return Err(format!("DequantizeLinear zero point {} for x {}", z.type_string(), x.type_string()));
            }
            small_ints(z).ok_or("DequantizeLinear zero point has no data")?
        }
        None => vec![0; scales.len()],
    };
    // Offsets making x a GGML 4-bit code q = x + shift in 0..16.
    let shift = if x.elem_type == data_type::INT4 { 8 } else { 0 };
    let d = |b: usize| {
        let s = scales[b];
        let h = f16::from_f64(s);
        (f64::from(h) == s).then_some(h).ok_or_else(|| {
            format!("DequantizeLinear scale {s} (block {b}) is no f16 value: GGML blocks hold f16 scales")
        })
    };
    let mut out = Vec::new();
    let dtype = match x.elem_type {
        data_type::INT8 => {
            if let Some(b) = zeros.iter().position(|&z| z != 0) {
                return Err(format!("DequantizeLinear int8 zero point {} (block {b}): Q8_0 has none", zeros[b]));
            }
            for (b, chunk) in xs.chunks(BLOCK).enumerate() {
                out.extend(d(b)?.to_le_bytes());
                out.extend(chunk.iter().map(|&q| q as i8 as u8));
            }
            DType::Q8_0
        }
        data_type::INT4 | data_type::UINT4 => {
            // Q4_0 when every block's zero sits at code 8, else Q4_1.
            let q4_0 = zeros.iter().all(|&z| z + shift == 8);
            for (b, chunk) in xs.chunks(BLOCK).enumerate() {
                out.extend(d(b)?.to_le_bytes());
                if !q4_0 {
                    let m = -f64::from(zeros[b] + shift) * scales[b];
                    let h = f16::from_f64(m);
                    if f64::from(h) != m {
                        return Err(format!(
                            "DequantizeLinear zero point {} times scale {} (block {b}) is no f16 value: Q4_1 holds an f16 minimum",
                            zeros[b], scales[b]
                        ));
                    }
                    out.extend(h.to_le_bytes());
                }
                let code = |j: usize| (chunk[j] + shift) as u8;
                out.extend((0..BLOCK / 2).map(|j| code(j) | code(j + BLOCK / 2) << 4));
            }
            if q4_0 { DType::Q4_0 } else { DType::Q4_1 }
        }
        _ => {
            return Err(format!(
                "DequantizeLinear of {}: hcal's block dtypes hold int8, int4 and uint4",
                x.type_string()
            ));
        }
    };
    Ok((dtype, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(elem_type: i32, dims: &[usize], bytes: Vec<u8>) -> OnnxTensor {
        OnnxTensor { name: String::new(), dims: dims.to_vec(), elem_type, bytes: Some(bytes) }
    }

    fn floats(dims: &[usize], v: &[f32]) -> OnnxTensor {
        tensor(data_type::FLOAT, dims, v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }

    #[test]
    fn int4_nibbles_unpack_low_first_and_sign_extend() {
        let t = TensorProto { data_type: data_type::INT4, raw_data: vec![0x8F, 0x07], ..Default::default() };
        let bytes = small_int_payload(&t, 3, 4).unwrap();
        assert_eq!(small_ints(&tensor(data_type::INT4, &[3], bytes)).unwrap(), [-1, -8, 7]);
        let t = TensorProto { data_type: data_type::UINT4, raw_data: vec![0x8F], ..Default::default() };
        assert_eq!(small_int_payload(&t, 2, 4).unwrap(), [15, 8]);
        let short = TensorProto { data_type: data_type::UINT4, raw_data: vec![0x8F], ..Default::default() };
        assert!(small_int_payload(&short, 3, 4).unwrap_err().contains("expected 2"));
    }

    #[test]
    fn packed_blocks_dequantize_to_onnx_values() {
        // uint4 codes 0..32 % 16, zero points 3: Q4_1, m = -3 s.
        let codes: Vec<u8> = (0..32).map(|i| (i % 16) as u8).collect();
        let x = tensor(data_type::UINT4, &[1, 32], codes.clone());
        let scale = floats(&[1, 1], &[0.25]);
        let zero = tensor(data_type::UINT4, &[1, 1], vec![3]);
        let (dtype, bytes) = pack(&x, &scale, Some(&zero)).unwrap();
        assert_eq!(dtype, DType::Q4_1);
        let want: Vec<f64> = codes.iter().map(|&q| (f64::from(q) - 3.0) * 0.25).collect();
        assert_eq!(hcal_core::quant::dequantize(dtype, &bytes).unwrap(), want);
        // Zero points of 8: Q4_0.
        let eight = tensor(data_type::UINT4, &[1, 1], vec![8]);
        assert_eq!(pack(&x, &scale, Some(&eight)).unwrap().0, DType::Q4_0);
    }

    #[test]
    fn what_a_block_cannot_hold_is_refused_with_the_reason() {
        let x = tensor(data_type::INT8, &[1, 32], vec![1; 32]);
        let inexact = pack(&x, &floats(&[1, 1], &[0.1]), None).unwrap_err();
        assert!(inexact.contains("no f16 value"), "{inexact}");
        let zero = tensor(data_type::INT8, &[1, 1], vec![2]);
        assert!(pack(&x, &floats(&[1, 1], &[0.5]), Some(&zero)).unwrap_err().contains("Q8_0 has none"));
        let odd = tensor(data_type::INT8, &[1, 48], vec![1; 48]);
        assert!(pack(&odd, &floats(&[1, 1], &[0.5]), None).unwrap_err().contains("multiple of 32"));
    }
}
