//! The rows of an `hcal bench` run (from suites or `--shape`, times dtypes)
//! and measuring one: its operands, baseline, timing and record.

use hcal::{DType, Device};
use hcal_bench::{
    Baseline, BaselineRecord, OpKind, Prepared, PreparedBaseline, RepPolicy, ResultRecord, Shape, Suite, Workload,
    check_baseline_differs, kernel_identity,
};
use indicatif::ProgressBar;

use super::{BenchArgs, ESTIMATE_NOTE_S, format_duration};
use crate::UsageError;

/// One row to run on a backend.
#[derive(Clone)]
pub(super) struct Row {
    pub(super) suite: String,
    pub(super) label: String,
    pub(super) scale: f64,
    pub(super) workload: Workload,
    /// Rotate the operands through copies (`--cold`).
    pub(super) cold: bool,
}

/// The rows for one backend at scale `scale`.
pub(super) fn rows(
    args: &BenchArgs,
    ops: &[OpKind],
    dtypes: &[DType],
    suites: &[Suite],
    scale_of: impl Fn(&Suite) -> f64,
) -> Result<Vec<Row>, UsageError> {
    let mut base: Vec<(String, String, f64, Workload)> = Vec::new();
    if args.shapes.is_empty() {
        let suites = match (suites.is_empty(), args.quick) {
            (false, _) => suites.to_vec(),
            (true, false) => vec![Suite::Square],
            (true, true) => vec![Suite::Square, Suite::Model(hcal_bench::LLAMA3_8B)],
        };
        for suite in suites {
            let scale = scale_of(&suite);
            for (label, w) in suite.cases(scale, args.quick) {
                if ops.is_empty() || ops.contains(&w.op()) {
                    base.push((suite.name().to_string(), label, scale, w));
                }
            }
        }
    } else {
        if ops.len() > 1 {
            return Err(UsageError("with --shape, give at most one --op".into()));
        }
        for spec in &args.shapes {
            let op = match ops.first() {
                Some(&op) => op,
                None if spec.split(['x', 'X']).count() == 3 => OpKind::Matmul,
                None => OpKind::Attention,
            };
            let mut w = Workload::new(Shape::parse(op, spec)?, DType::F32);
            if op == OpKind::Attention {
                w.causal = args.causal;
                w.kv_heads = args.kv_heads;
            }
            w.validate()?;
            base.push(("cli".into(), String::new(), 1.0, w));
        }
        if (args.causal || args.kv_heads.is_some()) && !base.iter().any(|(_, _, _, w)| w.op() == OpKind::Attention) {
            return Err(UsageError("--causal and --kv-heads apply to attention shapes, and none was given".into()));
        }
    }
    let mut out = Vec::new();
    for &dtype in dtypes {
        for (suite, label, scale, w) in &base {
            let workload = Workload { dtype, ..w.clone() };
            // A quantized dtype applies to matmul weights: suites keep their
            // rows it fits, a --shape it does not fit is an error.
            if let Err(e) = workload.validate() {
                if suite == "cli" {
                    return Err(e.into());
                }
                continue;
            }
            out.push(Row { suite: suite.clone(), label: label.clone(), scale: *scale, workload, cold: args.cold });
        }
    }
    Ok(out)
}

/// Everything one row needs, owned, so it runs on a thread of its own
/// (see [`crate::interrupt::finish_unless_interrupted`]).
pub(super) struct RowJob {
    pub(super) device: Device,
    pub(super) baseline: Option<Baseline>,
    pub(super) baseline_device: Option<Device>,
    pub(super) row: Row,
    pub(super) policy: RepPolicy,
    pub(super) peak: Option<hcal_bench::Peak>,
    /// For notes printed while the row runs.
    pub(super) bar: ProgressBar,
    /// `backend op/dtype/shape`, as notes name the row.
    pub(super) label: String,
}

impl RowJob {
    pub(super) fn measure(self) -> Result<ResultRecord, String> {
        let (baseline, baseline_device) = (self.baseline.as_ref(), self.baseline_device.as_ref());
        measure_row(&self.device, baseline, baseline_device, &self.row, &self.policy, self.peak.as_ref(), &|note| {
            self.bar.suspend(|| eprintln!("row {}: {note}", self.label))
        })
    }
}

