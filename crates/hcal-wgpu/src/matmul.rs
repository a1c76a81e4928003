//! Launchers for `shaders/matmul.wgsl` (any shape; GEMV) and the register-tiled
//! template `shaders/matmul_tiled.wgsl`, with per-shape-class autotuning.
//!
//! Paths, all sharing one parameter block:
//! - `tiled` variants (`matmul_tiled.wgsl`, register tiles, no workgroup
//!   memory) and `smem` (`matmul_smem.wgsl`, 64x64 workgroup-memory tiles):
//!   MatMul/Gemm without transposes and `N % 4 == 0`; the fastest per shape
//!   class is chosen by timing (see `autotune.rs`) — register tiles win on
//!   SIMD CPU drivers, workgroup-memory tiles are the classic GPU design;
//! - `gemv`: `M = 1` on one matrix (decode), K split inside the workgroup;
//! - `matmul`: everything else (transposes, odd N), and the baseline the
//!   benchmarks compare against (backend name suffix `:baseline`; `:smem`
//!   pins the workgroup-memory kernel likewise).
//!
//! Every path accumulates each output with f32 `fma` in K order (the GEMV
//! path in four interleaved slices added in a fixed order), so a given
//! shape always gives bit-identical results.

use hcal_core::{Error, Gemm, Result, broadcast_strides, matmul_geometry};

use crate::autotune;
use crate::pipeline::{Kernel, kernel};
use crate::record::{Ctx, Operand, bits};

/// Highest batch rank the kernel's parameter block holds.
pub(crate) const MAX_BATCH_RANK: usize = 6;

/// One expansion of a register-tiled template (`matmul_tiled.wgsl` or
/// `matmul_texture.wgsl`): `rows` x `4 * cols4` outputs per invocation,
/// `wgx` x `wgy` invocations per workgroup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tile {
    shader: &'static str,
    rows: u32,
    cols4: u32,
    wgx: u32,
    wgy: u32,
}

impl Tile {
    /// Whether this tile reads its operands from staged textures (B always,
    /// A from [`STAGE_A_MIN_N`] columns) and shares A across a subgroup
    /// (`matmul_texture.wgsl`).
    fn texture(self) -> bool {
        self.shader == "matmul_texture"
    }
}

/// The tile variants the autotuner chooses from. Large register tiles suit
/// SIMD CPU drivers (on lavapipe 8x16 and 16x16 outputs per invocation were
/// fastest among the storage-buffer tiles, 16x8 among the texture ones: 32x8
/// ran as fast but took 0.9 s to compile); the small ones keep more
/// invocations busy on GPUs and small shapes. Few on purpose: each candidate
/// costs a pipeline build (0.1-0.4 s on lavapipe) on the first call of a
/// shape class.
pub(crate) const TILES: [Tile; 6] = [
    Tile { shader: "matmul_texture", rows: 16, cols4: 2, wgx: 64, wgy: 1 },
    // One 8-wide subgroup per workgroup: 64 columns, for narrow products
    // (attention's P V with head size 64 left 3/4 of a 64-wide workgroup idle).
    Tile { shader: "matmul_texture", rows: 16, cols4: 2, wgx: 8, wgy: 1 },
    Tile { shader: "matmul_tiled", rows: 16, cols4: 4, wgx: 8, wgy: 8 },
    Tile { shader: "matmul_tiled", rows: 8, cols4: 4, wgx: 8, wgy: 8 },
    Tile { shader: "matmul_texture", rows: 8, cols4: 2, wgx: 64, wgy: 1 },
    // Last: `candidates` moves it to the front for small outputs.
    Tile { shader: "matmul_tiled", rows: 4, cols4: 2, wgx: 16, wgy: 16 },
];

/// The staging-texture slot the texture tiles stage A in (B goes to the
/// problem's `stage_slot`).
pub(crate) const A_STAGING_SLOT: usize = 3;

/// Steps of K one subgroup load covers in `matmul_texture.wgsl` (`$j` lines).
const CHUNK: u32 = 8;

