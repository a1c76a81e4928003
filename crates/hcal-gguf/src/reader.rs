//! The GGUF v3 reader.
//!
//! File layout (all little-endian):
//!
//! | field            | encoding                                                     |
//! |------------------|--------------------------------------------------------------|
//! | magic            | 4 bytes `GGUF`                                               |
//! | version          | `u32`, must be 3                                             |
//! | tensor count     | `u64`                                                        |
//! | metadata count   | `u64`                                                        |
//! | metadata         | per entry: key (string), value type (`u32`), value           |
//! | tensor infos     | per tensor: name (string), `n_dims: u32` (1..=4), `n_dims` × `u64` dims (ggml order: `ne[0]` is the contiguous dimension), ggml type (`u32`), offset (`u64`, relative to the data section, a multiple of the alignment) |
//! | padding          | zeros up to a multiple of `general.alignment` (default 32)   |
//! | data section     | the tensors' packed bytes                                    |
//!
//! A string is a `u64` byte length followed by that many UTF-8 bytes (no terminator);
//! an array is an element type (`u32`), a count (`u64`) and the elements.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::value::{ArrayValue, Value, ValueType};
use crate::{GgmlType, GgufError, Result};

/// The four magic bytes at offset 0 of every GGUF file.
pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";
/// The only GGUF version this reader accepts.
pub const GGUF_VERSION: u32 = 3;
/// Data-section alignment when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// ggml's maximum number of tensor dimensions.
const MAX_DIMS: u32 = 4;
/// Deepest nesting of arrays of arrays accepted (bounds the parser's recursion).
const MAX_ARRAY_DEPTH: u32 = 8;
/// Smallest encoded metadata entry: key length (8) + value type (4) + a 1-byte value.
const MIN_KV_BYTES: u64 = 13;
/// Smallest encoded tensor info: name length (8) + n_dims (4) + type (4) + offset (8).
const MIN_TENSOR_INFO_BYTES: u64 = 24;

/// One tensor of the file: name, dimensions, type and where its bytes are.
///
/// ```no_run
/// # fn main() -> Result<(), hcal_gguf::GgufError> {
/// let gguf = hcal_gguf::Gguf::open("model.gguf")?;
/// let t = &gguf.tensors()[0];
/// println!("{} {:?} (ggml {:?}) {} {} bytes", t.name(), t.shape(), t.dims(), t.ggml_type(), t.n_bytes());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    name: String,
    dims: Vec<u64>,
    ggml_type: GgmlType,
    offset: u64,
    file_offset: u64,
    n_elements: u64,
    n_bytes: u64,
}

impl TensorInfo {
    /// The tensor's name (`"blk.0.attn_q.weight"`).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert!(gguf.tensors().iter().any(|t| t.name() == "token_embd.weight"));
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Dimensions in ggml order: `dims()[0]` (`ne[0]`) is the contiguous dimension.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// let t = gguf.tensor("token_embd.weight").unwrap();
    /// assert_eq!(t.dims(), &[576, 49152]);
    /// ```
    pub fn dims(&self) -> &[u64] {
        &self.dims
    }

    /// The row-major (hcal) shape: [`dims`](Self::dims) reversed, so the last
    /// dimension is the contiguous one. A ggml `[576, 49152]` embedding is hcal
    /// `[49152, 576]` (49152 rows of 576 values).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// let t = gguf.tensor("token_embd.weight").unwrap();
    /// assert_eq!(t.shape(), vec![49152, 576]);
    /// ```
    pub fn shape(&self) -> Vec<usize> {
        // Every dim fits usize: open() checked that the element count does.
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }

    /// The element type.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.tensors()[0].ggml_type(), hcal_gguf::GgmlType::Q8_0);
    /// ```
    pub fn ggml_type(&self) -> GgmlType {
        self.ggml_type
    }

