//! What is benchmarked: an op, its shape SPEC, dtype and attention options.

use std::fmt;
use std::str::FromStr;

use hcal::DType;
use serde::{Deserialize, Serialize};

/// The ops `hcal bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// ONNX MatMul `Y[M, N] = A[M, K] @ B[K, N]`; SPEC `MxNxK`.
    Matmul,
    /// ONNX Attention on `[B, H, S, D]` tensors; SPEC `BxHxSxD` or `BxHxSqxSkvxD`.
    Attention,
}

impl OpKind {
    /// Every op, in a stable order.
    pub const ALL: [OpKind; 2] = [OpKind::Matmul, OpKind::Attention];

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Matmul => "matmul",
            OpKind::Attention => "attention",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OpKind {
    type Err = SpecError;

    /// `matmul` or `attention`, case-insensitive.
    fn from_str(s: &str) -> Result<Self, SpecError> {
        OpKind::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| SpecError(format!("unknown op {s:?} (expected matmul or attention)")))
    }
}

/// A malformed SPEC, op or dtype; the message says what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

/// The problem size of one benchmark row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shape {
    /// `Y[M, N] = A[M, K] @ B[K, N]`.
    Matmul {
        /// Rows of `A` and `Y`.
        m: usize,
        /// Columns of `B` and `Y`.
        n: usize,
        /// The contracted dimension.
        k: usize,
    },
    /// `Q: [B, H, Sq, D]`, `K, V: [B, Hkv, Skv, D]` (`Hkv` is
    /// [`Workload::kv_heads`], `H` when absent).
    Attention {
        /// Batch `B`.
        batch: usize,
        /// Query heads `H`.
        heads: usize,
        /// Queries per head `Sq`.
        q_len: usize,
        /// Keys per head `Skv`.
        kv_len: usize,
        /// Head size `D`.
        head_dim: usize,
    },
}

impl Shape {
    /// Parse a SPEC for `op`: `MxNxK` for matmul; `BxHxSxD` (`Sq = Skv = S`)
    /// or `BxHxSqxSkvxD` for attention. Every dimension is a positive integer.
    ///
    /// ```
    /// use hcal_bench::{OpKind, Shape};
    /// let s = Shape::parse(OpKind::Attention, "1x8x1x1024x64")?;
    /// assert_eq!(s, Shape::Attention { batch: 1, heads: 8, q_len: 1, kv_len: 1024, head_dim: 64 });
    /// assert_eq!(s.to_string(), "1x8x1x1024x64");
    /// // Sq = Skv prints in the short form.
    /// assert_eq!(Shape::parse(OpKind::Attention, "2x4x128x128x64")?.to_string(), "2x4x128x64");
    /// assert!(Shape::parse(OpKind::Matmul, "64x64").is_err());
    /// # Ok::<(), hcal_bench::SpecError>(())
    /// ```
    ///
    /// # Errors
    /// [`SpecError`] naming the SPEC and the expected form.
    pub fn parse(op: OpKind, spec: &str) -> Result<Shape, SpecError> {
        let dims: Vec<usize> = spec
            .trim()
            .split(['x', 'X'])
            .map(|d| d.trim().parse::<usize>().ok().filter(|&v| v > 0))
            .collect::<Option<_>>()
            .ok_or_else(|| SpecError(format!("{op} shape {spec:?}: dimensions must be positive integers")))?;
        match (op, dims.as_slice()) {
            (OpKind::Matmul, &[m, n, k]) => Ok(Shape::Matmul { m, n, k }),
            (OpKind::Attention, &[batch, heads, s, head_dim]) => {
                Ok(Shape::Attention { batch, heads, q_len: s, kv_len: s, head_dim })
            }
            (OpKind::Attention, &[batch, heads, q_len, kv_len, head_dim]) => {
                Ok(Shape::Attention { batch, heads, q_len, kv_len, head_dim })
            }
            (OpKind::Matmul, _) => Err(SpecError(format!("matmul shape {spec:?}: expected MxNxK, e.g. 256x256x256"))),
            (OpKind::Attention, _) => {
                Err(SpecError(format!("attention shape {spec:?}: expected BxHxSxD or BxHxSqxSkvxD, e.g. 1x8x128x64")))
            }
        }
    }

    /// The op this shape belongs to.
    pub fn op(&self) -> OpKind {
        match self {
            Shape::Matmul { .. } => OpKind::Matmul,
            Shape::Attention { .. } => OpKind::Attention,
        }
    }
}

impl fmt::Display for Shape {
    /// The canonical SPEC: `MxNxK`, `BxHxSxD` when `Sq = Skv`, else `BxHxSqxSkvxD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Shape::Matmul { m, n, k } => write!(f, "{m}x{n}x{k}"),
            Shape::Attention { batch, heads, q_len, kv_len, head_dim } if q_len == kv_len => {
                write!(f, "{batch}x{heads}x{q_len}x{head_dim}")
            }
            Shape::Attention { batch, heads, q_len, kv_len, head_dim } => {
                write!(f, "{batch}x{heads}x{q_len}x{kv_len}x{head_dim}")
            }
        }
    }
}

