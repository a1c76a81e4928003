//! Reductions in partial results, for what one invocation per output cannot
//! do: an output whose inputs span more than one storage binding (an outer
//! axis of a tensor over 128 MiB on lavapipe), or more inputs than Mesa's CPU
//! drivers loop over in one invocation (65,535 iterations; see
//! [`iterations`]).
//!
//! The `count` inputs of an output, numbered `r = 0 .. count` over the
//! reduced dims (row-major, as `shaders/reduce.wgsl` walks them), are cut
//! into chunks of `chunk`; each chunk folds into a state of three words (the
//! running sum, extreme, product mantissa or scaled sum of squares; an
//! exponent; flags for NaN, sign, zeros and infinities), and states combine
//! in order into the result:
//!
//! ```text
//! sum/mean:  s = s_0 + s_1 + ...            (mean: s / count at the end)
//! max/min:   m = max(m_0, m_1, ...)          (NaN flags or-ed)
//! prod:      (m, e) = (m_0 m_1 ..., e_0 + e_1 + ...), m renormalised to [1, 2)
//! l2:        (q, k) = (sum_c q_c 2^(2 (k_c - k)), max_c k_c);  result sqrt(q) 2^k
//! ```
//!
//! Max, min and prod keep every bit the one-invocation kernel gives for the
//! same (exactly representable) values, apart from the product's rounding
//! order; sums and L2 add in blocks, whose error bound
//! `(chunk + chunks) eps sum |x|` is below the sequential `count eps sum |x|`.
//!
//! Two orders, chosen by which binds fewer windows:
//! - **items**: one invocation per (output, chunk), chunks fastest, writes a
//!   state; combine levels of up to [`FAN_IN`] states each follow until one
//!   is left per output. Suits few outputs with many inputs each.
//! - **passes**: one dispatch per chunk, in which each output folds that
//!   chunk into its running state. Suits many outputs (inner kept dims) whose
//!   reduced inputs lie far apart: each pass reads a contiguous slab.

use hcal_core::{Error, Result, contiguous_strides};

use crate::ctx::{Ctx, Operand};
use crate::params::ReduceParams;
use crate::pipeline::kernel;
use crate::record::Window;
use crate::split;

/// Words of one partial state.
const STATE_WORDS: usize = 3;
/// Inputs per chunk where no loop budget binds: enough that the states are
/// a small fraction of the input (12 bytes per 16 KiB read).
const MAX_CHUNK: usize = 4096;
/// States one combine invocation folds (each one loop iteration, well
/// within the CPU drivers' budget).
pub(crate) const FAN_IN: usize = 4096;

/// Loop iterations one invocation of the one-output kernel runs reducing
/// `count` inputs of a rank-`rank` tensor, as Mesa's CPU drivers count them:
/// per input one of the input loop and `rank + 1` of the inner loop over
/// the rank (its last, exiting test counts on llvmpipe: ReduceL2 chunks
/// sized for `rank` lost about half their squares there), ReduceL2 walking
/// its inputs twice.
pub(crate) fn iterations(rank: usize, count: usize, l2: bool) -> usize {
    count.saturating_mul(per_input(rank, l2)).saturating_add(rank + 1)
}

/// [`iterations`] per input.
fn per_input(rank: usize, l2: bool) -> usize {
    (rank + 2) * if l2 { 2 } else { 1 }
}

/// Where the inputs of each output lie: the input's dims reordered kept
/// dims first, then reduced dims, with the input's strides, so that input
/// `r` of output `o` is at flat index `o * count + r` of this view.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    shape: Vec<usize>,
    strides: Vec<usize>,
    /// The reduced dims' extents and strides, outermost first.
    reduced: Vec<(usize, usize)>,
    outputs: usize,
    count: usize,
    numel: usize,
}

