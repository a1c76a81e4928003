//! Host microbenchmarks: the peak of backends that have no probe kernels
//! (the cpu reference, C plugins). The FMA loop uses the widest f32 FMA unit
//! the CPU reports at run time (AVX-512, AVX2), not the baseline SIMD this
//! build targets, so "% of peak" of a vendor library that uses AVX-512 is
//! against what the chip can do.

use std::hint::black_box;
use std::time::Instant;

/// The f32 multiply-add units the host loop runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostSimd {
    /// 512-bit vectors with fused multiply-add (x86-64 `avx512f` + `fma`).
    Avx512Fma,
    /// 256-bit vectors with fused multiply-add (x86-64 `avx2` + `fma`).
    Avx2Fma,
    /// What this build targets (a separate multiply and add).
    Baseline,
}

impl HostSimd {
    /// The widest the CPU reports at run time.
    ///
    /// ```
    /// let simd = hcal_bench::host::HostSimd::detect();
    /// assert!(!simd.describe().is_empty());
    /// ```
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                return HostSimd::Avx512Fma;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return HostSimd::Avx2Fma;
            }
        }
        HostSimd::Baseline
    }

    /// In words, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            HostSimd::Avx512Fma => "AVX-512 FMA (detected at run time)",
            HostSimd::Avx2Fma => "AVX2 FMA (detected at run time)",
            HostSimd::Baseline => "the build's baseline SIMD, separate multiply and add (no FMA unit detected)",
        }
    }
}

/// Iterations of the host loop per thread and run (a few hundred million
/// FLOPs per thread: tens of milliseconds).
const HOST_ITERATIONS: u64 = 1_000_000;

/// What the host FMA loop is, for reports.
pub(crate) fn host_fma_method(threads: usize) -> String {
    let simd = HostSimd::detect();
    format!(
        "host f32 FMA loop, {} independent lanes x {threads} threads on {}: the host's peak \
         (the backend has no probe kernel)",
        lanes(simd),
        simd.describe()
    )
}

/// Independent accumulators per thread: enough chains to cover the FMA
/// latency on two ports (12 vector registers), within the register file.
fn lanes(simd: HostSimd) -> usize {
    match simd {
        HostSimd::Avx512Fma => 192,
        HostSimd::Avx2Fma => 96,
        HostSimd::Baseline => 48,
    }
}

/// GFLOP/s of a host loop `x <- x * m + c` over independent f32 lanes on
/// each of `threads` threads (2 FLOPs per lane and iteration), wall clock,
/// on the widest FMA unit [`HostSimd::detect`] finds.
///
/// ```
/// assert!(hcal_bench::host_fma_gflops(1) > 0.0);
/// ```
pub fn host_fma_gflops(threads: usize) -> f64 {
    let threads = threads.max(1);
    let simd = HostSimd::detect();
    let start = Instant::now();
    let sums: Vec<f32> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|t| scope.spawn(move || run_chains(simd, t as f32))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0.0)).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    black_box(sums);
    (threads as u64 * HOST_ITERATIONS * lanes(simd) as u64 * 2) as f64 / seconds / 1e9
}

/// One thread's loop on `simd`; returns the lanes' sum so the work is observable.
#[allow(unsafe_code)]
fn run_chains(simd: HostSimd, seed: f32) -> f32 {
    match simd {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: HostSimd::detect returned Avx512Fma only after
        // is_x86_feature_detected! found avx512f and fma on this CPU.
        HostSimd::Avx512Fma => unsafe { chains_avx512(seed) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: HostSimd::detect returned Avx2Fma only after
        // is_x86_feature_detected! found avx2 and fma on this CPU.
        HostSimd::Avx2Fma => unsafe { chains_avx2(seed) },
        _ => chains_baseline(seed),
    }
}

/// `N` independent chains of `x <- fma(x, m, c)`; inlined into each
/// target-feature function so it compiles to that unit's instructions.
#[inline(always)]
fn fused_chains<const N: usize>(seed: f32) -> f32 {
    let mut acc = [0f32; N];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = seed + i as f32 * 1e-3;
    }
    let m = black_box(0.999f32);
    let c = black_box(0.001f32);
    for _ in 0..HOST_ITERATIONS {
        for a in acc.iter_mut() {
            *a = a.mul_add(m, c);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn chains_avx512(seed: f32) -> f32 {
    fused_chains::<192>(seed)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn chains_avx2(seed: f32) -> f32 {
    fused_chains::<96>(seed)
}

/// Without an FMA unit `mul_add` is a library call: a separate multiply and
/// add, which the build's baseline SIMD vectorizes.
fn chains_baseline(seed: f32) -> f32 {
    let mut acc = [0f32; 48];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = seed + i as f32 * 1e-3;
    }
    let m = black_box(0.999f32);
    let c = black_box(0.001f32);
    for _ in 0..HOST_ITERATIONS {
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
