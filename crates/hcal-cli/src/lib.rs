//! `hcal`: list devices and their op coverage, run the conformance suite,
//! benchmark kernels and render reports.
//!
//! The command is also a library, so a vendor can ship its own `hcal` with
//! its backends registered: a binary that calls `hcal::register` and then
//! [`main`] gets every subcommand (conformance with crash isolation included)
//! on them; `examples/vendor_cli.rs` is one.
//!
//! Exit codes (also in `hcal --help` and the README):
//! - 0: success (for `conformance`: no case failed),
//! - 1: `conformance` ran and at least one case failed, or `bench --compare`
//!   found a regression,
//! - 2: usage or input error (bad flags, unknown backend or op, unwritable
//!   file, a workload the host or device cannot hold),
//! - 130: `bench` or `conformance` stopped by Ctrl-C; the JSON written holds
//!   the rows or cases done, marked `"interrupted": true`.

use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

mod bench;
mod conformance;
mod devices;
mod interrupt;
mod isolate;
mod onnx;
mod report;

/// Exit code of a run where nothing failed.
const EXIT_OK: u8 = 0;
/// Exit code of a conformance run with at least one failed case.
const EXIT_FAILURES: u8 = 1;
/// Exit code of a usage or input error.
const EXIT_USAGE: u8 = 2;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (conformance: no case failed)
  1  conformance ran and at least one case failed, or bench --compare found a regression
  2  usage or input error (bad flags, unknown backend or op, unwritable file,
     a workload the host or device cannot hold)
  130  bench or conformance stopped by Ctrl-C (the JSON holds the rows or cases
     done, marked \"interrupted\": true)";

/// hcal: one operator standard for heterogeneous chips, a reference backend,
/// and a conformance suite any backend can be run against.
#[derive(Debug, Parser)]
#[command(name = "hcal", version, arg_required_else_help = true, after_help = EXIT_CODES_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the backends this build can open, with their device facts.
    #[command(after_help = EXIT_CODES_HELP)]
    Devices(DevicesArgs),
    /// Run the conformance suite against a backend and print a summary table.
    ///
    /// Every case runs the op on the backend and on the CPU reference oracle
    /// (f64 accumulation) and compares within a tolerance derived from error
    /// analysis. Cases the backend declines are reported as skipped.
    #[command(after_help = EXIT_CODES_HELP)]
    Conformance(ConformanceArgs),
    /// Benchmark ops x shapes x backends x dtypes: device time, GFLOP/s, GB/s,
    /// % of a peak measured on the device; JSON/CSV output; --compare.
    #[command(after_help = EXIT_CODES_HELP)]
    Bench(bench::BenchArgs),
    /// Render hcal JSON documents (bench runs from any backends and machines)
    /// as tables or one HTML page with charts.
    #[command(after_help = EXIT_CODES_HELP)]
    Report(report::ReportArgs),
    /// Internal: run conformance cases for an isolated `hcal conformance`.
    #[command(hide = true)]
    ConformanceWorker(WorkerArgs),
}

/// Arguments of the hidden `hcal conformance-worker`.
#[derive(Debug, Args)]
struct WorkerArgs {
    /// The backend to open.
    #[arg(long)]
    backend: String,
    /// Op filter, as for `conformance`.
    #[arg(long = "op")]
    ops: Vec<String>,
    /// The quick subset.
    #[arg(long)]
    quick: bool,
    /// Index of the first case to run.
    #[arg(long, default_value_t = 0)]
    from: usize,
}

