//! Sample statistics and the rule that decides when to stop repeating.

use serde::{Deserialize, Serialize};

/// Robust summary of timing samples (seconds).
///
/// `rel_noise` is the robust coefficient of variation
/// `1.4826 * MAD / median` (the factor makes it equal the standard deviation
/// over the mean for normal data), so one outlier does not inflate it.
///
/// ```
/// let s = hcal_bench::Summary::of(&[3.0, 1.0, 2.0, 100.0, 2.0]).unwrap();
/// assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 100.0));
/// assert_eq!(s.mad, 1.0); // |x - 2| = 1, 1, 0, 98, 0 -> median 1
/// assert!((s.rel_noise - 1.4826 / 2.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Median (mean of the two middle values for even `n`).
    pub median: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
    /// `1.4826 * mad / median` (0 when the median is 0).
    pub rel_noise: f64,
}

impl Summary {
    /// Summarize `samples`; `None` when empty or any sample is not finite.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let median = median(samples);
        let deviations: Vec<f64> = samples.iter().map(|x| (x - median).abs()).collect();
        let mad = self::median(&deviations);
        let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
        let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let rel_noise = if median > 0.0 { 1.4826 * mad / median } else { 0.0 };
        Some(Summary { n: samples.len(), median, min, max, mean, mad, rel_noise })
    }

    /// Relative standard error of the median, estimated as `rel_noise / sqrt(n)`.
    pub fn rel_error(&self) -> f64 {
        self.rel_noise / (self.n.max(1) as f64).sqrt()
    }
}

/// Median of finite values (mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 0 { (v[mid - 1] + v[mid]) / 2.0 } else { v[mid] }
}

/// How many repetitions to take.
///
/// ```
/// let p = hcal_bench::RepPolicy::default();
/// assert!(p.min_reps <= p.max_reps);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RepPolicy {
    /// Untimed calls after the first one, at least.
    pub warmup_reps: usize,
    /// Warm-up continues until this many seconds have passed.
    pub warmup_s: f64,
    /// Samples taken before stability is judged.
    pub min_reps: usize,
    /// Samples taken at most.
    pub max_reps: usize,
    /// Seconds of sampling after which a row stops (with at least 3 samples,
    /// or 1 when a single call already took longer).
    pub max_time_s: f64,
    /// Stop once the relative standard error of the median is at most this.
    pub target_rel_error: f64,
    /// A sample repeats the op until it lasts this long (`inner` calls), so
    /// tiny ops are not below the timer's resolution.
    pub min_sample_s: f64,
}

impl Default for RepPolicy {
    fn default() -> Self {
        Self {
            warmup_reps: 1,
            warmup_s: 0.05,
            min_reps: 5,
            max_reps: 50,
            max_time_s: 2.0,
            target_rel_error: 0.01,
            min_sample_s: 0.002,
        }
    }
}

impl RepPolicy {
    /// The `--quick` policy: fewer and shorter repetitions.
    pub fn quick() -> Self {
        Self { warmup_reps: 1, warmup_s: 0.01, min_reps: 3, max_reps: 10, max_time_s: 0.4, ..Self::default() }
    }

    /// Whether to stop after `samples` taken in `elapsed_s` seconds of
    /// sampling, and why.
    ///
    /// ```
    /// use hcal_bench::{RepPolicy, Stop};
    /// let p = RepPolicy::default();
    /// assert_eq!(p.stop(&[1.0; 3], 0.1), None); // fewer than min_reps
    /// assert_eq!(p.stop(&[1.0; 5], 0.1), Some(Stop::Stable));
    /// assert_eq!(p.stop(&[1.0, 2.0, 3.0], 5.0), Some(Stop::TimeCap));
    /// ```
    pub fn stop(&self, samples: &[f64], elapsed_s: f64) -> Option<Stop> {
        let n = samples.len();
        if n == 0 {
            return None;
        }
        if n >= self.min_reps
            && let Some(s) = Summary::of(samples)
            && s.rel_error() <= self.target_rel_error
        {
            return Some(Stop::Stable);
        }
        if n >= self.max_reps {
            return Some(Stop::RepCap);
        }
        let one_call_too_long = elapsed_s / n as f64 > self.max_time_s;
        if elapsed_s >= self.max_time_s && (n >= 3.min(self.min_reps) || one_call_too_long) {
            return Some(Stop::TimeCap);
        }
        None
    }
}

/// Why sampling stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stop {
    /// The median's relative standard error reached the target.
    Stable,
    /// `max_reps` samples were taken.
    RepCap,
    /// The time budget ran out.
    TimeCap,
}
