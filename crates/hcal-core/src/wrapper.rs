//! Wrappers around a backend that forward everything they do not change.

use crate::{Backend, Call, DeviceInfo, Instruments, OpSignature, PendingRead, Result, Support, Tensor, TensorDesc};

/// A backend that wraps another and changes only part of its behaviour
/// (profiling, fault injection, precision experiments). Every method
/// forwards to [`BackendWrapper::inner`] by default, instruments included,
/// and every `BackendWrapper` is a [`Backend`]; override what the wrapper
/// changes.
///
/// ```
/// use hcal_core::{Backend, BackendWrapper, Call, Result};
/// /// Counts the calls it forwards.
/// struct Counted<B> {
///     inner: B,
///     calls: std::sync::atomic::AtomicUsize,
/// }
/// impl<B: Backend> BackendWrapper for Counted<B> {
///     fn inner(&self) -> &dyn Backend {
///         &self.inner
///     }
///     fn execute(&self, call: &Call<'_>) -> Result<()> {
///         self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         self.inner.execute(call)
///     }
/// }
/// # fn check(b: &dyn Backend) {}
/// # fn demo<B: Backend>(b: Counted<B>) { check(&b) }
/// ```
pub trait BackendWrapper: Send + Sync {
    /// The wrapped backend.
    fn inner(&self) -> &dyn Backend;

    /// As [`Backend::info`]; forwards by default.
    fn info(&self) -> &DeviceInfo {
        self.inner().info()
    }

    /// As [`Backend::supports`]; forwards by default.
    fn supports(&self, signature: &OpSignature) -> Support {
        self.inner().supports(signature)
    }

    /// As [`Backend::alloc`]; forwards by default.
    ///
    /// # Errors
    /// The inner backend's.
    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        self.inner().alloc(desc)
    }

    /// As [`Backend::free`]; forwards by default.
    ///
    /// # Errors
    /// The inner backend's.
    fn free(&self, tensor: &Tensor) -> Result<()> {
        self.inner().free(tensor)
    }

    /// As [`Backend::write`]; forwards by default.
    ///
    /// # Errors
    /// The inner backend's.
    fn write(&self, tensor: &Tensor, bytes: &[u8]) -> Result<()> {
        self.inner().write(tensor, bytes)
    }

    /// As [`Backend::read`]; forwards by default.
    ///
    /// # Errors
    /// The inner backend's.
    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        self.inner().read(tensor)
    }

    /// As [`Backend::read_start`]; forwards by default (a wrapper that
    /// changes `read` should change this too).
    ///
    /// # Errors
    /// The inner backend's.
    fn read_start(&self, tensor: &Tensor) -> Result<PendingRead> {
        self.inner().read_start(tensor)
    }

    /// As [`Backend::execute`]; forwards by default.
    ///
    /// # Errors
    /// The inner backend's.
    fn execute(&self, call: &Call<'_>) -> Result<()> {
        self.inner().execute(call)
    }

    /// As [`Backend::sync`]; forwards by default.
    ///
    /// # Errors
    /// The inner backend's.
    fn sync(&self) -> Result<()> {
        self.inner().sync()
    }

    /// As [`Backend::instruments`]; forwards by default, so wrapping a
    /// backend keeps its device timer, kernel names and probes.
    fn instruments(&self) -> Option<&dyn Instruments> {
        self.inner().instruments()
    }
}

impl<W: BackendWrapper> Backend for W {
    fn info(&self) -> &DeviceInfo {
        BackendWrapper::info(self)
    }
    fn supports(&self, signature: &OpSignature) -> Support {
        BackendWrapper::supports(self, signature)
    }
    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        BackendWrapper::alloc(self, desc)
    }
    fn free(&self, tensor: &Tensor) -> Result<()> {
        BackendWrapper::free(self, tensor)
    }
    fn write(&self, tensor: &Tensor, bytes: &[u8]) -> Result<()> {
        BackendWrapper::write(self, tensor, bytes)
    }
    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        BackendWrapper::read(self, tensor)
    }
    fn read_start(&self, tensor: &Tensor) -> Result<PendingRead> {
        BackendWrapper::read_start(self, tensor)
    }
    fn execute(&self, call: &Call<'_>) -> Result<()> {
        BackendWrapper::execute(self, call)
    }
    fn sync(&self) -> Result<()> {
        BackendWrapper::sync(self)
    }
    fn instruments(&self) -> Option<&dyn Instruments> {
        BackendWrapper::instruments(self)
    }
}
