//! Device buffers: tensors by id, and a pool that recycles freed buffers.

use std::collections::HashMap;
use std::sync::Arc;

use hcal_core::{Error, Result, TensorId};

use crate::gpu::Gpu;
use crate::packed::Packed;

/// Buffer sizes are rounded up to this, so freed buffers fit later requests.
const SIZE_CLASS: u64 = 256;

/// Freed buffers kept for reuse, at most this many bytes in total.
const POOL_CAP_BYTES: u64 = 512 << 20;

/// Live tensors and recycled buffers.
#[derive(Default)]
pub(crate) struct Memory {
    tensors: HashMap<TensorId, Arc<wgpu::Buffer>>,
    /// Tensors held in textures (`packed.rs`): alone, or beside a buffer
    /// copy in `tensors` made for a reader without a texture form.
    packed: HashMap<TensorId, Packed>,
    /// Tensors with no storage yet, by bytes: block-quantized ones on a
    /// device that keeps host-written ones in textures. The first write
    /// gives one a texture (no buffer made and dropped on the way); any
    /// other first use, a buffer ([`Memory::settle`]).
    pending: HashMap<TensorId, usize>,
    pool: HashMap<u64, Vec<Arc<wgpu::Buffer>>>,
    pooled_bytes: u64,
    next_id: u64,
    /// Bytes of every buffer created and not yet dropped (tensors, scratch, pool).
    device_bytes: u64,
    /// Most `device_bytes` seen since the last reset.
    peak_bytes: u64,
    /// Largest single buffer handed out since the last reset.
    largest: u64,
    /// Textures operands are staged in, one per [`StagingSlot`], each kept
    /// for later calls that fit in it.
    staging: [Option<Staging>; StagingSlot::COUNT],
}

/// Which staging texture an operand goes to ([`Memory::staging`]). Operands
/// that are staged in the same op (or reused across its steps) need slots
/// of their own, or one would overwrite the other's texture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StagingSlot {
    /// B of a product (MatMul, Gemm, and composed products unless they name another).
    MatmulB = 0,
    /// Attention's keys: the flash kernel's K^T, and B of the composed path's score product.
    AttentionK = 1,
    /// Attention's values: the flash kernel's V, and B of the composed path's value product.
    AttentionV = 2,
    /// A of a product, by quads of rows (texture tiles from 256 columns).
    MatmulA = 3,
}

impl StagingSlot {
    /// Number of slots.
    const COUNT: usize = 4;
}

/// An rgba32float texture array and its 2-D-array view.
pub(crate) struct Staging {
    size: [u32; 3],
    pub(crate) view: Arc<wgpu::TextureView>,
    _texture: wgpu::Texture,
}

/// What the buffer pool holds and has held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryReport {
    /// Live tensors.
    pub live_tensors: usize,
    /// Freed buffers kept for reuse.
    pub pooled_buffers: usize,
    /// Bytes of those.
    pub pooled_bytes: u64,
    /// Bytes of every device buffer and staging texture hcal holds now (tensors, their textures, pool, staging).
    pub device_bytes: u64,
    /// The most `device_bytes` since the last [`reset_memory_peak`](hcal_core::Instruments::reset_memory_peak).
    pub peak_device_bytes: u64,
    /// The largest single buffer or staging texture handed out since the last reset.
    pub largest_buffer: u64,
}

/// The byte size of the buffer that holds `bytes` (non-zero, 4-byte aligned for copies);
/// saturates (then exceeds every device's `max_buffer_size`) instead of overflowing.
pub(crate) fn buffer_size(bytes: usize) -> u64 {
    (bytes as u64).max(4).div_ceil(SIZE_CLASS).saturating_mul(SIZE_CLASS)
}

/// How tensor buffers may be used on `gpu`: storage and copies, and
/// uniform where the quantized GEMV reads A's row and Scale as uniform
/// buffers ([`Gpu::uniform_rows`]).
fn tensor_usage(gpu: &Gpu) -> wgpu::BufferUsages {
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    if gpu.uniform_rows { usage | wgpu::BufferUsages::UNIFORM } else { usage }
}

/// Bytes of an rgba32float texture array.
fn staging_bytes([w, h, l]: [u32; 3]) -> u64 {
    16 * u64::from(w) * u64::from(h) * u64::from(l)
}

