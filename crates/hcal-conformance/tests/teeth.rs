//! The suite has teeth: a backend that is subtly wrong is reported failing,
//! case by case, while the ops it does not touch still pass.

use hcal_conformance::{Filter, Report, Verdict, run};
use hcal_core::{Backend, BackendWrapper, Call, DeviceInfo, Op, Result};
use hcal_cpu::CpuBackend;
use hcal_cpu::convert::{from_f64, to_f64};

/// The bugs a kernel author could plausibly ship.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// MatMul results off by 3 ulps per unit of K (an accumulator that loses
    /// precision at every step).
    MatMulUlpsTimesK,
    /// Softmax normalizes over the next axis instead of the requested one.
    SoftmaxWrongAxis,
    /// Attention ignores `is_causal`.
    AttentionIgnoresCausal,
}

/// The reference backend with one fault injected.
struct Faulty {
    inner: CpuBackend,
    fault: Fault,
    info: DeviceInfo,
}

impl Faulty {
    fn new(fault: Fault) -> Self {
        let inner = CpuBackend::new();
        let mut info = inner.info().clone();
        info.backend = format!("faulty-{fault:?}");
        Self { inner, fault, info }
    }
}

impl BackendWrapper for Faulty {
    fn inner(&self) -> &dyn Backend {
        &self.inner
    }

    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        match (self.fault, call.op()) {
            (Fault::MatMulUlpsTimesK, Op::MatMul) => {
                self.inner.execute(call)?;
                let (a, y) = (call.input(0).expect("A"), call.output(0).expect("Y"));
                let k = *a.shape().last().expect("rank >= 1") as f64;
                let ulp = y.dtype().unit_roundoff() * 2.0;
                let wrong: Vec<f64> =
                    to_f64(y.dtype(), &self.inner.read(y)?).iter().map(|v| v * (1.0 + 3.0 * k * ulp)).collect();
                self.inner.write(y, &from_f64(y.dtype(), &wrong))
            }
            (Fault::SoftmaxWrongAxis, Op::Softmax { axis }) => {
                let rank = call.input(0).expect("X").desc().rank() as i64;
                let wrong = Op::Softmax { axis: (axis.rem_euclid(rank) + 1) % rank };
                self.inner.execute(&Call::with_optional(&wrong, call.inputs(), call.outputs())?)
            }
            (Fault::AttentionIgnoresCausal, Op::Attention(attrs)) => {
                let wrong = Op::Attention(hcal_core::Attention { is_causal: false, ..*attrs });
                self.inner.execute(&Call::with_optional(&wrong, call.inputs(), call.outputs())?)
            }
            _ => self.inner.execute(call),
        }
    }
}

fn run_ops(fault: Fault, ops: &[&str]) -> Report {
    let filter = Filter { ops: ops.iter().map(|s| s.to_string()).collect(), quick: false };
    let report = run(&Faulty::new(fault), &filter);
    for case in report.cases.iter().filter(|c| c.verdict == Verdict::Fail) {
        println!("{fault:?} caught: {}: {}", case.name, case.detail);
    }
    report
}

fn failed(report: &Report, name: &str) -> bool {
    report.cases.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no case {name}")).verdict == Verdict::Fail
}

#[test]
fn matmul_off_by_ulps_times_k_is_caught() {
    let report = run_ops(Fault::MatMulUlpsTimesK, &["MatMul", "Softmax"]);
    // Positive operands leave no cancellation for the error to hide behind.
    assert!(failed(&report, "MatMul/f32/positive-33x31x300"));
    assert!(failed(&report, "MatMul/f32/positive-128x128x128"));
    // K = 0 gives exact zeros, which the fault cannot move; Softmax is untouched.
    assert!(!failed(&report, "MatMul/f32/5x7x0"));
    assert!(report.cases.iter().filter(|c| c.op == "Softmax").all(|c| c.verdict == Verdict::Pass));
    println!("{}", report.table());
}

#[test]
fn softmax_over_the_wrong_axis_is_caught() {
    let report = run_ops(Fault::SoftmaxWrongAxis, &["Softmax"]);
    for name in [
        "Softmax/f32/rows-3x20",
        "Softmax/f32/axis0-[7, 5]",
        "Softmax/f32/axis1-[2, 9, 4]",
        "Softmax/f16/axis-1-[5, 77]",
    ] {
        assert!(failed(&report, name), "{name} passed with softmax over the wrong axis");
    }
    // Every case where the two axes give different answers must fail.
    assert!(report.summary.failed >= 30, "only {} of {} caught", report.summary.failed, report.summary.total);
}

#[test]
fn attention_ignoring_causal_is_caught() {
    let report = run_ops(Fault::AttentionIgnoresCausal, &["Attention"]);
    for case in &report.cases {
        let causal = case.signature.contains("causal=1");
        // A decode step over its whole cache (Sq = Skv = 1 with past) masks nothing: it must pass.
        let masks_something = causal && !case.name.ends_with("past-decode");
        assert_eq!(case.verdict == Verdict::Fail, masks_something, "{}: {:?} {}", case.name, case.verdict, case.detail);
    }
}
