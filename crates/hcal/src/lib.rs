//! # hcal: one operator standard, any chip
//!
//! The crate users depend on. It re-exports the standard ([`hcal_core`]: [`DType`],
//! [`TensorDesc`], [`Op`], the [`Backend`] trait, [`Error`], ...) and adds:
//!
//! - [`open`] / [`available_backends`] / [`register`]: pick a backend by name at run time
//!   (`"cpu"`, every wgpu adapter as `"wgpu:vulkan:0"`, `"wgpu:gl:0"`, ...,
//!   and `"wgpu"` for the best one; `"plugin:PATH"` loads a vendor's C library
//!   through hcal's plugin ABI, and a Rust crate adds its own with [`register`]).
//! - [`Device`] and [`DeviceTensor`]: an owning layer over the handle-based
//!   [`Backend`] API. A `DeviceTensor` knows its device and frees itself on drop.
//! - [`ops`]: typed helpers (`ops::matmul(&a, &b)`, `ops::softmax(&x, -1)`, ...)
//!   that validate the call once ([`OpSignature::new`]), allocate the outputs it
//!   infers and run it with the geometry it resolved;
//!   [`ops::attention_with_cache`] runs Attention with a KV cache (past in, present out).
//! - [`DeviceTensor::reshape`]: the same memory under another shape, no copy.
//!   Tensors are contiguous row-major, so a reshape is descriptor-only and the
//!   standard needs no Reshape op; views share their allocation, freed with the last.
//!
//! Design choices:
//! - The facade adds no semantics: every helper is one [`Op`] value run through
//!   [`BackendExt::run_optional`], so it validates exactly as `hcal-core` does and
//!   means exactly what the op's documentation says.
//! - Host data enters and leaves as `f32` ([`Device::tensor_f32`],
//!   [`DeviceTensor::to_f32`]) or as raw little-endian bytes; f16 and bf16 are
//!   converted with the `half` crate (round to nearest even).
//! - Mixing tensors of two devices in one call is an [`Error::InvalidTensor`],
//!   not a panic.
//!
//! ```
//! use hcal::{ops, Attention, DType, TensorDesc};
//!
//! # fn main() -> hcal::Result<()> {
//! let dev = hcal::Device::open("cpu")?;
//!
//! // Y = A @ B
//! let a = dev.tensor_f32(&[2, 2], &[1., 2., 3., 4.])?;
//! let b = dev.tensor_f32(&[2, 2], &[5., 6., 7., 8.])?;
//! assert_eq!(ops::matmul(&a, &b)?.to_f32()?, [19., 22., 43., 50.]);
//!
//! // Scaled dot-product attention on [batch, heads, seq, head_dim] in f16.
//! let q = dev.tensor_from_f32(TensorDesc::new([1, 2, 4, 8], DType::F16), &[0.25; 64])?;
//! let k = dev.tensor_from_f32(TensorDesc::new([1, 2, 4, 8], DType::F16), &[0.5; 64])?;
//! let v = dev.tensor_from_f32(TensorDesc::new([1, 2, 4, 8], DType::F16), &[1.0; 64])?;
//! let y = ops::attention(&q, &k, &v, Attention { is_causal: true, ..Default::default() })?;
//! assert_eq!(y.shape(), &[1, 2, 4, 8]);
//! assert!(y.to_f32()?.iter().all(|&x| x == 1.0)); // softmax rows sum to 1, V is all ones
//! # Ok(()) }
//! ```

mod device;
pub mod ops;
pub mod profile;
mod registry;

pub use device::{Device, DeviceTensor};
pub use hcal_core::*;
pub use registry::{PLUGINS_ENV, available_backends, listed_plugins, open, register};

/// The README's Rust example, compiled and run as a doctest so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
