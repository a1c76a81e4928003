//! MatMul and Gemm: the entry points the dispatch table and composed ops
//! call, and the launch of the chosen kernel.
//!
//! Kernels, all sharing one parameter block:
//! - `tiled` variants (`matmul_tiled.wgsl`, register tiles, no workgroup
//!   memory), `texture` variants (`matmul_texture.wgsl`, operands staged into
//!   textures by `matmul_stage.wgsl`, A shared across a subgroup) and `smem`
//!   (`matmul_smem.wgsl`, 64x64 workgroup-memory tiles): products without a
//!   transposed A and `N % 4 == 0`; the fastest per shape class is chosen by
//!   timing (see `autotune.rs`);
//! - `gemv`: `M = 1` on one matrix (decode), K split inside the workgroup;
//! - `matmul`: everything else (transposes, odd N), and the baseline the
//!   benchmarks compare against (backend name suffix `:baseline`).
//!
//! Every path accumulates each output with f32 `fma` in K order (the GEMV
//! path in four interleaved slices added in a fixed order), so a given
//! shape always gives bit-identical results.
//!
//! - [`tiles`]: the tile table, template expansion, kernel names;
//! - [`select`]: the candidates for a product and the (autotuned) choice;
//! - [`staging`]: texture staging and the texture tiles' launch.

pub(crate) mod gemv_plan;
pub(crate) mod quant;
pub(crate) mod quant_variant;
pub(crate) mod select;
pub(crate) mod split;
pub(crate) mod staging;
pub(crate) mod tiles;

use hcal_core::{Gemm, GemmGeometry, MatMulGeometry, Result};

use self::select::{Caps, Problem, candidates, choose, pinned, tuning_set};
use self::tiles::{Path, TILES, kernel_of, name};
use crate::ctx::{Ctx, Operand};
use crate::memory::StagingSlot;
use crate::params::MatmulParams;
use crate::pipeline::{F16_IO, Kernel, kernel};

pub(crate) use self::staging::stage_b;
pub(crate) use self::tiles::{expansions, path_names};

/// Highest batch rank the kernel's parameter block holds.
pub(crate) const MAX_BATCH_RANK: usize = crate::params::MATMUL_BATCH_RANK;

/// The parameter block of `p` (no K split).
fn params(p: &Problem<'_>) -> MatmulParams {
    let mut params = MatmulParams {
        m: p.m as u32,
        n: p.n as u32,
        k: p.k as u32,
        flags: p.flags,
        alpha: p.alpha,
        beta: p.beta,
        batch_rank: p.batch.len() as u32,
        a_base: p.bases[0] as u32,
        b_base: p.bases[1] as u32,
        y_base: p.bases[2] as u32,
        y_batch_stride: p.y_batch_stride.unwrap_or(p.m * p.n) as u32,
        splits: 1,
        split_steps: p.k as u32,
        lda: if p.flags & 1 != 0 { p.m } else { p.k } as u32,
        ldb: if p.flags & 2 != 0 { p.k } else { p.n } as u32,
        ldy: p.n as u32,
        ..MatmulParams::default()
    };
    for (i, ((&d, &sa), &sb)) in p.batch.iter().zip(&p.a_strides).zip(&p.b_strides).enumerate() {
        params.batch_dims[i] = d as u32;
        params.a_batch_strides[i] = sa as u32;
        params.b_batch_strides[i] = sb as u32;
    }
    if let Some((_, [sm, sn])) = p.c {
        params.c_stride_m = sm as u32;
        params.c_stride_n = sn as u32;
    }
    params
}

/// K splits of a GEMV: one per 512 steps of K (at most 64) when few output
/// columns leave workgroups idle, else 1.
fn gemv_splits(p: &Problem<'_>) -> usize {
    gemv_splits_of(p.n, p.k)
}

