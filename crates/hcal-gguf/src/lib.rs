//! GGUF v3 models for hcal: a reader, reference dequantization, the tokenizer and the
//! chat template of GGUF language models.
//!
//! * [`Gguf`] reads a GGUF v3 file's header, metadata and tensor table; tensor data is
//!   read lazily ([`Gguf::tensor_bytes`]). Every size that comes from the file is
//!   checked against the file length before anything is allocated, and every
//!   allocation is fallible: a malformed or hostile file is a [`GgufError`] naming the
//!   offset and what was wrong, never a panic or an abort.
//! * [`quant`] is hcal's reference text and implementation of the `Q4_0`, `Q4_1` and
//!   `Q8_0` block formats (exact f32 dequantization).
//! * [`Tokenizer`] is the GPT-2 byte-level BPE tokenizer stored in the metadata
//!   (`tokenizer.ggml.*`), with llama.cpp's `smollm` pre-tokenizer and whole-token
//!   matching of control tokens.
//! * [`ChatTemplate`] formats ChatML conversations (`tokenizer.chat_template`).
//! * [`LlamaConfig`] holds the llama hyperparameters (`llama.*`).
//!
//! ```no_run
//! use hcal_gguf::{Gguf, LlamaConfig, Tokenizer, ChatTemplate, Message};
//! # fn main() -> Result<(), hcal_gguf::GgufError> {
//! let gguf = Gguf::open("SmolLM2-135M-Instruct.Q4_1.gguf")?;
//! let config = LlamaConfig::from_gguf(&gguf)?;
//! let tokenizer = Tokenizer::from_gguf(&gguf)?;
//! let chat = ChatTemplate::from_gguf(&gguf)?;
//! let prompt = chat.format(&[Message::new("user", "What is the capital of France?")], true);
//! let ids = tokenizer.encode(&prompt);
//! let embd = gguf.tensor("token_embd.weight").expect("tensor");
//! let weights = gguf.tensor_f32(embd)?; // row-major [vocab, embedding]
//! assert_eq!(weights.len(), config.vocab_size * config.embedding_length);
//! # let _ = ids; Ok(()) }
//! ```

mod chat;
mod error;
mod header;
mod llama;
pub mod quant;
mod reader;
mod tokenizer;
mod types;
mod value;

pub use chat::{ChatTemplate, Message, format_chat};
pub use error::GgufError;
pub use llama::LlamaConfig;

pub use reader::{DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, Gguf, TensorInfo};

pub use tokenizer::{StreamDecoder, TokenType, Tokenizer};
pub use types::GgmlType;
pub use value::{ArrayValue, Value, ValueType};

/// Result alias of this crate.
pub type Result<T, E = GgufError> = std::result::Result<T, E>;
