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
use crate::pipeline::{Kernel, Pipelines};

/// Bytes of kernel parameters one batch can hold before it is submitted.
const ARENA_BYTES: u64 = 64 << 10;

/// Dispatches recorded before a batch is submitted anyway, so the device
/// starts working while the host keeps recording.
pub(crate) const MAX_BATCH_DISPATCHES: usize = 256;

/// Timestamp queries of one query set: a begin/end pair per compute pass. A
/// timed region with more passes resolves the set and reuses it (see
/// [`Recorder::timestamp_pair`]).
const TIMING_QUERIES: u32 = 256;

/// Device timing (`Instruments::begin_timing`): every compute pass opened while
/// it is on writes a timestamp at its beginning and end; the region's device
/// time is the sum of `end - begin` over those passes.
struct Timing {
    queries: Arc<wgpu::QuerySet>,
    /// Where query results are resolved before being copied to a readback buffer.
    resolve: Arc<wgpu::Buffer>,
    /// Queries written since the set was last resolved.
    used: u32,
    /// Resolved chunks: a mappable buffer of `count` u64 timestamps.
    chunks: Vec<(wgpu::Buffer, u32)>,
}

/// Timestamps of a finished timed region, read with [`TimedRegion::seconds`]
/// once the device has finished (after `Gpu::wait`).
pub(crate) struct TimedRegion {
    chunks: Vec<(wgpu::Buffer, u32)>,
}

impl TimedRegion {
    /// Map every chunk, wait for the device, and sum `end - begin` over the
    /// pairs, in seconds (`period_ns` nanoseconds per tick).
    pub(crate) fn seconds(self, gpu: &Gpu, period_ns: f32) -> Result<f64> {
        let backend = || gpu.backend.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, (buf, _)) in self.chunks.iter().enumerate() {
            let tx = tx.clone();
            buf.slice(..).map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send((i, r));
            });
        }
        drop(tx);
        gpu.wait()?;
        for _ in &self.chunks {
            let (_, r) = rx.recv().map_err(|_| Error::DeviceLost {
                backend: backend(),
                detail: "timestamp readback never completed".into(),
            })?;
            r.map_err(|e| Error::Backend { backend: backend(), detail: format!("map timestamps: {e}") })?;
        }
        let mut ticks = 0u64;
        for (buf, count) in &self.chunks {
            let view = buf
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Backend { backend: backend(), detail: format!("{e}") })?;
            let stamps: &[u64] = bytemuck::cast_slice(&view[..*count as usize * 8]);
            ticks += stamps.chunks_exact(2).map(|p| p[1].saturating_sub(p[0])).sum::<u64>();
        }
        Ok(ticks as f64 * f64::from(period_ns) * 1e-9)
    }
}

