//! The device and queue, with wgpu errors turned into hcal errors.

use std::sync::{Arc, Mutex};

use hcal_core::{Error, Result};

use crate::gl_turn::GlTurn;

/// A wgpu device opened with the adapter's own limits, plus what its
/// callbacks reported (device loss, uncaptured errors).
pub(crate) struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    pub(crate) backend: String,
    /// The adapter's largest subgroup size, when subgroup kernels can run:
    /// the `subgroups` feature is enabled and no subgroup is smaller than 4.
    pub(crate) subgroup_max: Option<u32>,
    /// The adapter's smallest subgroup size (what the texture matmul tiles
    /// broadcast within).
    pub(crate) subgroup_min: u32,
    /// The adapter's subgroup width when it has exactly one (smallest =
    /// largest) and the `subgroups` feature is enabled: kernels that pair
    /// lanes by number (the flash attention kernel) are expanded for it.
    pub(crate) subgroup_fixed: Option<u32>,
    /// Whether the adapter is a CPU driver (lavapipe, llvmpipe): SIMD lanes,
    /// where barriers and scattered accesses cost far more than on GPUs.
    pub(crate) simd_cpu: bool,
    /// Whether host-written block-quantized tensors live in textures
    /// (`packed.rs`; a `:buffers` pin turns it off).
    pub(crate) packed_textures: bool,
    /// Whether every tensor buffer is also uniform-capable, so the quantized
    /// GEMV can read A's row and Scale as uniform buffers
    /// (`matmul::quant::uniform_extent`): on SIMD CPU drivers whose
    /// subgroups are 8 wide (lavapipe), where the GEMV's subgroup form runs.
    /// Measured there on SmolLM2's decode (`decode_ab`, 128 step pairs, four
    /// runs alternating which side ran first), against `:storage-a`: 1.067x,
    /// 1.083x, 1.046x and 1.027x by the medians, faster in 72-84% of the
    /// pairs. The plain GEMV alone (`hcal bench --baseline
    /// wgpu:vulkan:0:storage-a`, cold weights) gained 0-10% in one run and
    /// 0.80-1.07x in another: most of the gain is the normalizing GEMV's,
    /// which reads Scale as well as A per block. Uniform-capable buffers cost
    /// nothing here: lavapipe keeps every buffer in host memory alike.
    pub(crate) uniform_rows: bool,
    /// How [`Gpu::wait`] waits for the device (a `:spin` or `:block` pin
    /// overrides the default, [`Wait::default_for`]).
    pub(crate) wait: Wait,
    /// The host's cores (`available_parallelism`, which honours affinity and
    /// cgroup quotas): on a CPU driver, about the threads that run the
    /// workgroups (Mesa sizes its pool to the CPUs unless `LP_NUM_THREADS`
    /// says otherwise).
    pub(crate) cores: usize,
    /// Whether this is wgpu's GL backend, whose entry points take the
    /// process-wide turn (`gl_turn.rs`).
    pub(crate) is_gl: bool,
    lost: Arc<Mutex<Option<String>>>,
    uncaptured: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Open a device on `adapter` with every limit the adapter offers (wgpu's
    /// defaults cap storage bindings at 128 MiB). Optional features, when
    /// offered: `TIMESTAMP_QUERY` for device timing of benchmarks
    /// (`Instruments::begin_timing`) and `SUBGROUP` for the texture matmul tiles
    /// and the flash attention kernel; every op also has a kernel that needs
    /// neither.
    pub(crate) fn open(backend: &str, adapter: &wgpu::Adapter) -> Result<Self> {
        let is_gl = adapter.get_info().backend == wgpu::Backend::Gl;
        let _turn = GlTurn::take(is_gl);
        let limits = adapter.limits();
        let desc = wgpu::DeviceDescriptor {
            label: Some("hcal"),
            required_features: adapter.features() & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| Error::Backend { backend: backend.to_string(), detail: format!("cannot open device: {e}") })?;
        let lost = Arc::new(Mutex::new(None));
        let lost_slot = Arc::clone(&lost);
        device.set_device_lost_callback(move |reason, message| {
            *lost_slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("{reason:?}: {message}"));
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let sink = Arc::clone(&uncaptured);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| error.to_string());
        }));
        let info = adapter.get_info();
        let subgroup_max = (device.features().contains(wgpu::Features::SUBGROUP) && info.subgroup_min_size >= 4)
            .then_some(info.subgroup_max_size);
        let subgroup_min = info.subgroup_min_size;
        let subgroup_fixed = (device.features().contains(wgpu::Features::SUBGROUP)
            && info.subgroup_min_size == info.subgroup_max_size)
            .then_some(info.subgroup_max_size);
        let simd_cpu = info.device_type == wgpu::DeviceType::Cpu;
        let packed_textures = crate::packed::offered(simd_cpu, adapter);
        let uniform_rows = simd_cpu && subgroup_max == Some(8);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let wait = Wait::default_for(simd_cpu && info.backend == wgpu::Backend::Vulkan, cores);
        Ok(Self {
            device,
            queue,
            limits,
            backend: backend.to_string(),
            subgroup_max,
            subgroup_min,
            subgroup_fixed,
            simd_cpu,
            packed_textures,
            uniform_rows,
            wait,
            cores,
            is_gl,
            lost,
            uncaptured,
        })
    }

    /// The threads a SIMD CPU driver runs workgroups on (about the host's
    /// cores), or `None` on a GPU.
    pub(crate) fn cpu_driver_threads(&self) -> Option<usize> {
        self.simd_cpu.then_some(self.cores)
    }

    /// This thread's turn inside wgpu, which only GL backends take
    /// (`gl_turn.rs`); every entry point of the backend that calls into
    /// wgpu holds one (those that only read the backend's own state, such as
    /// `supports` and the memory reports, need none).
    pub(crate) fn turn(&self) -> GlTurn {
        GlTurn::take(self.is_gl)
    }

    /// `Err(DeviceLost)` once the device is gone; every entry point checks it first.
    pub(crate) fn check_alive(&self) -> Result<()> {
        self.waits().alive()
    }

    /// What waiting on this device needs, borrowed.
    fn waits(&self) -> WaitOn<'_> {
        WaitOn { device: &self.device, wait: self.wait, lost: &self.lost, backend: &self.backend }
    }

    /// Run `f` inside validation and out-of-memory error scopes and turn what
    /// they catch (or an uncaptured error, or a loss) into an hcal error.
    pub(crate) fn scoped<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.check_alive()?;
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = f();
        let validation = pollster::block_on(validation.pop());
        let oom = pollster::block_on(oom.pop());
        self.check_alive()?;
        if let Some(e) = oom {
            return Err(Error::OutOfMemory { backend: self.backend.clone(), bytes: 0, detail: e.to_string() });
        }
        if let Some(e) = validation {
            return Err(Error::Backend { backend: self.backend.clone(), detail: format!("wgpu validation: {e}") });
        }
        if let Some(e) = self.uncaptured.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(Error::Backend { backend: self.backend.clone(), detail: format!("wgpu: {e}") });
        }
        value
    }

    /// Return once all submitted work is done, waiting as `self.wait` says.
    pub(crate) fn wait(&self) -> Result<()> {
        // `QueueEmpty`: that poll retired every submission and ran their
        // callbacks (buffer maps) before wgpu-core decided the queue was empty.
        self.waits().until(None, |queue_empty| queue_empty)
    }
}

