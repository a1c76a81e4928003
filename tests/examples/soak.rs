//! Soak test: mixed ops on random shapes, on every backend at once (cpu and
//! each wgpu adapter), from several threads, for minutes; host RSS and the
//! device bytes each wgpu backend holds are sampled as it goes. It passes
//! when no call errs, every result is finite, and memory stays flat after
//! warm-up: the second half of the samples stays within a tolerance of the
//! high-water mark of the first half (caches and allocator arenas rise in
//! steps to a mark and stay there; a leak of one buffer or one host vector
//! per call keeps growing and passes it).
//!
//! Not part of the test suite (it runs for minutes); run it by hand:
//!
//! ```text
//! HCAL_CACHE_DIR=$(mktemp -d) cargo run --release -p hcal-tests --example soak -- --minutes 20
//! ```
//!
//! `--minutes M` (default 20), `--threads N` (4), `--interval S` seconds
//! between samples (10), `--backend NAME` (repeatable; default every
//! available backend). Exit 0 when it passes, 1 when it does not.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hcal::{
    Attention, Backend, BackendWrapper, BinaryOp, DType, Device, DeviceTensor, GeluApproximation, Instruments,
    ReduceOp, UnaryOp, ops,
};

/// A wgpu backend shared between the soak's [`Device`] and the sampler,
/// which reads its [`hcal_wgpu::WgpuBackend::memory_report`].
struct Shared(Arc<hcal_wgpu::WgpuBackend>);

impl BackendWrapper for Shared {
    fn inner(&self) -> &dyn Backend {
        &*self.0
    }
}

/// One backend under soak.
struct Target {
    device: Device,
    /// The wgpu backend behind `device`, for its device-bytes figure.
    wgpu: Option<Arc<hcal_wgpu::WgpuBackend>>,
    calls: AtomicU64,
    unsupported: AtomicU64,
}

/// A small xorshift generator: the shapes and values of one thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn values(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0).collect()
    }
}

struct Options {
    minutes: f64,
    threads: usize,
    interval_s: f64,
    backends: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options { minutes: 20.0, threads: 4, interval_s: 10.0, backends: Vec::new() };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--minutes" => o.minutes = value()?.parse().map_err(|e| format!("--minutes: {e}"))?,
            "--threads" => o.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--interval" => o.interval_s = value()?.parse().map_err(|e| format!("--interval: {e}"))?,
            "--backend" => o.backends.push(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.backends.is_empty() {
        o.backends = hcal::available_backends();
    }
    Ok(o)
}

fn open(name: &str) -> hcal::Result<Target> {
    let (device, wgpu) = if name.starts_with("wgpu") {
        let backend = Arc::new(hcal_wgpu::WgpuBackend::open(name)?);
        (Device::new(Box::new(Shared(Arc::clone(&backend)))), Some(backend))
    } else {
        (Device::open(name)?, None)
    };
    Ok(Target { device, wgpu, calls: AtomicU64::new(0), unsupported: AtomicU64::new(0) })
}

/// One random op on `device`, its result read back and checked finite.
/// `Ok(false)`: the backend declined the signature (not an error).
fn one_call(device: &Device, rng: &mut Rng) -> hcal::Result<bool> {
    let dtype = if rng.range(0, 3) == 0 { DType::F16 } else { DType::F32 };
    let tensor = |rng: &mut Rng, shape: &[usize]| {
        let n = shape.iter().product();
        device.tensor_from_f32(hcal::TensorDesc::new(shape, dtype), &rng.values(n))
    };
    let kind = rng.range(0, 9);
    let result: hcal::Result<DeviceTensor> = (|rng: &mut Rng| match kind {
        0 => {
            let (b, m, n, k) = (rng.range(1, 3), rng.range(1, 160), rng.range(1, 160), rng.range(1, 160));
            let a = tensor(rng, &[b, m, k])?;
            ops::matmul(&a, &tensor(rng, &[k, n])?)
        }
        1 => {
            let (r, c) = (rng.range(1, 64), rng.range(1, 700));
            ops::softmax(&tensor(rng, &[r, c])?, -1)
        }
        2 => {
            let (r, c) = (rng.range(1, 64), rng.range(1, 512));
            let (x, s) = (tensor(rng, &[r, c])?, tensor(rng, &[c])?);
            if rng.range(0, 1) == 0 {
                let bias = tensor(rng, &[c])?;
                ops::layer_norm(&x, &s, Some(&bias), -1, 1e-5)
            } else {
                ops::rms_norm(&x, &s, -1, 1e-5)
            }
        }
        3 => {
            let (h, s, t, d) = (rng.range(1, 4), rng.range(1, 48), rng.range(1, 96), [8, 16, 32, 64][rng.range(0, 3)]);
            let (q, k, v) = (tensor(rng, &[1, h, s, d])?, tensor(rng, &[1, h, t, d])?, tensor(rng, &[1, h, t, d])?);
            let is_causal = rng.range(0, 1) == 1;
            ops::attention(&q, &k, &v, Attention { is_causal, ..Default::default() })
        }
        4 => {
            let (r, c) = (rng.range(1, 64), rng.range(1, 300));
            let (a, b) = (tensor(rng, &[r, c])?, tensor(rng, &[1, c])?);
            let op = [BinaryOp::Add, BinaryOp::Mul, BinaryOp::Sub][rng.range(0, 2)];
            ops::binary(&a, &b, op)
        }
        5 => {
            let n = rng.range(1, 5000);
            let x = tensor(rng, &[n])?;
            if rng.range(0, 1) == 0 {
                ops::gelu(&x, GeluApproximation::Tanh)
            } else {
                let op = [UnaryOp::Relu, UnaryOp::Exp, UnaryOp::Tanh][rng.range(0, 2)];
                ops::unary(&x, op)
            }
        }
        6 => {
            let shape = [rng.range(1, 16), rng.range(1, 64), rng.range(1, 64)];
            let x = tensor(rng, &shape)?;
            let op = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max][rng.range(0, 2)];
            ops::reduce(&x, op, Some(&[-1]), false)
        }
        7 => {
            let shape = [rng.range(1, 8), rng.range(1, 64), rng.range(1, 64)];
            let x = tensor(rng, &shape)?;
            ops::transpose(&x, Some(&[0, 2, 1]))
        }
        _ => {
            let n = rng.range(1, 4000);
            let x = tensor(rng, &[n])?;
            ops::cast(&x, if dtype == DType::F32 { DType::F16 } else { DType::F32 })
        }
    })(rng);
    let y = match result {
        Ok(y) => y,
        Err(hcal::Error::Unsupported { .. }) => return Ok(false),
        Err(e) => return Err(e),
    };
    let values = y.to_f32()?;
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(hcal::Error::Backend {
            backend: device.info().backend.clone(),
            detail: format!("op kind {kind}: element {i} of {} is {}", y.desc(), values[i]),
        });
    }
    Ok(true)
}

