//! Translating hcal values to the plugin ABI's C forms: ops with their
//! attribute storage, dtypes, descriptor arrays, status and device codes,
//! and which ops and inputs need ABI 1.2 or 1.3.

use hcal_core::{DType, DeviceType, Error, Op, OpSignature, Result, TensorDesc};

use crate::abi::*;

/// The status's name, for messages.
pub(crate) fn status_name(status: HcalStatus) -> String {
    match status {
        HCAL_OK => "HCAL_OK".into(),
        HCAL_STATUS_UNSUPPORTED => "HCAL_STATUS_UNSUPPORTED".into(),
        HCAL_STATUS_INVALID_ARGUMENT => "HCAL_STATUS_INVALID_ARGUMENT".into(),
        HCAL_STATUS_OUT_OF_MEMORY => "HCAL_STATUS_OUT_OF_MEMORY".into(),
        HCAL_STATUS_INTERNAL => "HCAL_STATUS_INTERNAL".into(),
        other => format!("status {other}"),
    }
}

pub(crate) fn dtype_code(dtype: DType) -> HcalDtype {
    match dtype {
        DType::F32 => HCAL_DTYPE_F32,
        DType::F16 => HCAL_DTYPE_F16,
        DType::BF16 => HCAL_DTYPE_BF16,
        DType::Bool => HCAL_DTYPE_BOOL,
        DType::I64 => HCAL_DTYPE_I64,
        DType::Q4_0 => HCAL_DTYPE_Q4_0,
        DType::Q4_1 => HCAL_DTYPE_Q4_1,
        DType::Q8_0 => HCAL_DTYPE_Q8_0,
    }
}

pub(crate) fn device_type(code: u32) -> DeviceType {
    match code {
        HCAL_DEVICE_CPU => DeviceType::Cpu,
        HCAL_DEVICE_DISCRETE_GPU => DeviceType::DiscreteGpu,
        HCAL_DEVICE_INTEGRATED_GPU => DeviceType::IntegratedGpu,
        HCAL_DEVICE_VIRTUAL_GPU => DeviceType::VirtualGpu,
        HCAL_DEVICE_SOFTWARE_GPU => DeviceType::SoftwareGpu,
        _ => DeviceType::Other,
    }
}

/// Attention's input slot of `nonpad_kv_seqlen` (ABI 1.2).
pub(crate) const ATTENTION_NONPAD_SLOT: usize = 6;

/// An [`HcalOp`] with the storage its pointers refer to (reduce axes,
/// transpose permutation), alive as long as this value.
pub(crate) struct EncodedOp {
    pub(crate) op: HcalOp,
    _axes: Vec<i64>,
    _perm: Vec<u64>,
    /// The index lists of the data-movement ops (Slice's four, Reshape's shape).
    _lists: Vec<Vec<i64>>,
    /// Split's sizes, Expand's shape.
    _extents: Vec<u64>,
}

/// The `HCAL_UNARY_*` code of `u`.
fn unary_code(u: hcal_core::UnaryOp) -> u32 {
    use hcal_core::UnaryOp as U;
    match u {
        U::Relu => HCAL_UNARY_RELU,
        U::Sigmoid => HCAL_UNARY_SIGMOID,
        U::Silu => HCAL_UNARY_SILU,
        U::Exp => HCAL_UNARY_EXP,
        U::Tanh => HCAL_UNARY_TANH,
        U::Neg => HCAL_UNARY_NEG,
        U::Sqrt => HCAL_UNARY_SQRT,
        U::Reciprocal => HCAL_UNARY_RECIPROCAL,
        U::Abs => HCAL_UNARY_ABS,
        U::Erf => HCAL_UNARY_ERF,
        U::Floor => HCAL_UNARY_FLOOR,
        U::Ceil => HCAL_UNARY_CEIL,
        U::Round => HCAL_UNARY_ROUND,
        U::Not => HCAL_UNARY_NOT,
    }
}

