//! Which kernel runs a product: the candidates that can run it, the order the
//! autotuner tries them in, and the choice (pinned, remembered, or timed now).

use hcal_core::Result;

use super::staging::STAGE_A_MIN_N;
use super::tiles::{Path, TILES, Tile, name, parse};
use crate::autotune;
use crate::ctx::{Ctx, Operand};

/// One product as the kernels see it: dims, epilogue, batch dims and strides,
/// and where it reads and writes inside its buffers.
#[derive(Clone)]
pub(crate) struct Problem<'a> {
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) k: usize,
    /// 1: A transposed; 2: B transposed; 4: C present (as `MatmulParams::flags`).
    pub(crate) flags: u32,
    pub(crate) alpha: f32,
    pub(crate) beta: f32,
    pub(crate) batch: Vec<usize>,
    pub(crate) a_strides: Vec<usize>,
    pub(crate) b_strides: Vec<usize>,
    /// Gemm's C and its strides over `[m, n]` (0 where broadcast).
    pub(crate) c: Option<(&'a Operand, [usize; 2])>,
    /// Base offsets (elements) of A, B and Y, for views into larger tensors.
    pub(crate) bases: [usize; 3],
    /// Elements between consecutive output matrices (`None`: `M * N`).
    pub(crate) y_batch_stride: Option<usize>,
    /// The staging-texture slot the texture tiles stage B in.
    pub(crate) stage_slot: crate::memory::StagingSlot,
    /// A, B, C and Y hold f16, read and written as f16 by the kernel itself
    /// (its `F16_IO` form, [`reads_f16`]); else all are f32.
    pub(crate) f16: bool,
}

impl Problem<'_> {
    pub(crate) fn batch_count(&self) -> usize {
        self.batch.iter().product()
    }

    /// Item `z` of the batch as a product of its own: no batch dims, the
    /// item's matrices' offsets as bases (a batched product larger than one
    /// storage binding runs item by item).
    pub(crate) fn item(&self, z: usize) -> Self {
        let [mut a, mut b, mut y] = self.bases;
        let mut rest = z;
        for d in (0..self.batch.len()).rev() {
            let idx = rest % self.batch[d];
            rest /= self.batch[d];
            a += idx * self.a_strides[d];
            b += idx * self.b_strides[d];
        }
        y += z * self.y_batch_stride.unwrap_or(self.m * self.n);
        Problem {
            batch: Vec::new(),
            a_strides: Vec::new(),
            b_strides: Vec::new(),
            bases: [a, b, y],
            y_batch_stride: None,
            ..self.clone()
        }
    }

    /// Elements from the start of each of A, B, Y and C's buffers up to the
    /// last one the product reads or writes, over every batch item (0 for an
    /// absent C or an empty batch).
    pub(crate) fn touched(&self) -> [usize; 4] {
        let count = self.batch_count();
        if count == 0 {
            return [0; 4];
        }
        let last = |strides: &[usize]| -> usize { self.batch.iter().zip(strides).map(|(d, s)| (d - 1) * s).sum() };
        let y_stride = self.y_batch_stride.unwrap_or(self.m * self.n);
        let c = self.c.map_or(0, |(_, [sm, sn])| (self.m.max(1) - 1) * sm + (self.n.max(1) - 1) * sn + 1);
        [
            self.bases[0] + last(&self.a_strides) + self.m * self.k,
            self.bases[1] + last(&self.b_strides) + self.k * self.n,
            self.bases[2] + (count - 1) * y_stride + self.m * self.n,
            c,
        ]
    }

    /// The tuning class: dims rounded up to powers of two, and which operands are transposed.
    pub(crate) fn class(&self) -> String {
        let b = |x: usize| x.max(1).next_power_of_two();
        let t = ["", "-ta", "-tb", "-ta-tb"][(self.flags & 3) as usize];
        let dtype = if self.f16 { "f16" } else { "f32" };
        format!("{dtype}-m{}-n{}-k{}-b{}{t}", b(self.m), b(self.n), b(self.k), b(self.batch_count()))
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
    /// `max_storage_buffer_binding_size`: operands beyond it are split (`split.rs`).
    pub(crate) max_binding: u64,
    /// The offset alignment of buffer windows (see `record::Window::align`).
    pub(crate) align: u64,
}

