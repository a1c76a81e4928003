//! The device peak that "% of peak" divides by, measured with
//! microbenchmarks on the device itself (FlagPerf's approach): an FMA
//! throughput kernel and a copy kernel through [`hcal::Instruments::run_probe`]
//! where the backend has them, host loops otherwise (the `cpu` backend).

use std::hint::black_box;
use std::time::Instant;

use hcal::{Device, Probe, Result};
use serde::{Deserialize, Serialize};

use crate::runner::{TimingMode, time_region};

/// Measured peaks of one device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// Best FMA throughput seen, GFLOP/s (`1e9` FLOP/s).
    pub compute_gflops: f64,
    /// How it was measured, in words.
    pub compute_method: String,
    /// Best copy bandwidth seen, GB/s (`1e9` bytes/s, reads plus writes).
    pub bandwidth_gbps: f64,
    /// How it was measured, in words.
    pub bandwidth_method: String,
    /// Whether the device probes were timed with device timestamps or the
    /// wall clock (host loops are always wall clock).
    pub timing: TimingMode,
}

/// Repetitions of each probe; the peak is the best one.
const PROBE_REPS: usize = 7;
/// A probe grows until one run lasts at least this long.
const MIN_PROBE_S: f64 = 0.02;
/// Bytes per direction of the copy probe (reduced to the device's binding limit).
const COPY_BYTES: u64 = 64 << 20;

/// Measure the compute and bandwidth peaks of `device`.
///
/// With probes (`run_probe` returns work), each is run once untimed (drivers
/// that compile at first dispatch), then timed like a benchmark row (device
/// timestamps where the backend has them); the FMA probe grows until the
/// faster of two runs lasts 20 ms, then the best of 7 runs is kept. Without probes (the
/// `cpu` backend) the host is measured instead, and the method says so:
/// [`host_fma_gflops`] and [`host_copy_gbps`] on every core.
///
/// # Errors
/// Device errors of the probes.
pub fn measure(device: &Device) -> Result<Peak> {
    let instruments = device.backend().instruments();
    let run_probe = |probe: Probe| match instruments {
        Some(i) => i.run_probe(&probe),
        None => Ok(None),
    };
    let mut flops = 1u64 << 26;
    // One untimed run of each probe first: some drivers (GL) compile a
    // pipeline at its first dispatch, which must not count as work.
    let has_fma = run_probe(Probe::Fma { flops })?.is_some();
    let has_copy = run_probe(Probe::Copy { bytes: COPY_BYTES })?.is_some();
    device.sync()?;
    // Grow the FMA probe until even the faster of two runs lasts 20 ms (a
    // short run over-reads a coarse or lagging timer), then keep the best of
    // PROBE_REPS runs at that size.
    let fma = if has_fma {
        let timed = |flops: u64| -> Result<(f64, TimingMode, Option<hcal::ProbeWork>)> {
            let mut work = None;
            let (seconds, timing) = time_region(device, || {
                work = run_probe(Probe::Fma { flops })?;
                Ok(())
            })?;
            Ok((seconds, timing, work))
        };
        loop {
            let (a, timing, work) = timed(flops)?;
            let (b, _, _) = timed(flops)?;
            let Some(work) = work else { break None };
            if a.min(b) >= MIN_PROBE_S || flops >= 1 << 42 {
                let mut best = work.flops as f64 / a.min(b);
                for _ in 2..PROBE_REPS {
                    best = best.max(work.flops as f64 / timed(flops)?.0);
                }
                break Some((best, work.method, timing));
            }
            let grow = (MIN_PROBE_S / a.min(b).max(1e-9)).clamp(2.0, 64.0);
            flops = (flops as f64 * grow) as u64;
        }
    } else {
        None
    };
    let mut copy = None;
    for _ in 0..if has_copy { PROBE_REPS } else { 0 } {
        let mut work = None;
        let (s, timing) = time_region(device, || {
            work = run_probe(Probe::Copy { bytes: COPY_BYTES })?;
            Ok(())
        })?;
        let Some(work) = work else { break };
        let rate = work.bytes as f64 / s;
        copy = match copy {
            Some((best, m, t)) if best >= rate => Some((best, m, t)),
            _ => Some((rate, work.method, timing)),
        };
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (compute_gflops, compute_method, compute_timing) = match fma {
        Some((rate, method, timing)) => (rate / 1e9, method, timing),
        None => {
            let rate = (0..PROBE_REPS).map(|_| host_fma_gflops(threads)).fold(0.0, f64::max);
            (rate, host_fma_method(threads), TimingMode::Wall)
        }
    };
    let (bandwidth_gbps, bandwidth_method) = match copy {
        Some((rate, method, _)) => (rate / 1e9, method),
        None => {
            let rate = (0..PROBE_REPS).map(|_| host_copy_gbps(threads, COPY_BYTES as usize)).fold(0.0, f64::max);
            (
                rate,
                format!(
                    "host memcpy of {} MiB split over {threads} threads (read + write counted; the backend has no copy probe)",
                    COPY_BYTES >> 20
                ),
            )
        }
    };
    Ok(Peak { compute_gflops, compute_method, bandwidth_gbps, bandwidth_method, timing: compute_timing })
}

/// Independent accumulators per host thread (enough to hide the latency of
/// the multiply and the add on the SIMD units this build targets).
const HOST_LANES: usize = 48;

/// Iterations of the host loop per thread and run (about `2e8 * threads`
/// FLOPs; 30-100 ms at this machine's speed).
const HOST_ITERATIONS: u64 = 2_000_000;

/// What the host FMA loop is, for reports.
fn host_fma_method(threads: usize) -> String {
    let simd = if cfg!(target_feature = "avx512f") {
        "AVX-512"
    } else if cfg!(target_feature = "avx2") {
        "AVX2"
    } else if cfg!(target_arch = "x86_64") {
        "SSE2 (no FMA in this build's target features)"
    } else {
        "the target's baseline SIMD"
    };
    format!(
        "host f32 multiply-add loop, {HOST_LANES} independent lanes x {threads} threads, compiled for {simd}: \
         the peak this build of the cpu backend could reach, not the chip's FMA peak (the backend has no probe kernel)"
    )
}

/// GFLOP/s of a host loop `x <- x * m + c` over 48 independent
/// f32 lanes on each of `threads` threads (2 FLOPs per lane and iteration),
/// wall clock. Written as a separate multiply and add, so it compiles to SIMD
/// code for the build's target features without needing FMA instructions.
///
/// ```
/// assert!(hcal_bench::host_fma_gflops(1) > 0.0);
/// ```
pub fn host_fma_gflops(threads: usize) -> f64 {
    let threads = threads.max(1);
    let start = Instant::now();
    let sums: Vec<f32> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..threads).map(|t| scope.spawn(move || host_fma_loop(HOST_ITERATIONS, t as f32))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0.0)).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    black_box(sums);
    (threads as u64 * HOST_ITERATIONS * HOST_LANES as u64 * 2) as f64 / seconds / 1e9
}

