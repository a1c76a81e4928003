//! ArgMax/ArgMin and CumSum along lanes the one-pass kernels cannot take:
//! a lane longer than Mesa's CPU drivers loop over in one invocation
//! (65,535 iterations), or an outer slice (`len * inner` elements) larger
//! than one storage binding.
//!
//! The lane's steps are cut into segments; one dispatch per segment (in
//! pieces of outer slices whose windows fit) continues each lane from the
//! state the previous segment left: the best value and its index, or the
//! running sum. Every lane takes the same steps in the same order as the
//! one-pass kernel, so the results are the same bits.

use hcal_core::{AxisSplit, Error, Result};

use crate::ctx::{Ctx, Operand};
use crate::gpu::Gpu;
use crate::params::AlongAxisParams;
use crate::pipeline::kernel;
use crate::record::Window;
use crate::split;

/// What runs along the lanes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scan {
    /// ArgMax (`largest`) or ArgMin, ties and NaN to the last index when `last`.
    Arg { largest: bool, last: bool },
    /// CumSum.
    CumSum { exclusive: bool, reverse: bool },
}

impl Scan {
    /// State words per lane.
    fn words(self) -> usize {
        match self {
            Scan::Arg { .. } => 2,
            Scan::CumSum { .. } => 1,
        }
    }

    fn flags(self) -> u32 {
        match self {
            Scan::Arg { largest, last } => u32::from(largest) | u32::from(last) << 1,
            Scan::CumSum { exclusive, reverse } => u32::from(exclusive) | u32::from(reverse) << 1,
        }
    }
}

/// Whether lanes of `s` run in segments on `gpu` (ArgMax/ArgMin when `arg`,
/// else CumSum): longer than the loop budget, or an outer slice beyond one
/// binding (the one-pass launchers' blocks are whole outer slices).
pub(crate) fn segmented(gpu: &Gpu, s: &AxisSplit, arg: bool) -> bool {
    let (max, align) = (gpu.limits.max_storage_buffer_binding_size, Window::align(gpu));
    let slice = if arg { s.len.max(2) } else { s.len } * s.inner;
    let too_long = gpu.simd_cpu && s.len > crate::matmul::split::CPU_DRIVER_LOOP_LIMIT;
    too_long || split::row_blocks(s.outer, slice, max, align).is_none()
}

/// Steps per segment: within the loop budget, and a segment of one outer
/// slice (`steps * inner` elements) within one window. `None` when a single
/// step of a slice (`inner` elements) does not fit.
pub(crate) fn segment_len(gpu: &Gpu, s: &AxisSplit) -> Option<usize> {
    let (max, align) = (gpu.limits.max_storage_buffer_binding_size, Window::align(gpu));
    // A few iterations to spare for the loops around the step loop.
    let budget = if gpu.simd_cpu { crate::matmul::split::CPU_DRIVER_LOOP_LIMIT - 8 } else { usize::MAX };
    let fits = |steps: usize| Window::bytes_needed(steps * s.inner, 4, align) <= max;
    let mut steps = s.len.min(budget).max(1);
    while steps > 1 && !fits(steps) {
        steps /= 2;
    }
    fits(steps).then_some(steps)
}

/// Run `scan` along the lanes of `x` (f32, viewed as `[outer, len, inner]`)
/// into `y` (raw i64 indices `[outer, inner]` for ArgMax/ArgMin, f32 like X
/// for CumSum), in segments.
pub(crate) fn record(ctx: &mut Ctx<'_>, s: &AxisSplit, scan: Scan, x: &Operand, y: &Operand) -> Result<()> {
    if s.len == 0 || s.outer * s.inner == 0 {
        return Ok(());
    }
    let too_large = |ctx: &Ctx<'_>| Error::DeviceLimit {
        backend: ctx.gpu.backend.clone(),
        limit: "max_storage_buffer_binding_size",
        max: ctx.max_binding(),
        requested: (s.inner * 4) as u64,
    };
    let steps = segment_len(ctx.gpu, s).ok_or_else(|| too_large(ctx))?;
    let (max, align) = (ctx.max_binding(), ctx.align());
    let fits = |count: usize, elem: usize| Window::bytes_needed(count, elem, align) <= max;
    let words = scan.words();
    let states = ctx.scratch(s.outer * s.inner * words * 4)?;
    let slice = s.len * s.inner;
    let segments: Vec<(usize, usize)> = (0..s.len).step_by(steps).map(|s0| (s0, (s0 + steps).min(s.len))).collect();
    for (k, &(s0, s1)) in segments.iter().enumerate() {
        // Steps run backwards through a reversed CumSum's lane.
        let (j0, j1) = match scan {
            Scan::CumSum { reverse: true, .. } => (s.len - s1, s.len - s0),
            _ => (s0, s1),
        };
        let span = |o0: usize, o1: usize| (o1 - o0 - 1) * slice + (j1 - j0) * s.inner;
        let pieces = split::pieces(s.outer, 1, |o0, o1| {
            let lanes = (o1 - o0) * s.inner;
            let out_fits = match scan {
                Scan::Arg { .. } => fits(lanes, 8),
                Scan::CumSum { .. } => true,
            };
            fits(span(o0, o1), 4) && fits(lanes * words, 4) && out_fits
        })
        .ok_or_else(|| too_large(ctx))?;
        for (o0, o1) in pieces {
            let lanes = (o1 - o0) * s.inner;
            let first = o0 * slice + j0 * s.inner;
            let (xw, x_origin) = ctx.window(&x.buf, first, span(o0, o1), 4);
            let (yw, y_base) = match scan {
                Scan::Arg { .. } => {
                    let (w, origin) = ctx.window(&y.buf, o0 * s.inner, lanes, 8);
                    (w, o0 * s.inner - origin)
                }
                // The lane bases before the window's start wrap in u32.
                Scan::CumSum { .. } => {
                    let (w, origin) = ctx.window(&y.buf, first, span(o0, o1), 4);
                    (w, (o0 * slice).wrapping_sub(origin))
                }
            };
            let (sw, s_origin) = ctx.window(&states, o0 * s.inner * words, lanes * words, 4);
            let params = AlongAxisParams {
                lanes: lanes as u32,
                len: s.len as u32,
                inner: s.inner as u32,
                flags: scan.flags(),
                x_base: (o0 * slice).wrapping_sub(x_origin) as u32,
                y_base: y_base as u32,
                seg_first: s0 as u32,
                seg_end: s1 as u32,
                carry: u32::from(k > 0),
                finish: u32::from(k + 1 == segments.len()),
                s_base: (o0 * s.inner * words - s_origin) as u32,
            };
            let entry = match scan {
                Scan::Arg { .. } => "arg_extreme_segment",
                Scan::CumSum { .. } => "cumsum_segment",
            };
            ctx.per_item_windows(kernel("along_axis", entry), &params, &[(1, xw), (2, yw), (3, sw)], lanes)?;
        }
    }
    Ok(())
}
