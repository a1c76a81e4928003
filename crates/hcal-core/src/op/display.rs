//! How an op prints: its ONNX name and the attributes that set it apart
//! (log lines, conformance and benchmark rows).

use std::fmt;

use super::{Op, SplitParts};

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::MatMul | Op::Unary(_) | Op::Binary(_) | Op::Clip | Op::Where => f.write_str(self.name()),
            Op::LeakyRelu { alpha } => write!(f, "LeakyRelu(alpha={alpha})"),
            Op::HardSigmoid { alpha, beta } => write!(f, "HardSigmoid(alpha={alpha}, beta={beta})"),
            Op::Gemm(g) => write!(
                f,
                "Gemm(alpha={}, beta={}, transA={}, transB={})",
                g.alpha, g.beta, g.trans_a as u8, g.trans_b as u8
            ),
            Op::Softmax { axis } => write!(f, "Softmax(axis={axis})"),
            Op::LayerNormalization { axis, epsilon } => {
                write!(f, "LayerNormalization(axis={axis}, epsilon={epsilon:e})")
            }
            Op::RmsNormalization { axis, epsilon } => {
                write!(f, "RMSNormalization(axis={axis}, epsilon={epsilon:e})")
            }
            Op::Attention(a) => {
                write!(f, "Attention(causal={}", a.is_causal as u8)?;
                if let Some(h) = a.q_num_heads {
                    write!(f, ", q_heads={h}")?;
                }
                if let Some(h) = a.kv_num_heads {
                    write!(f, ", kv_heads={h}")?;
                }
                if let Some(s) = a.scale {
                    write!(f, ", scale={s}")?;
                }
                if a.softcap != 0.0 {
                    write!(f, ", softcap={}", a.softcap)?;
                }
                f.write_str(")")
            }
            Op::RotaryEmbedding(r) => write!(
                f,
                "RotaryEmbedding(interleaved={}, dim={}{})",
                r.interleaved as u8,
                r.rotary_embedding_dim,
                r.num_heads.map(|h| format!(", heads={h}")).unwrap_or_default()
            ),
            Op::Gelu { approximate } => write!(f, "Gelu({approximate:?})"),
            Op::RmsNormGemm(a) => write!(
                f,
                "RMSNormGemm(epsilon={}, alpha={}, beta={}, transB={})",
                a.epsilon, a.alpha, a.beta, a.trans_b as u8
            ),
            Op::GatedUnary { activation } => write!(f, "GatedUnary(activation={})", activation.name()),
            Op::Reduce { op, axes, keepdims } => {
                write!(f, "{}(axes={axes:?}, keepdims={})", op.name(), *keepdims as u8)
            }
            Op::Transpose { perm } => write!(f, "Transpose(perm={perm:?})"),
            Op::Cast { to } => write!(f, "Cast(to={to})"),
            // along one axis
            Op::ArgMax { axis, keepdims, select_last_index } | Op::ArgMin { axis, keepdims, select_last_index } => {
                write!(
                    f,
                    "{}(axis={axis}, keepdims={}, select_last_index={})",
                    self.name(),
                    *keepdims as u8,
                    *select_last_index as u8
                )
            }
            Op::LogSoftmax { axis } => write!(f, "LogSoftmax(axis={axis})"),
            Op::CumSum { axis, exclusive, reverse } => {
                write!(f, "CumSum(axis={axis}, exclusive={}, reverse={})", *exclusive as u8, *reverse as u8)
            }
            // data movement
            Op::Concat { axis } => write!(f, "Concat(axis={axis})"),
            Op::Slice { starts, ends, axes, steps } => {
                write!(f, "Slice(starts={starts:?}, ends={ends:?}")?;
                if let Some(a) = axes {
                    write!(f, ", axes={a:?}")?;
                }
                if let Some(s) = steps {
                    write!(f, ", steps={s:?}")?;
                }
                f.write_str(")")
            }
            Op::Split { axis, parts: SplitParts::Sizes(s) } => write!(f, "Split(axis={axis}, split={s:?})"),
            Op::Split { axis, parts: SplitParts::Equal(n) } => write!(f, "Split(axis={axis}, num_outputs={n})"),
            Op::Expand { shape } => write!(f, "Expand(shape={shape:?})"),
            Op::Reshape { shape } => write!(f, "Reshape(shape={shape:?})"),
            Op::Range { start, limit, delta, dtype } => {
                write!(f, "Range(start={start}, limit={limit}, delta={delta}, dtype={dtype})")
            }
            Op::Trilu { upper, k } => write!(f, "Trilu(upper={}, k={k})", *upper as u8),
            Op::Gather { axis } => write!(f, "Gather(axis={axis})"),
            Op::GatherElements { axis } => write!(f, "GatherElements(axis={axis})"),
            Op::TensorScatter { axis, mode } => write!(f, "TensorScatter(axis={axis}, mode={})", mode.name()),
            Op::SplitRotaryScatter(a) => write!(
                f,
                "SplitRotaryScatter(q_heads={}, kv_heads={}, interleaved={}, dim={})",
                a.q_num_heads, a.kv_num_heads, a.interleaved as u8, a.rotary_embedding_dim
            ),
        }
    }
}
