//! # hcal-llm: Llama-architecture models from GGUF files on any hcal backend
//!
//! A real model (SmolLM2-135M-Instruct in GGUF, Q4_1 weights and a Q8_0
//! embedding) run by hcal ops only. The quantized weights stay packed on the
//! device: every projection is a Gemm whose B is the Q4_1/Q8_0 tensor as
//! stored (`[out, in]`, blocks along `in`, `transB`), which the standard
//! defines as "dequantize, then the product" (`hcal_core::quant`); no f32 copy
//! of a weight matrix is made. Per layer, on the hidden state `x: [S, H]`:
//!
//! ```text
//! a = RMSNorm(x) ; qkv = a [Wq; Wk; Wv]^T                 one Gemm (transB), quantized B
//! q, k, v = Split(RoPE(qkv)) at positions P..P+S           RotaryEmbedding on Q and K (interleaved pairs)
//! y, cache = Attention(q, k, v, past = cache)              causal GQA, past/present KV
//! x = x + y Wo^T                                          Gemm with C = x
//! b = RMSNorm(x) ; x = x + (Silu(b Wg^T) * (b Wu^T)) Wd^T   SwiGLU, C = x
//! ```
//!
//! then `logits = RMSNorm(x) E^T` with the (tied) token embedding `E`. The
//! query, key and value weights are stacked at load (their rows, as stored)
//! when they share a dtype: one product and one Split per layer instead of
//! three products, which on wgpu is 30 fewer dispatches per decode step
//! (SmolLM2: 516 -> 486) and each column's value the same bits. Where the
//! whole head rotates, one RotaryEmbedding then turns Q and K together,
//! before the Split (`RopeTables`): 30 fewer again (486 -> 456, with the
//! chat's count of 455 per step from the stacked product on). RoPE
//! rotates adjacent pairs: llama.cpp's converter permutes the Q and K weights
//! of Hugging Face Llama models so that its "normal" RoPE, which pairs
//! neighbours, computes what Hugging Face's rotate-half does.
//!
//! Where the device runs them, two fused ops of the standard (each defined as
//! the ops it replaces, so no value changes) cut a decode step's launches
//! further: after the prompt, `SplitRotaryScatter` takes the stacked product
//! to the attention's operands (one op for the RoPE, the Split and both
//! cache writes); and the gate and up weights are stacked too, so SwiGLU is
//! one product and one `GatedUnary` where it was two products, a Silu and a
//! Mul. A third, `RMSNormGemm`, runs each RMSNorm with the one product that
//! reads it (the stacked Q/K/V and gate/up products, the output
//! projection): on wgpu the decode GEMV normalizes the row as it reads it.
//! SmolLM2 on wgpu: 455 device commands per decode step without them, 365
//! with the first, 305 with the first two, 214 with all three (and decode
//! attention in one dispatch, not two). A call the backend declines for its
//! shapes (a long step's, beyond one storage binding, say) runs the plain
//! ops instead.
//!
//! The token embedding is looked up on the device: `Gather` moves the rows of
//! the packed table (whole blocks), `Cast` dequantizes just those rows.
//!
//! The key/value cache is static: each layer holds `[1, Hkv, T, D]` keys and
//! values for all `T = max_positions` positions, allocated once. A step
//! writes its new keys and values into it in place (`TensorScatter` at the
//! step's position) and attends over the first `n` positions
//! (`nonpad_kv_seqlen = n`), so a decode step copies nothing proportional to
//! the context. A first prompt attends over its own keys (no cache to read).

mod forward;
mod generate;
mod load;
mod rope;

use std::path::Path;

use hcal::{DType, Device, DeviceTensor, SplitRotaryScatter, TensorDesc, ops};
use hcal_gguf::{Gguf, LlamaConfig};

pub use crate::generate::{Generation, Steps, argmax, generate, greedy, overlaps_steps, run};
use crate::rope::RopeTables;

