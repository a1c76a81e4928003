//! `hcal bench --compare base.json`: regressions beyond the noise band.

use serde::{Deserialize, Serialize};

use crate::schema::ResultRecord;

/// How wide the "same" band is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Relative change always treated as noise (0.05 = 5%): run-to-run drift
    /// on a shared machine is larger than the noise within one run.
    pub min_band: f64,
    /// Multiple of the combined standard error of the two medians that is
    /// still noise.
    pub sigmas: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self { min_band: 0.05, sigmas: 3.0 }
    }
}

/// Outcome of one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Slower than the base beyond the band.
    Regression,
    /// Faster than the base beyond the band.
    Improvement,
    /// Within the band.
    Same,
    /// Only in the new run.
    New,
    /// Only in the base run.
    Missing,
}

/// One row of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// [`ResultRecord::key`].
    pub key: String,
    /// Base median seconds.
    pub base_s: Option<f64>,
    /// New median seconds.
    pub new_s: Option<f64>,
    /// `new_s / base_s` (above 1: slower).
    pub ratio: Option<f64>,
    /// Half-width of the noise band: a ratio within `[1/(1+band), 1+band]` is the same.
    pub band: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// The kernel changed between the runs (both name one and they differ).
    pub kernel_changed: bool,
}

/// The noise band of two results: `max(min_band, sigmas * sqrt(e_b^2 + e_n^2))`
/// where `e` is each median's relative standard error
/// ([`ResultRecord::rel_error`]).
///
/// ```
/// use hcal_bench::{noise_band, CompareOptions};
/// let o = CompareOptions::default();
/// assert_eq!(noise_band(0.0, 0.0, &o), 0.05);
/// assert!((noise_band(0.03, 0.04, &o) - 0.15).abs() < 1e-12); // 3 * 0.05
/// ```
pub fn noise_band(base_rel_error: f64, new_rel_error: f64, options: &CompareOptions) -> f64 {
    let combined = base_rel_error.hypot(new_rel_error);
    let combined = if combined.is_finite() { combined } else { 0.0 };
    options.min_band.max(options.sigmas * combined)
}

/// Compare `new` against `base`, matching rows by [`ResultRecord::key`]; rows
/// come in `new`'s order, then rows only in `base`.
///
/// ```
/// use hcal_bench::{compare, CompareOptions, Verdict};
/// # fn record(median: f64) -> hcal_bench::ResultRecord {
/// #     let w = hcal_bench::Workload::new(hcal_bench::Shape::Matmul { m: 8, n: 8, k: 8 }, hcal::DType::F32);
/// #     let m = hcal_bench::Measurement { first_call_s: 0.0, samples_s: vec![median; 9],
/// #         wall_samples_s: vec![median; 9], inner: 1, timing: hcal_bench::TimingMode::Wall,
/// #         stop: hcal_bench::Stop::Stable };
/// #     hcal_bench::ResultRecord::new(&w, "cpu", "cli", "", 1.0, None, &m, None)
/// # }
/// let rows = compare(&[record(1.0)], &[record(1.5)], &CompareOptions::default());
/// assert_eq!(rows[0].verdict, Verdict::Regression);
/// let rows = compare(&[record(1.0)], &[record(1.02)], &CompareOptions::default());
/// assert_eq!(rows[0].verdict, Verdict::Same);
/// ```
pub fn compare(base: &[ResultRecord], new: &[ResultRecord], options: &CompareOptions) -> Vec<Comparison> {
    let mut rows = Vec::new();
    for n in new {
        let key = n.key();
        let Some(b) = base.iter().find(|b| b.key() == key) else {
            rows.push(Comparison {
                key,
                base_s: None,
                new_s: Some(n.median_s),
                ratio: None,
                band: None,
                verdict: Verdict::New,
                kernel_changed: false,
            });
            continue;
        };
        let ratio = n.median_s / b.median_s;
        let band = noise_band(b.rel_error(), n.rel_error(), options);
        let verdict = if !ratio.is_finite() {
            Verdict::Same
        } else if ratio > 1.0 + band {
            Verdict::Regression
        } else if ratio < 1.0 / (1.0 + band) {
            Verdict::Improvement
        } else {
            Verdict::Same
        };
        let kernel_changed = matches!((&b.kernel, &n.kernel), (Some(x), Some(y)) if x != y);
        rows.push(Comparison {
            key,
            base_s: Some(b.median_s),
            new_s: Some(n.median_s),
            ratio: Some(ratio),
            band: Some(band),
            verdict,
            kernel_changed,
        });
    }
    for b in base {
        let key = b.key();
        if !new.iter().any(|n| n.key() == key) {
            rows.push(Comparison {
                key,
                base_s: Some(b.median_s),
                new_s: None,
                ratio: None,
                band: None,
                verdict: Verdict::Missing,
                kernel_changed: false,
            });
        }
    }
    rows
}

/// True when any row is a [`Verdict::Regression`].
pub fn has_regression(rows: &[Comparison]) -> bool {
    rows.iter().any(|r| r.verdict == Verdict::Regression)
}
