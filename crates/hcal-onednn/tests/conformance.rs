//! hcal's conformance suite on the oneDNN plugin, loaded through hcal's real
//! plugin loader (`hcal_plugin::open`), as `--backend plugin:PATH` would.
//!
//! Every non-passing case is printed with its detail. A failure must be
//! listed as an `ExpectedFailure` scoped to backend `onednn` in
//! `crates/hcal-conformance/src/expected.rs` (oneDNN's own behaviour, with
//! the reason and a link); anything else fails this test.

use std::path::PathBuf;

use hcal_conformance::{Filter, Verdict};

/// Skip with a message, or fail when `HCAL_REQUIRE_ONEDNN` is set (CI
/// installs libdnnl-dev: there a stub build or a missing library is a failure).
macro_rules! skip {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        assert!(std::env::var_os("HCAL_REQUIRE_ONEDNN").is_none(), "HCAL_REQUIRE_ONEDNN is set but {message}");
        eprintln!("skipped: {message}");
    }};
}

/// The plugin library of this build: `target/<profile>/deps/libhcal_onednn.so`
/// (built with this test, the crate is also an rlib), else the uplifted
/// `target/<profile>/libhcal_onednn.so` of a `cargo build`.
fn plugin_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let deps = exe.parent().expect("tests run from target/<profile>/deps");
    let name = format!("{}hcal_onednn{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let fresh = deps.join(&name);
    if fresh.exists() { fresh } else { deps.parent().unwrap_or(deps).join(name) }
}

#[test]
fn conformance_suite_on_the_onednn_plugin() {
    let lib = plugin_path();
    if !lib.exists() {
        skip!("{} is absent (build it with `cargo build -p hcal-onednn`)", lib.display());
        return;
    }
    let backend = match hcal_plugin::open(&lib, "") {
        Ok(backend) => backend,
        Err(e) if e.to_string().contains("returned NULL") => {
            skip!("the plugin was built as a stub without oneDNN ({e})");
            return;
        }
        Err(e) => panic!("the oneDNN plugin does not open: {e}"),
    };
    let report = hcal_conformance::run(&backend, &Filter::default());
    println!("{}", report.table());
    for case in report.cases.iter().filter(|c| c.verdict != Verdict::Pass) {
        println!("{:?} {}: {}", case.verdict, case.name, case.detail);
    }
    let mut closest: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Pass)
        .filter_map(|c| c.max_error_ratio.map(|r| (r, c.name.as_str())))
        .collect();
    closest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("passing cases closest to their error bound (error / bound):");
    for (ratio, name) in closest.iter().take(8) {
        println!("  {ratio:.3} {name}");
    }
    let count = |v: Verdict| report.cases.iter().filter(|c| c.verdict == v).count();
    println!(
        "onednn: {} cases, {} passed, {} failed, {} unsupported, {} expected failures",
        report.summary.total,
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Unsupported),
        count(Verdict::ExpectedFailure)
    );
    let failed: Vec<_> = report.cases.iter().filter(|c| c.verdict == Verdict::Fail).map(|c| &c.name).collect();
    assert!(failed.is_empty(), "cases failing without an expected-failure entry: {failed:?}");
    // Every case the plugin does not pass says why, in the plugin's words.
    let silent: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Pass && c.detail.trim().is_empty())
        .map(|c| &c.name)
        .collect();
    assert!(silent.is_empty(), "cases skipped without a reason: {silent:?}");
    assert!(count(Verdict::Pass) >= 300, "oneDNN runs most of the table");
}