/// Parse `f32`, `f16`, or a block-quantized `q4_0`, `q4_1`, `q8_0` (the
/// dtypes `hcal bench` measures). A quantized matmul row is the weights case
/// of a model: B `[N, K]` in that dtype with its blocks along K (as GGUF
/// stores a linear layer), run as ONNX Gemm with `transB`; A and Y are f32.
///
/// ```
/// assert_eq!(hcal_bench::parse_dtype("F16")?, hcal::DType::F16);
/// assert_eq!(hcal_bench::parse_dtype("q4_1")?, hcal::DType::Q4_1);
/// assert!(hcal_bench::parse_dtype("bf16").is_err());
/// # Ok::<(), hcal_bench::SpecError>(())
/// ```
///
/// # Errors
/// [`SpecError`] for anything else.
pub fn parse_dtype(s: &str) -> Result<DType, SpecError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "f32" => Ok(DType::F32),
        "f16" => Ok(DType::F16),
        "q4_0" => Ok(DType::Q4_0),
        "q4_1" => Ok(DType::Q4_1),
        "q8_0" => Ok(DType::Q8_0),
        _ => Err(SpecError(format!("unknown dtype {s:?} (expected f32, f16, q4_0, q4_1 or q8_0)"))),
    }
}

/// One benchmark row: op, shape, dtype and the attention options.
///
/// ```
/// use hcal_bench::{OpKind, Shape, Workload};
/// let w = Workload::new(Shape::parse(OpKind::Matmul, "64x32x16")?, hcal::DType::F32);
/// assert_eq!(w.key(), "matmul/f32/64x32x16");
/// # Ok::<(), hcal_bench::SpecError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Problem size (and so the op).
    pub shape: Shape,
    /// Storage dtype of every operand (a quantized one: of matmul's B only,
    /// see [`parse_dtype`]).
    pub dtype: DType,
    /// Attention only: causal mask (query `i` sees keys `j <= i`, hcal/ONNX
    /// top-left alignment without past).
    pub causal: bool,
    /// Attention only: key/value heads for grouped-query attention (`None`:
    /// as many as query heads). Must divide the query heads.
    pub kv_heads: Option<usize>,
}

impl Workload {
    /// A plain workload: not causal, no GQA.
    pub fn new(shape: Shape, dtype: DType) -> Self {
        Self { shape, dtype, causal: false, kv_heads: None }
    }

    /// The op.
    pub fn op(&self) -> OpKind {
        self.shape.op()
    }

    /// Check the attention options against the shape, and a quantized dtype
    /// (matmul only, K a whole number of blocks).
    ///
    /// # Errors
    /// [`SpecError`] for `--causal`/`--kv-heads` on matmul, `kv_heads`
    /// that does not divide the query heads, or a quantized dtype elsewhere.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.dtype.is_quantized() {
            return match self.shape {
                Shape::Matmul { k, .. } if k % hcal::quant::BLOCK == 0 => Ok(()),
                Shape::Matmul { k, .. } => Err(SpecError(format!(
                    "{} weights hold blocks of {} along K; K = {k} is not a multiple",
                    self.dtype,
                    hcal::quant::BLOCK
                ))),
                Shape::Attention { .. } => Err(SpecError(format!("{} applies to matmul (weights) only", self.dtype))),
            };
        }
        match self.shape {
            Shape::Matmul { .. } if self.causal || self.kv_heads.is_some() => {
                Err(SpecError("--causal and --kv-heads apply to attention only".into()))
            }
            Shape::Attention { heads, .. } => match self.kv_heads {
                Some(kv) if kv == 0 || heads % kv != 0 => {
                    Err(SpecError(format!("kv heads {kv} must divide the {heads} query heads")))
                }
                _ => Ok(()),
            },
            Shape::Matmul { .. } => Ok(()),
        }
    }

    /// Key/value heads (`H` without GQA); 0 for matmul.
    pub fn kv_heads_or_all(&self) -> usize {
        match self.shape {
            Shape::Attention { heads, .. } => self.kv_heads.unwrap_or(heads),
            Shape::Matmul { .. } => 0,
        }
    }

    /// `op/dtype/shape` plus `-causal` and `-kv{Hkv}` when they apply: the
    /// identity under which runs are compared.
    pub fn key(&self) -> String {
        let mut key = format!("{}/{}/{}", self.op(), self.dtype, self.shape);
        if let Some(kv) = self.kv_heads {
            key += &format!("-kv{kv}");
        }
        if self.causal {
            key += "-causal";
        }
        key
    }
}
