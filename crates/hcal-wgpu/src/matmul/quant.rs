//! Products with a block-quantized B (GGML Q4_0, Q4_1, Q8_0) and Cast from
//! one, with `matmul_quant.wgsl`: the kernels read the packed blocks as
//! stored, so a quantized weight never has an f32 copy in device memory.
//!
//! - `matmul_quant` (a template over the dtype and the rows per
//!   invocation): Gemm with `transB` and no `transA`, B `[N, K]` with its
//!   blocks along K (every GGUF linear layer). One invocation per output
//!   column or several (`gemv_plan.rs`: the GEMV's plan, `tile_plan`);
//!   one row per invocation for M below [`TILE_FROM_ROWS`] (the GEMV of
//!   decode), a tile of rows otherwise (prefill: [`TILE_ROWS`], or 4 on CPU
//!   drivers), so each block is dequantized once per that many rows.
//! - `matmul_quant_any`: everything else (MatMul's B `[.., K, N]` with blocks
//!   along N, `transA`, batches), one output per invocation.
//! - `dequantize`: Cast from a quantized dtype, one element per invocation.
//!
//! Each has a form reading B from the texture it is held in on SIMD CPU
//! drivers (`packed.rs`; the `// TEX` lines, variant flag [`TEXTURE`]) and
//! one reading a storage buffer (`// BUF`).
//!
//! Quantized operands are bound whole, except a weight `[N, K]` larger than
//! one storage binding, which `matmul_quant` reads in blocks of rows (column
//! blocks of Y, each a window starting on a block boundary); `decline`
//! refuses the rest that does not fit one binding.

use hcal_core::{DType, Geometry, Op, OpSignature, Result, TensorDesc};

use super::gemv_plan::{gemv_plan, tile_plan, width_bits};
use super::quant_variant::{NORM, SPLIT, TEXTURE, dtype_code, variant, walks_split};
use super::select::Problem;
use crate::block_layout::BlockLayout;
use crate::ctx::{Ctx, Operand};
use crate::gpu::Gpu;
use crate::params::MatmulParams;
use crate::pins::Pins;
use crate::pipeline::Kernel;
use crate::record::Window;

/// Rows of Y one invocation of the tiled form computes (on SIMD CPU
/// drivers with 8-wide subgroups 4, with 4 columns: `tile_plan`).
pub(crate) const TILE_ROWS: u32 = 8;

/// Rows from which the tiled form runs (below, one row per invocation and
/// one workgroup row per row of A: B is read once per row, which costs less
/// than computing [`TILE_ROWS`] rows for a few).
pub(crate) const TILE_FROM_ROWS: usize = 4;

/// `kernel` in its form reading B from a texture when `b` is held in one.
fn reading(kernel: Kernel, b: &Operand) -> Kernel {
    Kernel { variant: kernel.variant | if b.packed.is_some() { TEXTURE } else { 0 }, ..kernel }
}

/// The block order (`block_layout.rs`) and block bytes a block-quantized
/// tensor of `desc` gets in a texture on `gpu` with `pins`: the order of the
/// GEMV that reads it as the `[N, K]` weight of a product (N = its rows),
/// whose columns per invocation and Q4_1 pair loop follow from N as in
/// [`launch`]; whole blocks where `pins` say so (`:whole`).
pub(crate) fn weight_layout(gpu: &Gpu, pins: &Pins, desc: &TensorDesc) -> Option<(BlockLayout, usize)> {
    let (_, block_bytes, _) = dtype_code(desc.dtype)?;
    let sg = subgroups_of_8(gpu);
    let rows = desc.numel() / desc.shape.last().copied().unwrap_or(1).max(1);
    let (_, columns) = gemv_plan(gpu.simd_cpu, pins.quant_gemv, rows, sg);
    let order = BlockLayout::for_weight(desc, columns, sg)?;
    let order = if pins.whole_blocks { BlockLayout { head: 0, ..order } } else { order };
    Some((order, block_bytes as usize))
}

/// `params` with B's block order, for a B read from a texture in one.
fn with_layout(mut params: MatmulParams, b: &Operand) -> MatmulParams {
    if let Some(order) = b.packed.as_ref().and_then(|p| p.layout) {
        params.b_group = order.group;
        params.b_unit = order.unit;
        params.b_rows = order.rows;
        params.b_blocks_per_row = order.blocks_per_row;
        params.b_head = order.head;
    }
    params
}

