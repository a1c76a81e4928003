//! Products with an operand larger than one storage binding.
//!
//! `launch` binds whole buffers when every operand fits one binding; else
//! the product runs here, in pieces that each bind windows of the operands
//! (`record::Window`), the kernels reading the windows' origins from their
//! bases and the operands' full row strides from `lda`/`ldb`/`ldy`:
//!
//! - a batched product runs item by item, each item a product of its own
//!   whose bases are its matrices' offsets ([`Problem::item`]);
//! - A, Y and C are cut into blocks of rows (contiguous in row-major);
//! - on the buffer kernels (the simple one, the storage-buffer and
//!   workgroup-memory tiles) a B stored `[K, N]` (and an A stored `[K, M]`)
//!   is cut into blocks of K, and the blocks are chained: the first stores
//!   its raw sums in Y (flag 16), each later one starts its accumulators from
//!   them (flag 8), the last applies alpha, beta and C. This is the simplest
//!   scheme that is exact everywhere: every output is still the one fma chain
//!   in K order the unsplit kernels compute, so results are bit-identical to
//!   the unsplit product (and to every other kernel), with no partial-sum
//!   buffer and no reduction order to fix. It costs a read and a write of Y's
//!   block per block of K, small next to reading B;
//! - a B stored `[N, K]` (Gemm's transB) on the simple kernel: blocks of
//!   columns (rows of B);
//! - GEMV (M = 1) sums each output in four interleaved lanes, which one Y
//!   value cannot carry from block to block, so it splits K its own way: into
//!   partial sums, one per slice of K steps, a window of B holding whole
//!   slices, then `splitk_reduce` adds the slices in order (the existing
//!   split-K GEMV path). Deterministic; it differs from the unsplit GEMV by
//!   rounding only (the order of a K-length sum, which the conformance
//!   tolerance covers);
//! - the texture tiles never bind B in the product: B is staged into its
//!   texture in pieces of rows (`staging::stage_b`), A too where it is
//!   staged, and the product runs in blocks of rows of A (read from its
//!   buffer) and Y.
//!
//! Long products (K beyond [`max_steps`]) run as chained blocks of K too on
//! Mesa's CPU drivers, whose loop guard would otherwise cut them short.

use hcal_core::{Error, Result};

use super::select::{Caps, Problem};
use super::tiles::{Path, TILES, kernel_of};
use crate::ctx::{Ctx, Operand};
use crate::record::Window;

/// Rows of a texture tiles' block are a multiple of this (unless the block
/// holds every row): they stage A by quads of rows.
pub(crate) const ROW_UNIT: usize = 4;

/// Loop iterations Mesa's SIMD CPU drivers run per shader invocation before
/// they stop its loops (see [`max_steps`]).
pub(crate) const CPU_DRIVER_LOOP_LIMIT: usize = 65_535;

/// Steps of K one dispatch of `path` may take on a device with `caps`.
///
/// Mesa's SIMD CPU drivers (lavapipe, llvmpipe) end the loops of an
/// invocation once all of its loops together have iterated 65535 times
/// (gallivm's `LP_MAX_TGSI_LOOP_ITERATIONS`, a guard against endless
/// loops), silently leaving the rest of the work undone: the simple kernel
/// (about 9 loop iterations per step of K) returned unwritten outputs from
/// K = 8191 on. There, longer products run as chained blocks of K like a B
/// larger than one binding, which changes no result bit. The budget per
/// kernel keeps a margin of about 2x below the limit.
pub(crate) fn max_steps(path: Path, caps: Caps) -> usize {
    if !caps.simd_cpu {
        return usize::MAX;
    }
    match path {
        // Outer loop, 4 columns, up to 4 rows per step.
        Path::Generic => 4096,
        // One loop iteration per step (tiles unrolled); workgroup-memory
        // tiles: 21 iterations per 16 steps.
        Path::Smem => 32768,
        Path::Tiled(v) if !TILES[v as usize].texture() => 32768,
        // Per slice of K: each of 4 lanes loops over a quarter of it.
        Path::Gemv => 131072,
        // One iteration per 8 steps; K is within a texture's height anyway.
        Path::Tiled(_) => usize::MAX,
    }
}

/// Flag: the accumulators start from the partial sums Y holds.
const CONTINUE: u32 = 8;
/// Flag: store the raw sums, no epilogue (more blocks of K follow).
const PARTIAL: u32 = 16;

/// One product (a batch item) as the splitter sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Item {
    pub(crate) m: usize,
    pub(crate) n: usize,
    pub(crate) k: usize,
    trans_a: bool,
    trans_b: bool,
    /// C's strides over `[M, N]` when present.
    c: Option<[usize; 2]>,
    /// Whether A, B, Y and C (over the whole batch) each fit one binding.
    whole: [bool; 4],
}

