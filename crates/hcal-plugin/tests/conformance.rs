//! The conformance suite on the C test plugins: the reference plugin passes
//! every case it accepts; the broken plugin's wrong answers (Add, Mul) are
//! reported as failures. Its crashing and hanging ops (Exp, Tanh, Relu) are
//! never run in this process.

mod common;

use hcal_conformance::{Filter, Verdict};
use hcal_plugin::test_plugins;

/// The ops the reference plugin implements (partly: MatMul and RMSNormGemm
/// rank 2 only, Softmax on the last axis only, f32 only), hcal's fused steps
/// GatedUnary, RMSNormGemm and SplitRotaryScatter through ABI 1.3.
const ACCEPTED: [&str; 15] = [
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Sigmoid",
    "Silu",
    "Tanh",
    "Exp",
    "Neg",
    "Softmax",
    "GatedUnary",
    "RMSNormGemm",
    "SplitRotaryScatter",
];

#[test]
fn reference_plugin_passes_every_case_it_accepts() {
    let Some(path) = common::plugin("reference conformance", test_plugins::reference(), "reference (cref)") else {
        return;
    };
    let backend = hcal_plugin::open(path, "").unwrap();
    let mut ops: Vec<String> = ACCEPTED.iter().map(|s| s.to_string()).collect();
    // Ops it declines outright, to see their reasons.
    ops.extend(["Sqrt", "Max", "Gemm", "LayerNormalization"].map(String::from));
    let report = hcal_conformance::run(&backend, &Filter { ops, quick: false });
    eprintln!("{}", report.table());
    assert!(report.all_passed(), "{}", report.table());
    assert_eq!(report.device.backend, "cref");
    let s = report.summary;
    assert_eq!(s.passed + s.skipped, s.total);
    assert!(s.passed > 100, "{s:?}");
    for c in &report.cases {
        match c.verdict {
            Verdict::Pass => assert!(ACCEPTED.contains(&c.op.as_str()), "{} passed", c.name),
            Verdict::Unsupported => {
                assert!(c.detail.starts_with("cref "), "{}: reason {:?}", c.name, c.detail);
                assert!(!c.detail.is_empty());
            }
            other => panic!("{}: {other:?}: {}", c.name, c.detail),
        }
    }
    // Every f32 case of the elementwise ops runs; declined ones are declined for a named reason.
    for c in report.cases.iter().filter(|c| c.verdict == Verdict::Unsupported) {
        let why = &c.detail;
        let named = why.contains("f32 only")
            || why.contains("does not implement")
            || why.contains("rank-2 operands only")
            || why.contains("last axis only")
            || why.contains("C of shape [M, N] only");
        assert!(named, "{}: {why}", c.name);
    }
    assert!(report.cases.iter().any(|c| c.op == "Sqrt" && c.detail.contains("does not implement Sqrt")));
    // The fused steps of ABI 1.3 really run through the C table (RMSNormGemm
    // has one f32 case; the rest have a quantized or f16 operand).
    let passed = |op: &str| report.cases.iter().filter(|c| c.op == op && c.verdict == Verdict::Pass).count();
    let fused = ["GatedUnary", "RMSNormGemm", "SplitRotaryScatter"].map(passed);
    assert!(fused[0] >= 5 && fused[1] >= 1 && fused[2] >= 3, "{fused:?}");
}

#[test]
fn broken_plugin_wrong_values_are_reported_as_failures() {
    let Some(path) = common::plugin("broken conformance", test_plugins::broken(), "broken (cbroken)") else { return };
    let backend = hcal_plugin::open(path, "").unwrap();
    assert_eq!(hcal_core::Backend::info(&backend).backend, "cbroken");
    // ONLY the faults that return: Exp, Tanh and Relu crash or hang the process.
    let report = hcal_conformance::run(&backend, &Filter { ops: vec!["Add".into(), "Mul".into()], quick: false });
    eprintln!("{}", report.table());
    assert!(!report.all_passed());
    let mut failed = [0, 0];
    for c in &report.cases {
        // f16/bf16 are declined; an empty output has nothing to get wrong, and
        // on [NaN, 1, NaN, inf] and [2, NaN, NaN, 3] a - b is a + b (NaN, NaN, NaN, inf).
        if c.verdict == Verdict::Unsupported {
            assert!(c.detail.contains("f32 only"), "{}: {}", c.name, c.detail);
            continue;
        }
        if c.name.ends_with("/empty") || c.name == "Add/f32/nan-propagates" {
            continue;
        }
        assert_eq!(c.verdict, Verdict::Fail, "{} should fail: {}", c.name, c.detail);
        if c.op == "Add" {
            failed[0] += 1;
            assert!(c.detail.contains("error ratio"), "{}: {}", c.name, c.detail);
        } else {
            failed[1] += 1;
            // Element 0 is NaN where the reference is a number.
            assert!(c.detail.contains("element 0") && c.detail.contains("got NaN"), "{}: {}", c.name, c.detail);
        }
    }
    assert!(failed[0] >= 6 && failed[1] >= 6, "{failed:?}");
}
