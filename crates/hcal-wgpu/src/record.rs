//! Recording ops into one command encoder, submitted in batches.
//!
//! Kernel parameters of a whole batch go to one "params arena" buffer (each
//! dispatch binds its slice), written once just before the batch is
//! submitted; a queue write is ordered before the commands of that submit, so
//! every dispatch sees its own parameters. Nothing waits on the device here.

use std::num::NonZeroU64;
use std::sync::Arc;

use hcal_core::{Error, Result};

use crate::gpu::Gpu;
use crate::memory::Memory;
use crate::pipeline::{Kernel, Pipelines};

/// Bytes of kernel parameters one batch can hold before it is submitted.
const ARENA_BYTES: u64 = 64 << 10;

/// Dispatches recorded before a batch is submitted anyway, so the device
/// starts working while the host keeps recording.
pub(crate) const MAX_BATCH_DISPATCHES: usize = 256;

/// The open batch.
pub(crate) struct Recorder {
    encoder: Option<wgpu::CommandEncoder>,
    /// The open compute pass: consecutive dispatches share one pass (wgpu
    /// still places the barriers their buffers need between them).
    pass: Option<wgpu::ComputePass<'static>>,
    params: Vec<u32>,
    arena: Option<Arc<wgpu::Buffer>>,
    dispatches: usize,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self { encoder: None, pass: None, params: Vec::new(), arena: None, dispatches: 0 }
    }

    /// Dispatches waiting to be submitted.
    pub(crate) fn pending(&self) -> usize {
        self.dispatches
    }

    fn encoder(&mut self, gpu: &Gpu) -> &mut wgpu::CommandEncoder {
        self.encoder.get_or_insert_with(|| {
            gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("hcal batch") })
        })
    }

    /// Submit everything recorded so far (call inside an error scope).
    pub(crate) fn flush(&mut self, gpu: &Gpu) {
        self.pass = None;
        let Some(encoder) = self.encoder.take() else { return };
        if let Some(arena) = &self.arena
            && !self.params.is_empty()
        {
            gpu.queue.write_buffer(arena, 0, bytemuck::cast_slice(&self.params));
        }
        gpu.queue.submit([encoder.finish()]);
        self.params.clear();
        self.dispatches = 0;
    }

    /// Record a buffer-to-buffer copy of `bytes` (rounded up to 4).
    pub(crate) fn copy(&mut self, gpu: &Gpu, src: &wgpu::Buffer, dst: &wgpu::Buffer, bytes: u64) {
        let size = bytes.div_ceil(4) * 4;
        if size > 0 {
            self.pass = None; // a copy is recorded outside compute passes
            self.encoder(gpu).copy_buffer_to_buffer(src, 0, dst, 0, size);
        }
    }

    /// Record one dispatch of `kernel` with `params` at binding 0 and
    /// `bindings` at their slots.
    fn dispatch(
        &mut self,
        gpu: &Gpu,
        pipelines: &Pipelines,
        kernel: Kernel,
        params: &[u32],
        bindings: &[(u32, &wgpu::Buffer)],
        groups: [u32; 3],
    ) -> Result<()> {
        let compiled = pipelines.get(gpu, kernel)?;
        let align = (gpu.limits.min_storage_buffer_offset_alignment as usize / 4).max(1);
        let mut offset = self.params.len().div_ceil(align) * align;
        if ((offset + params.len()) * 4) as u64 > ARENA_BYTES {
            self.flush(gpu);
            offset = 0;
        }
        let arena = Arc::clone(self.arena.get_or_insert_with(|| {
            Arc::new(gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("hcal params arena"),
                size: ARENA_BYTES,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }))
        }));
        self.params.resize(offset, 0);
        self.params.extend_from_slice(params);
        let max_binding = gpu.limits.max_storage_buffer_binding_size;
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &arena,
                offset: (offset * 4) as u64,
                size: NonZeroU64::new((params.len().max(1) * 4) as u64),
            }),
        }];
        for &(binding, buffer) in bindings {
            if buffer.size() > max_binding {
                return Err(Error::DeviceLimit {
                    backend: gpu.backend.clone(),
                    limit: "max_storage_buffer_binding_size",
                    max: max_binding,
                    requested: buffer.size(),
                });
            }
            entries.push(wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() });
        }
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.entry),
            layout: &compiled.layout,
            entries: &entries,
        });
        if self.pass.is_none() {
            let pass = self
                .encoder(gpu)
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("hcal ops"), timestamp_writes: None });
            self.pass = Some(pass.forget_lifetime());
        }
        let pass = self.pass.as_mut().expect("opened above");
        pass.set_pipeline(&compiled.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        self.dispatches += 1;
        Ok(())
    }
}

