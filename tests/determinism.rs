//! Determinism beyond the conformance runner's rerun of each case on one
//! backend: the same inputs give bit-identical outputs
//!
//! - on two backends opened separately on the same adapter (fresh devices,
//!   pipelines, pools and batches), and
//! - in another process (this test binary run again as a child), compared
//!   through a digest of every output byte,
//!
//! over the quick conformance table (every op, dtype and edge shape of it).
//! The autotuner's choices persist per adapter (`HCAL_CACHE_DIR`), so the
//! kernels are the same across processes once a shape class is tuned.

mod common;

use common::{input_bytes, run_once};
use hcal::Backend;
use hcal_conformance::{Filter, cases};

/// Names the adapter a child process digests.
const CHILD: &str = "HCAL_DETERMINISM_CHILD";

/// Every output byte of the quick table on `backend`, per case (declined cases skipped).
fn outputs(backend: &dyn Backend) -> Vec<(String, Vec<Option<Vec<u8>>>)> {
    cases(&Filter { ops: Vec::new(), quick: true })
        .into_iter()
        .filter(|c| backend.supports(&c.signature().expect("valid case")).is_native())
        .map(|c| {
            let got = run_once(backend, &c, &input_bytes(&c)).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            (c.name, got)
        })
        .collect()
}

/// FNV-1a over every case name and output byte.
fn digest(outputs: &[(String, Vec<Option<Vec<u8>>>)]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (name, outs) in outputs {
        eat(name.as_bytes());
        for o in outs.iter().flatten() {
            eat(&(o.len() as u64).to_le_bytes());
            eat(o);
        }
    }
    h
}

#[test]
fn outputs_are_bit_identical_across_backends_and_processes() {
    if let Ok(name) = std::env::var(CHILD) {
        let backend = hcal::open(&name).expect("open in the child");
        println!("digest {:016x}", digest(&outputs(&*backend)));
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    for name in hcal::available_backends() {
        let first = outputs(&*hcal::open(&name).expect("open"));
        let second = outputs(&*hcal::open(&name).expect("open again"));
        assert_eq!(first.len(), second.len());
        for ((case, a), (_, b)) in first.iter().zip(&second) {
            assert!(a == b, "[{name}] {case}: outputs differ between two backends on one adapter");
        }
        let out = std::process::Command::new(&exe)
            .args(["--exact", "outputs_are_bit_identical_across_backends_and_processes", "--nocapture"])
            .env(CHILD, &name)
            .output()
            .expect("spawn the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "[{name}] child failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let child = stdout.lines().find_map(|l| l.strip_prefix("digest ")).expect("the child prints its digest");
        let here = format!("{:016x}", digest(&first));
        assert_eq!(child, here, "[{name}] outputs differ between processes");
        eprintln!("[{name}] {} cases bit-identical across two backends and two processes (digest {here})", first.len());
    }
}
