//! Properties of every backend this machine can open, on random op calls:
//!
//! - valid small calls of every op (zero dims, broadcasting, grouped heads,
//!   masks, KV caches, position ids, every dtype) give what the reference
//!   gives, within the tolerance model: each is a conformance [`Case`] with
//!   seeded inputs, judged by [`hcal_conformance::run_case`] (which also checks
//!   outputs are completely written, inputs unmodified and a rerun bit-identical);
//! - on calls next to the rules and arbitrary ones, `supports` answers and
//!   `run` returns `Ok` or an `Err`, never panics (inputs are allocated when
//!   small; huge ones must fail at allocation with an error).
//!
//! Strategies are shared with hcal-core's validation properties. Case counts
//! are sized for CI (lavapipe and llvmpipe on two cores); `PROPTEST_CASES=N`
//! runs N per property and backend. Without a wgpu adapter the device
//! properties check the CPU backend only and say so, unless
//! `HCAL_REQUIRE_ADAPTER=1`, which makes a missing adapter a failure.

#[path = "../crates/hcal-core/tests/support/mod.rs"]
mod support;

use std::cell::Cell;
use std::sync::{Arc, OnceLock};

use hcal::{Backend, BackendExt, DType, Op, Tensor, TensorDesc, infer_outputs};
use hcal_conformance::generate::Gen;
use hcal_conformance::{Case, Input, Verdict, run_case};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::{Spec, arbitrary_spec, cases, medium_spec, mutated_spec, valid_spec};

/// The wgpu adapters, opened once (and the CPU backend, which runs the same
/// properties against itself as the oracle's own smoke test).
fn backends() -> &'static [(String, Arc<dyn Backend>)] {
    static BACKENDS: OnceLock<Vec<(String, Arc<dyn Backend>)>> = OnceLock::new();
    BACKENDS.get_or_init(|| {
        let require = std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1");
        let names: Vec<String> = hcal::available_backends();
        if !names.iter().any(|n| n.starts_with("wgpu:")) {
            assert!(!require, "HCAL_REQUIRE_ADAPTER=1 but no wgpu adapter was found");
            eprintln!("no wgpu adapter: only the cpu backend is checked");
        }
        names
            .into_iter()
            .map(|n| {
                let b = hcal::open(&n).unwrap_or_else(|e| panic!("cannot open {n}: {e}"));
                (n, Arc::from(b))
            })
            .collect()
    })
}

/// Seeded generators for a spec's inputs: floats away from zero (so Div,
/// Reciprocal and normalization stay well conditioned), masks, position ids
/// below the cache length, small integers for Cast and Transpose.
fn case_of(spec: &Spec, seed: u64) -> Case {
    let cache_rows = spec.inputs.get(1).and_then(Option::as_ref).map_or(1, |c| c.shape.first().copied().unwrap_or(1));
    let inputs = spec
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            d.as_ref().map(|d| {
                let generator = match (d.dtype, &spec.op) {
                    (DType::Bool, _) => Gen::Bool { p_true: 0.7 },
                    (DType::I64, Op::RotaryEmbedding(_)) => Gen::Index { max: cache_rows as i64 },
                    (DType::I64, _) => Gen::Index { max: 50 },
                    (_, Op::Attention(_)) if i == 3 => Gen::Uniform { lo: -1.0, hi: 1.0 },
                    _ => Gen::SignedRange { lo: 0.25, hi: 2.0 },
                };
                Input { desc: d.clone(), generator }
            })
        })
        .collect();
    let mut case = Case::new(format!("{}/random", spec.op.name()), spec.op.clone(), vec![])
        .with_optional_inputs(inputs)
        .with_outputs(spec.outputs.clone());
    case.seed = seed;
    case
}

