//! The `Backend` implementation: memory, batching, dtype staging, op dispatch.

use std::sync::{Arc, Mutex, MutexGuard};

use hcal_core::{
    Backend, Call, DType, DeviceInfo, Error, Instruments, Op, OpSignature, Probe, ProbeWork, Result, Support, Tensor,
    TensorDesc, attention_geometry, matmul_geometry,
};

use crate::adapter::{AdapterEntry, api_name, device_type};
use crate::gpu::Gpu;
use crate::memory::Memory;
use crate::pipeline::Pipelines;
use crate::record::{Ctx, MAX_BATCH_DISPATCHES, Operand, Recorder};
use crate::{attention, binary, convert, matmul, norm, peak, reduce, rotary, softmax, transpose, unary};

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
    gpu: Gpu,
    info: DeviceInfo,
    pipelines: Pipelines,
    dummy: wgpu::Buffer,
    state: Mutex<State>,
}

/// FNV-1a of a shader family's WGSL source, so a kernel's reported name
/// changes whenever its source does.
fn source_hash(shader: &str) -> u32 {
    let source = crate::shader_sources().find(|(n, _)| *n == shader).map_or("", |(_, s)| s);
    source.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Which matmul and attention kernel tiers a device gets, and why the others not.
fn tier_notes(gpu: &Gpu, features: wgpu::Features) -> Vec<String> {
    let subgroup = match gpu.subgroup_max {
        Some(max) => format!("subgroups of {max}"),
        None => "none usable".to_string(),
    };
    let matmul = if gpu.subgroup_max.is_some() {
        format!("matmul: texture tiles ({subgroup}), storage-buffer tiles, workgroup-memory tiles, GEMV; autotuned")
    } else {
        format!(
            "matmul: storage-buffer tiles, workgroup-memory tiles, GEMV; autotuned (texture tiles need subgroups of 8 or more; this adapter has {subgroup})"
        )
    };
    let cooperative = if features.contains(wgpu::Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        "cooperative matrix: offered by the adapter, not used (hcal has no cooperative-matrix kernel yet)"
    } else {
        "cooperative matrix: not used (the adapter does not offer EXPERIMENTAL_COOPERATIVE_MATRIX)"
    };
    let flash = if gpu.subgroup_max == Some(8) {
        "available for D a multiple of 8 up to 128 and Dv 64 or 128 (else composed or fused)"
    } else {
        "not used (needs subgroups of exactly 8; attention takes the composed and fused paths)"
    };
    vec![matmul, cooperative.to_string(), format!("attention flash kernel: {flash}")]
}

impl WgpuBackend {
    /// Open the adapter called `name` (`wgpu` picks the best one).
    ///
    /// # Errors
    /// [`Error::UnknownBackend`] when no such adapter exists; device creation errors.
    ///
    /// Suffixes open the same adapter with a kernel choice pinned, as
    /// reference points for benchmarks: `:baseline` (`wgpu:vulkan:0:baseline`)
    /// runs every MatMul/Gemm on the simple 4x4 kernel, `:smem` on the
    /// workgroup-memory tiled kernel where it applies; `:fused`,
    /// `:composed`, `:split` (flash-decoding) and `:flash` pin the attention path, and `:composedN` also caps the
    /// composed path's blocks at N query rows; `:mm=<kernel>` pins one named
    /// matmul kernel (`:mm=tiled-16x16-wg8x8`, names as `hcal bench` reports
    /// them) where it can run the product.
    pub fn open(name: &str) -> Result<Self> {
        // Suffixes pin kernel choices (for baselines and comparisons):
        // `:baseline` the simple matmul kernel, `:smem` the workgroup-memory
        // one, `:fused` / `:composed` an attention path.
        let mut adapter = name;
        let mut pins = Vec::new();
        while let Some((rest, pin)) = adapter.rsplit_once(':') {
            let composed_rows = pin.strip_prefix("composed").filter(|r| !r.is_empty()).map(str::parse::<usize>);
            let known =
                matches!(pin, "baseline" | "smem" | "fused" | "composed" | "split" | "flash") || pin.starts_with("mm=");
            if !known && !matches!(composed_rows, Some(Ok(_))) {
                break;
            }
            pins.push(pin);
            adapter = rest;
        }
        let entry = crate::adapter::resolve(adapter)?;
        let mut backend = Self::from_adapter(&entry)?;
        for pin in pins.iter().rev() {
            match *pin {
                "baseline" => backend.pipelines.tuner.pin_matmul("matmul-4x4"),
                "smem" => backend.pipelines.tuner.pin_matmul("smem-64x64"),
                "fused" => backend.pipelines.tuner.set_attention_path(crate::attention::Path::Fused),
                "split" => backend.pipelines.tuner.set_attention_path(crate::attention::Path::Split),
                "flash" => backend.pipelines.tuner.set_attention_path(crate::attention::Path::Flash),
                mm if mm.starts_with("mm=") => {
                    let path = &mm[3..];
                    let names = crate::matmul::path_names();
                    if !names.iter().any(|n| n == path) {
                        return Err(Error::UnknownBackend {
                            name: name.to_string(),
                            available: names.iter().map(|n| format!("{adapter}:mm={n}")).collect::<Vec<_>>().join(", "),
                        });
                    }
                    backend.pipelines.tuner.pin_matmul(path);
                }
                other => {
                    backend.pipelines.tuner.set_attention_path(crate::attention::Path::Composed);
                    if let Some(Ok(rows)) = other.strip_prefix("composed").map(str::parse::<usize>) {
                        backend.pipelines.tuner.set_attention_rows(rows);
                    }
                }
            }
            backend.info.backend = format!("{}:{pin}", backend.info.backend);
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
        info.notes = tier_notes(&gpu, features);
        let dummy = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("hcal unused binding"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Ok(Self {
            gpu,
            info,
            pipelines: Pipelines::default(),
            dummy,
            state: Mutex::new(State { mem: Memory::default(), rec: Recorder::new() }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every mutation of the state is a complete map/vector operation, so a
        // panic elsewhere cannot leave it half-updated.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Device memory held now, at peak, and the largest single buffer since
    /// the last [`WgpuBackend::reset_memory_peak`] (e.g. to show that an
    /// attention call never allocated a sequence-squared score buffer).
    pub fn memory_report(&self) -> crate::MemoryReport {
        self.state().mem.report()
    }

    /// Start a new peak and largest-buffer measurement, releasing the free
    /// pooled buffers and staging textures first (caches of earlier work),
    /// so the peak is what the following work holds.
    pub fn reset_memory_peak(&self) {
        self.state().mem.reset_peak();
    }

    /// `(live tensors, pooled buffers, pooled bytes, compiled pipelines)`.
    pub fn memory_stats(&self) -> (usize, usize, u64, usize) {
        let (live, pooled, bytes) = self.state().mem.stats();
        (live, pooled, bytes, self.pipelines.len())
    }

    /// Simulate a lost device (wgpu `Device::destroy`): every later call errors.
    pub fn destroy_device_for_testing(&self) {
        self.gpu.device.destroy();
        // wgpu reports the loss through the callback on its next maintenance.
        let _ = self.gpu.device.poll(wgpu::PollType::Poll);
    }

    fn invalid(&self, t: &Tensor) -> Error {
        Error::InvalidTensor { backend: self.info.backend.clone(), id: t.id().0 }
    }

    /// Why a signature cannot run here, if it cannot.
    fn decline(&self, sig: &OpSignature) -> Option<String> {
        let inputs: Vec<Option<&TensorDesc>> = sig.inputs().iter().map(Option::as_ref).collect();
        let outputs = sig.outputs();
        let max_binding = self.gpu.limits.max_storage_buffer_binding_size;
        for d in inputs.iter().flatten().copied().chain(outputs) {
            if d.numel() >= u32::MAX as usize {
                return Some(format!("{d} has more than 2^32 elements (kernels index with u32)"));
            }
            // Float tensors also get an f32 copy; that copy must fit one binding.
            let bytes = (d.numel() * d.dtype.size_bytes().max(4)) as u64;
            if bytes > max_binding {
                return Some(format!(
                    "{d} needs a {bytes}-byte binding; max_storage_buffer_binding_size is {max_binding}"
                ));
            }
        }
        match sig.op() {
            Op::Attention(attrs) => {
                let d = |i: usize| inputs.get(i).copied().flatten();
                let g = attention_geometry(attrs, d(0)?, d(1)?, d(2)?, d(3), d(4).zip(d(5))).ok()?;
                let max_binding = self.gpu.limits.max_storage_buffer_binding_size;
                let fused_ok = g.head_dim <= attention::MAX_HEAD_DIM && g.v_head_dim <= attention::MAX_HEAD_DIM;
                if !fused_ok && !attention::composed_fits(&g, max_binding) {
                    return Some(format!(
                        "head sizes {}/{} exceed the fused kernel's {} and one query row of the composed path's scores ({} bytes) exceeds {}",
                        g.head_dim,
                        g.v_head_dim,
                        attention::MAX_HEAD_DIM,
                        attention::score_bytes_per_row(&g),
                        attention::COMPOSED_SCORE_CAP.min(max_binding)
                    ));
                }
            }
            Op::MatMul => {
                let g = matmul_geometry(&inputs[0]?.shape, &inputs[1]?.shape).ok()?;
                if g.batch.len() > matmul::MAX_BATCH_RANK {
                    return Some(format!("batch rank {} exceeds {}", g.batch.len(), matmul::MAX_BATCH_RANK));
                }
                let max = self.gpu.limits.max_compute_workgroups_per_dimension as usize;
                if g.batch_count() > max {
                    return Some(format!(
                        "batch of {} matrices exceeds max_compute_workgroups_per_dimension ({max})",
                        g.batch_count()
                    ));
                }
            }
            Op::Binary(_) | Op::LayerNormalization { .. } | Op::RmsNormalization { .. }
                if outputs[0].rank() > binary::MAX_RANK =>
            {
                return Some(format!("rank {} exceeds the kernel's {}", outputs[0].rank(), binary::MAX_RANK));
            }
            Op::Reduce { .. } | Op::Transpose { .. }
                if inputs[0]?.rank() > reduce::MAX_RANK.min(transpose::MAX_RANK) =>
            {
                return Some(format!("rank {} exceeds the kernel's {}", inputs[0]?.rank(), reduce::MAX_RANK));
            }
            _ => {}
        }
        None
    }

    fn record(&self, ctx: &mut Ctx<'_>, call: &Call<'_>) -> Result<()> {
        let operand = |t: Option<&Tensor>, ctx: &Ctx<'_>| -> Result<Option<Operand>> {
            t.map(|t| {
                let buf = ctx.mem.get(t.id()).cloned().ok_or_else(|| self.invalid(t))?;
                Ok(Operand { buf, desc: t.desc().clone() })
            })
            .transpose()
        };
        let raw_in: Vec<Option<Operand>> = call.inputs().iter().map(|t| operand(*t, ctx)).collect::<Result<_>>()?;
        let raw_out: Vec<Option<Operand>> = call.outputs().iter().map(|t| operand(*t, ctx)).collect::<Result<_>>()?;
        match call.op() {
            Op::Cast { .. } => return convert::cast(ctx, req(&raw_in, 0), req(&raw_out, 0)),
            Op::Transpose { perm } => {
                return transpose::record(ctx, perm.as_deref(), req(&raw_in, 0), req(&raw_out, 0));
            }
            _ => {}
        }
        // f32 views: floats and bool masks are converted; i64 position ids stay raw.
        let mut ins = Vec::with_capacity(raw_in.len());
        for o in &raw_in {
            ins.push(match o {
                Some(o) if o.desc.dtype != DType::I64 => Some(convert::to_f32(ctx, o)?),
                other => other.clone(),
            });
        }
        let mut outs = Vec::with_capacity(raw_out.len());
        for o in &raw_out {
            outs.push(match o {
                Some(o) if o.desc.dtype != DType::F32 => {
                    let buf = ctx.scratch(o.desc.numel() * 4)?;
                    Some(Operand { buf, desc: TensorDesc::new(o.desc.shape.clone(), DType::F32) })
                }
                other => other.clone(),
            });
        }
        let mask_is_bool = raw_in.get(3).and_then(|m| m.as_ref()).is_some_and(|m| m.desc.dtype == DType::Bool);
        record_f32(ctx, call.op(), &ins, &outs, mask_is_bool)?;
        for (raw, view) in raw_out.iter().zip(&outs) {
            if let (Some(raw), Some(view)) = (raw, view)
                && raw.desc.dtype != DType::F32
            {
                convert::from_f32(ctx, &view.buf, raw)?;
            }
        }
        Ok(())
    }
}

/// A required operand (present: `Call` validated the arity).
fn req(slots: &[Option<Operand>], i: usize) -> &Operand {
    slots[i].as_ref().expect("validated by hcal-core")
}

/// Dispatch an op whose float operands are all f32.
fn record_f32(
    ctx: &mut Ctx<'_>,
    op: &Op,
    ins: &[Option<Operand>],
    outs: &[Option<Operand>],
    mask_is_bool: bool,
) -> Result<()> {
    let opt = |i: usize| ins.get(i).and_then(Option::as_ref);
    match op {
        Op::MatMul => matmul::matmul(ctx, req(ins, 0), req(ins, 1), req(outs, 0)),
        Op::Gemm(attrs) => matmul::gemm(ctx, attrs, req(ins, 0), req(ins, 1), opt(2), req(outs, 0)),
        Op::Softmax { axis } => softmax::record(ctx, *axis, req(ins, 0), req(outs, 0)),
        Op::LayerNormalization { .. } | Op::RmsNormalization { .. } => {
            norm::record(ctx, op, req(ins, 0), req(ins, 1), opt(2), req(outs, 0))
        }
        Op::Attention(attrs) => {
            let (q, k, v) = (req(ins, 0), req(ins, 1), req(ins, 2));
            let past = opt(4).zip(opt(5));
            let g = attention_geometry(
                attrs,
                &q.desc,
                &k.desc,
                &v.desc,
                opt(3).map(|m| &m.desc),
                past.map(|(a, b)| (&a.desc, &b.desc)),
            )?;
            let inputs = attention::Inputs { q, k, v, mask: opt(3).map(|m| (m, mask_is_bool)), past };
            let present = [outs.get(1).and_then(Option::as_ref), outs.get(2).and_then(Option::as_ref)];
            attention::record(ctx, attrs, &g, inputs, req(outs, 0), present)
        }
        Op::RotaryEmbedding(attrs) => {
            rotary::record(ctx, attrs, req(ins, 0), req(ins, 1), req(ins, 2), opt(3), req(outs, 0))
        }
        Op::Gelu { .. } | Op::Unary(_) => unary::record(ctx, op, req(ins, 0), req(outs, 0)),
        Op::Binary(b) => binary::record(ctx, *b, req(ins, 0), req(ins, 1), req(outs, 0)),
        Op::Reduce { op, axes, .. } => reduce::record(ctx, *op, axes.as_deref(), req(ins, 0), req(outs, 0)),
        Op::Transpose { .. } | Op::Cast { .. } => unreachable!("handled on raw storage"),
    }
}

impl Backend for WgpuBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn supports(&self, signature: &OpSignature) -> Support {
        match self.decline(signature) {
            Some(reason) => Support::Unsupported(reason),
            None => Support::Native,
        }
    }

    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        self.gpu.check_alive()?;
        let bytes = desc.byte_len()?;
        let mut state = self.state();
        let buf = state.mem.buffer(&self.gpu, bytes)?;
        Ok(Tensor::from_parts(state.mem.insert(buf), desc.clone()))
    }

    fn free(&self, tensor: &Tensor) -> Result<()> {
        let mut state = self.state();
        let buf = state.mem.remove(tensor.id()).ok_or_else(|| self.invalid(tensor))?;
        state.mem.recycle(buf);
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
        let mut state = self.state();
        let buf = state.mem.get(tensor.id()).cloned().ok_or_else(|| self.invalid(tensor))?;
        let State { rec, .. } = &mut *state;
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
        let len = tensor.desc().byte_len()?;
        let mut state = self.state();
        let buf = state.mem.get(tensor.id()).cloned().ok_or_else(|| self.invalid(tensor))?;
        let size = (len.max(4) as u64).div_ceil(4) * 4;
        let State { rec, .. } = &mut *state;
        let staging = self.gpu.scoped(|| {
            let staging = self.gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("hcal readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            rec.copy(&self.gpu, &buf, &staging, size);
            rec.flush(&self.gpu);
            Ok(staging)
        })?;
        drop(state);
        let (tx, rx) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.gpu.wait()?;
        let backend = || self.info.backend.clone();
        rx.recv()
            .map_err(|_| Error::DeviceLost { backend: backend(), detail: "readback never completed".into() })?
            .map_err(|e| Error::Backend { backend: backend(), detail: format!("map for read: {e}") })?;
        let data = {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Backend { backend: backend(), detail: format!("{e}") })?;
            view[..len].to_vec()
        };
        staging.unmap();
        Ok(data)
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        let mut state = self.state();
        let State { mem, rec } = &mut *state;
        // Recording needs no error scope of its own: what it could get wrong
        // (bind groups, passes) is reported when the batch is submitted inside
        // a scope, or by the uncaptured-error handler, checked at every scope.
        self.gpu.check_alive()?;
        let mut ctx =
            Ctx { gpu: &self.gpu, pipelines: &self.pipelines, rec, mem, dummy: &self.dummy, temps: Vec::new() };
        let result = self.record(&mut ctx, call);
        for t in std::mem::take(&mut ctx.temps) {
            mem.recycle(t);
        }
        result?;
        if rec.pending() >= MAX_BATCH_DISPATCHES {
            self.gpu.scoped(|| {
                rec.flush(&self.gpu);
                Ok(())
            })?;
        }
        Ok(())
    }

    fn sync(&self) -> Result<()> {
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

    fn instruments(&self) -> Option<&dyn Instruments> {
        Some(self)
    }
}

impl Instruments for WgpuBackend {
    fn reset_memory_peak(&self) {
        self.state().mem.reset_peak();
    }

    fn memory_peak(&self) -> Option<u64> {
        Some(self.state().mem.report().peak_device_bytes)
    }

    /// Timestamp queries at the beginning and end of every compute pass
    /// opened until [`Instruments::end_timing`] (needs the adapter's
    /// `TIMESTAMP_QUERY`, requested at open when offered).
    fn begin_timing(&self) -> Result<bool> {
        if !self.gpu.device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(false);
        }
        self.gpu.check_alive()?;
        self.state().rec.begin_timing(&self.gpu);
        Ok(true)
    }

    /// Submits the timed work, waits for it, and sums `end - begin` over the
    /// timed passes (wgpu's timestamp period converts ticks to nanoseconds).
    fn end_timing(&self) -> Result<Option<f64>> {
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

    /// `<shader>.wgsl:<entry>@<fnv1a-32 of the shader source>`, with
    /// `+convert.wgsl@...` when f16/bf16/bool operands are converted around
    /// the kernel: editing a kernel changes the name.
    fn kernel_variant(&self, signature: &OpSignature) -> Option<String> {
        if let Op::Attention(attrs) = signature.op() {
            // The path decides the kernels: the fused one, or the composed
            // sequence (matmuls around the in-place score softmax).
            let d = |i: usize| signature.inputs().get(i).and_then(Option::as_ref);
            let g = attention_geometry(attrs, d(0)?, d(1)?, d(2)?, d(3), d(4).zip(d(5))).ok()?;
            let flash_ok = crate::flash::variant_for(&self.gpu, &g, d(3).is_some()).is_some();
            let device = attention::Device::new(&self.gpu, flash_ok);
            let (shader, entry) = match attention::path_for(&self.pipelines.tuner, device, &g) {
                attention::Path::Fused => ("attention", "attention"),
                attention::Path::Composed => ("attention", "scores_softmax+matmul"),
                attention::Path::Split => ("attention", "decode_split+decode_combine"),
                attention::Path::Flash => ("attention_flash", "attention_flash"),
            };
            return Some(format!("{shader}.wgsl:{entry}@{:08x}", source_hash(shader)));
        }
        if matches!(signature.op(), Op::MatMul | Op::Gemm(_)) {
            let path = crate::matmul::describe(
                &self.pipelines.tuner,
                &self.gpu.backend,
                crate::matmul::Caps::of(&self.gpu),
                signature,
            )?;
            let shader = match path.split('-').next() {
                Some("tiled") => "matmul_tiled",
                Some("texture") => "matmul_texture",
                Some("smem") => "matmul_smem",
                _ => "matmul",
            };
            return Some(format!("{shader}.wgsl:{path}@{:08x}", source_hash(shader)));
        }
        let (shader, entry) = match signature.op() {
            Op::MatMul | Op::Gemm(_) => unreachable!("handled above"),
            Op::Softmax { .. } => ("softmax", "softmax"),
            Op::LayerNormalization { .. } | Op::RmsNormalization { .. } => ("norm", "norm"),
            Op::Attention(_) => ("attention", "attention"),
            Op::RotaryEmbedding(_) => ("rotary", "rotary"),
            Op::Gelu { .. } | Op::Unary(_) => ("unary", "unary"),
            Op::Binary(_) => ("binary", "binary"),
            Op::Reduce { .. } => ("reduce", "reduce"),
            Op::Transpose { .. } => ("transpose", "transpose"),
            Op::Cast { .. } => ("convert", "cast"),
        };
        let mut name = format!("{shader}.wgsl:{entry}@{:08x}", source_hash(shader));
        let converted = signature.inputs().iter().flatten().any(|d| !matches!(d.dtype, DType::F32 | DType::I64));
        if converted && shader != "convert" && shader != "transpose" {
            name += &format!("+convert.wgsl@{:08x}", source_hash("convert"));
        }
        Some(name)
    }

    /// `shaders/peak.wgsl`: `fma_peak` (8 vec4 fma chains per invocation)
    /// and `copy_peak` (vec4 copy).
    fn run_probe(&self, probe: &Probe) -> Result<Option<ProbeWork>> {
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

/// Shared handle type for registries.
pub type SharedWgpuBackend = Arc<WgpuBackend>;