impl Layout {
    /// The layout of reducing a contiguous tensor of `shape` over the `reduced` axes.
    pub(crate) fn new(shape: &[usize], reduced: &[usize]) -> Self {
        let strides = contiguous_strides(shape);
        let kept: Vec<usize> = (0..shape.len()).filter(|d| !reduced.contains(d)).collect();
        let mut dims = kept.clone();
        dims.extend(reduced.iter().copied());
        Layout {
            shape: dims.iter().map(|&d| shape[d]).collect(),
            strides: dims.iter().map(|&d| strides[d]).collect(),
            reduced: reduced.iter().map(|&d| (shape[d], strides[d])).collect(),
            outputs: kept.iter().map(|&d| shape[d]).product(),
            count: reduced.iter().map(|&d| shape[d]).product(),
            numel: shape.iter().product(),
        }
    }

    /// Lowest and highest input element read by inputs `r0 ..= r1` of
    /// outputs `o0` (from `r0`) to `o1` (up to `r1`), flat in between.
    fn span(&self, (o0, r0): (usize, usize), (o1, r1): (usize, usize)) -> (usize, usize) {
        split::span(&self.shape, &self.strides, o0 * self.count + r0, o1 * self.count + r1)
    }

    /// Elements from the first to the last input of any `len` consecutive
    /// inputs of one output, at most: each reduced dim's index advances at
    /// most once per block of the dims inside it.
    fn chunk_span(&self, len: usize) -> usize {
        let mut inner = 1;
        let mut span = 1;
        for &(extent, stride) in self.reduced.iter().rev() {
            span += (extent - 1).min((len - 1).div_ceil(inner)) * stride;
            inner *= extent;
        }
        span
    }
}

/// How the work is cut.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Order {
    /// Ranges of (output, chunk) items, chunks fastest, one dispatch each.
    Items(Vec<(usize, usize)>),
    /// One pass per chunk over ranges of outputs.
    Passes,
}

/// A partial reduction's cut: chunks of `chunk` inputs, `chunks` per output.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    pub(crate) chunk: usize,
    pub(crate) chunks: usize,
    pub(crate) order: Order,
}

/// Limits a plan must keep.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// `max_storage_buffer_binding_size`.
    pub(crate) max_binding: u64,
    /// Window offset alignment.
    pub(crate) align: u64,
    /// `max_buffer_size` (the states' buffer).
    pub(crate) max_buffer: u64,
    /// Loop iterations one invocation may run (Mesa's CPU drivers), if bounded.
    pub(crate) loop_budget: Option<usize>,
}

impl Limits {
    /// The limits of `gpu`.
    pub(crate) fn of(gpu: &crate::gpu::Gpu) -> Self {
        Limits {
            max_binding: gpu.limits.max_storage_buffer_binding_size,
            align: Window::align(gpu),
            max_buffer: gpu.limits.max_buffer_size,
            loop_budget: gpu.simd_cpu.then_some(crate::matmul::split::CPU_DRIVER_LOOP_LIMIT),
        }
    }

    /// Whether `count` elements of 4 bytes fit one window.
    fn window_fits(&self, count: usize) -> bool {
        Window::bytes_needed(count, 4, self.align) <= self.max_binding
    }

    /// The states one combine invocation folds: [`FAN_IN`], or fewer where
    /// that many would not fit one window.
    fn fan_in(&self) -> usize {
        let capacity = (self.max_binding.saturating_sub(self.align + 4) / 4) as usize;
        (capacity / STATE_WORDS).clamp(1, FAN_IN)
    }
}