/// Columns from which the texture tiles stage A: below, the staging pass
/// over A costs more than the loads it saves (lavapipe, attention's composed
/// path, B1 H8 S1024 D64: 15 GFLOP/s with P staged for P V, 21-23 without).
const STAGE_A_MIN_N: usize = 256;

/// Kernel-variant flag of a texture tile that reads A from its storage
/// buffer instead of a staged texture (the `A:buf` lines of
/// `matmul_texture.wgsl`).
const A_BUFFER: u16 = 0x100;

/// Expand the template of variant `v` (an index into [`TILES`], with
/// [`A_BUFFER`] for the texture tiles' buffer-A form).
pub(crate) fn expand(template: &str, v: u16) -> String {
    let t = TILES[(v & !A_BUFFER) as usize];
    let drop = if v & A_BUFFER != 0 { "// A:tex" } else { "// A:buf" };
    let template: String = template.lines().filter(|l| !l.ends_with(drop)).map(|l| format!("{l}\n")).collect();
    let template = template.as_str();
    let e = crate::template::Expansion {
        constants: &[("$RR", t.rows), ("$CC", t.cols4), ("$WGX", t.wgx), ("$WGY", t.wgy)],
        repeats: if t.texture() {
            // Rows 4 q + x: one staged texel of A holds 4 rows.
            &[("$q", t.rows / 4), ("$x", 4), ("$c", t.cols4)]
        } else {
            &[("$r", t.rows), ("$c", t.cols4)]
        },
        blocks: &[("$j", CHUNK)],
    };
    crate::template::expand(template, &e, |_, j| vec![("$j", j.to_string())])
}

/// Every expansion of every template, named, for shader validation.
pub fn expansions() -> Vec<(String, String)> {
    let template = |shader: &str| crate::pipeline::SHADERS.iter().find(|(n, _)| *n == shader).map_or("", |(_, s)| *s);
    let mut all: Vec<(String, String)> = (0..TILES.len() as u16)
        .map(|v| (name(Path::Tiled(v)), expand(template(TILES[v as usize].shader), v)))
        .collect();
    let texture = (0..TILES.len() as u16).filter(|&v| TILES[v as usize].texture());
    all.extend(texture.map(|v| {
        (format!("{} (A from its buffer)", name(Path::Tiled(v))), expand(template("matmul_texture"), v | A_BUFFER))
    }));
    all
}

/// Steps of K the autotuner times each candidate on.
const TUNE_K: usize = 256;

/// The K the autotuner times candidates on: at most [`TUNE_K`], and a power
/// of two exactly when `k` is one, because lavapipe specializes a compiled
/// kernel on whether its textures' sizes are powers of two (a staged B of
/// another kind would compile the kernel again, inside the timed run).
fn probe_k(k: usize) -> usize {
    match k {
        0..=TUNE_K => k,
        _ if k.is_power_of_two() => TUNE_K,
        _ => TUNE_K - 1,
    }
}

/// Which kernel runs a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    Generic,
    Gemv,
    Tiled(u16),
    Smem,
}

/// The stable name of a path (`tiled-8x16-wg8x8`), used in the tuning cache and reports.
pub(crate) fn name(path: Path) -> String {
    match path {
        Path::Generic => "matmul-4x4".to_string(),
        Path::Gemv => "gemv".to_string(),
        Path::Smem => "smem-64x64".to_string(),
        Path::Tiled(v) => {
            let t = TILES[v as usize];
            let family = if t.texture() { "texture" } else { "tiled" };
            format!("{family}-{}x{}-wg{}x{}", t.rows, 4 * t.cols4, t.wgx, t.wgy)
        }
    }
}

/// Every matmul kernel name, for pins and error messages.
pub(crate) fn path_names() -> Vec<String> {
    let fixed = [Path::Generic, Path::Gemv, Path::Smem];
    fixed.into_iter().chain((0..TILES.len() as u16).map(Path::Tiled)).map(name).collect()
}

fn parse(name: &str) -> Option<Path> {
    match name {
        "matmul-4x4" => Some(Path::Generic),
        "gemv" => Some(Path::Gemv),
        "smem-64x64" => Some(Path::Smem),
        _ => (0..TILES.len() as u16).map(Path::Tiled).find(|p| self::name(*p) == name),
    }
}