/// Whether the subgroup form runs on `gpu`: subgroups of exactly 8 lanes
/// (one vec4 each of a block's 32 values).
fn subgroups_of_8(gpu: &Gpu) -> bool {
    gpu.subgroup_max == Some(8)
}

/// Rows per invocation of the prefill tile on `gpu` (`tile_plan`).
pub(crate) fn tile_rows_on(gpu: &Gpu) -> u32 {
    tile_plan(gpu.simd_cpu, subgroups_of_8(gpu)).0
}

/// Which entry of `matmul_quant.wgsl` runs a product, with the rows per invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QuantPath {
    /// `matmul_quant` with this many rows per invocation.
    Columns(u32),
    /// `matmul_quant_any`.
    Any,
}

/// The entry that runs a product with `[m, n, k]`, `flags` (as
/// `MatmulParams::flags`) and `batch` matrices, when A's first element and
/// row stride are multiples of 4 (`a_aligned`), on a device whose prefill
/// tile has `tile_rows` rows ([`tile_rows_on`]).
pub(crate) fn path_for(m: usize, flags: u32, batch: usize, a_aligned: bool, tile_rows: u32) -> QuantPath {
    let weights_layout = flags & 3 == 2 && batch == 1 && a_aligned;
    match (weights_layout, m >= TILE_FROM_ROWS) {
        (false, _) => QuantPath::Any,
        (true, false) => QuantPath::Columns(1),
        (true, true) => QuantPath::Columns(tile_rows),
    }
}

/// The name of a path, for `kernel_variant` and reports.
pub(crate) fn path_name(path: QuantPath, dtype: DType) -> String {
    match path {
        QuantPath::Columns(1) => format!("quant-gemv-{dtype}"),
        QuantPath::Columns(rows) => format!("quant-{rows}rows-{dtype}"),
        QuantPath::Any => format!("quant-any-{dtype}"),
    }
}

/// Record the product `p` whose B is quantized (its packed blocks, in a
/// texture's block order where it has one: `block_layout.rs`).
pub(crate) fn launch(ctx: &mut Ctx<'_>, p: &Problem<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    launch_with(ctx, p, a, b, y, None).map(|_| ())
}

/// RMSNormGemm's product: `p` on A's rows RMS-normalized with `scale` (f32,
/// K values) and `epsilon`, by the normalizing GEMV, which forms each row's
/// normalization as it reads the row. Where that kernel does not run `p`
/// (M from [`TILE_FROM_ROWS`] rows, A's rows not on whole vec4s, a B read
/// element by element, Scale not K values), records nothing and returns
/// `Ok(false)`: the caller runs RMSNormalization, then the product.
pub(crate) fn launch_normalized(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    [a, b, y]: [&Operand; 3],
    scale: &Operand,
    epsilon: f32,
) -> Result<bool> {
    let runs = normalizing_gemv_runs(ctx.gpu, p.m, p.k, p.flags, scale.desc.numel());
    if !runs || scale.desc.dtype != DType::F32 {
        return Ok(false);
    }
    launch_with(ctx, p, a, b, y, Some((scale, epsilon)))
}

/// Whether the normalizing GEMV can run an RMSNormGemm of `[m, k]` rows with
/// Gemm `flags` (as `MatmulParams::flags`) and a Scale of `scale_len`
/// values on `gpu`, before the operands' layout is seen: 8-wide subgroups
/// (the form that spreads the row's squares over a subgroup's lanes), the
/// GEMV's rows (fewer than [`TILE_FROM_ROWS`]), B as `[N, K]` (transB), K > 0
/// (an empty row has no 1/rms to form: the steps give `beta C`) and a Scale
/// of K values (a broadcast one runs the steps). The launcher also needs A's
/// rows on whole vec4s and B in stored or this GEMV's block order;
/// `kernel_variant` names this kernel by this test alone.
///
/// Without subgroups each invocation would read Scale with the whole row:
/// on llvmpipe's GL the SmolLM2 chat then decoded slower than with the two
/// ops (6 alternated runs, 11.79 / 13.96 / 13.37 / 13.13 / 13.46 / 14.44
/// against 15.82 / 15.58 / 13.88 / 14.27 / 16.48 / 13.82 tokens/s).
pub(crate) fn normalizing_gemv_runs(gpu: &Gpu, m: usize, k: usize, flags: u32, scale_len: usize) -> bool {
    subgroups_of_8(gpu) && m < TILE_FROM_ROWS && flags & 3 == 2 && k > 0 && scale_len == k
}

