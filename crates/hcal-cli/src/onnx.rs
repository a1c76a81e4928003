//! `hcal conformance --onnx [DIR]`: the official ONNX node tests on one backend.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use hcal_onnx::certificate::Certificate;
use hcal_onnx::{OnnxCaseResult, Options};

use crate::{ConformanceArgs, EXIT_FAILURES, EXIT_OK, UsageError};

/// Create `path` for writing (`None` for `-`, meaning stdout), failing fast on a bad path.
fn create(path: Option<&str>, what: &str) -> Result<Option<(String, Option<File>)>, UsageError> {
    match path {
        None => Ok(None),
        Some("-") => Ok(Some(("-".to_string(), None))),
        Some(p) => {
            let file = File::create(p).map_err(|e| UsageError(format!("cannot write {what} to {p}: {e}")))?;
            Ok(Some((p.to_string(), Some(file))))
        }
    }
}

fn write_out(sink: Option<(String, Option<File>)>, text: &str, what: &str) -> Result<(), UsageError> {
    match sink {
        None => Ok(()),
        Some((_, None)) => {
            crate::emit_stdout(&format!("{text}\n"));
            Ok(())
        }
        Some((path, Some(mut file))) => {
            file.write_all(text.as_bytes())
                .and_then(|()| file.write_all(b"\n"))
                .map_err(|e| UsageError(format!("cannot write {what} to {path}: {e}")))?;
            eprintln!("wrote {what} to {path}");
            Ok(())
        }
    }
}

/// The corpus of the onnx package `python3` imports: its data folder, or its
/// generated cases exported once into the cache (with a progress bar).
fn installed_corpus() -> Result<PathBuf, UsageError> {
    let package = hcal_onnx::source::OnnxPackage::find().map_err(|e| UsageError(e.to_string()))?;
    if let Some(dir) = package.shipped_node_dir() {
        return Ok(dir);
    }
    let fresh = package
        .cache_dir()
        .is_some_and(|d| hcal_onnx::source::manifest(&d).is_none_or(|m| m.onnx_version != package.version));
    if fresh {
        eprintln!(
            "onnx {} generates its node cases: exporting them once to {} (about a minute)",
            package.version,
            package.cache_dir().map_or_else(String::new, |d| d.display().to_string())
        );
    }
    let bar = crate::conformance::progress_bar();
    let mut progress = |done: usize, total: usize, name: &str| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(name.to_string());
    };
    let dir = hcal_onnx::source::export(&package, &mut progress).map_err(|e| UsageError(e.to_string()))?;
    bar.finish_and_clear();
    Ok(dir)
}

/// Run the ONNX node tests under `dir` (the installed onnx's when `None`) on `args.backend`.
pub(crate) fn run(args: &ConformanceArgs, dir: Option<&Path>) -> Result<u8, UsageError> {
    if args.json.as_deref() == Some("-") && args.certificate.as_deref() == Some("-") {
        return Err(UsageError("--json - and --certificate - cannot both use stdout".into()));
    }
    let name = match args.backend.as_slice() {
        [] => "cpu",
        [one] => one.as_str(),
        _ => return Err(UsageError("--onnx runs on one backend; give --backend once".to_string())),
    };
    let backend = hcal::open(name)?;
    let json = create(args.json.as_deref(), "JSON report")?;
    let certificate = create(args.certificate.as_deref(), "certificate")?;
    let installed;
    let dir = match dir {
        Some(dir) => dir,
        None => {
            installed = installed_corpus()?;
            &installed
        }
    };
    let options = Options::for_corpus(dir, args.ops.clone());

    let bar = crate::conformance::progress_bar();
    let mut progress = |case: &OnnxCaseResult, done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
        bar.set_message(case.result.name.clone());
    };
    // Ctrl-C stops between cases (a node test case is small: the one in
    // flight finishes), and the report of the cases done is written.
    let report = hcal_onnx::run_until(&*backend, dir, &options, &mut progress, &crate::interrupt::requested)
        .map_err(|e| UsageError(e.to_string()))?;
    bar.finish_and_clear();
    if report.interrupted {
        eprintln!("interrupted: {} cases done", report.cases.len());
    }

    if report.summary.total == 0 {
        eprintln!("warning: no ONNX case matched the --op filter");
    }
    let table = report.table();
    let stdout_taken = args.json.as_deref() == Some("-") || args.certificate.as_deref() == Some("-");
    if stdout_taken {
        eprint!("{table}")
    } else {
        crate::emit_stdout(&table)
    }
    write_out(json, &report.to_json(), "JSON report")?;
    if report.interrupted {
        // A certificate speaks for a whole corpus; a partial run earns none.
        if let Some((path, _)) = certificate {
            eprintln!("no certificate written to {path}: the run was interrupted");
        }
        return Ok(crate::interrupt::EXIT_INTERRUPTED);
    }
    write_out(certificate, &Certificate::issue(&report).to_json(), "certificate")?;
    Ok(if report.all_passed() { EXIT_OK } else { EXIT_FAILURES })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::{Cli, Command};

    #[test]
    fn onnx_flags_parse_and_certificate_needs_onnx() {
        let cli = Cli::try_parse_from([
            "hcal",
            "conformance",
            "--onnx",
            "node",
            "--backend",
            "wgpu",
            "--certificate",
            "cert.json",
            "--op",
            "Gemm",
        ])
        .unwrap();
        let Command::Conformance(args) = cli.command else { panic!("expected conformance") };
        assert_eq!(args.onnx.clone().flatten().as_deref(), Some(std::path::Path::new("node")));
        assert_eq!((args.certificate.as_deref(), args.ops.as_slice()), (Some("cert.json"), &["Gemm".to_string()][..]));
        assert!(Cli::try_parse_from(["hcal", "conformance", "--certificate", "c.json"]).is_err());
        assert!(Cli::try_parse_from(["hcal", "conformance", "--onnx", "node", "--quick"]).is_err());
    }

    #[test]
    fn a_missing_corpus_folder_is_a_usage_error() {
        let cli = Cli::try_parse_from(["hcal", "conformance", "--onnx", "/nonexistent/hcal-onnx-corpus"]).unwrap();
        let Command::Conformance(args) = cli.command else { panic!("expected conformance") };
        let err = super::run(&args, args.onnx.clone().flatten().as_deref()).unwrap_err();
        assert!(err.0.contains("/nonexistent/hcal-onnx-corpus"), "{}", err.0);
    }

    #[test]
    fn onnx_without_a_folder_means_the_installed_package() {
        let cli = Cli::try_parse_from(["hcal", "conformance", "--onnx", "--backend", "cpu"]).unwrap();
        let Command::Conformance(args) = cli.command else { panic!("expected conformance") };
        assert_eq!(args.onnx, Some(None));
        assert_eq!(args.backend, ["cpu"]);
    }
}
