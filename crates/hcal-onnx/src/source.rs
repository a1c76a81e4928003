//! Where the node tests come from: the `onnx` package `python3` imports.
//!
//! onnx up to 1.18 ships the cases as files under
//! `onnx/backend/test/data/node/`. Later releases (onnx PR #7959) generate
//! them in memory with `onnx.backend.test.loader.load_model_tests(kind="node")`;
//! for those, [`node_cases`] runs the Python helper this crate ships
//! (`python/export_node_cases.py`, embedded) once and keeps its output in a
//! cache folder, `$HCAL_CACHE_DIR/onnx-<version>/` (default
//! `$XDG_CACHE_HOME/hcal` or `~/.cache/hcal`), in the same layout as the
//! shipped folder plus an `hcal-export.json` naming the version and opset.
//! The export writes to a temporary folder beside it and renames it into
//! place, so an interrupted export never leaves a half corpus behind.
//!
//! The Python interpreter is `$HCAL_PYTHON` when set, else `python3`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// The command that installs the current onnx release.
pub const INSTALL_HINT: &str = "python3 -m pip install onnx";

/// The manifest file an export writes last.
pub const MANIFEST: &str = "hcal-export.json";

/// The exporter, run as `python3 - OUT` with this text on stdin.
const EXPORTER: &str = include_str!("../python/export_node_cases.py");

/// Prints `version`, `opset`, package folder; exits 3 when onnx does not import.
const PROBE: &str = "import os, sys\n\
try:\n    import onnx, onnx.defs\n\
except Exception as e:\n    print(repr(e)); sys.exit(3)\n\
print(onnx.__version__); print(onnx.defs.onnx_opset_version()); print(os.path.dirname(onnx.__file__))\n";

/// Why no corpus could be found or made. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The interpreter could not be started.
    #[error(
        "cannot run {python}: {source}; install Python 3 and the onnx package ({INSTALL_HINT}), set HCAL_PYTHON to a \
         Python that has onnx, or give the corpus folder (hcal conformance --onnx DIR)"
    )]
    NoPython {
        /// The interpreter tried.
        python: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The interpreter runs but cannot import onnx.
    #[error("{python} cannot import onnx ({detail}); install it with: {INSTALL_HINT}")]
    NoOnnx {
        /// The interpreter tried.
        python: String,
        /// Python's error.
        detail: String,
    },
    /// The export script failed.
    #[error("exporting the onnx {version} node cases with {python} failed: {detail}")]
    Export {
        /// The interpreter.
        python: String,
        /// The onnx version.
        version: String,
        /// The script's error output (last lines) or the I/O error.
        detail: String,
    },
    /// No cache folder: neither HCAL_CACHE_DIR, XDG_CACHE_HOME nor HOME is set.
    #[error(
        "onnx {version} generates its node cases and they need a cache folder: set HCAL_CACHE_DIR (neither \
         XDG_CACHE_HOME nor HOME is set)"
    )]
    NoCacheDir {
        /// The onnx version.
        version: String,
    },
}

/// The `onnx` package an interpreter imports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnnxPackage {
    /// The interpreter (`$HCAL_PYTHON` or `python3`).
    pub python: OsString,
    /// `onnx.__version__`.
    pub version: String,
    /// `onnx.defs.onnx_opset_version()`: the newest default-domain opset it defines.
    pub opset: i64,
    /// The package folder (`.../site-packages/onnx`).
    pub dir: PathBuf,
}

/// What an export writes as [`MANIFEST`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The onnx version that generated the cases.
    pub onnx_version: String,
    /// Its newest default-domain opset.
    pub opset: i64,
    /// Case folders written.
    pub cases: usize,
}

/// The interpreter to ask: `$HCAL_PYTHON`, else `python3`.
pub fn python() -> OsString {
    std::env::var_os("HCAL_PYTHON").filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into())
}

impl OnnxPackage {
    /// Ask [`python`] which onnx it imports.
    ///
    /// # Errors
    /// [`SourceError::NoPython`] or [`SourceError::NoOnnx`], each with the install command.
    pub fn find() -> Result<Self, SourceError> {
        Self::find_with(&python())
    }

    /// As [`OnnxPackage::find`] with the interpreter given.
    ///
    /// # Errors
    /// As [`OnnxPackage::find`].
    pub fn find_with(python: &std::ffi::OsStr) -> Result<Self, SourceError> {
        let shown = python.to_string_lossy().into_owned();
        let out = Command::new(python)
            .args(["-c", PROBE])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| SourceError::NoPython { python: shown.clone(), source })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut lines = stdout.lines().map(str::trim);
        let no_onnx = |detail: String| SourceError::NoOnnx { python: shown.clone(), detail };
        if !out.status.success() {
            let why = lines
                .next()
                .filter(|l| !l.is_empty())
                .map_or_else(|| last_lines(&String::from_utf8_lossy(&out.stderr), 1), std::string::ToString::to_string);
            return Err(no_onnx(why));
        }
        let (Some(version), Some(opset), Some(dir)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(no_onnx(format!("unexpected answer {stdout:?}")));
        };
        let opset = opset.parse().map_err(|_| no_onnx(format!("onnx_opset_version() printed {opset:?}")))?;
        Ok(Self { python: python.to_owned(), version: version.to_string(), opset, dir: PathBuf::from(dir) })
    }

    /// The wheel's own `backend/test/data/node` folder, when it ships one (onnx ≤ 1.18).
    pub fn shipped_node_dir(&self) -> Option<PathBuf> {
        Some(self.dir.join("backend").join("test").join("data").join("node")).filter(|d| d.is_dir())
    }

    /// Where [`node_cases`] keeps this version's exported cases (`None`: no cache root).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        cache_root().map(|root| root.join(format!("onnx-{}", self.version)))
    }
}

