//! Block-quantized tensors held in read-only storage textures on SIMD CPU
//! drivers (lavapipe), where the quantized products read them faster than
//! from storage buffers.
//!
//! Why: on lavapipe (Mesa 22.3) a storage-buffer load is a branchy loop over
//! the lanes (a bounds check and a scalar load each), while a read-only
//! storage-texture load is an inlined gather of 8 lanes x 4 words (see
//! `shaders/matmul_texture.wgsl`). The quantized GEMV of decode loads its
//! weight blocks that way, so those loads are a large part of its time.
//!
//! Layout: the tensor's bytes (the same packed blocks, no dequantized copy),
//! its blocks in the interleaved order of `block_layout.rs` (a permutation
//! of whole blocks that lets the decode GEMV stream them, or its split form,
//! each run's scales apart from its quants so that they lie on texels; the
//! host puts them in it on upload and back in stored order on read), in an `rgba32uint`
//! texture of [`WIDTH`] texels per row:
//! byte `i` lies in texel `t = i / 16`, at `(t % WIDTH, t / WIDTH)`, in
//! word `(i / 4) % 4` of it. A row is 4 KiB, a multiple of the 256 bytes wgpu
//! asks of copy rows, so the texture copies to and from a buffer as one
//! linear run. The last row is padded with zeros.
//!
//! Which tensors: a block-quantized tensor whose first use is a write from
//! the host (weights), on a CPU driver offering read-only `rgba32uint`
//! storage textures, unless the backend is pinned `:buffers`; `alloc` gives
//! such a tensor no storage until its first use (`Memory::settle`). Every op
//! of the standard that reads a quantized tensor reads the texture: the
//! products and Cast (`matmul_quant.wgsl`) and Gather (`gather.wgsl`). An op
//! added later without a texture form would get a buffer copy, made once and
//! kept beside the texture ([`input`]). An op writing the tensor (Gather
//! into a host-written one) moves it back to a buffer for good ([`release`]).
//!
//! Measured on lavapipe (2 threads, `hcal bench --baseline
//! wgpu:vulkan:0:buffers`, sampled in turn): Q4_1 GEMVs 1536x576 1.56x and
//! 1.71x, 576x1536 1.37x, 576x576 1.12-1.26x, 192x576 1.06x; Q8_0 1536x576
//! 1.46x, 49152x576 1.24x.

use std::sync::Arc;

use hcal_core::{Error, Result, Tensor};

use crate::block_layout::BlockLayout;
use crate::ctx::{Ctx, Operand};
use crate::gpu::Gpu;

/// Texels per texture row: a power of two (kernels split a texel index with
/// a mask and a shift), and small, since a tensor's last row is padded (with
/// 256, under 4 KiB per tensor), but a row of at least 256 bytes (wgpu's copy
/// row alignment). With lavapipe's 16384 rows a texture holds 64 MiB; a
/// larger tensor stays in a buffer.
pub(crate) const WIDTH: u32 = 256;

/// Bytes per texel (`rgba32uint`).
const TEXEL_BYTES: u64 = 16;

/// Bytes per texture row.
pub(crate) const ROW_BYTES: u64 = WIDTH as u64 * TEXEL_BYTES;

/// A tensor's bytes in a texture.
pub(crate) struct Packed {
    texture: wgpu::Texture,
    /// The 2-D view the kernels bind.
    pub(crate) view: Arc<wgpu::TextureView>,
    /// The tensor's bytes.
    len: u64,
    /// The order its blocks are stored in (`None`: as the tensor stores them)
    /// and the bytes per block.
    pub(crate) layout: Option<(BlockLayout, usize)>,
}

/// What a kernel reading a packed tensor binds and needs to know: the
/// texture's view and the block order.
#[derive(Clone)]
pub(crate) struct PackedView {
    pub(crate) view: Arc<wgpu::TextureView>,
    pub(crate) layout: Option<BlockLayout>,
}

/// Whether a device on `adapter` keeps host-written block-quantized tensors
/// in textures: a CPU driver (`simd_cpu`) with read-only `rgba32uint` storage textures.
pub(crate) fn offered(simd_cpu: bool, adapter: &wgpu::Adapter) -> bool {
    let features = adapter.get_texture_format_features(wgpu::TextureFormat::Rgba32Uint);
    simd_cpu
        && features.allowed_usages.contains(wgpu::TextureUsages::STORAGE_BINDING)
        && features.flags.contains(wgpu::TextureFormatFeatureFlags::STORAGE_READ_ONLY)
}

/// Texture rows for `bytes`.
fn rows_for(bytes: usize) -> u64 {
    (bytes as u64).max(1).div_ceil(ROW_BYTES)
}

