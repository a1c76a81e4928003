//! ONNX tensors decoded into hcal storage.
//!
//! For the element types hcal defines (FLOAT, FLOAT16, BFLOAT16, BOOL, INT64)
//! the tensor's elements are turned into hcal's little-endian storage bytes,
//! whether `onnx.proto` carried them in `raw_data` (already that layout) or in
//! a typed field (`float_data`, `int32_data` holding 16-bit patterns or bools,
//! `int64_data`). The small integer types DequantizeLinear reads keep one byte
//! per element (`blocked.rs`). Other element types keep their shape and type
//! code only, so a case can say which dtype it needs.

use hcal_core::{DType, TensorDesc};

use crate::proto::{TensorProto, data_type};

/// The hcal dtype of an ONNX element type code, when hcal defines it.
///
/// ```
/// use hcal_onnx::{proto::data_type, tensor::hcal_dtype};
/// assert_eq!(hcal_dtype(data_type::FLOAT16), Some(hcal_core::DType::F16));
/// assert_eq!(hcal_dtype(data_type::DOUBLE), None);
/// ```
pub fn hcal_dtype(code: i32) -> Option<DType> {
    match code {
        data_type::FLOAT => Some(DType::F32),
        data_type::FLOAT16 => Some(DType::F16),
        data_type::BFLOAT16 => Some(DType::BF16),
        data_type::BOOL => Some(DType::Bool),
        data_type::INT64 => Some(DType::I64),
        _ => None,
    }
}

/// A decoded tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxTensor {
    /// `TensorProto.name` (may be empty).
    pub name: String,
    /// Extents.
    pub dims: Vec<usize>,
    /// The ONNX element type code.
    pub elem_type: i32,
    /// hcal storage bytes, when hcal defines the element type; for INT32
    /// (which hcal does not define, but CumSum's axis may be) the
    /// little-endian i32 values; for INT8, UINT8, INT4 and UINT4 (blocked
    /// DequantizeLinear's data) one byte per element (see `blocked.rs`).
    pub bytes: Option<Vec<u8>>,
}

impl OnnxTensor {
    /// The hcal dtype, when hcal defines the element type.
    pub fn dtype(&self) -> Option<DType> {
        hcal_dtype(self.elem_type)
    }

    /// The hcal descriptor, when hcal defines the element type.
    pub fn desc(&self) -> Option<TensorDesc> {
        self.dtype().map(|d| TensorDesc::new(self.dims.clone(), d))
    }

    /// Every element as f64 (exact for every hcal dtype; i64 beyond 2^53 rounds).
    pub fn values(&self) -> Option<Vec<f64>> {
        Some(hcal_cpu::convert::to_f64(self.dtype()?, self.bytes.as_ref()?))
    }

    /// The elements of an INT64 tensor, exactly.
    pub fn ints(&self) -> Option<Vec<i64>> {
        (self.elem_type == data_type::INT64).then(|| hcal_cpu::convert::to_i64(self.bytes.as_deref().unwrap_or(&[])))
    }

    /// Element count.
    pub fn numel(&self) -> usize {
        self.dims.iter().product()
    }

    /// `FLOAT[3, 4]`-style description for messages.
    pub fn type_string(&self) -> String {
        format!("{}{:?}", data_type::name(self.elem_type), self.dims)
    }
}

/// As [`decode`], reading the elements as the graph's `declared` element type
/// when the file carries another 16-bit type: ONNX's test generator stores
/// bfloat16 data as UINT16 (numpy has no bfloat16), while the model declares
/// BFLOAT16. Any other difference is left to the caller to report.
///
/// # Errors
/// As [`decode`].
pub fn decode_declared(t: &TensorProto, declared: Option<i32>) -> Result<OnnxTensor, String> {
    const SIXTEEN_BIT: [i32; 3] = [data_type::UINT16, data_type::FLOAT16, data_type::BFLOAT16];
    match declared {
        Some(d) if d != t.data_type && SIXTEEN_BIT.contains(&d) && SIXTEEN_BIT.contains(&t.data_type) => {
            decode(&TensorProto { data_type: d, ..t.clone() })
        }
        _ => decode(t),
    }
}

