//! The device peak that "% of peak" divides by, measured with
//! microbenchmarks on the device itself (FlagPerf's approach): an FMA
//! throughput kernel and a copy kernel through [`hcal::Instruments::run_probe`]
//! where the backend has them, host loops otherwise (the `cpu` backend and
//! plugins without probes; see [`crate::host`]). Beside the peaks, the
//! launch cost of an op ([`launch_us`]): what each op of a chain of small
//! ones pays whatever its work, the bound on a decode step made of hundreds.

use std::time::Instant;

use hcal::{BinaryOp, DType, Device, Error, Op, Probe, Result, TensorDesc};
use serde::{Deserialize, Serialize};

use crate::host::{host_copy_gbps, host_fma_gflops};
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
    /// Timed FMA probe runs the best was taken from (before the rows and
    /// between them, see [`reprobe`]); 0 in runs written before this field.
    #[serde(default)]
    pub fma_probes: u32,
    /// FLOPs of one FMA probe run (the size [`reprobe`] repeats; 0 with host loops).
    #[serde(default)]
    pub fma_probe_flops: u64,
    /// Host wall time per op of a chain of small dependent ops, in
    /// microseconds ([`launch_us`]); `None` in runs written before this field.
    #[serde(default)]
    pub launch_us: Option<f64>,
}

/// Repetitions of each probe; the peak is the best one.
const PROBE_REPS: usize = 7;
/// A probe grows until one run lasts at least this long.
const MIN_PROBE_S: f64 = 0.02;
/// Bytes per direction of the copy probe (reduced to the device's binding limit).
const COPY_BYTES: u64 = 64 << 20;

