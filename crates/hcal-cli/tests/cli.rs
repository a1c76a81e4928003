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
    let out = hcal(&["conformance", "--backend", "cpu", "--op", "Relu", "--quick", "--json", "-"]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is only the JSON report");
    assert_eq!(report["filter"]["ops"][0], "Relu");
    assert!(text(&out.stderr).contains("Relu"), "the table goes to stderr");
}

#[test]
fn without_a_backend_every_available_one_runs_into_one_matrix() {
    let out = hcal(&["conformance", "--op", "Relu", "--quick", "--json", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is only JSON");
    let stderr = text(&out.stderr);
    match json["reports"].as_array() {
        // Several backends (a GPU driver is installed): one report each and the matrix.
        Some(reports) => {
            let names: Vec<&str> = reports.iter().filter_map(|r| r["device"]["backend"].as_str()).collect();
            assert_eq!(names[0], "cpu");
            assert!(names.len() > 1);
            assert!(
                stderr.contains("op (pass/fail/skip)") && stderr.lines().any(|l| l.starts_with("Relu")),
                "{stderr}"
            );
        }
        // The cpu reference alone, and the note that says so.
        None => {
            assert_eq!(json["device"]["backend"], "cpu");
            assert!(stderr.contains("only the cpu reference is available"), "{stderr}");
        }
    }
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

/// Every way a user can get the input wrong ends with exit code 2 and one
/// `error: ` line on stderr naming what is wrong, and nothing on stdout:
/// missing files, unreadable ones (a folder, a file that is not JSON, a file
/// where a folder is expected), unknown ops and backends, bad flags.
#[test]
fn every_input_error_is_one_clear_line_with_exit_two() {
    let dir = std::env::temp_dir().join(format!("hcal-cli-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "not json\n").unwrap();
    let (dir_s, not_json_s) = (dir.to_str().unwrap(), not_json.to_str().unwrap());
    let missing = dir.join("missing.json");
    let missing_s = missing.to_str().unwrap();
    let cases: [(&[&str], &str); 14] = [
        // Missing files.
        (&["conformance", "--onnx", missing_s], "cannot read"),
        (&["report", missing_s], "cannot read"),
        (&["bench", "--backend", "cpu", "--compare", missing_s], "cannot read"),
        // Unreadable input.
        (&["report", dir_s], "cannot read"),
        (&["report", not_json_s], "not JSON"),
        (&["conformance", "--onnx", not_json_s], "cannot read"),
        // Unknown op or backend.
        (&["conformance", "--op", "Conv"], "unknown op \"Conv\""),
        (&["bench", "--op", "Conv"], "unknown op \"Conv\""),
        (&["conformance", "--backend", "wgpu:vulkan:99"], "unknown backend \"wgpu:vulkan:99\"; available: cpu"),
        (&["bench", "--backend", "nope"], "unknown backend \"nope\""),
        // Bad flags.
        (&["conformance", "--backend"], "a value is required for '--backend"),
        (&["conformance", "--quick=3"], "unexpected value '3'"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["devices", "--json", "extra"], "unexpected argument 'extra'"),
    ];
    for (args, needle) in cases {
        let out = hcal(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{args:?}: {stderr:?} lacks {needle:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A malformed ONNX model is not a usage error: its case fails (exit 1)
/// with the file named, and the run goes on.
#[test]
fn a_malformed_onnx_model_fails_its_case_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("hcal-cli-bad-onnx-{}", std::process::id()));
    let case = dir.join("test_garbage");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("model.onnx"), b"\x07garbage").unwrap();
    let out = hcal(&["conformance", "--onnx", dir.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("malformed ONNX file") && stdout.contains("model.onnx"), "{stdout}");
}

/// `--onnx` without a folder asks the Python that `HCAL_PYTHON` names; with
/// none there, a usage error (exit 2) that says how to install onnx.
#[test]
fn onnx_without_python_says_how_to_install_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_hcal"))
        .args(["conformance", "--onnx", "--backend", "cpu"])
        .env("HCAL_PYTHON", "/nonexistent/hcal-python3")
        .output()
        .expect("run hcal");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/hcal-python3") && stderr.contains("python3 -m pip install onnx"), "{stderr}");
}