/// [`gemv_splits`] of a product with `n` columns and `k` steps.
pub(crate) fn gemv_splits_of(n: usize, k: usize) -> usize {
    if n <= 256 && k >= 2048 { (k / 512).min(64) } else { 1 }
}

/// The grid of a buffer kernel (`path` not a texture tile) on `m` x `n`
/// outputs of `batch` matrices.
pub(crate) fn groups(path: Path, m: usize, n: usize, batch: usize) -> [u32; 3] {
    let batch = batch as u32;
    match path {
        Path::Generic => [n.div_ceil(32) as u32, m.div_ceil(32) as u32, batch],
        Path::Gemv => [n.div_ceil(64) as u32, 1, batch],
        Path::Smem => [n.div_ceil(64) as u32, m.div_ceil(64) as u32, batch],
        Path::Tiled(v) => {
            let t = TILES[v as usize];
            let x = (n / 4).div_ceil((t.cols4 * t.wgx) as usize);
            let y = m.div_ceil((t.rows * t.wgy) as usize);
            [x as u32, y as u32, batch]
        }
    }
}

/// Record `path` on `p`: with whole buffers when each fits one storage
/// binding, else in pieces (`split.rs`).
pub(crate) fn launch(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    path: Path,
    a: &Operand,
    b: &Operand,
    y: &Operand,
) -> Result<()> {
    let max = ctx.max_binding();
    let fits = |buf: &wgpu::Buffer| buf.size() <= max;
    let whole = fits(&a.buf) && fits(&b.buf) && fits(&y.buf) && p.c.is_none_or(|(c, _)| fits(&c.buf));
    // Steps of K one dispatch takes (a GEMV: per slice).
    let steps = if path == Path::Gemv { p.k.div_ceil(gemv_splits(p)) } else { p.k };
    if !whole || steps > split::max_steps(path, Caps::of(ctx.gpu)) {
        debug_assert!(!p.f16, "f16 products run whole (see matmul_f16)");
        return split::launch(ctx, p, path, a, b, y);
    }
    let mut params = params(p);
    let c_buf = p.c.map_or_else(|| ctx.dummy.clone(), |(c, _)| (*c.buf).clone());
    let batch = p.batch_count() as u32;
    let splits = gemv_splits(p);
    if path == Path::Gemv && splits > 1 {
        // Partial sums per split into scratch, then an in-order reduction.
        let chunk = p.k.div_ceil(splits);
        let partials = ctx.scratch(p.batch_count() * splits * p.n * 4)?;
        // gemv writes the partial sums to scratch; splitk_reduce writes the
        // output where the product's view puts it.
        params.out_base = params.y_base;
        params.out_batch_stride = params.y_batch_stride;
        params.y_base = 0;
        params.y_batch_stride = (splits * p.n) as u32;
        params.splits = splits as u32;
        params.split_steps = chunk as u32;
        let groups = [p.n.div_ceil(64) as u32, splits as u32, batch];
        ctx.dispatch(kernel_of(path), &params, &[(1, &a.buf), (2, &b.buf), (3, &c_buf), (4, &partials)], groups)?;
        let reduce = kernel("matmul", "splitk_reduce");
        return ctx.dispatch(
            reduce,
            &params,
            &[(3, &c_buf), (4, &partials), (5, &y.buf)],
            [p.n.div_ceil(256) as u32, 1, batch],
        );
    }
    if let Path::Tiled(v) = path {
        if TILES[v as usize].texture() {
            return staging::launch_texture(ctx, p, &params, v, a, b, y, p.m.max(1));
        }
    }
    let groups = groups(path, p.m, p.n, p.batch_count());
    let kernel = with_io(kernel_of(path), p.f16);
    ctx.dispatch(kernel, &params, &[(1, &a.buf), (2, &b.buf), (3, &c_buf), (4, &y.buf)], groups)
}

