//! # hcal-onednn: hcal's operator plugin on Intel oneDNN (CPU)
//!
//! A `cdylib` (`libhcal_onednn.so`) that implements the C plugin ABI of
//! `crates/hcal-plugin/include/hcal_plugin.h` on top of oneDNN 2.x's C API:
//! load it with `--backend plugin:target/release/libhcal_onednn.so` (backend
//! name `onednn`). The work is in `src/onednn.c`; this crate only exports the
//! entry point and builds the C side (`build.rs`).
//!
//! What maps to what:
//!
//! - MatMul, Gemm: oneDNN's matmul primitive (Gemm's transposes as strides,
//!   `alpha` as output scales, `beta * C` as a sum post-op over `C`
//!   broadcast into `Y`);
//! - Softmax: `softmax_v2` (accurate) on any axis; LayerNormalization: layer
//!   normalization over `X` collapsed to `[rows, n]`, with `Scale`/`B`
//!   broadcast to `n` and converted to f32 (`use_scale | use_shift`);
//! - Gelu and the unary ops: eltwise (`gelu_erf`, `gelu_tanh`, `relu`,
//!   `logistic`, `swish` with alpha 1, `exp`, `tanh`, `linear` with alpha -1,
//!   `sqrt`, `pow` with alpha 1 beta -1);
//! - binary ops: the binary primitive, `B` broadcast by oneDNN, a broadcast
//!   `A` materialized in `Y` first;
//! - ReduceSum/Mean/Max: the reduction primitive (empty sets give the
//!   standard's identities without calling oneDNN);
//! - Transpose and Cast among f32/f16/bf16 (and bool to floats): reorders.
//!
//! Declined with a reason: RMSNormalization, Attention and RotaryEmbedding
//! (oneDNN 2.6 has no such primitive), Cast to bool or from/to i64, and
//! every signature oneDNN itself has no CPU implementation for (its
//! `dnnl_unimplemented`, named with the dtype).
//!
//! Without oneDNN installed the crate still builds: the entry point then
//! returns NULL (see `build.rs`).

use std::ffi::c_void;

// The C side: returns the plugin's static `hcal_plugin_api` table, or NULL
// when built as a stub without oneDNN. Declaring a foreign function is
// `unsafe` (the workspace denies it by default): this is the plugin boundary.
#[allow(unsafe_code)]
unsafe extern "C" {
    fn hcal_onednn_api() -> *const c_void;
}

/// The plugin's entry point (`HCAL_PLUGIN_ENTRY_POINT`): a pointer to its
/// `hcal_plugin_api` table, valid while the library is loaded, or NULL when
/// this build has no oneDNN.
// Exporting an unmangled symbol and calling into C need `unsafe`, which the
// workspace denies by default; this crate's whole purpose is that boundary.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn hcal_plugin_get_api() -> *const c_void {
    // SAFETY: `hcal_onednn_api` takes no arguments, touches no Rust state and
    // returns a pointer to a static table (or NULL); it is always safe to call.
    unsafe { hcal_onednn_api() }
}
