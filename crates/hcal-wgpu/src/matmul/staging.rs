//! Staging operands into texture arrays (`matmul_stage.wgsl`) and running the
//! texture tiles (`matmul_texture.wgsl`) on them.

use std::sync::Arc;

use hcal_core::{Error, Result};

use super::select::{Caps, Problem, texture_layers};
use super::tiles::{A_BUFFER, Path, TILES, kernel_of, name};
use crate::ctx::{Ctx, Operand};
use crate::memory::StagingSlot;
use crate::params::MatmulParams;
use crate::pipeline::{Kernel, kernel};
use crate::record::Window;

/// Columns from which the texture tiles stage A: below, the staging pass
/// over A costs more than the loads it saves (lavapipe, attention's composed
/// path, B1 H8 S1024 D64: 15 GFLOP/s with P staged for P V, 21-23 without).
pub(crate) const STAGE_A_MIN_N: usize = 256;

/// Stage op(B) into staging slot `slot` with `matmul_stage.wgsl`: `params` is
/// a matmul parameter block (N, K, flag 2 for a transposed B, batch dims and
/// B strides, B base, ldb), `layers` the distinct B matrices;
/// `vec4_ok` when N, the base and the strides are multiples of 4 (one vec4
/// load per texel); `f16` when B holds f16 (decoded while staged, its whole
/// buffer within one binding). Texel [l, p, j] = op(B)[l][p, 4j..4j+4].
///
/// A B larger than one storage binding (one matrix: products run item by
/// item then) is staged in pieces of rows, each binding a window of B: rows
/// of K (texture rows) when B is `[K, N]`, quads of rows of N (texel
/// columns) when it is stored `[N, K]`.
pub(crate) fn stage_b(
    ctx: &mut Ctx<'_>,
    slot: StagingSlot,
    params: &MatmulParams,
    b: &wgpu::Buffer,
    layers: usize,
    vec4_ok: bool,
    f16: bool,
) -> Result<Arc<wgpu::TextureView>> {
    let (n4, k) = (params.n.div_ceil(4), params.k);
    let view = ctx.mem.staging(ctx.gpu, slot, [n4, k, layers as u32])?;
    let (entry, binding) = if vec4_ok && params.flags & 2 == 0 { ("stage_b4", 3) } else { ("stage_b", 1) };
    let kernel = super::with_io(kernel("matmul_stage", entry), f16);
    if b.size() <= ctx.max_binding() || f16 {
        // (An f16 B is bound whole: its callers checked that it fits.)
        let groups = [n4.div_ceil(16), k.div_ceil(16), layers as u32];
        ctx.dispatch_with_views(kernel, params, &[(binding, b)], &[(2, &view)], groups)?;
        return Ok(view);
    }
    if layers != 1 {
        return Err(too_large(ctx, b.size()));
    }
    let transposed = params.flags & 2 != 0;
    let (n, k, ldb, base) = (params.n as usize, params.k as usize, params.ldb as usize, params.b_base as usize);
    // Rows of the stored B per piece: of K ([K, N]), or of N in quads ([N, K]).
    let (rows, row_len, unit) = if transposed { (n, k, 4) } else { (k, n, 1) };
    let (max, align) = (ctx.max_binding(), ctx.align());
    let fits = |r0: usize, r1: usize| Window::bytes_needed((r1 - r0 - 1) * ldb + row_len, 4, align) <= max;
    let pieces = crate::split::pieces(rows, unit, fits).ok_or_else(|| too_large(ctx, b.size()))?;
    for (r0, r1) in pieces {
        let first = base + r0 * ldb;
        let (window, origin) = ctx.window(b, first, (r1 - r0 - 1) * ldb + row_len, 4);
        let mut piece = MatmulParams { b_base: (first - origin) as u32, ..*params };
        let groups = if transposed {
            (piece.n, piece.stage_x0) = ((r1 - r0) as u32, (r0 / 4) as u32);
            [(r1 - r0).div_ceil(4).div_ceil(16) as u32, k.div_ceil(16) as u32, 1]
        } else {
            (piece.k, piece.stage_y0) = ((r1 - r0) as u32, r0 as u32);
            [n4.div_ceil(16), (r1 - r0).div_ceil(16) as u32, 1]
        };
        ctx.dispatch_windows(kernel, &piece, &[(binding, window)], &[(2, &view)], groups)?;
    }
    Ok(view)
}

/// The error for an operand that no piece of fits one binding (`supports` declines it first).
fn too_large(ctx: &Ctx<'_>, bytes: u64) -> Error {
    Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: bytes,
    }
}