/// `kernel` in its form for f16 operands when `f16` (see [`F16_IO`]).
pub(crate) fn with_io(kernel: Kernel, f16: bool) -> Kernel {
    Kernel { variant: kernel.variant | if f16 { F16_IO } else { 0 }, ..kernel }
}

/// Choose a kernel for `problem` and record it.
fn run(ctx: &mut Ctx<'_>, problem: &Problem<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    // Block-quantized weights: their own kernels, reading the packed blocks.
    if b.desc.dtype.is_quantized() {
        return quant::launch(ctx, problem, a, b, y);
    }
    let path = choose(ctx, problem, a, b, y)?;
    launch(ctx, problem, path, a, b, y)
}

/// ONNX MatMul with numpy rank rules and batch broadcasting, on its resolved geometry.
pub(crate) fn matmul(ctx: &mut Ctx<'_>, g: &MatMulGeometry, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    run(ctx, &matmul_problem(g, false), a, b, y)
}

/// MatMul on f16 operands, read and written as f16 by the kernel (f32
/// sums, each output rounded once: the bits of the f32 product of the
/// operands converted to f32, converted back). `Ok(false)`, recording
/// nothing, where no f16 form runs it (see [`f16_runs`]): the caller
/// converts the operands instead.
pub(crate) fn matmul_f16(ctx: &mut Ctx<'_>, g: &MatMulGeometry, a: &Operand, b: &Operand, y: &Operand) -> Result<bool> {
    let problem = matmul_problem(g, true);
    if gemv_f16(ctx, &problem, [a, b, y])? {
        return Ok(true);
    }
    if !f16_runs(ctx, &problem, [a, b, y]) {
        return Ok(false);
    }
    run(ctx, &problem, a, b, y).map(|()| true)
}

/// Gemm on f16 operands (C too), as [`matmul_f16`].
pub(crate) fn gemm_f16(
    ctx: &mut Ctx<'_>,
    attrs: &Gemm,
    g: &GemmGeometry,
    [a, b, y]: [&Operand; 3],
    c: Option<&Operand>,
) -> Result<bool> {
    let problem = gemm_problem(attrs, g, c, true);
    if gemv_f16(ctx, &problem, [a, b, y])? {
        return Ok(true);
    }
    if !f16_runs(ctx, &problem, [a, b, y]) {
        return Ok(false);
    }
    run(ctx, &problem, a, b, y).map(|()| true)
}

/// The f16 GEMV (`matmul_gemv_f16.wgsl`: M = 1 decode products on f16
/// weights, reading half the bytes of their f32 copies, which the
/// conversion path would also write first), where it runs `p`: no
/// transposes, no K splits, N and Y's offsets even (each invocation writes
/// the word of its two columns), every operand within one binding, K within
/// the loop budget, no matmul kernel pinned. Records it and returns `true`;
/// `false` records nothing.
fn gemv_f16(ctx: &mut Ctx<'_>, p: &Problem<'_>, [a, b, y]: [&Operand; 3]) -> Result<bool> {
    let max = ctx.max_binding();
    let fits = [a, b, y].into_iter().chain(p.c.map(|(c, _)| c)).all(|o| o.buf.size() <= max);
    let even = p.n % 2 == 0 && p.bases[2] % 2 == 0 && p.y_batch_stride.is_none_or(|s| s % 2 == 0);
    let runs = p.m == 1
        && p.flags & 3 == 0
        && gemv_splits(p) == 1
        && even
        && fits
        && p.k <= split::max_steps(Path::Gemv, Caps::of(ctx.gpu))
        && ctx.pipelines.pins.matmul.is_none();
    if !runs {
        return Ok(false);
    }
    let c_buf = p.c.map_or_else(|| ctx.dummy.clone(), |(c, _)| (*c.buf).clone());
    let groups = [p.n.div_ceil(128) as u32, 1, p.batch_count() as u32];
    let bindings = [(1, &*a.buf), (2, &*b.buf), (3, &c_buf), (4, &*y.buf)];
    ctx.dispatch(kernel("matmul_gemv_f16", "gemv_f16"), &params(p), &bindings, groups)?;
    Ok(true)
}

