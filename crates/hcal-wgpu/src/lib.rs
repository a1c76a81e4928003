//! # hcal-wgpu: the portable GPU backend
//!
//! Every operator of the hcal standard as a WGSL kernel (`shaders/*.wgsl`,
//! one file per family, each module here named like its shader), run through
//! wgpu on Vulkan, Metal, DX12 or GL. Design choices:
//!
//! - Adapters are named `wgpu:<api>:<index>`; `wgpu` picks the best one
//!   ([`adapters`], [`WgpuBackend::open`]). Devices are opened with the
//!   adapter's real limits, not wgpu's defaults.
//! - Kernels compute in f32. f16 and bf16 tensors keep their storage and are
//!   converted by bit-exact conversion kernels around an op (round to nearest
//!   even, inf and NaN kept), so no optional shader feature is needed.
//! - Block-quantized weights (GGML Q4_0, Q4_1, Q8_0) keep their packed
//!   bytes on the device: the products and Cast read the blocks directly
//!   (`shaders/matmul_quant.wgsl`, `matmul/quant.rs`); no f32 copy of a
//!   quantized weight is made.
//! - Pipelines are compiled once per (shader, entry point) and cached;
//!   buffers come from a pool; ops are recorded into one command encoder and
//!   submitted in batches, with all kernel parameters of a batch in one
//!   buffer; only `read` and `sync` wait for the device (and, once per
//!   tensor, the copy of an interleaved quantized weight into a buffer for
//!   an op without a texture form: `packed.rs`).
//! - wgpu validation and out-of-memory errors are caught with error scopes
//!   around every recording and submission, device loss by a callback; all
//!   become hcal [`hcal_core::Error`]s. Signatures beyond a device limit are
//!   declined by `supports` with the limit named.
//! - Tensors larger than one storage binding (`max_storage_buffer_binding_size`,
//!   128 MiB on many devices; buffers may be larger) run in pieces that each
//!   bind windows of their operands (`split.rs`, `matmul/split.rs`): ranges of
//!   elements, blocks of rows, and for products blocks of K chained through
//!   the output (bit-identical to the unsplit product) or, for GEMV, partial
//!   sums added in a fixed order; attention per (batch item, KV head group),
//!   gathers per window of the table, data movement and KV-cache writes per
//!   range of output. Only what no piece fits is declined (see `split.rs`).
//!   The `:bind=<bytes>` suffix plans with a smaller binding, for tests.
//! - Launchers receive the geometry hcal-core resolved when it validated the
//!   call (`Call::geometry`, read in `dispatch.rs`; `OpSignature::geometry`
//!   in `support.rs`) and never derive shapes themselves.
//! - Instruments (`Backend::instruments`): where the adapter offers `TIMESTAMP_QUERY` (lavapipe
//!   does) the device is opened with it, and every compute pass opened between
//!   `begin_timing` and `end_timing` writes timestamps at its beginning and
//!   end; the device time is the sum over those passes. `kernel_variant` names
//!   shader, entry point and a hash of every WGSL source the path runs
//!   (includes and staging kernels too); `run_probe` runs the FMA and copy
//!   microbenchmarks of `shaders/peak.wgsl`.
//! - Kernel parameters are one `#[repr(C)]` struct per family (`params/`),
//!   whose WGSL declaration is generated from the same field list; it and
//!   the shared WGSL pieces of `shaders/include/` are pulled into a kernel
//!   by `// #include <name>` lines.
//! - Backend names may carry pin suffixes (`:baseline`, `:smem`, `:fused`,
//!   `:composed`, `:composedN`, `:split`, `:flash`, `:mm=<kernel>`,
//!   `:bind=<bytes>`, `:buffers`, `:spin`, `:block`; see
//!   [`WgpuBackend::open`]).
//!
//! ```no_run
//! use hcal_core::{Backend, BackendExt, DType, Op, TensorDesc};
//! let gpu = hcal_wgpu::WgpuBackend::open("wgpu")?;
//! let x = gpu.alloc(&TensorDesc::new([4], DType::F32))?;
//! gpu.write(&x, bytemuck::cast_slice(&[1f32, 2., 3., 4.]))?;
//! let y = gpu.alloc(x.desc())?;
//! gpu.run(&Op::Softmax { axis: 0 }, &[&x], &[&y])?;
//! let p: Vec<f32> = bytemuck::cast_slice(&gpu.read(&y)?).to_vec();
//! assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
//! # Ok::<(), hcal_core::Error>(())
//! ```

mod adapter;
mod along_axis;
mod along_axis_segments;
mod attention;
mod attention_decode;
mod attention_flash;
mod attention_pieces;
mod autotune;
mod backend;
mod binary;
mod block_layout;
mod convert;
mod ctx;
mod dispatch;
mod gather;
mod gl_turn;
mod gpu;
mod kernel_names;
mod long_rows;
mod matmul;
mod memory;
mod movement;
mod native_f16;
mod norm;
mod packed;
mod params;
mod peak;
mod pins;
mod pipeline;
mod qkv_cache;
mod record;
mod reduce;
mod reduce_partial;
mod rotary;
mod scatter;
mod select;
mod softmax;
mod split;
mod support;
mod template;
mod transpose;
mod unary;

pub use adapter::{AdapterEntry, adapters, resolve};
pub use backend::WgpuBackend;
pub use memory::MemoryReport;

/// Names of every adapter found (`wgpu:vulkan:0`, ...), for registries.
pub fn adapter_names() -> Vec<String> {
    adapters().into_iter().map(|a| a.name).collect()
}

/// The WGSL source of every kernel family, by name, with its
/// `// #include <...>` pieces in place (for checksums in reports: the text
/// covers everything the family compiles, templates before expansion).
pub fn shader_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    pipeline::family_sources().iter().map(|(name, text)| (*name, text.as_str()))
}

/// Every template expansion the kernels may compile (`matmul_tiled` and
/// `matmul_texture` tile variants, `attention_flash` head sizes, each in its
/// f32 and f16 storage forms), both storage forms of the plain shaders
/// that have them (`matmul_stage`) and the unary and binary kernels
/// specialized per op code, named, so tests can validate them without an
/// adapter.
pub fn template_expansions() -> Vec<(String, String)> {
    let mut all = matmul::expansions();
    all.extend(attention_flash::expansions());
    all.extend(attention_decode::expansions());
    all.extend(matmul::quant_variant::expansions());
    all.extend(gather::expansions());
    all.extend(unary::specializations());
    all.extend(binary::specializations());
    all.extend(pipeline::storage_forms());
    all
}

/// The name of every matmul kernel, as `:mm=<name>` backend suffixes pin them
/// and `hcal bench` reports them (`texture-16x8-wg64x1`, `matmul-4x4`, ...).
///
/// ```
/// assert!(hcal_wgpu::matmul_kernel_names().iter().any(|n| n == "matmul-4x4"));
/// ```
pub fn matmul_kernel_names() -> Vec<String> {
    matmul::path_names()
}
