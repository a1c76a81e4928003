//! Conformance reports: per-case records, a summary, JSON and a text table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hcal_core::DeviceInfo;
use serde::{Deserialize, Serialize};

/// The outcome of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every output within its bound, inputs unmodified, rerun bit-identical.
    Pass,
    /// Anything else; `detail` says what.
    Fail,
    /// The backend declined the signature; `detail` has its reason.
    Unsupported,
    /// Failed as a listed expected failure; `detail` has the reason.
    ExpectedFailure,
    /// Expected outputs from another implementation (the ONNX node tests) lie
    /// outside the f64 reference's bound but inside the bound of the narrower
    /// arithmetic that implementation computed in, while the backend agrees
    /// with the f64 reference; `detail` gives both deviations. Never given to a
    /// backend that disagrees with the reference.
    ImpreciseExpected,
}

impl Verdict {
    /// Counted as skipped in the summary.
    pub fn is_skip(self) -> bool {
        matches!(self, Verdict::Unsupported | Verdict::ExpectedFailure | Verdict::ImpreciseExpected)
    }
}

/// The record of one case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case name (`MatMul/f32/17x17x17`).
    pub name: String,
    /// Op name.
    pub op: String,
    /// Compute dtype.
    pub dtype: String,
    /// The op signature, human readable.
    pub signature: String,
    /// Outcome.
    pub verdict: Verdict,
    /// Largest `|got - ref| / bound` over all checked outputs (absent when not compared).
    pub max_error_ratio: Option<f64>,
    /// Largest `|got - ref|`.
    pub max_abs_error: Option<f64>,
    /// Why it failed or was skipped; where the worst element is.
    pub detail: String,
    /// Wall time of the case (both runs and the oracle), milliseconds.
    pub elapsed_ms: f64,
}

/// Totals; `skipped` counts unsupported cases, expected failures and imprecise expected data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Cases run.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Unsupported, expected failure or imprecise expected data, each with its reason.
    pub skipped: usize,
}

impl Summary {
    /// Totals of `cases`.
    pub fn of(cases: &[CaseResult]) -> Self {
        let count = |f: fn(Verdict) -> bool| cases.iter().filter(|c| f(c.verdict)).count();
        Summary {
            total: cases.len(),
            passed: count(|v| v == Verdict::Pass),
            failed: count(|v| v == Verdict::Fail),
            skipped: count(Verdict::is_skip),
        }
    }
}

/// A whole run against one backend. Serializes to self-describing JSON whose
/// top level holds `summary: {total, passed, failed, skipped}` and `cases`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Totals.
    pub summary: Summary,
    /// The device the cases ran on.
    pub device: DeviceInfo,
    /// hcal version.
    pub hcal_version: String,
    /// The op filter and mode used.
    pub filter: crate::Filter,
    /// Wall time of the run, seconds.
    pub elapsed_s: f64,
    /// One record per case, in table order.
    pub cases: Vec<CaseResult>,
    /// The run was stopped (Ctrl-C) before every selected case ran: `cases`
    /// holds the ones done by then, `summary` counts them.
    #[serde(default)]
    pub interrupted: bool,
}

impl Report {
    /// True when no case failed.
    pub fn all_passed(&self) -> bool {
        self.summary.failed == 0
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports contain only serializable data")
    }

    /// Parse a report written by [`Report::to_json`].
    ///
    /// # Errors
    /// The JSON error when the text is not a report.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// A text table: per op totals and worst error ratio, then every failing or
    /// skipped case with its reason, then the closing totals line.
    pub fn table(&self) -> String {
        #[derive(Default)]
        struct Row {
            total: usize,
            passed: usize,
            failed: usize,
            skipped: usize,
            worst: f64,
        }
        let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
        for c in &self.cases {
            let row = rows.entry(&c.op).or_default();
            row.total += 1;
            match c.verdict {
                Verdict::Pass => row.passed += 1,
                Verdict::Fail => row.failed += 1,
                Verdict::Unsupported | Verdict::ExpectedFailure | Verdict::ImpreciseExpected => row.skipped += 1,
            }
            if let Some(r) = c.max_error_ratio.filter(|r| r.is_finite()) {
                row.worst = row.worst.max(r);
            }
        }
        let mut out = String::new();
        let d = &self.device;
        let _ = writeln!(out, "conformance of {} ({}, {}, {})", d.backend, d.name, d.api, d.driver);
        let _ = writeln!(
            out,
            "{:<20} {:>6} {:>6} {:>6} {:>7}  {:>11}",
            "op", "cases", "pass", "fail", "skipped", "worst ratio"
        );
        for (op, r) in &rows {
            let _ = writeln!(
                out,
                "{op:<20} {:>6} {:>6} {:>6} {:>7}  {:>11.3e}",
                r.total, r.passed, r.failed, r.skipped, r.worst
            );
        }
        for c in self.cases.iter().filter(|c| c.verdict != Verdict::Pass) {
            let verdict = match c.verdict {
                Verdict::Fail => "FAIL",
                Verdict::Unsupported => "unsupported",
                Verdict::ExpectedFailure => "expected failure",
                Verdict::ImpreciseExpected => "imprecise expected data",
                Verdict::Pass => unreachable!("filtered"),
            };
            let _ = writeln!(out, "{verdict}: {}: {}", c.name, c.detail);
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "conformance: {} passed, {} failed, {} skipped ({} cases, {:.1} s){}",
            s.passed,
            s.failed,
            s.skipped,
            s.total,
            self.elapsed_s,
            if self.interrupted { "; interrupted before the other cases ran" } else { "" }
        );
        out
    }
}

/// An op x backend matrix of several reports: per op and backend,
/// `passed/failed/skipped` counts (`-` where the backend ran no case of the
/// op), then one totals line per backend.
///
/// ```
/// use hcal_conformance::{Filter, report::matrix, run};
/// let cpu = run(&hcal_cpu::CpuBackend::new(), &Filter { ops: vec!["Relu".into()], quick: true });
/// let text = matrix(&[cpu.clone(), cpu]);
/// assert!(text.lines().any(|l| l.starts_with("Relu")));
/// ```
pub fn matrix(reports: &[Report]) -> String {
    let mut ops: Vec<&str> = Vec::new();
    for c in reports.iter().flat_map(|r| &r.cases) {
        if !ops.contains(&c.op.as_str()) {
            ops.push(&c.op);
        }
    }
    let width = reports.iter().map(|r| r.device.backend.len()).max().unwrap_or(0).max(14);
    let mut out = String::new();
    let _ = write!(out, "{:<20}", "op (pass/fail/skip)");
    for r in reports {
        let _ = write!(out, " {:>width$}", r.device.backend);
    }
    out.push('\n');
    for op in ops {
        let _ = write!(out, "{op:<20}");
        for r in reports {
            let cases: Vec<&CaseResult> = r.cases.iter().filter(|c| c.op == op).collect();
            let s = Summary::of(&cases.into_iter().cloned().collect::<Vec<_>>());
            let cell = if s.total == 0 { "-".to_string() } else { format!("{}/{}/{}", s.passed, s.failed, s.skipped) };
            let _ = write!(out, " {cell:>width$}");
        }
        out.push('\n');
    }
    for r in reports {
        let s = &r.summary;
        let _ = writeln!(
            out,
            "{}: {} passed, {} failed, {} skipped of {} cases",
            r.device.backend, s.passed, s.failed, s.skipped, s.total
        );
    }
    out
}