/// Whether an f16 form runs `p` (with `f16` set) here: a register tile can
/// (see `select::candidates`), every operand fits one storage binding, and
/// no pin names a kernel without an f16 form (that pin runs the product on
/// f32 copies, as it asks).
fn f16_runs(ctx: &Ctx<'_>, p: &Problem<'_>, [a, b, y]: [&Operand; 3]) -> bool {
    let max = ctx.max_binding();
    let c = p.c.map(|(c, _)| c);
    if [a, b, y].into_iter().chain(c).any(|o| o.buf.size() > max) {
        return false;
    }
    let caps = Caps::of(ctx.gpu);
    let runnable = candidates(p, caps);
    let f32_form = Problem { f16: false, ..p.clone() };
    match pinned(ctx.pipelines.pins.matmul, &candidates(&f32_form, caps)) {
        Some(pin) => runnable.contains(&pin),
        None => !runnable.is_empty(),
    }
}

/// The problem of a MatMul (`f16`: its operands are f16).
fn matmul_problem(g: &MatMulGeometry, f16: bool) -> Problem<'static> {
    Problem {
        m: g.m,
        n: g.n,
        k: g.k,
        flags: 0,
        alpha: 1.0,
        beta: 0.0,
        a_strides: g.a_batch_strides.clone(),
        b_strides: g.b_batch_strides.clone(),
        batch: g.batch.clone(),
        c: None,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: StagingSlot::MatmulB,
        f16,
    }
}

/// Where a batched product reads and writes inside larger tensors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View {
    /// Base offsets (elements) of A, B and Y.
    pub(crate) bases: [usize; 3],
    /// Elements between consecutive output matrices (`None`: `M * N`).
    pub(crate) y_batch_stride: Option<usize>,
    /// B is stored transposed, as `[N, K]` (attention's keys).
    pub(crate) trans_b: bool,
    /// The staging-texture slot for B if a texture tile runs the product
    /// (a caller that keeps an operand's texture apart names its own).
    pub(crate) stage_slot: StagingSlot,
}

/// Whether a batched product with B stored as `[N, K]` runs on a fast
/// (texture) kernel here; else only the simple kernel can run it, and
/// callers should transpose B themselves.
pub(crate) fn fast_trans_b(ctx: &Ctx<'_>, [m, n, k]: [usize; 3], batch: &[usize], b_strides: &[usize]) -> bool {
    let p = Problem {
        m,
        n,
        k,
        flags: 2,
        alpha: 1.0,
        beta: 0.0,
        batch: batch.to_vec(),
        a_strides: vec![0; batch.len()],
        b_strides: b_strides.to_vec(),
        c: None,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: StagingSlot::MatmulB,
        f16: false,
    };
    let caps = Caps::of(ctx.gpu);
    tuning_set(candidates(&p, caps), caps, m).first() != Some(&Path::Generic)
}

/// A batched product with explicit batch dims and element strides (0 to
/// broadcast), for ops that compose matmuls (attention's grouped heads).
#[allow(clippy::too_many_arguments)]
pub(crate) fn batched(
    ctx: &mut Ctx<'_>,
    [m, n, k]: [usize; 3],
    batch: &[usize],
    a_strides: &[usize],
    b_strides: &[usize],
    view: View,
    a: &Operand,
    b: &Operand,
    y: &Operand,
) -> Result<()> {
    let problem = Problem {
        m,
        n,
        k,
        flags: if view.trans_b { 2 } else { 0 },
        alpha: 1.0,
        beta: 0.0,
        batch: batch.to_vec(),
        a_strides: a_strides.to_vec(),
        b_strides: b_strides.to_vec(),
        c: None,
        bases: view.bases,
        y_batch_stride: view.y_batch_stride,
        stage_slot: view.stage_slot,
        f16: false,
    };
    run(ctx, &problem, a, b, y)
}

