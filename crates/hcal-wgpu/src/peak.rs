//! Launcher for `shaders/peak.wgsl`: the microbenchmarks behind
//! `Instruments::run_probe` (FMA throughput and copy bandwidth).

use hcal_core::{Probe, ProbeWork, Result};

use crate::ctx::Ctx;
use crate::params::PeakParams;
use crate::pipeline::kernel;

/// FLOPs of one loop iteration of one `fma_peak` invocation: 8 vec4 chains,
/// 2 FLOPs per lane.
const FLOPS_PER_ITERATION: u64 = 8 * 4 * 2;

/// Invocations of an FMA probe at most: enough to fill a large GPU
/// (about 2048 resident invocations on each of ~130 multiprocessors).
const MAX_FMA_INVOCATIONS: u64 = 1 << 19;

/// Loop iterations per invocation at least, so per-invocation costs (launch,
/// the final store) are noise next to the loop.
const MIN_ITERATIONS: u64 = 1024;

/// Record `probe` and return the work it does.
pub(crate) fn record(ctx: &mut Ctx<'_>, probe: &Probe) -> Result<ProbeWork> {
    match *probe {
        Probe::Fma { flops } => {
            let per_invocation_min = FLOPS_PER_ITERATION * MIN_ITERATIONS;
            let invocations = (flops / per_invocation_min).clamp(256, MAX_FMA_INVOCATIONS).div_ceil(256) * 256;
            let iterations = (flops / (invocations * FLOPS_PER_ITERATION)).clamp(1, u64::from(u32::MAX));
            let out = ctx.scratch(invocations as usize * 16)?;
            // x <- 0.999 x + 0.001 converges to 1: no overflow, no denormals.
            let params = PeakParams {
                iterations: iterations as u32,
                m: 0.999,
                c: 0.001,
                invocations: invocations as u32,
                ..PeakParams::default()
            };
            ctx.per_item(kernel("peak", "fma_peak"), &params, &[(2, &out)], invocations as usize)?;
            Ok(ProbeWork {
                flops: invocations * iterations * FLOPS_PER_ITERATION,
                bytes: invocations * 16,
                method: format!(
                    "WGSL fma_peak: {invocations} invocations x {iterations} iterations of 8 vec4<f32> fma chains"
                ),
            })
        }
        Probe::Copy { bytes } => {
            let max = ctx.gpu.limits.max_storage_buffer_binding_size;
            let vec4s = (bytes.min(max) / 16).max(1);
            let src = ctx.scratch(vec4s as usize * 16)?;
            let dst = ctx.scratch(vec4s as usize * 16)?;
            ctx.per_item(
                kernel("peak", "copy_peak"),
                &PeakParams { copy_vec4s: vec4s as u32, ..PeakParams::default() },
                &[(1, &src), (2, &dst)],
                vec4s as usize,
            )?;
            Ok(ProbeWork {
                flops: 0,
                bytes: 2 * vec4s * 16,
                method: format!("WGSL copy_peak: vec4<f32> copy of {} bytes (read + write counted)", vec4s * 16),
            })
        }
    }
}