/// The cut of a reduction with `layout`, ReduceL2 when `l2`: chunks as long
/// as the loop budget and one binding allow, in the order with fewer
/// dispatches. `None` when the states would not fit one buffer.
pub(crate) fn plan(layout: &Layout, l2: bool, limits: Limits) -> Option<Plan> {
    let rank = layout.shape.len();
    let x_whole = split::whole(layout.numel * 4, limits.max_binding);
    let budget_chunk = match limits.loop_budget {
        Some(budget) => (budget.saturating_sub(rank + 1) / per_input(rank, l2)).max(1),
        None => MAX_CHUNK,
    };
    let mut chunk = budget_chunk.min(layout.count).max(1);
    while chunk > 1 && !x_whole && !limits.window_fits(layout.chunk_span(chunk)) {
        chunk /= 2;
    }
    let chunks = layout.count.div_ceil(chunk);
    let fits_x = |(lo, hi): (usize, usize)| x_whole || limits.window_fits(hi - lo + 1);
    let states_fit = |states: usize| limits.window_fits(states * STATE_WORDS);
    let last = |c: usize| ((c + 1) * chunk).min(layout.count) - 1;

    // Passes: the first pass's pieces stand for every pass's.
    let pass_pieces = pass_ranges(layout, chunk, 0, limits).map(|p| p.len().saturating_mul(chunks));
    let items = layout.outputs * chunks;
    let item_pieces = (crate::memory::buffer_size(items * STATE_WORDS * 4) <= limits.max_buffer)
        .then(|| {
            split::pieces_at_most(items, 1, pass_pieces.unwrap_or(usize::MAX), |t0, t1| {
                let (first, end) = ((t0 / chunks, t0 % chunks), ((t1 - 1) / chunks, (t1 - 1) % chunks));
                states_fit(t1 - t0) && fits_x(layout.span((first.0, first.1 * chunk), (end.0, last(end.1))))
            })
        })
        .flatten();
    match (item_pieces, pass_pieces) {
        (Some(pieces), _) => Some(Plan { chunk, chunks, order: Order::Items(pieces) }),
        (None, Some(_)) => Some(Plan { chunk, chunks, order: Order::Passes }),
        (None, None) => None,
    }
}

/// Ranges of outputs whose chunk `c` (of `chunk` inputs) one dispatch folds.
fn pass_ranges(layout: &Layout, chunk: usize, c: usize, limits: Limits) -> Option<Vec<(usize, usize)>> {
    let x_whole = split::whole(layout.numel * 4, limits.max_binding);
    let (r0, r1) = (c * chunk, ((c + 1) * chunk).min(layout.count) - 1);
    split::pieces(layout.outputs, 1, |o0, o1| {
        // Offsets grow with the output and with the input index, so the
        // first input of the first output and the last of the last bound
        // the pass's reads.
        let lo = layout.span((o0, r0), (o0, r0)).0;
        let hi = layout.span((o1 - 1, r1), (o1 - 1, r1)).1;
        limits.window_fits((o1 - o0) * STATE_WORDS) && (x_whole || limits.window_fits(hi - lo + 1))
    })
}

/// Record the reduction of `x` into `y` in partial results by `plan`;
/// `p` carries the op, rank, count, shape, strides and reduced flags.
pub(crate) fn record(
    ctx: &mut Ctx<'_>,
    layout: &Layout,
    plan: &Plan,
    mut p: ReduceParams,
    x: &Operand,
    y: &Operand,
) -> Result<()> {
    let limits = Limits::of(ctx.gpu);
    let Plan { chunk, chunks, ref order } = *plan;
    let last = |c: usize| ((c + 1) * chunk).min(layout.count) - 1;
    p.chunk = chunk as u32;
    p.chunks = chunks as u32;
    let states_per_output = match order {
        Order::Items(_) => chunks,
        Order::Passes => 1,
    };
    let states = ctx.scratch(layout.outputs * states_per_output * STATE_WORDS * 4)?;
    match order {
        Order::Items(pieces) => {
            p.pass_chunk = u32::MAX;
            p.accumulate = 0;
            for &(t0, t1) in pieces {
                let (first, end) = ((t0 / chunks, t0 % chunks), ((t1 - 1) / chunks, (t1 - 1) % chunks));
                let (lo, hi) = layout.span((first.0, first.1 * chunk), (end.0, last(end.1)));
                let (xw, x_origin) = ctx.window(&x.buf, lo, hi - lo + 1, 4);
                let (sw, s_origin) = ctx.window(&states, t0 * STATE_WORDS, (t1 - t0) * STATE_WORDS, 4);
                p.outputs = (t1 - t0) as u32;
                p.first = t0 as u32;
                p.x_origin = x_origin as u32;
                p.y_base = (t0 * STATE_WORDS - s_origin) as u32;
                ctx.per_item_windows(kernel("reduce", "reduce_partial"), &p, &[(1, xw), (2, sw)], t1 - t0)?;
            }
        }
        Order::Passes => {
            for c in 0..chunks {
                let ranges = pass_ranges(layout, chunk, c, limits).ok_or_else(|| too_large(ctx, x))?;
                p.pass_chunk = c as u32;
                p.accumulate = u32::from(c > 0);
                for (o0, o1) in ranges {
                    let lo = layout.span((o0, c * chunk), (o0, c * chunk)).0;
                    let hi = layout.span((o1 - 1, last(c)), (o1 - 1, last(c))).1;
                    let (xw, x_origin) = ctx.window(&x.buf, lo, hi - lo + 1, 4);
                    let (sw, s_origin) = ctx.window(&states, o0 * STATE_WORDS, (o1 - o0) * STATE_WORDS, 4);
                    p.outputs = (o1 - o0) as u32;
                    p.first = o0 as u32;
                    p.x_origin = x_origin as u32;
                    p.y_base = (o0 * STATE_WORDS - s_origin) as u32;
                    ctx.per_item_windows(kernel("reduce", "reduce_partial"), &p, &[(1, xw), (2, sw)], o1 - o0)?;
                }
            }
        }
    }
    combine(ctx, layout.outputs, states, states_per_output, p, y)
}

