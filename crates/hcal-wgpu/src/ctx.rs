//! What an op module records with ([`Ctx`]): dispatch helpers over the
//! [`Recorder`], scratch buffers that return to the pool when the op is
//! recorded, and the tensors as operands ([`Operand`]).

use std::sync::Arc;

use bytemuck::Pod;
use hcal_core::{Error, Result};

use crate::gpu::Gpu;
use crate::memory::Memory;
use crate::pipeline::{Kernel, Pipelines};
use crate::record::{Recorder, Window};

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
    pub(crate) fn grid_for(&self, workgroups: usize) -> Result<[u32; 3]> {
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
        params: &impl Pod,
        bindings: &[(u32, &wgpu::Buffer)],
        items: usize,
    ) -> Result<()> {
        self.per_item_windows(kernel, params, &whole(bindings), items)
    }

    /// [`Ctx::per_item`] on buffer windows.
    pub(crate) fn per_item_windows(
        &mut self,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, Window<'_>)],
        items: usize,
    ) -> Result<()> {
        self.per_item_in(256, kernel, params, bindings, items)
    }

    /// [`Ctx::per_item_windows`] with `width` invocations per workgroup (the
    /// kernel's `workgroup_size`, in place of 256 in the item layout).
    pub(crate) fn per_item_in(
        &mut self,
        width: usize,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, Window<'_>)],
        items: usize,
    ) -> Result<()> {
        if items == 0 {
            return Ok(());
        }
        let groups = self.grid_for(items.div_ceil(width))?;
        self.rec.dispatch(self.gpu, self.pipelines, kernel, words(params), (bindings, &[]), groups)
    }

    /// One workgroup per row. Nothing is recorded for 0 rows.
    pub(crate) fn per_row(
        &mut self,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, &wgpu::Buffer)],
        rows: usize,
    ) -> Result<()> {
        self.per_row_windows(kernel, params, &whole(bindings), rows)
    }

    /// [`Ctx::per_row`] on buffer windows.
    pub(crate) fn per_row_windows(
        &mut self,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, Window<'_>)],
        rows: usize,
    ) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let groups = self.grid_for(rows)?;
        self.rec.dispatch(self.gpu, self.pipelines, kernel, words(params), (bindings, &[]), groups)
    }

    /// An explicit grid.
    pub(crate) fn dispatch(
        &mut self,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, &wgpu::Buffer)],
        groups: [u32; 3],
    ) -> Result<()> {
        self.dispatch_windows(kernel, params, &whole(bindings), &[], groups)
    }

    /// An explicit grid, with texture views bound besides the buffers.
    pub(crate) fn dispatch_with_views(
        &mut self,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, &wgpu::Buffer)],
        views: &[(u32, &wgpu::TextureView)],
        groups: [u32; 3],
    ) -> Result<()> {
        self.dispatch_windows(kernel, params, &whole(bindings), views, groups)
    }

    /// An explicit grid on buffer windows and texture views.
    pub(crate) fn dispatch_windows(
        &mut self,
        kernel: Kernel,
        params: &impl Pod,
        bindings: &[(u32, Window<'_>)],
        views: &[(u32, &wgpu::TextureView)],
        groups: [u32; 3],
    ) -> Result<()> {
        if groups.contains(&0) {
            return Ok(());
        }
        self.rec.dispatch(self.gpu, self.pipelines, kernel, words(params), (bindings, views), groups)
    }

    /// `max_storage_buffer_binding_size`: the most bytes one window may bind.
    pub(crate) fn max_binding(&self) -> u64 {
        self.gpu.limits.max_storage_buffer_binding_size
    }

    /// The offset alignment of windows (see [`Window::align`]).
    pub(crate) fn align(&self) -> u64 {
        Window::align(self.gpu)
    }

    /// Contiguous elementwise pieces of `n` elements (see
    /// [`crate::split::contiguous`]) for operands of at most `elem_bytes` each.
    pub(crate) fn contiguous(&self, n: usize, elem_bytes: usize) -> Vec<(usize, usize)> {
        crate::split::contiguous(n, elem_bytes, self.max_binding(), self.align())
    }

    /// The window of `buf` holding `count` elements of `elem_bytes` from
    /// element `first`, and its origin (see [`Window::elements`]).
    pub(crate) fn window<'b>(
        &self,
        buf: &'b wgpu::Buffer,
        first: usize,
        count: usize,
        elem_bytes: usize,
    ) -> (Window<'b>, usize) {
        Window::elements(buf, [first, count], elem_bytes, self.max_binding(), Window::align(self.gpu))
    }
}

/// Whole-buffer windows of `bindings`.
fn whole<'a>(bindings: &[(u32, &'a wgpu::Buffer)]) -> Vec<(u32, Window<'a>)> {
    bindings.iter().map(|&(slot, buf)| (slot, Window::from(buf))).collect()
}

/// A tensor as an op module sees it: its buffer and descriptor (float
/// operands arrive as f32 views; see `backend.rs`).
#[derive(Clone)]
pub(crate) struct Operand {
    /// Its storage, or a dummy when it is held in a texture (`packed`) alone.
    pub(crate) buf: Arc<wgpu::Buffer>,
    pub(crate) desc: hcal_core::TensorDesc,
    /// The texture a block-quantized tensor is held in (`packed.rs`) and its
    /// block order, given only to the ops that read it there (quantized
    /// products, Cast and Gather).
    pub(crate) packed: Option<crate::packed::PackedView>,
}

impl Operand {
    /// Element count as the u32 kernels index with (checked by `supports`).
    pub(crate) fn n(&self) -> u32 {
        self.desc.numel() as u32
    }
}

/// A parameter block (a `params/` struct: only `u32` and `f32` members)
/// as the words the params arena holds.
fn words(params: &impl Pod) -> &[u32] {
    bytemuck::cast_slice(bytemuck::bytes_of(params))
}