/// The compiled kernel of a path.
fn kernel_of(path: Path) -> Kernel {
    match path {
        Path::Generic => kernel("matmul", "matmul"),
        Path::Gemv => kernel("matmul", "gemv"),
        Path::Tiled(v) => {
            let shader = TILES[v as usize].shader;
            Kernel { shader, entry: shader, variant: v }
        }
        Path::Smem => kernel("matmul_smem", "matmul_smem"),
    }
}

#[derive(Clone)]
struct Problem<'a> {
    m: usize,
    n: usize,
    k: usize,
    flags: u32,
    alpha: f32,
    beta: f32,
    batch: Vec<usize>,
    a_strides: Vec<usize>,
    b_strides: Vec<usize>,
    c: Option<(&'a Operand, [usize; 2])>,
    /// Base offsets (elements) of A, B and Y, for views into larger tensors.
    bases: [usize; 3],
    /// Elements between consecutive output matrices (`None`: `M * N`).
    y_batch_stride: Option<usize>,
    /// The staging-texture slot the texture tiles stage B in (see `Memory::staging`).
    stage_slot: usize,
}

impl Problem<'_> {
    fn batch_count(&self) -> usize {
        self.batch.iter().product()
    }

    /// The tuning class: dims rounded up to powers of two, and which operands are transposed.
    fn class(&self) -> String {
        let b = |x: usize| x.max(1).next_power_of_two();
        let t = ["", "-ta", "-tb", "-ta-tb"][(self.flags & 3) as usize];
        format!("f32-m{}-n{}-k{}-b{}{t}", b(self.m), b(self.n), b(self.k), b(self.batch_count()))
    }
}

/// What a device offers the texture tiles.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Caps {
    /// The largest subgroup size, when subgroup kernels can run (the
    /// `subgroups` feature, and no subgroup smaller than one chunk of K).
    pub(crate) subgroup_max: Option<u32>,
    /// `max_texture_dimension_2d`.
    pub(crate) max_texture_2d: u32,
    /// `max_texture_array_layers`.
    pub(crate) max_layers: u32,
    /// A SIMD CPU driver (lavapipe): compiling a candidate costs 0.3-3 s there.
    pub(crate) simd_cpu: bool,
    /// `max_compute_workgroups_per_dimension`.
    pub(crate) max_groups: u32,
}

impl Caps {
    pub(crate) fn of(gpu: &crate::gpu::Gpu) -> Self {
        Self {
            subgroup_max: gpu.subgroup_max,
            max_texture_2d: gpu.limits.max_texture_dimension_2d,
            max_layers: gpu.limits.max_texture_array_layers,
            simd_cpu: gpu.simd_cpu,
            max_groups: gpu.limits.max_compute_workgroups_per_dimension,
        }
    }
}

/// The texture layers A and B need (one per distinct matrix: the product of
/// the batch dims where the operand's stride is not 0), when the staged
/// textures (B: `[K][N/4]` texels; A, from [`STAGE_A_MIN_N`] columns:
/// `[M/4][K]`) fit the device's texture limits.
fn texture_layers(p: &Problem<'_>, caps: Caps) -> Option<[usize; 2]> {
    if p.k == 0 || p.n == 0 || p.m == 0 {
        return None;
    }
    let layers = |strides: &[usize]| -> usize {
        p.batch.iter().zip(strides).filter(|(_, s)| **s != 0).map(|(d, _)| *d).product()
    };
    let (a_layers, b_layers) = (layers(&p.a_strides), layers(&p.b_strides));
    // An empty batch (0 layers) is left to the other kernels: a texture cannot be empty.
    let layers_fit = |l: usize| (1..=caps.max_layers as usize).contains(&l);
    let max_2d = caps.max_texture_2d as usize;
    let a_fits = p.n < STAGE_A_MIN_N || (p.m.div_ceil(4).max(p.k) <= max_2d && layers_fit(a_layers));
    let fits = p.n.div_ceil(4).max(p.k) <= max_2d && layers_fit(b_layers) && a_fits;
    fits.then_some([a_layers, b_layers])
}