/// Measure one row (and its baseline). `Err` is why the row was skipped
/// (unsupported, out of memory); a baseline that cannot run, or that is the
/// candidate's own kernel, leaves the row with `baseline_error` instead.
/// `note` prints a line about the row on stderr.
fn measure_row(
    device: &Device,
    baseline: Option<&Baseline>,
    baseline_device: Option<&Device>,
    row: &Row,
    policy: &RepPolicy,
    peak: Option<&hcal_bench::Peak>,
    note: &dyn Fn(&str),
) -> Result<ResultRecord, String> {
    let skip = |e: hcal::Error| e.to_string();
    let w = &row.workload;
    let backend = device.info().backend.clone();
    let mut prepared = Prepared::new(device, w).map_err(skip)?;
    let signature = prepared.signature();
    if let hcal::Support::Unsupported(reason) = device.backend().supports(signature) {
        return Err(reason);
    }
    // Announce a long row (once its operands exist: a row that cannot even
    // allocate them says so in one line instead).
    if let Some(p) = peak
        && let Some(e) = hcal_bench::estimate(w, p.compute_gflops, policy)
        && e.total_s > ESTIMATE_NOTE_S
    {
        note(&format!(
            "about {} ({} calls at ~{} each, from the measured peak {:.1} GFLOP/s)",
            format_duration(e.total_s),
            e.calls,
            format_duration(e.per_call_s),
            p.compute_gflops
        ));
    }
    let instruments = device.backend().instruments();
    let variant = instruments.and_then(|i| i.kernel_variant(signature));
    let candidate_kernel = kernel_identity(device.info(), &[(variant.as_deref(), &signature.op().to_string())]);
    // The first call alone (it compiles and tunes), then the peak memory of
    // one warm call, before any baseline allocates its operands. A first
    // call that outlasts --max-time is its own memory measurement: the row
    // then takes one more call, its one sample (see `measure_after_first`).
    if let Some(i) = instruments {
        i.reset_memory_peak();
    }
    let first_call_s = hcal_bench::first_call(device, &mut || prepared.call()).map_err(skip)?;
    if first_call_s >= policy.max_time_s {
        note(&format!(
            "the first call took {} (--max-time is {}): no warm-up, one more call for its sample",
            format_duration(first_call_s),
            hcal_bench::format_seconds(policy.max_time_s)
        ));
    } else {
        if let Some(i) = instruments {
            i.reset_memory_peak();
        }
        prepared.call().and_then(|()| device.sync()).map_err(skip)?;
    }
    let peak_bytes = instruments.and_then(|i| i.memory_peak());
    // The copies come after the memory measurement: they are the bench's, not the op's.
    let cold_sets = match row.cold {
        true => Some(prepared.go_cold(hcal_bench::COLD_BYTES).map_err(skip)?),
        false => None,
    };
    let cold_bytes = match cold_sets {
        Some(n) => Some((n * prepared.operand_bytes().map_err(skip)?) as u64),
        None => None,
    };
    let mut baseline_error = None;
    let prepared_baseline = match baseline {
        None => None,
        Some(b) if !b.applies_to(w.op()) => {
            baseline_error = Some(format!("baseline {} does not apply to {}", b.name(), w.op()));
            None
        }
        Some(b) => match PreparedBaseline::new(baseline_device.unwrap_or(device), b, w).and_then(|mut p| {
            if row.cold {
                p.go_cold(hcal_bench::COLD_BYTES)?;
            }
            Ok(p)
        }) {
            Ok(p) => match check_baseline_differs(&candidate_kernel, &p.kernel) {
                Ok(()) => Some((b.name(), p)),
                Err(e) => {
                    baseline_error = Some(format!("refused: {e}"));
                    None
                }
            },
            Err(e) => {
                baseline_error = Some(e.to_string());
                None
            }
        },
    };
    // With a baseline, the two are sampled in turn, so host speed drift
    // reaches both alike and their ratio holds (see `measure_pair`).
    let alone = || hcal_bench::measure_after_first(device, policy, first_call_s, || prepared.call()).map_err(skip);
    let (mut m, baseline_m) = match &prepared_baseline {
        Some((_, p)) => {
            let pair =
                hcal_bench::measure_pair((device, &mut || prepared.call()), (p.device(), &mut || p.call()), policy);
            match pair {
                Ok((m, bm)) => (m, Some(Ok(bm))),
                // The candidate alone still gets a row.
                Err(e) => (alone()?, Some(Err(e))),
            }
        }
        None => (alone()?, None),
    };
    m.first_call_s = first_call_s;
    let mut record = ResultRecord::new(w, &backend, &row.suite, &row.label, row.scale, variant, &m, peak);
    record.peak_device_bytes = peak_bytes;
    record.cold_sets = cold_sets;
    record.cold_bytes = cold_bytes;
    record.baseline_error = baseline_error;
    if let (Some((name, p)), Some(baseline_m)) = (prepared_baseline, baseline_m) {
        match baseline_m {
            Ok(bm) => {
                let median = hcal_bench::Summary::of(&bm.samples_s).map_or(f64::NAN, |s| s.median);
                record.baseline = Some(BaselineRecord {
                    name,
                    kernel: p.kernel.clone(),
                    timing: bm.timing,
                    first_call_s: bm.first_call_s,
                    median_s: median,
                    samples_s: bm.samples_s,
                    speedup: median / record.median_s,
                });
            }
            Err(e) => record.baseline_error = Some(format!("baseline {name} failed: {e}")),
        }
    }
    Ok(record)
}