/// Decode a `TensorProto`; `Err` says what is inconsistent (the caller names the file).
///
/// # Errors
/// A negative dim, data stored in an external file, or a data field whose
/// length does not match the shape.
pub fn decode(t: &TensorProto) -> Result<OnnxTensor, String> {
    let dims = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("tensor {:?} has a negative dim {d} in {:?}", t.name, t.dims)))
        .collect::<Result<Vec<_>, _>>()?;
    if t.data_location == 1 {
        return Err(format!("tensor {:?} keeps its data in an external file, which is not supported", t.name));
    }
    // Addressable as hcal requires (TensorDesc::byte_len: the extents, zero
    // dims counted as 1, times the element size fit in usize), so the count,
    // the byte size and the descriptor below cannot overflow.
    let widest = std::mem::size_of::<i64>();
    if dims.iter().try_fold(widest, |acc, &d| acc.checked_mul(d.max(1))).is_none() {
        return Err(format!("tensor {:?} has dims {:?} too large to address", t.name, t.dims));
    }
    let numel: usize = dims.iter().product();
    let mut tensor = OnnxTensor { name: t.name.clone(), dims, elem_type: t.data_type, bytes: None };
    if t.data_type == data_type::INT32 {
        tensor.bytes = Some(int32_payload(t, numel)?);
        return Ok(tensor);
    }
    if let Some(bits) = crate::blocked::small_int_bits(t.data_type) {
        tensor.bytes = Some(crate::blocked::small_int_payload(t, numel, bits)?);
        return Ok(tensor);
    }
    let Some(dtype) = tensor.dtype() else { return Ok(tensor) };
    let want = numel * dtype.size_bytes();
    let type_name = data_type::name(t.data_type);
    let mismatch = |field: &str, got: usize| {
        format!("tensor {:?} ({type_name}{:?}) has {got} {field}, expected {numel}", t.name, t.dims)
    };
    // The payload is copied into host memory allocated fallibly: its size
    // comes from the file, and one the host cannot hold is an error of this
    // tensor (`Error::OutOfMemory` in words), not an abort.
    let what = format!("payload of tensor {:?} ({type_name}{:?})", t.name, t.dims);
    let buffer = || hcal_core::host_vec_with_capacity::<u8>(want, &what).map_err(|e| e.to_string());
    let bytes = if !t.raw_data.is_empty() || numel == 0 {
        if t.raw_data.len() != want {
            return Err(format!(
                "tensor {:?} ({type_name}{:?}) has {} bytes of raw_data, expected {want}",
                t.name,
                t.dims,
                t.raw_data.len()
            ));
        }
        let mut bytes = buffer()?;
        bytes.extend_from_slice(&t.raw_data);
        bytes
    } else {
        let mut bytes = buffer()?;
        match dtype {
            DType::F32 => {
                if t.float_data.len() != numel {
                    return Err(mismatch("float_data values", t.float_data.len()));
                }
                bytes.extend(t.float_data.iter().flat_map(|v| v.to_le_bytes()));
            }
            DType::F16 | DType::BF16 => {
                if t.int32_data.len() != numel {
                    return Err(mismatch("int32_data values", t.int32_data.len()));
                }
                // Each int32 holds one 16-bit pattern in its low bits.
                bytes.extend(t.int32_data.iter().flat_map(|&v| (v as u16).to_le_bytes()));
            }
            DType::Bool => {
                if t.int32_data.len() != numel {
                    return Err(mismatch("int32_data values", t.int32_data.len()));
                }
                bytes.extend(t.int32_data.iter().map(|&v| u8::from(v != 0)));
            }
            DType::I64 => {
                if t.int64_data.len() != numel {
                    return Err(mismatch("int64_data values", t.int64_data.len()));
                }
                bytes.extend(t.int64_data.iter().flat_map(|v| v.to_le_bytes()));
            }
            // ONNX element types never map to GGML block formats (see `dtype()`).
            DType::Q4_0 | DType::Q4_1 | DType::Q8_0 => unreachable!("no ONNX type maps to a block-quantized dtype"),
        }
        bytes
    };
    tensor.bytes = Some(bytes);
    Ok(tensor)
}

