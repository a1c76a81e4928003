//! A Llama-style decoder built from hcal ops only, with safetensors weights.
//!
//! Shared by `examples/decoder.rs` and `tests/decoder.rs`. Per layer, on the
//! hidden state `x: [1, S, H]` (batch 1, `S` new tokens):
//!
//! ```text
//! a = RMSNorm(x) ; q, k, v = a Wq, a Wk, a Wv           MatMul, [1, S, heads * D]
//! q, k = RoPE(q), RoPE(k) at positions P..P+S            RotaryEmbedding (3-D, position ids)
//! y, cache = Attention(q, k, v, past = cache)            causal GQA, past/present KV
//! x = x + y Wo
//! b = RMSNorm(x) ; x = x + (Silu(b Wg) * (b Wu)) Wd      SwiGLU
//! ```
//!
//! then `logits = RMSNorm(x) W_lm`. The 3-D `[B, S, heads * D]` layouts that
//! ONNX gives Attention and RotaryEmbedding mean the projections feed
//! attention with no reshape or transpose; the cache is Attention's own
//! `present_key`/`present_value` (4-D), passed back as `past_*`.
//!
//! Weights use the Hugging Face Llama names and layout (`[out, in]` linear
//! weights); the config travels in the safetensors metadata, so a file is
//! self-describing.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use hcal::{Attention, BinaryOp, Device, DeviceTensor, RotaryEmbedding, UnaryOp, ops};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

/// Errors of this module: hcal's, safetensors', I/O and format problems.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Result with [`BoxError`].
pub type Result<T> = std::result::Result<T, BoxError>;

/// Model dimensions (Hugging Face `LlamaConfig` names in the file metadata).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Width `H` of the residual stream.
    pub hidden_size: usize,
    /// Width of the SwiGLU MLP.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_layers: usize,
    /// Query heads.
    pub num_heads: usize,
    /// Key/value heads (grouped-query attention when fewer than `num_heads`).
    pub num_kv_heads: usize,
    /// Rows of the RoPE tables: prompt plus generated tokens must fit.
    pub max_positions: usize,
    /// RoPE base.
    pub rope_theta: f64,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f32,
}

impl Config {
    /// The default test model: 2 layers, width 64, 4 query and 2 KV heads
    /// (GQA), vocabulary 256 (about 0.13 M parameters).
    pub fn small() -> Self {
        Self {
            vocab_size: 256,
            hidden_size: 64,
            intermediate_size: 176,
            num_layers: 2,
            num_heads: 4,
            num_kv_heads: 2,
            max_positions: 256,
            rope_theta: 10_000.0,
            rms_norm_eps: 1e-5,
        }
    }

    /// The benchmark model: 8 layers, width 768, 12 query and 4 KV heads of
    /// 64, MLP 2048, vocabulary 32000: 99.5 M parameters.
    pub fn m100() -> Self {
        Self {
            vocab_size: 32_000,
            hidden_size: 768,
            intermediate_size: 2048,
            num_layers: 8,
            num_heads: 12,
            num_kv_heads: 4,
            max_positions: 2048,
            rope_theta: 10_000.0,
            rms_norm_eps: 1e-5,
        }
    }

    /// `small` or `100m`.
    pub fn by_name(name: &str) -> Result<Self> {
        match name {
            "small" => Ok(Self::small()),
            "100m" => Ok(Self::m100()),
            other => Err(format!("unknown config {other:?}; expected small or 100m").into()),
        }
    }