    /// Offset of the data relative to the start of the data section, as stored.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.tensors()[0].offset() % gguf.alignment(), 0);
    /// ```
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Absolute byte offset of the data in the file.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// let t = &gguf.tensors()[0];
    /// assert_eq!(t.file_offset(), gguf.data_offset() + t.offset());
    /// ```
    pub fn file_offset(&self) -> u64 {
        self.file_offset
    }

    /// Number of values (product of the dims).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.tensor("output_norm.weight").unwrap().n_elements(), 576);
    /// ```
    pub fn n_elements(&self) -> u64 {
        self.n_elements
    }

    /// Packed byte size: `n_elements / block_size * type_size` (each row of `ne[0]`
    /// values is a whole number of blocks).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// // Q4_1: 576 × 1536 values in blocks of 32 values / 20 bytes.
    /// assert_eq!(gguf.tensor("blk.0.ffn_up.weight").unwrap().n_bytes(), 576 * 1536 / 32 * 20);
    /// ```
    pub fn n_bytes(&self) -> u64 {
        self.n_bytes
    }
}

/// An open GGUF v3 file: header, metadata and tensor table in memory, tensor data
/// read on demand.
///
/// ```no_run
/// # fn main() -> Result<(), hcal_gguf::GgufError> {
/// let gguf = hcal_gguf::Gguf::open("SmolLM2-135M-Instruct.Q4_1.gguf")?;
/// assert_eq!(gguf.get_str("general.architecture")?, "llama");
/// assert_eq!(gguf.get_u32("llama.block_count")?, 30);
/// let t = gguf.tensor("blk.0.ffn_up.weight").unwrap();
/// let packed = gguf.tensor_bytes(t)?;
/// assert_eq!(packed.len() as u64, t.n_bytes());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Gguf {
    path: PathBuf,
    file: Mutex<File>,
    file_len: u64,
    version: u32,
    alignment: u64,
    data_offset: u64,
    metadata: Vec<(String, Value)>,
    metadata_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
}