/// [`launch`], normalizing A's rows with `norm` (Scale, epsilon) where
/// given; `Ok(false)` (nothing recorded) where the normalizing GEMV does not
/// run `p`.
fn launch_with(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    a: &Operand,
    b: &Operand,
    y: &Operand,
    norm: Option<(&Operand, f32)>,
) -> Result<bool> {
    let dtype = b.desc.dtype;
    let mut params = with_layout(super::params(p), b);
    params.norm_epsilon = norm.map_or(0.0, |(_, epsilon)| epsilon);
    let c_buf = p.c.map_or_else(|| ctx.dummy.clone(), |(c, _)| (*c.buf).clone());
    let a_aligned = p.bases[0] % 4 == 0 && params.lda % 4 == 0;
    // The row-walking kernels step through B's interleaved blocks by the
    // rows its texture was ordered for; a view of another shape (a reshape
    // of the weight) reads it element by element instead.
    let order_fits = b
        .packed
        .as_ref()
        .and_then(|t| t.layout)
        .is_none_or(|o| o.rows as usize == p.n && o.blocks_per_row * 32 == params.ldb && params.b_base == 0);
    // A B in the split form (`BlockLayout::head`) is walked by the GEMV of
    // 4 columns it was laid out for and by the prefill tile (4 or 1 columns);
    // any other walk (a `:qgemv` pin taken after the upload) reads it
    // element by element.
    let split_b = b.packed.as_ref().and_then(|t| t.layout).is_some_and(|o| o.head > 0);
    let sg8 = subgroups_of_8(ctx.gpu);
    // Workgroup width and columns per invocation of a walk with `rows` rows.
    let plan = |rows: u32, sg: bool| match rows {
        1 => gemv_plan(ctx.gpu.simd_cpu, ctx.pipelines.pins.quant_gemv, p.n, sg),
        _ => (64, tile_plan(ctx.gpu.simd_cpu, sg).1),
    };
    let path = match path_for(p.m, p.flags, p.batch_count(), a_aligned, tile_rows_on(ctx.gpu)) {
        QuantPath::Columns(_) if !order_fits => QuantPath::Any,
        QuantPath::Columns(rows) if split_b && !walks_split(rows, plan(rows, sg8).1) => QuantPath::Any,
        path => path,
    };
    if norm.is_some() && path != QuantPath::Columns(1) {
        return Ok(false);
    }
    let (entry, rows) = match path {
        QuantPath::Columns(rows) => ("matmul_quant", rows),
        QuantPath::Any => ("matmul_quant_any", 1),
    };
    let sg = entry == "matmul_quant" && sg8;
    let (width, cols) = plan(rows, sg);
    let normalizing = if norm.is_some() { NORM } else { 0 };
    // The row walk reads a split B its own way; the element-wise entry finds
    // each block's parts from the parameters.
    let split = if split_b && entry == "matmul_quant" { SPLIT } else { 0 };
    let variant = variant(dtype, rows, cols, sg) | normalizing | split | width_bits(width);
    // The normalization's Scale (bound only by the normalizing form).
    let scale: Option<&wgpu::Buffer> = norm.map(|(s, _)| &*s.buf);
    let within_binding = b.packed.is_some() || b.buf.size() <= ctx.max_binding();
    let extent = if sg && rows == 1 && within_binding {
        uniform_extent(ctx.gpu, &ctx.pipelines.pins, p, &a.buf, scale)
    } else {
        0
    };
    let kernel = Kernel { extent, ..crate::pipeline::kernel("matmul_quant", entry) };
    let kernel = reading(Kernel { variant, ..kernel }, b);
    let per_group = width as usize * cols as usize;
    let groups = match path {
        QuantPath::Columns(rows) => [p.n.div_ceil(per_group) as u32, p.m.div_ceil(rows as usize) as u32, 1],
        QuantPath::Any => [p.n.div_ceil(8) as u32, p.m.div_ceil(8) as u32, p.batch_count() as u32],
    };
    if within_binding {
        // A and Scale: storage buffers, or in the uniform form A's row (from
        // A's first element) and Scale as uniform windows of the extent.
        let mut bindings: Vec<(u32, Window<'_>)> = vec![(3, (&c_buf).into()), (4, (&*y.buf).into())];
        if extent == 0 {
            bindings.push((1, (&*a.buf).into()));
            bindings.extend(scale.map(|s| (5, s.into())));
        } else {
            let bytes = u64::from(extent) * 16;
            // From A's first element, as `uniform_extent` checked.
            bindings.push((6, Window::exact(&a.buf, p.bases[0] as u64 * 4, bytes)));
            bindings.extend(scale.map(|s| (5, Window::exact(s, 0, bytes))));
        }
        // A texture holds the whole tensor: no binding limit to split around.
        return match &b.packed {
            Some(texture) => ctx.dispatch_windows(kernel, &params, &bindings, &[(2, &texture.view)], groups),
            None => {
                bindings.push((2, (&*b.buf).into()));
                ctx.dispatch_windows(kernel, &params, &bindings, &[], groups)
            }
        }
        .map(|()| true);
    }
    // ---- B larger than one binding (tensors beyond one storage binding) ----
    // Column blocks of Y: rows of B ([N, K], blocks along K), each window
    // starting on a block boundary (see `column_blocks`).
    let (_, block_bytes, _) = dtype_code(dtype).expect("a quantized dtype");
    let row_bytes = p.k / 32 * block_bytes as usize;
    let too_large = || hcal_core::Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: b.buf.size(),
    };
    let QuantPath::Columns(rows) = path else { return Err(too_large()) };
    let blocks = column_blocks(p.n, row_bytes, block_bytes as usize, ctx.max_binding()).ok_or_else(too_large)?;
    for (n0, n1) in blocks {
        let (start, bytes) = window_of(n0, n1, row_bytes, block_bytes as usize);
        // Whole vec4s: `matmul_quant` reads B as `array<vec4<u32>>` (the
        // window starts on 256 bytes, so this stays inside the buffer).
        let bw = crate::record::Window::exact(&b.buf, start, bytes.div_ceil(16) * 16);
        let mut piece = params;
        piece.n = (n1 - n0) as u32;
        piece.b_base = params.b_base + ((n0 * row_bytes - start as usize) / block_bytes as usize * 32) as u32;
        piece.y_base = params.y_base + n0 as u32;
        piece.c_base = params.c_base + n0 as u32 * params.c_stride_n;
        let groups = [(n1 - n0).div_ceil(per_group) as u32, p.m.div_ceil(rows as usize) as u32, 1];
        let mut bindings = vec![(1, (&*a.buf).into()), (2, bw), (3, (&c_buf).into()), (4, (&*y.buf).into())];
        bindings.extend(scale.map(|s| (5, s.into())));
        ctx.dispatch_windows(kernel, &piece, &bindings, &[], groups)?;
    }
    Ok(true)
}

