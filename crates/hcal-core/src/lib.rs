//! # hcal-core: the operator standard
//!
//! Everything a backend and its users agree on, and nothing device specific:
//!
//! - [`DType`] and [`TensorDesc`]: element types and contiguous row-major shapes.
//! - [`Op`]: one variant per operator, ONNX (opset 23) semantics where ONNX
//!   defines the op; ops are plain data (`Clone`, `PartialEq`, serde).
//! - [`infer_outputs`] and [`Call`]: validation and shape inference. This is the
//!   only place shape rules live; a [`Call`] can only be built by validating, and
//!   backends receive `Call`s, so they never re-validate (as `wgpu-core` validates
//!   for `wgpu-hal`). The resolved geometries ([`matmul_geometry`],
//!   [`attention_geometry`], ...) are shared with backends so indexing follows the
//!   same rules.
//! - [`Backend`]: the object-safe trait a vendor implements (info, capability
//!   answer per [`OpSignature`], alloc/write/read/free, execute, sync), and
//!   [`BackendExt::run`] to validate, check support and execute in one call.
//!   Optional hooks with default bodies serve benchmarks: device timing
//!   ([`Backend::begin_timing`] / [`Backend::end_timing`]), the kernel a
//!   signature would run ([`Backend::kernel_variant`]) and peak microbenchmarks
//!   ([`Backend::run_probe`] with a [`Probe`]).
//! - [`Error`]: one error enum; every message names the op and the dims.
//!
//! Design choices:
//! - Inputs and outputs are positional as in ONNX, with `None` for an absent
//!   optional slot, so ONNX models map onto calls one to one.
//! - Outputs are allocated by the caller and must have exactly the inferred
//!   descriptor; they never alias inputs, and kernels never read them.
//! - Floating dtypes are storage formats; accumulation precision is the
//!   backend's (f32 on devices, f64 in the reference) and the conformance
//!   tolerance model accounts for it.
//!
//! ```
//! use hcal_core::{infer_outputs, DType, Op, TensorDesc};
//! let x = TensorDesc::new([2, 8, 64], DType::F16);
//! let y = infer_outputs(&Op::Softmax { axis: -1 }, &[Some(&x)]).unwrap();
//! assert_eq!(y[0], x);
//! ```

mod backend;
mod call;
mod dtype;
mod error;
mod geometry;
mod infer;
mod op;
mod probe;
mod tensor;

pub use backend::{Backend, BackendExt, DeviceInfo, DeviceType, Support};
pub use call::{Call, OpSignature};
pub use dtype::DType;
pub use error::{Error, Result};
pub use geometry::{
    AttentionGeometry, AxisSplit, MatMulGeometry, RotaryGeometry, attention_geometry, broadcast_shapes,
    broadcast_strides, matmul_geometry, norm_split, normalize_axis, reduce_axes, rotary_geometry, softmax_split,
    transpose_perm,
};
pub use infer::infer_outputs;
pub use op::{Attention, BinaryOp, GeluApproximation, Gemm, Op, ReduceOp, RotaryEmbedding, UnaryOp};
pub use probe::{Probe, ProbeWork};
pub use tensor::{Tensor, TensorDesc, TensorId, contiguous_strides};
