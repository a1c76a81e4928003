//! # hcal-core: the operator standard
//!
//! Everything a backend and its users agree on, and nothing device specific:
//!
//! - [`DType`] and [`TensorDesc`]: element types and contiguous row-major shapes.
//! - [`Op`]: one variant per operator, ONNX semantics where ONNX defines the
//!   op (opset 23; Attention and TensorScatter opset 24, Gather and
//!   GatherElements 13); three ops of hcal's own, [`Op::SplitRotaryScatter`],
//!   [`Op::GatedUnary`] and [`Op::RmsNormGemm`], each defined as the ONNX ops
//!   it fuses; ops are plain data (`Clone`, `PartialEq`, serde).
//! - [`OpSignature`] and [`Call`]: validation and shape inference, run once per
//!   call. This is the only place shape rules live; a signature or a call can
//!   only be built by validating, and it keeps the resolved [`Geometry`]
//!   (MatMul's M/N/K and batch strides, Attention's heads and lengths, ...), so
//!   backends receive valid calls with their geometry and never re-validate or
//!   recompute shapes (as `wgpu-core` validates for `wgpu-hal`).
//!   [`infer_outputs`] answers the output descriptors alone.
//! - [`Backend`]: the object-safe trait a vendor implements, nine methods: info,
//!   the capability answer per [`OpSignature`], alloc/free/write/read, execute,
//!   sync, and one optional accessor, [`Backend::instruments`], behind which
//!   sit all the measurement hooks ([`Instruments`]: device timing, the
//!   kernel a signature runs, peak microbenchmarks with a [`Probe`], memory
//!   peak). [`BackendExt::run`] validates, checks support and executes in one
//!   call; [`BackendWrapper`] makes a wrapper that forwards everything it
//!   does not change.
//! - [`Error`]: one error enum; every message names the op and the dims.
//!
//! Design choices:
//! - Inputs and outputs are positional as in ONNX, with `None` for an absent
//!   optional slot, so ONNX models map onto calls one to one.
//! - Outputs are allocated by the caller and must have exactly the inferred
//!   descriptor; they never alias inputs, and kernels never read them, except
//!   where an op declares an in-place update ([`Op::output_may_alias`]:
//!   TensorScatter's `present_cache` may be its `past_cache`, and
//!   SplitRotaryScatter's present caches their past ones, so a KV cache
//!   grows without copies).
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
mod host;
mod infer;
mod instruments;
mod op;
mod probe;
pub mod quant;
mod tensor;
mod wrapper;

pub use backend::{Backend, BackendExt, DeviceInfo, DeviceType, PendingRead, Support};
pub use call::{Call, OpSignature};
pub use dtype::DType;
pub use error::{Error, Result};
pub use geometry::{
    AttentionGeometry, AxisSplit, GemmGeometry, Geometry, MatMulGeometry, RotaryGeometry, attention_geometry,
    broadcast_shapes, broadcast_strides, gemm_geometry, matmul_geometry, norm_split, normalize_axis, reduce_axes,
    rotary_geometry, softmax_split, transpose_perm,
};
// data movement (issue 18)
pub use geometry::{
    StridedView, concat_shape, expand_view, flatten_shape, range_len, reshape_shape, slice_view, split_sizes,
    squeeze_shape, unsqueeze_shape,
};
// Indexing and KV caches.
pub use geometry::{
    GatherElementsGeometry, GatherGeometry, QkvCacheGeometry, ScatterGeometry, gather_elements_geometry,
    gather_geometry, out_of_range_fill, qkv_cache_geometry, resolve_index, scatter_geometry,
};
pub use host::{HOST_BACKEND, host_copy, host_vec, host_vec_with_capacity};
pub use infer::infer_outputs;
pub use instruments::Instruments;
pub use op::{
    Attention, BinaryOp, GeluApproximation, Gemm, Op, ReduceOp, RmsNormGemm, RotaryEmbedding, ScatterMode, SplitParts,
    SplitRotaryScatter, UnaryOp,
};
pub use probe::{Probe, ProbeWork};
pub use tensor::{Tensor, TensorDesc, TensorId, contiguous_strides};
pub use wrapper::BackendWrapper;