impl Gguf {
    /// Opens `path` and reads its header, metadata and tensor infos (no tensor data).
    ///
    /// Rejects anything but GGUF version 3, and any size, count, string length,
    /// dimension product or tensor range that the file cannot hold, before
    /// allocating for it.
    ///
    /// ```no_run
    /// match hcal_gguf::Gguf::open("model.gguf") {
    ///     Ok(g) => println!("{} tensors", g.tensors().len()),
    ///     Err(e) => eprintln!("not a usable GGUF: {e}"),
    /// }
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Gguf> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| GgufError::Io { offset: 0, source })?;
        let file_len = file.metadata().map_err(|source| GgufError::Io { offset: 0, source })?.len();
        let mut p = Parser { r: BufReader::with_capacity(1 << 16, &file), pos: 0, len: file_len };
        let header = p.header()?;
        drop(p);
        let Header { version, alignment, data_offset, metadata, metadata_index, tensors, tensor_index } = header;
        Ok(Gguf {
            path,
            file: Mutex::new(file),
            file_len,
            version,
            alignment,
            data_offset,
            metadata,
            metadata_index,
            tensors,
            tensor_index,
        })
    }

    /// The path the file was opened from.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// println!("{}", gguf.path().display());
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// File length in bytes (at open).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert!(gguf.file_len() >= gguf.data_offset());
    /// ```
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The format version (always 3).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.version(), 3);
    /// ```
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Data-section alignment (`general.alignment`, default 32).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert!(gguf.alignment().is_power_of_two());
    /// ```
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Absolute offset of the data section (end of the tensor infos rounded up to the
    /// alignment).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.data_offset() % gguf.alignment(), 0);
    /// ```
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// All metadata entries in file order.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// for (key, value) in gguf.metadata_entries() {
    ///     println!("{key} = {value}");
    /// }
    /// ```
    pub fn metadata_entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.metadata.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The value of a metadata key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.metadata("tokenizer.ggml.model").and_then(|v| v.as_str()), Some("gpt2"));
    /// ```
    pub fn metadata(&self, key: &str) -> Option<&Value> {
        self.metadata_index.get(key).map(|&i| &self.metadata[i].1)
    }

    fn require(&self, key: &str) -> Result<&Value> {
        self.metadata(key).ok_or_else(|| GgufError::MissingKey { key: key.to_string() })
    }

    fn wrong(key: &str, expected: &'static str, v: &Value) -> GgufError {
        GgufError::WrongType { key: key.to_string(), expected, found: describe(v) }
    }

    /// An integer key as `u32` (any integer type whose value fits).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_u32("llama.embedding_length").unwrap(), 576);
    /// assert!(gguf.get_u32("no.such.key").is_err());
    /// ```
    pub fn get_u32(&self, key: &str) -> Result<u32> {
        let v = self.require(key)?;
        v.as_u64().and_then(|x| u32::try_from(x).ok()).ok_or_else(|| Self::wrong(key, "an integer in u32 range", v))
    }

    /// An integer key as `u64` (any non-negative integer).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_u64("llama.context_length").unwrap(), 8192);
    /// ```
    pub fn get_u64(&self, key: &str) -> Result<u64> {
        let v = self.require(key)?;
        v.as_u64().ok_or_else(|| Self::wrong(key, "a non-negative integer", v))
    }

    /// An integer key as `i64` (any integer type whose value fits).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_i64("tokenizer.ggml.eos_token_id").unwrap(), 2);
    /// ```
    pub fn get_i64(&self, key: &str) -> Result<i64> {
        let v = self.require(key)?;
        v.as_i64().ok_or_else(|| Self::wrong(key, "an integer in i64 range", v))
    }

    /// A float key as `f32` (`f32`, or `f64` rounded).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_f32("llama.rope.freq_base").unwrap(), 100000.0);
    /// ```
    pub fn get_f32(&self, key: &str) -> Result<f32> {
        let v = self.require(key)?;
        v.as_f32().ok_or_else(|| Self::wrong(key, "f32", v))
    }

    /// A bool key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert!(!gguf.get_bool("tokenizer.ggml.add_bos_token").unwrap());
    /// ```
    pub fn get_bool(&self, key: &str) -> Result<bool> {
        let v = self.require(key)?;
        v.as_bool().ok_or_else(|| Self::wrong(key, "bool", v))
    }

    /// A string key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_str("general.architecture").unwrap(), "llama");
    /// ```
    pub fn get_str(&self, key: &str) -> Result<&str> {
        let v = self.require(key)?;
        v.as_str().ok_or_else(|| Self::wrong(key, "string", v))
    }

    /// An array-of-strings key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_str_array("tokenizer.ggml.tokens").unwrap().len(), 49152);
    /// ```
    pub fn get_str_array(&self, key: &str) -> Result<&[String]> {
        let v = self.require(key)?;
        match v {
            Value::Array(ArrayValue::String(s)) => Ok(s),
            _ => Err(Self::wrong(key, "array of string", v)),
        }
    }

    /// An array-of-`i32` key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.get_i32_array("tokenizer.ggml.token_type").unwrap()[0], 3);
    /// ```
    pub fn get_i32_array(&self, key: &str) -> Result<&[i32]> {
        let v = self.require(key)?;
        match v {
            Value::Array(ArrayValue::I32(s)) => Ok(s),
            _ => Err(Self::wrong(key, "array of i32", v)),
        }
    }

    /// An array-of-`f32` key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert!(gguf.get_f32_array("tokenizer.ggml.scores").is_err()); // not in a gpt2 vocab
    /// ```
    pub fn get_f32_array(&self, key: &str) -> Result<&[f32]> {
        let v = self.require(key)?;
        match v {
            Value::Array(ArrayValue::F32(s)) => Ok(s),
            _ => Err(Self::wrong(key, "array of f32", v)),
        }
    }

    /// The tensor infos in file order.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert_eq!(gguf.tensors().len(), 272);
    /// ```
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The tensor info with this name.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// assert!(gguf.tensor("blk.29.ffn_down.weight").is_some());
    /// ```
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensor_index.get(name).map(|&i| &self.tensors[i])
    }

    /// Reads a tensor's raw packed bytes ([`TensorInfo::n_bytes`] of them, from
    /// [`TensorInfo::file_offset`]). The range is checked against the file length
    /// again (the file may have shrunk since it was opened), and the buffer is
    /// allocated fallibly.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), hcal_gguf::GgufError> {
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf")?;
    /// let t = gguf.tensor("output_norm.weight").unwrap();
    /// let bytes = gguf.tensor_bytes(t)?;
    /// assert_eq!(bytes.len(), 576 * 4);
    /// # Ok(()) }
    /// ```
    pub fn tensor_bytes(&self, info: &TensorInfo) -> Result<Vec<u8>> {
        let offset = info.file_offset;
        let end = offset.checked_add(info.n_bytes).ok_or_else(|| GgufError::Malformed {
            offset,
            what: format!("tensor `{}`: data range overflows u64", info.name),
        })?;
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let len_now = file.metadata().map_err(|source| GgufError::Io { offset, source })?.len();
        if end > len_now {
            return Err(GgufError::Truncated {
                offset,
                what: format!("data of tensor `{}`", info.name),
                needed: info.n_bytes,
                available: len_now.saturating_sub(offset),
                file_len: len_now,
            });
        }
        let n = usize::try_from(info.n_bytes).map_err(|_| GgufError::Alloc {
            offset,
            bytes: info.n_bytes,
            what: format!("data of tensor `{}`", info.name),
        })?;
        let mut buf = Vec::new();
        buf.try_reserve_exact(n).map_err(|_| GgufError::Alloc {
            offset,
            bytes: info.n_bytes,
            what: format!("data of tensor `{}`", info.name),
        })?;
        buf.resize(n, 0);
        file.seek(SeekFrom::Start(offset)).map_err(|source| GgufError::Io { offset, source })?;
        file.read_exact(&mut buf).map_err(|source| GgufError::Io { offset, source })?;
        Ok(buf)
    }

    /// Reads a tensor and converts it to f32 in row-major order (see
    /// [`crate::quant::dequantize`]); an error for types other than F32, F16, Q4_0,
    /// Q4_1 and Q8_0.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), hcal_gguf::GgufError> {
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf")?;
    /// let t = gguf.tensor("blk.0.ffn_up.weight").unwrap();
    /// let w = gguf.tensor_f32(t)?; // hcal shape [1536, 576]
    /// assert_eq!(w.len(), 1536 * 576);
    /// # Ok(()) }
    /// ```
    pub fn tensor_f32(&self, info: &TensorInfo) -> Result<Vec<f32>> {
        if !info.ggml_type.is_dequantizable() {
            return Err(GgufError::Tensor {
                name: info.name.clone(),
                what: format!("ggml type {} cannot be converted to f32 by hcal-gguf", info.ggml_type),
            });
        }
        let bytes = self.tensor_bytes(info)?;
        crate::quant::dequantize(info.ggml_type, &bytes)
            .map_err(|e| GgufError::Tensor { name: info.name.clone(), what: e.to_string() })
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => v.type_description(),
        Value::String(s) if s.len() > 40 => format!("string ({} bytes)", s.len()),
        _ => format!("{} {v}", v.type_description()),
    }
}

struct Header {
    version: u32,
    alignment: u64,
    data_offset: u64,
    metadata: Vec<(String, Value)>,
    metadata_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
}

/// Reads the header fields from `r`, tracking the offset and the bytes that remain.
struct Parser<R> {
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

    fn header(&mut self) -> Result<Header> {
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
