//! [`WgpuBackend`]: opening a device, memory reports, and the `Backend`
//! implementation (which hands calls to `dispatch.rs` and questions about
//! signatures to `support.rs`).

use std::sync::{Arc, Mutex, MutexGuard};

use hcal_core::{
    Backend, Call, DeviceInfo, Error, Instruments, OpSignature, PendingRead, Probe, ProbeWork, Result, Support, Tensor,
    TensorDesc,
};

use crate::adapter::{AdapterEntry, api_name, device_type};
use crate::ctx::Ctx;
use crate::gl_turn::{DropTurnEnd, DropTurnStart};
use crate::gpu::Gpu;
use crate::memory::Memory;
use crate::pins::Pins;
use crate::pipeline::Pipelines;
use crate::record::{MAX_BATCH_DISPATCHES, Recorder};
use crate::{dispatch, peak, support};

struct State {
    mem: Memory,
    rec: Recorder,
}

/// hcal on one wgpu adapter (backend names `wgpu`, `wgpu:vulkan:0`, ...).
///
/// Every op of the standard runs as a WGSL kernel computing in f32. f16 and
/// bf16 tensors are stored as such and converted to f32 by conversion
/// kernels around the op (on packed 32-bit words, so no `shader-f16` feature
/// is needed); bool masks become 0/1 floats the same way. Ops are recorded
/// into one command encoder and submitted in batches; only `read` and `sync`
/// wait for the device.
pub struct WgpuBackend {
    /// Takes the GL turn (`gl_turn.rs`) for the drops of the fields below:
    /// they release wgpu objects, which locks a GL adapter's context.
    _drop_turn_start: DropTurnStart,
    gpu: Gpu,
    info: DeviceInfo,
    pipelines: Pipelines,
    dummy: wgpu::Buffer,
    state: Mutex<State>,
    /// Gives the turn back after the last field is dropped.
    _drop_turn_end: DropTurnEnd,
}

impl WgpuBackend {
    /// Open the adapter called `name` (`wgpu` picks the best one).
    ///
    /// Suffixes open the same adapter with a kernel choice pinned, as
    /// reference points for benchmarks (see `pins.rs` for the table):
    /// `:baseline` (`wgpu:vulkan:0:baseline`) runs every MatMul/Gemm on the
    /// simple 4x4 kernel, `:smem` on the workgroup-memory tiles where they
    /// apply, `:mm=<kernel>` on one named matmul kernel
    /// (`:mm=tiled-16x16-wg8x8`, names as [`crate::matmul_kernel_names`]
    /// lists them) where it can run the product; `:fused`, `:composed`,
    /// `:split` (flash-decoding) and `:flash` pin the attention path, and
    /// `:composedN` pins the composed path with blocks of at most N query rows.
    /// `:bind=<bytes>` plans every op as if storage bindings held at most
    /// that many bytes, so tests exercise the splitting of tensors larger
    /// than one binding on small tensors. `:buffers` keeps block-quantized
    /// weights in storage buffers where a CPU driver would hold them in
    /// textures (`packed.rs`). `:spin` makes the host poll for finished
    /// work, yielding its core between polls, and `:block` makes it sleep in
    /// the driver; the default spins on Vulkan CPU drivers (lavapipe) with
    /// two or more cores and blocks elsewhere (why: `gpu::Wait`).
    ///
    /// # Errors
    /// [`Error::UnknownBackend`] when no such adapter or matmul kernel
    /// exists; device creation errors.
    pub fn open(name: &str) -> Result<Self> {
        let (adapter, suffixes) = crate::pins::split(name);
        let entry = crate::adapter::resolve(adapter)?;
        let pins = Pins::parse(name, adapter, &suffixes)?;
        let mut backend = Self::from_adapter(&entry)?;
        backend.pipelines.pins = pins;
        backend.gpu.packed_textures &= !pins.buffers;
        if let Some(wait) = pins.wait {
            backend.gpu.wait = wait;
        }
        if let Some(cap) = pins.max_binding {
            // Plan as if bindings were this small (a test device); bindings
            // within it are within the real limit too.
            let limit = &mut backend.gpu.limits.max_storage_buffer_binding_size;
            *limit = (*limit).min(cap);
            backend.info.limits.insert("max_storage_buffer_binding_size".to_string(), *limit);
        }
        for suffix in suffixes {
            backend.info.backend = format!("{}:{suffix}", backend.info.backend);
        }
        Ok(backend)
    }

