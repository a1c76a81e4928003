//! Loading a plugin library and checking its function table.
//!
//! Every check that can fail does so here, before a device exists: the file,
//! the entry point, a NULL table, the ABI major version, the table's size, its
//! name and its function pointers. Each failure is an [`Error::Plugin`] that
//! names the path and says what to do.

// This module calls into C (dlopen, the plugin's entry point) and reads the
// table the plugin returns: unsafe by nature. Every block states its contract.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char};
use std::path::{Path, PathBuf};

use hcal_core::{Error, Result};
use libloading::Library;

use crate::abi::{
    HCAL_PLUGIN_ABI_MAJOR, HCAL_PLUGIN_ABI_MINOR, HCAL_PLUGIN_ENTRY_POINT, HcalAllocFn, HcalCreateFn, HcalDestroyFn,
    HcalExecuteFn, HcalFreeFn, HcalGetInfoFn, HcalLastCreateErrorFn, HcalLastErrorFn, HcalPluginApi,
    HcalPluginGetApiFn, HcalReadFn, HcalSupportsFn, HcalSyncFn, HcalWriteFn,
};
use crate::backend::PluginBackend;

/// Where the header lives in hcal's source tree, for error messages.
pub(crate) const HEADER_PATH: &str = "crates/hcal-plugin/include/hcal_plugin.h";

/// The v1 function table with every pointer checked non-NULL.
#[derive(Clone, Copy)]
pub(crate) struct Table {
    pub create: HcalCreateFn,
    pub last_create_error: HcalLastCreateErrorFn,
    pub destroy: HcalDestroyFn,
    pub last_error: HcalLastErrorFn,
    pub get_info: HcalGetInfoFn,
    pub supports: HcalSupportsFn,
    pub alloc: HcalAllocFn,
    pub free: HcalFreeFn,
    pub write: HcalWriteFn,
    pub read: HcalReadFn,
    pub execute: HcalExecuteFn,
    pub sync: HcalSyncFn,
}

/// A loaded library whose table passed every check.
pub(crate) struct Loaded {
    /// Keeps the code behind `table` mapped.
    pub library: Library,
    pub table: Table,
    pub name: String,
    pub abi: (u16, u16),
    pub path: PathBuf,
}

pub(crate) fn plugin_error(path: &Path, detail: impl Into<String>) -> Error {
    Error::Plugin { path: path.display().to_string(), detail: detail.into() }
}

/// Load the library at `path` and check its table (no device is created).
pub(crate) fn load(path: &Path) -> Result<Loaded> {
    // SAFETY: loading a library runs its initializers; a plugin is code the
    // user chose to run in this process (as with any native extension), and
    // hcal-conformance runs untrusted plugins in a child process.
    let library = unsafe { Library::new(path) }.map_err(|e| {
        if !path.exists() && path.components().count() > 1 {
            plugin_error(path, "no such file (pass the path of a shared library that exports hcal_plugin_get_api)")
        } else {
            plugin_error(path, format!("cannot load it as a shared library: {e}"))
        }
    })?;
    let symbol = format!("{HCAL_PLUGIN_ENTRY_POINT}\0");
    // SAFETY: the header defines the entry point's type as
    // `const hcal_plugin_api *(*)(void)`, which HcalPluginGetApiFn mirrors.
    // The function pointer is copied out of the Symbol, but it is only ever
    // called while `library` is alive (below, and never again).
    let get_api: HcalPluginGetApiFn =
        unsafe { library.get::<HcalPluginGetApiFn>(symbol.as_bytes()) }.map(|s| *s).map_err(|_| {
            plugin_error(
                path,
                format!(
                    "does not export {HCAL_PLUGIN_ENTRY_POINT}, so it is not an hcal plugin \
                     (a plugin defines `const hcal_plugin_api *{HCAL_PLUGIN_ENTRY_POINT}(void)`; see {HEADER_PATH})"
                ),
            )
        })?;
    // SAFETY: calling the entry point as the header defines it (no arguments).
    let api: *const HcalPluginApi = unsafe { get_api() };
    if api.is_null() {
        return Err(plugin_error(
            path,
            format!(
                "{HCAL_PLUGIN_ENTRY_POINT} returned NULL: the plugin cannot serve this process (a library it needs may be missing)"
            ),
        ));
    }
    // SAFETY: `api` is non-NULL and points to the plugin's table, which lives
    // as long as the library. `struct_size`, `abi_major` and `abi_minor` are
    // the first 8 bytes of the table in every ABI version; reading them
    // through the raw pointer reads those fields only.
    let (struct_size, abi_major, abi_minor) = unsafe { ((*api).struct_size, (*api).abi_major, (*api).abi_minor) };
    if abi_major != HCAL_PLUGIN_ABI_MAJOR {
        return Err(plugin_error(
            path,
            format!(
                "was built for hcal plugin ABI {abi_major}, this hcal speaks ABI {HCAL_PLUGIN_ABI_MAJOR}; rebuild it against {HEADER_PATH}"
            ),
        ));
    }
    let v1_size = size_of::<HcalPluginApi>();
    if (struct_size as usize) < v1_size {
        return Err(plugin_error(
            path,
            format!(
                "its function table is {struct_size} bytes, smaller than the {v1_size} bytes of ABI \
                 {HCAL_PLUGIN_ABI_MAJOR}.0 (struct_size must be sizeof(hcal_plugin_api)); rebuild it against {HEADER_PATH}"
            ),
        ));
    }
    // SAFETY: the plugin declares (struct_size) a table at least as large as
    // the v1 table, so reading the v1 prefix stays inside it; every field is a
    // plain integer, a pointer or an Option of a function pointer, for which
    // any bit pattern the C side can produce (including NULL) is valid.
    let raw: HcalPluginApi = unsafe { std::ptr::read(api) };
    let name = if raw.name.is_null() {
        return Err(plugin_error(path, "its table has a NULL name"));
    } else {
        // SAFETY: non-NULL, and the header requires a NUL-terminated string in
        // static storage.
        let name = unsafe { CStr::from_ptr(raw.name) };
        name.to_str().map(str::to_owned).map_err(|_| plugin_error(path, "its name is not UTF-8"))?
    };
    check_name(&name).map_err(|why| plugin_error(path, format!("invalid plugin name {name:?}: {why}")))?;
    let table = table(&raw).map_err(|missing| {
        plugin_error(
            path,
            format!(
                "the table of {name} has NULL pointers for {} (every function of ABI {HCAL_PLUGIN_ABI_MAJOR} is required)",
                missing.join(", ")
            ),
        )
    })?;
    let _ = HCAL_PLUGIN_ABI_MINOR; // Any minor of this major is accepted: the ABI only grows.
    Ok(Loaded { library, table, name, abi: (abi_major, abi_minor), path: path.to_path_buf() })
}