/// What can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The GGUF file.
    #[error(transparent)]
    Gguf(#[from] hcal_gguf::GgufError),
    /// hcal (a backend, validation).
    #[error(transparent)]
    Hcal(#[from] hcal::Error),
    /// A model this runner does not handle, or an input it cannot take.
    #[error("{0}")]
    Model(String),
    /// Any of the above while opening or loading the GGUF file `path`.
    #[error("{}: {source}", path.display())]
    File {
        /// The GGUF file.
        path: std::path::PathBuf,
        /// What went wrong.
        source: Box<LlmError>,
    },
}

impl LlmError {
    /// This error as one that names the GGUF file it came from.
    fn in_file(self, path: &Path) -> Self {
        match self {
            already @ LlmError::File { .. } => already,
            other => LlmError::File { path: path.to_path_buf(), source: Box::new(other) },
        }
    }
}

/// Result with [`LlmError`].
pub type Result<T> = std::result::Result<T, LlmError>;

struct Layer {
    attn_norm: DeviceTensor,
    qkv: Projections,
    wo: DeviceTensor,
    ffn_norm: DeviceTensor,
    gate_up: GateUp,
    w_down: DeviceTensor,
}

/// A layer's gate and up projections.
enum GateUp {
    /// One weight `[2F, hidden]`, the gate's rows then the up's (as stored),
    /// when they share a dtype and the device runs `GatedUnary`: one product
    /// and one `GatedUnary` (SwiGLU) where there were two products, a Silu
    /// and a Mul. Each column is the same dot product of the same values (the
    /// same bits on the reference; a device may pick another kernel for the
    /// wider product, within the tolerance model).
    Stacked(DeviceTensor),
    /// The two weights, gate first.
    Separate([DeviceTensor; 2]),
}

/// A layer's query, key and value weights.
enum Projections {
    /// One weight `[(Hq + 2 Hkv) D, hidden]`: the three weights' rows (each
    /// `[N, hidden]`, blocks along hidden) stacked, as stored, when they share
    /// a dtype. A step runs one wider product and one Split instead of three
    /// products: fewer dispatches, and each column's value is the same bits.
    Stacked(DeviceTensor),
    /// The three weights (of different dtypes, as some GGUF mixes store them).
    Separate([DeviceTensor; 3]),
}

/// How a load lays out the query/key/value work: the fastest form a model
/// allows, or (for tests: each form must give the same bits) a plainer one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(not(test), allow(dead_code))] // `load` always asks for `OneOp`; tests build the others.
enum QkvLayout {
    /// [`QkvLayout::Fused`], and each step after the first splits, rotates and
    /// writes the caches in one `SplitRotaryScatter` (see [`CachedStep`])
    /// where the device runs that op; else the next form. Also the only
    /// layout that stacks the gate and up projections ([`GateUp::Stacked`])
    /// and runs each RMSNorm inside its product (`RMSNormGemm`).
    OneOp,
    /// [`Projections::Stacked`] with Q and K rotated by one op ([`RopeTables`]),
    /// where the dtypes and the rotary dimension allow; else the next form.
    Fused,
    /// [`Projections::Stacked`] where the dtypes allow, Q and K rotated apart.
    Stacked,
    /// [`Projections::Separate`].
    Separate,
}

/// A Llama-architecture model loaded onto one hcal device.
pub struct Model {
    config: LlamaConfig,
    device: Device,
    /// The token embedding as stored (row-major `[vocab, hidden]`, packed):
    /// the table `Gather` reads and the B of the tied output projection.
    embed: DeviceTensor,
    layers: Vec<Layer>,
    norm: DeviceTensor,
    rope: RopeTables,
    /// How steps after the first turn the stacked projection into the
    /// attention's operands in one op, where the device runs it.
    cached_step: Option<CachedStep>,
    /// Each RMSNorm and the one product that reads it run as one
    /// `RMSNormGemm` (the layout [`QkvLayout::OneOp`]; the op is defined as
    /// the two, and a call the device declines runs them).
    normalized_products: bool,
    max_positions: usize,
    weight_bytes: usize,
}

/// A cached step's Split, RotaryEmbedding and two TensorScatters as one
/// `SplitRotaryScatter` (three dispatches fewer per layer on wgpu; the op is
/// defined as those ops, and on wgpu computes the same bits), with the plain
/// `[P, R/2]` tables it takes.
struct CachedStep {
    tables: RopeTables,
    attrs: SplitRotaryScatter,
}

/// The key/value cache of one sequence: each layer's keys and values for
/// every position the model was loaded for, `[1, Hkv, max_positions, D]`, of
/// which the first [`KvCache::len`] hold data.
pub struct KvCache {
    layers: Vec<(DeviceTensor, DeviceTensor)>,
    len: usize,
}

impl KvCache {
    /// Tokens cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Positions the cache holds (valid or not).
    pub fn capacity(&self) -> usize {
        self.layers.first().map_or(0, |(k, _)| k.shape()[2])
    }

    /// True before the first forward pass.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Model {
    /// The hyperparameters.
    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    /// Bytes of the weights on the device, as stored in the file (packed).
    pub fn weight_bytes(&self) -> usize {
        self.weight_bytes
    }

    /// Bytes of the key/value cache for `tokens` positions (f32 keys and
    /// values of every layer).
    pub fn kv_cache_bytes(&self, tokens: usize) -> usize {
        let c = &self.config;
        2 * c.block_count * c.head_count_kv * c.head_dim() * tokens * 4
    }

    /// The device the model runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// An empty cache for `max_positions` tokens, allocated (zeroed) on the device.
    ///
    /// # Errors
    /// Device errors (out of memory).
    pub fn new_cache(&self) -> Result<KvCache> {
        let c = &self.config;
        let desc = TensorDesc::new([1, c.head_count_kv, self.max_positions, c.head_dim()], DType::F32);
        let layers = (0..self.layers.len())
            .map(|_| Ok((self.device.zeros(&desc)?, self.device.zeros(&desc)?)))
            .collect::<Result<_>>()?;
        Ok(KvCache { layers, len: 0 })
    }

    /// Embedding rows `[S, hidden]` of `tokens`: the packed rows gathered on
    /// the device, then dequantized.
    fn embed_rows(&self, tokens: &[u32]) -> Result<DeviceTensor> {
        let vocab = self.config.vocab_size;
        if let Some(t) = tokens.iter().find(|&&t| t as usize >= vocab) {
            return Err(LlmError::Model(format!("token {t} is outside the vocabulary of {vocab}")));
        }
        let ids: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
        let rows = ops::gather(&self.embed, &self.device.tensor_i64(&[ids.len()], &ids)?, 0)?;
        Ok(if rows.dtype() == DType::F32 { rows } else { ops::cast(&rows, DType::F32)? })
    }

    /// Run `tokens` after what `cache` holds; returns the logits `[S, vocab]`.
    ///
    /// # Errors
    /// Tokens beyond the vocabulary or the RoPE tables; device errors.
    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Result<DeviceTensor> {
        let x = self.hidden(tokens, cache)?;
        self.logits(&x)
    }

    /// [`Model::forward`] for the next token only: the logits `[1, vocab]` of
    /// the last of `tokens`. A prompt's other positions skip the output
    /// projection, the largest product of a prefill (`S x vocab x hidden`),
    /// and its `[S, vocab]` result.
    ///
    /// # Errors
    /// As [`Model::forward`].
    pub fn forward_last(&self, tokens: &[u32], cache: &mut KvCache) -> Result<DeviceTensor> {
        let x = self.hidden(tokens, cache)?;
        let s = tokens.len() as i64;
        let last = if s == 1 { x } else { ops::slice(&x, &[s - 1], &[s], Some(&[0]), None)? };
        self.logits(&last)
    }

    /// [`Model::forward_last`] for one token held on the device: `token`
    /// is an i64 `[1]` tensor, such as [`Model::greedy_token`] of the
    /// previous step's logits. The step can so be queued before the host
    /// knows the token (see [`crate::greedy`]).
    ///
    /// # Errors
    /// A `token` not i64 `[1]`; a full cache; device errors. The token
    /// itself is not checked (it is on the device): it must be below the
    /// vocabulary size, as an argmax of this model's logits is.
    pub fn forward_token(&self, token: &DeviceTensor, cache: &mut KvCache) -> Result<DeviceTensor> {
        if token.dtype() != DType::I64 || token.shape() != [1] {
            return Err(LlmError::Model(format!(
                "a device token is an i64 [1] tensor, not {:?} {:?}",
                token.dtype(),
                token.shape()
            )));
        }
        self.check_room(1, cache)?;
        let rows = ops::gather(&self.embed, token, 0)?;
        let rows = if rows.dtype() == DType::F32 { rows } else { ops::cast(&rows, DType::F32)? };
        let x = self.hidden_from(rows, cache)?;
        self.logits(&x)
    }

    /// The greedy choice of next token from `logits: [1, vocab]`, on the
    /// device: ONNX `ArgMax` over the vocabulary (the first index on ties,
    /// as [`crate::argmax`]), an i64 `[1]` tensor that
    /// [`Model::forward_token`] takes.
    ///
    /// # Errors
    /// Device errors.
    pub fn greedy_token(&self, logits: &DeviceTensor) -> Result<DeviceTensor> {
        Ok(ops::argmax(logits, -1, false, false)?)
    }
}

/// Open a GGUF file.
///
/// # Errors
/// The reader's, naming the file ([`LlmError::File`]).
pub fn open_gguf(path: impl AsRef<Path>) -> Result<Gguf> {
    let path = path.as_ref();
    Gguf::open(path).map_err(|e| LlmError::from(e).in_file(path))
}

// The integration tests' model finder (and its CI rule); this crate's unit
// tests use only part of that module.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../tests/common/mod.rs"]
mod common;

#[cfg(test)]
mod tests {
    use hcal::{Op, OpSignature, Support};

    use super::*;

    /// A step fed a token held on the device (`forward_token`) gives the
    /// logits a step fed the same token from the host does, bit for bit,
    /// and a token tensor of another dtype or shape is an error naming both.
    #[test]
    fn a_device_token_steps_as_a_host_token_does() {
        let Some(path) = common::model_path() else { return };
        let gguf = open_gguf(&path).unwrap();
        let device = Device::open("cpu").unwrap();
        let model = Model::load(&device, &gguf, 4).unwrap();
        let (mut host, mut held) = (model.new_cache().unwrap(), model.new_cache().unwrap());
        model.forward(&[1], &mut host).unwrap();
        model.forward(&[1], &mut held).unwrap();
        let want = model.forward(&[253], &mut host).unwrap().to_f32().unwrap();
        let token = device.tensor_i64(&[1], &[253]).unwrap();
        let got = model.forward_token(&token, &mut held).unwrap().to_f32().unwrap();
        assert!(want.iter().zip(&got).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(model.greedy_token(&model.forward_token(&token, &mut host).unwrap()).unwrap().shape(), [1]);
        assert!(!crate::overlaps_steps(&device), "the cpu reference is the host's own processor");
        let wrong = device.tensor_f32(&[1], &[253.0]).unwrap();
        let err = model.forward_token(&wrong, &mut held).unwrap_err().to_string();
        assert!(err.contains("i64 [1]") && err.contains("F32"), "{err}");
    }

    /// Every Q/K/V layout runs the same ops on the same values per feature
    /// (`SplitRotaryScatter` is defined as the five it replaces, and
    /// `RMSNormGemm` as RMSNormalization and the Gemm), so the
    /// reference gives the same logits bit for bit: after a prompt (the
    /// first-prompt attention), after a two-token step and after a one-token
    /// step (the cache).
    #[test]
    fn every_qkv_layout_gives_the_same_logits() {
        let Some(path) = common::model_path() else { return };
        let gguf = open_gguf(&path).unwrap();
        let device = Device::open("cpu").unwrap();
        let logits = |layout: QkvLayout| -> Vec<f32> {
            let model = Model::load_from(&device, &gguf, 8, layout).unwrap();
            let fused = model.rope.repeats > 1;
            let stacked = model.layers.iter().all(|l| matches!(l.qkv, Projections::Stacked(_)));
            let one_op = model.cached_step.is_some();
            let swiglu = model.layers.iter().all(|l| matches!(l.gate_up, GateUp::Stacked(_)));
            assert_eq!(swiglu, layout == QkvLayout::OneOp, "{layout:?}: gate/up stacked");
            let expected = (layout == QkvLayout::OneOp, matches!(layout, QkvLayout::OneOp | QkvLayout::Fused));
            assert_eq!((one_op, fused), expected, "{layout:?}");
            assert_eq!(stacked, layout != QkvLayout::Separate, "{layout:?}");
            let mut cache = model.new_cache().unwrap();
            let mut all = model.forward(&[1, 9690, 198], &mut cache).unwrap().to_f32().unwrap();
            all.extend(model.forward(&[2683, 314], &mut cache).unwrap().to_f32().unwrap());
            all.extend(model.forward(&[253], &mut cache).unwrap().to_f32().unwrap());
            all
        };
        let one_op = logits(QkvLayout::OneOp);
        assert_eq!(one_op.len(), 6 * 49152);
        for layout in [QkvLayout::Fused, QkvLayout::Stacked, QkvLayout::Separate] {
            let other = logits(layout);
            let differ = one_op.iter().zip(&other).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert_eq!(differ, 0, "{layout:?}: {differ} logits differ from the one-op layout's");
        }
    }

    /// The reference, declining both fused ops for calls of more than one
    /// token (as a device may decline shapes beyond one storage binding).
    struct DeclinesLongSteps(Box<dyn hcal::Backend>);

    impl hcal::BackendWrapper for DeclinesLongSteps {
        fn inner(&self) -> &dyn hcal::Backend {
            &*self.0
        }

        fn supports(&self, signature: &OpSignature) -> Support {
            let long = match signature.op() {
                Op::SplitRotaryScatter(_) => signature.input(0).is_some_and(|qkv| qkv.shape[1] > 1),
                Op::GatedUnary { .. } | Op::RmsNormGemm(_) => signature.input(0).is_some_and(|x| x.shape[0] > 1),
                _ => false,
            };
            if long { Support::Unsupported("declined for the test".into()) } else { self.0.supports(signature) }
        }
    }

    /// A model loaded where the fused ops run for one token, then asked for
    /// longer calls that the device declines (a 3-token prompt, a 2-token
    /// cached step), runs the plain ops there: the same logits, bit for bit.
    #[test]
    fn declined_fused_calls_run_the_plain_ops() {
        let Some(path) = common::model_path() else { return };
        let gguf = open_gguf(&path).unwrap();
        let logits = |device: &Device, layout: QkvLayout| -> Vec<f32> {
            let model = Model::load_from(device, &gguf, 8, layout).unwrap();
            let mut cache = model.new_cache().unwrap();
            let mut all = model.forward(&[1, 9690, 198], &mut cache).unwrap().to_f32().unwrap();
            all.extend(model.forward(&[2683, 314], &mut cache).unwrap().to_f32().unwrap());
            all.extend(model.forward(&[253], &mut cache).unwrap().to_f32().unwrap());
            all
        };
        let declining = Device::new(Box::new(DeclinesLongSteps(hcal::open("cpu").unwrap())));
        let plain = logits(&Device::open("cpu").unwrap(), QkvLayout::Fused);
        let fallback = logits(&declining, QkvLayout::OneOp);
        assert_eq!(plain.len(), 6 * 49152);
        let differ = plain.iter().zip(&fallback).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differ, 0, "{differ} logits differ where the fused calls were declined");
    }
}