impl Item {
    /// The items of `p` (all alike) on a device with `caps`.
    pub(crate) fn of(p: &Problem<'_>, caps: Caps) -> Self {
        Self::new([p.m, p.n, p.k], p.flags, p.c.map(|(_, s)| s), p.touched(), caps)
    }

    /// An item of `[m, n, k]` with `flags` (1: A transposed, 2: B
    /// transposed), C's strides, and `totals` elements of A, B, Y and C over
    /// the whole batch (what decides whether each is bound whole).
    pub(crate) fn new(
        [m, n, k]: [usize; 3],
        flags: u32,
        c: Option<[usize; 2]>,
        totals: [usize; 4],
        caps: Caps,
    ) -> Self {
        let whole = totals.map(|e| crate::split::whole(e * 4, caps.max_binding));
        Item { m, n, k, trans_a: flags & 1 != 0, trans_b: flags & 2 != 0, c, whole }
    }

    /// Every operand fits one binding: nothing to split.
    pub(crate) fn whole(&self) -> bool {
        self.whole.iter().all(|&w| w)
    }

    /// Row strides of A, B and Y as stored.
    fn ld(&self) -> [usize; 3] {
        let lda = if self.trans_a { self.m } else { self.k };
        let ldb = if self.trans_b { self.k } else { self.n };
        [lda, ldb, self.n]
    }

    /// Elements of A, B, Y and C that a block of `rm` rows, `rk` steps of K
    /// and `rn` columns spans (from its first element to its last).
    pub(crate) fn extents(&self, [rm, rk, rn]: [usize; 3]) -> [usize; 4] {
        let (rm, rk, rn) = (rm.max(1), rk.max(1), rn.max(1));
        let [lda, ldb, ldy] = self.ld();
        let a = if self.trans_a { (rk - 1) * lda + rm } else { (rm - 1) * lda + rk };
        let b = if self.trans_b { (rn - 1) * ldb + rk } else { (rk - 1) * ldb + rn };
        let c = self.c.map_or(1, |[sm, sn]| (rm - 1) * sm + (rn - 1) * sn + 1);
        [a, b, (rm - 1) * ldy + rn, c]
    }

    /// Whether a block's windows of the `bound` operands each fit one binding.
    fn fits(&self, block: [usize; 3], caps: Caps, bound: [bool; 4]) -> bool {
        let extents = self.extents(block);
        (0..4)
            .all(|i| self.whole[i] || !bound[i] || Window::bytes_needed(extents[i], 4, caps.align) <= caps.max_binding)
    }
}

/// How an item runs in pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The buffer kernels on blocks of `[rows, steps of K, columns]`.
    Blocks([usize; 3]),
    /// GEMV with K in `splits` slices of `steps`, `per_window` slices per window of B.
    Gemv { steps: usize, splits: usize, per_window: usize },
    /// Texture tiles: operands staged in pieces, the product in blocks of `rows`.
    Texture { rows: usize },
}

/// The largest `x <= hi` that is a multiple of `unit` (or `hi` itself) with
/// `f(x)`, for `f` true up to some point and false beyond; `None` when not
/// even `min(unit, hi)` passes. `hi == 0` passes as 0.
fn largest(hi: usize, unit: usize, f: impl Fn(usize) -> bool) -> Option<usize> {
    if hi == 0 || f(hi) {
        return Some(hi);
    }
    if !f(unit.min(hi)) {
        return None;
    }
    // f(lo * unit) holds, f(hi_units * unit) (or f(hi)) does not.
    let (mut lo, mut hi_units) = (1, hi.div_ceil(unit));
    while hi_units - lo > 1 {
        let mid = lo + (hi_units - lo) / 2;
        if f(mid * unit) { lo = mid } else { hi_units = mid }
    }
    Some(lo * unit)
}