/// A dispatch's buffer windows and texture views, each with its binding slot.
pub(crate) type Resources<'a> = (&'a [(u32, Window<'a>)], &'a [(u32, &'a wgpu::TextureView)]);

/// Smallest offset alignment windows use: 256 bytes, WebGPU's largest
/// allowed `min_storage_buffer_offset_alignment`. A coarser alignment than
/// the device's is always valid, and the same on every device keeps the
/// remainders kernels see (and so the code paths tests exercise) alike.
const WINDOW_ALIGN: u64 = 256;

/// A byte range of a buffer, bound as one storage binding: the whole buffer,
/// or a window into one larger than `max_storage_buffer_binding_size`.
///
/// Tensors larger than one binding are worked on in pieces, each piece
/// binding windows of its operands. A window starts at an offset aligned
/// to [`Window::align`] (the device's `min_storage_buffer_offset_alignment`),
/// so it usually starts a little before the first element a piece needs;
/// [`Window::elements`] returns where it starts (its origin, an element
/// index), and the launcher passes element indices minus that origin to the
/// kernel as bases in its parameters.
#[derive(Clone, Copy)]
pub(crate) struct Window<'a> {
    pub(crate) buf: &'a wgpu::Buffer,
    /// First byte bound (a multiple of the offset alignment).
    pub(crate) offset: u64,
    /// Bytes bound (a multiple of 4, non-zero).
    pub(crate) size: u64,
}

impl<'a> From<&'a wgpu::Buffer> for Window<'a> {
    fn from(buf: &'a wgpu::Buffer) -> Self {
        Window { buf, offset: 0, size: buf.size() }
    }
}

impl<'a> Window<'a> {
    /// The offset alignment of windows on `gpu`: the device's, at least [`WINDOW_ALIGN`].
    pub(crate) fn align(gpu: &Gpu) -> u64 {
        u64::from(gpu.limits.min_storage_buffer_offset_alignment).max(WINDOW_ALIGN)
    }

    /// The window of `buf` that holds elements `[first, first + count)` of
    /// `elem_bytes` bytes each: the whole buffer when that fits one binding
    /// of `max_binding` bytes, else the range from `first`'s byte aligned
    /// down to `align`, to the end of the last element (rounded up to 4 bytes,
    /// at least 4). Returns it with its origin: the element index where it
    /// starts, to subtract from element indices.
    pub(crate) fn elements(
        buf: &'a wgpu::Buffer,
        [first, count]: [usize; 2],
        elem_bytes: usize,
        max_binding: u64,
        align: u64,
    ) -> (Self, usize) {
        if buf.size() <= max_binding {
            return (Self::from(buf), 0);
        }
        let lo = (first * elem_bytes) as u64 / align * align;
        let hi = (((first + count) * elem_bytes) as u64).div_ceil(4) * 4;
        let size = hi.saturating_sub(lo).max(4).min(buf.size() - lo);
        (Window { buf, offset: lo, size }, (lo / elem_bytes as u64) as usize)
    }

    /// The window of `buf` from byte `offset` (aligned by the caller) over
    /// `bytes` bytes (rounded up to 4, at least 4, within the buffer).
    pub(crate) fn exact(buf: &'a wgpu::Buffer, offset: u64, bytes: u64) -> Self {
        let size = (bytes.div_ceil(4) * 4).max(4).min(buf.size() - offset);
        Window { buf, offset, size }
    }

    /// Bytes of the binding a window of `count` elements of `elem_bytes`
    /// needs at most, wherever it starts: the elements plus the slack of
    /// aligning its start down and its end up to a word.
    pub(crate) fn bytes_needed(count: usize, elem_bytes: usize, align: u64) -> u64 {
        ((count * elem_bytes) as u64).div_ceil(4) * 4 + align + 4
    }
}

/// The open batch.
pub(crate) struct Recorder {
    encoder: Option<wgpu::CommandEncoder>,
    /// The open compute pass: consecutive dispatches share one pass (wgpu
    /// still places the barriers their buffers need between them).
    pass: Option<wgpu::ComputePass<'static>>,
    params: Vec<u32>,
    arena: Option<Arc<wgpu::Buffer>>,
    dispatches: usize,
    /// Dispatches and copies recorded since the backend opened
    /// (`Instruments::commands_recorded`).
    recorded: u64,
    timing: Option<Timing>,
    /// The query set and resolve buffer of an earlier timed region, reused.
    spare_queries: Option<(Arc<wgpu::QuerySet>, Arc<wgpu::Buffer>)>,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        Self {
            encoder: None,
            pass: None,
            params: Vec::new(),
            arena: None,
            dispatches: 0,
            recorded: 0,
            timing: None,
            spare_queries: None,
        }
    }

    /// Start a timed region: close the open pass (its dispatches were
    /// recorded before timing began) so the next dispatch opens a timed one.
    /// The device must have `TIMESTAMP_QUERY`.
    pub(crate) fn begin_timing(&mut self, gpu: &Gpu) {
        self.pass = None;
        let (queries, resolve) = match self.timing.take() {
            Some(t) => (t.queries, t.resolve),
            None => self.spare_queries.take().unwrap_or_else(|| {
                let queries = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("hcal timing"),
                    ty: wgpu::QueryType::Timestamp,
                    count: TIMING_QUERIES,
                });
                let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("hcal timing resolve"),
                    size: u64::from(TIMING_QUERIES) * wgpu::QUERY_SIZE as u64,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                });
                (Arc::new(queries), Arc::new(resolve))
            }),
        };
        self.timing = Some(Timing { queries, resolve, used: 0, chunks: Vec::new() });
    }

    /// End the timed region: close the open pass, resolve its timestamps and
    /// submit (call inside an error scope). `None` when timing was not on.
    pub(crate) fn end_timing(&mut self, gpu: &Gpu) -> Option<TimedRegion> {
        self.pass = None;
        self.resolve_timestamps(gpu);
        self.flush(gpu);
        let t = self.timing.take()?;
        self.spare_queries = Some((t.queries, t.resolve));
        Some(TimedRegion { chunks: t.chunks })
    }

    /// Copy the queries written so far into a new readback chunk (with no
    /// pass open) and start the set over.
    fn resolve_timestamps(&mut self, gpu: &Gpu) {
        let Some(t) = self.timing.as_ref().filter(|t| t.used > 0) else { return };
        let (queries, resolve, used) = (Arc::clone(&t.queries), Arc::clone(&t.resolve), t.used);
        let bytes = u64::from(used) * wgpu::QUERY_SIZE as u64;
        let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("hcal timing readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let encoder = self.encoder(gpu);
        encoder.resolve_query_set(&queries, 0..used, &resolve, 0);
        encoder.copy_buffer_to_buffer(&resolve, 0, &readback, 0, bytes);
        let t = self.timing.as_mut().expect("checked above");
        t.chunks.push((readback, used));
        t.used = 0;
    }

    /// The timestamp writes of a pass about to open, when timing is on. A
    /// full query set is resolved and the batch submitted first: a query may
    /// be written only once per command buffer (wgpu resets the queries a
    /// command buffer uses before it runs).
    fn timestamp_pair(&mut self, gpu: &Gpu) -> Option<(Arc<wgpu::QuerySet>, u32)> {
        if self.timing.as_ref()?.used + 2 > TIMING_QUERIES {
            self.resolve_timestamps(gpu);
            self.flush(gpu);
        }
        let t = self.timing.as_mut()?;
        let first = t.used;
        t.used += 2;
        Some((Arc::clone(&t.queries), first))
    }

    /// Dispatches waiting to be submitted.
    pub(crate) fn pending(&self) -> usize {
        self.dispatches
    }

    /// Dispatches and copies recorded since the recorder was made.
    pub(crate) fn recorded(&self) -> u64 {
        self.recorded
    }

    fn encoder(&mut self, gpu: &Gpu) -> &mut wgpu::CommandEncoder {
        self.encoder.get_or_insert_with(|| {
            gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("hcal batch") })
        })
    }

    /// Submit everything recorded so far (call inside an error scope); the
    /// submission's index, if there was anything to submit.
    pub(crate) fn flush(&mut self, gpu: &Gpu) -> Option<wgpu::SubmissionIndex> {
        self.pass = None;
        let encoder = self.encoder.take()?;
        if let Some(arena) = &self.arena
            && !self.params.is_empty()
        {
            gpu.queue.write_buffer(arena, 0, bytemuck::cast_slice(&self.params));
        }
        let index = gpu.queue.submit([encoder.finish()]);
        self.params.clear();
        self.dispatches = 0;
        Some(index)
    }

    /// Record a buffer-to-buffer copy of `bytes` (rounded up to 4).
    pub(crate) fn copy(&mut self, gpu: &Gpu, src: &wgpu::Buffer, dst: &wgpu::Buffer, bytes: u64) {
        let size = bytes.div_ceil(4) * 4;
        if size > 0 {
            self.pass = None; // a copy is recorded outside compute passes
            self.encoder(gpu).copy_buffer_to_buffer(src, 0, dst, 0, size);
            self.recorded += 1;
        }
    }

    /// Record a copy of the texture of a tensor held in one (`packed.rs`)
    /// into `dst`, which holds at least [`crate::packed::Packed::bytes`].
    pub(crate) fn copy_texture(&mut self, gpu: &Gpu, src: &crate::packed::Packed, dst: &wgpu::Buffer) {
        self.pass = None;
        src.copy_to(self.encoder(gpu), dst);
        self.recorded += 1;
    }

    /// Record a copy of `bytes` (a multiple of 4) from byte `src_offset` of
    /// `src` to byte `dst_offset` of `dst` (both multiples of 4). Copies are
    /// not limited by the binding size: pieces of tensors larger than one
    /// binding are copied in and out of buffers that fit one.
    pub(crate) fn copy_region(
        &mut self,
        gpu: &Gpu,
        (src, src_offset): (&wgpu::Buffer, u64),
        (dst, dst_offset): (&wgpu::Buffer, u64),
        bytes: u64,
    ) {
        if bytes > 0 {
            self.pass = None;
            self.encoder(gpu).copy_buffer_to_buffer(src, src_offset, dst, dst_offset, bytes);
            self.recorded += 1;
        }
    }

    /// Record one dispatch of `kernel` with `params` (its block as words) at binding 0 and
    /// the buffers and texture views at their slots.
    pub(crate) fn dispatch(
        &mut self,
        gpu: &Gpu,
        pipelines: &Pipelines,
        kernel: Kernel,
        params: &[u32],
        (bindings, views): Resources<'_>,
        groups: [u32; 3],
    ) -> Result<()> {
        let compiled = pipelines.get(gpu, kernel)?;
        let align = (gpu.limits.min_storage_buffer_offset_alignment as usize / 4).max(1);
        if ((self.params.len().div_ceil(align) * align + params.len()) * 4) as u64 > ARENA_BYTES {
            self.flush(gpu);
        }
        // Decided after that flush (which closes the pass) and before this
        // dispatch's parameters are staged, since it may submit the batch too.
        let timestamps = if self.pass.is_none() { self.timestamp_pair(gpu) } else { None };
        let offset = self.params.len().div_ceil(align) * align;
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
        for &(binding, w) in bindings {
            // Each window (not the buffer it lies in) must fit one binding:
            // launchers split larger tensors into pieces (see `Window`).
            if w.size > max_binding {
                return Err(Error::DeviceLimit {
                    backend: gpu.backend.clone(),
                    limit: "max_storage_buffer_binding_size",
                    max: max_binding,
                    requested: w.size,
                });
            }
            let resource = if w.offset == 0 && w.size == w.buf.size() {
                w.buf.as_entire_binding()
            } else {
                wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: w.buf,
                    offset: w.offset,
                    size: NonZeroU64::new(w.size),
                })
            };
            entries.push(wgpu::BindGroupEntry { binding, resource });
        }
        for &(binding, view) in views {
            entries.push(wgpu::BindGroupEntry { binding, resource: wgpu::BindingResource::TextureView(view) });
        }
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.entry),
            layout: &compiled.layout,
            entries: &entries,
        });
        if self.pass.is_none() {
            let timestamp_writes = timestamps.as_ref().map(|(queries, first)| wgpu::ComputePassTimestampWrites {
                query_set: queries,
                beginning_of_pass_write_index: Some(*first),
                end_of_pass_write_index: Some(first + 1),
            });
            let pass = self
                .encoder(gpu)
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("hcal ops"), timestamp_writes });
            self.pass = Some(pass.forget_lifetime());
        }
        let pass = self.pass.as_mut().expect("opened above");
        pass.set_pipeline(&compiled.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
        self.dispatches += 1;
        self.recorded += 1;
        Ok(())
    }
}