/// Rows from which staging B (O(K N) per call) is amortized well enough that
/// the texture tiles win on SIMD CPU drivers.
const TEXTURE_ONLY_ROWS: usize = 128;

/// The candidates the autotuner times, from the paths that can run a
/// product. On SIMD CPU drivers with texture tiles and at least
/// [`TEXTURE_ONLY_ROWS`] rows, only those: they won every shape class tuned
/// there, 256^3 and up, 1.4-1.8x the storage-buffer tiles, and compiling one
/// more candidate there can cost seconds. Fewer rows (a 16-token prefill
/// through the decoder example's weights) leave B's staging unamortized: the
/// storage-buffer tiles go first there (83.9 against 41.9 prefill tok/s).
fn tuning_set(runnable: Vec<Path>, caps: Caps, m: usize) -> Vec<Path> {
    let texture = |p: &Path| matches!(p, Path::Tiled(v) if TILES[*v as usize].texture());
    if !caps.simd_cpu || !runnable.iter().any(texture) {
        return runnable;
    }
    if m >= TEXTURE_ONLY_ROWS {
        return runnable.into_iter().filter(texture).collect();
    }
    // Storage-buffer register tiles first, then the texture tiles, then the
    // rest (the simple kernel, workgroup-memory tiles) as they were.
    let buffer_tile = |p: &Path| matches!(p, Path::Tiled(_)) && !texture(p);
    let mut order: Vec<Path> = runnable.iter().copied().filter(buffer_tile).collect();
    order.extend(runnable.iter().copied().filter(texture));
    order.extend(runnable.into_iter().filter(|p| !matches!(p, Path::Tiled(_))));
    order
}

/// The paths that can run `p`, best guess first.
fn candidates(p: &Problem<'_>, caps: Caps) -> Vec<Path> {
    let (trans_a, trans_b) = (p.flags & 1 != 0, p.flags & 2 != 0);
    if trans_a {
        return vec![Path::Generic];
    }
    if p.m == 1 && !trans_b {
        return vec![Path::Gemv];
    }
    let aligned = p.bases[1] % 4 == 0 && p.bases[2] % 4 == 0 && p.y_batch_stride.is_none_or(|s| s % 4 == 0);
    if p.n % 4 != 0 || !aligned {
        return vec![Path::Generic];
    }
    // The texture tiles: no epilogue (alpha 1, no C); a transposed B is
    // transposed while it is staged.
    // Rows go to workgroups y (16 or 8 per workgroup), batch items to z.
    let groups_fit = p.m.div_ceil(8).max(p.batch_count()) <= caps.max_groups as usize;
    let texture_ok = p.flags & !2 == 0 && p.alpha == 1.0 && groups_fit && texture_layers(p, caps).is_some();
    let usable = |t: &Tile| t.texture() && texture_ok && caps.subgroup_max.is_some_and(|max| t.wgx % max == 0);
    if trans_b {
        let mut c: Vec<Path> =
            (0..TILES.len() as u16).filter(|&v| usable(&TILES[v as usize])).map(Path::Tiled).collect();
        c.push(Path::Generic);
        return c;
    }
    let usable = |t: &Tile| !t.texture() || usable(t);
    let mut c: Vec<Path> = (0..TILES.len() as u16).filter(|&v| usable(&TILES[v as usize])).map(Path::Tiled).collect();
    if p.m * p.n < 64 * 64 {
        // Small outputs: the small tile keeps invocations busy.
        c.rotate_right(1);
    }
    c.push(Path::Smem);
    c
}