/// How `path` runs `item` in pieces, or `None` when it cannot (a piece
/// would still exceed one binding, or the path has no way to split that
/// operand). The simple kernel can split every product whose single rows
/// (of A, B, Y, C) fit a binding.
pub(crate) fn plan(item: &Item, path: Path, caps: Caps) -> Option<Plan> {
    let (m, n, k) = (item.m, item.n, item.k);
    let all = [true; 4];
    let f = |block| item.fits(block, caps, all);
    // Rows a dispatch covers stay within the grid (8: the texture tiles'
    // smallest tile; the other kernels cover more per workgroup).
    let max_rows = caps.max_groups as usize * 8;
    match path {
        Path::Gemv => {
            if m != 1 || !f([1, 1, n]) {
                return None;
            }
            let rk = largest(k, 1, |rk| f([1, rk, n]))?;
            let base = super::gemv_splits_of(n, k);
            let steps = k.div_ceil(base).min(rk).min(max_steps(path, caps)).max(1);
            let splits = k.div_ceil(steps).max(1);
            let partials_fit = splits == 1 || crate::split::whole(splits * n * 4, caps.max_binding);
            partials_fit.then_some(Plan::Gemv { steps, splits, per_window: (rk / steps).max(1) })
        }
        Path::Tiled(v) if TILES[v as usize].texture() => {
            let a_staged = n >= super::staging::STAGE_A_MIN_N;
            let [lda, ldb, _] = item.ld();
            let row_fits = |elems: usize| Window::bytes_needed(elems, 4, caps.align) <= caps.max_binding;
            // Staging binds pieces of 4 rows of B stored [N, K] (a texel's
            // columns), single rows of B stored [K, N], quads of rows of A.
            let b_ok = item.whole[1] || if item.trans_b { row_fits(3 * ldb + k) } else { row_fits(n) };
            let a_ok = item.whole[0] || !a_staged || row_fits(3 * lda + k);
            if !(b_ok && a_ok) {
                return None;
            }
            // The product binds A (unless staged) and Y, never B.
            let bound = [!a_staged, false, true, false];
            let rows = largest(m.min(max_rows), ROW_UNIT, |rm| item.fits([rm, k, n], caps, bound))?;
            Some(Plan::Texture { rows })
        }
        Path::Generic | Path::Tiled(_) | Path::Smem => {
            // Columns only on the simple kernel (a B stored [N, K]), in quads;
            // the vec4 kernels keep whole rows.
            let rn = if f([1, 1, n]) {
                n
            } else if path == Path::Generic {
                largest(n, 4, |rn| f([1, 1, rn]))?
            } else {
                return None;
            };
            let rk = largest(k.min(max_steps(path, caps)), 1, |rk| f([1, rk, rn]))?;
            let rm = largest(m.min(max_rows), 1, |rm| f([rm, rk, rn]))?;
            Some(Plan::Blocks([rm, rk, rn]))
        }
    }
}

/// The error for a product no path can split (`supports` declines it first).
fn too_large(ctx: &Ctx<'_>, p: &Problem<'_>) -> Error {
    Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: (p.touched().into_iter().max().unwrap_or(0) * 4) as u64,
    }
}

/// Record `path` on `p`, item by item, each in pieces (see the module doc).
pub(crate) fn launch(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    path: Path,
    a: &Operand,
    b: &Operand,
    y: &Operand,
) -> Result<()> {
    for z in 0..p.batch_count() {
        launch_item(ctx, &p.item(z), path, a, b, y)?;
    }
    Ok(())
}

/// Record `path` on one item (no batch dims) in the pieces of its plan.
fn launch_item(ctx: &mut Ctx<'_>, p: &Problem<'_>, path: Path, a: &Operand, b: &Operand, y: &Operand) -> Result<()> {
    let caps = Caps::of(ctx.gpu);
    let item = Item::of(p, caps);
    let plan = plan(&item, path, caps).ok_or_else(|| too_large(ctx, p))?;
    let params = super::params(p);
    let c_buf = p.c.map_or_else(|| ctx.dummy.clone(), |(c, _)| (*c.buf).clone());
    match (plan, path) {
        (Plan::Texture { rows }, Path::Tiled(v)) => super::staging::launch_texture(ctx, p, &params, v, a, b, y, rows),
        (Plan::Gemv { steps, splits, per_window }, _) => {
            gemv(ctx, p, params, [steps, splits, per_window], [a, b, y], &c_buf)
        }
        (Plan::Blocks(block), _) => blocks(ctx, p, &item, path, params, block, [a, b, y], &c_buf),
        (Plan::Texture { .. }, _) => unreachable!("texture plans are made for texture tiles"),
    }
}

