//! The suite has teeth: a backend that is subtly wrong is reported failing,
//! case by case, while the ops it does not touch still pass.

use hcal_conformance::{Filter, Report, Verdict, run};
use hcal_core::{Backend, BackendWrapper, Call, DType, DeviceInfo, Op, Result};
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
    /// Attention over a static cache ignores `nonpad_kv_seqlen` (attends the
    /// whole cache, padding included).
    AttentionIgnoresValidLengths,
    /// 4-bit weights read with the nibbles of a byte as neighbours (element
    /// 2i low, 2i + 1 high) instead of the two halves of the block.
    InterleavedNibbles,
    /// Erf from Abramowitz-Stegun 7.1.26 in f32 (Gelu's budgeted erf):
    /// within 1.5e-7 absolute, but nearly all relative precision is lost near 0.
    ErfAbsoluteOnly,
    /// Round with halves away from zero (C's `round`), not to even.
    RoundHalfAway,
    /// Pow on |base| (a kernel that calls WGSL's `pow`, undefined for negative bases, and keeps what it gives).
    PowDropsSign,
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
            (Fault::AttentionIgnoresValidLengths, Op::Attention(_)) if call.input(6).is_some() => {
                self.inner.execute(&Call::with_optional(call.op(), &call.inputs()[..6], call.outputs())?)
            }
            (Fault::InterleavedNibbles, Op::MatMul | Op::Gemm(_))
                if call.input(1).is_some_and(|b| matches!(b.dtype(), DType::Q4_0 | DType::Q4_1)) =>
            {
                // Rewrite B's bytes so the standard's decoding yields what the
                // interleaved reading would, run, then put B back.
                let b = call.input(1).expect("B");
                let original = self.inner.read(b)?;
                let head = if b.dtype() == DType::Q4_1 { 4 } else { 2 };
                let mut wrong = original.clone();
                for block in wrong.chunks_exact_mut(head + 16) {
                    let q: Vec<u8> = block[head..].iter().flat_map(|&x| [x & 0xF, x >> 4]).collect();
                    for j in 0..16 {
                        block[head + j] = q[j] | (q[j + 16] << 4);
                    }
                }
                self.inner.write(b, &wrong)?;
                let result = self.inner.execute(call);
                self.inner.write(b, &original)?;
                result
            }
            (Fault::ErfAbsoluteOnly, Op::Unary(hcal_core::UnaryOp::Erf)) => self.map_output(call, |x| {
                let x = x as f32;
                let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
                let p =
                    t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
                f64::from((1.0 - p * (-x * x).exp()).copysign(x))
            }),
            (Fault::RoundHalfAway, Op::Unary(hcal_core::UnaryOp::Round)) => self.map_output(call, f64::round),
            (Fault::PowDropsSign, Op::Binary(hcal_core::BinaryOp::Pow)) => {
                let a = call.input(0).expect("A");
                let original = self.inner.read(a)?;
                let magnitudes: Vec<f64> = to_f64(a.dtype(), &original).iter().map(|v| v.abs()).collect();
                self.inner.write(a, &from_f64(a.dtype(), &magnitudes))?;
                let result = self.inner.execute(call);
                self.inner.write(a, &original)?;
                result
            }
            _ => self.inner.execute(call),
        }
    }
}

impl Faulty {
    /// Y = f(X) elementwise for a one-input op, in place of the op.
    fn map_output(&self, call: &Call<'_>, f: impl Fn(f64) -> f64) -> Result<()> {
        let (x, y) = (call.input(0).expect("X"), call.output(0).expect("Y"));
        let values: Vec<f64> = to_f64(x.dtype(), &self.inner.read(x)?).into_iter().map(f).collect();
        self.inner.write(y, &from_f64(y.dtype(), &values))
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
        // A decode step over its whole cache (Sq = Skv = 1 with past) masks
        // nothing, nor does one over a static cache (Sq = 1: the frontier
        // n - 1 is the valid length's own): those must pass.
        let decode = case.name.ends_with("past-decode") || case.name.contains("/nonpad-decode");
        let masks_something = causal && !decode;
        assert_eq!(case.verdict == Verdict::Fail, masks_something, "{}: {:?} {}", case.name, case.verdict, case.detail);
    }
}

#[test]
fn attention_ignoring_valid_lengths_is_caught() {
    let report = run_ops(Fault::AttentionIgnoresValidLengths, &["Attention"]);
    for case in &report.cases {
        // Every static-cache case has a batch entry with fewer valid keys than T.
        let static_cache = case.name.contains("/nonpad-");
        assert_eq!(case.verdict == Verdict::Fail, static_cache, "{}: {:?} {}", case.name, case.verdict, case.detail);
    }
}

#[test]
fn reading_4_bit_weights_with_interleaved_nibbles_is_caught() {
    let report = run_ops(Fault::InterleavedNibbles, &["Gemm", "MatMul"]);
    for q in ["q4_0", "q4_1"] {
        for name in [
            format!("Gemm/{q}/weights-1x33x64"),
            format!("Gemm/{q}/weights-64x64x256"),
            format!("MatMul/{q}/weights-3x64x17"),
        ] {
            assert!(failed(&report, &name), "{name} passed with interleaved nibbles");
        }
    }
    // Q8_0 has no nibbles, and Q4_1 blocks of one value decode the same either way.
    assert!(!failed(&report, "Gemm/q8_0/weights-1x33x64"));
    assert!(!failed(&report, "Gemm/q4_1/min-only-blocks"));
    assert!(report.cases.iter().filter(|c| c.name.contains("/f32/")).all(|c| c.verdict == Verdict::Pass));
}

#[test]
fn erf_with_only_an_absolute_error_bound_is_caught() {
    let report = run_ops(Fault::ErfAbsoluteOnly, &["Erf"]);
    assert!(failed(&report, "Erf/f32/tiny"), "A-S 7.1.26 passed on tiny arguments");
}

#[test]
fn round_half_away_from_zero_is_caught() {
    let report = run_ops(Fault::RoundHalfAway, &["Round"]);
    assert!(failed(&report, "Round/f32/halves-to-even"));
    assert!(failed(&report, "Round/f16/halves-to-even"));
}

#[test]
fn pow_that_drops_the_sign_of_negative_bases_is_caught() {
    let report = run_ops(Fault::PowDropsSign, &["Pow"]);
    assert!(failed(&report, "Pow/f32/special-values"));
    assert!(failed(&report, "Pow/f32/negative-base-integer-exponents"));
    // Positive bases are unaffected.
    assert!(!failed(&report, "Pow/f32/same"));
}
