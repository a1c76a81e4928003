//! Shape suites: a square sweep, and the matmuls and attentions of one
//! transformer layer of real LLM configs, in prefill and decode, scalable
//! down for slow devices.

use std::fmt;
use std::str::FromStr;

use hcal::DType;

use crate::spec::{Shape, SpecError, Workload};

/// The dimensions of a decoder-only transformer that set its kernel shapes
/// (from the model's published `config.json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    /// Suite name (`llama3-8b`).
    pub name: &'static str,
    /// `hidden_size`.
    pub hidden: usize,
    /// `intermediate_size` of the gated MLP.
    pub intermediate: usize,
    /// `num_attention_heads`.
    pub heads: usize,
    /// `num_key_value_heads` (grouped-query attention).
    pub kv_heads: usize,
    /// `head_dim` (`hidden / heads` for both models here).
    pub head_dim: usize,
}

/// Meta Llama-3-8B: hidden 4096, MLP 14336, 32 query heads, 8 KV heads, head 128.
pub const LLAMA3_8B: ModelConfig =
    ModelConfig { name: "llama3-8b", hidden: 4096, intermediate: 14336, heads: 32, kv_heads: 8, head_dim: 128 };

/// Qwen2.5-7B: hidden 3584, MLP 18944, 28 query heads, 4 KV heads, head 128.
pub const QWEN25_7B: ModelConfig =
    ModelConfig { name: "qwen2.5-7b", hidden: 3584, intermediate: 18944, heads: 28, kv_heads: 4, head_dim: 128 };

/// SmolLM2-135M(-Instruct): hidden 576, MLP 1536, 9 query heads, 3 KV heads,
/// head 64 (the model the `chat` example runs; its GGUF's metadata).
pub const SMOLLM2_135M: ModelConfig =
    ModelConfig { name: "smollm2-135m", hidden: 576, intermediate: 1536, heads: 9, kv_heads: 3, head_dim: 64 };

/// Models at most this wide are benchmarked at their real size by default,
/// CPUs included ([`Suite::default_scale`]): they are already small.
const SMALL_HIDDEN: usize = 1024;

/// Tokens of a prefill at scale 1 (one sequence).
pub const PREFILL_TOKENS: usize = 2048;
/// Cached context a decode step attends to at scale 1.
pub const DECODE_CONTEXT: usize = 4096;
/// Largest square size at scale 1 (`N x N x N` matmul, `1 x 8 x N x 64` attention).
pub const SQUARE_MAX: usize = 4096;

impl ModelConfig {
    /// The config scaled by `s` in `(0, 1]`: KV heads `max(1, round(Hkv s))`
    /// with the query/KV head ratio kept (so GQA stays as in the model),
    /// `hidden = heads * head_dim`, the MLP width scaled like `hidden`
    /// (rounded to a multiple of 64); head size unchanged.
    ///
    /// ```
    /// let small = hcal_bench::LLAMA3_8B.scaled(0.125);
    /// assert_eq!((small.heads, small.kv_heads, small.hidden, small.intermediate), (4, 1, 512, 1792));
    /// assert_eq!(hcal_bench::LLAMA3_8B.scaled(1.0), hcal_bench::LLAMA3_8B);
    /// ```
    pub fn scaled(&self, s: f64) -> ModelConfig {
        let ratio = self.heads / self.kv_heads;
        let kv_heads = ((self.kv_heads as f64 * s).round() as usize).max(1);
        let heads = kv_heads * ratio;
        let hidden = heads * self.head_dim;
        let intermediate = round_to(self.intermediate as f64 * hidden as f64 / self.hidden as f64, 64);
        ModelConfig { heads, kv_heads, hidden, intermediate, ..*self }
    }

    /// The kernels of one layer at `tokens` tokens (prefill) or one token
    /// with `context` cached (decode): fused QKV projection `T x (H + 2 Hkv) D
    /// x hidden`, output projection `T x hidden x H D`, fused gate/up
    /// `T x 2 I x hidden`, down `T x hidden x I`, and attention (causal
    /// `1 x H x T x D` for prefill, `1 x H x 1 x context x D` for decode).
    pub fn layer(&self, phase: Phase, tokens: usize, context: usize) -> Vec<(String, Workload)> {
        let t = match phase {
            Phase::Prefill => tokens,
            Phase::Decode => 1,
        };
        let (h, kv, d) = (self.heads, self.kv_heads, self.head_dim);
        let mm = |m, n, k| Workload::new(Shape::Matmul { m, n, k }, DType::F32);
        let attention = match phase {
            Phase::Prefill => Workload {
                shape: Shape::Attention { batch: 1, heads: h, q_len: t, kv_len: t, head_dim: d },
                dtype: DType::F32,
                causal: true,
                kv_heads: Some(kv),
            },
            Phase::Decode => Workload {
                shape: Shape::Attention { batch: 1, heads: h, q_len: 1, kv_len: context, head_dim: d },
                dtype: DType::F32,
                causal: false,
                kv_heads: Some(kv),
            },
        };
        vec![
            (format!("{phase} qkv"), mm(t, (h + 2 * kv) * d, self.hidden)),
            (format!("{phase} attention"), attention),
            (format!("{phase} out"), mm(t, self.hidden, h * d)),
            (format!("{phase} gate_up"), mm(t, 2 * self.intermediate, self.hidden)),
            (format!("{phase} down"), mm(t, self.hidden, self.intermediate)),
        ]
    }
}

