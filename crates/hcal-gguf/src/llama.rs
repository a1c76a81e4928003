//! Llama-architecture hyperparameters (`{arch}.*` metadata).

use crate::{Gguf, GgufError, Result};

/// The hyperparameters of a llama-architecture model.
///
/// ```no_run
/// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
/// let c = hcal_gguf::LlamaConfig::from_gguf(&gguf).unwrap();
/// assert_eq!((c.block_count, c.embedding_length, c.head_count, c.head_count_kv), (30, 576, 9, 3));
/// assert_eq!(c.head_dim(), 64);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaConfig {
    /// `general.architecture` (`"llama"`); the prefix of the keys below.
    pub architecture: String,
    /// `{arch}.block_count`: transformer layers.
    pub block_count: usize,
    /// `{arch}.context_length`: trained context length.
    pub context_length: usize,
    /// `{arch}.embedding_length`: model width.
    pub embedding_length: usize,
    /// `{arch}.feed_forward_length`: FFN hidden width.
    pub feed_forward_length: usize,
    /// `{arch}.attention.head_count`: query heads.
    pub head_count: usize,
    /// `{arch}.attention.head_count_kv` (default: `head_count`): key/value heads.
    pub head_count_kv: usize,
    /// `{arch}.rope.freq_base` (default 10000).
    pub rope_freq_base: f32,
    /// `{arch}.rope.dimension_count` (default: head dimension): rotated dims per head.
    pub rope_dimension_count: usize,
    /// `{arch}.attention.layer_norm_rms_epsilon`.
    pub rms_norm_eps: f32,
    /// `{arch}.vocab_size` (default: length of `tokenizer.ggml.tokens`).
    pub vocab_size: usize,
}

impl LlamaConfig {
    /// Reads the hyperparameters; `general.architecture` must be `llama`. Missing
    /// required keys are [`GgufError::MissingKey`] naming the key.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// let c = hcal_gguf::LlamaConfig::from_gguf(&gguf).unwrap();
    /// assert_eq!(c.rope_freq_base, 100000.0);
    /// ```
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let arch = gguf.get_str("general.architecture")?.to_string();
        if arch != "llama" {
            return Err(GgufError::WrongType {
                key: "general.architecture".into(),
                expected: "\"llama\"",
                found: format!("{arch:?}"),
            });
        }
        let k = |s: &str| format!("{arch}.{s}");
        let usize_key = |key: &str| -> Result<usize> {
            let v = gguf.get_u64(key)?;
            usize::try_from(v).map_err(|_| GgufError::WrongType {
                key: key.into(),
                expected: "an integer in usize range",
                found: v.to_string(),
            })
        };
        let opt = |key: &str| -> Result<Option<usize>> {
            if gguf.metadata(key).is_some() { usize_key(key).map(Some) } else { Ok(None) }
        };
        let positive = |key: &str, v: usize| -> Result<usize> {
            if v == 0 {
                Err(GgufError::WrongType { key: key.into(), expected: "a positive integer", found: "0".into() })
            } else {
                Ok(v)
            }
        };
        let block_count = usize_key(&k("block_count"))?;
        let context_length = usize_key(&k("context_length"))?;
        let embedding_length = positive(&k("embedding_length"), usize_key(&k("embedding_length"))?)?;
        let feed_forward_length = usize_key(&k("feed_forward_length"))?;
        let head_count = positive(&k("attention.head_count"), usize_key(&k("attention.head_count"))?)?;
        let head_count_kv = match opt(&k("attention.head_count_kv"))? {
            Some(v) => positive(&k("attention.head_count_kv"), v)?,
            None => head_count,
        };
        if embedding_length % head_count != 0 || head_count % head_count_kv != 0 {
            return Err(GgufError::WrongType {
                key: k("attention.head_count"),
                expected: "heads dividing the embedding length, kv heads dividing the heads",
                found: format!("{head_count} heads, {head_count_kv} kv heads, embedding {embedding_length}"),
            });
        }
        let rope_freq_base = match gguf.metadata(&k("rope.freq_base")) {
            Some(_) => gguf.get_f32(&k("rope.freq_base"))?,
            None => 10000.0,
        };
        let rope_dimension_count = opt(&k("rope.dimension_count"))?.unwrap_or(embedding_length / head_count);
        let rms_norm_eps = gguf.get_f32(&k("attention.layer_norm_rms_epsilon"))?;
        let vocab_size = match opt(&k("vocab_size"))? {
            Some(v) => v,
            None => gguf.get_str_array("tokenizer.ggml.tokens").map(|t| t.len()).map_err(|_| {
                GgufError::MissingKey { key: format!("{} (or tokenizer.ggml.tokens)", k("vocab_size")) }
            })?,
        };
        Ok(LlamaConfig {
            architecture: arch,
            block_count,
            context_length,
            embedding_length,
            feed_forward_length,
            head_count,
            head_count_kv,
            rope_freq_base,
            rope_dimension_count,
            rms_norm_eps,
            vocab_size,
        })
    }

    /// Dimension of one attention head: `embedding_length / head_count`.
    ///
    /// ```no_run
    /// # let c = hcal_gguf::LlamaConfig::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(c.head_dim(), 576 / 9);
    /// ```
    pub fn head_dim(&self) -> usize {
        self.embedding_length / self.head_count
    }
}