/// The flags word of a Gemm (1: A transposed, 2: B transposed, 4: C present).
pub(crate) fn gemm_flags(attrs: &Gemm, has_c: bool) -> u32 {
    u32::from(attrs.trans_a) | (u32::from(attrs.trans_b) << 1) | (u32::from(has_c) << 2)
}

/// ONNX Gemm: `alpha op(A) op(B) + beta C`, with M, N, K and C's
/// broadcast strides resolved by hcal-core.
pub(crate) fn gemm(
    ctx: &mut Ctx<'_>,
    attrs: &Gemm,
    g: &GemmGeometry,
    a: &Operand,
    b: &Operand,
    c: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    run(ctx, &gemm_problem(attrs, g, c, false), a, b, y)
}

/// RMSNormGemm's product on A's rows normalized with `scale` (f32, K
/// values) and the op's epsilon, by the normalizing GEMV where it runs the
/// Gemm (`quant::launch_normalized`; B block-quantized, the GEMV's rows).
/// `Ok(false)`, recording nothing, elsewhere: the caller runs the steps.
pub(crate) fn gemm_normalized(
    ctx: &mut Ctx<'_>,
    attrs: &hcal_core::RmsNormGemm,
    g: &GemmGeometry,
    [a, b, y]: [&Operand; 3],
    c: Option<&Operand>,
    scale: &Operand,
) -> Result<bool> {
    if !b.desc.dtype.is_quantized() || ctx.pipelines.pins.matmul.is_some() {
        return Ok(false);
    }
    let problem = gemm_problem(&attrs.gemm(), g, c, false);
    quant::launch_normalized(ctx, &problem, [a, b, y], scale, attrs.epsilon)
}

/// The problem of a Gemm (`f16`: its operands are f16).
fn gemm_problem<'a>(attrs: &Gemm, g: &GemmGeometry, c: Option<&'a Operand>, f16: bool) -> Problem<'a> {
    let c = c.zip(g.c_strides);
    Problem {
        m: g.m,
        n: g.n,
        k: g.k,
        flags: gemm_flags(attrs, c.is_some()),
        alpha: attrs.alpha,
        beta: attrs.beta,
        batch: Vec::new(),
        a_strides: Vec::new(),
        b_strides: Vec::new(),
        c,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: StagingSlot::MatmulB,
        f16,
    }
}

/// A MatMul or Gemm as [`describe`] sees it: dims, batch count, flags, alpha.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Product {
    /// `[M, N, K]`.
    pub(crate) dims: [usize; 3],
    /// Matrices in the batch (1 for Gemm).
    pub(crate) batch: usize,
    /// As [`gemm_flags`] (0 for MatMul).
    pub(crate) flags: u32,
    /// Gemm's alpha (1 for MatMul).
    pub(crate) alpha: f32,
}

/// The kernel a product runs now (for reports): the pinned one where it can
/// run, else the remembered tuning choice, else what would be tried first.
pub(crate) fn describe(
    tuner: &crate::autotune::Autotuner,
    pin: Option<Path>,
    backend: &str,
    caps: Caps,
    product: Product,
) -> String {
    let [m, n, k] = product.dims;
    let p = Problem {
        m,
        n,
        k,
        flags: product.flags,
        alpha: product.alpha,
        beta: 0.0,
        batch: vec![product.batch],
        a_strides: vec![0],
        b_strides: vec![0],
        c: None,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: StagingSlot::MatmulB,
        f16: false,
    };
    if let Some(pinned) = pinned(pin, &candidates(&p, caps)) {
        return name(pinned);
    }
    let remembered = tuner.known(backend, &p.class()).filter(|_| crate::autotune::enabled());
    remembered.unwrap_or_else(|| name(tuning_set(candidates(&p, caps), caps, p.m)[0]))
}