    /// Open a device on a discovered adapter.
    ///
    /// # Errors
    /// Device creation errors.
    pub fn from_adapter(entry: &AdapterEntry) -> Result<Self> {
        let gpu = Gpu::open(&entry.name, &entry.adapter)?;
        let a = &entry.info;
        let mut info =
            DeviceInfo::new(entry.name.clone(), a.name.clone(), device_type(a.device_type), api_name(a.backend));
        info.vendor = format!("0x{:04x}", a.vendor);
        info.driver = format!("{} {}", a.driver, a.driver_info).trim().to_string();
        let l = &gpu.limits;
        for (name, value) in [
            ("max_buffer_size", l.max_buffer_size),
            ("max_storage_buffer_binding_size", l.max_storage_buffer_binding_size),
            ("max_compute_workgroup_storage_size", l.max_compute_workgroup_storage_size as u64),
            ("max_compute_invocations_per_workgroup", l.max_compute_invocations_per_workgroup as u64),
            ("max_compute_workgroups_per_dimension", l.max_compute_workgroups_per_dimension as u64),
            ("min_storage_buffer_offset_alignment", l.min_storage_buffer_offset_alignment as u64),
        ] {
            info.limits.insert(name.to_string(), value);
        }
        let features = entry.adapter.features();
        for (feature, name) in [
            (wgpu::Features::SHADER_F16, "shader-f16"),
            (wgpu::Features::SUBGROUP, "subgroups"),
            (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
            (wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX, "cooperative-matrix"),
        ] {
            if features.contains(feature) {
                info.features.push(name.to_string());
            }
        }
        info.notes = support::tier_notes(&gpu, features);
        let _turn = gpu.turn();
        let dummy = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("hcal unused binding"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let gl = gpu.is_gl;
        // Every field finished first: nothing may panic between the two
        // sentinels' construction (see `DropTurnStart`).
        let pipelines = Pipelines::default();
        let state = Mutex::new(State { mem: Memory::default(), rec: Recorder::new() });
        Ok(Self {
            _drop_turn_start: DropTurnStart { gl },
            gpu,
            info,
            pipelines,
            dummy,
            state,
            _drop_turn_end: DropTurnEnd { gl },
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every mutation of the state is a complete map/vector operation, so a
        // panic elsewhere cannot leave it half-updated.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Device memory held now, at peak, and the largest single buffer since
    /// the last [`Instruments::reset_memory_peak`] (e.g. to show that an
    /// attention call never allocated a sequence-squared score buffer).
    pub fn memory_report(&self) -> crate::MemoryReport {
        self.state().mem.report()
    }

    /// `(live tensors, pooled buffers, pooled bytes, compiled pipelines)`.
    pub fn memory_stats(&self) -> (usize, usize, u64, usize) {
        let (live, pooled, bytes) = self.state().mem.stats();
        (live, pooled, bytes, self.pipelines.len())
    }

    /// Simulate a lost device (wgpu `Device::destroy`): every later call errors.
    pub fn destroy_device_for_testing(&self) {
        let _turn = self.gpu.turn();
        self.gpu.device.destroy();
        // wgpu reports the loss through the callback on its next maintenance.
        let _ = self.gpu.device.poll(wgpu::PollType::Poll);
    }

    fn invalid(&self, t: &Tensor) -> Error {
        Error::InvalidTensor { backend: self.info.backend.clone(), id: t.id().0 }
    }
}

/// A readback whose copy is submitted (`WgpuBackend::start_read`): the
/// staging buffer it lands in, mapped once the submission is done.
struct StartedRead {
    staging: wgpu::Buffer,
    /// The submission holding the copy.
    index: Option<wgpu::SubmissionIndex>,
    /// The tensor's byte length.
    len: usize,
    /// A texture's block order, whose bytes come back in it (`block_layout.rs`).
    packed_order: Option<(crate::block_layout::BlockLayout, usize)>,
    /// Set by the map's callback when it runs (before it sends).
    mapped: Arc<std::sync::atomic::AtomicBool>,
    /// The map's outcome. The callback runs inside some thread's poll,
    /// which may still be running it when this thread's poll returns, so
    /// [`StartedRead::bytes`] blocks on it.
    outcome: std::sync::mpsc::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

impl StartedRead {
    /// Whether the map's callback ran.
    fn mapped(&self) -> bool {
        self.mapped.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The tensor's bytes, once the submission is done and polled (by this
    /// thread or another).
    fn bytes(self, backend: &str) -> Result<Vec<u8>> {
        let backend = || backend.to_string();
        self.outcome
            .recv()
            .map_err(|_| Error::DeviceLost { backend: backend(), detail: "readback never completed".into() })?
            .map_err(|e| Error::Backend { backend: backend(), detail: format!("map for read: {e}") })?;
        let data = {
            let view = self
                .staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Backend { backend: backend(), detail: format!("{e}") })?;
            match self.packed_order {
                Some((order, block_bytes)) => order.deinterleave(&view[..self.len], block_bytes),
                None => view[..self.len].to_vec(),
            }
        };
        self.staging.unmap();
        Ok(data)
    }
}

impl WgpuBackend {
    /// Record a copy of `tensor` into a new staging buffer after the work
    /// recorded so far, submit both, and ask for the buffer's map.
    fn start_read(&self, tensor: &Tensor) -> Result<StartedRead> {
        let len = tensor.desc().byte_len()?;
        let mut state = self.state();
        let State { rec, mem } = &mut *state;
        mem.settle(&self.gpu, tensor.id())?;
        let buf = mem.get(tensor.id()).cloned();
        let packed = mem.packed(tensor.id());
        if buf.is_none() && packed.is_none() {
            return Err(self.invalid(tensor));
        }
        let size = match (&buf, packed) {
            (None, Some(packed)) => packed.bytes(),
            _ => (len.max(4) as u64).div_ceil(4) * 4,
        };
        let (staging, index) = self.gpu.scoped(|| {
            let staging = self.gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("hcal readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            match (&buf, packed) {
                (Some(buf), _) => rec.copy(&self.gpu, buf, &staging, size),
                (None, Some(packed)) => rec.copy_texture(&self.gpu, packed, &staging),
                (None, None) => unreachable!("checked above"),
            }
            let index = rec.flush(&self.gpu);
            Ok((staging, index))
        })?;
        // A texture's layout, taken while the tensor cannot change.
        let packed_order = match (&buf, packed) {
            (None, Some(packed)) => packed.layout,
            _ => None,
        };
        drop(state);
        let mapped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, (tx, outcome)) = (Arc::clone(&mapped), std::sync::mpsc::channel());
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            flag.store(true, std::sync::atomic::Ordering::Release);
            let _ = tx.send(r);
        });
        Ok(StartedRead { staging, index, len, packed_order, mapped, outcome })
    }
}

impl Backend for WgpuBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn supports(&self, signature: &OpSignature) -> Support {
        match support::decline(&self.gpu, signature) {
            Some(reason) => Support::Unsupported(reason),
            None => Support::Native,
        }
    }

    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        let _turn = self.gpu.turn();
        self.gpu.check_alive()?;
        let bytes = desc.byte_len()?;
        let mut state = self.state();
        if self.gpu.packed_textures && desc.dtype.is_quantized() && crate::packed::fits(&self.gpu, bytes) {
            // Storage comes with the first use: a texture if that is a write.
            return Ok(Tensor::from_parts(state.mem.reserve(bytes), desc.clone()));
        }
        let buf = state.mem.buffer(&self.gpu, bytes)?;
        Ok(Tensor::from_parts(state.mem.insert(buf), desc.clone()))
    }

    fn free(&self, tensor: &Tensor) -> Result<()> {
        let _turn = self.gpu.turn();
        let mut state = self.state();
        if let Some(buf) = state.mem.remove(tensor.id()).ok_or_else(|| self.invalid(tensor))? {
            state.mem.recycle(buf);
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
        let _turn = self.gpu.turn();
        let mut state = self.state();
        if !state.mem.contains(tensor.id()) {
            return Err(self.invalid(tensor));
        }
        let State { rec, mem } = &mut *state;
        if self.gpu.packed_textures && tensor.desc().dtype.is_quantized() && crate::packed::fits(&self.gpu, expected) {
            // Work recorded earlier must see the old contents: submit it first.
            self.gpu.scoped(|| {
                rec.flush(&self.gpu);
                Ok(())
            })?;
            let layout = crate::matmul::quant::weight_layout(&self.gpu, &self.pipelines.pins, tensor.desc());
            let packed = crate::packed::Packed::upload(&self.gpu, bytes, layout)?;
            mem.pack(tensor.id(), packed);
            return Ok(());
        }
        // A tensor held in a texture and written here again goes back to a buffer.
        mem.unpack(tensor.id());
        mem.settle(&self.gpu, tensor.id())?;
        let buf = match mem.get(tensor.id()) {
            Some(buf) => Arc::clone(buf),
            None => {
                let buf = mem.buffer(&self.gpu, expected)?;
                mem.attach(tensor.id(), Arc::clone(&buf));
                buf
            }
        };
        self.gpu.scoped(|| {
            // Work recorded earlier must see the old contents: submit it first.
            rec.flush(&self.gpu);
            if expected % 4 == 0 {
                self.gpu.queue.write_buffer(&buf, 0, bytes);
            } else {
                let mut padded = bytes.to_vec();
                padded.resize(expected.div_ceil(4) * 4, 0);
                self.gpu.queue.write_buffer(&buf, 0, &padded);
            }
            Ok(())
        })
    }

    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        let _turn = self.gpu.turn();
        let started = self.start_read(tensor)?;
        self.gpu.wait()?;
        started.bytes(&self.info.backend)
    }

    /// On GL the read finishes here: its waits need the turn, which a
    /// pending read must not hold between calls.
    fn read_start(&self, tensor: &Tensor) -> Result<PendingRead> {
        if self.gpu.is_gl {
            return Ok(PendingRead::ready(self.read(tensor)?));
        }
        let started = self.start_read(tensor)?;
        let waiter = self.gpu.waiter();
        let backend = self.info.backend.clone();
        Ok(PendingRead::new(move || {
            if let Some(index) = started.index.clone() {
                waiter.wait_for(index, || started.mapped())?;
            }
            started.bytes(&backend)
        }))
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        let _turn = self.gpu.turn();
        let mut state = self.state();
        let State { mem, rec } = &mut *state;
        // Recording needs no error scope of its own: what it could get wrong
        // (bind groups, passes) is reported when the batch is submitted inside
        // a scope, or by the uncaptured-error handler, checked at every scope.
        self.gpu.check_alive()?;
        let mut ctx =
            Ctx { gpu: &self.gpu, pipelines: &self.pipelines, rec, mem, dummy: &self.dummy, temps: Vec::new() };
        let result = dispatch::record(&mut ctx, call, |t| self.invalid(t));
        for t in std::mem::take(&mut ctx.temps) {
            mem.recycle(t);
        }
        result?;
        if rec.pending() >= self.pipelines.pins.batch.unwrap_or(MAX_BATCH_DISPATCHES) {
            self.gpu.scoped(|| {
                rec.flush(&self.gpu);
                Ok(())
            })?;
        }
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        let _turn = self.gpu.turn();
        {
            let mut state = self.state();
            let State { rec, .. } = &mut *state;
            self.gpu.scoped(|| {
                rec.flush(&self.gpu);
                Ok(())
            })?;
        }
        self.gpu.wait()
    }

    /// Device timing, kernel names, peak probes and memory peak.
    fn instruments(&self) -> Option<&dyn Instruments> {
        Some(self)
    }
}

impl Instruments for WgpuBackend {
    /// Start a new peak and largest-buffer measurement, releasing the free
    /// pooled buffers and staging textures first (caches of earlier work),
    /// so the peak is what the following work holds.
    fn reset_memory_peak(&self) {
        let _turn = self.gpu.turn();
        self.state().mem.reset_peak();
    }

