//! The report of one corpus run: per-case records, the built-in suite's
//! `summary`, a per-op table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hcal_conformance::{CaseResult, Summary, Verdict};
use hcal_core::DeviceInfo;
use serde::{Deserialize, Serialize};

/// The `kind` of a report's JSON.
pub const REPORT_KIND: &str = "onnx-conformance";

/// ONNX's own default verdict on a case: numpy's `assert_allclose(expected,
/// got, rtol = 1e-3, atol = 1e-7)` on every compared output (NaN equal to NaN,
/// infinities exactly), as `onnx.backend.test` runs it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnnxDefault {
    /// Every element satisfied `|got - expected| <= atol + rtol |expected|`.
    pub pass: bool,
    /// Largest `|got - expected|` (infinite when NaN or infinities differ).
    pub max_abs_error: f64,
    /// Largest `|got - expected| / |expected|` over nonzero expected values.
    pub max_rel_error: f64,
}

impl OnnxDefault {
    /// ONNX's default relative tolerance.
    pub const RTOL: f64 = 1e-3;
    /// ONNX's default absolute tolerance.
    pub const ATOL: f64 = 1e-7;

    /// Compare `got` with `expected` element by element, ONNX's way.
    ///
    /// ```
    /// use hcal_onnx::OnnxDefault;
    /// assert!(OnnxDefault::compare(&[1.0005, f64::NAN], &[1.0, f64::NAN]).pass);
    /// assert!(!OnnxDefault::compare(&[1.002], &[1.0]).pass);
    /// ```
    pub fn compare(got: &[f64], expected: &[f64]) -> Self {
        let mut out = Self { pass: got.len() == expected.len(), max_abs_error: 0.0, max_rel_error: 0.0 };
        for (&g, &e) in got.iter().zip(expected) {
            let (ok, abs) = if e.is_nan() || g.is_nan() {
                (e.is_nan() && g.is_nan(), if e.is_nan() && g.is_nan() { 0.0 } else { f64::INFINITY })
            } else if e.is_infinite() || g.is_infinite() {
                (g == e, if g == e { 0.0 } else { f64::INFINITY })
            } else {
                let abs = (g - e).abs();
                (abs <= Self::ATOL + Self::RTOL * e.abs(), abs)
            };
            out.pass &= ok;
            out.max_abs_error = out.max_abs_error.max(abs);
            if e != 0.0 && !e.is_nan() {
                out.max_rel_error = out.max_rel_error.max(abs / e.abs());
            }
        }
        out
    }

    /// Fold the comparison of another output into this one.
    pub fn merge(self, other: Self) -> Self {
        Self {
            pass: self.pass && other.pass,
            max_abs_error: self.max_abs_error.max(other.max_abs_error),
            max_rel_error: self.max_rel_error.max(other.max_rel_error),
        }
    }
}

/// The record of one case folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnnxCaseResult {
    /// Name (the folder), ONNX op type, dtype, signature, verdict, worst error
    /// ratio under hcal's tolerance model, largest error against hcal's
    /// reference, the reason or worst element, wall time: the fields of a
    /// built-in case record.
    #[serde(flatten)]
    pub result: CaseResult,
    /// `test_data_set_N` folders judged.
    pub data_sets: usize,
    /// ONNX's default verdict on the backend's outputs against the expected
    /// ones (absent when nothing was compared).
    pub onnx_default: Option<OnnxDefault>,
    /// Outputs the model asks for that lie outside the standard, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl OnnxCaseResult {
    /// A record that never reached the backend.
    pub fn without_run(name: &str, op: &str, dtype: &str, verdict: Verdict, detail: String) -> Self {
        Self {
            result: CaseResult {
                name: name.to_string(),
                op: op.to_string(),
                dtype: dtype.to_string(),
                signature: String::new(),
                verdict,
                max_error_ratio: None,
                max_abs_error: None,
                detail,
                elapsed_ms: 0.0,
            },
            data_sets: 0,
            onnx_default: None,
            unchecked: Vec::new(),
        }
    }
}

/// Which corpus a report covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corpus {
    /// The folder given.
    pub dir: String,
    /// The `onnx` package version the folder belongs to, when known.
    pub onnx_version: Option<String>,
    /// The newest default-domain opset a case model imports (the opset the
    /// corpus tests up to; onnx 1.23.2's node tests reach its opset 28).
    #[serde(default)]
    pub opset: Option<i64>,
    /// The onnx release whose expected-failure list was applied
    /// ([`crate::expected::list_version`]).
    #[serde(default)]
    pub expected_failures_of: Option<String>,
    /// The op filter (empty: every case folder).
    pub ops: Vec<String>,
}