/// Arguments of `hcal devices`.
#[derive(Debug, Args)]
struct DevicesArgs {
    /// Also print each backend's per-op, per-dtype support matrix.
    #[arg(long)]
    ops: bool,
    /// Print JSON on stdout instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `hcal conformance`.
#[derive(Debug, Args)]
struct ConformanceArgs {
    /// Backend to test (see `hcal devices`; `plugin:PATH` loads a C plugin);
    /// repeat for several. Default: every available backend, with an op x
    /// backend matrix.
    #[arg(long, value_name = "NAME")]
    backend: Vec<String>,
    /// Run the cases in child processes, so a crash or hang in the backend is
    /// a failed case (the default for plugins and registered backends).
    #[arg(long, conflicts_with = "no_isolate")]
    isolate: bool,
    /// Run in this process even for plugins.
    #[arg(long)]
    no_isolate: bool,
    /// With isolation: seconds a case may run before it counts as hung.
    #[arg(long, value_name = "S", default_value_t = 120.0)]
    case_timeout: f64,
    /// Only run cases of this op (ONNX name such as MatMul or Softmax, case-insensitive);
    /// repeat for several ops. Default: every op.
    #[arg(long = "op", value_name = "OP")]
    ops: Vec<String>,
    /// Run the quick subset (small sizes, a few edge cases per op).
    #[arg(long)]
    quick: bool,
    /// Also write the full report as JSON to FILE ("-" for stdout, in which
    /// case the table goes to stderr).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Run the official ONNX node tests instead of the built-in suite. Without
    /// DIR: those of the onnx package `python3` (or $HCAL_PYTHON) imports, from
    /// its data folder (onnx <= 1.18) or generated by onnx and exported once to
    /// $HCAL_CACHE_DIR/onnx-VERSION (default ~/.cache/hcal). With DIR: that
    /// corpus folder (same layout) or one case folder. `--op` keeps only those
    /// ONNX op types.
    #[arg(long, value_name = "DIR", num_args = 0..=1, conflicts_with = "quick")]
    onnx: Option<Option<std::path::PathBuf>>,
    /// With --onnx: also write a conformance certificate (JSON) to FILE.
    #[arg(long, value_name = "FILE", requires = "onnx")]
    certificate: Option<String>,
}

/// A failure that ends the command with [`EXIT_USAGE`]; the message is printed
/// as `error: {message}`.
#[derive(Debug)]
struct UsageError(String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(err: E) -> Self {
        UsageError(err.to_string())
    }
}

/// Run the `hcal` command on this process's arguments: what the `hcal`
/// binary's `main` is, and what a vendor's own binary calls after
/// registering its backends.
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     hcal::register("example", |_| Ok(Box::new(hcal_example_backend::ExampleBackend::new())))
///         .expect("a fresh name");
///     hcal_cli::main()
/// }
/// ```
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return clap_exit(err),
    };
    if matches!(cli.command, Command::Bench(_) | Command::Conformance(_)) {
        interrupt::install();
    }
    let result = match cli.command {
        Command::Devices(args) => devices::run(&args),
        Command::Conformance(args) => conformance::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Report(args) => report::run(&args),
        Command::ConformanceWorker(args) => {
            let filter = hcal_conformance::Filter { ops: args.ops, quick: args.quick };
            Ok(isolate::worker(&args.backend, &filter, args.from))
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(UsageError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// Print `text` on stdout; a closed pipe (`hcal devices | head -1`) is not an error.
fn emit_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Help and version go to stdout with exit 0; a parse error becomes one
/// `error: ...` line on stderr with exit 2.
fn clap_exit(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Printing help can only fail on a closed stdout; nothing is left to report to.
            let _ = err.print();
            ExitCode::from(EXIT_OK)
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(EXIT_USAGE)
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            // Point at the help of the subcommand the user was typing, when there is one.
            let command = std::env::args_os()
                .nth(1)
                .and_then(|a| a.into_string().ok())
                .filter(|a| Cli::command().get_subcommands().any(|s| s.get_name() == a))
                .map(|sub| format!("hcal {sub}"))
                .unwrap_or_else(|| "hcal".to_string());
            eprintln!("error: {first} (see '{command} --help')");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn conformance_defaults_to_every_backend_and_collects_ops() {
        let cli = Cli::try_parse_from(["hcal", "conformance", "--op", "MatMul", "--op", "Softmax", "--quick"]).unwrap();
        let Command::Conformance(args) = cli.command else { panic!("expected conformance") };
        assert!(args.backend.is_empty(), "no --backend means every available backend");
        assert_eq!(args.ops, ["MatMul", "Softmax"]);
        assert!(args.quick && args.json.is_none());
    }

    #[test]
    fn unknown_flags_are_rejected() {
        assert!(Cli::try_parse_from(["hcal", "devices", "--nope"]).is_err());
    }
}
