//! The official ONNX node tests for every op hcal defines, on `cpu` and on
//! every wgpu adapter this machine has.
//!
//! The corpus comes from `pip install onnx==1.18.0` (found through `python3`)
//! or `$HCAL_ONNX_NODE_DIR`. Without it the test says it skipped, unless
//! `HCAL_REQUIRE_ONNX=1` (CI), where that is a failure. As in the built-in
//! suite, `HCAL_REQUIRE_ADAPTER=1` makes a missing GPU adapter a failure.

use hcal_conformance::Verdict;
use hcal_onnx::{OnnxReport, Options, node_test_dir, run};

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// The ops whose every case must pass or be a listed expected failure or
/// unsupported with a reason: every op the crate maps (the list; Silu
/// has no ONNX operator).
const KEY_OPS: [&str; hcal_onnx::mapping::MAPPED_OPS.len()] = hcal_onnx::mapping::MAPPED_OPS;

/// Mapped ops none of whose cases in the corpus lies inside the standard, with why.
const NO_CASE_IN_THE_STANDARD: [(&str, &str); 1] =
    [("CumSum", "all 7 CumSum cases of onnx 1.18 are DOUBLE, a dtype the hcal standard does not define")];

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
    for op in &KEY_OPS {
        let row = rows.iter().find(|r| r.op == *op).unwrap_or_else(|| panic!("no {op} case in the corpus"));
        if let Some((_, why)) = NO_CASE_IN_THE_STANDARD.iter().find(|(o, _)| o == op) {
            // Every case is skipped with its reason; one that runs means the entry is stale.
            assert_eq!(row.unsupported, row.found, "{op}: {why}, yet some case ran: {row:?}");
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

/// The corpus the expected-failure list was written for.
const ONNX_VERSION: &str = "1.18.0";

fn corpus() -> Option<std::path::PathBuf> {
    let skip = |why: String| {
        assert!(!env_flag("HCAL_REQUIRE_ONNX"), "{why}");
        eprintln!("skipped: {why}");
        None
    };
    let Some(dir) = node_test_dir() else {
        return skip(format!(
            "ONNX node tests not found (pip install onnx=={ONNX_VERSION}, or set HCAL_ONNX_NODE_DIR)"
        ));
    };
    // A folder outside an onnx package (HCAL_ONNX_NODE_DIR) has no version to check.
    match hcal_onnx::onnx_version(&dir) {
        Some(v) if v != ONNX_VERSION => skip(format!(
            "{} is from onnx {v}; data/expected_failures.json is written for onnx {ONNX_VERSION}",
            dir.display()
        )),
        _ => Some(dir),
    }
}

#[test]
fn onnx_node_tests_on_cpu() {
    let Some(dir) = corpus() else { return };
    let backend = hcal::open("cpu").unwrap();
    check(&run(&*backend, &dir, &Options::hcal_ops(), &mut |_, _, _| {}).unwrap());
}

#[test]
fn onnx_node_tests_on_every_wgpu_adapter() {
    let Some(dir) = corpus() else { return };
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
        check(&run(&*backend, &dir, &Options::hcal_ops(), &mut |_, _, _| {}).unwrap());
    }
}
