//! The conformance table on every available backend: one trial per
//! (backend, case), named `[backend] Op/dtype/what`, so `cargo test` lists,
//! filters and reports cases like ordinary tests
//! (`cargo test -p hcal-tests -- Attention`).
//!
//! Each wgpu adapter also runs, pinned, the kernel paths its autotuner and
//! heuristics might not pick on this machine: `:baseline` (the simple matmul
//! kernel), `:smem` (the workgroup-memory tiles) and `:mm=<kernel>` (one
//! register tile: texture and storage-buffer ones) for MatMul/Gemm, `:fused`,
//! `:composed`, `:composed3` (blocks of 3 query rows), `:split`
//! (flash-decoding) and `:flash` (the tiled one-pass kernel) for Attention,
//! and `:qgemv=64x1` (the quantized GEMV one column per invocation) for Gemm
//! and RMSNormGemm.
//!
//! With `HCAL_CONFORMANCE_SUBGROUP_ONLY=1` only the kernels that depend on
//! the adapter's subgroup width run: MatMul, Attention and the quantized
//! products (Gemm, RMSNormGemm: their 8-wide subgroup form, else the others)
//! on the Vulkan adapters, unpinned, pinned to the flash kernel and to the texture tiles
//! (CI's extra runs at lavapipe's widths 4 and 16, `LP_NATIVE_VECTOR_WIDTH`,
//! see `.ci/run`).
//!
//! A backend that cannot start (no GPU adapter on this machine) is reported
//! as skipped with its reason; with `HCAL_REQUIRE_ADAPTER=1` (CI) that is a
//! failure instead.

use std::sync::Arc;

use hcal::Backend;
use hcal_conformance::{Filter, Verdict, cases, run_case};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let require_adapter = std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1");
    let table = cases(&Filter::default());
    let mut trials = Vec::new();
    let names = hcal::available_backends();
    if !names.iter().any(|n| n.starts_with("wgpu:")) {
        let why = "no wgpu adapter found (on Linux: apt-get install mesa-vulkan-drivers for lavapipe)";
        if require_adapter {
            trials.push(Trial::test("[wgpu] adapter present", move || Err(Failed::from(why))));
        } else {
            eprintln!("skipping the wgpu backend: {why}");
            trials
                .push(Trial::test("[wgpu] adapter present", || Ok(())).with_ignored_flag(true).with_kind("no adapter"));
        }
    }
    let mut runs: Vec<(String, Vec<&str>)> = names.iter().map(|n| (n.clone(), Vec::new())).collect();
    for name in names.iter().filter(|n| n.starts_with("wgpu:")) {
        runs.push((format!("{name}:baseline"), vec!["MatMul", "Gemm"]));
        runs.push((format!("{name}:smem"), vec!["MatMul", "Gemm", "Attention"]));
        // Where the adapter has subgroups (lavapipe), texture tiles; else these
        // fall back to what the autotuner would pick.
        runs.push((format!("{name}:mm=texture-16x8-wg64x1"), vec!["MatMul", "Attention"]));
        runs.push((format!("{name}:mm=texture-8x8-wg64x1"), vec!["MatMul"]));
        runs.push((format!("{name}:mm=tiled-16x16-wg8x8"), vec!["MatMul", "Gemm"]));
        runs.push((format!("{name}:fused"), vec!["Attention"]));
        runs.push((format!("{name}:composed"), vec!["Attention"]));
        runs.push((format!("{name}:composed3"), vec!["Attention"]));
        runs.push((format!("{name}:split"), vec!["Attention"]));
        // The quantized GEMV's one-column forms (the Q4_1 two-block loop and
        // its texture order), which CPU drivers no longer pick unpinned.
        runs.push((format!("{name}:qgemv=64x1"), vec!["Gemm", "RMSNormGemm"]));
        // GL has no subgroups: `:flash` there is the row kernel (which GL also
        // takes unpinned for prefill from 32 query rows; each of its variants
        // compiles for 8-20 s on llvmpipe, the unpinned run compiles a few). Run beside the other
        // parallel trials it holds the one GL context past wgpu-hal's 1-second
        // lock timeout, and wgpu aborts the process ("Could not lock adapter
        // context"); `hcal conformance --backend wgpu:gl:0:flash --op Attention`
        // runs it one case at a time.
        if !name.starts_with("wgpu:gl:") {
            runs.push((format!("{name}:flash"), vec!["Attention"]));
        }
    }
    // The subgroup-width runs: the families whose kernels change with the
    // width, on the adapters that have subgroups.
    if std::env::var("HCAL_CONFORMANCE_SUBGROUP_ONLY").is_ok_and(|v| v == "1") {
        let width_dependent = |name: &str| {
            let pin = name.splitn(4, ':').nth(3).unwrap_or("");
            name.starts_with("wgpu:vulkan:") && (pin.is_empty() || pin == "flash" || pin.starts_with("mm=texture"))
        };
        runs.retain(|(name, _)| width_dependent(name));
        // The quantized products (Gemm, RMSNormGemm) take their subgroup form
        // only with 8-wide subgroups: at other widths their other forms run.
        let width_dependent_op = |op: &str| matches!(op, "MatMul" | "Attention" | "Gemm" | "RMSNormGemm");
        for (_, ops) in &mut runs {
            if ops.is_empty() {
                *ops = vec!["MatMul", "Attention", "Gemm", "RMSNormGemm"];
            }
            ops.retain(|op| width_dependent_op(op));
        }
    }
    for (name, ops) in runs {
        let backend: Arc<dyn Backend> = match hcal::open(&name) {
            Ok(b) => Arc::from(b),
            Err(e) if require_adapter => {
                trials.push(Trial::test(format!("[{name}] open"), move || {
                    Err(Failed::from(format!("cannot open {name}: {e}")))
                }));
                continue;
            }
            Err(e) => {
                eprintln!("skipping backend {name}: {e}");
                trials.push(Trial::test(format!("[{name}] open"), || Ok(())).with_ignored_flag(true));
                continue;
            }
        };
        for case in table.iter().filter(|c| ops.is_empty() || ops.contains(&c.op_name())) {
            // Declined signatures are listed as ignored, with the reason as the trial's kind.
            if let hcal::Support::Unsupported(reason) = backend.supports(&case.signature().expect("valid case")) {
                let trial = Trial::test(format!("[{name}] {}", case.name), || Ok(()));
                trials.push(trial.with_ignored_flag(true).with_kind(format!("unsupported: {reason}")));
                continue;
            }
            let (backend, case) = (Arc::clone(&backend), case.clone());
            trials.push(Trial::test(format!("[{name}] {}", case.name), move || {
                let result = run_case(&*backend, &case);
                match result.verdict {
                    Verdict::Pass => Ok(()),
                    Verdict::Fail => Err(Failed::from(result.detail)),
                    // Skips carry their reason in the output, never silently.
                    Verdict::Unsupported | Verdict::ExpectedFailure | Verdict::ImpreciseExpected => {
                        println!("skipped {}: {}", case.name, result.detail);
                        Ok(())
                    }
                }
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