fn params(p: &Problem<'_>) -> Vec<u32> {
    let mut params = vec![0u32; 35];
    params[..6].copy_from_slice(&[p.m as u32, p.n as u32, p.k as u32, p.flags, bits(p.alpha), bits(p.beta)]);
    params[6] = p.batch.len() as u32;
    for (i, ((&d, &sa), &sb)) in p.batch.iter().zip(&p.a_strides).zip(&p.b_strides).enumerate() {
        params[7 + i] = d as u32;
        params[13 + i] = sa as u32;
        params[19 + i] = sb as u32;
    }
    if let Some((_, [sm, sn])) = p.c {
        params[25] = sm as u32;
        params[26] = sn as u32;
    }
    params[27] = p.bases[0] as u32;
    params[28] = p.bases[1] as u32;
    params[29] = p.bases[2] as u32;
    params[30] = p.y_batch_stride.unwrap_or(p.m * p.n) as u32;
    params[31] = 1;
    params[32] = p.k as u32;
    params
}

/// K splits of a GEMV: one per 512 steps of K (at most 64) when few output
/// columns leave workgroups idle, else 1.
fn gemv_splits(p: &Problem<'_>) -> usize {
    if p.n <= 256 && p.k >= 2048 { (p.k / 512).min(64) } else { 1 }
}

fn launch(ctx: &mut Ctx<'_>, p: &Problem<'_>, path: Path, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    let mut params = params(p);
    let c_buf = p.c.map_or_else(|| ctx.dummy.clone(), |(c, _)| (*c.buf).clone());
    let batch = p.batch_count() as u32;
    let splits = gemv_splits(p);
    if path == Path::Gemv && splits > 1 {
        // Partial sums per split into scratch, then an in-order reduction.
        let chunk = p.k.div_ceil(splits);
        let partials = ctx.scratch(p.batch_count() * splits * p.n * 4)?;
        params[33] = params[29];
        params[34] = params[30];
        params[29] = 0;
        params[30] = (splits * p.n) as u32;
        params[31] = splits as u32;
        params[32] = chunk as u32;
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
            return launch_texture(ctx, p, &params, v, a, b, y);
        }
    }
    let groups = match path {
        Path::Generic => [p.n.div_ceil(32) as u32, p.m.div_ceil(32) as u32, batch],
        Path::Gemv => [p.n.div_ceil(64) as u32, 1, batch],
        Path::Smem => [p.n.div_ceil(64) as u32, p.m.div_ceil(64) as u32, batch],
        Path::Tiled(v) => {
            let t = TILES[v as usize];
            let x = (p.n / 4).div_ceil((t.cols4 * t.wgx) as usize);
            let y = p.m.div_ceil((t.rows * t.wgy) as usize);
            [x as u32, y as u32, batch]
        }
    };
    ctx.dispatch(kernel_of(path), &params, &[(1, &a.buf), (2, &b.buf), (3, &c_buf), (4, &y.buf)], groups)
}

/// Stage op(B) into staging slot `slot` with `matmul_stage.wgsl`: `params` is
/// a matmul parameter block ([1] N, [2] K, [3] flag 2 for a transposed B,
/// batch dims and B strides, [28] B base), `layers` the distinct B matrices;
/// `vec4_ok` when N, the base and the strides are multiples of 4 (one vec4
/// load per texel). Texel [l, p, j] = op(B)[l][p, 4j..4j+4].
pub(crate) fn stage_b(
    ctx: &mut Ctx<'_>,
    slot: usize,
    params: &[u32],
    b: &wgpu::Buffer,
    layers: usize,
    vec4_ok: bool,
) -> Result<std::sync::Arc<wgpu::TextureView>> {
    let (n4, k) = (params[1].div_ceil(4), params[2]);
    let view = ctx.mem.staging(ctx.gpu, slot, [n4, k, layers as u32])?;
    let groups = [n4.div_ceil(16), k.div_ceil(16), layers as u32];
    let (entry, binding) = if vec4_ok && params[3] & 2 == 0 { ("stage_b4", 3) } else { ("stage_b", 1) };
    ctx.dispatch_with_views(kernel("matmul_stage", entry), params, &[(binding, b)], &[(2, &view)], groups)?;
    Ok(view)
}