/// `op` in the ABI's terms: every op of the standard has a code (the
/// fused steps since ABI 1.3, see [`abi_1_3_feature`]).
pub(crate) fn encode_op(op: &Op) -> EncodedOp {
    let b = |v: bool| u32::from(v);
    let n = |v: Option<usize>| v.unwrap_or(0) as u64;
    let mut attrs = HcalOpAttrs::default();
    let mut axes_storage = Vec::new();
    let mut perm_storage = Vec::new();
    let mut lists: Vec<Vec<i64>> = Vec::new();
    let mut extents: Vec<u64> = Vec::new();
    // A list's pointer (null when empty): the heap buffer does not move when `lists` grows.
    let mut list = |values: Vec<i64>| {
        let ptr = if values.is_empty() { std::ptr::null() } else { values.as_ptr() };
        lists.push(values);
        ptr
    };
    let kind = match op {
        Op::RmsNormGemm(r) => {
            attrs.rms_norm_gemm =
                HcalOpRmsNormGemm { epsilon: r.epsilon, alpha: r.alpha, beta: r.beta, trans_b: b(r.trans_b) };
            HCAL_OP_RMS_NORM_GEMM
        }
        Op::GatedUnary { activation } => {
            attrs.unary = HcalOpUnary { op: unary_code(*activation) };
            HCAL_OP_GATED_UNARY
        }
        Op::SplitRotaryScatter(r) => {
            attrs.split_rotary_scatter = HcalOpSplitRotaryScatter {
                q_num_heads: r.q_num_heads as u64,
                kv_num_heads: r.kv_num_heads as u64,
                interleaved: b(r.interleaved),
                reserved: 0,
                rotary_embedding_dim: r.rotary_embedding_dim as u64,
            };
            HCAL_OP_SPLIT_ROTARY_SCATTER
        }
        Op::MatMul => HCAL_OP_MATMUL,
        Op::Gemm(g) => {
            attrs.gemm = HcalOpGemm { alpha: g.alpha, beta: g.beta, trans_a: b(g.trans_a), trans_b: b(g.trans_b) };
            HCAL_OP_GEMM
        }
        Op::Softmax { axis } => {
            attrs.softmax = HcalOpSoftmax { axis: *axis };
            HCAL_OP_SOFTMAX
        }
        Op::LayerNormalization { axis, epsilon } => {
            attrs.normalization = HcalOpNormalization { axis: *axis, epsilon: *epsilon, reserved: 0 };
            HCAL_OP_LAYER_NORMALIZATION
        }
        Op::RmsNormalization { axis, epsilon } => {
            attrs.normalization = HcalOpNormalization { axis: *axis, epsilon: *epsilon, reserved: 0 };
            HCAL_OP_RMS_NORMALIZATION
        }
        Op::Attention(a) => {
            attrs.attention = HcalOpAttention {
                is_causal: b(a.is_causal),
                has_scale: b(a.scale.is_some()),
                scale: a.scale.unwrap_or(0.0),
                softcap: a.softcap,
                q_num_heads: n(a.q_num_heads),
                kv_num_heads: n(a.kv_num_heads),
            };
            HCAL_OP_ATTENTION
        }
        Op::RotaryEmbedding(r) => {
            attrs.rotary_embedding = HcalOpRotaryEmbedding {
                interleaved: b(r.interleaved),
                reserved: 0,
                rotary_embedding_dim: r.rotary_embedding_dim as u64,
                num_heads: n(r.num_heads),
            };
            HCAL_OP_ROTARY_EMBEDDING
        }
        Op::Gelu { approximate } => {
            let approximate = match approximate {
                hcal_core::GeluApproximation::None => HCAL_GELU_NONE,
                hcal_core::GeluApproximation::Tanh => HCAL_GELU_TANH,
            };
            attrs.gelu = HcalOpGelu { approximate };
            HCAL_OP_GELU
        }
        Op::Unary(u) => {
            attrs.unary = HcalOpUnary { op: unary_code(*u) };
            HCAL_OP_UNARY
        }
        Op::Binary(bo) => {
            use hcal_core::BinaryOp as B;
            let op = match bo {
                B::Add => HCAL_BINARY_ADD,
                B::Sub => HCAL_BINARY_SUB,
                B::Mul => HCAL_BINARY_MUL,
                B::Div => HCAL_BINARY_DIV,
                B::Max => HCAL_BINARY_MAX,
                B::Min => HCAL_BINARY_MIN,
                B::Pow => HCAL_BINARY_POW,
                B::Equal => HCAL_BINARY_EQUAL,
                B::Less => HCAL_BINARY_LESS,
                B::Greater => HCAL_BINARY_GREATER,
                B::LessOrEqual => HCAL_BINARY_LESS_OR_EQUAL,
                B::GreaterOrEqual => HCAL_BINARY_GREATER_OR_EQUAL,
                B::And => HCAL_BINARY_AND,
                B::Or => HCAL_BINARY_OR,
            };
            attrs.binary = HcalOpBinary { op };
            HCAL_OP_BINARY
        }
        Op::Reduce { op, axes, keepdims } => {
            use hcal_core::ReduceOp as R;
            let code = match op {
                R::Sum => HCAL_REDUCE_SUM,
                R::Mean => HCAL_REDUCE_MEAN,
                R::Max => HCAL_REDUCE_MAX,
                R::Min => HCAL_REDUCE_MIN,
                R::Prod => HCAL_REDUCE_PROD,
                R::L2 => HCAL_REDUCE_L2,
            };
            axes_storage = axes.clone().unwrap_or_default();
            attrs.reduce = HcalOpReduce {
                op: code,
                keepdims: b(*keepdims),
                has_axes: b(axes.is_some()),
                num_axes: axes_storage.len() as u32,
                axes: if axes_storage.is_empty() { std::ptr::null() } else { axes_storage.as_ptr() },
            };
            HCAL_OP_REDUCE
        }
        Op::Transpose { perm } => {
            perm_storage = perm.iter().flatten().map(|&p| p as u64).collect();
            attrs.transpose = HcalOpTranspose {
                has_perm: b(perm.is_some()),
                num_perm: perm_storage.len() as u32,
                perm: if perm_storage.is_empty() { std::ptr::null() } else { perm_storage.as_ptr() },
            };
            HCAL_OP_TRANSPOSE
        }
        Op::Cast { to } => {
            attrs.cast = HcalOpCast { to: dtype_code(*to) };
            HCAL_OP_CAST
        }
        // along one axis (ABI 1.2)
        Op::ArgMax { axis, keepdims, select_last_index } | Op::ArgMin { axis, keepdims, select_last_index } => {
            attrs.arg_reduce =
                HcalOpArgReduce { axis: *axis, keepdims: b(*keepdims), select_last_index: b(*select_last_index) };
            if matches!(op, Op::ArgMax { .. }) { HCAL_OP_ARG_MAX } else { HCAL_OP_ARG_MIN }
        }
        Op::LogSoftmax { axis } => {
            attrs.softmax = HcalOpSoftmax { axis: *axis };
            HCAL_OP_LOG_SOFTMAX
        }
        Op::CumSum { axis, exclusive, reverse } => {
            attrs.cum_sum = HcalOpCumSum { axis: *axis, exclusive: b(*exclusive), reverse: b(*reverse) };
            HCAL_OP_CUM_SUM
        }
        // ---- data movement (ABI 1.2) ----
        Op::Concat { axis } => {
            attrs.concat = HcalOpConcat { axis: *axis };
            HCAL_OP_CONCAT
        }
        Op::Slice { starts, ends, axes, steps } => {
            attrs.slice = HcalOpSlice {
                num_axes: starts.len() as u32,
                has_axes: b(axes.is_some()),
                has_steps: b(steps.is_some()),
                reserved: 0,
                starts: list(starts.clone()),
                ends: list(ends.clone()),
                axes: list(axes.clone().unwrap_or_default()),
                steps: list(steps.clone().unwrap_or_default()),
            };
            HCAL_OP_SLICE
        }
        Op::Split { axis, parts } => {
            let (equal, num_parts) = match parts {
                hcal_core::SplitParts::Sizes(sizes) => {
                    extents = sizes.iter().map(|&s| s as u64).collect();
                    (false, sizes.len())
                }
                hcal_core::SplitParts::Equal(n) => (true, *n),
            };
            let sizes = if extents.is_empty() { std::ptr::null() } else { extents.as_ptr() };
            attrs.split = HcalOpSplit { axis: *axis, equal: b(equal), num_parts: num_parts as u32, sizes };
            HCAL_OP_SPLIT
        }
        Op::Expand { shape } => {
            extents = shape.iter().map(|&d| d as u64).collect();
            let ptr = if extents.is_empty() { std::ptr::null() } else { extents.as_ptr() };
            attrs.expand = HcalOpExpand { rank: shape.len() as u32, reserved: 0, shape: ptr };
            HCAL_OP_EXPAND
        }
        Op::Reshape { shape } => {
            attrs.reshape = HcalOpReshape { rank: shape.len() as u32, reserved: 0, shape: list(shape.clone()) };
            HCAL_OP_RESHAPE
        }
        Op::Range { start, limit, delta, dtype } => {
            attrs.range =
                HcalOpRange { start: *start, limit: *limit, delta: *delta, dtype: dtype_code(*dtype), reserved: 0 };
            HCAL_OP_RANGE
        }
        Op::Trilu { upper, k } => {
            attrs.trilu = HcalOpTrilu { upper: b(*upper), reserved: 0, k: *k };
            HCAL_OP_TRILU
        }
        // Indexing and KV caches (ABI 1.2).
        Op::Gather { axis } => {
            attrs.gather = HcalOpGather { axis: *axis };
            HCAL_OP_GATHER
        }
        Op::GatherElements { axis } => {
            attrs.gather = HcalOpGather { axis: *axis };
            HCAL_OP_GATHER_ELEMENTS
        }
        Op::TensorScatter { axis, mode } => {
            let mode = match mode {
                hcal_core::ScatterMode::Linear => HCAL_SCATTER_LINEAR,
                hcal_core::ScatterMode::Circular => HCAL_SCATTER_CIRCULAR,
            };
            attrs.tensor_scatter = HcalOpTensorScatter { axis: *axis, mode, reserved: 0 };
            HCAL_OP_TENSOR_SCATTER
        }
        // ---- ABI 1.2, elementwise with attributes, clipping and selection (ops-elementwise) ----
        Op::LeakyRelu { alpha } => {
            attrs.leaky_relu = HcalOpLeakyRelu { alpha: *alpha };
            HCAL_OP_LEAKY_RELU
        }
        Op::HardSigmoid { alpha, beta } => {
            attrs.hard_sigmoid = HcalOpHardSigmoid { alpha: *alpha, beta: *beta };
            HCAL_OP_HARD_SIGMOID
        }
        Op::Clip => HCAL_OP_CLIP,
        Op::Where => HCAL_OP_WHERE,
    };
    // The pointers above point into the heap buffers of the Vecs, which do not
    // move when the Vecs move into the EncodedOp.
    EncodedOp {
        op: HcalOp { struct_size: size_of::<HcalOp>() as u32, kind, attrs },
        _axes: axes_storage,
        _perm: perm_storage,
        _lists: lists,
        _extents: extents,
    }
}

