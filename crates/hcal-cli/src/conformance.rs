//! `hcal conformance`: run the suite against one backend.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use hcal::Op;
use hcal_conformance::{CaseResult, Filter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{ConformanceArgs, EXIT_FAILURES, EXIT_OK, UsageError};

/// Where `--json` goes.
enum JsonSink {
    /// `--json -`.
    Stdout,
    /// `--json FILE`, created before the run so a bad path fails fast.
    File(String, File),
}

/// Run `hcal conformance`: the built-in suite on each `--backend` (every
/// available backend when none is named), one table per backend, and an op x
/// backend matrix when there are several.
pub(crate) fn run(args: &ConformanceArgs) -> Result<u8, UsageError> {
    if let Some(dir) = &args.onnx {
        return crate::onnx::run(args, dir.as_deref());
    }
    let ops = canonical_ops(&args.ops)?;
    let names = if args.backend.is_empty() { hcal::available_backends() } else { args.backend.clone() };
    // Open each backend before the run, so an unknown name fails fast; the
    // isolated ones are opened again in their worker.
    for name in &names {
        drop(hcal::open(name)?);
    }
    let sink = match args.json.as_deref() {
        None => None,
        Some("-") => Some(JsonSink::Stdout),
        Some(path) => {
            let file =
                File::create(path).map_err(|e| UsageError(format!("cannot write JSON report to {path}: {e}")))?;
            Some(JsonSink::File(path.to_string(), file))
        }
    };
    if args.backend.is_empty() && names.len() == 1 {
        eprintln!(
            "note: only the cpu reference is available here, so this checks the reference against itself; \
             name a backend with --backend (plugin:PATH for a C plugin) or install a GPU driver"
        );
    }

    let filter = Filter { ops, quick: args.quick };
    let timeout = Duration::from_secs_f64(args.case_timeout);
    let mut reports = Vec::with_capacity(names.len());
    for name in &names {
        let bar = progress_bar();
        let mut progress = |case: &CaseResult, done: usize, total: usize| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(format!("{name}: {}", case.name));
        };
        let report = if isolated(args, name) {
            crate::isolate::run(name, &filter, timeout, &mut progress)?
        } else {
            run_in_process(name, &filter, &mut progress)?
        };
        bar.finish_and_clear();
        let interrupted = report.interrupted;
        reports.push(report);
        if interrupted {
            break;
        }
    }
    let interrupted = reports.iter().any(|r| r.interrupted);
    if interrupted {
        let done: usize = reports.iter().map(|r| r.cases.len()).sum();
        eprintln!("interrupted: {done} cases done; the reports hold them, marked \"interrupted\": true");
    }

    if reports.iter().all(|r| r.summary.total == 0) {
        eprintln!("warning: no conformance case matched the filter");
    }
    let mut text: String = reports.iter().map(|r| r.table()).collect::<Vec<_>>().join("\n");
    if reports.len() > 1 {
        text += "\n";
        text += &hcal_conformance::report::matrix(&reports);
    }
    match &sink {
        // Keep stdout pure JSON when it carries the report.
        Some(JsonSink::Stdout) => eprint!("{text}"),
        _ => crate::emit_stdout(&text),
    }
    // One backend: its report, as before; several: {"reports": [...]}.
    let json = match reports.as_slice() {
        [one] => one.to_json(),
        all => serde_json::to_string_pretty(&serde_json::json!({ "reports": all }))
            .map_err(|e| UsageError(format!("cannot encode the reports: {e}")))?,
    };
    match sink {
        None => {}
        Some(JsonSink::Stdout) => crate::emit_stdout(&(json + "\n")),
        Some(JsonSink::File(path, mut file)) => {
            file.write_all(json.as_bytes())
                .and_then(|()| file.write_all(b"\n"))
                .map_err(|e| UsageError(format!("cannot write JSON report to {path}: {e}")))?;
            eprintln!("wrote JSON report to {path}");
        }
    }
    if interrupted {
        return Ok(crate::interrupt::EXIT_INTERRUPTED);
    }
    Ok(if reports.iter().all(|r| r.all_passed()) { EXIT_OK } else { EXIT_FAILURES })
}

