//! # hcal-conformance: prove a backend means what the standard says
//!
//! Cases are data ([`Case`]: an op, seeded input generators, the outputs to
//! check); the table ([`cases()`]) sweeps every op of the standard over edge
//! shapes and dtypes. Each case is run on the CPU reference (the oracle) and on
//! the backend under test, which must:
//!
//! - produce every output within the per-element bound of the [`tolerance`]
//!   model (error analysis, not hand tuning; the worst `error / bound` ratio is
//!   reported per case, so headroom is visible);
//! - write its outputs completely (they are pre-filled with NaN);
//! - leave its inputs unmodified;
//! - give bit-identical results when run twice.
//!
//! Unsupported signatures and listed [`ExpectedFailure`]s count as skipped,
//! each with its reason. A vendor runs this from its own tests:
//!
//! ```
//! use hcal_conformance::{Filter, run};
//! let backend = hcal_cpu::CpuBackend::new();
//! let report = run(&backend, &Filter { ops: vec!["Softmax".into()], quick: true });
//! assert!(report.all_passed());
//! assert!(report.summary.total > 10);
//! ```

pub mod case;
pub mod cases;
pub mod expected;
pub mod generate;
pub mod report;
mod runner;
pub mod tolerance;

use std::time::Instant;

use hcal_core::{Backend, DType, Support};
use serde::{Deserialize, Serialize};

pub use case::{Case, Input};
pub use expected::ExpectedFailure;
pub use report::{CaseResult, Report, Summary, Verdict};

/// Which cases to run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// Op names to keep (case-insensitive, `MatMul`, `ReduceSum`, ...); empty keeps all.
    pub ops: Vec<String>,
    /// Only the quick subset (drops the largest shapes).
    pub quick: bool,
}

impl Filter {
    /// Whether `case` passes the filter.
    pub fn accepts(&self, case: &Case) -> bool {
        (self.ops.is_empty() || self.ops.iter().any(|o| o.eq_ignore_ascii_case(case.op_name())))
            && (!self.quick || case.quick)
    }
}

/// The cases `filter` selects, in table order.
pub fn cases(filter: &Filter) -> Vec<Case> {
    cases::all().into_iter().filter(|c| filter.accepts(c)).collect()
}

/// Run the selected cases on `backend` with hcal's built-in expected failures.
pub fn run(backend: &dyn Backend, filter: &Filter) -> Report {
    run_with_progress(backend, filter, &mut |_, _, _| {})
}

/// As [`run`], calling `progress(result, done, total)` after every case.
pub fn run_with_progress(
    backend: &dyn Backend,
    filter: &Filter,
    progress: &mut dyn FnMut(&CaseResult, usize, usize),
) -> Report {
    run_with_expectations(backend, filter, &expected::builtin(), progress)
}

/// As [`run_with_progress`] with a caller's list of expected failures (a vendor
/// keeps its known deviations as data in its own repository).
pub fn run_with_expectations(
    backend: &dyn Backend,
    filter: &Filter,
    expected: &[ExpectedFailure],
    progress: &mut dyn FnMut(&CaseResult, usize, usize),
) -> Report {
    let start = Instant::now();
    let oracle = hcal_cpu::CpuBackend::new();
    let selected = cases(filter);
    let total = selected.len();
    let mut results = Vec::with_capacity(total);
    for (i, case) in selected.iter().enumerate() {
        let result = runner::run_case(backend, &oracle, case, expected);
        progress(&result, i + 1, total);
        results.push(result);
    }
    Report {
        summary: Summary::of(&results),
        device: backend.info().clone(),
        hcal_version: env!("CARGO_PKG_VERSION").to_string(),
        filter: filter.clone(),
        elapsed_s: start.elapsed().as_secs_f64(),
        cases: results,
        interrupted: false,
    }
}

/// Run a single case (for test harnesses that make one trial per case).
pub fn run_case(backend: &dyn Backend, case: &Case) -> CaseResult {
    runner::run_case(backend, &hcal_cpu::CpuBackend::new(), case, &expected::builtin())
}

/// The outcome of [`judge_values`].
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// The verdict, as for a table case.
    pub result: CaseResult,
    /// The backend's outputs decoded to f64, per output slot (`None` for a slot
    /// not requested, or every slot when the case did not run to the end).
    pub outputs: Vec<Option<Vec<f64>>>,
}

/// Judge a case whose expected outputs come from another implementation (the
/// ONNX node tests, say): build `case` with [`generate::Gen::Values`] inputs.
///
/// Everything [`run_case`] checks is checked (the backend against the f64
/// oracle under the [`tolerance`] model, inputs unmodified, reruns identical,
/// `expected_failures` applied), and in addition each given entry of
/// `expected_outputs` (per output slot) must lie within the same per-element
/// bound of the oracle's output: the bound a device computing in f32 gets.
/// Beyond it hcal's reference and the other implementation disagree on what
/// the op means, and the case fails saying so. `max_error_ratio` is the larger
/// of the two ratios.
///
/// ```
/// use hcal_conformance::{Case, Input, generate::Gen, judge_values, Verdict};
/// use hcal_core::{DType, Op, UnaryOp};
/// let x = Input::new([3], DType::F32, Gen::Values(vec![-1.0, 0.0, 2.0]));
/// let case = Case::new("Relu/example", Op::Unary(UnaryOp::Relu), vec![x]);
/// let cpu = hcal_cpu::CpuBackend::new();
/// let judged = judge_values(&cpu, &case, &[Some(vec![0.0, 0.0, 2.0])], &[]);
/// assert_eq!(judged.result.verdict, Verdict::Pass);
/// assert_eq!(judged.outputs, [Some(vec![0.0, 0.0, 2.0])]);
/// let wrong = judge_values(&cpu, &case, &[Some(vec![0.0, 0.0, 3.0])], &[]);
/// assert_eq!(wrong.result.verdict, Verdict::Fail);
/// ```
pub fn judge_values(
    backend: &dyn Backend,
    case: &Case,
    expected_outputs: &[Option<Vec<f64>>],
    expected_failures: &[ExpectedFailure],
) -> Judged {
    let oracle = hcal_cpu::CpuBackend::new();
    let (result, outputs) = runner::run_case_against(backend, &oracle, case, expected_failures, Some(expected_outputs));
    Judged { result, outputs }
}

/// One row of a backend's op support matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportRow {
    /// Op name.
    pub op: String,
    /// Compute dtype.
    pub dtype: DType,
    /// The backend's answer for the first case of this op and dtype.
    pub support: Support,
}

/// For every (op, dtype) in the case table, the backend's answer to that
/// signature: what `hcal devices --ops` prints.
pub fn support_matrix(backend: &dyn Backend) -> Vec<SupportRow> {
    let mut rows: Vec<SupportRow> = Vec::new();
    for case in cases::all() {
        let (op, dtype) = (case.op_name().to_string(), case.dtype());
        if !rows.iter().any(|r| r.op == op && r.dtype == dtype) {
            let support = match case.signature() {
                Ok(signature) => backend.supports(&signature),
                Err(e) => Support::Unsupported(format!("invalid case (a bug in the case table): {e}")),
            };
            rows.push(SupportRow { op, dtype, support });
        }
    }
    rows
}