/// The buffer kernels on blocks `[rm, rk, rn]`, blocks of K chained
/// through Y (flags 8 and 16) in K order.
#[allow(clippy::too_many_arguments)]
fn blocks(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    item: &Item,
    path: Path,
    mut params: crate::params::MatmulParams,
    [rm, rk, rn]: [usize; 3],
    [a, b, y]: [&Operand; 3],
    c_buf: &wgpu::Buffer,
) -> Result<()> {
    let [lda, ldb, ldy] = item.ld();
    let [sm, sn] = p.c.map_or([0, 0], |(_, s)| s);
    let k_blocks: Vec<(usize, usize)> =
        if p.k == 0 { vec![(0, 0)] } else { (0..p.k).step_by(rk).map(|k0| (k0, (k0 + rk).min(p.k))).collect() };
    for m0 in (0..p.m).step_by(rm) {
        let m1 = (m0 + rm).min(p.m);
        for n0 in (0..p.n).step_by(rn) {
            let n1 = (n0 + rn).min(p.n);
            for &(k0, k1) in &k_blocks {
                let extents = item.extents([m1 - m0, k1 - k0, n1 - n0]);
                let a_first = p.bases[0] + if item.trans_a { k0 * lda + m0 } else { m0 * lda + k0 };
                let b_first = p.bases[1] + if item.trans_b { n0 * ldb + k0 } else { k0 * ldb + n0 };
                let y_first = p.bases[2] + m0 * ldy + n0;
                let c_first = m0 * sm + n0 * sn;
                let (aw, a_origin) = ctx.window(&a.buf, a_first, extents[0], 4);
                let (bw, b_origin) = ctx.window(&b.buf, b_first, extents[1], 4);
                let (yw, y_origin) = ctx.window(&y.buf, y_first, extents[2], 4);
                let (cw, c_origin) = ctx.window(c_buf, c_first, extents[3], 4);
                params.m = (m1 - m0) as u32;
                params.n = (n1 - n0) as u32;
                params.k = (k1 - k0) as u32;
                params.a_base = (a_first - a_origin) as u32;
                params.b_base = (b_first - b_origin) as u32;
                params.y_base = (y_first - y_origin) as u32;
                params.c_base = (c_first - c_origin) as u32;
                let chained = (if k0 > 0 { CONTINUE } else { 0 }) | (if k1 < p.k { PARTIAL } else { 0 });
                params.flags = p.flags | chained;
                let groups = super::groups(path, m1 - m0, n1 - n0, 1);
                let bindings = [(1, aw), (2, bw), (3, cw), (4, yw)];
                ctx.dispatch_windows(kernel_of(path), &params, &bindings, &[], groups)?;
            }
        }
    }
    Ok(())
}

/// GEMV with K in `splits` slices of `steps` (partial sums, one window of B
/// holding `per_window` whole slices per dispatch), then `splitk_reduce`
/// adding the slices in order; one dispatch when K is one slice.
fn gemv(
    ctx: &mut Ctx<'_>,
    p: &Problem<'_>,
    mut params: crate::params::MatmulParams,
    [steps, splits, per_window]: [usize; 3],
    [a, b, y]: [&Operand; 3],
    c_buf: &wgpu::Buffer,
) -> Result<()> {
    let (n, k) = (p.n, p.k);
    let ldb = params.ldb as usize;
    let sn = p.c.map_or(0, |(_, [_, sn])| sn);
    // C's window starts at its element 0 (aligned), so c_base stays 0.
    let (cw, _) = ctx.window(c_buf, 0, (n.max(1) - 1) * sn + 1, 4);
    let (yw, y_origin) = ctx.window(&y.buf, p.bases[2], n, 4);
    let gemv_kernel = kernel_of(Path::Gemv);
    let partials = if splits > 1 { Some(ctx.scratch(splits * n * 4)?) } else { None };
    params.splits = splits as u32;
    params.split_steps = steps as u32;
    params.y_batch_stride = (splits * n) as u32;
    for s0 in (0..splits).step_by(per_window) {
        let s1 = (s0 + per_window).min(splits);
        let (k0, k1) = (s0 * steps, (s1 * steps).min(k));
        let a_first = p.bases[0] + k0;
        let b_first = p.bases[1] + k0 * ldb;
        let (aw, a_origin) = ctx.window(&a.buf, a_first, (k1 - k0).max(1), 4);
        let (bw, b_origin) = ctx.window(&b.buf, b_first, (k1 - k0).max(1).saturating_sub(1) * ldb + n, 4);
        params.k = (k1 - k0) as u32;
        params.a_base = (a_first - a_origin) as u32;
        params.b_base = (b_first - b_origin) as u32;
        let groups = [n.div_ceil(64) as u32, (s1 - s0) as u32, 1];
        match &partials {
            Some(partials) => {
                params.y_base = (s0 * n) as u32;
                let bindings = [(1, aw), (2, bw), (3, cw), (4, Window::from(&**partials))];
                ctx.dispatch_windows(gemv_kernel, &params, &bindings, &[], groups)?;
            }
            None => {
                params.y_base = (p.bases[2] - y_origin) as u32;
                ctx.dispatch_windows(gemv_kernel, &params, &[(1, aw), (2, bw), (3, cw), (4, yw)], &[], groups)?;
                return Ok(());
            }
        }
    }
    let partials = partials.expect("more than one slice");
    params.y_base = 0;
    params.out_base = (p.bases[2] - y_origin) as u32;
    params.out_batch_stride = 0;
    let reduce = crate::pipeline::kernel("matmul", "splitk_reduce");
    let bindings = [(3, cw), (4, Window::from(&*partials)), (5, yw)];
    ctx.dispatch_windows(reduce, &params, &bindings, &[], [n.div_ceil(256) as u32, 1, 1])
}
