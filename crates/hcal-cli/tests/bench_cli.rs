//! End-to-end checks of `hcal bench` and `hcal report` (bench documents) on
//! the cpu backend: the JSON they write, the refusal of a same-kernel
//! baseline, and the exit codes of `--compare`. Never a check of how fast anything ran: the compare
//! tests use base runs doctored to be absurdly faster or slower.

use std::process::{Command, Output};

fn hcal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcal")).args(args).output().expect("run hcal")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp(name: &str) -> String {
    std::env::temp_dir().join(format!("hcal-bench-cli-{}-{name}", std::process::id())).to_string_lossy().into_owned()
}

/// A short cpu run of one matmul shape written to `path`.
fn bench_to(path: &str, extra: &[&str]) -> Output {
    let mut args =
        vec!["bench", "--backend", "cpu", "--shape", "16x8x4", "--max-reps", "2", "--no-peak", "--json", path];
    args.extend_from_slice(extra);
    hcal(&args)
}

#[test]
fn bench_writes_a_self_describing_json_and_report_renders_it() {
    let json = temp("run.json");
    let out = bench_to(&json, &["--csv", &temp("run.csv")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("16x8x4"));
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(value["kind"], "bench");
    let r = &value["results"][0];
    assert_eq!(
        (r["op"].as_str(), r["backend"].as_str(), r["shape"].as_str()),
        (Some("matmul"), Some("cpu"), Some("16x8x4"))
    );
    for field in ["dtype", "median_s", "gflops", "first_call_s", "samples_s"] {
        assert!(r.get(field).is_some(), "missing {field}");
    }
    let html = temp("report.html");
    let out = hcal(&["report", &json, &json, "--html", &html]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("Roofline"), "charts are inline SVG");
    assert!(!page.contains("<script"), "nothing to fetch or run at view time");
}

#[test]
fn a_baseline_that_is_the_candidates_kernel_is_refused() {
    let out = bench_to(&temp("same.json"), &["--baseline", "cpu"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("same kernel") && stderr.contains("--baseline cpu ran for no row"), "{stderr}");
    // Gemm is a different kernel of the reference backend: accepted.
    let out = bench_to(&temp("gemm.json"), &["--baseline", "gemm"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("x vs gemm"));
}

#[test]
fn cold_rows_record_their_operand_sets_and_refuse_the_composed_baseline() {
    let json = temp("cold.json");
    let out = bench_to(&json, &["--cold"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("cold operands (--cold): 1 of 1 rows"), "{}", text(&out.stdout));
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // 16x4 + 4x8 f32 operands (384 bytes a set) would take 1398102 sets to
    // fill 512 MiB: the cap holds them to COLD_MAX_SETS, and the output says so.
    let sets = hcal_bench::COLD_MAX_SETS;
    assert_eq!(value["results"][0]["cold_sets"], sets);
    assert_eq!(value["results"][0]["cold_bytes"], sets * 384);
    assert!(text(&out.stdout).contains("(the cap): a large cache may hold them"), "{}", text(&out.stdout));
    // Refused before anything runs, by the command line's own check.
    let refused = temp("cold-composed.json");
    let out = hcal(&[
        "bench",
        "--backend",
        "cpu",
        "--shape",
        "1x2x4x4",
        "--cold",
        "--baseline",
        "composed",
        "--json",
        &refused,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("the composed baseline is several"), "{}", text(&out.stderr));
    assert!(!std::path::Path::new(&refused).exists(), "nothing was measured");
}

/// A copy of the run at `path` with every time multiplied by `factor`.
fn doctored(path: &str, factor: f64, name: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for r in value["results"].as_array_mut().unwrap() {
        for key in ["median_s", "min_s", "max_s", "mean_s"] {
            r[key] = (r[key].as_f64().unwrap() * factor).into();
        }
    }
    let out = temp(name);
    std::fs::write(&out, value.to_string()).unwrap();
    out
}

#[test]
fn compare_exits_one_on_a_regression_only() {
    let json = temp("cmp.json");
    assert_eq!(bench_to(&json, &[]).status.code(), Some(0));
    let much_faster_base = doctored(&json, 1e-6, "fast-base.json");
    let out = bench_to(&temp("cmp2.json"), &["--compare", &much_faster_base]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("REGRESSION"));
    let much_slower_base = doctored(&json, 1e6, "slow-base.json");
    let out = bench_to(&temp("cmp3.json"), &["--compare", &much_slower_base]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("improvement"));
}

#[test]
fn the_copy_baseline_needs_a_copy_probe() {
    // The cpu backend has no device probes: every row says so, and the run
    // fails as a baseline that ran for no row does.
    let out = bench_to(&temp("copy.json"), &["--baseline", "copy"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("no copy probe") && stderr.contains("--baseline copy ran for no row"), "{stderr}");
}
