//! `hcal report`: render hcal JSON documents. Dispatches on each document's
//! top-level `"kind"`: `"bench"` (from `hcal bench --json`) is merged into one
//! page or table; other kinds have their own arm below.

use std::path::Path;

use clap::Args;
use hcal_bench::BenchRun;
use hcal_bench::html::NamedRun;
use hcal_onnx::certificate::Certificate;

use crate::{EXIT_OK, UsageError};

/// Arguments of `hcal report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// hcal JSON documents (`hcal bench --json` runs from any backends and
    /// machines).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<String>,
    /// Write one self-contained HTML page (inline SVG charts: throughput vs
    /// size per backend, a roofline) to FILE. Without it the runs are printed
    /// as tables.
    #[arg(long, value_name = "FILE")]
    html: Option<String>,
}

/// A parsed document, by kind.
enum Document {
    /// `"kind": "bench"`.
    Bench(BenchRun),
    /// `"kind": "certificate"` (from `hcal conformance --onnx DIR --certificate FILE`).
    Certificate(Certificate),
}

/// Read `path` and dispatch on its `"kind"`.
fn load(path: &str) -> Result<Document, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {path}: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| UsageError(format!("{path}: not JSON: {e}")))?;
    match value.get("kind").and_then(|k| k.as_str()) {
        Some(hcal_bench::KIND) => {
            BenchRun::from_json(&text).map(Document::Bench).map_err(|e| UsageError(format!("{path}: {e}")))
        }
        // ---- "certificate": conformance certificates (issue 7, ONNX node tests).
        Some(hcal_onnx::certificate::CERTIFICATE_KIND) => {
            Certificate::from_json(&text).map(Document::Certificate).map_err(|e| UsageError(format!("{path}: {e}")))
        }
        Some(other) => {
            Err(UsageError(format!("{path}: unknown document kind {other:?} (expected \"bench\" or \"certificate\")")))
        }
        None => Err(UsageError(format!("{path}: no top-level \"kind\" field; not an hcal document"))),
    }
}

/// Run `hcal report`.
pub(crate) fn run(args: &ReportArgs) -> Result<u8, UsageError> {
    let mut runs = Vec::new();
    let mut certificates = Vec::new();
    for path in &args.files {
        match load(path)? {
            Document::Bench(run) => {
                let source = Path::new(path).file_name().map_or(path.clone(), |n| n.to_string_lossy().into_owned());
                runs.push(NamedRun { source, run });
            }
            Document::Certificate(cert) => certificates.push(cert),
        }
    }
    if !certificates.is_empty() {
        return render_certificates(&certificates, !runs.is_empty(), args.html.as_deref());
    }
    match &args.html {
        Some(out) => {
            let page = hcal_bench::html::render(&runs).map_err(|e| UsageError(format!("cannot draw charts: {e}")))?;
            std::fs::write(out, page).map_err(|e| UsageError(format!("cannot write {out}: {e}")))?;
            let results: usize = runs.iter().map(|r| r.run.results.len()).sum();
            eprintln!("wrote {out}: {} runs, {results} results", runs.len());
        }
        None => {
            for named in &runs {
                crate::emit_stdout(&format!("== {} (git {})\n", named.source, named.run.git_revision));
                crate::emit_stdout(&hcal_bench::results_table(&named.run));
            }
        }
    }
    Ok(EXIT_OK)
}

/// Certificates print as text, or one certificate as a self-contained HTML page.
fn render_certificates(certificates: &[Certificate], with_runs: bool, html: Option<&str>) -> Result<u8, UsageError> {
    if with_runs {
        return Err(UsageError("render certificates and bench runs in separate `hcal report` calls".into()));
    }
    match html {
        Some(out) => {
            let [cert] = certificates else {
                return Err(UsageError(format!("--html takes one certificate, got {}", certificates.len())));
            };
            std::fs::write(out, hcal_onnx::certificate::render_html(cert))
                .map_err(|e| UsageError(format!("cannot write {out}: {e}")))?;
            eprintln!("wrote {out}: certificate of {} ({} cases)", cert.backend, cert.summary.total);
        }
        None => {
            for cert in certificates {
                crate::emit_stdout(&hcal_onnx::certificate::render_text(cert));
            }
        }
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &str) -> String {
        let path = std::env::temp_dir().join(format!("hcal-report-test-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn certificates_render_as_text_and_html() {
        let err = load(&temp("cert-bad.json", r#"{"kind": "certificate"}"#)).err().unwrap();
        assert!(err.0.contains("cert-bad.json: missing field"), "{}", err.0);
        let report = hcal_onnx::OnnxReport {
            kind: hcal_onnx::report::REPORT_KIND.into(),
            summary: hcal_conformance::Summary::default(),
            device: hcal::DeviceInfo::new("cpu", "reference", hcal::DeviceType::Cpu, "reference"),
            hcal_version: "0.1.0".into(),
            corpus: hcal_onnx::report::Corpus {
                dir: "node".into(),
                onnx_version: None,
                opset: None,
                expected_failures_of: None,
                ops: vec![],
            },
            elapsed_s: 0.0,
            cases: vec![],
            interrupted: false,
        };
        let path = temp("cert.json", &Certificate::issue(&report).to_json());
        let Document::Certificate(cert) = load(&path).unwrap() else { panic!("expected a certificate") };
        assert!(hcal_onnx::certificate::render_text(&cert).contains("backend:     cpu"));
        let out = temp("cert.html", "");
        render_certificates(&[cert], false, Some(&out)).unwrap();
        assert!(std::fs::read_to_string(&out).unwrap().starts_with("<!DOCTYPE html>"));
    }

    #[test]
    fn documents_without_a_known_kind_are_usage_errors() {
        let err = load(&temp("nokind.json", r#"{"results": []}"#)).err().unwrap();
        assert!(err.0.contains("no top-level \"kind\""), "{}", err.0);
        let err = load(&temp("other.json", r#"{"kind": "pizza"}"#)).err().unwrap();
        assert!(err.0.contains("unknown document kind \"pizza\""), "{}", err.0);
    }

    #[test]
    fn an_empty_bench_run_renders() {
        let run = BenchRun::new(vec!["hcal".into()], hcal_bench::RepPolicy::default());
        let path = temp("bench.json", &run.to_json());
        let Document::Bench(back) = load(&path).unwrap() else { panic!("expected a bench run") };
        assert_eq!(back, run);
        let page = hcal_bench::html::render(&[NamedRun { source: "bench.json".into(), run: back }]).unwrap();
        assert!(page.starts_with("<!doctype html>") && page.contains("hcal bench report"));
    }
}