/// `x` rounded to the nearest multiple of `m`, at least `m`.
fn round_to(x: f64, m: usize) -> usize {
    (((x / m as f64).round() as usize).max(1)) * m
}

/// Prefill (a whole prompt at once) or decode (one new token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// `T` tokens at once; causal self-attention over them.
    Prefill,
    /// One token; attention over the cached context.
    Decode,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Prefill => "prefill",
            Phase::Decode => "decode",
        })
    }
}

/// A named set of shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suite {
    /// Matmul `N x N x N` and attention `1 x 8 x N x 64` for `N = 64, 128, ...`
    /// up to `4096 * scale`.
    Square,
    /// One layer of an LLM config, prefill and decode.
    Model(ModelConfig),
}

impl Suite {
    /// Every suite.
    pub const ALL: [Suite; 4] =
        [Suite::Square, Suite::Model(LLAMA3_8B), Suite::Model(QWEN25_7B), Suite::Model(SMOLLM2_135M)];

    /// The `--scale auto` of this suite on a `device_type`: 1 for a model
    /// already small (hidden at most 1024, such as [`SMOLLM2_135M`]), else
    /// [`default_scale`].
    ///
    /// ```
    /// use hcal::DeviceType;
    /// use hcal_bench::{Suite, LLAMA3_8B, SMOLLM2_135M};
    /// assert_eq!(Suite::Model(SMOLLM2_135M).default_scale(DeviceType::Cpu), 1.0);
    /// assert_eq!(Suite::Model(LLAMA3_8B).default_scale(DeviceType::Cpu), 0.125);
    /// ```
    pub fn default_scale(&self, device_type: hcal::DeviceType) -> f64 {
        match self {
            Suite::Model(m) if m.hidden <= SMALL_HIDDEN => 1.0,
            _ => default_scale(device_type),
        }
    }

    /// `square`, `llama3-8b`, `qwen2.5-7b`, `smollm2-135m`.
    pub fn name(&self) -> &'static str {
        match self {
            Suite::Square => "square",
            Suite::Model(m) => m.name,
        }
    }

    /// The suite's rows at `scale` (`(0, 1]`; 1 is the real size), each with
    /// a label. `quick` keeps every other square size and only the prefill
    /// and decode matmul of the MLP plus both attentions of a model.
    ///
    /// ```
    /// use hcal_bench::Suite;
    /// let rows = Suite::Square.cases(0.125, false);
    /// let labels: Vec<_> = rows.iter().map(|(l, w)| format!("{l} {}", w.shape)).collect();
    /// assert_eq!(labels.first().unwrap(), "matmul 64 64x64x64");
    /// assert_eq!(labels.last().unwrap(), "attention 512 1x8x512x64");
    /// let llama: Suite = "llama3-8b".parse()?;
    /// let full = llama.cases(1.0, false);
    /// assert_eq!(full[0].1.shape.to_string(), "2048x6144x4096"); // prefill QKV
    /// # Ok::<(), hcal_bench::SpecError>(())
    /// ```
    pub fn cases(&self, scale: f64, quick: bool) -> Vec<(String, Workload)> {
        match self {
            Suite::Square => {
                let max = ((SQUARE_MAX as f64 * scale) as usize).max(64);
                let sizes: Vec<usize> = (6..=16)
                    .map(|p| 1usize << p)
                    .filter(|&n| n <= max)
                    .enumerate()
                    .filter(|(i, _)| !quick || i % 2 == 0)
                    .map(|(_, n)| n)
                    .collect();
                let matmuls = sizes
                    .iter()
                    .map(|&n| (format!("matmul {n}"), Workload::new(Shape::Matmul { m: n, n, k: n }, DType::F32)));
                let attentions = sizes.iter().map(|&n| {
                    let shape = Shape::Attention { batch: 1, heads: 8, q_len: n, kv_len: n, head_dim: 64 };
                    (format!("attention {n}"), Workload::new(shape, DType::F32))
                });
                matmuls.chain(attentions).collect()
            }
            Suite::Model(config) => {
                let c = config.scaled(scale);
                let tokens = round_to(PREFILL_TOKENS as f64 * scale, 16);
                let context = round_to(DECODE_CONTEXT as f64 * scale, 16);
                let mut rows = c.layer(Phase::Prefill, tokens, context);
                rows.extend(c.layer(Phase::Decode, tokens, context));
                if quick {
                    rows.retain(|(label, _)| label.ends_with("attention") || label.ends_with("gate_up"));
                }
                rows
            }
        }
    }
}

impl FromStr for Suite {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        Suite::ALL.into_iter().find(|suite| suite.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            SpecError(format!("unknown suite {s:?} (expected square, llama3-8b, qwen2.5-7b or smollm2-135m)"))
        })
    }
}

/// The default `--scale` for a device: 1 (real shapes) on GPUs, 1/8 on CPUs
/// and software GPUs such as lavapipe (about 10-20 GFLOP/s), so a default run
/// finishes in about a minute there.
///
/// ```
/// use hcal::DeviceType;
/// assert_eq!(hcal_bench::default_scale(DeviceType::DiscreteGpu), 1.0);
/// assert_eq!(hcal_bench::default_scale(DeviceType::SoftwareGpu), 0.125);
/// ```
pub fn default_scale(device_type: hcal::DeviceType) -> f64 {
    use hcal::DeviceType as T;
    match device_type {
        T::DiscreteGpu | T::IntegratedGpu | T::VirtualGpu | T::Other => 1.0,
        T::Cpu | T::SoftwareGpu => 0.125,
    }
}
