//! `hcal` on C plugins: a deliberately broken plugin's wrong answer, NaN,
//! crash, abort and hang each become failed cases with their cause while the
//! run completes (crash isolation), and a plugin built for another ABI major
//! version is refused with one clear error line.
//!
//! Every run has a hard deadline ([`DEADLINE`]): the hang is shown not to
//! hang the run by a timeout, not by the test happening to finish.
//!
//! The plugins are hcal-plugin's C test plugins, compiled here with the
//! system C compiler (`cc`); without one the tests say so and skip, unless
//! `CI` is set.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Hard deadline of one `hcal` run here. The broken plugin hangs on purpose:
/// the run must survive it through its own case timeout, and a run that
/// hangs anyway fails the test at this deadline instead of holding it.
const DEADLINE: Duration = Duration::from_secs(240);

fn hcal(args: &[&str]) -> Output {
    output_within(Command::new(env!("CARGO_BIN_EXE_hcal")).args(args), DEADLINE)
}

/// Run `command` to its end, or kill it and fail the test after `deadline`.
fn output_within(command: &mut Command, deadline: Duration) -> Output {
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start hcal");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for hcal") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hcal {:?} did not finish within {deadline:?} (hung); killed", command.get_args());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The pipes close with the process (a worker it left behind would hold
    // them: the worker's own timeout kills it first).
    Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compile `crates/hcal-plugin/tests/plugins/<source>` into a shared library
/// in a temp dir; `None` (a skip) without a C compiler outside CI.
fn plugin(source: &str, lib: &str, defines: &[&str]) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hcal-plugin");
    let dir = std::env::temp_dir().join(format!("hcal-cli-plugins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out = dir.join(format!("lib{lib}.so"));
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-shared", "-fPIC", "-O2", "-o"])
        .arg(&out)
        .arg(root.join("tests/plugins").join(source))
        .arg("-I")
        .arg(root.join("include"))
        .args(defines)
        .arg("-lm")
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        other if std::env::var_os("CI").is_some() => panic!("cannot build the test plugin {source}: {other:?}"),
        other => {
            eprintln!("skipped: no C compiler to build the test plugin {source} ({other:?})");
            None
        }
    }
}

#[test]
fn every_fault_of_a_broken_plugin_is_a_failed_case_and_the_run_completes() {
    let Some(lib) = plugin("broken.c", "cbroken", &[]) else { return };
    let backend = format!("plugin:{}", lib.display());
    let json = lib.with_extension("json");
    let args = [
        "conformance",
        "--backend",
        &backend,
        "--quick",
        "--case-timeout",
        "2",
        "--json",
        json.to_str().unwrap(),
        "--op",
        "Add",
        "--op",
        "Mul",
        "--op",
        "Exp",
        "--op",
        "Tanh",
        "--op",
        "Relu",
        "--op",
        "Sigmoid",
    ];
    let out = hcal(&args);
    assert_eq!(out.status.code(), Some(1), "failures exit 1; stderr: {}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the report is written")).expect("JSON report");
    let cases = report["cases"].as_array().expect("cases");
    let expected = hcal_conformance::cases(&hcal_conformance::Filter {
        ops: ["Add", "Mul", "Exp", "Tanh", "Relu", "Sigmoid"].map(String::from).to_vec(),
        quick: true,
    });
    assert_eq!(cases.len(), expected.len(), "every case has a verdict, after crashes and hangs too");
    let verdicts = |op: &str| -> Vec<(String, String)> {
        cases
            .iter()
            .filter(|c| c["op"] == op)
            .map(|c| (c["verdict"].as_str().unwrap_or("").to_string(), c["detail"].as_str().unwrap_or("").to_string()))
            .collect()
    };
    // The faults, each found where a case exercises it (f32 cases; other
    // dtypes the plugin declines with a reason).
    let failing = |op: &str, needle: &str| {
        let v = verdicts(op);
        assert!(
            v.iter().any(|(verdict, d)| verdict == "fail" && d.contains(needle)),
            "{op}: no failure with {needle:?} in {v:?}"
        );
    };
    failing("Add", "error ratio");
    failing("Mul", "NaN");
    failing("Exp", "SIGSEGV");
    failing("Tanh", "hang: no result within 2 s");
    failing("Relu", "SIGABRT");
    // The healthy op of the same plugin, run by a fresh worker after the crashes, passes.
    let sigmoid = verdicts("Sigmoid");
    assert!(sigmoid.iter().any(|(v, _)| v == "pass"), "{sigmoid:?}");
    assert!(sigmoid.iter().all(|(v, d)| v == "pass" || (v == "unsupported" && !d.is_empty())), "{sigmoid:?}");
}

#[test]
fn a_plugin_for_another_abi_major_is_refused_with_one_error_line() {
    let Some(lib) = plugin("reference.c", "abi2", &["-DHCAL_TEST_ABI_MAJOR=2"]) else { return };
    let backend = format!("plugin:{}", lib.display());
    let out = hcal(&["conformance", "--backend", &backend, "--quick"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains('2') && stderr.contains('1'), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn hcal_plugins_lists_a_plugin_under_its_own_name() {
    let Some(lib) = plugin("reference.c", "cref", &[]) else { return };
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_hcal"))
            .args(["conformance", "--backend", "cref", "--op", "Softmax", "--quick", "--no-isolate"])
            .env("HCAL_PLUGINS", &lib),
        DEADLINE,
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("conformance of cref"), "{}", text(&out.stdout));
}
