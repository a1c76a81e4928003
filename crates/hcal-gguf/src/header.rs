//! The GGUF header parser: magic, version, metadata and tensor infos, read with
//! every length checked against the bytes that remain, so a corrupt or truncated
//! file is an error naming the offset and the field, never a huge allocation.

use std::collections::HashMap;
use std::io::{ErrorKind, Read};

use crate::reader::{DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, TensorInfo};
use crate::value::{ArrayValue, Value, ValueType};
use crate::{GgmlType, GgufError, Result};

/// ggml's maximum number of tensor dimensions.
const MAX_DIMS: u32 = 4;
/// Deepest nesting of arrays of arrays accepted (bounds the parser's recursion).
const MAX_ARRAY_DEPTH: u32 = 8;
/// Smallest encoded metadata entry: key length (8) + value type (4) + a 1-byte value.
const MIN_KV_BYTES: u64 = 13;
/// Smallest encoded tensor info: name length (8) + n_dims (4) + type (4) + offset (8).
const MIN_TENSOR_INFO_BYTES: u64 = 24;

/// A value for an error message: its type, and the value when short.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => v.type_description(),
        Value::String(s) if s.len() > 40 => format!("string ({} bytes)", s.len()),
        _ => format!("{} {v}", v.type_description()),
    }
}

/// Everything before the data section, as parsed.
pub(crate) struct Header {
    pub(crate) version: u32,
    pub(crate) alignment: u64,
    pub(crate) data_offset: u64,
    pub(crate) metadata: Vec<(String, Value)>,
    pub(crate) metadata_index: HashMap<String, usize>,
    pub(crate) tensors: Vec<TensorInfo>,
    pub(crate) tensor_index: HashMap<String, usize>,
}

/// Reads the header fields from `r`, tracking the offset and the bytes that remain.
pub(crate) struct Parser<R> {
    r: R,
    pos: u64,
    len: u64,
}

fn alloc_err(offset: u64, count: usize, elem: usize, what: &str) -> GgufError {
    GgufError::Alloc { offset, bytes: (count as u64).saturating_mul(elem as u64), what: what.to_string() }
}

/// A vector with room for `n` elements, allocated fallibly.
fn try_vec<T>(n: usize, offset: u64, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| alloc_err(offset, n, std::mem::size_of::<T>(), what))?;
    Ok(v)
}

impl<R: Read> Parser<R> {
    /// A parser at offset 0 of a file of `len` bytes.
    pub(crate) fn new(r: R, len: u64) -> Self {
        Parser { r, pos: 0, len }
    }

    fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    /// Errors unless `needed` bytes remain from the current offset.
    fn need(&self, needed: u64, what: impl FnOnce() -> String) -> Result<()> {
        if needed > self.remaining() {
            return Err(GgufError::Truncated {
                offset: self.pos,
                what: what(),
                needed,
                available: self.remaining(),
                file_len: self.len,
            });
        }
        Ok(())
    }