/// Vec4s of A's row (K / 4) when the GEMV `p` (its subgroup form, one row
/// per invocation) reads A's row and Scale (`scale`, the normalizing form's)
/// from uniform buffers on `gpu`, else 0 (the storage form). On lavapipe a
/// storage load whose address differs per lane is a loop over the lanes, with
/// a branch per lane and a bounds test per component (Mesa 22.3's
/// `emit_load_mem`), and the GEMV's one vec4 of A per lane and block was 22%
/// of its samples (a JIT dump of the 4-column Q4_1 GEMV); a uniform load is a
/// branch-free gather. Measurements: [`Gpu::uniform_rows`].
///
/// It runs where the device keeps every tensor buffer uniform-capable
/// ([`crate::gpu::Gpu::uniform_rows`]) unless `:storage-a` pins the storage
/// form, for one row of A (M = 1) whose K floats fit one uniform binding and
/// start on the device's uniform offset alignment, and a Scale whose buffer
/// holds K floats from its start.
pub(crate) fn uniform_extent(
    gpu: &Gpu,
    pins: &Pins,
    p: &Problem<'_>,
    a: &wgpu::Buffer,
    scale: Option<&wgpu::Buffer>,
) -> u32 {
    let bytes = p.k as u64 * 4;
    let uniform = |buf: &wgpu::Buffer, offset: u64| {
        buf.usage().contains(wgpu::BufferUsages::UNIFORM) && offset + bytes <= buf.size()
    };
    let a_offset = p.bases[0] as u64 * 4;
    let runs = gpu.uniform_rows
        && !pins.storage_a
        && p.m == 1
        && p.k % 4 == 0
        && bytes > 0
        && bytes <= gpu.limits.max_uniform_buffer_binding_size
        && a_offset % u64::from(gpu.limits.min_uniform_buffer_offset_alignment) == 0
        && uniform(a, a_offset)
        && scale.is_none_or(|s| uniform(s, 0));
    if runs { (p.k / 4) as u32 } else { 0 }
}

