//! `#[repr(C)]` mirrors of every definition of `include/hcal_plugin.h`.
//!
//! Names follow Rust conventions (`hcal_tensor_desc` is [`HcalTensorDesc`]);
//! constants keep their C names. The layout test (`tests/abi_layout.rs`)
//! compiles the header with the system C compiler and checks every size,
//! field offset and constant against this module, so the two cannot drift.
//!
//! Function pointers are `Option<unsafe extern "C" fn(..)>`: a NULL pointer in
//! the plugin's table reads as `None`, which the loader rejects for every
//! function of the v1 table.

// The ops as data (kinds and attribute structs), and the device, tensor and
// function-table definitions; every item is re-exported here, so plugins
// name them all as `hcal_plugin::abi::X`.
mod ops;
mod table;

pub use ops::*;
pub use table::*;

// ---- version -----------------------------------------------------------------

/// `HCAL_PLUGIN_ABI_MAJOR`: the ABI major version this host speaks.
pub const HCAL_PLUGIN_ABI_MAJOR: u16 = 1;
/// `HCAL_PLUGIN_ABI_MINOR`: the ABI minor version of this header.
pub const HCAL_PLUGIN_ABI_MINOR: u16 = 3;
/// `HCAL_PLUGIN_ENTRY_POINT`: the symbol every plugin exports (without the NUL).
pub const HCAL_PLUGIN_ENTRY_POINT: &str = "hcal_plugin_get_api";

// ---- status codes -------------------------------------------------------------

/// `hcal_status`: the result of every call into a plugin.
pub type HcalStatus = i32;
/// Success.
pub const HCAL_OK: HcalStatus = 0;
/// The plugin does not run this op signature or call; `last_error` says why.
pub const HCAL_STATUS_UNSUPPORTED: HcalStatus = 1;
/// An argument the plugin cannot accept (a wrong byte length, a bad handle).
pub const HCAL_STATUS_INVALID_ARGUMENT: HcalStatus = 2;
/// Device or host memory ran out.
pub const HCAL_STATUS_OUT_OF_MEMORY: HcalStatus = 3;
/// Anything else the device or library reports.
pub const HCAL_STATUS_INTERNAL: HcalStatus = 4;

// ---- dtypes and tensor descriptors -------------------------------------------------

/// `hcal_dtype`: an element type code.
pub type HcalDtype = u32;
/// An absent optional input or output slot.
pub const HCAL_DTYPE_ABSENT: HcalDtype = 0;
/// IEEE binary32.
pub const HCAL_DTYPE_F32: HcalDtype = 1;
/// IEEE binary16.
pub const HCAL_DTYPE_F16: HcalDtype = 2;
/// bfloat16.
pub const HCAL_DTYPE_BF16: HcalDtype = 3;
/// One byte, 0 or 1.
pub const HCAL_DTYPE_BOOL: HcalDtype = 4;
/// Two's complement 64-bit integer.
pub const HCAL_DTYPE_I64: HcalDtype = 5;
/// GGML Q4_0 blocks along the last dim (ABI 1.1; see `hcal_core::quant`).
pub const HCAL_DTYPE_Q4_0: HcalDtype = 6;
/// GGML Q4_1 blocks along the last dim (ABI 1.1).
pub const HCAL_DTYPE_Q4_1: HcalDtype = 7;
/// GGML Q8_0 blocks along the last dim (ABI 1.1).
pub const HCAL_DTYPE_Q8_0: HcalDtype = 8;

/// `hcal_tensor_desc`: shape and dtype of a contiguous row-major tensor.
/// `shape` points to `rank` extents owned by the caller for the duration of
/// the call (NULL allowed for rank 0).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalTensorDesc {
    /// `HCAL_DTYPE_*`.
    pub dtype: HcalDtype,
    /// Number of dimensions.
    pub rank: u32,
    /// `rank` extents, outermost first.
    pub shape: *const i64,
}
