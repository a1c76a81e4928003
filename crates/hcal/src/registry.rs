//! Backends chosen by name at run time.

use hcal_core::{Backend, Error, Result};

/// Names of the backends this build can [`open`], in a stable order: `cpu`,
/// then one `wgpu:<api>:<index>` per GPU adapter found on this machine.
///
/// ```
/// assert!(hcal::available_backends().contains(&"cpu".to_string()));
/// ```
pub fn available_backends() -> Vec<String> {
    let mut names = vec!["cpu".to_string()];
    #[cfg(feature = "wgpu")]
    names.extend(hcal_wgpu::adapter_names());
    names
}

/// Open the backend called `name` (see [`available_backends`]).
///
/// `"cpu"` is the reference backend (`hcal_cpu::CpuBackend`): plain loops with
/// f64 accumulation, the oracle every other backend is checked against.
/// `"wgpu"` opens the best GPU adapter, `"wgpu:vulkan:0"` a specific one.
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
/// backend raises while starting (no adapter, device lost).
pub fn open(name: &str) -> Result<Box<dyn Backend>> {
    if name == "cpu" {
        return Ok(Box::new(hcal_cpu::CpuBackend::new()));
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
    Err(Error::UnknownBackend { name: name.to_string(), available: available_backends().join(", ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_backend_opens_under_its_own_name() {
        for name in available_backends() {
            let backend = open(&name).unwrap();
            assert_eq!(backend.info().backend, name);
        }
    }

    #[test]
    fn unknown_name_lists_the_available_ones() {
        match open("nope") {
            Err(Error::UnknownBackend { name, available }) => {
                assert_eq!(name, "nope");
                assert_eq!(available, available_backends().join(", "));
            }
            other => panic!("expected UnknownBackend, got {:?}", other.map(|b| b.info().clone())),
        }
    }

    #[test]
    fn unknown_adapter_lists_every_backend() {
        match open("wgpu:nope:7") {
            Err(Error::UnknownBackend { name, available }) => {
                assert_eq!(name, "wgpu:nope:7");
                assert!(available.starts_with("cpu"), "{available}");
            }
            other => panic!("expected UnknownBackend, got {:?}", other.map(|b| b.info().clone())),
        }
    }
}