    /// Features per head `D`.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_heads
    }

    /// Every weight tensor: name and shape, in the Hugging Face Llama layout.
    pub fn tensor_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (h, d, i, v) = (self.hidden_size, self.head_dim(), self.intermediate_size, self.vocab_size);
        let mut shapes = vec![("model.embed_tokens.weight".to_string(), vec![v, h])];
        for l in 0..self.num_layers {
            let p = format!("model.layers.{l}");
            shapes.extend([
                (format!("{p}.input_layernorm.weight"), vec![h]),
                (format!("{p}.self_attn.q_proj.weight"), vec![self.num_heads * d, h]),
                (format!("{p}.self_attn.k_proj.weight"), vec![self.num_kv_heads * d, h]),
                (format!("{p}.self_attn.v_proj.weight"), vec![self.num_kv_heads * d, h]),
                (format!("{p}.self_attn.o_proj.weight"), vec![h, self.num_heads * d]),
                (format!("{p}.post_attention_layernorm.weight"), vec![h]),
                (format!("{p}.mlp.gate_proj.weight"), vec![i, h]),
                (format!("{p}.mlp.up_proj.weight"), vec![i, h]),
                (format!("{p}.mlp.down_proj.weight"), vec![h, i]),
            ]);
        }
        shapes.push(("model.norm.weight".to_string(), vec![h]));
        shapes.push(("lm_head.weight".to_string(), vec![v, h]));
        shapes
    }

    /// Parameters in all weight tensors.
    pub fn param_count(&self) -> usize {
        self.tensor_shapes().iter().map(|(_, s)| s.iter().product::<usize>()).sum()
    }

    fn check(&self) -> Result<()> {
        let ok = self.num_heads > 0
            && self.num_kv_heads > 0
            && self.hidden_size % self.num_heads == 0
            && self.num_heads % self.num_kv_heads == 0
            && self.head_dim() % 2 == 0
            && self.vocab_size > 0
            && self.max_positions > 0;
        if ok { Ok(()) } else { Err(format!("inconsistent config {self:?}").into()) }
    }

    fn to_metadata(&self) -> HashMap<String, String> {
        [
            ("format", "hcal-llama".to_string()),
            ("vocab_size", self.vocab_size.to_string()),
            ("hidden_size", self.hidden_size.to_string()),
            ("intermediate_size", self.intermediate_size.to_string()),
            ("num_hidden_layers", self.num_layers.to_string()),
            ("num_attention_heads", self.num_heads.to_string()),
            ("num_key_value_heads", self.num_kv_heads.to_string()),
            ("max_position_embeddings", self.max_positions.to_string()),
            ("rope_theta", self.rope_theta.to_string()),
            ("rms_norm_eps", self.rms_norm_eps.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn from_metadata(meta: &HashMap<String, String>) -> Result<Self> {
        fn get<T: std::str::FromStr>(meta: &HashMap<String, String>, key: &str) -> Result<T> {
            let text = meta.get(key).ok_or_else(|| format!("safetensors metadata lacks {key:?}"))?;
            text.parse().map_err(|_| format!("metadata {key}={text:?} does not parse").into())
        }
        let config = Self {
            vocab_size: get(meta, "vocab_size")?,
            hidden_size: get(meta, "hidden_size")?,
            intermediate_size: get(meta, "intermediate_size")?,
            num_layers: get(meta, "num_hidden_layers")?,
            num_heads: get(meta, "num_attention_heads")?,
            num_kv_heads: get(meta, "num_key_value_heads")?,
            max_positions: get(meta, "max_position_embeddings")?,
            rope_theta: get(meta, "rope_theta")?,
            rms_norm_eps: get(meta, "rms_norm_eps")?,
        };
        config.check()?;
        Ok(config)
    }
}

/// SplitMix64: deterministic weights and prompts from a seed.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-1, 1)`.
    fn symmetric(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    /// `n` tokens below `vocab`.
    pub fn tokens(&mut self, n: usize, vocab: usize) -> Vec<u32> {
        (0..n).map(|_| (self.next_u64() % vocab as u64) as u32).collect()
    }
}

/// Random values for weight `name` of `shape`: uniform with standard
/// deviation `1/sqrt(fan_in)` for projections (activations keep their scale,
/// attention scores are O(1), so softmax is neither flat nor one-hot),
/// unit deviation for embeddings, `1 +- 0.1` for norm weights.
fn random_values(name: &str, shape: &[usize], rng: &mut Rng) -> Vec<f32> {
    let n: usize = shape.iter().product();
    if shape.len() == 1 {
        return (0..n).map(|_| 1.0 + 0.1 * rng.symmetric()).collect();
    }
    let std = if name.contains("embed_tokens") { 1.0 } else { 1.0 / (shape[1] as f32).sqrt() };
    let half_width = std * 3f32.sqrt();
    (0..n).map(|_| half_width * rng.symmetric()).collect()
}

/// Write a random-weight model of `config` to `path` (f32 safetensors, config
/// in the metadata).
pub fn write_random_weights(path: &Path, config: &Config, seed: u64) -> Result<()> {
    config.check()?;
    let mut rng = Rng::new(seed);
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = config
        .tensor_shapes()
        .into_iter()
        .map(|(name, shape)| {
            let bytes = random_values(&name, &shape, &mut rng).iter().flat_map(|x| x.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| Ok((name.as_str(), TensorView::new(Dtype::F32, shape.clone(), bytes)?)))
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize_to_file(views, Some(config.to_metadata()), path)?;
    Ok(())
}

/// A weight on the host.
pub struct HostTensor {
    /// Shape as stored.
    pub shape: Vec<usize>,
    /// Values, widened to f32.
    pub data: Vec<f32>,
}

/// A model file read into host memory.
pub struct Weights {
    /// The config from the file's metadata.
    pub config: Config,
    /// Every tensor by name.
    pub tensors: HashMap<String, HostTensor>,
}

impl Weights {
    /// Read a safetensors file written by [`write_random_weights`] (or any
    /// file with the same names, shapes and metadata; F32, F16 and BF16 are
    /// read, and computed in f32).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (_, metadata) = SafeTensors::read_metadata(&bytes)?;
        let meta = metadata.metadata().clone().ok_or("safetensors file has no metadata (the model config)")?;
        let config = Config::from_metadata(&meta)?;
        let file = SafeTensors::deserialize(&bytes)?;
        let mut tensors = HashMap::new();
        for (name, view) in file.iter() {
            let data = match view.dtype() {
                Dtype::F32 => {
                    view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
                }
                Dtype::F16 => {
                    view.data().chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
                }
                Dtype::BF16 => {
                    view.data().chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect()
                }
                other => return Err(format!("{name}: dtype {other:?} is not a float format").into()),
            };
            tensors.insert(name.to_string(), HostTensor { shape: view.shape().to_vec(), data });
        }
        for (name, shape) in config.tensor_shapes() {
            match tensors.get(&name) {
                None => return Err(format!("{}: missing tensor {name}", path.display()).into()),
                Some(t) if t.shape != shape => {
                    return Err(format!("{name} is {:?}, the config needs {shape:?}", t.shape).into());
                }
                Some(_) => {}
            }
        }
        Ok(Self { config, tensors })
    }

    fn get(&self, name: &str) -> &HostTensor {
        &self.tensors[name] // `load` checked every name of the config
    }
}

/// One decoder layer's weights on the device; projections as `[in, out]`.
struct Layer {
    attn_norm: DeviceTensor,
    wq: DeviceTensor,
    wk: DeviceTensor,
    wv: DeviceTensor,
    wo: DeviceTensor,
    mlp_norm: DeviceTensor,
    w_gate: DeviceTensor,
    w_up: DeviceTensor,
    w_down: DeviceTensor,
}

/// The model on one device.
pub struct Decoder {
    config: Config,
    device: Device,
    /// The embedding table stays on the host: hcal has no Gather, so the
    /// rows of the input tokens are looked up here and uploaded (exact).
    embed: Vec<f32>,
    layers: Vec<Layer>,
    norm: DeviceTensor,
    /// `[H, V]`.
    lm_head: DeviceTensor,
    /// RoPE tables `[max_positions, D/2]`, indexed by position ids.
    cos: DeviceTensor,
    sin: DeviceTensor,
}

/// The per-layer KV cache of one sequence: Attention's `present_key` and
/// `present_value` (`[1, Hkv, T, D]`) of the last call.
pub struct KvCache {
    layers: Vec<Option<(DeviceTensor, DeviceTensor)>>,
    len: usize,
}

impl Decoder {
    /// Upload `weights` to `device`. Linear weights arrive as `[out, in]` and
    /// are transposed once, on the device, to the `[in, out]` that `x W`
    /// (MatMul) takes, so no call transposes at run time.
    pub fn new(device: &Device, weights: &Weights) -> Result<Self> {
        let config = weights.config.clone();
        let upload = |name: &str| -> Result<DeviceTensor> {
            let t = weights.get(name);
            Ok(device.tensor_f32(&t.shape, &t.data)?)
        };
        let linear = |name: &str| -> Result<DeviceTensor> { Ok(ops::transpose(&upload(name)?, None)?) };
        let layers = (0..config.num_layers)
            .map(|l| {
                let p = format!("model.layers.{l}");
                Ok(Layer {
                    attn_norm: upload(&format!("{p}.input_layernorm.weight"))?,
                    wq: linear(&format!("{p}.self_attn.q_proj.weight"))?,
                    wk: linear(&format!("{p}.self_attn.k_proj.weight"))?,
                    wv: linear(&format!("{p}.self_attn.v_proj.weight"))?,
                    wo: linear(&format!("{p}.self_attn.o_proj.weight"))?,
                    mlp_norm: upload(&format!("{p}.post_attention_layernorm.weight"))?,
                    w_gate: linear(&format!("{p}.mlp.gate_proj.weight"))?,
                    w_up: linear(&format!("{p}.mlp.up_proj.weight"))?,
                    w_down: linear(&format!("{p}.mlp.down_proj.weight"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (cos, sin) = rope_tables(&config);
        let half = config.head_dim() / 2;
        let decoder = Self {
            embed: weights.get("model.embed_tokens.weight").data.clone(),
            layers,
            norm: upload("model.norm.weight")?,
            lm_head: linear("lm_head.weight")?,
            cos: device.tensor_f32(&[config.max_positions, half], &cos)?,
            sin: device.tensor_f32(&[config.max_positions, half], &sin)?,
            device: device.clone(),
            config,
        };
        device.sync()?;
        Ok(decoder)
    }

    /// The model's config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// An empty cache for a new sequence.
    pub fn new_cache(&self) -> KvCache {
        KvCache { layers: (0..self.config.num_layers).map(|_| None).collect(), len: 0 }
    }

    /// Run `tokens` (the prompt, or one generated token) at positions
    /// `cache.len()..` and append their keys and values to `cache`. Returns
    /// the logits of every token, `[S, V]`.
    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Result<DeviceTensor> {
        let c = &self.config;
        let (s, h, past) = (tokens.len(), c.hidden_size, cache.len);
        if s == 0 || past + s > c.max_positions {
            return Err(format!("{past} cached + {s} new tokens do not fit max_positions {}", c.max_positions).into());
        }
        let mut rows = Vec::with_capacity(s * h);
        for &t in tokens {
            let t = t as usize;
            let row =
                self.embed.get(t * h..(t + 1) * h).ok_or_else(|| format!("token {t} >= vocab {}", c.vocab_size))?;
            rows.extend_from_slice(row);
        }
        let mut x = self.device.tensor_f32(&[1, s, h], &rows)?;
        let positions: Vec<i64> = (past..past + s).map(|p| p as i64).collect();
        let positions = self.device.tensor_i64(&[1, s], &positions)?;
        let rope = |t: &DeviceTensor, heads: usize| {
            let attrs = RotaryEmbedding { num_heads: Some(heads), ..Default::default() };
            ops::rotary_embedding(t, &self.cos, &self.sin, Some(&positions), attrs)
        };
        let attention = Attention {
            is_causal: true,
            q_num_heads: Some(c.num_heads),
            kv_num_heads: Some(c.num_kv_heads),
            ..Default::default()
        };
        for (layer, slot) in self.layers.iter().zip(&mut cache.layers) {
            let a = ops::rms_norm(&x, &layer.attn_norm, -1, c.rms_norm_eps)?;
            let q = rope(&ops::matmul(&a, &layer.wq)?, c.num_heads)?;
            let k = rope(&ops::matmul(&a, &layer.wk)?, c.num_kv_heads)?;
            let v = ops::matmul(&a, &layer.wv)?;
            let past_kv = slot.as_ref().map(|(k, v)| (k, v));
            let att = ops::attention_with_cache(&q, &k, &v, None, past_kv, attention)?;
            *slot = Some((att.present_key, att.present_value));
            x = ops::binary(&x, &ops::matmul(&att.y, &layer.wo)?, BinaryOp::Add)?;

            let b = ops::rms_norm(&x, &layer.mlp_norm, -1, c.rms_norm_eps)?;
            let gate = ops::unary(&ops::matmul(&b, &layer.w_gate)?, UnaryOp::Silu)?;
            let up = ops::matmul(&b, &layer.w_up)?;
            let mlp = ops::matmul(&ops::binary(&gate, &up, BinaryOp::Mul)?, &layer.w_down)?;
            x = ops::binary(&x, &mlp, BinaryOp::Add)?;
        }
        cache.len += s;
        let logits = ops::matmul(&ops::rms_norm(&x, &self.norm, -1, c.rms_norm_eps)?, &self.lm_head)?;
        // [1, S, V] -> [S, V]: a descriptor-only view.
        Ok(logits.reshape(&[s, c.vocab_size])?)
    }
}

/// `cos` and `sin` of `p * theta^(-2i/D)` for every position `p` and pair
/// `i < D/2`, computed in f64 and rounded once (the same f32 values on every
/// backend).
fn rope_tables(c: &Config) -> (Vec<f32>, Vec<f32>) {
    let (d, half) = (c.head_dim() as f64, c.head_dim() / 2);
    let mut cos = Vec::with_capacity(c.max_positions * half);
    let mut sin = Vec::with_capacity(c.max_positions * half);
    for p in 0..c.max_positions {
        for i in 0..half {
            let angle = p as f64 * c.rope_theta.powf(-2.0 * i as f64 / d);
            cos.push(angle.cos() as f32);
            sin.push(angle.sin() as f32);
        }
    }
    (cos, sin)
}

/// What [`generate`] observed.
pub struct Generation {
    /// The token fed at each decode step (the prompt is not included).
    pub tokens: Vec<u32>,
    /// The backend's own greedy choice after the prompt and after each step.
    pub argmax: Vec<u32>,
    /// Logits of the prefill (`[S, V]`) and of each decode step (`[1, V]`),
    /// kept on the device (a bound tracker looks them up by tensor).
    pub logits: Vec<DeviceTensor>,
    /// The same logits on the host.
    pub host_logits: Vec<Vec<f32>>,
    /// Seconds for the prefill: forward, and reading the logits back.
    pub prefill_s: f64,
    /// Seconds for all decode steps, each a forward and a logits read.
    pub decode_s: f64,
}

/// Prefill `prompt`, then run `steps` decode steps of one token each,
/// reusing the cache. Each step feeds the greedy (argmax) choice of the
/// step before, or `forced[i]` when given (to run two backends on the same
/// tokens, so their logits can be compared even where a near tie makes
/// their argmax differ).
pub fn generate(decoder: &Decoder, prompt: &[u32], steps: usize, forced: Option<&[u32]>) -> Result<Generation> {
    let mut cache = decoder.new_cache();
    let mut out = Generation {
        tokens: Vec::new(),
        argmax: Vec::new(),
        logits: Vec::new(),
        host_logits: Vec::new(),
        prefill_s: 0.0,
        decode_s: 0.0,
    };
    let vocab = decoder.config().vocab_size;
    let start = Instant::now();
    let logits = decoder.forward(prompt, &mut cache)?;
    let host = logits.to_f32()?; // waits for the device
    out.prefill_s = start.elapsed().as_secs_f64();
    out.argmax.push(argmax(&host[host.len() - vocab..]));
    out.logits.push(logits);
    out.host_logits.push(host);
    let start = Instant::now();
    for step in 0..steps {
        let token = match forced {
            Some(tokens) => *tokens.get(step).ok_or("fewer forced tokens than steps")?,
            None => *out.argmax.last().expect("the prefill chose one"),
        };
        out.tokens.push(token);
        let logits = decoder.forward(&[token], &mut cache)?;
        let host = logits.to_f32()?;
        out.argmax.push(argmax(&host));
        out.logits.push(logits);
        out.host_logits.push(host);
    }
    out.decode_s = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Index of the largest value (the first of equal ones).
fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}