/// Resident set size of this process, bytes (`VmRSS` of /proc/self/status).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// One sample: seconds since start, RSS, device-bytes peak of the interval per wgpu backend.
struct Sample {
    t_s: f64,
    rss: u64,
    device: Vec<u64>,
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1 << 20) as f64)
}

/// How a series behaved after warm-up (the first `warm` samples).
struct Flatness {
    /// The sample at the end of warm-up.
    after_warmup: u64,
    /// The most of the first half after warm-up: the high-water mark of the
    /// caches and the allocator's arenas, which a burst of large shapes can
    /// raise in one step that is never given back.
    high_water: u64,
    /// The most of the second half.
    late_max: u64,
    /// Mean of the last three samples.
    end: u64,
    /// Largest sample of the run.
    max: u64,
    /// `late_max` within `rel` (or `abs` bytes, the larger) of `high_water`:
    /// a leak keeps growing, so the second half would pass the first's mark
    /// by the leak's rate times half the run.
    flat: bool,
}

fn flatness(series: &[u64], warm: usize, rel: f64, abs: u64) -> Flatness {
    let post = &series[warm.min(series.len() - 1)..];
    let (first, second) = post.split_at(post.len() / 2);
    let high_water = first.iter().copied().max().unwrap_or(post[0]);
    let late_max = second.iter().copied().max().unwrap_or(high_water);
    let tail = &series[series.len().saturating_sub(3)..];
    let end = tail.iter().sum::<u64>() / tail.len() as u64;
    let allowed = high_water + ((high_water as f64 * rel) as u64).max(abs);
    Flatness {
        after_warmup: post[0],
        high_water,
        late_max,
        end,
        max: series.iter().copied().max().unwrap_or(0),
        flat: late_max <= allowed,
    }
}

