//! Devices, tensors, device info and the function table a plugin exports.

use std::ffi::c_char;

use super::{HcalOp, HcalStatus, HcalTensorDesc};

// ---- devices and tensors ----------------------------------------------------------------

/// `hcal_device`: a plugin's device, opaque to the host.
#[repr(C)]
pub struct HcalDevice {
    _opaque: [u8; 0],
    _not_send_sync: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// `hcal_tensor`: a tensor on a plugin's device, opaque to the host.
#[repr(C)]
pub struct HcalTensor {
    _opaque: [u8; 0],
    _not_send_sync: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// A CPU.
pub const HCAL_DEVICE_CPU: u32 = 0;
/// A discrete GPU or accelerator.
pub const HCAL_DEVICE_DISCRETE_GPU: u32 = 1;
/// A GPU sharing memory with the host.
pub const HCAL_DEVICE_INTEGRATED_GPU: u32 = 2;
/// A virtualized GPU.
pub const HCAL_DEVICE_VIRTUAL_GPU: u32 = 3;
/// A software GPU.
pub const HCAL_DEVICE_SOFTWARE_GPU: u32 = 4;
/// Anything else.
pub const HCAL_DEVICE_OTHER: u32 = 5;

/// `hcal_device_info`: facts for reports. Strings are NUL-terminated UTF-8
/// owned by the plugin, valid until the device is destroyed (NULL reads as empty).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalDeviceInfo {
    /// Filled by the host: `sizeof(hcal_device_info)` it knows.
    pub struct_size: u32,
    /// `HCAL_DEVICE_*`.
    pub device_type: u32,
    /// The device, as its driver names it.
    pub name: *const c_char,
    /// Vendor.
    pub vendor: *const c_char,
    /// Library name and version.
    pub driver: *const c_char,
}

impl Default for HcalDeviceInfo {
    /// `struct_size` set to this host's size, every pointer NULL.
    fn default() -> Self {
        HcalDeviceInfo {
            struct_size: size_of::<HcalDeviceInfo>() as u32,
            device_type: HCAL_DEVICE_OTHER,
            name: std::ptr::null(),
            vendor: std::ptr::null(),
            driver: std::ptr::null(),
        }
    }
}

// ---- the function table ------------------------------------------------------------------

/// `create(options, out)`: open a device.
pub type HcalCreateFn = unsafe extern "C" fn(options: *const c_char, out: *mut *mut HcalDevice) -> HcalStatus;
/// `last_create_error()`: the message of the last failed create on this thread.
pub type HcalLastCreateErrorFn = unsafe extern "C" fn() -> *const c_char;
/// `destroy(device)`: close a device and free its tensors.
pub type HcalDestroyFn = unsafe extern "C" fn(device: *mut HcalDevice);
/// `last_error(device)`: the message of the last failed call into `device`.
pub type HcalLastErrorFn = unsafe extern "C" fn(device: *mut HcalDevice) -> *const c_char;
/// `get_info(device, out)`.
pub type HcalGetInfoFn = unsafe extern "C" fn(device: *mut HcalDevice, out: *mut HcalDeviceInfo) -> HcalStatus;
/// `supports(device, op, inputs, num_inputs)`.
pub type HcalSupportsFn = unsafe extern "C" fn(
    device: *mut HcalDevice,
    op: *const HcalOp,
    inputs: *const HcalTensorDesc,
    num_inputs: u32,
) -> HcalStatus;
/// `alloc(device, desc, out)`.
pub type HcalAllocFn =
    unsafe extern "C" fn(device: *mut HcalDevice, desc: *const HcalTensorDesc, out: *mut *mut HcalTensor) -> HcalStatus;
/// `free(device, tensor)`.
pub type HcalFreeFn = unsafe extern "C" fn(device: *mut HcalDevice, tensor: *mut HcalTensor) -> HcalStatus;
/// `write(device, tensor, data, bytes)`.
pub type HcalWriteFn = unsafe extern "C" fn(
    device: *mut HcalDevice,
    tensor: *mut HcalTensor,
    data: *const std::ffi::c_void,
    bytes: u64,
) -> HcalStatus;
/// `read(device, tensor, data, bytes)`.
pub type HcalReadFn = unsafe extern "C" fn(
    device: *mut HcalDevice,
    tensor: *mut HcalTensor,
    data: *mut std::ffi::c_void,
    bytes: u64,
) -> HcalStatus;
/// `execute(device, op, input_descs, inputs, num_inputs, output_descs, outputs, num_outputs)`.
pub type HcalExecuteFn = unsafe extern "C" fn(
    device: *mut HcalDevice,
    op: *const HcalOp,
    input_descs: *const HcalTensorDesc,
    inputs: *const *mut HcalTensor,
    num_inputs: u32,
    output_descs: *const HcalTensorDesc,
    outputs: *const *mut HcalTensor,
    num_outputs: u32,
) -> HcalStatus;
/// `sync(device)`.
pub type HcalSyncFn = unsafe extern "C" fn(device: *mut HcalDevice) -> HcalStatus;

/// `hcal_plugin_api`: the table a plugin's entry point returns. A host reads
/// only the fields inside the plugin's `struct_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HcalPluginApi {
    /// `sizeof(hcal_plugin_api)` the plugin was built with.
    pub struct_size: u32,
    /// `HCAL_PLUGIN_ABI_MAJOR` the plugin was built with.
    pub abi_major: u16,
    /// `HCAL_PLUGIN_ABI_MINOR` the plugin was built with.
    pub abi_minor: u16,
    /// The backend name (lowercase ASCII letters, digits, `-`, `_`), static storage.
    pub name: *const c_char,
    /// Open a device.
    pub create: Option<HcalCreateFn>,
    /// The message of the last failed create on this thread.
    pub last_create_error: Option<HcalLastCreateErrorFn>,
    /// Close a device.
    pub destroy: Option<HcalDestroyFn>,
    /// The message of the last failed call into a device.
    pub last_error: Option<HcalLastErrorFn>,
    /// Device facts.
    pub get_info: Option<HcalGetInfoFn>,
    /// Capability query.
    pub supports: Option<HcalSupportsFn>,
    /// Allocate a tensor.
    pub alloc: Option<HcalAllocFn>,
    /// Free a tensor.
    pub free: Option<HcalFreeFn>,
    /// Copy bytes in.
    pub write: Option<HcalWriteFn>,
    /// Copy bytes out.
    pub read: Option<HcalReadFn>,
    /// Run a validated call.
    pub execute: Option<HcalExecuteFn>,
    /// Wait for all enqueued work.
    pub sync: Option<HcalSyncFn>,
}

/// `hcal_plugin_get_api_fn`: the type of the exported entry point.
pub type HcalPluginGetApiFn = unsafe extern "C" fn() -> *const HcalPluginApi;
