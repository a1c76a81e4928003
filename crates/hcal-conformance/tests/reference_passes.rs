//! The reference backend passes its own suite, and the case table is sound.

use hcal_conformance::{Filter, Verdict, cases, run};

#[test]
fn every_case_validates_and_the_table_covers_every_op() {
    let all = cases(&Filter::default());
    assert!(all.len() >= 300, "only {} cases", all.len());
    for case in &all {
        let descs: Vec<_> = case.inputs.iter().map(|i| i.as_ref().map(|i| &i.desc)).collect();
        hcal_core::infer_outputs(&case.op, &descs).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    }
    for op in hcal_core::Op::all_names() {
        assert!(all.iter().any(|c| c.op_name() == op), "no case for {op}");
    }
}

#[test]
fn reference_backend_passes_everything() {
    let backend = hcal_cpu::CpuBackend::new();
    let report = run(&backend, &Filter::default());
    let failures: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(report.summary.passed, report.summary.total);
}