/// `$HCAL_CACHE_DIR`, else `$XDG_CACHE_HOME/hcal`, else `~/.cache/hcal` (the
/// folder hcal-wgpu's autotuner uses too).
pub fn cache_root() -> Option<PathBuf> {
    std::env::var_os("HCAL_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()).map(|d| PathBuf::from(d).join("hcal")))
        .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|d| PathBuf::from(d).join(".cache/hcal")))
}

/// Read the [`MANIFEST`] of an exported folder.
pub fn manifest(dir: &Path) -> Option<Manifest> {
    serde_json::from_str(&std::fs::read_to_string(dir.join(MANIFEST)).ok()?).ok()
}

/// Progress of an export: `(cases written, total, last case name)`; total is 0
/// while onnx generates the cases (about 20 s for onnx 1.23).
pub type ExportProgress<'a> = dyn FnMut(usize, usize, &str) + 'a;

/// The node-test folder of the onnx package [`python`] imports: the wheel's
/// own folder when it ships one, else the cached export of its generated
/// cases, exported now (once per onnx version) when missing.
///
/// # Errors
/// No Python, no onnx, no cache folder, or a failed export; each message says what to do.
pub fn node_cases(progress: &mut ExportProgress<'_>) -> Result<(OnnxPackage, PathBuf), SourceError> {
    let package = OnnxPackage::find()?;
    if let Some(dir) = package.shipped_node_dir() {
        return Ok((package, dir));
    }
    let dir = export(&package, progress)?;
    Ok((package, dir))
}

/// The cached export of `package`'s generated node cases, made now when
/// missing (or made by another onnx version under the same name).
///
/// # Errors
/// As [`node_cases`].
pub fn export(package: &OnnxPackage, progress: &mut ExportProgress<'_>) -> Result<PathBuf, SourceError> {
    let target = package.cache_dir().ok_or_else(|| SourceError::NoCacheDir { version: package.version.clone() })?;
    if manifest(&target).is_some_and(|m| m.onnx_version == package.version) {
        return Ok(target);
    }
    let python = package.python.to_string_lossy().into_owned();
    let failed =
        |detail: String| SourceError::Export { python: python.clone(), version: package.version.clone(), detail };
    let root = target.parent().expect("cache_dir has a parent");
    std::fs::create_dir_all(root).map_err(|e| failed(format!("cannot create {}: {e}", root.display())))?;
    // Unique per process and call: two exports at once (two test threads, two
    // runs) each write their own folder and the first rename wins.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = root.join(format!(".onnx-{}.tmp-{}-{call}", package.version, std::process::id()));
    // A leftover of an earlier process with the same id is not in use.
    let _ = std::fs::remove_dir_all(&temp);
    let result = run_exporter(&package.python, &temp, progress).map_err(failed);
    let result = result.and_then(|()| match std::fs::rename(&temp, &target) {
        Ok(()) => Ok(()),
        // Another run finished the same export first, or a stale folder without
        // a manifest is in the way: keep a complete one, replace a stale one.
        Err(_) if manifest(&target).is_some_and(|m| m.onnx_version == package.version) => Ok(()),
        Err(_) => std::fs::remove_dir_all(&target)
            .and_then(|()| std::fs::rename(&temp, &target))
            .map_err(|e| failed(format!("cannot move {} to {}: {e}", temp.display(), target.display()))),
    });
    let _ = std::fs::remove_dir_all(&temp);
    result.map(|()| target)
}

/// Run the embedded exporter into `out`, forwarding its progress lines.
fn run_exporter(python: &std::ffi::OsStr, out: &Path, progress: &mut ExportProgress<'_>) -> Result<(), String> {
    let mut child = Command::new(python)
        .arg("-")
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    std::io::Write::write_all(&mut stdin, EXPORTER.as_bytes()).map_err(|e| format!("cannot send the script: {e}"))?;
    drop(stdin);
    // Drain stderr on a thread so a chatty script cannot block on a full pipe.
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let line = line.map_err(|e| format!("cannot read its progress: {e}"))?;
        let mut parts = line.splitn(3, ' ');
        if let (Some(Ok(done)), Some(Ok(total))) =
            (parts.next().map(str::parse::<usize>), parts.next().map(str::parse::<usize>))
        {
            progress(done, total, parts.next().unwrap_or(""));
        }
    }
    let status = child.wait().map_err(|e| format!("cannot wait for it: {e}"))?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{status}: {}", last_lines(&errors, 5)));
    }
    if manifest(out).is_none() {
        return Err(format!("it wrote no {MANIFEST} in {}", out.display()));
    }
    Ok(())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_interpreter_names_the_install_command() {
        let err = OnnxPackage::find_with("/nonexistent/python3-hcal".as_ref()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, SourceError::NoPython { .. }), "{text}");
        assert!(text.contains("/nonexistent/python3-hcal") && text.contains(INSTALL_HINT), "{text}");
    }

    #[test]
    fn an_interpreter_without_onnx_names_the_install_command() {
        // `true` and `false` run but print no onnx answer.
        let err = OnnxPackage::find_with("true".as_ref()).unwrap_err();
        assert!(matches!(err, SourceError::NoOnnx { .. }), "{err}");
        let err = OnnxPackage::find_with("false".as_ref()).unwrap_err();
        assert!(matches!(err, SourceError::NoOnnx { .. }), "{err}");
        assert!(err.to_string().contains(INSTALL_HINT), "{err}");
    }
}
