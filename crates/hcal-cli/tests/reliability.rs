//! The command under stress: a workload the host cannot hold is one error
//! line (exit 2), not an allocator abort; Ctrl-C (SIGINT) stops `bench` and
//! `conformance` cleanly (exit 130) with JSON of the rows or cases done,
//! marked `"interrupted": true`. Every run here has a hard deadline: a hang
//! fails the test instead of holding it.

use std::io::Read;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hcal-reliability-{}-{name}", std::process::id()))
}

/// Start `hcal args` with stdout and stderr piped.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hcal"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hcal")
}

/// The bytes of `pipe`, read to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(bytes);
    });
    rx
}

/// Wait for `child` at most `deadline`; past it the child is killed and the
/// test fails (a hang is a failure, never a stuck test).
fn wait_within(mut child: Child, deadline: Duration, stdout: Receiver<Vec<u8>>, stderr: Receiver<Vec<u8>>) -> Output {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for hcal") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hcal did not finish within {deadline:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let collect = |rx: Receiver<Vec<u8>>| rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
    Output { status, stdout: collect(stdout), stderr: collect(stderr) }
}

/// Run `hcal args` to its end within `deadline`.
fn hcal_within(args: &[&str], deadline: Duration) -> Output {
    let mut child = spawn(args);
    let (out, err) = (drain(child.stdout.take().unwrap()), drain(child.stderr.take().unwrap()));
    wait_within(child, deadline, out, err)
}

/// Send SIGINT to `child`, as Ctrl-C would (through `kill`: no unsafe here).
fn interrupt(child: &Child) {
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -INT failed");
}

#[test]
fn a_shape_the_host_cannot_hold_is_one_error_line_and_exit_2() {
    let out =
        hcal_within(&["bench", "--backend", "cpu", "--shape", "99999999x99999999x99999999"], Duration::from_secs(120));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: ") && stderr.contains("out of memory allocating"), "{stderr}");
    assert!(stderr.contains("39999999200000004 bytes"), "the size asked for is named: {stderr}");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_bench_with_the_rows_done_as_valid_json_and_exit_130() {
    let json = temp("bench.json");
    // A small row, then one that runs for minutes on the cpu reference.
    let mut child = spawn(&[
        "bench",
        "--backend",
        "cpu",
        "--shape",
        "32x32x32",
        "--shape",
        "1x1x300000x64",
        "--max-reps",
        "3",
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = drain(child.stdout.take().unwrap());
    // Interrupt once the long row announced itself (the small one is done).
    let mut stderr_pipe = child.stderr.take().unwrap();
    let (tx, lines) = channel::<String>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut all = String::new();
        while let Ok(n) = stderr_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.push_str(&String::from_utf8_lossy(&buf[..n]));
            let _ = tx.send(all.clone());
        }
    });
    let start = Instant::now();
    let mut stderr = String::new();
    while !stderr.contains("row cpu attention") {
        match lines.recv_timeout(Duration::from_secs(1)) {
            Ok(s) => stderr = s,
            Err(_) if start.elapsed() > Duration::from_secs(180) => {
                let _ = child.kill();
                panic!("the long row never started: {stderr}");
            }
            Err(_) => {}
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    interrupt(&child);
    let (tx_err, rx_err) = channel();
    std::thread::spawn(move || {
        let mut last = String::new();
        while let Ok(s) = lines.recv() {
            last = s;
        }
        let _ = tx_err.send(last.into_bytes());
    });
    let output = wait_within(child, Duration::from_secs(30), out, rx_err);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted: 1 of 2 rows done"), "{stderr}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON written")).expect("valid JSON");
    assert_eq!(run["interrupted"], true);
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "the row done, not the abandoned one: {results:?}");
    assert_eq!(results[0]["shape"], "32x32x32");
    // The document still reads back as a bench run.
    let report = hcal_within(&["report", json.to_str().unwrap()], Duration::from_secs(60));
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_conformance_with_the_cases_done_as_valid_json_and_exit_130() {
    let total = hcal_conformance::cases(&hcal_conformance::Filter::default()).len();
    for isolation in ["--no-isolate", "--isolate"] {
        let json = temp(&format!("conformance{isolation}.json"));
        let mut child = spawn(&["conformance", "--backend", "cpu", isolation, "--json", json.to_str().unwrap()]);
        let (out, err) = (drain(child.stdout.take().unwrap()), drain(child.stderr.take().unwrap()));
        std::thread::sleep(Duration::from_secs(2));
        interrupt(&child);
        let output = wait_within(child, Duration::from_secs(30), out, err);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{isolation}: {stderr}");
        assert!(stderr.contains("interrupted: "), "{isolation}: {stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON written")).expect("valid JSON");
        assert_eq!(report["interrupted"], true, "{isolation}");
        let cases = report["cases"].as_array().expect("cases").len();
        assert_eq!(report["summary"]["total"], cases, "{isolation}: the summary counts the cases done");
        assert!(cases < total, "{isolation}: {cases} of {total} cases, yet interrupted");
        assert!(text(&output.stdout).contains("interrupted before the other cases ran"), "{isolation}");
    }
}