/// Fold each output's `per_output` states (in `states`) into its result in
/// `y`, through levels of at most [`FAN_IN`] states per invocation (fewer
/// where a binding holds fewer).
fn combine(
    ctx: &mut Ctx<'_>,
    outputs: usize,
    mut states: std::sync::Arc<wgpu::Buffer>,
    mut per_output: usize,
    mut p: ReduceParams,
    y: &Operand,
) -> Result<()> {
    let limits = Limits::of(ctx.gpu);
    loop {
        let fan_in = per_output.min(limits.fan_in());
        let groups = per_output.div_ceil(fan_in);
        let finish = groups == 1;
        let out_words = if finish { 1 } else { STATE_WORDS };
        // Input states of output states [j0, j1): contiguous, chunks fastest.
        let reads = |j0: usize, j1: usize| {
            let first = (j0 / groups) * per_output + (j0 % groups) * fan_in;
            let (o, g) = ((j1 - 1) / groups, (j1 - 1) % groups);
            let end = o * per_output + ((g + 1) * fan_in).min(per_output);
            (first * STATE_WORDS, (end - first) * STATE_WORDS)
        };
        let pieces = split::pieces(outputs * groups, 1, |j0, j1| {
            limits.window_fits(reads(j0, j1).1) && limits.window_fits((j1 - j0) * out_words)
        })
        .ok_or_else(|| too_large(ctx, y))?;
        let next = if finish { None } else { Some(ctx.scratch(outputs * groups * STATE_WORDS * 4)?) };
        p.chunks = per_output as u32;
        p.fan_in = fan_in as u32;
        p.groups = groups as u32;
        p.finish = u32::from(finish);
        for (j0, j1) in pieces {
            let (first, words) = reads(j0, j1);
            let (sw, s_origin) = ctx.window(&states, first, words, 4);
            let out = next.as_deref().unwrap_or(&y.buf);
            let (yw, y_origin) = ctx.window(out, j0 * out_words, (j1 - j0) * out_words, 4);
            p.outputs = (j1 - j0) as u32;
            p.first = j0 as u32;
            p.x_origin = s_origin as u32;
            p.y_base = (j0 * out_words - y_origin) as u32;
            ctx.per_item_windows(kernel("reduce", "reduce_combine"), &p, &[(1, sw), (2, yw)], j1 - j0)?;
        }
        match next {
            None => return Ok(()),
            Some(next) => {
                states = next;
                per_output = groups;
            }
        }
    }
}

