//! # hcal-plugin: operator libraries as hcal backends, through a C ABI
//!
//! A vendor ships its kernels as a shared library (`.so`, `.dylib`, `.dll`)
//! built against the C header [`include/hcal_plugin.h`](HEADER) (the
//! contract: op semantics, threading, errors, versioning). The library
//! exports one symbol, `hcal_plugin_get_api`, returning a table of function
//! pointers; [`open`] turns it into a [`PluginBackend`], an ordinary
//! [`hcal_core::Backend`] that `hcal conformance` certifies and `hcal bench`
//! times under the name the plugin gives itself.
//!
//! The loader ([`open`], [`plugin_name`]):
//!
//! 1. loads the library with `libloading` (the library stays loaded as long
//!    as the backend, so the table's code does);
//! 2. finds `hcal_plugin_get_api` and calls it;
//! 3. refuses, with an [`hcal_core::Error::Plugin`] naming the path, a NULL
//!    table, an `abi_major` other than [`abi::HCAL_PLUGIN_ABI_MAJOR`] (the
//!    message names both versions), a table smaller than ABI 1's, NULL
//!    function pointers and a name that is not lowercase ASCII letters,
//!    digits, `-` and `_`;
//! 4. ([`open`] only) creates a device with the caller's options and reads
//!    its [`DeviceInfo`](hcal_core::DeviceInfo) (`api` is `"plugin"`, a note
//!    names the path).
//!
//! The backend serializes every call into its device with a mutex (the
//! header's threading contract), passes each op as an `hcal_op` tagged union
//! and each tensor as an `hcal_tensor_desc` (input and output slots padded
//! to the op's full arity with `HCAL_DTYPE_ABSENT`), and maps statuses to
//! errors: `HCAL_STATUS_UNSUPPORTED` is [`Support::Unsupported`] with the
//! plugin's reason in `supports` and [`Error::Unsupported`] in `execute`,
//! `HCAL_STATUS_OUT_OF_MEMORY` is [`Error::OutOfMemory`], anything else is
//! [`Error::Backend`] with the plugin's `last_error` text.
//!
//! [`abi`] mirrors every definition of the header; a test compiles the header
//! with the system C compiler and checks every size, offset and constant.
//!
//! ```no_run
//! use hcal_core::Backend;
//! let path = std::path::Path::new("/opt/vendor/libhcal_vendor.so");
//! println!("{} is plugin {}", path.display(), hcal_plugin::plugin_name(path)?);
//! let backend = hcal_plugin::open(path, "")?;
//! let report = hcal_conformance::run(&backend, &hcal_conformance::Filter::default());
//! println!("{}", report.table());
//! # Ok::<(), hcal_core::Error>(())
//! ```
//!
//! [`Support::Unsupported`]: hcal_core::Support::Unsupported
//! [`Error::Unsupported`]: hcal_core::Error::Unsupported
//! [`Error::OutOfMemory`]: hcal_core::Error::OutOfMemory
//! [`Error::Backend`]: hcal_core::Error::Backend

pub mod abi;
mod backend;
mod encode;
mod loader;

pub use backend::PluginBackend;
pub use loader::{open, plugin_name};

/// The text of `include/hcal_plugin.h`, the C contract a plugin is built
/// against (for tools that hand it to vendors).
///
/// ```
/// assert!(hcal_plugin::HEADER.contains("hcal_plugin_get_api"));
/// ```
pub const HEADER: &str = include_str!("../include/hcal_plugin.h");

/// The C test plugins of `tests/plugins/`, built by this crate's build script
/// into its `OUT_DIR` on the build machine: paths for tests elsewhere in the
/// workspace (crash isolation, the CLI). `None` where no C compiler worked.
///
/// ```
/// if let Some(path) = hcal_plugin::test_plugins::reference() {
///     assert_eq!(hcal_plugin::plugin_name(path).unwrap(), "cref");
/// }
/// ```
pub mod test_plugins {
    use std::path::Path;

    fn path(built: &'static str) -> Option<&'static Path> {
        (!built.is_empty()).then(|| Path::new(built))
    }

    /// `reference.c`, plugin `cref`: correct f32 MatMul (rank 2), Add, Sub,
    /// Mul, Div (broadcasting), Relu, Sigmoid, Silu, Tanh, Exp, Neg, Abs,
    /// Erf, Floor, Ceil, Round, Softmax (last axis), and since ABI 1.3
    /// GatedUnary (those activations), RMSNormGemm (rank 2, C of [M, N]) and
    /// SplitRotaryScatter;
    /// declines the rest with a reason.
    pub fn reference() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_CREF"))
    }

    /// `broken.c`, plugin `cbroken`: the reference with faults. Add computes
    /// `a - b`, Mul writes a NaN into element 0, Exp dereferences NULL
    /// (SIGSEGV), Tanh never returns, Relu calls `abort()`. Run Exp, Tanh and
    /// Relu only in a child process.
    pub fn broken() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_CBROKEN"))
    }

    /// The reference plugin built to report `abi_major` 2 (refused by the loader).
    pub fn abi2() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_ABI2"))
    }

    /// The reference plugin built to report ABI 1.1 (not asked about the ops of 1.2).
    pub fn abi_1_1() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_ABI11"))
    }

    /// The reference plugin built to report ABI 1.2 (not asked about hcal's
    /// fused steps, which 1.3 added).
    pub fn abi_1_2() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_ABI12"))
    }

    /// A shared library without `hcal_plugin_get_api` (refused by the loader).
    pub fn no_symbol() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_NOSYMBOL"))
    }

    /// `chaos.c`, plugin `chaos`: every answer (the function table itself,
    /// create, get_info, last_error, the status codes, alloc's handle, what
    /// read and execute write) is chosen by a byte script set through its
    /// exported `void hcal_chaos_set_script(const uint8_t *, size_t)`; an
    /// exhausted script behaves. The `plugin_abi` fuzz target drives it: the
    /// loader must turn every malformed answer into an error.
    pub fn chaos() -> Option<&'static Path> {
        path(env!("HCAL_TEST_PLUGIN_CHAOS"))
    }
}