/// Measure the compute and bandwidth peaks of `device`, and its launch cost
/// ([`launch_us`]; `None` where the backend does not run f32 `Add`).
///
/// With probes (`run_probe` returns work), each is run once untimed (drivers
/// that compile at first dispatch), then timed like a benchmark row (device
/// timestamps where the backend has them); the FMA probe grows until the
/// faster of two runs lasts 20 ms, then the best of 7 runs is kept. Without probes (the
/// `cpu` backend) the host is measured instead, and the method says so:
/// [`host_fma_gflops`] and [`host_copy_gbps`] on every core.
///
/// # Errors
/// Device errors of the probes and of the launch chain.
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
                break Some((best, work.method, timing, flops));
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
    let (compute_gflops, compute_method, compute_timing, fma_probe_flops) = match fma {
        Some((rate, method, timing, flops)) => (rate / 1e9, method, timing, flops),
        None => {
            let rate = (0..PROBE_REPS).map(|_| host_fma_gflops(threads)).fold(0.0, f64::max);
            (rate, crate::host::host_fma_method(threads), TimingMode::Wall, 0)
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
    let fma_probes = if fma_probe_flops > 0 { PROBE_REPS as u32 } else { 0 };
    let launch_us = launch_us(device)?;
    Ok(Peak {
        compute_gflops,
        compute_method,
        bandwidth_gbps,
        bandwidth_method,
        timing: compute_timing,
        fma_probes,
        fma_probe_flops,
        launch_us,
    })
}

/// Ops in the chain [`launch_us`] times.
pub const LAUNCH_OPS: usize = 256;

/// Chains [`launch_us`] times after its untimed one; it keeps the best.
pub const LAUNCH_REPS: usize = 7;

/// Elements of each op of that chain.
pub const LAUNCH_ELEMENTS: usize = 64;

/// The launch cost of an op on `device`, in microseconds: the host wall time
/// of [`LAUNCH_OPS`] dependent `Add`s of [`LAUNCH_ELEMENTS`] f32 values
/// (`y = x + 1`, `x = y + 1`, ...), issued back to back and ended by one
/// `sync`, divided by their number; the best of [`LAUNCH_REPS`] chains after
/// one untimed. `None` where the backend declines f32 `Add` (a plugin need
/// not run every op).
///
/// The work is next to nothing, so this is about what an op costs whatever
/// it computes: the host's recording, the driver's submission and, on CPU
/// drivers, the hand-off to their worker threads, with the one sync spread
/// over the chain. Other ops cost somewhat more or less per dispatch; a model
/// step of `n` small ops takes about `n * launch_us`, and decode steps are
/// hundreds of small ops.
///
/// ```no_run
/// let device = hcal::Device::open("cpu")?;
/// if let Some(us) = hcal_bench::peak::launch_us(&device)? {
///     println!("{us:.1} us per op");
/// }
/// # Ok::<(), hcal::Error>(())
/// ```
///
/// # Errors
/// Device errors of the chain.
pub fn launch_us(device: &Device) -> Result<Option<f64>> {
    let desc = TensorDesc::new([LAUNCH_ELEMENTS], DType::F32);
    let (x, y) = (device.zeros(&desc)?, device.zeros(&desc)?);
    let one = device.tensor_f32(&[LAUNCH_ELEMENTS], &[1.0; LAUNCH_ELEMENTS])?;
    let add = Op::Binary(BinaryOp::Add);
    let chain = || -> Result<f64> {
        device.sync()?;
        let start = Instant::now();
        let (mut from, mut to) = (&x, &y);
        for _ in 0..LAUNCH_OPS {
            device.run(&add, &[Some(from), Some(&one)], &[Some(to)])?;
            std::mem::swap(&mut from, &mut to);
        }
        device.sync()?;
        Ok(start.elapsed().as_secs_f64() * 1e6 / LAUNCH_OPS as f64)
    };
    match chain() {
        Err(Error::Unsupported { .. }) => return Ok(None),
        other => other?,
    };
    (0..LAUNCH_REPS).try_fold(f64::INFINITY, |best, _| Ok(best.min(chain()?))).map(Some)
}

/// FMA probe runs per [`reprobe`].
const REPROBE_REPS: usize = 2;

/// Probe `device` again between benchmark rows and keep the better peaks:
/// the host under a software driver drifts up to 2x within minutes, so a
/// peak probed once before the rows is no ceiling for rows measured in a
/// faster minute. Runs the FMA probe twice (`REPROBE_REPS`) at the size
/// [`measure`] grew it to, and the copy probe once, timed by the wall clock
/// (see the body); a no-op for host-loop peaks (no device probe).
///
/// # Errors
/// Device errors of the probes.
pub fn reprobe(device: &Device, peak: &mut Peak) -> Result<()> {
    let Some(instruments) = device.backend().instruments() else { return Ok(()) };
    if peak.fma_probe_flops == 0 {
        return Ok(());
    }
    // Settle what the rows left in flight, and run the probe once untimed.
    instruments.run_probe(&Probe::Fma { flops: peak.fma_probe_flops })?;
    device.sync()?;
    // Wall clock with the sync inside: after benchmark rows the device
    // timer read 14-18 us for a probe whose wall time was 8 ms (lavapipe),
    // and a wall time can only under-read the rate, never inflate a peak.
    let wall = |probe: Probe| -> Result<Option<(f64, hcal::ProbeWork)>> {
        let start = std::time::Instant::now();
        let work = instruments.run_probe(&probe)?;
        device.sync()?;
        Ok(work.map(|w| (start.elapsed().as_secs_f64(), w)))
    };
    for _ in 0..REPROBE_REPS {
        if let Some((seconds, work)) = wall(Probe::Fma { flops: peak.fma_probe_flops })? {
            peak.compute_gflops = peak.compute_gflops.max(work.flops as f64 / seconds / 1e9);
            peak.fma_probes += 1;
        }
    }
    if let Some((seconds, work)) = wall(Probe::Copy { bytes: COPY_BYTES })? {
        peak.bandwidth_gbps = peak.bandwidth_gbps.max(work.bytes as f64 / seconds / 1e9);
    }
    Ok(())
}

/// How the FMA peak was taken, for tables: `best of N probes, before and between the rows`.
pub fn how_taken(peak: &Peak) -> String {
    match peak.fma_probes {
        0 => "host loops, best of 7 before the rows".to_string(),
        n if n as usize <= PROBE_REPS => format!("best of {n} probe runs, all before the rows"),
        n => format!(
            "best of {n} probe runs: {PROBE_REPS} before the rows, {REPROBE_REPS} after each row (those by the wall clock)"
        ),
    }
}
