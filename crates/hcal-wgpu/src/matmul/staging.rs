//! Staging operands into texture arrays (`matmul_stage.wgsl`) and running the
//! texture tiles (`matmul_texture.wgsl`) on them.

use std::sync::Arc;

use hcal_core::{Error, Result};

use super::select::{Caps, Problem, texture_layers};
use super::tiles::{A_BUFFER, Path, TILES, kernel_of, name};
use crate::memory::StagingSlot;
use crate::params::MatmulParams;
use crate::pipeline::{Kernel, kernel};
use crate::record::{Ctx, Operand};

/// Columns from which the texture tiles stage A: below, the staging pass
/// over A costs more than the loads it saves (lavapipe, attention's composed
/// path, B1 H8 S1024 D64: 15 GFLOP/s with P staged for P V, 21-23 without).
pub(crate) const STAGE_A_MIN_N: usize = 256;

/// Stage op(B) into staging slot `slot` with `matmul_stage.wgsl`: `params` is
/// a matmul parameter block (N, K, flag 2 for a transposed B, batch dims and
/// B strides, B base), `layers` the distinct B matrices;
/// `vec4_ok` when N, the base and the strides are multiples of 4 (one vec4
/// load per texel). Texel [l, p, j] = op(B)[l][p, 4j..4j+4].
pub(crate) fn stage_b(
    ctx: &mut Ctx<'_>,
    slot: StagingSlot,
    params: &MatmulParams,
    b: &wgpu::Buffer,
    layers: usize,
    vec4_ok: bool,
) -> Result<Arc<wgpu::TextureView>> {
    let (n4, k) = (params.n.div_ceil(4), params.k);
    let view = ctx.mem.staging(ctx.gpu, slot, [n4, k, layers as u32])?;
    let groups = [n4.div_ceil(16), k.div_ceil(16), layers as u32];
    let (entry, binding) = if vec4_ok && params.flags & 2 == 0 { ("stage_b4", 3) } else { ("stage_b", 1) };
    ctx.dispatch_with_views(kernel("matmul_stage", entry), params, &[(binding, b)], &[(2, &view)], groups)?;
    Ok(view)
}

/// Stage A with `matmul_stage.wgsl`'s `stage_a` into [`StagingSlot::MatmulA`]:
/// texel [l, i / 4, p] = A[l][i..i + 4, p], so the lanes that load steps
/// p..p + 8 of 4 rows read neighbouring texels (staged as a transposed B,
/// texel [l, p, i / 4], they read 8 texture rows apart, and the product ran
/// at half the speed).
fn stage_a(
    ctx: &mut Ctx<'_>,
    params: &MatmulParams,
    a: &wgpu::Buffer,
    m: usize,
    k: usize,
    layers: usize,
) -> Result<Arc<wgpu::TextureView>> {
    let (k, m4) = (k as u32, m.div_ceil(4) as u32);
    let view = ctx.mem.staging(ctx.gpu, StagingSlot::MatmulA, [k, m4, layers as u32])?;
    let groups = [k.div_ceil(16), m4.div_ceil(16), layers as u32];
    ctx.dispatch_with_views(kernel("matmul_stage", "stage_a"), params, &[(1, a)], &[(2, &view)], groups)?;
    Ok(view)
}

/// Stage A and B into texture arrays, then run texture tile `v` on them.
pub(crate) fn launch_texture(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    params: &MatmulParams,
    v: u16,
    a: &Operand,
    b: &Operand,
    y: &Operand,
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
    let groups = [
        (p.n / 4).div_ceil((t.cols4 * t.wgx) as usize) as u32,
        p.m.div_ceil(t.rows as usize) as u32,
        p.batch_count() as u32,
    ];
    if p.n < STAGE_A_MIN_N {
        let b_view = stage_b(ctx, p.stage_slot, params, &b.buf, b_layers, aligned)?;
        let kernel = Kernel { variant: v | A_BUFFER, ..kernel_of(Path::Tiled(v)) };
        return ctx.dispatch_with_views(kernel, params, &[(1, &*a.buf), (4, &*y.buf)], &[(2, &b_view)], groups);
    }
    let a_view = stage_a(ctx, params, &a.buf, p.m, p.k, a_layers)?;
    let b_view = stage_b(ctx, p.stage_slot, params, &b.buf, b_layers, aligned)?;
    ctx.dispatch_with_views(kernel_of(Path::Tiled(v)), params, &[(4, &*y.buf)], &[(1, &a_view), (2, &b_view)], groups)
}