/// The bound window of B's rows `[n0, n1)` of `row_bytes` each: from the
/// last multiple of both the window alignment (256) and `block_bytes` at or
/// before the first row (so the offset into it is whole blocks, as `b_base`
/// counts), to the end of the last row. `(start, bytes)`.
fn window_of(n0: usize, n1: usize, row_bytes: usize, block_bytes: usize) -> (u64, u64) {
    let step = lcm(256, block_bytes);
    let start = n0 * row_bytes / step * step;
    (start as u64, (n1 * row_bytes - start) as u64)
}

fn lcm(a: usize, b: usize) -> usize {
    let gcd = |mut x: usize, mut y: usize| {
        while y != 0 {
            (x, y) = (y, x % y);
        }
        x
    };
    a / gcd(a, b) * b
}

/// Blocks `[n0, n1)` of the `n` rows of a quantized B (`row_bytes` each,
/// blocks of `block_bytes`) whose windows ([`window_of`]) fit `max_binding`;
/// `None` when one row's does not.
pub(crate) fn column_blocks(
    n: usize,
    row_bytes: usize,
    block_bytes: usize,
    max_binding: u64,
) -> Option<Vec<(usize, usize)>> {
    crate::split::pieces(n, 1, |n0, n1| {
        let (_, bytes) = window_of(n0, n1, row_bytes, block_bytes);
        bytes.div_ceil(16) * 16 <= max_binding
    })
}

/// An f32 copy of the quantized operand `x` (Cast; products read the blocks directly).
pub(crate) fn dequantize(ctx: &mut Ctx<'_>, x: &Operand) -> Result<Operand> {
    let buf = ctx.scratch(x.desc.numel() * 4)?;
    dequantize_into(ctx, x, &buf)?;
    Ok(Operand { packed: None, buf, desc: TensorDesc::new(x.desc.shape.clone(), DType::F32) })
}

/// Write the f32 values of the quantized operand `x` into `y` (at least
/// 4 bytes per element): Cast to f32 in one dispatch, with no scratch copy.
pub(crate) fn dequantize_into(ctx: &mut Ctx<'_>, x: &Operand, y: &wgpu::Buffer) -> Result<()> {
    let n = x.desc.numel();
    let params = with_layout(MatmulParams { n: n as u32, ..Default::default() }, x);
    let kernel = reading(
        Kernel { variant: variant(x.desc.dtype, 1, 1, false), ..crate::pipeline::kernel("matmul_quant", "dequantize") },
        x,
    );
    match &x.packed {
        Some(texture) => {
            let groups = ctx.grid_for(n.div_ceil(256))?;
            ctx.dispatch_with_views(kernel, &params, &[(4, y)], &[(2, &texture.view)], groups)?;
        }
        None => ctx.per_item(kernel, &params, &[(2, &x.buf), (4, y)], n)?,
    }
    Ok(())
}