/// Stage A with `matmul_stage.wgsl`'s `stage_a` into [`StagingSlot::MatmulA`]:
/// texel [l, i / 4, p] = A[l][i..i + 4, p], so the lanes that load steps
/// p..p + 8 of 4 rows read neighbouring texels (staged as a transposed B,
/// texel [l, p, i / 4], they read 8 texture rows apart, and the product ran
/// at half the speed). An A larger than one binding (one matrix) is staged
/// in pieces of quads of rows, each binding a window of A; an f16 A (`f16`)
/// is bound whole.
fn stage_a(
    ctx: &mut Ctx<'_>,
    params: &MatmulParams,
    a: &wgpu::Buffer,
    m: usize,
    k: usize,
    layers: usize,
    f16: bool,
) -> Result<Arc<wgpu::TextureView>> {
    let (k32, m4) = (k as u32, m.div_ceil(4) as u32);
    let view = ctx.mem.staging(ctx.gpu, StagingSlot::MatmulA, [k32, m4, layers as u32])?;
    let kernel = super::with_io(kernel("matmul_stage", "stage_a"), f16);
    if a.size() <= ctx.max_binding() || f16 {
        let groups = [k32.div_ceil(16), m4.div_ceil(16), layers as u32];
        ctx.dispatch_with_views(kernel, params, &[(1, a)], &[(2, &view)], groups)?;
        return Ok(view);
    }
    if layers != 1 {
        return Err(too_large(ctx, a.size()));
    }
    let (lda, base) = (params.lda as usize, params.a_base as usize);
    let (max, align) = (ctx.max_binding(), ctx.align());
    let fits = |r0: usize, r1: usize| Window::bytes_needed((r1 - r0 - 1) * lda + k, 4, align) <= max;
    let pieces = crate::split::pieces(m, 4, fits).ok_or_else(|| too_large(ctx, a.size()))?;
    for (r0, r1) in pieces {
        let first = base + r0 * lda;
        let (window, origin) = ctx.window(a, first, (r1 - r0 - 1) * lda + k, 4);
        let piece =
            MatmulParams { m: (r1 - r0) as u32, a_base: (first - origin) as u32, stage_y0: (r0 / 4) as u32, ..*params };
        let groups = [k32.div_ceil(16), (r1 - r0).div_ceil(4).div_ceil(16) as u32, 1];
        ctx.dispatch_windows(kernel, &piece, &[(1, window)], &[(2, &view)], groups)?;
    }
    Ok(view)
}

/// Stage A and B into texture arrays, then run texture tile `v` on them, in
/// blocks of `rows` rows (a multiple of [`super::split::ROW_UNIT`], or all
/// of them) where A (read from its buffer) or Y exceeds one binding: each
/// block binds the windows of its rows (the product never binds B).
#[allow(clippy::too_many_arguments)]
pub(crate) fn launch_texture(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    params: &MatmulParams,
    v: u16,
    a: &Operand,
    b: &Operand,
    y: &Operand,
    rows: usize,
) -> Result<()> {
    let t = TILES[v as usize];
    let [a_layers, b_layers] = texture_layers(p, Caps::of(ctx.gpu)).ok_or_else(|| Error::Backend {
        backend: ctx.gpu.backend.clone(),
        detail: format!(
            "MatMul: A [{}, {}] or B [{}, {}] does not fit a texture array for {}",
            p.m,
            p.k,
            p.k,
            p.n,
            name(Path::Tiled(v))
        ),
    })?;
    let aligned = p.n % 4 == 0 && p.bases[1] % 4 == 0 && p.b_strides.iter().all(|s| s % 4 == 0);
    let columns = (p.n / 4).div_ceil((t.cols4 * t.wgx) as usize) as u32;
    let buffer_a = p.n < STAGE_A_MIN_N;
    let a_view = if buffer_a { None } else { Some(stage_a(ctx, params, &a.buf, p.m, p.k, a_layers, p.f16)?) };
    let b_view = stage_b(ctx, p.stage_slot, params, &b.buf, b_layers, aligned, p.f16)?;
    let chunk = super::tiles::chunk(ctx.gpu.subgroup_min);
    let a_flag = if buffer_a { A_BUFFER } else { 0 };
    let subgroups = if ctx.gpu.subgroup_max.is_some() { 0 } else { super::tiles::NO_SUBGROUPS };
    let kernel =
        Kernel { variant: super::tiles::with_chunk(v | a_flag | subgroups, chunk), ..kernel_of(Path::Tiled(v)) };
    let kernel = super::with_io(kernel, p.f16);
    let (lda, ldy) = (params.lda as usize, params.ldy as usize);
    for m0 in (0..p.m.max(1)).step_by(rows.max(1)) {
        let m1 = (m0 + rows).min(p.m);
        let mut block = *params;
        let groups = [columns, (m1 - m0).div_ceil(t.rows as usize) as u32, p.batch_count() as u32];
        let y_first = p.bases[2] + m0 * ldy;
        let (yw, y_origin) = ctx.window(&y.buf, y_first, (m1 - m0).max(1).saturating_sub(1) * ldy + p.n, 4);
        (block.m, block.y_base, block.stage_y0) = ((m1 - m0) as u32, (y_first - y_origin) as u32, (m0 / 4) as u32);
        match &a_view {
            None => {
                let a_first = p.bases[0] + m0 * lda;
                let (aw, a_origin) = ctx.window(&a.buf, a_first, (m1 - m0).max(1).saturating_sub(1) * lda + p.k, 4);
                block.a_base = (a_first - a_origin) as u32;
                ctx.dispatch_windows(kernel, &block, &[(1, aw), (4, yw)], &[(2, &b_view)], groups)?;
            }
            Some(a_view) => ctx.dispatch_windows(kernel, &block, &[(4, yw)], &[(1, a_view), (2, &b_view)], groups)?,
        }
    }
    Ok(())
}