fn describe(what: &str, start: u64, f: &Flatness) -> String {
    format!(
        "{what}: start {} after warm-up {} first-half high-water {} second-half max {} end {} max {} -> {}",
        mib(start),
        mib(f.after_warmup),
        mib(f.high_water),
        mib(f.late_max),
        mib(f.end),
        mib(f.max),
        if f.flat { "flat" } else { "GREW" }
    )
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut targets = Vec::new();
    for name in &options.backends {
        match open(name) {
            Ok(t) => targets.push(t),
            Err(e) => {
                eprintln!("error: cannot open {name}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let targets = Arc::new(targets);
    let names: Vec<String> = targets.iter().map(|t| t.device.info().backend.clone()).collect();
    let wgpu_names: Vec<&String> =
        names.iter().zip(targets.iter()).filter(|(_, t)| t.wgpu.is_some()).map(|(n, _)| n).collect();
    println!(
        "soak: {} min, {} threads, backends {}; sampling every {} s",
        options.minutes,
        options.threads,
        names.join(", "),
        options.interval_s
    );

    let stop = Arc::new(AtomicBool::new(false));
    let failure: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let workers: Vec<_> = (0..options.threads)
        .map(|thread| {
            let (targets, stop, failure) = (Arc::clone(&targets), Arc::clone(&stop), Arc::clone(&failure));
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (thread as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
                while !stop.load(Ordering::Relaxed) {
                    let target = &targets[rng.range(0, targets.len() - 1)];
                    match one_call(&target.device, &mut rng) {
                        Ok(true) => target.calls.fetch_add(1, Ordering::Relaxed),
                        Ok(false) => target.unsupported.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            let message = format!("thread {thread} on {}: {e}", target.device.info().backend);
                            failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(message);
                            stop.store(true, Ordering::Relaxed);
                            return;
                        }
                    };
                }
            })
        })
        .collect();

    let start = Instant::now();
    let duration = Duration::from_secs_f64(options.minutes * 60.0);
    let interval = Duration::from_secs_f64(options.interval_s);
    let mut samples: Vec<Sample> = Vec::new();
    // Each sample reads the device-memory peak of the interval, then starts a
    // new one: `reset_memory_peak` also drops the wgpu buffer pool and staging
    // textures (caches of earlier work, up to 512 MiB each, which random
    // shapes fill only slowly), so what is measured and left in RSS is what
    // the backends hold for live work, and a leak cannot hide in a cache.
    let sample = |start: Instant| {
        let device = targets
            .iter()
            .filter_map(|t| t.wgpu.as_ref())
            .map(|w| {
                let peak = w.memory_peak().unwrap_or(0);
                w.reset_memory_peak();
                peak
            })
            .collect();
        Sample { t_s: start.elapsed().as_secs_f64(), rss: rss_bytes(), device }
    };
    while start.elapsed() < duration && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(interval.min(duration.saturating_sub(start.elapsed())).max(Duration::from_millis(10)));
        let s = sample(start);
        let calls: u64 = targets.iter().map(|t| t.calls.load(Ordering::Relaxed)).sum();
        let device: Vec<String> = wgpu_names.iter().zip(&s.device).map(|(n, b)| format!("{n}={}", mib(*b))).collect();
        println!("t={:>7.1}s rss={} device[{}] calls={calls}", s.t_s, mib(s.rss), device.join(" "));
        samples.push(s);
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        if w.join().is_err() {
            failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert("a worker thread panicked".into());
        }
    }

    let mut ok = true;
    for t in targets.iter() {
        println!(
            "{}: {} calls, {} declined",
            t.device.info().backend,
            t.calls.load(Ordering::Relaxed),
            t.unsupported.load(Ordering::Relaxed)
        );
        if let Some(w) = &t.wgpu {
            let live = w.memory_report().live_tensors;
            if live != 0 {
                println!("FAIL {}: {live} tensors still live after every result was dropped", t.device.info().backend);
                ok = false;
            }
        }
    }
    if let Some(f) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
        println!("FAIL: {f}");
        ok = false;
    }
    if samples.len() < 3 {
        println!("FAIL: too few samples ({}) to judge memory; run longer", samples.len());
        return ExitCode::from(1);
    }
    // Warm-up: caches (pipelines, autotune choices, the buffer pool, the
    // allocator's arenas) fill during the first quarter, two minutes at most.
    let warm_s = (options.minutes * 60.0 / 4.0).min(120.0);
    let warm = samples.iter().position(|s| s.t_s >= warm_s).unwrap_or(0);
    let rss: Vec<u64> = samples.iter().map(|s| s.rss).collect();
    let f = flatness(&rss, warm, 0.05, 16 << 20);
    println!("{} (warm-up {:.0} s)", describe("rss", rss[0], &f), samples[warm].t_s);
    ok &= f.flat;
    for (i, name) in wgpu_names.iter().enumerate() {
        let series: Vec<u64> = samples.iter().map(|s| s.device[i]).collect();
        // The peak of an interval swings with the largest random shapes that
        // met in it; a leak grows past that.
        let f = flatness(&series, warm, 0.25, 16 << 20);
        println!("{}", describe(&format!("device bytes (peak per interval) {name}"), series[0], &f));
        ok &= f.flat;
    }
    println!("{}", if ok { "PASS" } else { "FAIL" });
    ExitCode::from(if ok { 0 } else { 1 })
}