/// Backend names: lowercase ASCII letters, digits, `-` and `_`, not empty.
fn check_name(name: &str) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
        return Err("only lowercase ASCII letters, digits, '-' and '_' are allowed");
    }
    Ok(())
}

/// The non-NULL table, or the names of the NULL entries.
fn table(raw: &HcalPluginApi) -> std::result::Result<Table, Vec<&'static str>> {
    let mut missing = Vec::new();
    fn need<T>(f: Option<T>, name: &'static str, missing: &mut Vec<&'static str>) -> Option<T> {
        if f.is_none() {
            missing.push(name);
        }
        f
    }
    let create = need(raw.create, "create", &mut missing);
    let last_create_error = need(raw.last_create_error, "last_create_error", &mut missing);
    let destroy = need(raw.destroy, "destroy", &mut missing);
    let last_error = need(raw.last_error, "last_error", &mut missing);
    let get_info = need(raw.get_info, "get_info", &mut missing);
    let supports = need(raw.supports, "supports", &mut missing);
    let alloc = need(raw.alloc, "alloc", &mut missing);
    let free = need(raw.free, "free", &mut missing);
    let write = need(raw.write, "write", &mut missing);
    let read = need(raw.read, "read", &mut missing);
    let execute = need(raw.execute, "execute", &mut missing);
    let sync = need(raw.sync, "sync", &mut missing);
    match (create, last_create_error, destroy, last_error, get_info, supports, alloc, free, write, read, execute, sync)
    {
        (
            Some(create),
            Some(last_create_error),
            Some(destroy),
            Some(last_error),
            Some(get_info),
            Some(supports),
            Some(alloc),
            Some(free),
            Some(write),
            Some(read),
            Some(execute),
            Some(sync),
        ) => Ok(Table {
            create,
            last_create_error,
            destroy,
            last_error,
            get_info,
            supports,
            alloc,
            free,
            write,
            read,
            execute,
            sync,
        }),
        _ => Err(missing),
    }
}

/// A C string the plugin returned, as text: `None` for NULL, invalid UTF-8
/// replaced by U+FFFD.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid for
/// the duration of this call.
pub(crate) unsafe fn c_text(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated per this function's contract.
    Some(unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
}

/// Load the plugin at `path` and open a device on it, passing `options` (a
/// plugin-defined string, empty for none) to its `create`.
///
/// ```no_run
/// use hcal_core::Backend;
/// let backend = hcal_plugin::open("/opt/vendor/libhcal_vendor.so".as_ref(), "")?;
/// println!("{} on {}", backend.info().backend, backend.info().name);
/// # Ok::<(), hcal_core::Error>(())
/// ```
///
/// # Errors
/// [`Error::Plugin`] when the library is missing or does not load, lacks
/// `hcal_plugin_get_api`, returns a NULL table, was built for another ABI
/// major version, has a table smaller than ABI 1's or NULL function pointers,
/// has an invalid name, `options` holds a NUL byte, or the device does not
/// open (with the plugin's `last_create_error` text) or describe itself.
pub fn open(path: &Path, options: &str) -> Result<PluginBackend> {
    PluginBackend::create(load(path)?, options)
}

/// The backend name of the plugin at `path`, for listings: loads the library
/// and checks its table as [`open`] does, without creating a device.
///
/// ```no_run
/// let name = hcal_plugin::plugin_name("/opt/vendor/libhcal_vendor.so".as_ref())?;
/// assert!(!name.is_empty());
/// # Ok::<(), hcal_core::Error>(())
/// ```
///
/// # Errors
/// As [`open`], except the device errors.
pub fn plugin_name(path: &Path) -> Result<String> {
    load(path).map(|loaded| loaded.name)
}
