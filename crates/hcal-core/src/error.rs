//! The one error type of the standard.

use crate::DType;

/// Result alias used throughout hcal.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in an hcal call. Each message names the op (or
/// backend) and the offending dims or dtypes, so it alone tells a user what to fix.
///
/// ```
/// use hcal_core::{DType, Op, TensorDesc, infer_outputs};
/// let a = TensorDesc::new([2, 3], DType::F32);
/// let b = TensorDesc::new([4, 5], DType::F32);
/// let err = infer_outputs(&Op::MatMul, &[Some(&a), Some(&b)]).unwrap_err();
/// assert!(err.to_string().contains("MatMul"));
/// assert!(err.to_string().contains("[2, 3]"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Wrong number of inputs or outputs, or a required one missing.
    #[error("{op}: {detail}")]
    Arity {
        /// Op name.
        op: &'static str,
        /// What was expected and what came.
        detail: String,
    },
    /// Shapes that the op's rules reject.
    #[error("{op}: shape mismatch: {detail}")]
    Shape {
        /// Op name.
        op: &'static str,
        /// Which operands, which dims.
        detail: String,
    },
    /// A dtype the op does not accept, or operands whose dtypes disagree.
    #[error("{op}: dtype mismatch: {detail}")]
    DType {
        /// Op name.
        op: &'static str,
        /// Which operands, which dtypes.
        detail: String,
    },
    /// An attribute value outside its domain.
    #[error("{op}: invalid attribute {name}: {detail}")]
    Attribute {
        /// Op name.
        op: &'static str,
        /// Attribute name as ONNX spells it.
        name: &'static str,
        /// The value and the rule it breaks.
        detail: String,
    },
    /// An output handle does not match the inferred output descriptor.
    #[error("{op}: output {index} is {got} but the op produces {expected}")]
    OutputMismatch {
        /// Op name.
        op: &'static str,
        /// Output position.
        index: usize,
        /// Descriptor of the handle passed.
        got: String,
        /// Descriptor shape inference gives.
        expected: String,
    },
    /// The same tensor is passed as an input and an output (kernels may not alias).
    #[error("{op}: tensor {id} is both input {input} and output {output}; outputs must not alias inputs")]
    Aliasing {
        /// Op name.
        op: &'static str,
        /// Tensor id.
        id: u64,
        /// Input position.
        input: usize,
        /// Output position.
        output: usize,
    },
    /// The backend cannot run this op signature.
    #[error("{op} is not supported by backend {backend}: {reason}")]
    Unsupported {
        /// Op name.
        op: String,
        /// Backend name.
        backend: String,
        /// Why.
        reason: String,
    },
    /// A backend name that no registered backend answers to.
    #[error("unknown backend {name:?}; available: {available}")]
    UnknownBackend {
        /// The name asked for.
        name: String,
        /// Comma-separated names that exist.
        available: String,
    },
    /// A tensor handle this backend does not own (freed, or from another backend).
    #[error("backend {backend}: no live tensor with id {id}")]
    InvalidTensor {
        /// Backend name.
        backend: String,
        /// The id.
        id: u64,
    },
    /// A host buffer whose length does not match the tensor.
    #[error("{what}: tensor {desc} holds {expected} bytes, host buffer has {got}")]
    ByteLength {
        /// `write` or `read`.
        what: &'static str,
        /// The tensor.
        desc: String,
        /// Bytes the tensor holds.
        expected: usize,
        /// Bytes offered.
        got: usize,
    },
    /// A tensor whose byte size overflows `usize`.
    #[error("tensor {desc} is too large to address")]
    TooLarge {
        /// The descriptor.
        desc: String,
    },
    /// The device cannot hold the allocation.
    #[error("backend {backend}: out of memory allocating {bytes} bytes: {detail}")]
    OutOfMemory {
        /// Backend name.
        backend: String,
        /// Requested size.
        bytes: usize,
        /// Driver detail.
        detail: String,
    },
    /// A device limit the request exceeds.
    #[error("backend {backend}: {limit} is {max}, request needs {requested}")]
    DeviceLimit {
        /// Backend name.
        backend: String,
        /// Name of the limit.
        limit: &'static str,
        /// The device's value.
        max: u64,
        /// The request's value.
        requested: u64,
    },
    /// The device is gone (driver reset, removed, destroyed); the backend must be reopened.
    #[error("backend {backend}: device lost: {detail}")]
    DeviceLost {
        /// Backend name.
        backend: String,
        /// Driver detail.
        detail: String,
    },
    /// Any other failure reported by a backend's driver.
    #[error("backend {backend}: {detail}")]
    Backend {
        /// Backend name.
        backend: String,
        /// Driver detail.
        detail: String,
    },
    /// A C plugin (a shared library implementing `hcal_plugin.h`) that cannot
    /// be loaded: the file or its entry point is missing, it was built for
    /// another ABI major version, its function table is incomplete, or its
    /// device did not open.
    ///
    /// ```
    /// let err = hcal_core::Error::Plugin { path: "libx.so".into(), detail: "no such file".into() };
    /// assert_eq!(err.to_string(), "plugin libx.so: no such file");
    /// ```
    #[error("plugin {path}: {detail}")]
    Plugin {
        /// The library path as given.
        path: String,
        /// What is wrong and what to do about it.
        detail: String,
    },
    /// Text that does not parse (a dtype, a backend name, a shape spec).
    #[error("cannot parse {what} from {input:?}: expected {expected}")]
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// The text.
        input: String,
        /// What would have parsed.
        expected: String,
    },
}

impl Error {
    pub(crate) fn shape(op: &'static str, detail: impl Into<String>) -> Self {
        Error::Shape { op, detail: detail.into() }
    }

    pub(crate) fn dtype(op: &'static str, detail: impl Into<String>) -> Self {
        Error::DType { op, detail: detail.into() }
    }

    pub(crate) fn attribute(op: &'static str, name: &'static str, detail: impl Into<String>) -> Self {
        Error::Attribute { op, name, detail: detail.into() }
    }

    pub(crate) fn arity(op: &'static str, detail: impl Into<String>) -> Self {
        Error::Arity { op, detail: detail.into() }
    }

    /// A validation error of one step of a fused op, reported as the fused
    /// op's (`op`), the step named in the detail: "RMSNormGemm: (its Gemm)
    /// inner dims differ ...". Other errors pass unchanged.
    pub(crate) fn in_step(self, op: &'static str, step: &str) -> Self {
        let detail = |d: String| format!("(its {step}) {d}");
        match self {
            Error::Shape { detail: d, .. } => Error::Shape { op, detail: detail(d) },
            Error::DType { detail: d, .. } => Error::DType { op, detail: detail(d) },
            Error::Attribute { name, detail: d, .. } => Error::Attribute { op, name, detail: detail(d) },
            Error::Arity { detail: d, .. } => Error::Arity { op, detail: detail(d) },
            other => other,
        }
    }

    pub(crate) fn float_only(op: &'static str, operand: &str, dtype: DType) -> Self {
        Error::dtype(op, format!("{operand} is {dtype}, expected a floating dtype (f32, f16, bf16)"))
    }
}