/// The cases `filter` selects on backend `name`, in this process. They run
/// on a thread of their own, so Ctrl-C stops the run between cases, or
/// within [`crate::interrupt::GRACE`] of a long case (which is abandoned):
/// the report then holds the cases done and says `interrupted`.
fn run_in_process(
    name: &str,
    filter: &Filter,
    progress: &mut dyn FnMut(&CaseResult, usize, usize),
) -> Result<hcal_conformance::Report, UsageError> {
    let started = Instant::now();
    let backend: Arc<dyn hcal::Backend> = Arc::from(hcal::open(name)?);
    let device = backend.info().clone();
    let cases = hcal_conformance::cases(filter);
    let total = cases.len();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for case in &cases {
            if crate::interrupt::requested() {
                break;
            }
            if tx.send(hcal_conformance::run_case(&*backend, case)).is_err() {
                break;
            }
        }
        // The backend goes before the sender, so the receiver's disconnect
        // means the device is closed. The other way round (the closure's
        // captures drop in the order the body names them: `tx` first), the
        // main thread printed the report and exited while this thread was
        // still closing a GL device: Mesa's EGL was already torn down, and
        // about one run in three on llvmpipe aborted with `BadDisplay` or a
        // corrupted heap after its report.
        drop(backend);
        drop(tx);
    });
    let mut results: Vec<CaseResult> = Vec::with_capacity(total);
    let mut deadline: Option<Instant> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(result) => {
                results.push(result);
                progress(results.last().expect("just pushed"), results.len(), total);
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if crate::interrupt::requested()
            && Instant::now() >= *deadline.get_or_insert_with(|| Instant::now() + crate::interrupt::GRACE)
        {
            break;
        }
    }
    Ok(hcal_conformance::Report {
        summary: hcal_conformance::Summary::of(&results),
        device,
        hcal_version: env!("CARGO_PKG_VERSION").to_string(),
        filter: filter.clone(),
        elapsed_s: started.elapsed().as_secs_f64(),
        interrupted: results.len() < total,
        cases: results,
    })
}

/// Whether `name` runs in child processes: `--isolate` / `--no-isolate`,
/// else by default every backend but hcal's own (plugins and registered
/// backends run vendor code, which may crash or hang).
fn isolated(args: &ConformanceArgs, name: &str) -> bool {
    if args.isolate {
        return true;
    }
    if args.no_isolate {
        return false;
    }
    !(name == "cpu" || name == "wgpu" || name.starts_with("wgpu:"))
}

/// The standard's spelling of each `--op` (matched case-insensitively against
/// the ONNX names of `Op::all_names`), so `--op matmul` means `MatMul`.
fn canonical_ops(requested: &[String]) -> Result<Vec<String>, UsageError> {
    let known = Op::all_names();
    requested
        .iter()
        .map(|want| {
            known
                .iter()
                .find(|name| name.eq_ignore_ascii_case(want.trim()))
                .map(|name| name.to_string())
                .ok_or_else(|| UsageError(format!("unknown op {want:?}; known ops: {}", known.join(", "))))
        })
        .collect()
}

/// A bar on stderr when it is a terminal; hidden otherwise (CI logs, pipes).
pub(crate) fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {wide_msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_names_are_matched_case_insensitively() {
        let ops = canonical_ops(&["matmul".into(), "RMSNormalization".into(), "reducesum".into()]).unwrap();
        assert_eq!(ops, ["MatMul", "RMSNormalization", "ReduceSum"]);
    }

    #[test]
    fn unknown_op_lists_the_known_ones() {
        let err = canonical_ops(&["Conv".into()]).unwrap_err();
        assert!(err.0.starts_with("unknown op \"Conv\"; known ops: MatMul, Gemm"), "{}", err.0);
    }
}