/// Stage A with `matmul_stage.wgsl`'s `stage_a` into [`A_STAGING_SLOT`]:
/// texel [l, i / 4, p] = A[l][i..i + 4, p], so the lanes that load steps
/// p..p + 8 of 4 rows read neighbouring texels (staged as a transposed B,
/// texel [l, p, i / 4], they read 8 texture rows apart, and the product ran
/// at half the speed).
fn stage_a(
    ctx: &mut Ctx<'_>,
    params: &[u32],
    a: &wgpu::Buffer,
    m: usize,
    k: usize,
    layers: usize,
) -> Result<std::sync::Arc<wgpu::TextureView>> {
    let (k, m4) = (k as u32, m.div_ceil(4) as u32);
    let view = ctx.mem.staging(ctx.gpu, A_STAGING_SLOT, [k, m4, layers as u32])?;
    let groups = [k.div_ceil(16), m4.div_ceil(16), layers as u32];
    ctx.dispatch_with_views(kernel("matmul_stage", "stage_a"), params, &[(1, a)], &[(2, &view)], groups)?;
    Ok(view)
}

/// Stage A and B into texture arrays, then run a texture tile on them.
fn launch_texture(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    params: &[u32],
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

/// The path for `p`: forced, remembered, tuned now (timing each candidate on
/// the real operands, which the chosen kernel then overwrites), or the first
/// candidate when tuning is off or not worth it.
fn choose(ctx: &mut Ctx<'_>, p: &Problem<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<Path> {
    let caps = Caps::of(ctx.gpu);
    let runnable = candidates(p, caps);
    if let Some(pinned) = ctx.pipelines.tuner.pinned_matmul().as_deref().and_then(parse) {
        // The simple kernel runs everything; another pin only where it can.
        if pinned == Path::Generic || runnable.contains(&pinned) {
            return Ok(pinned);
        }
    }
    let cands = tuning_set(runnable, caps, p.m);
    let tiny = p.m * p.n * p.k < 128 * 128 * 128;
    if cands.len() == 1 || tiny || !autotune::enabled() {
        return Ok(cands[0]);
    }
    let class = p.class();
    let backend = ctx.gpu.backend.clone();
    if let Some(path) = ctx.pipelines.tuner.known(&backend, &class).as_deref().and_then(parse) {
        if cands.contains(&path) {
            return Ok(path);
        }
    }
    // Candidates are timed on the first TUNE_K steps of K only: the cost per
    // step is what differs between tiles, and a 2048^3 product would
    // otherwise spend seconds per candidate. The real dispatch recorded after
    // tuning overwrites what these wrote.
    // The probe's batch items all read B's first matrix: with K shortened,
    // B's batch strides would no longer be whole (staged) matrices.
    let probe = Problem {
        k: probe_k(p.k),
        batch: p.batch.clone(),
        a_strides: p.a_strides.clone(),
        b_strides: vec![0; p.b_strides.len()],
        ..*p
    };
    // Warm-up: some drivers (lavapipe) compile a pipeline on its first
    // dispatch, so each candidate first runs a tiny product, untimed.
    let warmup = Problem { m: p.m.min(32), ..probe.clone() };
    let (best, timings) = autotune::pick(&cands, |path, phase| {
        let problem = if phase == autotune::Phase::Prepare { &warmup } else { &probe };
        launch(ctx, problem, path, a, b, y)?;
        ctx.rec.flush(ctx.gpu);
        ctx.gpu.wait()
    })?;
    autotune::log(&backend, &class, timings.iter().map(|&(path, secs)| (name(path), secs)));
    ctx.pipelines.tuner.remember(&backend, &class, &name(best));
    Ok(best)
}

/// ONNX MatMul with numpy rank rules and batch broadcasting.
pub(crate) fn matmul(ctx: &mut Ctx<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    let g = matmul_geometry(&a.desc.shape, &b.desc.shape)?;
    let problem = Problem {
        m: g.m,
        n: g.n,
        k: g.k,
        flags: 0,
        alpha: 1.0,
        beta: 0.0,
        a_strides: g.a_batch_strides.clone(),
        b_strides: g.b_batch_strides.clone(),
        batch: g.batch,
        c: None,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: 0,
    };
    let path = choose(ctx, &problem, a, b, y)?;
    launch(ctx, &problem, path, a, b, y)
}

/// Where a batched product reads and writes inside larger tensors.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct View {
    /// Base offsets (elements) of A, B and Y.
    pub(crate) bases: [usize; 3],
    /// Elements between consecutive output matrices (`None`: `M * N`).
    pub(crate) y_batch_stride: Option<usize>,
    /// B is stored transposed, as `[N, K]` (attention's keys).
    pub(crate) trans_b: bool,
    /// The staging-texture slot for B if a texture tile runs the product
    /// (0 unless a caller keeps an operand's texture apart).
    pub(crate) stage_slot: usize,
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
        stage_slot: 0,
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
    };
    let path = choose(ctx, &problem, a, b, y)?;
    launch(ctx, &problem, path, a, b, y)
}