impl Memory {
    /// A storage buffer of at least `bytes`, recycled when possible.
    pub(crate) fn buffer(&mut self, gpu: &Gpu, bytes: usize) -> Result<Arc<wgpu::Buffer>> {
        let size = buffer_size(bytes);
        if size > gpu.limits.max_buffer_size {
            return Err(Error::DeviceLimit {
                backend: gpu.backend.clone(),
                limit: "max_buffer_size",
                max: gpu.limits.max_buffer_size,
                requested: size,
            });
        }
        self.largest = self.largest.max(size);
        if let Some(buf) = self.pool.get_mut(&size).and_then(Vec::pop) {
            self.pooled_bytes -= size;
            return Ok(buf);
        }
        let buffer = gpu.scoped(|| {
            Ok(gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("hcal tensor"),
                size,
                usage: tensor_usage(gpu),
                mapped_at_creation: false,
            }))
        });
        if buffer.is_ok() {
            self.device_bytes += size;
            self.peak_bytes = self.peak_bytes.max(self.device_bytes);
        }
        buffer.map(Arc::new).map_err(|e| match e {
            Error::OutOfMemory { backend, detail, .. } => Error::OutOfMemory { backend, bytes, detail },
            other => other,
        })
    }

    /// The texture of `slot` as an rgba32float texture array of at least
    /// `width` x `height` texels x `layers`, usable as a storage texture
    /// (written by the staging kernels, read by the texture tiles and the
    /// flash kernel) and as a sampled one (callers index their region
    /// explicitly, so a larger texture serves). Counted in the device bytes like buffers.
    ///
    /// A slot only grows, to the bounding box of the sizes asked of it while
    /// that box stays within twice the larger of the two: work recorded with
    /// a replaced texture keeps it alive until that work finishes, so
    /// replacing it on every call (weights of different shapes, attention
    /// blocks of growing key counts) would pile up textures in a batch.
    pub(crate) fn staging(&mut self, gpu: &Gpu, slot: StagingSlot, want: [u32; 3]) -> Result<Arc<wgpu::TextureView>> {
        let slot = slot as usize;
        let have = self.staging[slot].as_ref().map(|st| st.size);
        if let Some(st) = self.staging[slot].as_ref().filter(|st| (0..3).all(|i| st.size[i] >= want[i])) {
            return Ok(Arc::clone(&st.view));
        }
        let size = match have {
            Some(have) => {
                let merged = [have[0].max(want[0]), have[1].max(want[1]), have[2].max(want[2])];
                let larger = staging_bytes(have).max(staging_bytes(want));
                if staging_bytes(merged) <= 2 * larger { merged } else { want }
            }
            None => want,
        };
        let [width, height, layers] = size;
        let texture = gpu.scoped(|| {
            Ok(gpu.device.create_texture(&wgpu::TextureDescriptor {
                label: Some("hcal staging"),
                size: wgpu::Extent3d { width, height, depth_or_array_layers: layers },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Float,
                usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::TEXTURE_BINDING,
                view_formats: &[],
            }))
        })?;
        let view = Arc::new(texture.create_view(&wgpu::TextureViewDescriptor {
            dimension: Some(wgpu::TextureViewDimension::D2Array),
            ..Default::default()
        }));
        let bytes = staging_bytes(size);
        // The replaced texture lives on while recorded work uses it: both
        // count toward the peak.
        self.device_bytes += bytes;
        self.peak_bytes = self.peak_bytes.max(self.device_bytes);
        if let Some(old) = have {
            self.device_bytes -= staging_bytes(old);
        }
        self.largest = self.largest.max(bytes);
        self.staging[slot] = Some(Staging { size, view: Arc::clone(&view), _texture: texture });
        Ok(view)
    }

    /// Give a buffer back for reuse (dropped when the pool is full). Work
    /// already recorded with it still sees it: the queue orders later writes.
    pub(crate) fn recycle(&mut self, buffer: Arc<wgpu::Buffer>) {
        let size = buffer.size();
        if self.pooled_bytes + size <= POOL_CAP_BYTES {
            self.pooled_bytes += size;
            self.pool.entry(size).or_default().push(buffer);
        } else {
            self.device_bytes -= size;
        }
    }

    /// Register a buffer as a tensor.
    pub(crate) fn insert(&mut self, buffer: Arc<wgpu::Buffer>) -> TensorId {
        self.next_id += 1;
        let id = TensorId(self.next_id);
        self.tensors.insert(id, buffer);
        id
    }

    /// The buffer of a live tensor.
    pub(crate) fn get(&self, id: TensorId) -> Option<&Arc<wgpu::Buffer>> {
        self.tensors.get(&id)
    }

    /// Unregister a tensor, returning its buffer; its texture, if any, is
    /// dropped (work recorded with it keeps it alive until done).
    /// `None` when no such tensor is live.
    pub(crate) fn remove(&mut self, id: TensorId) -> Option<Option<Arc<wgpu::Buffer>>> {
        let packed = self.unpack(id).map(drop).or_else(|| self.pending.remove(&id).map(drop));
        match self.tensors.remove(&id) {
            Some(buffer) => Some(Some(buffer)),
            None => packed.map(|_| None),
        }
    }

    /// Whether tensor `id` is live.
    pub(crate) fn contains(&self, id: TensorId) -> bool {
        self.tensors.contains_key(&id) || self.packed.contains_key(&id) || self.pending.contains_key(&id)
    }

    /// Register a tensor of `bytes` with no storage yet (see `pending`).
    pub(crate) fn reserve(&mut self, bytes: usize) -> TensorId {
        self.next_id += 1;
        let id = TensorId(self.next_id);
        self.pending.insert(id, bytes);
        id
    }

    /// Give tensor `id` a buffer if it has no storage yet (uninitialized, as
    /// `alloc` promises).
    ///
    /// # Errors
    /// Out of memory and device limits.
    pub(crate) fn settle(&mut self, gpu: &Gpu, id: TensorId) -> Result<()> {
        if let Some(&bytes) = self.pending.get(&id) {
            let buffer = self.buffer(gpu, bytes)?;
            self.pending.remove(&id);
            self.tensors.insert(id, buffer);
        }
        Ok(())
    }

    /// Keep tensor `id` in `packed` from now on: its buffer, if any, goes
    /// back to the pool, and a texture it had is replaced.
    pub(crate) fn pack(&mut self, id: TensorId, packed: Packed) {
        self.pending.remove(&id);
        self.device_bytes += packed.bytes();
        self.peak_bytes = self.peak_bytes.max(self.device_bytes);
        self.largest = self.largest.max(packed.bytes());
        if let Some(old) = self.packed.insert(id, packed) {
            self.device_bytes -= old.bytes();
        }
        if let Some(buffer) = self.tensors.remove(&id) {
            self.recycle(buffer);
        }
    }

    /// The texture of tensor `id`, if it has one.
    pub(crate) fn packed(&self, id: TensorId) -> Option<&Packed> {
        self.packed.get(&id)
    }

    /// Drop the texture of tensor `id` (its buffer, if any, stays), returning it.
    pub(crate) fn unpack(&mut self, id: TensorId) -> Option<Packed> {
        let packed = self.packed.remove(&id)?;
        self.device_bytes -= packed.bytes();
        Some(packed)
    }

    /// Give tensor `id`, held in a texture, `buffer` as well (a copy made
    /// for a reader without a texture form).
    pub(crate) fn attach(&mut self, id: TensorId, buffer: Arc<wgpu::Buffer>) {
        self.tensors.insert(id, buffer);
    }

    /// `(live tensors, pooled buffers, pooled bytes)`, for leak checks.
    pub(crate) fn stats(&self) -> (usize, usize, u64) {
        let packed_only = self.packed.keys().filter(|id| !self.tensors.contains_key(id)).count();
        let live = self.tensors.len() + packed_only + self.pending.len();
        (live, self.pool.values().map(Vec::len).sum(), self.pooled_bytes)
    }

    /// The full picture, for reports.
    pub(crate) fn report(&self) -> MemoryReport {
        let (live_tensors, pooled_buffers, pooled_bytes) = self.stats();
        MemoryReport {
            live_tensors,
            pooled_buffers,
            pooled_bytes,
            device_bytes: self.device_bytes,
            peak_device_bytes: self.peak_bytes,
            largest_buffer: self.largest,
        }
    }

    /// Start a new peak / largest-buffer measurement. The pool's free
    /// buffers and the staging textures are released first: they are caches
    /// of earlier work, and counting them made the peak of a 4096-token
    /// attention call read 815 MiB after other benchmark rows (its own is
    /// under 50 MiB). Work still in flight keeps what it uses alive.
    pub(crate) fn reset_peak(&mut self) {
        self.device_bytes -= self.pooled_bytes;
        self.pooled_bytes = 0;
        self.pool.clear();
        for st in self.staging.iter_mut().filter_map(Option::take) {
            self.device_bytes -= staging_bytes(st.size);
        }
        self.peak_bytes = self.device_bytes;
        self.largest = 0;
    }
}
