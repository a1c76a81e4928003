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
    Backend, Call, DeviceInfo, DeviceType, Error, Op, OpSignature, Result, Support, Tensor, TensorDesc, TensorId,
};
use libloading::Library;

use crate::abi::*;
use crate::encode::{
    ATTENTION_NONPAD_SLOT, Descs, abi_1_2_feature, abi_1_3_feature, device_type, encode_op, status_name,
};
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
        if self.abi.1 < 3
            && let Some(what) = abi_1_3_feature(signature)
        {
            return Support::Unsupported(format!(
                "{what} came with plugin ABI 1.3; this plugin was built for 1.{} (the ops it stands for run instead where a model asks)",
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
