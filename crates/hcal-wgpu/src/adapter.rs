//! Adapter discovery and naming: `wgpu`, `wgpu:vulkan:0`, `wgpu:gl:0`, ...

use std::sync::OnceLock;

use hcal_core::{DeviceType, Error, Result};

/// One adapter wgpu found, with the hcal backend name it answers to.
#[derive(Clone, Debug)]
pub struct AdapterEntry {
    /// `wgpu:<api>:<index>`, the index counting adapters of that API in discovery order.
    pub name: String,
    /// wgpu's description of it.
    pub info: wgpu::AdapterInfo,
    pub(crate) adapter: wgpu::Adapter,
}

/// The process-wide wgpu instance (backends from `WGPU_BACKEND` if set, else all).
pub(crate) fn instance() -> &'static wgpu::Instance {
    static INSTANCE: OnceLock<wgpu::Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env()))
}

/// Lowercase API name used in backend names.
pub(crate) fn api_name(backend: wgpu::Backend) -> &'static str {
    match backend {
        wgpu::Backend::Vulkan => "vulkan",
        wgpu::Backend::Metal => "metal",
        wgpu::Backend::Dx12 => "dx12",
        wgpu::Backend::Gl => "gl",
        wgpu::Backend::BrowserWebGpu => "webgpu",
        _ => "other",
    }
}

/// The hcal device type of a wgpu adapter (CPU-backed "GPUs" such as
/// lavapipe and llvmpipe are software GPUs).
pub(crate) fn device_type(t: wgpu::DeviceType) -> DeviceType {
    match t {
        wgpu::DeviceType::DiscreteGpu => DeviceType::DiscreteGpu,
        wgpu::DeviceType::IntegratedGpu => DeviceType::IntegratedGpu,
        wgpu::DeviceType::VirtualGpu => DeviceType::VirtualGpu,
        wgpu::DeviceType::Cpu => DeviceType::SoftwareGpu,
        wgpu::DeviceType::Other => DeviceType::Other,
    }
}

/// Every adapter on every wgpu backend the platform offers, named
/// `wgpu:<api>:<index>`.
///
/// ```no_run
/// for a in hcal_wgpu::adapters() {
///     println!("{} -> {} ({:?})", a.name, a.info.name, a.info.device_type);
/// }
/// ```
///
/// Discovery runs once per process (it initializes every driver, EGL
/// included, which is slow and not safe to repeat from many threads at once).
pub fn adapters() -> Vec<AdapterEntry> {
    static FOUND: OnceLock<Vec<AdapterEntry>> = OnceLock::new();
    FOUND.get_or_init(discover).clone()
}

fn discover() -> Vec<AdapterEntry> {
    let mut found = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    // A stable order: by API, then as discovered.
    found.sort_by_key(|a| api_name(a.get_info().backend));
    let mut per_api: Vec<(&'static str, usize)> = Vec::new();
    found
        .into_iter()
        .map(|adapter| {
            let info = adapter.get_info();
            let api = api_name(info.backend);
            let index = match per_api.iter_mut().find(|(a, _)| *a == api) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    per_api.push((api, 1));
                    0
                }
            };
            AdapterEntry { name: format!("wgpu:{api}:{index}"), info, adapter }
        })
        .collect()
}

/// Preference when the name is plain `wgpu`: real GPUs first, then Vulkan over GL.
fn rank(entry: &AdapterEntry) -> (u8, u8) {
    let kind = match entry.info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    let api = match entry.info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    };
    (kind, api)
}

/// Find the adapter a backend name means: `wgpu` (the best one) or `wgpu:<api>:<index>`.
///
/// # Errors
/// [`Error::UnknownBackend`] listing the adapters that exist (or saying none does).
pub fn resolve(name: &str) -> Result<AdapterEntry> {
    let all = adapters();
    let found = if name == "wgpu" {
        all.iter().min_by_key(|e| rank(e)).cloned()
    } else {
        all.iter().find(|e| e.name == name).cloned()
    };
    found.ok_or_else(|| {
        let names: Vec<_> = all.iter().map(|e| e.name.clone()).collect();
        Error::UnknownBackend {
            name: name.to_string(),
            available: if names.is_empty() {
                "no wgpu adapter on this machine (install a Vulkan driver, e.g. mesa-vulkan-drivers)".to_string()
            } else {
                names.join(", ")
            },
        }
    })
}