    fn memory_peak(&self) -> Option<u64> {
        Some(self.state().mem.report().peak_device_bytes)
    }

    /// Compute dispatches and buffer-to-buffer copies (readbacks included).
    fn commands_recorded(&self) -> Option<u64> {
        Some(self.state().rec.recorded())
    }

    /// Timestamp queries at the beginning and end of every compute pass
    /// opened until [`Instruments::end_timing`] (needs the adapter's
    /// `TIMESTAMP_QUERY`, requested at open when offered).
    fn begin_timing(&self) -> Result<bool> {
        if !self.gpu.device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(false);
        }
        self.gpu.check_alive()?;
        let _turn = self.gpu.turn();
        self.state().rec.begin_timing(&self.gpu);
        Ok(true)
    }

    /// Submits the timed work, waits for it, and sums `end - begin` over the
    /// timed passes (wgpu's timestamp period converts ticks to nanoseconds).
    fn end_timing(&self) -> Result<Option<f64>> {
        let _turn = self.gpu.turn();
        let region = {
            let mut state = self.state();
            let State { rec, .. } = &mut *state;
            self.gpu.scoped(|| Ok(rec.end_timing(&self.gpu)))?
        };
        match region {
            Some(region) => region.seconds(&self.gpu, self.gpu.queue.get_timestamp_period()).map(Some),
            None => Ok(None),
        }
    }

    /// `<shader>.wgsl:<entry>@<hash>`, with `+convert.wgsl@...` when
    /// f16/bf16/bool operands are converted around the kernel; see
    /// `kernel_names::kernel_variant`.
    fn kernel_variant(&self, signature: &OpSignature) -> Option<String> {
        crate::kernel_names::kernel_variant(&self.gpu, &self.pipelines, signature)
    }

    /// `shaders/peak.wgsl`: `fma_peak` (8 vec4 fma chains per invocation)
    /// and `copy_peak` (vec4 copy).
    fn run_probe(&self, probe: &Probe) -> Result<Option<ProbeWork>> {
        let _turn = self.gpu.turn();
        let mut state = self.state();
        let State { mem, rec } = &mut *state;
        self.gpu.check_alive()?;
        let mut ctx =
            Ctx { gpu: &self.gpu, pipelines: &self.pipelines, rec, mem, dummy: &self.dummy, temps: Vec::new() };
        let result = peak::record(&mut ctx, probe);
        for t in std::mem::take(&mut ctx.temps) {
            mem.recycle(t);
        }
        result.map(Some)
    }
}