/// What a read started by `read_start` waits with, apart from the backend
/// (the read may outlive the call that started it): the device, how to
/// wait, and where a loss is reported.
#[derive(Clone)]
pub(crate) struct Waiter {
    device: wgpu::Device,
    wait: Wait,
    lost: Arc<Mutex<Option<String>>>,
    backend: String,
}

impl Gpu {
    /// A [`Waiter`] for this device (not for GL, whose waits need the turn).
    pub(crate) fn waiter(&self) -> Waiter {
        debug_assert!(!self.is_gl, "GL reads finish inside the turn");
        Waiter {
            device: self.device.clone(),
            wait: self.wait,
            lost: Arc::clone(&self.lost),
            backend: self.backend.clone(),
        }
    }
}

impl Waiter {
    /// Return once submission `index` is done and `done()` says its
    /// callback ran (a buffer map's), waiting as [`Gpu::wait`] does; work
    /// submitted after `index` may still be running.
    pub(crate) fn wait_for(&self, index: wgpu::SubmissionIndex, done: impl Fn() -> bool) -> Result<()> {
        let waits = WaitOn { device: &self.device, wait: self.wait, lost: &self.lost, backend: &self.backend };
        waits.until(Some(index), |_| done())
    }
}

/// The parts of a device that waiting on it needs ([`Gpu`]'s, or a
/// [`Waiter`]'s own copies).
struct WaitOn<'a> {
    device: &'a wgpu::Device,
    wait: Wait,
    lost: &'a Mutex<Option<String>>,
    backend: &'a str,
}

