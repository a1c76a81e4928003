//! `hcal bench`: ops x shapes x backends x dtypes, timed on the device, with
//! % of a measured peak, JSON/CSV output and `--compare` against a base run.

use std::io::IsTerminal;

use clap::Args;
use hcal::{DType, Device};
use hcal_bench::{Baseline, BenchRun, CompareOptions, DeviceRecord, OpKind, RepPolicy, Skipped, Suite, TimingMode};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{EXIT_FAILURES, EXIT_OK, UsageError};

// The rows and measuring one.
mod rows;

use rows::{Row, RowJob, rows};

/// Arguments of `hcal bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Backend to measure (see `hcal devices`); repeat for several, `all` for
    /// every available one.
    #[arg(long = "backend", value_name = "NAME", default_value = "cpu")]
    backends: Vec<String>,
    /// Only this op (matmul or attention); repeat for both. With --shape it
    /// says how to read the SPEC (default: 3 dims matmul, 4 or 5 attention).
    #[arg(long = "op", value_name = "OP")]
    ops: Vec<String>,
    /// A shape to measure: MxNxK for matmul, BxHxSxD or BxHxSqxSkvxD for
    /// attention. Repeatable; replaces the suites.
    #[arg(long = "shape", value_name = "SPEC")]
    shapes: Vec<String>,
    /// A shape suite: square, llama3-8b, qwen2.5-7b or smollm2-135m (repeatable; default
    /// square when no --shape is given, square and llama3-8b with --quick).
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// Storage dtype: f32 or f16, or a block-quantized q4_0, q4_1 or q8_0
    /// (matmul rows only: the weight B stored quantized, as a GGUF layer's;
    /// a suite's attention rows are left out). Repeatable.
    #[arg(long = "dtype", value_name = "DTYPE", default_value = "f32")]
    dtypes: Vec<String>,
    /// Attention --shape rows: causal mask (FLOPs count only visible pairs).
    /// ONNX's causal mask without a past cache: query i sees keys 0..=i, so
    /// a decode shape (one query over many keys, 1xHx1xSkvxD) sees one key
    /// with it; measure decode without it.
    #[arg(long)]
    causal: bool,
    /// Attention --shape rows: key/value heads (grouped-query attention).
    #[arg(long, value_name = "N")]
    kv_heads: Option<usize>,
    /// Suite size: 1 is the real model/size, smaller shrinks widths and
    /// sequence lengths; `auto` picks 1 on GPUs and 0.125 on CPUs and software
    /// GPUs such as lavapipe (1 everywhere for smollm2-135m, already small).
    #[arg(long, value_name = "F|auto", default_value = "auto")]
    scale: String,
    /// A one-minute overview: fewer sizes and repetitions (every other square
    /// size; of a model, the attentions and the gate/up matmul).
    #[arg(long)]
    quick: bool,
    /// Also time a baseline, sampled in turn with the candidate, and print the
    /// speedup: a backend name (the same op there), `composed` (attention as
    /// Transpose/MatMul/Softmax/MatMul on the same backend), `gemm` (matmul
    /// as ONNX Gemm) or `copy` (the device's copy probe moving the row's
    /// bytes in one launch: the speedup is the share of a same-size copy's
    /// speed the row reaches, launch cost included on both sides). It must
    /// run a different kernel than the candidate.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// Cold operands: each call of a row takes the next of several copies of
    /// its operands, together at least 512 MiB (more than a CPU's or GPU's
    /// last-level cache; at most 16384 sets, and the output names a row the
    /// cap kept under that), so no call finds its operands in a cache an
    /// earlier call filled, as a model's decode step reads each layer's
    /// weights once per token. Rows are keyed `-cold` (--compare keeps them
    /// apart); not with the `composed` baseline.
    #[arg(long)]
    cold: bool,
    /// Skip the peak microbenchmarks (no "% of peak").
    #[arg(long)]
    no_peak: bool,
    /// Samples per row at most.
    #[arg(long, value_name = "N")]
    max_reps: Option<usize>,
    /// Seconds of warm-up and of sampling per row, each at most (default 2,
    /// 0.4 with --quick). The first call of a row cannot be cut short; when it
    /// alone takes longer, the row makes one more call, its only sample.
    #[arg(long, value_name = "S")]
    max_time: Option<f64>,
    /// Write the run as JSON to FILE ("-" for stdout, then the table goes to stderr).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Write one CSV line per result to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<String>,
    /// Compare with an earlier run's JSON; exit 1 when a row got slower
    /// beyond the noise band.
    #[arg(long, value_name = "BASE.json")]
    compare: Option<String>,
    /// Smallest relative change --compare reports (noise band floor).
    #[arg(long, value_name = "F", default_value_t = 0.05)]
    threshold: f64,
}

