//! The example backend certified as a vendor would certify theirs: the full
//! conformance table, every case it accepts passing, every case it declines
//! declined with a reason; and, registered through the facade, it is seen by
//! name like hcal's own backends.

use hcal_conformance::{Filter, Verdict, run};
use hcal_example_backend::ExampleBackend;

#[test]
fn every_accepted_case_passes_and_every_declined_one_says_why() {
    let report = run(&ExampleBackend::new(), &Filter::default());
    eprintln!("{}", report.table());
    let passed = report.cases.iter().filter(|c| c.verdict == Verdict::Pass).count();
    assert!(passed >= 100, "the example runs a real share of the table ({passed} passed)");
    for c in &report.cases {
        match c.verdict {
            Verdict::Pass => {}
            Verdict::Unsupported => assert!(!c.detail.is_empty(), "{}: declined without a reason", c.name),
            other => panic!("{}: {other:?}: {}", c.name, c.detail),
        }
    }
    for op in ["MatMul", "Softmax", "Relu", "Add"] {
        assert!(report.cases.iter().any(|c| c.op == op && c.verdict == Verdict::Pass), "{op} ran");
    }
    assert!(
        report.cases.iter().any(|c| c.op == "Attention" && c.detail.contains("not implemented in the example backend")),
        "Attention is declined with the reason"
    );
}

#[test]
fn registered_it_opens_by_name_and_is_listed() {
    hcal::register("example-test", |_| Ok(Box::new(ExampleBackend::new()))).unwrap();
    assert!(hcal::available_backends().iter().any(|n| n == "example-test"));
    let backend = hcal::open("example-test").unwrap();
    assert_eq!(backend.info().backend, "example");
    let again = hcal::register("example-test", |_| Ok(Box::new(ExampleBackend::new()))).unwrap_err();
    assert!(again.to_string().contains("not registered yet"), "{again}");
    let reserved = hcal::register("cpu", |_| Ok(Box::new(ExampleBackend::new()))).unwrap_err();
    assert!(reserved.to_string().contains("hcal's own"), "{reserved}");
}