/// The little-endian i32 values of an INT32 tensor of `numel` elements
/// (from `raw_data` or `int32_data`).
fn int32_payload(t: &TensorProto, numel: usize) -> Result<Vec<u8>, String> {
    let want = numel * 4;
    if !t.raw_data.is_empty() || numel == 0 {
        if t.raw_data.len() != want {
            return Err(format!(
                "tensor {:?} (INT32{:?}) has {} bytes of raw_data, expected {want}",
                t.name,
                t.dims,
                t.raw_data.len()
            ));
        }
        let mut bytes = hcal_core::host_vec_with_capacity::<u8>(want, "INT32 payload").map_err(|e| e.to_string())?;
        bytes.extend_from_slice(&t.raw_data);
        return Ok(bytes);
    }
    if t.int32_data.len() != numel {
        return Err(format!(
            "tensor {:?} (INT32{:?}) has {} int32_data values, expected {numel}",
            t.name,
            t.dims,
            t.int32_data.len()
        ));
    }
    let mut bytes = hcal_core::host_vec_with_capacity::<u8>(want, "INT32 payload").map_err(|e| e.to_string())?;
    bytes.extend(t.int32_data.iter().flat_map(|v| v.to_le_bytes()));
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proto(data_type: i32, dims: &[i64]) -> TensorProto {
        TensorProto { data_type, dims: dims.to_vec(), ..Default::default() }
    }

    #[test]
    fn float_data_and_raw_data_decode_alike() {
        let mut typed = proto(data_type::FLOAT, &[2]);
        typed.float_data = vec![1.5, -2.0];
        let mut raw = proto(data_type::FLOAT, &[2]);
        raw.raw_data = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(decode(&typed).unwrap().values(), Some(vec![1.5, -2.0]));
        assert_eq!(decode(&raw).unwrap().values(), Some(vec![1.5, -2.0]));
    }

    #[test]
    fn half_patterns_live_in_int32_data() {
        let mut t = proto(data_type::FLOAT16, &[2]);
        t.int32_data = vec![0x3C00, 0xC000]; // 1.0, -2.0
        assert_eq!(decode(&t).unwrap().values(), Some(vec![1.0, -2.0]));
        let mut b = proto(data_type::BFLOAT16, &[1]);
        b.int32_data = vec![0x3F80]; // 1.0
        assert_eq!(decode(&b).unwrap().values(), Some(vec![1.0]));
    }

    #[test]
    fn int64_and_bool() {
        let mut t = proto(data_type::INT64, &[3]);
        t.int64_data = vec![-1, 0, 1 << 40];
        assert_eq!(decode(&t).unwrap().ints(), Some(vec![-1, 0, 1 << 40]));
        let mut b = proto(data_type::BOOL, &[2]);
        b.int32_data = vec![1, 0];
        assert_eq!(decode(&b).unwrap().bytes, Some(vec![1, 0]));
    }

    #[test]
    fn inconsistent_lengths_are_errors() {
        let mut t = proto(data_type::FLOAT, &[3]);
        t.raw_data = vec![0; 8];
        assert!(decode(&t).unwrap_err().contains("8 bytes of raw_data, expected 12"));
        let mut u = proto(data_type::FLOAT, &[3]);
        u.float_data = vec![0.0];
        assert!(decode(&u).unwrap_err().contains("1 float_data values, expected 3"));
        assert!(decode(&proto(data_type::FLOAT, &[-1])).unwrap_err().contains("negative dim"));
        // Dims whose product overflows (found by the onnx_tensor fuzz target: a panic before).
        let huge = decode(&proto(data_type::FLOAT, &[1 << 32, 1 << 32])).unwrap_err();
        assert!(huge.contains("too large to address"), "{huge}");
        assert!(decode(&proto(data_type::UINT8, &[0, i64::MAX, 4])).is_err());
    }

    #[test]
    fn bfloat16_stored_as_uint16_is_read_as_declared() {
        let mut t = proto(data_type::UINT16, &[1]);
        t.int32_data = vec![0x3F80];
        assert_eq!(decode(&t).unwrap().bytes, None);
        let b = decode_declared(&t, Some(data_type::BFLOAT16)).unwrap();
        assert_eq!((b.elem_type, b.values()), (data_type::BFLOAT16, Some(vec![1.0])));
        let f = proto(data_type::FLOAT, &[0]);
        assert_eq!(decode_declared(&f, Some(data_type::BFLOAT16)).unwrap().elem_type, data_type::FLOAT);
    }

    #[test]
    fn other_types_keep_only_their_shape() {
        let t = decode(&proto(data_type::DOUBLE, &[2, 2])).unwrap();
        assert_eq!((t.dims.as_slice(), t.bytes.is_none(), t.type_string()), (&[2, 2][..], true, "DOUBLE[2, 2]".into()));
    }

    #[test]
    fn empty_tensors_need_no_data() {
        let t = decode(&proto(data_type::FLOAT, &[2, 0])).unwrap();
        assert_eq!(t.values(), Some(vec![]));
    }
}