/// Rows whose estimated time ([`hcal_bench::estimate`]) exceeds this many
/// seconds are announced on stderr before they run.
const ESTIMATE_NOTE_S: f64 = 3.0;

/// Run `hcal bench`.
pub(crate) fn run(args: &BenchArgs) -> Result<u8, UsageError> {
    let ops: Vec<OpKind> = args.ops.iter().map(|o| o.parse()).collect::<Result<_, _>>()?;
    let dtypes: Vec<DType> = args.dtypes.iter().map(|d| hcal_bench::parse_dtype(d)).collect::<Result<_, _>>()?;
    let suites: Vec<Suite> = args.suites.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    if !args.shapes.is_empty() && !suites.is_empty() {
        return Err(UsageError("--shape and --suite are exclusive".into()));
    }
    if args.shapes.is_empty() && (args.causal || args.kv_heads.is_some()) {
        return Err(UsageError("--causal and --kv-heads apply to --shape rows (suites set their own)".into()));
    }
    let scale = match args.scale.trim() {
        "auto" => None,
        s => match s.parse::<f64>() {
            Ok(v) if v > 0.0 && v <= 1.0 => Some(v),
            _ => return Err(UsageError(format!("--scale {s:?}: expected a number in (0, 1] or auto"))),
        },
    };
    let baseline: Option<Baseline> = args.baseline.as_deref().map(str::parse).transpose()?;
    if args.cold && baseline == Some(Baseline::Composed) {
        return Err(UsageError(
            "--cold rotates the operands of one op, and the composed baseline is several (its intermediates would stay warm)"
                .into(),
        ));
    }
    let base_run = match &args.compare {
        Some(path) => Some(load_run(path)?),
        None => None,
    };
    let mut policy = if args.quick { RepPolicy::quick() } else { RepPolicy::default() };
    if let Some(n) = args.max_reps {
        policy.max_reps = n.max(1);
        policy.min_reps = policy.min_reps.min(policy.max_reps);
    }
    if let Some(s) = args.max_time {
        policy.max_time_s = s;
    }
    // Output files are created first, so a bad path fails before the run.
    let json_file = open_output(args.json.as_deref().filter(|p| *p != "-"))?;
    let csv_file = open_output(args.csv.as_deref())?;

    let names: Vec<String> =
        if args.backends.iter().any(|b| b == "all") { hcal::available_backends() } else { args.backends.clone() };
    let mut devices = Vec::new();
    for name in &names {
        devices.push(Device::open(name)?);
    }
    let baseline_device = match &baseline {
        Some(Baseline::Backend(name)) => Some(Device::open(name)?),
        _ => None,
    };

    let mut plan: Vec<(Device, Vec<Row>)> = Vec::new();
    for device in devices {
        let scale_of = |suite: &Suite| scale.unwrap_or_else(|| suite.default_scale(device.info().device_type));
        let rows = rows(args, &ops, &dtypes, &suites, scale_of)?;
        plan.push((device, rows));
    }
    let total: usize = plan.iter().map(|(_, rows)| rows.len()).sum();
    if total == 0 {
        return Err(UsageError("no benchmark row matches the filters".into()));
    }

    let mut run = BenchRun::new(std::env::args().collect(), policy);
    let bar = progress_bar(total + plan.len());
    // What was in flight when Ctrl-C abandoned it.
    let mut abandoned: Option<String> = None;
    'devices: for (device, rows) in &plan {
        let backend = device.info().backend.clone();
        bar.set_message(format!("{backend}: measuring peak"));
        let peak = if args.no_peak || crate::interrupt::requested() {
            None
        } else {
            let d = device.clone();
            match crate::interrupt::finish_unless_interrupted(move || hcal_bench::peak::measure(&d)) {
                Some(peak) => Some(peak?),
                None => {
                    abandoned = Some(format!("the peak measurement of {backend}"));
                    break 'devices;
                }
            }
        };
        bar.inc(1);
        let timer = match device.backend().instruments() {
            Some(i) => i.begin_timing()? && i.end_timing()?.is_some(),
            None => false,
        };
        let timing = if timer { TimingMode::Device } else { TimingMode::Wall };
        run.devices.push(DeviceRecord { backend: backend.clone(), info: device.info().clone(), timing, peak });
        let mut peak = run.devices.last().and_then(|d| d.peak.clone());
        let first_result = run.results.len();
        for row in rows {
            if crate::interrupt::requested() {
                break 'devices;
            }
            let label = format!("{backend} {}", row.workload.key());
            bar.set_message(format!("{backend} {} {}", row.label, row.workload.key()));
            let job = RowJob {
                device: device.clone(),
                baseline: baseline.clone(),
                baseline_device: baseline_device.clone(),
                row: row.clone(),
                policy,
                peak: peak.clone(),
                bar: bar.clone(),
                label: label.clone(),
            };
            let Some(outcome) = crate::interrupt::finish_unless_interrupted(move || job.measure()) else {
                abandoned = Some(format!("row {label}"));
                break 'devices;
            };
            match outcome {
                Ok(record) => {
                    if let Some(reason) = record.baseline_error.as_ref().filter(|r| !r.contains("does not apply")) {
                        bar.suspend(|| eprintln!("note: no baseline for {label}: {reason}"));
                    }
                    run.results.push(record);
                }
                Err(reason) => {
                    // A run of one row reports its reason once, as the error below.
                    if total > 1 {
                        bar.suspend(|| eprintln!("skipped {label}: {reason}"));
                    }
                    run.skipped.push(Skipped { backend: backend.clone(), key: row.workload.key(), reason });
                }
            }
            // Probe again after each row: the best of all probes is the
            // ceiling every row of this device is divided by (below).
            if let Some(p) = peak.as_mut() {
                hcal_bench::peak::reprobe(device, p)?;
            }
            bar.inc(1);
        }
        if let Some(p) = peak {
            run.results[first_result..].iter_mut().filter(|r| r.backend == backend).for_each(|r| r.set_peak(&p));
            if let Some(d) = run.devices.last_mut() {
                d.peak = Some(p);
            }
        }
    }
    bar.finish_and_clear();
    let done = run.results.len() + run.skipped.len();
    // Ctrl-C after the last row finished leaves a complete run.
    run.interrupted = crate::interrupt::requested() && done < total;
    if run.interrupted {
        let what = abandoned.map(|a| format!("; {a} was abandoned")).unwrap_or_default();
        eprintln!("interrupted: {done} of {total} rows done{what}");
    } else if run.results.is_empty() {
        // Nothing was measured: every row was unsupported or too large.
        return Err(match run.skipped.as_slice() {
            [one] => UsageError(format!("{} {}: {}", one.backend, one.key, one.reason)),
            all => UsageError(format!("no row ran: all {} were skipped (reasons above)", all.len())),
        });
    }

    let to_stdout = args.json.as_deref() == Some("-");
    let mut text = hcal_bench::results_table(&run);
    if run.build_profile == "debug" {
        text += "note: a debug build of hcal; build with --release for representative numbers\n";
    }
    let mut code = EXIT_OK;
    if let Some(base) = &base_run {
        let options = CompareOptions { min_band: args.threshold, ..CompareOptions::default() };
        let rows = hcal_bench::compare(&base.results, &run.results, &options);
        text += &format!("\ncompared with {} (git {}):\n", args.compare.as_deref().unwrap_or(""), base.git_revision);
        text += &hcal_bench::comparison_table(&rows);
        if hcal_bench::has_regression(&rows) {
            code = EXIT_FAILURES;
        }
    }
    if to_stdout {
        eprint!("{text}");
        crate::emit_stdout(&(run.to_json() + "\n"));
    } else {
        crate::emit_stdout(&text);
    }
    if let Some((path, file)) = json_file {
        write_output(&path, file, &(run.to_json() + "\n"))?;
        eprintln!("wrote JSON to {path}");
    }
    if let Some((path, file)) = csv_file {
        write_output(&path, file, &run.to_csv())?;
        eprintln!("wrote CSV to {path}");
    }
    if run.interrupted {
        return Ok(crate::interrupt::EXIT_INTERRUPTED);
    }
    if let Some(b) = &baseline
        && !run.results.is_empty()
        && run.results.iter().all(|r| r.baseline.is_none())
    {
        let why = run.results.iter().find_map(|r| r.baseline_error.clone()).unwrap_or_default();
        return Err(UsageError(format!("--baseline {} ran for no row ({why})", b.name())));
    }
    Ok(code)
}

