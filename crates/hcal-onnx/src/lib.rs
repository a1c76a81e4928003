//! # hcal-onnx: the official ONNX node tests against any hcal backend
//!
//! The `onnx` Python package (`pip install onnx==1.18.0`) ships the operator
//! conformance corpus under `onnx/backend/test/data/node/`: about 1450 case
//! folders, each a single-node (or, for `_expanded` cases, a function-body)
//! `model.onnx` with `test_data_set_N/input_K.pb` and `output_K.pb` tensors
//! computed by ONNX's reference implementation. This crate
//!
//! - parses the protobufs with prost and message structs written by hand for
//!   the subset of `onnx.proto` it reads ([`proto`]; no `protoc` at build time),
//! - maps a single-node model to an hcal [`hcal_core::Op`] ([`mapping`]):
//!   attributes with their ONNX defaults, optional inputs (an empty name is an
//!   absent input), the opset differences that change meaning,
//! - runs it on a backend and judges it with hcal's tolerance model through
//!   [`hcal_conformance::judge_values`]: the backend against the f64 oracle,
//!   and ONNX's expected outputs against the same oracle and bound (so a
//!   disagreement between hcal's reference and ONNX is a failure); it also
//!   records ONNX's own default verdict (`rtol = 1e-3`, `atol = 1e-7`) ([`run`]),
//! - writes a report with the built-in suite's `summary` ([`report`]) and a
//!   conformance certificate ([`certificate`]).
//!
//! Verdicts: `pass`; `fail` (with the error ratio and where); `unsupported`
//! (an op, attribute, dtype or output the hcal standard does not define, or a
//! signature the backend declines, each with the reason); `expected_failure`
//! (listed in `data/expected_failures.json` with its reason). A malformed file
//! fails its case with an error naming the file; a run never panics on input.
//!
//! ```no_run
//! use hcal_onnx::{Options, run};
//! let backend = hcal_cpu::CpuBackend::new();
//! let dir = hcal_onnx::node_test_dir().expect("pip install onnx==1.18.0");
//! let report = run(&backend, &dir, &Options::default(), &mut |_, _, _| {})?;
//! print!("{}", report.table());
//! # Ok::<(), hcal_onnx::Error>(())
//! ```

pub mod certificate;
pub mod expected;
pub mod mapping;
pub mod model;
pub mod proto;
pub mod report;
mod run;
pub mod tensor;

use std::path::{Path, PathBuf};

pub use report::{OnnxCaseResult, OnnxDefault, OnnxReport, OpRow};
pub use run::{Options, judge_case, run, run_until};

/// Errors reading a corpus. Every message names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is not what the ONNX test layout says it is.
    #[error("malformed ONNX file {}: {detail}", path.display())]
    Malformed {
        /// The file (or case folder).
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The folder holds no case folder.
    #[error("no ONNX test case in {} (expected a folder with model.onnx, or folders of them)", path.display())]
    NoCases {
        /// The folder given.
        path: PathBuf,
    },
}

/// Where the node tests are: `$HCAL_ONNX_NODE_DIR` when set, else the
/// `backend/test/data/node` folder of the `onnx` package `python3` imports.
/// `None` when neither exists.
pub fn node_test_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HCAL_ONNX_NODE_DIR") {
        return Some(PathBuf::from(dir)).filter(|d| d.is_dir());
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "import onnx, os; print(os.path.dirname(onnx.__file__))"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let root = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Some(root.join("backend").join("test").join("data").join("node")).filter(|d| d.is_dir())
}

/// The version of the `onnx` package a corpus folder belongs to, read from
/// the `onnx/version.py` above it (`None` for a corpus outside a package).
pub fn onnx_version(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    dir.ancestors().take(8).find_map(|d| {
        let text = std::fs::read_to_string(d.join("version.py")).ok()?;
        let line = text.lines().find(|l| l.trim_start().starts_with("version ="))?;
        Some(line.split('"').nth(1)?.to_string())
    })
}
