//! Backends chosen by name at run time: the built-in ones, those a Rust crate
//! registers ([`register`]) and C plugins ([`open`] with `plugin:PATH`, or
//! listed in `HCAL_PLUGINS`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use hcal_core::{Backend, Error, Result};

/// Makes a backend; receives the full name it was asked to open (so a
/// factory can read suffixes of its own, `mychip:1`).
type Factory = Arc<dyn Fn(&str) -> Result<Box<dyn Backend>> + Send + Sync>;

/// Backends registered by Rust crates, in registration order.
static REGISTERED: RwLock<Vec<(String, Factory)>> = RwLock::new(Vec::new());

/// The environment variable listing plugin libraries (`PATH[:PATH]`, `;` on Windows).
pub const PLUGINS_ENV: &str = "HCAL_PLUGINS";

/// Names that belong to hcal's own backends and prefixes.
fn reserved(name: &str) -> bool {
    matches!(name, "cpu" | "wgpu" | "plugin") || name.starts_with("wgpu:") || name.starts_with("plugin:")
}

/// Register a backend under `name`, so [`open`], [`available_backends`] and
/// everything built on them (the `hcal` command when a vendor builds it with
/// its crate linked, `hcal_bench`, the ONNX runner) see it, with no change to
/// hcal. `factory` is called for `name` and for `name:SUFFIX`, with the full
/// name.
///
/// ```
/// use hcal::{Backend, BackendWrapper};
/// /// A backend that is the reference under another name.
/// struct Renamed(hcal_cpu::CpuBackend, hcal::DeviceInfo);
/// impl BackendWrapper for Renamed {
///     fn inner(&self) -> &dyn Backend { &self.0 }
///     fn info(&self) -> &hcal::DeviceInfo { &self.1 }
/// }
/// hcal::register("doc-ref", |name| {
///     let cpu = hcal_cpu::CpuBackend::new();
///     let info = hcal::DeviceInfo { backend: name.to_string(), ..cpu.info().clone() };
///     Ok(Box::new(Renamed(cpu, info)))
/// })?;
/// assert!(hcal::available_backends().contains(&"doc-ref".to_string()));
/// assert_eq!(hcal::open("doc-ref")?.info().backend, "doc-ref");
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// [`Error::Parse`] for a name that is empty, not lowercase ASCII letters,
/// digits, `-` and `_`, one of hcal's own (`cpu`, `wgpu...`, `plugin...`) or
/// already registered.
pub fn register(name: &str, factory: impl Fn(&str) -> Result<Box<dyn Backend>> + Send + Sync + 'static) -> Result<()> {
    let valid = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let mut registered = REGISTERED.write().unwrap_or_else(|p| p.into_inner());
    let problem = if !valid {
        Some("lowercase ASCII letters, digits, '-' and '_'")
    } else if reserved(name) {
        Some("a name other than hcal's own (cpu, wgpu, plugin)")
    } else if registered.iter().any(|(n, _)| n == name) {
        Some("a name not registered yet")
    } else {
        None
    };
    if let Some(expected) = problem {
        return Err(Error::Parse { what: "backend name", input: name.to_string(), expected: expected.to_string() });
    }
    registered.push((name.to_string(), Arc::new(factory)));
    Ok(())
}

/// The plugin libraries listed in `HCAL_PLUGINS`, in order.
fn plugin_paths() -> Vec<PathBuf> {
    std::env::var_os(PLUGINS_ENV)
        .map(|v| std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect())
        .unwrap_or_default()
}

/// Each library of `HCAL_PLUGINS` with the name it gives itself, or why it
/// cannot be loaded (`hcal devices` prints those).
pub fn listed_plugins() -> Vec<(PathBuf, Result<String>)> {
    plugin_paths()
        .into_iter()
        .map(|p| {
            let name = hcal_plugin::plugin_name(&p);
            (p, name)
        })
        .collect()
}

/// Names of the backends this build can [`open`], in a stable order: `cpu`,
/// the registered backends, the loadable plugins of `HCAL_PLUGINS` (under
/// their own names), then one `wgpu:<api>:<index>` per GPU adapter found on
/// this machine.
///
/// ```
/// assert!(hcal::available_backends().contains(&"cpu".to_string()));
/// ```
pub fn available_backends() -> Vec<String> {
    let mut names = vec!["cpu".to_string()];
    names.extend(REGISTERED.read().unwrap_or_else(|p| p.into_inner()).iter().map(|(n, _)| n.clone()));
    for (_, name) in listed_plugins() {
        if let Ok(name) = name
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    #[cfg(feature = "wgpu")]
    names.extend(hcal_wgpu::adapter_names());
    names
}

/// Open the backend called `name` (see [`available_backends`]).
///
/// `"cpu"` is the reference backend (`hcal_cpu::CpuBackend`): plain loops with
/// f64 accumulation, the oracle every other backend is checked against.
/// `"wgpu"` opens the best GPU adapter, `"wgpu:vulkan:0"` a specific one.
/// `"plugin:PATH"` loads a C plugin library (see `crates/hcal-plugin`); a
/// plugin listed in `HCAL_PLUGINS` also opens under its own name. Names given
/// to [`register`] open through their factories.
///
/// ```
/// let cpu = hcal::open("cpu")?;
/// assert_eq!(cpu.info().backend, "cpu");
///
/// let err = hcal::open("tpu").err().unwrap();
/// assert!(matches!(err, hcal::Error::UnknownBackend { .. }));
/// assert!(err.to_string().contains("cpu"));
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// [`Error::UnknownBackend`] naming the backends that exist; any error the
/// backend raises while starting (no adapter, device lost, a plugin that does
/// not load).
pub fn open(name: &str) -> Result<Box<dyn Backend>> {
    if name == "cpu" {
        return Ok(Box::new(hcal_cpu::CpuBackend::new()));
    }
    if let Some(path) = name.strip_prefix("plugin:") {
        return open_plugin(Path::new(path));
    }
    #[cfg(feature = "wgpu")]
    if name == "wgpu" || name.starts_with("wgpu:") {
        return match hcal_wgpu::WgpuBackend::open(name) {
            Ok(backend) => Ok(Box::new(backend)),
            // The adapter resolver lists adapters only (or why there are
            // none); a user asked for a backend, so list every backend.
            Err(Error::UnknownBackend { name, available }) => {
                let all = available_backends();
                let available = if all.iter().any(|n| n.starts_with("wgpu:")) {
                    all.join(", ")
                } else {
                    format!("cpu; {available}")
                };
                Err(Error::UnknownBackend { name, available })
            }
            Err(e) => Err(e),
        };
    }
    let factory = {
        let registered = REGISTERED.read().unwrap_or_else(|p| p.into_inner());
        let base = name.split(':').next().unwrap_or(name);
        registered.iter().find(|(n, _)| n == base).map(|(_, f)| Arc::clone(f))
    };
    if let Some(factory) = factory {
        return factory(name);
    }
    for (path, plugin) in listed_plugins() {
        if plugin.is_ok_and(|n| n == name) {
            return open_plugin(&path);
        }
    }
    Err(Error::UnknownBackend { name: name.to_string(), available: available_backends().join(", ") })
}

/// Load the plugin library at `path` with no options.
fn open_plugin(path: &Path) -> Result<Box<dyn Backend>> {
    Ok(Box::new(hcal_plugin::open(path, "")?))
}