/// What an op module records with: dispatch helpers and scratch buffers that
/// return to the pool when the op is recorded.
pub(crate) struct Ctx<'a> {
    pub(crate) gpu: &'a Gpu,
    pub(crate) pipelines: &'a Pipelines,
    pub(crate) rec: &'a mut Recorder,
    pub(crate) mem: &'a mut Memory,
    pub(crate) dummy: &'a wgpu::Buffer,
    pub(crate) temps: Vec<Arc<wgpu::Buffer>>,
}

impl Ctx<'_> {
    /// A scratch buffer of `bytes`, recycled after this op is recorded.
    pub(crate) fn scratch(&mut self, bytes: usize) -> Result<Arc<wgpu::Buffer>> {
        let buf = self.mem.buffer(self.gpu, bytes)?;
        self.temps.push(Arc::clone(&buf));
        Ok(buf)
    }

    /// Workgroups laid out on a 2-D grid of at most 65535 per dimension;
    /// kernels rebuild the linear index as `x + y * num_workgroups.x`.
    fn grid(&self, workgroups: usize) -> Result<[u32; 3]> {
        let max = self.gpu.limits.max_compute_workgroups_per_dimension as usize;
        let x = workgroups.min(max);
        let y = workgroups.div_ceil(x.max(1));
        if y > max {
            return Err(Error::DeviceLimit {
                backend: self.gpu.backend.clone(),
                limit: "max_compute_workgroups_per_dimension",
                max: max as u64,
                requested: y as u64,
            });
        }
        Ok([x as u32, y as u32, 1])
    }

    /// One invocation per item, 256 per workgroup. Nothing is recorded for 0 items.
    pub(crate) fn per_item(
        &mut self,
        kernel: Kernel,
        params: &[u32],
        bindings: &[(u32, &wgpu::Buffer)],
        items: usize,
    ) -> Result<()> {
        if items == 0 {
            return Ok(());
        }
        let groups = self.grid(items.div_ceil(256))?;
        self.rec.dispatch(self.gpu, self.pipelines, kernel, params, bindings, groups)
    }

    /// One workgroup per row. Nothing is recorded for 0 rows.
    pub(crate) fn per_row(
        &mut self,
        kernel: Kernel,
        params: &[u32],
        bindings: &[(u32, &wgpu::Buffer)],
        rows: usize,
    ) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let groups = self.grid(rows)?;
        self.rec.dispatch(self.gpu, self.pipelines, kernel, params, bindings, groups)
    }

    /// An explicit grid.
    pub(crate) fn dispatch(
        &mut self,
        kernel: Kernel,
        params: &[u32],
        bindings: &[(u32, &wgpu::Buffer)],
        groups: [u32; 3],
    ) -> Result<()> {
        if groups.contains(&0) {
            return Ok(());
        }
        self.rec.dispatch(self.gpu, self.pipelines, kernel, params, bindings, groups)
    }
}

/// A tensor as an op module sees it: its buffer and descriptor (float
/// operands arrive as f32 views; see `backend.rs`).
#[derive(Clone)]
pub(crate) struct Operand {
    pub(crate) buf: Arc<wgpu::Buffer>,
    pub(crate) desc: hcal_core::TensorDesc,
}

impl Operand {
    /// Element count as the u32 kernels index with (checked by `supports`).
    pub(crate) fn n(&self) -> u32 {
        self.desc.numel() as u32
    }
}

/// f32 bits of a float parameter.
pub(crate) fn bits(v: f32) -> u32 {
    v.to_bits()
}
