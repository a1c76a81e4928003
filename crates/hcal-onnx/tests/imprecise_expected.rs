//! The imprecise-expected-data verdict on an f16 causal GQA Attention whose
//! expected output ONNX's reference computed in f16 (tests/data/
//! attention_f16_gqa_causal, written by make_attention_f16_gqa_causal.py with
//! onnx 1.23.2; it lands 2.4e-3 from the exact result): a backend that agrees
//! with hcal's f64 reference gets the verdict with both deviations, and a
//! backend that is wrong on the case still fails, including one that
//! reproduces ONNX's f16 output exactly.

use std::path::Path;

use hcal::{Backend, BackendWrapper, Call, Op};
use hcal_conformance::Verdict;
use hcal_onnx::model::{load_case, load_data_sets};
use hcal_onnx::{OnnxCaseResult, judge_case};

fn case_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/attention_f16_gqa_causal"))
}

fn judge(backend: &dyn Backend) -> OnnxCaseResult {
    let case = load_case(case_dir()).unwrap();
    let record = judge_case(backend, &case, &[]);
    eprintln!("{:?}: {}", record.result.verdict, record.result.detail);
    record
}

/// ONNX's expected output as f16 bytes.
fn onnx_output_bytes() -> Vec<u8> {
    let case = load_case(case_dir()).unwrap();
    let values = load_data_sets(&case).unwrap()[0].outputs[0].values().unwrap();
    values.iter().flat_map(|&v| half::f16::from_f64(v).to_le_bytes()).collect()
}

/// Replaces every Attention output with `bytes(original)`.
struct Rewritten<F: Fn(&[u8]) -> Vec<u8> + Send + Sync>(Box<dyn Backend>, F);

impl<F: Fn(&[u8]) -> Vec<u8> + Send + Sync> BackendWrapper for Rewritten<F> {
    fn inner(&self) -> &dyn Backend {
        &*self.0
    }

    fn execute(&self, call: &Call<'_>) -> hcal::Result<()> {
        self.0.execute(call)?;
        if matches!(call.op(), Op::Attention(_)) {
            let y = call.output(0).expect("Attention's Y is requested");
            let rewritten = (self.1)(&self.0.read(y)?);
            self.0.write(y, &rewritten)?;
        }
        Ok(())
    }
}

#[test]
fn a_backend_that_agrees_with_the_reference_gets_the_imprecise_expected_verdict() {
    let record = judge(&*hcal::open("cpu").unwrap());
    assert_eq!(record.result.verdict, Verdict::ImpreciseExpected, "{}", record.result.detail);
    let detail = &record.result.detail;
    assert!(detail.contains("outside hcal's f64 bound") && detail.contains("within the bound of f16 arithmetic"));
    assert!(detail.contains("the backend agrees with hcal's f64 reference"), "{detail}");
}

#[test]
fn a_backend_off_by_a_thousandth_still_fails() {
    // Every output 0.2% too large: about ONNX's own f16 error, far outside hcal's bound.
    let skew = |bytes: &[u8]| -> Vec<u8> {
        bytes
            .chunks_exact(2)
            .flat_map(|c| {
                let v = half::f16::from_le_bytes([c[0], c[1]]).to_f64();
                half::f16::from_f64(v * 1.002 + 1e-3).to_le_bytes()
            })
            .collect()
    };
    let record = judge(&*hcal_core_wrap(Rewritten(hcal::open("cpu").unwrap(), skew)));
    assert_eq!(record.result.verdict, Verdict::Fail, "{}", record.result.detail);
    assert!(record.result.detail.contains("error ratio"), "{}", record.result.detail);
}

#[test]
fn a_backend_that_computes_like_onnx_in_f16_still_fails() {
    // Bit-identical to ONNX's expected output, so ONNX's own check would pass it.
    let onnx = onnx_output_bytes();
    let record = judge(&*hcal_core_wrap(Rewritten(hcal::open("cpu").unwrap(), move |_: &[u8]| onnx.clone())));
    assert_eq!(record.result.verdict, Verdict::Fail, "{}", record.result.detail);
    assert_eq!(record.onnx_default.map(|o| o.max_abs_error), Some(0.0));
}

/// A wrapper as a `Box<dyn Backend>` (the blanket `Backend` impl of `BackendWrapper`).
fn hcal_core_wrap(wrapper: impl BackendWrapper + 'static) -> Box<dyn Backend> {
    Box::new(wrapper)
}
