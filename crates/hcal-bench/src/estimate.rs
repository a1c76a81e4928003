//! How long a row will take, before it runs: its FLOPs at the device's
//! measured peak, times the calls the repetition policy plans. `hcal bench`
//! prints it before a long row, so minutes of silence are announced.

use crate::model::flops;
use crate::spec::Workload;
use crate::stats::RepPolicy;

/// The expected cost of one row (see [`estimate`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Seconds of one call at the peak: a lower bound, kernels run below it.
    pub per_call_s: f64,
    /// Calls the row makes at most: the first call, one for its memory
    /// peak, warm-up and samples.
    pub calls: u64,
    /// `per_call_s * calls`.
    pub total_s: f64,
}

/// The cost of measuring `w` under `policy` on a device whose compute peak
/// is `peak_gflops`, or `None` without a usable peak.
///
/// A call that alone outlasts `policy.max_time_s` is made twice (the first
/// call and one sample: [`crate::measure_after_first`] skips warm-up then);
/// a shorter one as often as warm-up and sampling allow within the time cap.
///
/// ```
/// use hcal_bench::{OpKind, RepPolicy, Shape, Workload, estimate};
/// let w = Workload::new(Shape::parse(OpKind::Attention, "1x1x70000x64")?, hcal::DType::F32);
/// // 4 * 64 * 70000^2 FLOPs = 1.25 TFLOP: 125 s a call at 10 GFLOP/s.
/// let e = estimate(&w, 10.0, &RepPolicy::default()).unwrap();
/// assert_eq!(e.calls, 2);
/// assert!((e.per_call_s - 125.44).abs() < 1e-9 && (e.total_s - 250.88).abs() < 1e-9);
/// let small = Workload::new(Shape::parse(OpKind::Matmul, "64x64x64")?, hcal::DType::F32);
/// assert!(estimate(&small, 10.0, &RepPolicy::default()).unwrap().total_s < 3.0);
/// assert_eq!(estimate(&small, 0.0, &RepPolicy::default()), None);
/// # Ok::<(), hcal_bench::SpecError>(())
/// ```
pub fn estimate(w: &Workload, peak_gflops: f64, policy: &RepPolicy) -> Option<Estimate> {
    if !(peak_gflops.is_finite() && peak_gflops > 0.0) {
        return None;
    }
    let per_call_s = flops(w) as f64 / (peak_gflops * 1e9);
    let calls = planned_calls(policy, per_call_s);
    Some(Estimate { per_call_s, calls, total_s: per_call_s * calls as f64 })
}

/// Calls a row makes under `policy` when one takes `per_call_s`, at most.
fn planned_calls(policy: &RepPolicy, per_call_s: f64) -> u64 {
    if per_call_s >= policy.max_time_s {
        return 2;
    }
    let per_call_s = per_call_s.max(1e-12);
    // Ratios that are whole numbers in decimal (0.05 s / 1 us) land a hair
    // above them in binary: those count as whole.
    let ceil = |x: f64| (x * (1.0 - 1e-12)).ceil().clamp(0.0, 1e15) as u64;
    let warmup = (policy.warmup_reps as u64).max(ceil(policy.warmup_s.min(policy.max_time_s) / per_call_s));
    let inner = ceil(policy.min_sample_s / per_call_s).clamp(1, 1000);
    let sample_s = inner as f64 * per_call_s;
    let samples = ceil(policy.max_time_s / sample_s).max(3.min(policy.min_reps) as u64).min(policy.max_reps as u64);
    2 + warmup + samples * inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_calls_follow_the_policy() {
        let p = RepPolicy::default(); // 2 s cap, 50 samples, 2 ms samples
        assert_eq!(planned_calls(&p, 5.0), 2);
        // 0.5 s calls: first, memory, 1 warm-up, 4 samples of 1 call within 2 s.
        assert_eq!(planned_calls(&p, 0.5), 2 + 1 + 4);
        // 1 us calls: warm-up for 50 ms, 50 samples of 2000 calls... capped at 1000 a sample.
        assert_eq!(planned_calls(&p, 1e-6), 2 + 50_000 + 50 * 1000);
    }
}