fn too_large(ctx: &Ctx<'_>, t: &Operand) -> Error {
    Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: t.buf.size(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAVAPIPE: Limits =
        Limits { max_binding: 128 << 20, align: 256, max_buffer: 1 << 32, loop_budget: Some(65_535) };

    /// The brute-force lowest and highest offset of inputs `r0 .. r1` of output `o`.
    fn brute(shape: &[usize], reduced: &[usize], o: usize, r0: usize, r1: usize) -> (usize, usize) {
        let strides = contiguous_strides(shape);
        let offset = |o: usize, r: usize| {
            let (mut o, mut r, mut off) = (o, r, 0);
            for d in (0..shape.len()).rev() {
                let i = if reduced.contains(&d) { &mut r } else { &mut o };
                off += (*i % shape[d]) * strides[d];
                *i /= shape[d];
            }
            off
        };
        let offs: Vec<usize> = (r0..r1).map(|r| offset(o, r)).collect();
        (*offs.iter().min().unwrap(), *offs.iter().max().unwrap())
    }

    #[test]
    fn chunk_spans_bound_every_run_of_inputs() {
        for (shape, reduced) in [
            (vec![4, 5, 6], vec![0, 2]),
            (vec![7, 3, 2, 5], vec![1, 3]),
            (vec![9, 8], vec![0]),
            (vec![3, 4, 5], vec![0, 1, 2]),
        ] {
            let layout = Layout::new(&shape, &reduced);
            for len in 1..=layout.count {
                for o in 0..layout.outputs {
                    for r0 in 0..=layout.count - len {
                        let (lo, hi) = brute(&shape, &reduced, o, r0, r0 + len);
                        assert!(hi - lo < layout.chunk_span(len), "{shape:?} {reduced:?} len {len} from {r0}");
                        assert_eq!(layout.span((o, r0), (o, r0 + len - 1)), (lo, hi));
                    }
                }
            }
        }
    }

    #[test]
    fn long_rows_cut_into_items_within_the_loop_budget() {
        // One output of 2^26 inputs (256 MiB): items of 21,844 inputs.
        let layout = Layout::new(&[1 << 26], &[0]);
        let plan = plan(&layout, false, LAVAPIPE).unwrap();
        assert_eq!((plan.chunk, plan.chunks), (21_844, (1usize << 26).div_ceil(21_844)));
        let Order::Items(pieces) = &plan.order else { panic!("{plan:?}") };
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        assert!(iterations(1, plan.chunk, false) <= 65_535);
        // L2 walks twice: half the chunk.
        assert_eq!(super::plan(&layout, true, LAVAPIPE).unwrap().chunk, 10_922);
    }

    #[test]
    fn an_outer_axis_over_wide_rows_runs_in_passes() {
        // 16 rows of 10 M: each output's inputs lie 40 MB apart.
        let layout = Layout::new(&[16, 10_000_000], &[0]);
        let plan = plan(&layout, false, LAVAPIPE).unwrap();
        assert_eq!(plan.order, Order::Passes, "{plan:?}");
        assert!(layout.chunk_span(plan.chunk) * 4 <= 128 << 20);
        // On a GPU without a loop budget the same holds.
        let gpu = Limits { loop_budget: None, ..LAVAPIPE };
        assert_eq!(super::plan(&layout, false, gpu).unwrap().order, Order::Passes);
    }

    #[test]
    fn an_outer_axis_of_narrow_rows_takes_one_slab_of_chunks_per_dispatch() {
        // [65536, 4096] over axis 0 (1 GiB): chunks of 4,096 rows (64 MiB) fit.
        let layout = Layout::new(&[65_536, 4096], &[0]);
        let gpu = Limits { loop_budget: None, ..LAVAPIPE };
        let plan = plan(&layout, false, gpu).unwrap();
        assert_eq!(plan.chunk, 4096);
        let dispatches = match &plan.order {
            Order::Items(p) => p.len(),
            Order::Passes => plan.chunks * pass_ranges(&layout, plan.chunk, 0, gpu).unwrap().len(),
        };
        assert!(dispatches <= 32, "{plan:?}: {dispatches} dispatches");
    }
}