impl WaitOn<'_> {
    /// `Err(DeviceLost)` once the device is gone.
    fn alive(&self) -> Result<()> {
        match self.lost.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            Some(detail) => Err(Error::DeviceLost { backend: self.backend.to_string(), detail }),
            None => Ok(()),
        }
    }

    /// Wait as `wait` says for submission `index` (`None`: the latest):
    /// `Block` sleeps in the driver; `Spin` polls, yielding between polls,
    /// until `done(queue_empty)` holds or [`SPIN_LIMIT`] has passed, then
    /// sleeps as `Block` does.
    fn until(&self, index: Option<wgpu::SubmissionIndex>, done: impl Fn(bool) -> bool) -> Result<()> {
        let poll_error =
            |e: wgpu::PollError| Error::DeviceLost { backend: self.backend.to_string(), detail: format!("poll: {e}") };
        let sleep = wgpu::PollType::Wait { submission_index: index, timeout: None };
        match self.wait {
            Wait::Block => {
                self.device.poll(sleep).map_err(poll_error)?;
            }
            Wait::Spin => {
                let start = std::time::Instant::now();
                loop {
                    if done(self.device.poll(wgpu::PollType::Poll).map_err(poll_error)?.is_queue_empty()) {
                        break;
                    }
                    self.alive()?;
                    if start.elapsed() >= SPIN_LIMIT {
                        self.device.poll(sleep).map_err(poll_error)?;
                        break;
                    }
                    std::thread::yield_now();
                }
            }
        }
        self.alive()
    }
}

/// How long [`Wait::Spin`] polls before it sleeps in the driver. A decode
/// step's wait (tens of milliseconds) is polled through, while a long wait (a
/// prefill's seconds of work, where the driver's workers are busy and
/// wake-ups are few) costs the workers at most this much of a core. With no
/// limit the SmolLM2 chat's 256-token prefill was 3-10% slower than with
/// `:block` (4 alternated runs: 87/83/81/81 against 90/87/89/88 tokens/s);
/// with it, 87/83/85/90 against 86/87/85/90.
/// The limit also ends every wait: polling waits for an empty queue, which
/// other threads' submissions could put off, while the sleep after it waits
/// only for what was submitted by then.
pub(crate) const SPIN_LIMIT: std::time::Duration = std::time::Duration::from_millis(200);

/// How the host thread waits for submitted work.
///
/// On a CPU driver the "device" is the driver's worker threads, and every
/// dispatch wakes them and then wakes the driver's queue thread when the last
/// one finishes. Where a waiting thread sleeps, its core can go idle, and on
/// virtual machines a wake-up on an idle core costs tens of microseconds
/// (lavapipe 22.3 on a 2-vCPU VM, blocking: 42-66 us per dispatch with its
/// workers against 6 us with `LP_NUM_THREADS=0`). A thread that polls and yields keeps its core
/// awake and gives it up to any thread that wants it: on a 2-vCPU VM whose
/// guest does not poll when idle, the SmolLM2 chat's decode was faster than
/// with `:block` in 17 of 23 alternated runs, by 0-24% in the means of seven
/// series (the last two with [`SPIN_LIMIT`]: 3% and 24%). Where idle cores
/// poll before halting, wake-ups are cheap and `:block` can win: on the same
/// VM with 200 us of guest halt polling (`guest_halt_poll_ns`), `hcal
/// bench`'s launch cost was 14-15 us per op blocking against 22-32 us
/// spinning (27-40 us either way without the polling); bare metal is
/// expected to behave like that, unmeasured. This is
/// CUDA's `cudaDeviceScheduleSpin` and OpenMP's `OMP_WAIT_POLICY=active` choice.
/// On GL (llvmpipe through wgpu's GL backend) the same loop made the chat
/// slower (9.2-9.7 against 10.2-10.4 tokens/s), so it is the default on
/// Vulkan CPU drivers only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Sleep in the driver until the work is done (`PollType::wait_indefinitely`).
    Block,
    /// Poll the device, yielding the core between polls, until the work is
    /// done or [`SPIN_LIMIT`] has passed, then sleep as `Block` does.
    Spin,
}

impl Wait {
    /// `Spin` on a Vulkan CPU driver with at least two cores (one core
    /// spinning would only take time from the driver's threads; the count
    /// is the host's, while the driver sizes its own pool, `LP_NUM_THREADS`),
    /// `Block` elsewhere: a GPU's fence wake-up is a small share of its waits.
    pub(crate) fn default_for(vulkan_cpu_driver: bool, cores: usize) -> Self {
        if vulkan_cpu_driver && cores >= 2 { Self::Spin } else { Self::Block }
    }
}

#[cfg(test)]
mod tests {
    use super::Wait;

    #[test]
    fn only_vulkan_cpu_drivers_with_a_core_to_spare_spin_by_default() {
        assert_eq!(Wait::default_for(true, 2), Wait::Spin);
        assert_eq!(Wait::default_for(true, 1), Wait::Block);
        assert_eq!(Wait::default_for(false, 64), Wait::Block);
    }
}