    fn read_into(&mut self, buf: &mut [u8], what: &dyn Fn() -> String) -> Result<()> {
        self.need(buf.len() as u64, what)?;
        let at = self.pos;
        self.r.read_exact(buf).map_err(|source| {
            if source.kind() == ErrorKind::UnexpectedEof {
                GgufError::Truncated {
                    offset: at,
                    what: what(),
                    needed: buf.len() as u64,
                    available: 0,
                    file_len: self.len,
                }
            } else {
                GgufError::Io { offset: at, source }
            }
        })?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn bytes<const N: usize>(&mut self, what: &dyn Fn() -> String) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.read_into(&mut b, what)?;
        Ok(b)
    }

    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(what)?))
    }

    fn u64(&mut self, what: &dyn Fn() -> String) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(what)?))
    }

    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String> {
        let len = self.u64(&|| format!("length of {}", what()))?;
        let at = self.pos;
        self.need(len, || format!("{} (string of {len} bytes)", what()))?;
        let n = usize::try_from(len).map_err(|_| alloc_err(at, usize::MAX, 1, &what()))?;
        let mut buf = try_vec::<u8>(n, at, &what())?;
        buf.resize(n, 0);
        self.read_into(&mut buf, what)?;
        String::from_utf8(buf).map_err(|e| GgufError::Malformed {
            offset: at + e.utf8_error().valid_up_to() as u64,
            what: format!("{} is not valid UTF-8", what()),
        })
    }

    fn value_type(&mut self, what: &dyn Fn() -> String) -> Result<ValueType> {
        let at = self.pos;
        let id = self.u32(what)?;
        ValueType::from_id(id)
            .ok_or_else(|| GgufError::Malformed { offset: at, what: format!("{}: unknown value type id {id}", what()) })
    }

    fn value(&mut self, ty: ValueType, key: &str, depth: u32) -> Result<Value> {
        let what = || format!("value of `{key}`");
        let at = self.pos;
        Ok(match ty {
            ValueType::U8 => Value::U8(u8::from_le_bytes(self.bytes(&what)?)),
            ValueType::I8 => Value::I8(i8::from_le_bytes(self.bytes(&what)?)),
            ValueType::U16 => Value::U16(u16::from_le_bytes(self.bytes(&what)?)),
            ValueType::I16 => Value::I16(i16::from_le_bytes(self.bytes(&what)?)),
            ValueType::U32 => Value::U32(u32::from_le_bytes(self.bytes(&what)?)),
            ValueType::I32 => Value::I32(i32::from_le_bytes(self.bytes(&what)?)),
            ValueType::F32 => Value::F32(f32::from_le_bytes(self.bytes(&what)?)),
            ValueType::U64 => Value::U64(u64::from_le_bytes(self.bytes(&what)?)),
            ValueType::I64 => Value::I64(i64::from_le_bytes(self.bytes(&what)?)),
            ValueType::F64 => Value::F64(f64::from_le_bytes(self.bytes(&what)?)),
            ValueType::Bool => match self.bytes::<1>(&what)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => {
                    return Err(GgufError::Malformed {
                        offset: at,
                        what: format!("value of `{key}`: bool byte is {b}, not 0 or 1"),
                    });
                }
            },
            ValueType::String => Value::String(self.string(&what)?),
            ValueType::Array => Value::Array(self.array(key, depth + 1)?),
        })
    }

    fn array(&mut self, key: &str, depth: u32) -> Result<ArrayValue> {
        let at = self.pos;
        if depth > MAX_ARRAY_DEPTH {
            return Err(GgufError::Malformed {
                offset: at,
                what: format!("value of `{key}`: arrays nested deeper than {MAX_ARRAY_DEPTH}"),
            });
        }
        let what = || format!("array `{key}`");
        let ty = self.value_type(&|| format!("element type of array `{key}`"))?;
        let count = self.u64(&|| format!("element count of array `{key}`"))?;
        let min = count.saturating_mul(ty.min_size());
        self.need(min, || {
            format!("array `{key}` of {count} {} elements (at least {} bytes each)", ty.name(), ty.min_size())
        })?;
        // Bounded by the file length through `need` above.
        let n = count as usize;
        let w = what();
        macro_rules! fixed {
            ($variant:ident, $t:ty) => {{
                let mut v = try_vec::<$t>(n, at, &w)?;
                for _ in 0..n {
                    v.push(<$t>::from_le_bytes(self.bytes(&what)?));
                }
                ArrayValue::$variant(v)
            }};
        }
        Ok(match ty {
            ValueType::U8 => fixed!(U8, u8),
            ValueType::I8 => fixed!(I8, i8),
            ValueType::U16 => fixed!(U16, u16),
            ValueType::I16 => fixed!(I16, i16),
            ValueType::U32 => fixed!(U32, u32),
            ValueType::I32 => fixed!(I32, i32),
            ValueType::F32 => fixed!(F32, f32),
            ValueType::U64 => fixed!(U64, u64),
            ValueType::I64 => fixed!(I64, i64),
            ValueType::F64 => fixed!(F64, f64),
            ValueType::Bool => {
                let mut v = try_vec::<bool>(n, at, &w)?;
                for i in 0..n {
                    let b = self.bytes::<1>(&what)?[0];
                    if b > 1 {
                        return Err(GgufError::Malformed {
                            offset: self.pos - 1,
                            what: format!("array `{key}` element {i}: bool byte is {b}, not 0 or 1"),
                        });
                    }
                    v.push(b == 1);
                }
                ArrayValue::Bool(v)
            }
            ValueType::String => {
                let mut v = try_vec::<String>(n, at, &w)?;
                for i in 0..n {
                    v.push(self.string(&|| format!("array `{key}` element {i}"))?);
                }
                ArrayValue::String(v)
            }
            ValueType::Array => {
                let mut v = try_vec::<ArrayValue>(n, at, &w)?;
                for _ in 0..n {
                    v.push(self.array(key, depth + 1)?);
                }
                ArrayValue::Array(v)
            }
        })
    }

    /// Parses everything before the data section.
    pub(crate) fn header(&mut self) -> Result<Header> {
        let magic: [u8; 4] = self.bytes(&|| "magic".to_string())?;
        if magic != GGUF_MAGIC {
            return Err(GgufError::BadMagic { found: magic });
        }
        let version = self.u32(&|| "version".to_string())?;
        if version != GGUF_VERSION {
            return Err(GgufError::UnsupportedVersion { version });
        }
        let tensor_count = self.u64(&|| "tensor count".to_string())?;
        let kv_count = self.u64(&|| "metadata count".to_string())?;
        let counts_at = self.pos - 16;
        let min = tensor_count
            .checked_mul(MIN_TENSOR_INFO_BYTES)
            .and_then(|t| kv_count.checked_mul(MIN_KV_BYTES).and_then(|k| k.checked_add(t)))
            .unwrap_or(u64::MAX);
        if min > self.remaining() {
            return Err(GgufError::Truncated {
                offset: counts_at,
                what: format!(
                    "{tensor_count} tensor infos (at least {MIN_TENSOR_INFO_BYTES} bytes each) and \
                     {kv_count} metadata entries (at least {MIN_KV_BYTES} bytes each)"
                ),
                needed: min,
                available: self.remaining(),
                file_len: self.len,
            });
        }
        // Both counts are bounded by the file length now.
        let (n_kv, n_tensors) = (kv_count as usize, tensor_count as usize);

        let mut metadata = try_vec::<(String, Value)>(n_kv, counts_at, "metadata table")?;
        let mut metadata_index = HashMap::new();
        metadata_index.try_reserve(n_kv).map_err(|_| alloc_err(counts_at, n_kv, 64, "metadata index"))?;
        let mut alignment = DEFAULT_ALIGNMENT;
        for i in 0..n_kv {
            let entry_at = self.pos;
            let key = self.string(&|| format!("key of metadata entry {i}"))?;
            let ty = self.value_type(&|| format!("value type of `{key}`"))?;
            let value_at = self.pos;
            let value = self.value(ty, &key, 0)?;
            if key == "general.alignment" {
                alignment = match value {
                    Value::U32(a) if a.is_power_of_two() => a.into(),
                    ref v => {
                        return Err(GgufError::Malformed {
                            offset: value_at,
                            what: format!("`general.alignment` must be a u32 power of two, found {}", describe(v)),
                        });
                    }
                };
            }
            if metadata_index.insert(key.clone(), i).is_some() {
                return Err(GgufError::Malformed { offset: entry_at, what: format!("duplicate metadata key `{key}`") });
            }
            metadata.push((key, value));
        }

        let infos_at = self.pos;
        let mut tensors = try_vec::<TensorInfo>(n_tensors, infos_at, "tensor table")?;
        let mut tensor_index = HashMap::new();
        tensor_index.try_reserve(n_tensors).map_err(|_| alloc_err(infos_at, n_tensors, 64, "tensor index"))?;
        for i in 0..n_tensors {
            let info_at = self.pos;
            let name = self.string(&|| format!("name of tensor {i}"))?;
            let dims_at = self.pos;
            let n_dims = self.u32(&|| format!("n_dims of tensor `{name}`"))?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(GgufError::Malformed {
                    offset: dims_at,
                    what: format!("tensor `{name}` has {n_dims} dimensions (1 to {MAX_DIMS} allowed)"),
                });
            }
            let mut dims = Vec::with_capacity(MAX_DIMS as usize);
            for d in 0..n_dims {
                let at = self.pos;
                let v = self.u64(&|| format!("dimension {d} of tensor `{name}`"))?;
                if v > i64::MAX as u64 {
                    return Err(GgufError::Malformed {
                        offset: at,
                        what: format!("dimension {d} of tensor `{name}` is {v}, beyond ggml's i64"),
                    });
                }
                dims.push(v);
            }
            let n_elements = dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .filter(|&n| n <= i64::MAX as u64 && usize::try_from(n).is_ok())
                .ok_or_else(|| GgufError::Malformed {
                    offset: dims_at,
                    what: format!("tensor `{name}`: element count of dims {dims:?} overflows"),
                })?;
            let type_at = self.pos;
            let type_id = self.u32(&|| format!("type of tensor `{name}`"))?;
            let ggml_type = GgmlType::from_id(type_id).ok_or_else(|| GgufError::Malformed {
                offset: type_at,
                what: format!("tensor `{name}` has unknown ggml type id {type_id}"),
            })?;
            let block = ggml_type.block_size();
            if dims[0] % block != 0 {
                return Err(GgufError::Malformed {
                    offset: dims_at,
                    what: format!(
                        "tensor `{name}`: ne[0] = {} is not a multiple of the {ggml_type} block size {block}",
                        dims[0]
                    ),
                });
            }
            let n_bytes = (n_elements / block).checked_mul(ggml_type.type_size()).ok_or_else(|| {
                GgufError::Malformed { offset: dims_at, what: format!("tensor `{name}`: byte size overflows") }
            })?;
            let offset_at = self.pos;
            let offset = self.u64(&|| format!("data offset of tensor `{name}`"))?;
            if offset % alignment != 0 {
                return Err(GgufError::Malformed {
                    offset: offset_at,
                    what: format!(
                        "tensor `{name}`: data offset {offset} is not a multiple of the alignment {alignment}"
                    ),
                });
            }
            if tensor_index.insert(name.clone(), i).is_some() {
                return Err(GgufError::Malformed { offset: info_at, what: format!("duplicate tensor name `{name}`") });
            }
            tensors.push(TensorInfo { name, dims, ggml_type, offset, file_offset: 0, n_elements, n_bytes });
        }

        let end_of_infos = self.pos;
        let data_offset = end_of_infos.checked_next_multiple_of(alignment).ok_or_else(|| GgufError::Malformed {
            offset: end_of_infos,
            what: "data section offset overflows".to_string(),
        })?;
        for t in &mut tensors {
            let start = data_offset.checked_add(t.offset);
            let end = start.and_then(|s| s.checked_add(t.n_bytes));
            match (start, end) {
                (Some(start), Some(end)) if end <= self.len => t.file_offset = start,
                (start, _) => {
                    let start = start.unwrap_or(u64::MAX);
                    return Err(GgufError::Truncated {
                        offset: start,
                        what: format!(
                            "data of tensor `{}` ({} {:?}, data offset {} + data section {data_offset})",
                            t.name, t.ggml_type, t.dims, t.offset
                        ),
                        needed: t.n_bytes,
                        available: self.len.saturating_sub(start),
                        file_len: self.len,
                    });
                }
            }
        }
        Ok(Header { version, alignment, data_offset, metadata, metadata_index, tensors, tensor_index })
    }
}