/// The name of the op of `signature` if ABI 1.3 added its code (hcal's
/// fused steps): a plugin built for an older minor cannot know it, so it is
/// not asked, and a model falls back to the ops the step stands for.
pub(crate) fn abi_1_3_feature(signature: &OpSignature) -> Option<&'static str> {
    let op = signature.op();
    matches!(op, Op::RmsNormGemm(_) | Op::GatedUnary { .. } | Op::SplitRotaryScatter(_)).then(|| op.name())
}

/// The name of an op, op code or input that ABI 1.2 added, if `signature`
/// uses one: a plugin built for an older minor cannot know its code, so it is
/// not asked.
pub(crate) fn abi_1_2_feature(signature: &OpSignature) -> Option<&'static str> {
    use hcal_core::{BinaryOp as B, ReduceOp as R, UnaryOp as U};
    let op = signature.op();
    let new_op = match op {
        Op::Reduce { op: R::Min | R::Prod | R::L2, .. }
        | Op::ArgMax { .. }
        | Op::ArgMin { .. }
        | Op::LogSoftmax { .. }
        | Op::CumSum { .. }
        | Op::LeakyRelu { .. }
        | Op::HardSigmoid { .. }
        | Op::Clip
        | Op::Where
        | Op::Gather { .. }
        | Op::GatherElements { .. }
        | Op::TensorScatter { .. }
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::Split { .. }
        | Op::Expand { .. }
        | Op::Reshape { .. }
        | Op::Range { .. }
        | Op::Trilu { .. } => true,
        Op::Unary(u) => matches!(u, U::Abs | U::Erf | U::Floor | U::Ceil | U::Round | U::Not),
        Op::Binary(b) => !matches!(b, B::Add | B::Sub | B::Mul | B::Div | B::Max | B::Min),
        _ => false,
    };
    if new_op {
        Some(op.name())
    } else if matches!(op, Op::Attention(_)) && signature.input(ATTENTION_NONPAD_SLOT).is_some() {
        Some("Attention's nonpad_kv_seqlen")
    } else {
        None
    }
}

