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
use std::io::{BufReader, Read, Seek, SeekFrom};

use crate::header::{Header, Parser, describe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::value::{ArrayValue, Value};
use crate::{GgmlType, GgufError, Result};

/// The four magic bytes at offset 0 of every GGUF file.
pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";
/// The only GGUF version this reader accepts.
pub const GGUF_VERSION: u32 = 3;
/// Data-section alignment when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

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
    pub(crate) name: String,
    pub(crate) dims: Vec<u64>,
    pub(crate) ggml_type: GgmlType,
    pub(crate) offset: u64,
    pub(crate) file_offset: u64,
    pub(crate) n_elements: u64,
    pub(crate) n_bytes: u64,
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
        let mut p = Parser::new(BufReader::with_capacity(1 << 16, &file), file_len);
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