/// Whether `bytes` fit one texture on `gpu`.
pub(crate) fn fits(gpu: &Gpu, bytes: usize) -> bool {
    rows_for(bytes) <= u64::from(gpu.limits.max_texture_dimension_2d)
}

impl Packed {
    /// A texture holding `bytes` (checked by [`fits`]), written through the
    /// queue, its blocks (of `layout.1` bytes) in `layout.0`'s order where given.
    ///
    /// # Errors
    /// Out of memory and device errors, from the error scope around the creation.
    pub(crate) fn upload(gpu: &Gpu, bytes: &[u8], layout: Option<(BlockLayout, usize)>) -> Result<Self> {
        let rows = rows_for(bytes.len()) as u32;
        let texture = gpu.scoped(|| {
            Ok(gpu.device.create_texture(&wgpu::TextureDescriptor {
                label: Some("hcal packed tensor"),
                size: wgpu::Extent3d { width: WIDTH, height: rows, depth_or_array_layers: 1 },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format: wgpu::TextureFormat::Rgba32Uint,
                usage: wgpu::TextureUsages::STORAGE_BINDING
                    | wgpu::TextureUsages::COPY_DST
                    | wgpu::TextureUsages::COPY_SRC,
                view_formats: &[],
            }))
        })?;
        // Whole rows: the tail of the last one is zeros.
        let mut padded = match layout {
            Some((order, block_bytes)) => order.interleave(bytes, block_bytes),
            None => bytes.to_vec(),
        };
        padded.resize((u64::from(rows) * ROW_BYTES) as usize, 0);
        gpu.scoped(|| {
            gpu.queue.write_texture(
                texture.as_image_copy(),
                &padded,
                wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(ROW_BYTES as u32), rows_per_image: None },
                texture.size(),
            );
            Ok(())
        })?;
        let view = Arc::new(texture.create_view(&wgpu::TextureViewDescriptor::default()));
        Ok(Self { texture, view, len: bytes.len() as u64, layout })
    }

    /// The tensor's bytes in stored order from `copied`, what
    /// [`Packed::copy_to`] wrote (its first `len` bytes are the tensor's).
    pub(crate) fn stored_order(&self, copied: &[u8]) -> Vec<u8> {
        let bytes = &copied[..self.len as usize];
        match self.layout {
            Some((order, block_bytes)) => order.deinterleave(bytes, block_bytes),
            None => bytes.to_vec(),
        }
    }

    /// Device bytes the texture holds (whole rows).
    pub(crate) fn bytes(&self) -> u64 {
        rows_for(self.len as usize) * ROW_BYTES
    }

    /// Bytes [`Packed::copy_to`] writes: the tensor's, rounded up to whole texels.
    pub(crate) fn copy_bytes(&self) -> u64 {
        self.len.max(1).div_ceil(TEXEL_BYTES) * TEXEL_BYTES
    }

    /// Record a copy of the texture's bytes into `dst` (at least
    /// [`Packed::copy_bytes`]), from offset 0: the full rows, then the texels
    /// of the last row that hold bytes. They are in the texture's block order
    /// ([`Packed::stored_order`] restores the tensor's).
    pub(crate) fn copy_to(&self, encoder: &mut wgpu::CommandEncoder, dst: &wgpu::Buffer) {
        let texels = self.copy_bytes() / TEXEL_BYTES;
        let full_rows = (texels / u64::from(WIDTH)) as u32;
        let tail = (texels % u64::from(WIDTH)) as u32;
        let layout = |offset: u64| wgpu::TexelCopyBufferInfo {
            buffer: dst,
            layout: wgpu::TexelCopyBufferLayout { offset, bytes_per_row: Some(ROW_BYTES as u32), rows_per_image: None },
        };
        if full_rows > 0 {
            let extent = wgpu::Extent3d { width: WIDTH, height: full_rows, depth_or_array_layers: 1 };
            encoder.copy_texture_to_buffer(self.texture.as_image_copy(), layout(0), extent);
        }
        if tail > 0 {
            let origin = wgpu::TexelCopyTextureInfo {
                origin: wgpu::Origin3d { x: 0, y: full_rows, z: 0 },
                ..self.texture.as_image_copy()
            };
            let extent = wgpu::Extent3d { width: tail, height: 1, depth_or_array_layers: 1 };
            encoder.copy_texture_to_buffer(origin, layout(u64::from(full_rows) * ROW_BYTES), extent);
        }
    }
}