/// Seconds for a person: `hcal_bench::format_seconds` below a minute, then
/// minutes, hours or days.
fn format_duration(s: f64) -> String {
    match s {
        // NaN and infinities too: format_seconds writes them as "-".
        s if !s.is_finite() || s < 60.0 => hcal_bench::format_seconds(s),
        s if s < 3600.0 => format!("{:.1} min", s / 60.0),
        s if s < 2.0 * 86400.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.0} days", s / 86400.0),
    }
}

/// A bench JSON document from `path`.
pub(crate) fn load_run(path: &str) -> Result<BenchRun, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {path}: {e}")))?;
    BenchRun::from_json(&text).map_err(|e| UsageError(format!("{path}: {e}")))
}

fn open_output(path: Option<&str>) -> Result<Option<(String, std::fs::File)>, UsageError> {
    path.map(|p| {
        std::fs::File::create(p).map(|f| (p.to_string(), f)).map_err(|e| UsageError(format!("cannot write {p}: {e}")))
    })
    .transpose()
}

fn write_output(path: &str, mut file: std::fs::File, text: &str) -> Result<(), UsageError> {
    use std::io::Write;
    file.write_all(text.as_bytes()).map_err(|e| UsageError(format!("cannot write {path}: {e}")))
}

/// A bar on stderr when it is a terminal; hidden otherwise (CI logs, pipes).
fn progress_bar(len: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    // Redrawn on a timer, so the clock runs during a row that takes minutes.
    bar.enable_steady_tick(std::time::Duration::from_millis(500));
    bar
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn args(extra: &[&str]) -> BenchArgs {
        Cli::try_parse_from(std::iter::once("bench").chain(extra.iter().copied())).unwrap().args
    }

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(format_duration(1.5), "1.500 s");
        assert_eq!(format_duration(90.0), "1.5 min");
        assert_eq!(format_duration(5400.0), "1.5 h");
        assert_eq!(format_duration(1e9), "11574 days");
    }

    #[test]
    fn shapes_infer_their_op_from_the_number_of_dims() {
        let a = args(&["--shape", "64x64x64", "--shape", "1x8x128x64"]);
        let rows = rows(&a, &[], &[DType::F32], &[], |_| 1.0).unwrap();
        assert_eq!(rows[0].workload.op(), OpKind::Matmul);
        assert_eq!(rows[1].workload.op(), OpKind::Attention);
        assert_eq!(rows[1].suite, "cli");
    }

    #[test]
    fn dtypes_multiply_rows_and_attention_options_reach_the_workload() {
        let a = args(&["--shape", "1x8x16x16x64", "--causal", "--kv-heads", "2", "--dtype", "f32", "--dtype", "f16"]);
        let rows = rows(&a, &[OpKind::Attention], &[DType::F32, DType::F16], &[], |_| 1.0).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.workload.causal && r.workload.kv_heads == Some(2)));
        assert_eq!(rows[1].workload.dtype, DType::F16);
    }

    #[test]
    fn causal_on_a_matmul_shape_is_a_usage_error() {
        let a = args(&["--shape", "8x8x8", "--causal"]);
        assert!(rows(&a, &[], &[DType::F32], &[], |_| 1.0).is_err());
    }

    #[test]
    fn suites_are_filtered_by_op() {
        let a = args(&["--suite", "llama3-8b", "--op", "attention"]);
        let rows =
            rows(&a, &[OpKind::Attention], &[DType::F32], &[Suite::Model(hcal_bench::LLAMA3_8B)], |_| 0.125).unwrap();
        assert_eq!(rows.len(), 2); // prefill and decode
        assert!(rows.iter().all(|r| r.workload.kv_heads == Some(1)));
    }
}