/// Valid random calls match the reference on every backend.
#[test]
fn valid_calls_match_the_reference_on_every_backend() {
    for (name, backend) in backends() {
        let default = if name == "cpu" { 100 } else { 300 };
        let mut runner =
            TestRunner::new(Config { cases: cases(default), failure_persistence: None, ..Config::default() });
        let (passed, declined) = (Cell::new(0usize), Cell::new(0usize));
        let result = runner.run(&(valid_spec(), any::<u64>()), |(spec, seed)| {
            let case = case_of(&spec, seed);
            let result = run_case(&**backend, &case);
            match result.verdict {
                Verdict::Pass => passed.set(passed.get() + 1),
                Verdict::Unsupported | Verdict::ExpectedFailure | Verdict::ImpreciseExpected => {
                    declined.set(declined.get() + 1)
                }
                Verdict::Fail => {
                    return Err(TestCaseError::fail(format!(
                        "[{name}] {}: {}",
                        case.signature().map(|s| s.to_string()).unwrap_or_default(),
                        result.detail
                    )));
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        let (passed, declined) = (passed.get(), declined.get());
        eprintln!("[{name}] {passed} random valid calls matched the reference, {declined} declined");
    }
}

/// Medium-sized valid calls (tiled, split and looping kernel paths) match the reference.
#[test]
fn medium_calls_match_the_reference_on_every_device() {
    for (name, backend) in backends().iter().filter(|(n, _)| n != "cpu") {
        let mut runner = TestRunner::new(Config { cases: cases(60), failure_persistence: None, ..Config::default() });
        let passed = Cell::new(0usize);
        let result = runner.run(&(medium_spec(), any::<u64>()), |(spec, seed)| {
            let case = case_of(&spec, seed);
            let result = run_case(&**backend, &case);
            if result.verdict == Verdict::Fail {
                return Err(TestCaseError::fail(format!(
                    "[{name}] {}: {}",
                    case.signature().map(|s| s.to_string()).unwrap_or_default(),
                    result.detail
                )));
            }
            passed.set(passed.get() + usize::from(result.verdict == Verdict::Pass));
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        eprintln!("[{name}] {} random medium calls matched the reference", passed.get());
    }
}

/// Allocate small inputs (zero-filled), run, read the outputs: errors are
/// fine, panics are not. An input whose byte size overflows must fail to
/// allocate with an error; mid-sized ones are not allocated (host memory).
fn run_anything(backend: &dyn Backend, spec: &Spec) -> Result<(), TestCaseError> {
    // Only valid signatures can be built; whatever the backend answers for them, it must not panic.
    if let Ok(signature) = hcal::OpSignature::new(spec.op.clone(), spec.inputs.clone()) {
        let _ = backend.supports(&signature);
    }
    const SMALL: usize = 1 << 16;
    let mut inputs: Vec<Option<Tensor>> = Vec::new();
    let mut skipped = false;
    for d in spec.inputs.iter() {
        let Some(d) = d else {
            inputs.push(None);
            continue;
        };
        match d.byte_len() {
            Ok(n) if n <= SMALL => {
                let t = backend.alloc(d).map_err(|e| TestCaseError::fail(format!("alloc {d}: {e}")))?;
                backend.write(&t, &vec![0u8; n]).map_err(|e| TestCaseError::fail(format!("write {d}: {e}")))?;
                inputs.push(Some(t));
            }
            Ok(_) => skipped = true,
            Err(_) => {
                let t = backend.alloc(d);
                prop_assert!(t.is_err(), "{} allocated {}", backend.info().backend, d);
                skipped = true;
            }
        }
    }
    if skipped {
        for t in inputs.iter().flatten() {
            backend.free(t).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        return Ok(());
    }
    let descs: Vec<Option<&TensorDesc>> = spec.inputs.iter().map(Option::as_ref).collect();
    let mut outputs: Vec<Option<Tensor>> = Vec::new();
    if let Ok(out) = infer_outputs(&spec.op, &descs) {
        for (i, d) in out.iter().enumerate() {
            let wanted = spec.outputs.get(i).copied().unwrap_or(true) || !spec.op.output_is_optional(i);
            let small = d.byte_len().is_ok_and(|n| n <= SMALL);
            outputs.push(if wanted && small { backend.alloc(d).ok() } else { None });
        }
    }
    let in_refs: Vec<Option<&Tensor>> = inputs.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outputs.iter().map(Option::as_ref).collect();
    if backend.run_optional(&spec.op, &in_refs, &out_refs).is_ok() {
        for t in outputs.iter().flatten() {
            backend.read(t).map_err(|e| TestCaseError::fail(format!("read after a successful run: {e}")))?;
        }
    }
    for t in inputs.iter().chain(&outputs).flatten() {
        backend.free(t).map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    Ok(())
}

/// Mutated and arbitrary calls: every backend answers with a value or an error.
#[test]
fn any_call_is_an_answer_or_an_error_on_every_backend() {
    for (name, backend) in backends() {
        let mut runner = TestRunner::new(Config { cases: cases(500), failure_persistence: None, ..Config::default() });
        let strategy = prop_oneof![mutated_spec(), arbitrary_spec()];
        let (ran, accepted) = (Cell::new(0usize), Cell::new(0usize));
        let result = runner.run(&strategy, |spec| {
            ran.set(ran.get() + 1);
            let descs: Vec<Option<&TensorDesc>> = spec.inputs.iter().map(Option::as_ref).collect();
            if infer_outputs(&spec.op, &descs).is_ok() {
                accepted.set(accepted.get() + 1);
            }
            run_anything(&**backend, &spec)
        });
        if let Err(e) = result {
            panic!("[{name}] {e}");
        }
        let (ran, accepted) = (ran.get(), accepted.get());
        eprintln!("[{name}] {ran} mutated/arbitrary calls ({accepted} valid), no panic");
        backend.sync().expect("the backend still works after every rejected call");
    }
}

/// Calls whose tensors are all empty but whose head counts are huge (a
/// packed 3-D hidden size of 0 splits into any number of heads): validation
/// rejects head splits whose [B, H, S, D] views are not addressable, and what
/// it accepts finishes at once on every backend, Ok or Err, never a panic
/// (found by the op_validation fuzz target: an overflow in the reference).
#[test]
fn empty_calls_with_huge_head_counts_finish_on_every_backend() {
    use hcal::{Attention, RotaryEmbedding};
    let f = DType::F32;
    let empty = |shape: &[usize]| Some(TensorDesc::new(shape, f));
    let attention = |heads: usize, batch: usize| Spec {
        op: Op::Attention(Attention { q_num_heads: Some(heads), kv_num_heads: Some(heads), ..Attention::default() }),
        inputs: vec![empty(&[batch, 3, 0]), empty(&[batch, 5, 0]), empty(&[batch, 5, 0])],
        outputs: vec![true, true, true],
    };
    let rotary = |heads: usize, batch: usize| Spec {
        op: Op::RotaryEmbedding(RotaryEmbedding { num_heads: Some(heads), ..RotaryEmbedding::default() }),
        inputs: vec![empty(&[batch, 3, 0]), empty(&[batch, 3, 0]), empty(&[batch, 3, 0])],
        outputs: vec![true],
    };
    for spec in [attention(1 << 62, 8), rotary(1 << 62, 8)] {
        let e = infer_outputs(&spec.op, &spec.refs()).expect_err("[B, H, S, D] views past usize");
        assert!(e.to_string().contains("too large to address"), "{e}");
    }
    for (name, backend) in backends() {
        for spec in [attention(1 << 40, 2), rotary(1 << 40, 2), attention(usize::MAX / 64, 1)] {
            if infer_outputs(&spec.op, &spec.refs()).is_ok() {
                run_anything(&**backend, &spec).unwrap_or_else(|e| panic!("[{name}] {}: {e}", spec.op));
            }
        }
        backend.sync().unwrap_or_else(|e| panic!("[{name}] {e}"));
    }
}
