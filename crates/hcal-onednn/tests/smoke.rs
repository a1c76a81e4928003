//! Builds `tests/smoke.c` with the system C compiler and runs it on the
//! plugin library: the C ABI checked without hcal's Rust loader.

use std::path::PathBuf;
use std::process::Command;

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
fn c_harness_passes() {
    let lib = plugin_path();
    if !lib.exists() {
        skip!("{} is absent (build it with `cargo build -p hcal-onednn`)", lib.display());
        return;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let exe = out_dir.join("hcal_onednn_smoke");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let built = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(manifest.join("../hcal-plugin/include"))
        .arg(manifest.join("tests/smoke.c"))
        .arg("-o")
        .arg(&exe)
        .args(["-ldl", "-lm"])
        .output();
    let built = match built {
        Ok(out) => out,
        Err(e) => {
            skip!("no C compiler `{cc}` ({e})");
            return;
        }
    };
    assert!(built.status.success(), "compiling smoke.c failed:\n{}", String::from_utf8_lossy(&built.stderr));
    let run = Command::new(&exe).arg(&lib).output().expect("the smoke binary runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    println!("{stdout}");
    if run.status.code() == Some(77) {
        skip!("the plugin was built as a stub without oneDNN");
        return;
    }
    assert!(run.status.success(), "smoke.c failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
}
