//! [`PluginBackend`]: an opened plugin device as an [`hcal_core::Backend`].

// Every Backend method calls through the plugin's C function table with raw
// pointers (device, tensors, descriptor arrays): unsafe by nature. Each block
// states what makes it sound.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::ffi::CString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use hcal_core::{
    Backend, Call, DType, DeviceInfo, DeviceType, Error, Op, OpSignature, Result, Support, Tensor, TensorDesc, TensorId,
};
use libloading::Library;

use crate::abi::*;
use crate::loader::{Loaded, Table, c_text, plugin_error};

/// An hcal backend served by a C plugin: a loaded library and one device
/// opened on it. Made by [`open`](crate::open).
///
/// Every call into the device holds one mutex, as the header's threading
/// contract requires; tensors are the plugin's, mapped from hcal
/// [`TensorId`]s. Dropping the backend destroys the device (which frees every
/// tensor still allocated), then unloads the library.
///
/// ```no_run
/// use hcal_core::{Backend, BackendExt, DType, Op, TensorDesc, UnaryOp};
/// let backend = hcal_plugin::open("./libcref.so".as_ref(), "")?;
/// let desc = TensorDesc::new([4], DType::F32);
/// let (x, y) = (backend.alloc(&desc)?, backend.alloc(&desc)?);
/// backend.write(&x, bytemuck::cast_slice(&[-1f32, 0., 1., 2.]))?;
/// backend.run(&Op::Unary(UnaryOp::Relu), &[&x], &[&y])?;
/// assert_eq!(backend.read(&y)?, bytemuck::cast_slice::<f32, u8>(&[0., 0., 1., 2.]));
/// # Ok::<(), hcal_core::Error>(())
/// ```
pub struct PluginBackend {
    info: DeviceInfo,
    path: PathBuf,
    abi: (u16, u16),
    table: Table,
    state: Mutex<DeviceState>,
    /// Declared last: dropped after `Drop::drop` destroyed the device, so the
    /// code behind `table` stays mapped while anything can call it.
    _library: Library,
}

/// What the mutex guards: the device and the tensors allocated on it.
struct DeviceState {
    device: *mut HcalDevice,
    tensors: HashMap<TensorId, Slot>,
    next_id: u64,
}

struct Slot {
    handle: *mut HcalTensor,
    desc: TensorDesc,
}

// SAFETY: DeviceState holds the plugin's device and tensor pointers. The
// header's threading contract lets a device be called from any thread as long
// as calls into it are serialized; DeviceState only ever lives inside
// PluginBackend's Mutex, which every call into the device holds (Drop has
// `&mut self`). So moving it between threads is sound, and Mutex<DeviceState>
// is then Sync, which makes PluginBackend Send + Sync (its other fields are
// plain data, function pointers and a libloading::Library).
unsafe impl Send for DeviceState {}

impl fmt::Debug for PluginBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginBackend")
            .field("name", &self.info.backend)
            .field("path", &self.path)
            .field("abi", &self.abi)
            .finish_non_exhaustive()
    }
}

/// The status's name, for messages.
fn status_name(status: HcalStatus) -> String {
    match status {
        HCAL_OK => "HCAL_OK".into(),
        HCAL_STATUS_UNSUPPORTED => "HCAL_STATUS_UNSUPPORTED".into(),
        HCAL_STATUS_INVALID_ARGUMENT => "HCAL_STATUS_INVALID_ARGUMENT".into(),
        HCAL_STATUS_OUT_OF_MEMORY => "HCAL_STATUS_OUT_OF_MEMORY".into(),
        HCAL_STATUS_INTERNAL => "HCAL_STATUS_INTERNAL".into(),
        other => format!("status {other}"),
    }
}

