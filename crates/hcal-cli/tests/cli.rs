//! End-to-end checks of the `hcal` binary: output, files and exit codes.

use std::process::{Command, Output};

fn hcal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcal")).args(args).output().expect("run hcal")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_documents_the_exit_codes() {
    for args in [&["--help"][..], &["conformance", "--help"], &["devices", "--help"]] {
        let out = hcal(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let stdout = text(&out.stdout);
        assert!(stdout.contains("Exit codes:") && stdout.contains("2  usage or input error"), "{stdout}");
    }
}

#[test]
fn devices_lists_cpu_as_text_and_json() {
    let out = hcal(&["devices"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("cpu: "));

    let out = hcal(&["devices", "--ops", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("devices --json is JSON");
    assert_eq!(json[0]["backend"], "cpu");
    assert_eq!(json[0]["info"]["device_type"], "cpu");
    let ops = json[0]["ops"].as_array().expect("ops array");
    assert!(ops.iter().any(|o| o["op"] == "MatMul" && o["dtype"] == "f16" && o["supported"] == true));
}

#[test]
fn conformance_writes_the_report_and_exits_zero() {
    let path = std::env::temp_dir().join(format!("hcal-cli-test-{}.json", std::process::id()));
    let path_str = path.to_str().expect("utf-8 temp path");
    let out = hcal(&["conformance", "--backend", "cpu", "--op", "softmax", "--quick", "--json", path_str]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Softmax"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report written")).expect("report is JSON");
    let _ = std::fs::remove_file(&path);
    let summary = &report["summary"];
    assert!(summary["total"].as_u64().unwrap() > 0);
    assert_eq!(summary["failed"], 0);
    assert_eq!(
        summary["total"].as_u64(),
        summary["passed"].as_u64().zip(summary["skipped"].as_u64()).map(|(p, s)| p + s)
    );
}

#[test]
fn json_to_stdout_keeps_stdout_pure_json() {
    let out = hcal(&["conformance", "--op", "Relu", "--quick", "--json", "-"]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is only the JSON report");
    assert_eq!(report["filter"]["ops"][0], "Relu");
    assert!(text(&out.stderr).contains("Relu"), "the table goes to stderr");
}

#[test]
fn input_errors_are_one_line_and_exit_two() {
    let unwritable = std::env::temp_dir().join("hcal-no-such-dir").join("r.json");
    let cases: [&[&str]; 4] = [
        &["conformance", "--backend", "tpu"],
        &["conformance", "--op", "Conv"],
        &["conformance", "--op", "Relu", "--json", unwritable.to_str().unwrap()],
        &["devices", "--bogus"],
    ];
    for args in cases {
        let out = hcal(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(text(&hcal(&["conformance", "--backend", "tpu"]).stderr).contains("available: cpu"));
}