/// The operand of input `t` for `ctx`'s call. A tensor held in a texture
/// comes with it where `reads_packed` (the op reads the texture: quantized
/// products, Cast and Gather), its buffer then a dummy if it has none; for
/// any other op it gets a buffer copy in stored order once (recorded here,
/// or for interleaved blocks written from a read-back: [`attach_copy`]),
/// kept beside the texture.
///
/// # Errors
/// `invalid()` when the backend holds no such tensor; out of memory for the copy.
pub(crate) fn input(
    ctx: &mut Ctx<'_>,
    t: &Tensor,
    reads_packed: bool,
    invalid: impl Fn(&Tensor) -> Error,
) -> Result<Operand> {
    let id = t.id();
    ctx.mem.settle(ctx.gpu, id)?;
    let desc = t.desc().clone();
    let view =
        ctx.mem.packed(id).map(|p| PackedView { view: Arc::clone(&p.view), layout: p.layout.map(|(order, _)| order) });
    let buf = match (ctx.mem.get(id), &view) {
        (Some(buf), _) => Arc::clone(buf),
        (None, None) => return Err(invalid(t)),
        (None, Some(_)) if reads_packed => Arc::new(ctx.dummy.clone()),
        (None, Some(_)) => attach_copy(ctx, t)?,
    };
    Ok(Operand { buf, desc, packed: view.filter(|_| reads_packed) })
}

/// Move output `t` of `ctx`'s call out of its texture for good (kernels
/// write buffers), copying the contents over where it has no buffer yet:
/// an op may read what it writes into (TensorScatter in place).
///
/// # Errors
/// Out of memory for the buffer.
pub(crate) fn release(ctx: &mut Ctx<'_>, t: &Tensor) -> Result<()> {
    let id = t.id();
    ctx.mem.settle(ctx.gpu, id)?;
    if ctx.mem.packed(id).is_some() && ctx.mem.get(id).is_none() {
        attach_copy(ctx, t)?;
    }
    ctx.mem.unpack(id);
    Ok(())
}

/// Give tensor `t`, held in a texture alone, a buffer holding a copy of its
/// bytes (recorded in order with the calls around it), and return it.
/// Blocks in interleaved order go back to stored order through the host:
/// the texture is read back (waiting for the device) and the buffer written
/// through the queue, which orders it before the calls recorded after.
fn attach_copy(ctx: &mut Ctx<'_>, t: &Tensor) -> Result<Arc<wgpu::Buffer>> {
    let id = t.id();
    let bytes = ctx.mem.packed(id).map(Packed::copy_bytes).expect("callers check that t has a texture");
    let buf = ctx.mem.buffer(ctx.gpu, bytes as usize)?;
    let packed = ctx.mem.packed(id).expect("checked above");
    if packed.layout.is_none() {
        ctx.rec.copy_texture(ctx.gpu, packed, &buf);
    } else {
        let copied = read_back(ctx.gpu, ctx.rec, packed)?;
        let mut stored = packed.stored_order(&copied);
        stored.resize(bytes as usize, 0);
        ctx.gpu.queue.write_buffer(&buf, 0, &stored);
    }
    ctx.mem.attach(id, Arc::clone(&buf));
    Ok(buf)
}

/// The bytes [`Packed::copy_to`] writes for `packed`, read back now: the
/// batch recorded so far is submitted and waited for.
fn read_back(gpu: &Gpu, rec: &mut crate::record::Recorder, packed: &Packed) -> Result<Vec<u8>> {
    let backend = || gpu.backend.clone();
    let staging = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("hcal packed readback"),
        size: packed.copy_bytes(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    rec.copy_texture(gpu, packed, &staging);
    rec.flush(gpu);
    let (tx, rx) = std::sync::mpsc::channel();
    staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    gpu.wait()?;
    rx.recv()
        .map_err(|_| Error::DeviceLost { backend: backend(), detail: "readback never completed".into() })?
        .map_err(|e| Error::Backend { backend: backend(), detail: format!("map for read: {e}") })?;
    let data = staging
        .slice(..)
        .get_mapped_range()
        .map_err(|e| Error::Backend { backend: backend(), detail: format!("{e}") })?
        .to_vec();
    staging.unmap();
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_cover_the_bytes_with_whole_copy_rows() {
        assert_eq!(ROW_BYTES % u64::from(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT), 0);
        assert!(WIDTH.is_power_of_two());
        assert_eq!(rows_for(0), 1);
        assert_eq!(rows_for(ROW_BYTES as usize), 1);
        assert_eq!(rows_for(ROW_BYTES as usize + 1), 2);
        // The SmolLM2 embedding table (Q8_0 49152 x 576): 7344 rows (exactly).
        assert_eq!(rows_for(49152 * 18 * 34), 7344);
    }
}
