//! Builds the C test plugins of `tests/plugins/` into shared libraries in
//! `OUT_DIR` and passes their paths on as `HCAL_TEST_PLUGIN_<NAME>`:
//!
//! - `HCAL_TEST_PLUGIN_CREF`: `reference.c`, the correct f32 plugin "cref";
//! - `HCAL_TEST_PLUGIN_CBROKEN`: `broken.c`, the faulty plugin "cbroken";
//! - `HCAL_TEST_PLUGIN_ABI2`: `reference.c` reporting ABI major 2;
//! - `HCAL_TEST_PLUGIN_ABI11`: `reference.c` reporting ABI 1.1;
//! - `HCAL_TEST_PLUGIN_NOSYMBOL`: `nosymbol.c`, a library without the entry point;
//! - `HCAL_TEST_PLUGIN_CHAOS`: `chaos.c`, answers chosen by a byte script (the
//!   `plugin_abi` fuzz target).
//!
//! The `cc` crate only finds the C compiler (honouring `CC`, `CFLAGS` and the
//! target); the build is one plain compiler command per library. Without a
//! working C compiler (or on a target whose compiler is not gcc/clang-like)
//! every variable is empty and a warning says why; the tests then report a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Plugin {
    env: &'static str,
    lib: &'static str,
    source: &'static str,
    defines: &'static [&'static str],
}

const PLUGINS: [Plugin; 7] = [
    Plugin { env: "CREF", lib: "cref", source: "reference.c", defines: &[] },
    Plugin { env: "CBROKEN", lib: "cbroken", source: "broken.c", defines: &[] },
    Plugin { env: "ABI2", lib: "abi2", source: "reference.c", defines: &["-DHCAL_TEST_ABI_MAJOR=2"] },
    Plugin { env: "ABI11", lib: "abi11", source: "reference.c", defines: &["-DHCAL_TEST_ABI_MINOR=1"] },
    Plugin { env: "ABI12", lib: "abi12", source: "reference.c", defines: &["-DHCAL_TEST_ABI_MINOR=2"] },
    Plugin { env: "NOSYMBOL", lib: "nosymbol", source: "nosymbol.c", defines: &[] },
    Plugin { env: "CHAOS", lib: "chaos", source: "chaos.c", defines: &[] },
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let sources = manifest.join("tests/plugins");
    let include = manifest.join("include");
    println!("cargo:rerun-if-changed={}", include.join("hcal_plugin.h").display());
    for p in &PLUGINS {
        println!("cargo:rerun-if-changed={}", sources.join(p.source).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let (prefix, suffix) = match target_os.as_str() {
        "macos" | "ios" => ("lib", "dylib"),
        "windows" => ("", "dll"),
        _ => ("lib", "so"),
    };
    let compiler = if target_env == "msvc" {
        Err("the MSVC toolchain is not supported by this build script (gcc or clang needed)".to_string())
    } else {
        cc::Build::new().try_get_compiler().map_err(|e| format!("no C compiler found: {e}"))
    };
    for p in &PLUGINS {
        let path = out_dir.join(format!("{prefix}{}.{suffix}", p.lib));
        let built =
            compiler.as_ref().map_err(Clone::clone).and_then(|c| compile(c, p, &sources, &include, &path, &target_os));
        let path = match built {
            Ok(()) => Some(path),
            Err(why) => skip(p, &why),
        };
        let value = path.map(|p| p.display().to_string()).unwrap_or_default();
        println!("cargo:rustc-env=HCAL_TEST_PLUGIN_{}={value}", p.env);
    }
}

fn skip(p: &Plugin, why: &str) -> Option<PathBuf> {
    println!("cargo:warning=hcal-plugin: test plugin {} not built ({why}); the tests that need it will skip", p.lib);
    None
}

fn compile(
    compiler: &cc::Tool,
    p: &Plugin,
    sources: &Path,
    include: &Path,
    out: &Path,
    target_os: &str,
) -> Result<(), String> {
    let mut cmd = compiler.to_command();
    cmd.args(["-std=c11", "-shared", "-fPIC", "-O2", "-o"]).arg(out).arg(sources.join(p.source));
    cmd.arg("-I").arg(include).args(p.defines);
    if target_os == "linux" {
        cmd.arg("-lm");
    }
    let output = run(&mut cmd)?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("{cmd:?} failed: {}", stderr.lines().next().unwrap_or("(no output)")))
    }
}

fn run(cmd: &mut Command) -> Result<std::process::Output, String> {
    cmd.output().map_err(|e| format!("cannot run the C compiler {:?}: {e}", cmd.get_program()))
}