/// Why a signature with a block-quantized operand cannot run on `gpu`, if
/// it cannot: only B of MatMul and Gemm and X of Cast may be quantized, and
/// every operand (floats as their f32 views) must fit one storage binding
/// and u32 indexing, the grid the device's workgroup counts.
pub(crate) fn decline(gpu: &Gpu, sig: &OpSignature) -> Option<String> {
    let quantized_at = |i: usize| sig.input(i).is_some_and(|d| d.dtype.is_quantized());
    let inputs = sig.inputs().iter().flatten();
    let others_plain = |slot: usize| sig.inputs().iter().enumerate().all(|(i, _)| i == slot || !quantized_at(i));
    let allowed = match sig.op() {
        Op::MatMul | Op::Gemm(_) => quantized_at(1) && others_plain(1),
        Op::Cast { .. } => quantized_at(0),
        _ => false,
    };
    if !allowed {
        let d = sig.inputs().iter().flatten().find(|d| d.dtype.is_quantized())?;
        return Some(format!(
            "{} with a {} operand ({d}) has no WGSL kernel (only B of MatMul and Gemm and X of Cast may be block-quantized)",
            sig.op(),
            d.dtype
        ));
    }
    let max_binding = gpu.limits.max_storage_buffer_binding_size;
    // A weight `[N, K]` (Gemm with transB) runs in column blocks of Y (rows of B).
    let weights = match (sig.op(), sig.geometry()) {
        (Op::Gemm(attrs), Geometry::Gemm(g)) if attrs.trans_b && !attrs.trans_a => Some(g.n),
        _ => None,
    };
    for (i, d) in inputs.chain(sig.outputs()).enumerate() {
        if d.numel() >= u32::MAX as usize {
            return Some(format!("{d} has more than 2^32 elements (kernels index with u32)"));
        }
        let bytes = bound_bytes(d);
        if let (1, Some(n), Some((_, block, _))) = (i, weights, dtype_code(d.dtype)) {
            let row_bytes = bytes / n.max(1);
            if bytes > u32::MAX as usize || column_blocks(n, row_bytes, block as usize, max_binding).is_none() {
                return Some(format!(
                    "{} runs a quantized B {d} in blocks of rows, but one row ({row_bytes} bytes) exceeds max_storage_buffer_binding_size ({max_binding}) or B has 4 GiB or more",
                    sig.op()
                ));
            }
            continue;
        }
        if crate::memory::buffer_size(bytes) > max_binding {
            return Some(format!(
                "{} with a quantized operand binds every operand whole; {d} needs {bytes} bytes, past max_storage_buffer_binding_size ({max_binding})",
                sig.op()
            ));
        }
    }
    let max_groups = gpu.limits.max_compute_workgroups_per_dimension as usize;
    let (m, n, batch) = match sig.geometry() {
        Geometry::MatMul(g) => {
            if g.batch.len() > super::MAX_BATCH_RANK {
                return Some(format!("batch rank {} exceeds {}", g.batch.len(), super::MAX_BATCH_RANK));
            }
            (g.m, g.n, g.batch_count())
        }
        Geometry::Gemm(g) => (g.m, g.n, 1),
        _ => return None,
    };
    let groups = [n.div_ceil(8), m.div_ceil(8), batch];
    if let Some(&g) = groups.iter().find(|&&g| g > max_groups) {
        return Some(format!(
            "MatMul {m}x{n} over {batch} matrices needs {g} workgroups along one dimension; max_compute_workgroups_per_dimension is {max_groups}"
        ));
    }
    None
}

/// Bytes a kernel binds for `d`: its packed blocks, or the f32 view of a float.
fn bound_bytes(d: &TensorDesc) -> usize {
    if d.dtype.is_quantized() { d.byte_len().unwrap_or(usize::MAX) } else { d.numel().saturating_mul(4) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_weight_beyond_a_binding_runs_in_blocks_of_rows_on_block_boundaries() {
        // Llama-3-8B's Q8_0 output layer: 128256 rows of 4096 values (4352 bytes), 558 MB.
        let row = 4096 / 32 * 34;
        let blocks = column_blocks(128_256, row, 34, 128 << 20).unwrap();
        assert_eq!(blocks.len(), 5);
        for &(n0, n1) in &blocks {
            let (start, bytes) = window_of(n0, n1, row, 34);
            assert!(start % 256 == 0 && (n0 * row - start as usize) % 34 == 0 && bytes <= 128 << 20);
        }
        assert_eq!(window_of(3, 5, 18 * 4, 18), (0, 360));
        assert_eq!(window_of(40, 41, 18 * 4, 18), (2304, 648));
    }

    #[test]
    fn decode_runs_one_row_per_invocation_and_prefill_tiles() {
        assert_eq!(path_for(1, 2, 1, true, TILE_ROWS), QuantPath::Columns(1));
        assert_eq!(path_for(256, 2, 1, true, TILE_ROWS), QuantPath::Columns(TILE_ROWS));
        assert_eq!(path_for(4, 2, 1, true, 4), QuantPath::Columns(4), "a CPU driver's tile");
        assert_eq!(path_for(1, 0, 1, true, TILE_ROWS), QuantPath::Any, "blocks along N");
        assert_eq!(path_for(1, 3, 1, true, TILE_ROWS), QuantPath::Any, "transA");
        assert_eq!(path_for(1, 2, 1, false, TILE_ROWS), QuantPath::Any, "A not on vec4 boundaries");
    }
}
