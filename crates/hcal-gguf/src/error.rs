//! The error type of the crate.

/// Everything that can go wrong reading a GGUF file or interpreting its metadata.
///
/// Messages name the byte offset in the file (where one applies) and what was wrong.
///
/// ```
/// let e = hcal_gguf::GgufError::UnsupportedVersion { version: 2 };
/// assert!(e.to_string().contains("version 2"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GgufError {
    /// The operating system failed a read or seek.
    #[error("I/O error at offset {offset}: {source}")]
    Io {
        /// Byte offset in the file where the operation started.
        offset: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Something declared by the file extends past the end of the file.
    #[error("at offset {offset}: {what} needs {needed} bytes but only {available} remain (file length {file_len})")]
    Truncated {
        /// Byte offset where the item starts.
        offset: u64,
        /// What was being read.
        what: String,
        /// Bytes the item needs (at least).
        needed: u64,
        /// Bytes left in the file from `offset`.
        available: u64,
        /// Length of the file.
        file_len: u64,
    },
    /// The first four bytes are not `GGUF`.
    #[error("at offset 0: bad magic {found:02x?} (expected \"GGUF\" = [47, 47, 55, 46])")]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The version field is not 3.
    #[error("at offset 4: unsupported GGUF version {version} (only version 3 is supported)")]
    UnsupportedVersion {
        /// The version found.
        version: u32,
    },
    /// A structurally invalid field (bad type id, invalid UTF-8, overflow, misalignment...).
    #[error("at offset {offset}: {what}")]
    Malformed {
        /// Byte offset of the offending field.
        offset: u64,
        /// What was wrong.
        what: String,
    },
    /// A fallible allocation for data declared by the file failed.
    #[error("at offset {offset}: cannot allocate {bytes} bytes for {what}")]
    Alloc {
        /// Byte offset of the item.
        offset: u64,
        /// Requested bytes.
        bytes: u64,
        /// What was being allocated.
        what: String,
    },
    /// A required metadata key is absent.
    #[error("metadata key `{key}` is missing")]
    MissingKey {
        /// The key.
        key: String,
    },
    /// A metadata key holds a value of another type (or out of range).
    #[error("metadata key `{key}` has {found}, expected {expected}")]
    WrongType {
        /// The key.
        key: String,
        /// What the caller asked for.
        expected: &'static str,
        /// What the file holds.
        found: String,
    },
    /// A tensor cannot be read or converted as asked.
    #[error("tensor `{name}`: {what}")]
    Tensor {
        /// Tensor name.
        name: String,
        /// What was wrong.
        what: String,
    },
    /// Tokenizer or chat-template metadata is unusable.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
}