fn dtype_code(dtype: DType) -> HcalDtype {
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

fn device_type(code: u32) -> DeviceType {
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
const ATTENTION_NONPAD_SLOT: usize = 6;

/// An [`HcalOp`] with the storage its pointers refer to (reduce axes,
/// transpose permutation), alive as long as this value.
struct EncodedOp {
    op: HcalOp,
    _axes: Vec<i64>,
    _perm: Vec<u64>,
    /// The index lists of the data-movement ops (Slice's four, Reshape's shape).
    _lists: Vec<Vec<i64>>,
    /// Split's sizes, Expand's shape.
    _extents: Vec<u64>,
}

fn encode_op(op: &Op) -> EncodedOp {
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
            use hcal_core::UnaryOp as U;
            let op = match u {
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
            };
            attrs.unary = HcalOpUnary { op };
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

/// The name of an op, op code or input that ABI 1.2 added, if `signature`
/// uses one: a plugin built for an older minor cannot know its code, so it is
/// not asked.
fn abi_1_2_feature(signature: &OpSignature) -> Option<&'static str> {
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
struct Descs {
    descs: Vec<HcalTensorDesc>,
    _shapes: Vec<Vec<i64>>,
}

impl Descs {
    /// One descriptor per slot (`None`: `HCAL_DTYPE_ABSENT`), padded with
    /// absent slots to `slots`.
    fn new<'a>(items: impl Iterator<Item = Option<&'a TensorDesc>>, slots: usize) -> Result<Self> {
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

    fn len(&self) -> u32 {
        self.descs.len() as u32
    }
}

impl PluginBackend {
    /// Open a device on a loaded, checked library.
    pub(crate) fn create(loaded: Loaded, options: &str) -> Result<Self> {
        let Loaded { library, table, name, abi, path } = loaded;
        let options = CString::new(options)
            .map_err(|_| plugin_error(&path, format!("the options {options:?} for {name} contain a NUL byte")))?;
        let mut device: *mut HcalDevice = std::ptr::null_mut();
        // SAFETY: `create` comes from the checked table of the loaded library;
        // `options` is NUL-terminated and outlives the call; `device` is a valid
        // place for the out pointer.
        let status = unsafe { (table.create)(options.as_ptr(), &mut device) };
        if status != HCAL_OK || device.is_null() {
            // SAFETY: last_create_error reports this thread's last failed
            // create; its string is read before any other call into the plugin.
            let message = unsafe { c_text((table.last_create_error)()) }.filter(|m| !m.is_empty());
            let detail = if status == HCAL_OK {
                "create returned HCAL_OK but no device".to_string()
            } else {
                message.unwrap_or_else(|| "(the plugin gave no message)".into())
            };
            return Err(plugin_error(
                &path,
                format!("cannot open a device of {name} ({}): {detail}", status_name(status)),
            ));
        }
        let placeholder = DeviceInfo::new(name.clone(), "", DeviceType::Other, "plugin");
        // From here on, dropping `backend` (on any error below) destroys the device.
        let mut backend = PluginBackend {
            info: placeholder,
            path,
            abi,
            table,
            state: Mutex::new(DeviceState { device, tensors: HashMap::new(), next_id: 1 }),
            _library: library,
        };
        let mut raw = HcalDeviceInfo::default();
        // SAFETY: a live device of this table; `raw` is a valid, initialized
        // hcal_device_info whose struct_size tells the plugin which fields exist.
        let status = unsafe { (table.get_info)(device, &mut raw) };
        if status != HCAL_OK {
            let message = backend.last_error(device);
            return Err(plugin_error(
                &backend.path,
                format!("get_info of {name} failed ({}): {message}", status_name(status)),
            ));
        }
        // SAFETY: the header makes these NULL or NUL-terminated strings owned by
        // the plugin and valid until the device is destroyed; they are copied now.
        let (device_name, vendor, driver) = unsafe { (c_text(raw.name), c_text(raw.vendor), c_text(raw.driver)) };
        let mut info = DeviceInfo::new(name, device_name.unwrap_or_default(), device_type(raw.device_type), "plugin");
        info.vendor = vendor.unwrap_or_default();
        info.driver = driver.unwrap_or_default();
        info.notes.push(format!(
            "loaded from {} (hcal plugin ABI {}.{})",
            backend.path.display(),
            backend.abi.0,
            backend.abi.1
        ));
        backend.info = info;
        Ok(backend)
    }

    /// The path the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `(abi_major, abi_minor)` the plugin was built with.
    pub fn abi_version(&self) -> (u16, u16) {
        self.abi
    }

    /// Input slots the plugin is passed for `op`: all of the op's, except
    /// that a plugin built before ABI 1.2 gets Attention's first 6 (slot 6,
    /// `nonpad_kv_seqlen`, came with 1.2; signatures using it are declined).
    fn input_slots(&self, op: &Op, given: usize) -> usize {
        let (min, max) = op.input_arity();
        // A variadic op (Concat) passes exactly the given inputs.
        let slots = if max == usize::MAX { given.max(min) } else { max };
        if self.abi.1 < 2 && matches!(op, Op::Attention(_)) { slots.min(ATTENTION_NONPAD_SLOT) } else { slots }
    }

    fn backend_name(&self) -> &str {
        &self.info.backend
    }

    fn lock(&self) -> MutexGuard<'_, DeviceState> {
        // Nothing panics while the lock is held with the state half-updated
        // (each mutation is one insert or remove), so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The device's last error message; call with the lock held, right after
    /// the failed call.
    fn last_error(&self, device: *mut HcalDevice) -> String {
        // SAFETY: a live device of this table, under the lock (or during
        // construction, before the backend is shared); the string is valid until
        // the next call into the device and is copied at once.
        let text = unsafe { c_text((self.table.last_error)(device)) };
        text.filter(|m| !m.is_empty()).unwrap_or_else(|| "(the plugin gave no message)".into())
    }

    /// Map a failed status to an error; `what` names the call.
    fn status_error(&self, device: *mut HcalDevice, status: HcalStatus, what: &str, bytes: usize) -> Error {
        let message = self.last_error(device);
        let backend = self.backend_name().to_string();
        match status {
            HCAL_STATUS_OUT_OF_MEMORY => Error::OutOfMemory { backend, bytes, detail: format!("{what}: {message}") },
            _ => Error::Backend { backend, detail: format!("{what} failed ({}): {message}", status_name(status)) },
        }
    }

    fn slot<'s>(&self, state: &'s DeviceState, tensor: &Tensor) -> Result<&'s Slot> {
        state
            .tensors
            .get(&tensor.id())
            .filter(|s| s.desc == *tensor.desc())
            .ok_or_else(|| Error::InvalidTensor { backend: self.backend_name().to_string(), id: tensor.id().0 })
    }
}

impl Backend for PluginBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn supports(&self, signature: &OpSignature) -> Support {
        // A plugin built against ABI 1.0 predates the block-quantized dtype
        // codes (1.1): it cannot know them, so it is not asked.
        if self.abi.1 < 1
            && let Some(d) = signature.inputs().iter().flatten().find(|d| d.dtype.is_quantized())
        {
            return Support::Unsupported(format!(
                "{d}: block-quantized dtypes came with plugin ABI 1.1; this plugin was built for 1.{}",
                self.abi.1
            ));
        }
        if self.abi.1 < 2
            && let Some(what) = abi_1_2_feature(signature)
        {
            return Support::Unsupported(format!(
                "{what} came with plugin ABI 1.2; this plugin was built for 1.{}",
                self.abi.1
            ));
        }
        let op = encode_op(signature.op());
        let slots = self.input_slots(signature.op(), signature.inputs().len());
        let inputs = match Descs::new(signature.inputs().iter().take(slots).map(Option::as_ref), slots) {
            Ok(d) => d,
            Err(e) => return Support::Unsupported(e.to_string()),
        };
        let state = self.lock();
        // SAFETY: a live device of this table, under the lock; `op` and the
        // descriptor array (with the shapes and axes they point to) are valid
        // for the call, `inputs.len()` entries long.
        let status = unsafe { (self.table.supports)(state.device, &op.op, inputs.descs.as_ptr(), inputs.len()) };
        match status {
            HCAL_OK => Support::Native,
            HCAL_STATUS_UNSUPPORTED => Support::Unsupported(self.last_error(state.device)),
            other => Support::Unsupported(format!(
                "the plugin's supports failed ({}): {}",
                status_name(other),
                self.last_error(state.device)
            )),
        }
    }

    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        let bytes = desc.byte_len()?;
        let descs = Descs::new(std::iter::once(Some(desc)), 1)?;
        let mut state = self.lock();
        let mut handle: *mut HcalTensor = std::ptr::null_mut();
        // SAFETY: a live device of this table, under the lock; the descriptor
        // (and its shape) is valid for the call; `handle` is a valid out place.
        let status = unsafe { (self.table.alloc)(state.device, descs.descs.as_ptr(), &mut handle) };
        if status != HCAL_OK {
            return Err(self.status_error(state.device, status, &format!("alloc {desc}"), bytes));
        }
        if handle.is_null() {
            return Err(Error::Backend {
                backend: self.backend_name().to_string(),
                detail: format!("alloc {desc} returned HCAL_OK but no tensor"),
            });
        }
        let id = TensorId(state.next_id);
        state.next_id += 1;
        state.tensors.insert(id, Slot { handle, desc: desc.clone() });
        Ok(Tensor::from_parts(id, desc.clone()))
    }

    fn free(&self, tensor: &Tensor) -> Result<()> {
        let mut state = self.lock();
        self.slot(&state, tensor)?;
        let slot = state.tensors.remove(&tensor.id()).expect("checked just above");
        // SAFETY: a live device of this table, under the lock; `slot.handle`
        // came from this device's alloc and was not freed (it was in the map,
        // and is removed from it now, so it is never used again).
        let status = unsafe { (self.table.free)(state.device, slot.handle) };
        if status != HCAL_OK {
            return Err(self.status_error(state.device, status, &format!("free {}", slot.desc), 0));
        }
        Ok(())
    }

    fn write(&self, tensor: &Tensor, bytes: &[u8]) -> Result<()> {
        let expected = tensor.desc().byte_len()?;
        if bytes.len() != expected {
            return Err(Error::ByteLength {
                what: "write",
                desc: tensor.desc().to_string(),
                expected,
                got: bytes.len(),
            });
        }
        let state = self.lock();
        let slot = self.slot(&state, tensor)?;
        // SAFETY: a live device and tensor of this table, under the lock;
        // `bytes` is readable for exactly the tensor's byte length.
        let status =
            unsafe { (self.table.write)(state.device, slot.handle, bytes.as_ptr().cast(), bytes.len() as u64) };
        if status != HCAL_OK {
            return Err(self.status_error(state.device, status, &format!("write {}", slot.desc), 0));
        }
        Ok(())
    }

    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        let len = tensor.desc().byte_len()?;
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|e| Error::OutOfMemory {
            backend: self.backend_name().to_string(),
            bytes: len,
            detail: format!("host buffer for read: {e}"),
        })?;
        out.resize(len, 0);
        let state = self.lock();
        let slot = self.slot(&state, tensor)?;
        // SAFETY: a live device and tensor of this table, under the lock; `out`
        // is writable for exactly the tensor's byte length.
        let status = unsafe { (self.table.read)(state.device, slot.handle, out.as_mut_ptr().cast(), len as u64) };
        if status != HCAL_OK {
            return Err(self.status_error(state.device, status, &format!("read {}", slot.desc), len));
        }
        Ok(out)
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        let op = call.op();
        let encoded = encode_op(op);
        let in_slots = self.input_slots(op, call.inputs().len());
        if call.inputs().iter().skip(in_slots).any(Option::is_some) {
            return Err(Error::Unsupported {
                op: op.to_string(),
                backend: self.backend_name().to_string(),
                reason: format!("input slot {in_slots} and later came after plugin ABI 1.{}", self.abi.1),
            });
        }
        let out_slots = op.output_arity().max(call.outputs().len());
        let input_descs = Descs::new(call.inputs().iter().take(in_slots).map(|t| t.map(Tensor::desc)), in_slots)?;
        let output_descs = Descs::new(call.outputs().iter().map(|t| t.map(Tensor::desc)), out_slots)?;
        let state = self.lock();
        let handles = |slots: &[Option<&Tensor>], n: usize| -> Result<Vec<*mut HcalTensor>> {
            let mut v = Vec::with_capacity(n);
            for t in slots {
                v.push(match t {
                    Some(t) => self.slot(&state, t)?.handle,
                    None => std::ptr::null_mut(),
                });
            }
            v.resize(n, std::ptr::null_mut());
            Ok(v)
        };
        let inputs = handles(&call.inputs()[..call.inputs().len().min(in_slots)], in_slots)?;
        let outputs = handles(call.outputs(), out_slots)?;
        // SAFETY: a live device of this table, under the lock. `encoded.op`
        // (with its axes/perm storage), both descriptor arrays (with their
        // shapes) and both handle arrays live until the call returns; each
        // handle array has as many entries as its descriptor array (the counts
        // passed), every non-NULL handle is a live tensor of this device whose
        // descriptor matches, and hcal-core validated the call (shapes, no
        // aliasing between outputs and inputs but TensorScatter's in-place
        // present_cache, which the header tells plugins of 1.2 to expect).
        let status = unsafe {
            (self.table.execute)(
                state.device,
                &encoded.op,
                input_descs.descs.as_ptr(),
                inputs.as_ptr(),
                input_descs.len(),
                output_descs.descs.as_ptr(),
                outputs.as_ptr(),
                output_descs.len(),
            )
        };
        match status {
            HCAL_OK => Ok(()),
            HCAL_STATUS_UNSUPPORTED => Err(Error::Unsupported {
                op: op.to_string(),
                backend: self.backend_name().to_string(),
                reason: self.last_error(state.device),
            }),
            other => Err(self.status_error(state.device, other, &format!("execute {}", call.signature()), 0)),
        }
    }

    fn sync(&self) -> Result<()> {
        let state = self.lock();
        // SAFETY: a live device of this table, under the lock.
        let status = unsafe { (self.table.sync)(state.device) };
        if status != HCAL_OK {
            return Err(self.status_error(state.device, status, "sync", 0));
        }
        Ok(())
    }
}

impl Drop for PluginBackend {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !state.device.is_null() {
            // SAFETY: the device is live and nothing else can call into it
            // (`&mut self`); destroy frees every tensor still allocated, so the
            // handles are forgotten with it. The library is unloaded only after
            // this, when `_library` drops.
            unsafe { (self.table.destroy)(state.device) };
            state.device = std::ptr::null_mut();
            state.tensors.clear();
        }
    }
}