/// ONNX Gemm: `alpha op(A) op(B) + beta C`.
pub(crate) fn gemm(
    ctx: &mut Ctx<'_>,
    attrs: &Gemm,
    a: &Operand,
    b: &Operand,
    c: Option<&Operand>,
    y: &Operand,
) -> Result<()> {
    let (m, k) = if attrs.trans_a { (a.desc.shape[1], a.desc.shape[0]) } else { (a.desc.shape[0], a.desc.shape[1]) };
    let n = if attrs.trans_b { b.desc.shape[0] } else { b.desc.shape[1] };
    let c = c.map(|c| {
        let s = broadcast_strides(&c.desc.shape, &[m, n]);
        (c, [s[0], s[1]])
    });
    let flags = u32::from(attrs.trans_a) | (u32::from(attrs.trans_b) << 1) | (u32::from(c.is_some()) << 2);
    let problem = Problem {
        m,
        n,
        k,
        flags,
        alpha: attrs.alpha,
        beta: attrs.beta,
        batch: Vec::new(),
        a_strides: Vec::new(),
        b_strides: Vec::new(),
        c,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: 0,
    };
    let path = choose(ctx, &problem, a, b, y)?;
    launch(ctx, &problem, path, a, b, y)
}

/// The kernel a MatMul/Gemm of these dims runs now (for reports): the
/// remembered tuning choice, else what would be tried first.
pub(crate) fn describe(
    tuner: &autotune::Autotuner,
    backend: &str,
    caps: Caps,
    sig: &hcal_core::OpSignature,
) -> Option<String> {
    let d = |i: usize| sig.inputs().get(i).and_then(Option::as_ref);
    let (m, n, k, batch, flags, alpha) = match sig.op() {
        hcal_core::Op::MatMul => {
            let g = matmul_geometry(&d(0)?.shape, &d(1)?.shape).ok()?;
            let count = g.batch_count();
            (g.m, g.n, g.k, count, 0, 1.0)
        }
        hcal_core::Op::Gemm(attrs) => {
            let (a, b) = (&d(0)?.shape, &d(1)?.shape);
            let (m, k) = if attrs.trans_a { (a[1], a[0]) } else { (a[0], a[1]) };
            let n = if attrs.trans_b { b[0] } else { b[1] };
            let flags = u32::from(attrs.trans_a) | (u32::from(attrs.trans_b) << 1) | (u32::from(d(2).is_some()) << 2);
            (m, n, k, 1, flags, attrs.alpha)
        }
        _ => return None,
    };
    let p = Problem {
        m,
        n,
        k,
        flags,
        alpha,
        beta: 0.0,
        batch: vec![batch],
        a_strides: vec![0],
        b_strides: vec![0],
        c: None,
        bases: [0; 3],
        y_batch_stride: None,
        stage_slot: 0,
    };
    if let Some(pinned) = tuner.pinned_matmul().as_deref().and_then(parse) {
        if pinned == Path::Generic || candidates(&p, caps).contains(&pinned) {
            return Some(name(pinned));
        }
    }
    let remembered = tuner.known(backend, &p.class()).filter(|_| autotune::enabled());
    Some(remembered.unwrap_or_else(|| name(tuning_set(candidates(&p, caps), caps, p.m)[0])))
}
