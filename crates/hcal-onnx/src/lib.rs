//! # hcal-onnx: the official ONNX node tests against any hcal backend
//!
//! ONNX's operator conformance corpus is a set of case folders, each a
//! single-node (or, for `_expanded` cases, a function-body) `model.onnx` with
//! `test_data_set_N/input_K.pb` and `output_K.pb` tensors computed by ONNX's
//! reference implementation. The `onnx` Python package up to 1.18 ships them
//! under `onnx/backend/test/data/node/` (1450 cases); later releases generate
//! them in memory (1884 in onnx 1.23.2), and [`source`] exports those once into
//! a cache folder of the same layout. This crate
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
//! (listed in `data/expected_failures-onnx-<version>.json` with its reason);
//! `imprecise_expected` (ONNX's f16 or bf16 expected output within the bound
//! of the arithmetic it was computed in but not hcal's, the backend agreeing
//! with the f64 reference: [`imprecise`]). A malformed file
//! fails its case with an error naming the file; a run never panics on input.
//!
//! ```no_run
//! use hcal_onnx::{Options, run};
//! let backend = hcal_cpu::CpuBackend::new();
//! let (_package, dir) = hcal_onnx::source::node_cases(&mut |_, _, _| {}).expect("pip install onnx");
//! let report = run(&backend, &dir, &Options::for_corpus(&dir, Vec::new()), &mut |_, _, _| {})?;
//! print!("{}", report.table());
//! # Ok::<(), hcal_onnx::Error>(())
//! ```

pub mod blocked;
pub mod certificate;
pub mod expected;
pub mod imprecise;
pub mod mapping;
pub mod model;
pub mod proto;
pub mod report;
mod run;
pub mod source;
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

/// Where the node tests are, without exporting anything: `$HCAL_ONNX_NODE_DIR`
/// when set, else the `backend/test/data/node` folder of the `onnx` package
/// `python3` (or `$HCAL_PYTHON`) imports, else that version's cached export
/// ([`source::node_cases`] makes one). `None` when none exists.
pub fn node_test_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HCAL_ONNX_NODE_DIR") {
        return Some(PathBuf::from(dir)).filter(|d| d.is_dir());
    }
    let package = source::OnnxPackage::find().ok()?;
    package.shipped_node_dir().or_else(|| {
        package.cache_dir().filter(|d| source::manifest(d).is_some_and(|m| m.onnx_version == package.version))
    })
}

/// The version of the `onnx` package a corpus folder (or one case folder in
/// it) belongs to: read from the `onnx/version.py` above a wheel's folder, or
/// from the [`source::MANIFEST`] of an export (`None` for a corpus outside both).
pub fn onnx_version(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    dir.ancestors().take(8).find_map(|d| {
        if let Some(m) = source::manifest(d) {
            return Some(m.onnx_version);
        }
        let text = std::fs::read_to_string(d.join("version.py")).ok()?;
        let line = text.lines().find(|l| l.trim_start().starts_with("version ="))?;
        Some(line.split('"').nth(1)?.to_string())
    })
}
