//! Crash isolation for `hcal conformance`: the cases run in a child process
//! (`hcal conformance-worker`, this same binary), so a segfault, an abort or
//! a hang inside a backend (vendor code behind a plugin) becomes a failed
//! case naming the signal or the timeout, and the run goes on with the next
//! case in a fresh child. The report stays complete.
//!
//! The worker speaks one line per event on stdout:
//! `info <DeviceInfo JSON>` once it opened the backend, `start <index>` before
//! each case, `result <CaseResult JSON>` after it, or `error <message>` when
//! the backend cannot be opened (then it exits 2).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use hcal::DeviceInfo;
use hcal_conformance::{Case, CaseResult, Filter, Report, Summary, Verdict};

use crate::{EXIT_OK, EXIT_USAGE, UsageError};

/// Run the cases `filter` selects on backend `name` in child processes,
/// giving each case `timeout` before it counts as hung.
pub(crate) fn run(
    name: &str,
    filter: &Filter,
    timeout: Duration,
    progress: &mut dyn FnMut(&CaseResult, usize, usize),
) -> Result<Report, UsageError> {
    let started = Instant::now();
    let cases = hcal_conformance::cases(filter);
    let total = cases.len();
    let mut results: Vec<CaseResult> = Vec::with_capacity(total);
    let mut device: Option<DeviceInfo> = None;
    let mut interrupted = false;
    'children: while results.len() < total {
        let mut child = spawn(name, filter, results.len())?;
        let lines = read_lines(&mut child);
        let mut running: Option<usize> = None;
        // When the last line came, and when Ctrl-C gives up on the case in flight.
        let mut last_line = Instant::now();
        let mut give_up: Option<Instant> = None;
        loop {
            if crate::interrupt::requested() {
                let deadline = *give_up.get_or_insert_with(|| Instant::now() + crate::interrupt::GRACE);
                if running.is_none() || Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    interrupted = true;
                    break 'children;
                }
            }
            // Opening a backend (compiling its kernels) may take long: the
            // case timeout applies from the first case on.
            let wait = if running.is_some() { timeout } else { timeout.max(Duration::from_secs(300)) };
            // Short waits, so Ctrl-C is seen while a case runs.
            let left = wait.saturating_sub(last_line.elapsed());
            let next = if left.is_zero() {
                Err(RecvTimeoutError::Timeout)
            } else {
                match lines.recv_timeout(left.min(POLL)) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    other => other,
                }
            };
            match next {
                Ok(line) => {
                    last_line = Instant::now();
                    let (kind, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                    match kind {
                        "info" => device = Some(parse(rest, "device info")?),
                        "start" => running = rest.trim().parse().ok(),
                        "result" => {
                            results.push(parse(rest, "case result")?);
                            running = None;
                            progress(results.last().expect("just pushed"), results.len(), total);
                        }
                        "error" => {
                            let _ = child.wait();
                            return Err(UsageError(rest.to_string()));
                        }
                        // Anything else a backend printed on stdout is not ours to read.
                        _ => {}
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let Some(i) = running else {
                        return Err(UsageError(format!(
                            "backend {name} did not start within {} s in the conformance worker",
                            wait.as_secs()
                        )));
                    };
                    let detail = format!("hang: no result within {} s; the worker was killed", timeout.as_secs_f64());
                    results.push(failed(&cases[i], detail, timeout));
                    progress(results.last().expect("just pushed"), results.len(), total);
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = child.wait().map_err(|e| UsageError(format!("conformance worker: {e}")))?;
                    // Ctrl-C in a terminal reaches the worker too (one process
                    // group): its death then is the interruption, not a crash.
                    if crate::interrupt::requested() || killed_by_sigint(status) {
                        interrupted = true;
                        break 'children;
                    }
                    match running {
                        Some(i) => {
                            let detail = format!("crash: the backend {} during this case", describe(status));
                            results.push(failed(&cases[i], detail, Duration::ZERO));
                            progress(results.last().expect("just pushed"), results.len(), total);
                        }
                        None if results.len() < total => {
                            return Err(UsageError(format!(
                                "the conformance worker for {name} {} before running a case",
                                describe(status)
                            )));
                        }
                        None => {}
                    }
                    break;
                }
            }
        }
    }
    let device = match device {
        Some(device) => device,
        // Ctrl-C before the worker opened the backend: nothing ran, and the
        // report still says on which backend.
        None if interrupted => DeviceInfo::new(name, "(not opened: interrupted)", hcal::DeviceType::Other, "unknown"),
        None => return Err(UsageError(format!("the conformance worker for {name} sent no device info"))),
    };
    Ok(Report {
        summary: Summary::of(&results),
        device,
        hcal_version: env!("CARGO_PKG_VERSION").to_string(),
        filter: filter.clone(),
        elapsed_s: started.elapsed().as_secs_f64(),
        cases: results,
        interrupted,
    })
}

/// How often the parent looks at the Ctrl-C flag while it waits for a line.
const POLL: Duration = Duration::from_millis(50);

/// Whether the worker ended by SIGINT (Ctrl-C in its terminal).
fn killed_by_sigint(status: ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal() == Some(2)
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        false
    }
}

/// Start `hcal conformance-worker` for the cases from index `from`.
fn spawn(name: &str, filter: &Filter, from: usize) -> Result<Child, UsageError> {
    let exe =
        std::env::current_exe().map_err(|e| UsageError(format!("cannot find the hcal binary to isolate: {e}")))?;
    let mut command = Command::new(exe);
    command.args(["conformance-worker", "--backend", name, "--from", &from.to_string()]);
    for op in &filter.ops {
        command.args(["--op", op]);
    }
    if filter.quick {
        command.arg("--quick");
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| UsageError(format!("cannot start the conformance worker: {e}")))
}

/// The child's stdout lines, read on a thread so the parent can time out.
fn read_lines(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, UsageError> {
    serde_json::from_str(text).map_err(|e| UsageError(format!("conformance worker sent a bad {what}: {e}")))
}

/// A failed record for `case`.
fn failed(case: &Case, detail: String, elapsed: Duration) -> CaseResult {
    CaseResult {
        name: case.name.clone(),
        op: case.op_name().to_string(),
        dtype: case.dtype().to_string(),
        signature: case.signature().map(|s| s.to_string()).unwrap_or_default(),
        verdict: Verdict::Fail,
        max_error_ratio: None,
        max_abs_error: None,
        detail,
        elapsed_ms: elapsed.as_secs_f64() * 1e3,
    }
}

/// How a worker ended, in words: `was killed by signal 11 (SIGSEGV)`.
fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => " (SIGILL)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => format!("ended ({status})"),
    }
}

/// `hcal conformance-worker`: open `backend`, run the cases from `from` on,
/// and report each on stdout (see the module doc).
pub(crate) fn worker(backend: &str, filter: &Filter, from: usize) -> u8 {
    let mut out = std::io::stdout().lock();
    let mut emit = |line: String| {
        // A parent that went away leaves nothing to report to.
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    };
    let backend = match hcal::open(backend) {
        Ok(b) => b,
        Err(e) => {
            emit(format!("error {e}"));
            return EXIT_USAGE;
        }
    };
    emit(format!("info {}", json(backend.info())));
    for (i, case) in hcal_conformance::cases(filter).iter().enumerate().skip(from) {
        emit(format!("start {i}"));
        let result = hcal_conformance::run_case(&*backend, case);
        emit(format!("result {}", json(&result)));
    }
    EXIT_OK
}

/// One-line JSON of a record the worker sends.
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("records contain only serializable data")
}