/// Descriptor arrays with the shape storage they point to.
pub(crate) struct Descs {
    pub(crate) descs: Vec<HcalTensorDesc>,
    _shapes: Vec<Vec<i64>>,
}

impl Descs {
    /// One descriptor per slot (`None`: `HCAL_DTYPE_ABSENT`), padded with
    /// absent slots to `slots`.
    pub(crate) fn new<'a>(items: impl Iterator<Item = Option<&'a TensorDesc>>, slots: usize) -> Result<Self> {
        let mut shapes = Vec::new();
        let mut dtypes = Vec::new();
        for item in items {
            match item {
                Some(d) => {
                    let too_large = || Error::TooLarge { desc: d.to_string() };
                    let shape: Vec<i64> =
                        d.shape.iter().map(|&x| i64::try_from(x).map_err(|_| too_large())).collect::<Result<_>>()?;
                    u32::try_from(shape.len()).map_err(|_| too_large())?;
                    shapes.push(shape);
                    dtypes.push(dtype_code(d.dtype));
                }
                None => {
                    shapes.push(Vec::new());
                    dtypes.push(HCAL_DTYPE_ABSENT);
                }
            }
        }
        while shapes.len() < slots {
            shapes.push(Vec::new());
            dtypes.push(HCAL_DTYPE_ABSENT);
        }
        let descs = shapes
            .iter()
            .zip(dtypes)
            .map(|(s, dtype)| HcalTensorDesc {
                dtype,
                rank: s.len() as u32,
                shape: if s.is_empty() { std::ptr::null() } else { s.as_ptr() },
            })
            .collect();
        Ok(Descs { descs, _shapes: shapes })
    }

    pub(crate) fn len(&self) -> u32 {
        self.descs.len() as u32
    }
}
