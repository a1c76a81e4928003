//! Compiles `src/onednn.c` against hcal's plugin header and links oneDNN.
//!
//! Without oneDNN (no `oneapi/dnnl/dnnl.h` or no `libdnnl`) the C side is
//! built with `-DHCAL_ONEDNN_STUB`: the entry point then returns NULL, which
//! hcal reports as a plugin that cannot serve this process. The workspace
//! build never fails for lack of oneDNN. `HCAL_ONEDNN_STUB=1` forces the stub;
//! `DNNL_ROOT` points at a oneDNN install outside the system paths.

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let include = manifest.join("../hcal-plugin/include");
    println!("cargo:rerun-if-changed=src/onednn.c");
    println!("cargo:rerun-if-changed={}", include.join("hcal_plugin.h").display());
    println!("cargo:rerun-if-env-changed=DNNL_ROOT");
    // Set to build the stub even where oneDNN is installed (to test that path).
    println!("cargo:rerun-if-env-changed=HCAL_ONEDNN_STUB");

    let mut build = cc::Build::new();
    build.file("src/onednn.c").include(&include).std("c11").warnings(true).extra_warnings(true);
    let forced_stub = std::env::var_os("HCAL_ONEDNN_STUB").is_some_and(|v| !v.is_empty() && v != "0");
    match find_onednn().filter(|_| !forced_stub) {
        Some(root) => {
            if let Some(root) = root {
                build.include(root.join("include"));
                println!("cargo:rustc-link-search=native={}", root.join("lib").display());
            }
            build.compile("hcal_onednn_c");
            println!("cargo:rustc-link-lib=dylib=dnnl");
        }
        None => {
            let why = if forced_stub {
                "HCAL_ONEDNN_STUB is set"
            } else {
                "oneDNN (oneapi/dnnl/dnnl.h and libdnnl) not found"
            };
            println!(
                "cargo:warning={why}: the oneDNN plugin is built as a stub whose entry point returns NULL \
                 (install libdnnl-dev, or set DNNL_ROOT)"
            );
            build.define("HCAL_ONEDNN_STUB", None).compile("hcal_onednn_c");
        }
    }
}

/// `Some(None)`: oneDNN in the system paths; `Some(Some(root))`: under
/// `$DNNL_ROOT`; `None`: not found.
fn find_onednn() -> Option<Option<PathBuf>> {
    if let Ok(root) = std::env::var("DNNL_ROOT") {
        let root = PathBuf::from(root);
        if root.join("include/oneapi/dnnl/dnnl.h").exists() {
            return Some(Some(root));
        }
    }
    let headers = ["/usr/include", "/usr/local/include"];
    let libs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"];
    let header = headers.iter().any(|h| Path::new(h).join("oneapi/dnnl/dnnl.h").exists());
    let lib = libs.iter().any(|l| Path::new(l).join("libdnnl.so").exists());
    (header && lib).then_some(None)
}
