//! Optional measurement hooks a backend may offer through [`crate::Backend::instruments`].

use crate::{OpSignature, Probe, ProbeWork, Result};

/// Optional measurement hooks of a backend, reached through
/// [`Backend::instruments`](crate::Backend::instruments). Every method has a default body, so a backend
/// implements only what its device offers.
///
/// ```
/// use hcal_core::Instruments;
/// /// A backend that only tracks memory.
/// struct Meter(std::sync::atomic::AtomicU64);
/// impl Instruments for Meter {
///     fn memory_peak(&self) -> Option<u64> {
///         Some(self.0.load(std::sync::atomic::Ordering::Relaxed))
///     }
/// }
/// let m = Meter(7.into());
/// assert_eq!(m.memory_peak(), Some(7));
/// assert_eq!(m.begin_timing().unwrap(), false);
/// ```
pub trait Instruments: Send + Sync {
    /// Start measuring the device time of the work enqueued from now on, until
    /// [`Instruments::end_timing`]. Returns `false` (and measures nothing) when the
    /// backend has no device timer; callers then time the wall clock around
    /// the work and a [`Backend::sync`](crate::Backend::sync). Calling it again while timing restarts
    /// the measurement.
    ///
    /// # Errors
    /// Device errors.
    fn begin_timing(&self) -> Result<bool> {
        Ok(false)
    }

    /// Wait for the work enqueued since [`Instruments::begin_timing`] and return
    /// the seconds the device spent executing it: the sum over the device's
    /// units of work (compute passes on wgpu), so queueing and host gaps
    /// between them are not counted. `None` when timing was not on.
    ///
    /// # Errors
    /// Device errors raised by the timed work.
    fn end_timing(&self) -> Result<Option<f64>> {
        Ok(None)
    }

    /// The kernel (or kernels) that would run `signature`, named precisely
    /// enough that two different kernels never share a name (for example the
    /// shader, entry point and a hash of every source it compiles). Benchmarks
    /// record it and refuse a "baseline" that names the same kernel as the
    /// candidate. `None` when the backend does not say.
    fn kernel_variant(&self, signature: &OpSignature) -> Option<String> {
        let _ = signature;
        None
    }

    /// Enqueue the microbenchmark `probe` and return the work it does;
    /// callers time it like any op (between [`Instruments::begin_timing`] and
    /// [`Instruments::end_timing`], or around a [`Backend::sync`](crate::Backend::sync)) and divide, to
    /// get the device peak that "% of peak" figures are relative to. `None`
    /// when the backend has no such kernel.
    ///
    /// # Errors
    /// Allocation and device errors.
    fn run_probe(&self, probe: &Probe) -> Result<Option<ProbeWork>> {
        let _ = probe;
        Ok(None)
    }

    /// Start a new peak-memory measurement (see [`Instruments::memory_peak`]).
    /// A backend may release memory it only caches (free pooled buffers,
    /// staging copies) here, so the next peak is the measured work's own.
    fn reset_memory_peak(&self) {}

    /// The most device memory, in bytes, the backend held at once since
    /// [`Instruments::reset_memory_peak`]: every buffer it holds (tensors,
    /// scratch, pooled), so a benchmark that resets, runs one call and syncs
    /// reads the peak footprint of that call with its operands. `None` when
    /// the backend does not track it.
    fn memory_peak(&self) -> Option<u64> {
        None
    }

    /// Device commands (kernel dispatches and buffer copies) the backend has
    /// recorded since it was opened. Each carries a fixed launch cost on top
    /// of its work (tens of microseconds on CPU drivers), so the count per
    /// step of a model is a cost to keep down; read it before and after the
    /// work. `None` when the backend does not count.
    fn commands_recorded(&self) -> Option<u64> {
        None
    }
}
