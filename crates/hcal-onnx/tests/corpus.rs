//! The official ONNX node tests for every op hcal defines, on `cpu` and on
//! every wgpu adapter this machine has.
//!
//! The corpus is that of the onnx package `python3` (or `$HCAL_PYTHON`)
//! imports (its data folder, or for onnx >= 1.19 its generated cases exported
//! once to `$HCAL_CACHE_DIR/onnx-VERSION`), or `$HCAL_ONNX_NODE_DIR`; the
//! folders in `$HCAL_ONNX_EXTRA_NODE_DIRS` (`:`-separated: another release's
//! corpus, such as onnx 1.18's data folder) run too. Without a corpus the test
//! says it skipped, unless `HCAL_REQUIRE_ONNX=1` (CI), where that is a
//! failure. As in the built-in suite, `HCAL_REQUIRE_ADAPTER=1` makes a missing
//! GPU adapter a failure.

use std::path::PathBuf;
use std::sync::OnceLock;

use hcal_conformance::Verdict;
use hcal_onnx::{OnnxReport, Options, run};

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// The ops whose every case must pass or be a listed expected failure or
/// unsupported with a reason: every op the crate maps (the list; Silu
/// has no ONNX operator).
const KEY_OPS: [&str; hcal_onnx::mapping::MAPPED_OPS.len()] = hcal_onnx::mapping::MAPPED_OPS;

/// Mapped ops whose every corpus case uses a dtype outside the standard, with
/// why: they must be found and be unsupported with a reason, as none can pass
/// (one that runs means the entry is stale).
const NO_CASE_IN_STANDARD_DTYPES: [(&str, &str); 3] = [
    (
        "Equal",
        "onnx's Equal cases compare INT32, small-integer and STRING tensors, dtypes the standard does not define",
    ),
    ("CumSum", "onnx's CumSum cases are DOUBLE or INT32, dtypes the hcal standard does not define"),
    (
        "DequantizeLinear",
        "onnx's cases use per-tensor or per-axis scales or blocks of 2, none the GGML blocks of 32 hcal defines (tests/blocked_dequantize.rs runs blocks of 32)",
    ),
];

fn check(report: &OnnxReport) {
    print!("{}", report.table());
    let failures: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.result.verdict == Verdict::Fail)
        .map(|c| format!("{}: {}", c.result.name, c.result.detail))
        .collect();
    assert!(failures.is_empty(), "{} failed on {}:\n{}", failures.len(), report.device.backend, failures.join("\n"));
    assert!(report.summary.total >= 250, "only {} cases found", report.summary.total);
    let rows = report.per_op();
    // TensorScatter came with opset 24: onnx 1.18's corpus has no case of it.
    for op in KEY_OPS.iter().filter(|op| **op != "TensorScatter") {
        let row = rows.iter().find(|r| r.op == *op).unwrap_or_else(|| panic!("no {op} case in the corpus"));
        if let Some((_, why)) = NO_CASE_IN_STANDARD_DTYPES.iter().find(|(name, _)| name == op) {
            assert_eq!(row.unsupported, row.found, "{op} ({why}), yet some case ran: {row:?}");
            continue;
        }
        assert!(row.passed > 0, "no {op} case passed: {row:?}");
    }
    for c in report.cases.iter().filter(|c| c.result.verdict.is_skip()) {
        assert!(!c.result.detail.trim().is_empty(), "{} skipped without a reason", c.result.name);
    }
    // Cheap enough to stay in CI: a few hundred small cases.
    assert!(report.elapsed_s < 60.0, "the corpus took {:.1} s on {}", report.elapsed_s, report.device.backend);
}

/// Every corpus to run (exported once per test binary), each from an onnx
/// release with an expected-failure list.
fn corpora() -> &'static [PathBuf] {
    static DIRS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let mut dirs = Vec::new();
        match std::env::var_os("HCAL_ONNX_NODE_DIR") {
            Some(dir) => dirs.push(PathBuf::from(dir)),
            None => match hcal_onnx::source::node_cases(&mut |_, _, _| {}) {
                Ok((_, dir)) => dirs.push(dir),
                Err(e) => {
                    assert!(!env_flag("HCAL_REQUIRE_ONNX"), "no ONNX node tests: {e}");
                    eprintln!("skipped the installed onnx's node tests: {e}");
                }
            },
        }
        let extra = std::env::var("HCAL_ONNX_EXTRA_NODE_DIRS").unwrap_or_default();
        dirs.extend(extra.split(':').filter(|d| !d.is_empty()).map(PathBuf::from));
        dirs.retain(|dir| {
            let version = hcal_onnx::onnx_version(dir);
            let listed = version.as_deref().is_some_and(|v| hcal_onnx::expected::LISTS.iter().any(|(l, _)| *l == v));
            // A folder outside an onnx package (HCAL_ONNX_NODE_DIR) has no version to check.
            if version.is_some() && !listed {
                let why = format!(
                    "{} is from onnx {}; expected-failure lists exist for onnx {:?}",
                    dir.display(),
                    version.clone().unwrap_or_default(),
                    hcal_onnx::expected::LISTS.map(|(v, _)| v)
                );
                assert!(!env_flag("HCAL_REQUIRE_ONNX"), "{why}");
                eprintln!("skipped: {why}");
            }
            version.is_none() || listed
        });
        dirs
    })
}

fn options(dir: &std::path::Path) -> Options {
    Options::for_corpus(dir, hcal_onnx::mapping::MAPPED_OPS.iter().map(|s| s.to_string()).collect())
}

#[test]
fn onnx_node_tests_on_cpu() {
    let backend = hcal::open("cpu").unwrap();
    for dir in corpora() {
        check(&run(&*backend, dir, &options(dir), &mut |_, _, _| {}).unwrap());
    }
}

#[test]
fn onnx_node_tests_on_every_wgpu_adapter() {
    if corpora().is_empty() {
        return;
    }
    let adapters: Vec<String> = hcal::available_backends().into_iter().filter(|n| n.starts_with("wgpu:")).collect();
    if adapters.is_empty() {
        let why = "no wgpu adapter found (on Linux: apt-get install mesa-vulkan-drivers for lavapipe)";
        assert!(!env_flag("HCAL_REQUIRE_ADAPTER"), "{why}");
        eprintln!("skipped: {why}");
        return;
    }
    for name in adapters {
        let backend = match hcal::open(&name) {
            Ok(b) => b,
            Err(e) if !env_flag("HCAL_REQUIRE_ADAPTER") => {
                eprintln!("skipped {name}: {e}");
                continue;
            }
            Err(e) => panic!("cannot open {name}: {e}"),
        };
        for dir in corpora() {
            check(&run(&*backend, dir, &options(dir), &mut |_, _, _| {}).unwrap());
        }
    }
}
