//! One backend shared by 8 threads running mixed ops (every op family,
//! f32/f16/bf16, masks, KV caches, position ids), every result checked.
//!
//! The expected outputs are the backend's own single-threaded outputs for
//! each case, and each case first passes the conformance judge against the
//! CPU reference ([`hcal_conformance::run_case`]); every concurrent result
//! must then equal them bit for bit, so a race that mixes up buffers,
//! parameters or batches shows up as a changed bit.
//!
//! Iterations per thread: [`DEFAULT_ITERS`] (1000) on every backend;
//! `HCAL_STRESS_ITERS=N` changes it (8 x 1000 on cpu, lavapipe and llvmpipe
//! take about 7 s together on two cores).

mod common;

use std::sync::Arc;

use common::{input_bytes, run_once};
use hcal::{Backend, DType};
use hcal_conformance::{Case, Verdict, cases, run_case};

/// Threads sharing one backend.
const THREADS: usize = 8;

/// Iterations per thread unless `HCAL_STRESS_ITERS` says otherwise.
const DEFAULT_ITERS: usize = 1000;

// The backends are `Send + Sync` by construction (the `Backend` trait
// requires it); checked here at compile time for the concrete types too.
const _: () = {
    const fn send_sync<T: Send + Sync + ?Sized>() {}
    send_sync::<hcal_cpu::CpuBackend>();
    send_sync::<hcal_wgpu::WgpuBackend>();
    send_sync::<dyn Backend>();
    send_sync::<hcal::Device>();
    send_sync::<hcal::DeviceTensor>();
};

/// A case with its inputs' bytes and the backend's single-threaded outputs.
struct Prepared {
    case: Case,
    inputs: Vec<Option<Vec<u8>>>,
    outputs: Vec<Option<Vec<u8>>>,
}

/// A mix of ops from the conformance table: a few cases per op family, in
/// every float dtype, small enough to run thousands of times.
fn mix() -> Vec<Case> {
    let table = cases(&hcal_conformance::Filter { ops: Vec::new(), quick: true });
    let mut picked: Vec<Case> = Vec::new();
    for case in table {
        let small = case.inputs.iter().flatten().all(|i| i.desc.numel() <= 4096);
        let seen = picked.iter().filter(|c| c.op_name() == case.op_name() && c.dtype() == case.dtype()).count();
        if small && seen < 1 {
            picked.push(case);
        }
    }
    picked
}

fn prepare(backend: &dyn Backend) -> Vec<Prepared> {
    let mut prepared = Vec::new();
    for case in mix() {
        if !backend.supports(&case.signature().expect("valid case")).is_native() {
            continue;
        }
        let judged = run_case(backend, &case);
        assert_eq!(judged.verdict, Verdict::Pass, "{}: {}", case.name, judged.detail);
        let inputs = input_bytes(&case);
        let outputs = run_once(backend, &case, &inputs).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        prepared.push(Prepared { case, inputs, outputs });
    }
    prepared
}

fn iterations() -> usize {
    std::env::var("HCAL_STRESS_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_ITERS)
}

#[test]
fn eight_threads_share_one_backend_and_every_result_is_right() {
    for name in hcal::available_backends() {
        let backend: Arc<dyn Backend> = Arc::from(hcal::open(&name).expect("open"));
        let prepared = Arc::new(prepare(&*backend));
        let ops: std::collections::BTreeSet<&str> = prepared.iter().map(|p| p.case.op_name()).collect();
        assert!(ops.len() >= 10, "[{name}] too few op families in the mix: {ops:?}");
        let dtypes: std::collections::BTreeSet<DType> = prepared.iter().map(|p| p.case.dtype()).collect();
        let iters = iterations();
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (backend, prepared) = (Arc::clone(&backend), Arc::clone(&prepared));
                std::thread::spawn(move || {
                    for i in 0..iters {
                        // Each thread walks the mix with its own stride, so
                        // different ops are in flight at once.
                        let p = &prepared[(i * (2 * thread + 1) + thread) % prepared.len()];
                        let got = run_once(&*backend, &p.case, &p.inputs)
                            .unwrap_or_else(|e| panic!("thread {thread}, iteration {i}, {}: {e}", p.case.name));
                        assert!(got == p.outputs, "thread {thread}, iteration {i}: {} changed", p.case.name);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a thread failed");
        }
        backend.sync().expect("sync");
        eprintln!(
            "[{name}] {THREADS} threads x {iters} iterations over {} cases ({} ops, dtypes {dtypes:?}): \
             every result bit-identical to the judged single-threaded one",
            prepared.len(),
            ops.len()
        );
    }
}