impl Caps {
    pub(crate) fn of(gpu: &crate::gpu::Gpu) -> Self {
        Self {
            subgroup_max: gpu.subgroup_max,
            max_texture_2d: gpu.limits.max_texture_dimension_2d,
            max_layers: gpu.limits.max_texture_array_layers,
            simd_cpu: gpu.simd_cpu,
            max_groups: gpu.limits.max_compute_workgroups_per_dimension,
            max_binding: gpu.limits.max_storage_buffer_binding_size,
            align: crate::record::Window::align(gpu),
        }
    }
}

/// The texture layers A and B need (one per distinct matrix: the product of
/// the batch dims where the operand's stride is not 0), when the staged
/// textures (B: `[K][N/4]` texels; A, from [`STAGE_A_MIN_N`] columns:
/// `[M/4][K]`) fit the device's texture limits.
pub(crate) fn texture_layers(p: &Problem<'_>, caps: Caps) -> Option<[usize; 2]> {
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
pub(crate) fn tuning_set(runnable: Vec<Path>, caps: Caps, m: usize) -> Vec<Path> {
    let texture = |p: &Path| matches!(p, Path::Tiled(v) if TILES[*v as usize].texture());
    // (Measured with subgroups; without them every candidate is timed.)
    if !caps.simd_cpu || caps.subgroup_max.is_none() || !runnable.iter().any(texture) {
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

/// The paths that can run `p`, best guess first: of [`paths_for`], those
/// that can split it where an operand exceeds one storage binding (the
/// simple kernel, last, can split every product `supports` accepts).
pub(crate) fn candidates(p: &Problem<'_>, caps: Caps) -> Vec<Path> {
    let item = super::split::Item::of(p, caps);
    let mut paths = paths_for(p, caps);
    if p.f16 {
        // The f16 forms run whole operands and all of K in one dispatch
        // (a chained block of K carries its partial sums in Y, as f32).
        if !item.whole() {
            return Vec::new();
        }
        paths.retain(|&path| reads_f16(path) && p.k <= super::split::max_steps(path, caps));
        return paths;
    }
    if !item.whole() {
        paths.retain(|&path| super::split::plan(&item, path, caps).is_some());
        if paths.is_empty() {
            paths.push(Path::Generic);
        }
    }
    paths
}

/// The paths whose kernels can run `p`, best guess first.
fn paths_for(p: &Problem<'_>, caps: Caps) -> Vec<Path> {
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
    // Without usable subgroups, the tiles' form without them (`NO_SUBGROUPS`),
    // only with A staged: every lane of a workgroup loads the same A values,
    // which from A's buffer are loops over the lanes on SIMD CPU drivers
    // (llvmpipe: attention's composed path 2-3x slower with them).
    let usable =
        |t: &Tile| t.texture() && texture_ok && caps.subgroup_max.map_or(p.n >= STAGE_A_MIN_N, |max| t.wgx % max == 0);
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

/// Whether `path` has a form that reads and writes f16 operands itself: the
/// register tiles (`matmul_tiled.wgsl`, `matmul_texture.wgsl` and the
/// staging in `matmul_stage.wgsl`, with the `F16_IO` variant bit). The
/// others run f16 products on f32 copies.
pub(crate) fn reads_f16(path: Path) -> bool {
    matches!(path, Path::Tiled(_))
}

/// The pinned path, where it can run a product with these candidates (the
/// simple kernel runs everything; another pin only where it can).
pub(crate) fn pinned(pin: Option<Path>, runnable: &[Path]) -> Option<Path> {
    pin.filter(|&p| p == Path::Generic || runnable.contains(&p))
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

/// The path for `p`: pinned, remembered, tuned now (timing each candidate on
/// the real operands, which the chosen kernel then overwrites), or the first
/// candidate when tuning is off or not worth it.
pub(crate) fn choose(ctx: &mut Ctx<'_>, p: &Problem<'_>, a: &Operand, b: &Operand, y: &Operand) -> Result<Path> {
    let caps = Caps::of(ctx.gpu);
    let runnable = candidates(p, caps);
    if let Some(pinned) = pinned(ctx.pipelines.pins.matmul, &runnable).filter(|&path| !p.f16 || reads_f16(path)) {
        return Ok(pinned);
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
        super::launch(ctx, problem, path, a, b, y)?;
        ctx.rec.flush(ctx.gpu);
        ctx.gpu.wait()
    })?;
    autotune::log(&backend, &class, timings.iter().map(|&(path, secs)| (name(path), secs)));
    ctx.pipelines.tuner.remember(&backend, &class, &name(best));
    Ok(best)
}