/// The loop of [`host_fma_gflops`] on one thread; returns the lanes' sum so
/// the work is observable.
fn host_fma_loop(iterations: u64, seed: f32) -> f32 {
    let mut acc = [0f32; HOST_LANES];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = seed + i as f32 * 1e-3;
    }
    let m = black_box(0.999f32);
    let c = black_box(0.001f32);
    for _ in 0..iterations {
        for a in acc.iter_mut() {
            *a = *a * m + c;
        }
    }
    acc.iter().sum()
}

/// GB/s of copying `bytes` between two host buffers, split over `threads`
/// threads, counting reads plus writes (`2 * bytes`), wall clock (best of
/// two passes, the first warming the pages).
///
/// ```
/// assert!(hcal_bench::host_copy_gbps(1, 1 << 20) > 0.0);
/// ```
pub fn host_copy_gbps(threads: usize, bytes: usize) -> f64 {
    let threads = threads.max(1);
    let src = vec![1u8; bytes];
    let mut dst = vec![0u8; bytes];
    let chunk = bytes.div_ceil(threads).max(1);
    let mut best = f64::INFINITY;
    for _ in 0..2 {
        let start = Instant::now();
        std::thread::scope(|scope| {
            for (d, s) in dst.chunks_mut(chunk).zip(src.chunks(chunk)) {
                scope.spawn(move || d.copy_from_slice(s));
            }
        });
        best = best.min(start.elapsed().as_secs_f64());
        black_box(&dst);
    }
    2.0 * bytes as f64 / best / 1e9
}