/// A whole run. Its JSON has the built-in suite's top-level `summary
/// {total, passed, failed, skipped}` (skipped = unsupported + expected
/// failures) and `"kind": "onnx-conformance"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnnxReport {
    /// Always [`REPORT_KIND`].
    pub kind: String,
    /// Totals, as the built-in suite counts them.
    pub summary: Summary,
    /// The device the cases ran on.
    pub device: DeviceInfo,
    /// hcal version.
    pub hcal_version: String,
    /// The corpus.
    pub corpus: Corpus,
    /// Wall time of the run, seconds.
    pub elapsed_s: f64,
    /// One record per case folder, sorted by name.
    pub cases: Vec<OnnxCaseResult>,
    /// The run was stopped (Ctrl-C) before every case ran: `cases` holds the
    /// ones done by then.
    #[serde(default)]
    pub interrupted: bool,
}

/// Per-op totals of a report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpRow {
    /// ONNX op type (`graph` for multi-node models).
    pub op: String,
    /// Case folders found.
    pub found: usize,
    /// Passed under hcal's tolerance model.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Outside the standard or declined by the backend.
    pub unsupported: usize,
    /// Listed expected failures.
    pub expected_failures: usize,
    /// ONNX's expected output within the bound of the arithmetic ONNX computed
    /// it in but not hcal's, with the backend agreeing with hcal's reference.
    #[serde(default)]
    pub imprecise_expected: usize,
    /// Cases whose outputs also pass ONNX's default `rtol = 1e-3, atol = 1e-7`.
    pub onnx_default_passed: usize,
    /// Largest error ratio among the passing cases.
    pub worst_ratio: f64,
}

impl OnnxReport {
    /// True when no case failed.
    pub fn all_passed(&self) -> bool {
        self.summary.failed == 0
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports contain only serializable data")
    }

    /// Parse a report written by [`OnnxReport::to_json`].
    ///
    /// # Errors
    /// The JSON error when the text is not such a report.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Per-op totals, by op name.
    pub fn per_op(&self) -> Vec<OpRow> {
        per_op(self.cases.iter().map(|c| (&c.result, c.onnx_default.as_ref())))
    }

    /// A text table: per-op counts, then every case that did not pass with its
    /// reason, then the closing totals line.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let d = &self.device;
        let version = self.corpus.onnx_version.as_deref().unwrap_or("unknown version");
        let _ = writeln!(
            out,
            "ONNX node tests (onnx {version}{}, {}) on {} ({}, {})",
            self.corpus.opset.map_or_else(String::new, |o| format!(", opset <= {o}")),
            self.corpus.dir,
            d.backend,
            d.name,
            d.driver
        );
        out.push_str(&op_table(&self.per_op()));
        for c in self.cases.iter().filter(|c| c.result.verdict != Verdict::Pass) {
            let _ = writeln!(out, "{}: {}: {}", verdict_word(c.result.verdict), c.result.name, c.result.detail);
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "onnx conformance: {} passed, {} failed, {} skipped ({} cases, {:.1} s)",
            s.passed, s.failed, s.skipped, s.total, self.elapsed_s
        );
        out
    }
}

/// The word a table prints for a verdict.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Unsupported => "unsupported",
        Verdict::ExpectedFailure => "expected failure",
        Verdict::ImpreciseExpected => "imprecise expected data",
    }
}

/// Per-op totals of `(record, ONNX default verdict)` pairs.
pub fn per_op<'a>(cases: impl Iterator<Item = (&'a CaseResult, Option<&'a OnnxDefault>)>) -> Vec<OpRow> {
    let mut rows: BTreeMap<String, OpRow> = BTreeMap::new();
    for (c, onnx) in cases {
        let row = rows.entry(c.op.clone()).or_insert_with(|| OpRow { op: c.op.clone(), ..Default::default() });
        row.found += 1;
        match c.verdict {
            Verdict::Pass => row.passed += 1,
            Verdict::Fail => row.failed += 1,
            Verdict::Unsupported => row.unsupported += 1,
            Verdict::ExpectedFailure => row.expected_failures += 1,
            Verdict::ImpreciseExpected => row.imprecise_expected += 1,
        }
        if onnx.is_some_and(|o| o.pass) {
            row.onnx_default_passed += 1;
        }
        if let Some(r) = c.max_error_ratio.filter(|r| r.is_finite() && c.verdict == Verdict::Pass) {
            row.worst_ratio = row.worst_ratio.max(r);
        }
    }
    rows.into_values().collect()
}

/// The per-op table as text.
pub fn op_table(rows: &[OpRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:>5} {:>5} {:>5} {:>11} {:>6} {:>9} {:>10} {:>11}",
        "op", "found", "pass", "fail", "unsupported", "xfail", "imprecise", "onnx-dflt", "worst ratio"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<20} {:>5} {:>5} {:>5} {:>11} {:>6} {:>9} {:>10} {:>11.3e}",
            r.op,
            r.found,
            r.passed,
            r.failed,
            r.unsupported,
            r.expected_failures,
            r.imprecise_expected,
            r.onnx_default_passed,
            r.worst_ratio
        );
    }
    out
}
