//! Running one case on a backend and judging it against the reference.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use hcal_core::{Backend, BackendExt, Call, Error, OpSignature, Support, Tensor};
use hcal_cpu::CpuBackend;
use hcal_cpu::convert::{try_from_f64, try_to_f64};

use crate::case::Case;
use crate::expected::ExpectedFailure;
use crate::generate::{Gen, Rng};
use crate::report::{CaseResult, Verdict};
use crate::tolerance::{CaseData, core_bound, rounding_terms};

/// Byte that every output is filled with before a run: 0xFF bytes are NaN in
/// f32, f16 and bf16, so a kernel that reads its destination shows up.
const POISON: u8 = 0xFF;

/// Inputs, oracle outputs and the outputs a candidate produced.
struct Outcome {
    outputs: Vec<Option<Vec<u8>>>,
}

/// Run `case` on `backend`, compare with the oracle, apply expected failures.
pub(crate) fn run_case(
    backend: &dyn Backend,
    oracle: &CpuBackend,
    case: &Case,
    expected: &[ExpectedFailure],
) -> CaseResult {
    run_case_against(backend, oracle, case, expected, None).0
}

/// As [`run_case`]; with `outputs_from_elsewhere` (expected outputs produced
/// by another implementation, per output slot) those must also lie within the
/// bound of the oracle, and the candidate's decoded outputs are returned.
pub(crate) fn run_case_against(
    backend: &dyn Backend,
    oracle: &CpuBackend,
    case: &Case,
    expected: &[ExpectedFailure],
    outputs_from_elsewhere: Option<&[Option<Vec<f64>>]>,
) -> (CaseResult, Vec<Option<Vec<f64>>>) {
    let start = Instant::now();
    let mut produced = Vec::new();
    let info = backend.info();
    let mut result = CaseResult {
        name: case.name.clone(),
        op: case.op_name().to_string(),
        dtype: case.dtype().to_string(),
        signature: String::new(),
        verdict: Verdict::Pass,
        max_error_ratio: None,
        max_abs_error: None,
        detail: String::new(),
        elapsed_ms: 0.0,
    };
    let signature = match case.signature() {
        Ok(signature) => signature,
        Err(e) => {
            result.verdict = Verdict::Fail;
            result.detail = format!("invalid case (a bug in the case table): {e}");
            return (result, produced);
        }
    };
    result.signature = signature.to_string();
    if let Support::Unsupported(reason) = backend.supports(&signature) {
        result.verdict = Verdict::Unsupported;
        result.detail = reason;
        return (result, produced);
    }
    let judged = catch_unwind(AssertUnwindSafe(|| {
        judge(backend, oracle, case, &signature, outputs_from_elsewhere, &mut result, &mut produced)
    }));
    let failure = match judged {
        Ok(Ok(())) => None,
        Ok(Err(msg)) => Some(msg),
        Err(panic) => Some(format!(
            "backend panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    };
    let entry = expected.iter().find(|e| e.matches(&info.backend, &info.name, &case.name));
    match (failure, entry) {
        (Some(msg), Some(e)) => {
            result.verdict = Verdict::ExpectedFailure;
            result.detail = format!("{} (observed: {msg})", e.reason);
        }
        (Some(msg), None) => {
            result.verdict = Verdict::Fail;
            result.detail = msg;
        }
        (None, Some(e)) => {
            result.verdict = Verdict::Fail;
            result.detail = format!("unexpected pass: the expected-failure entry ({}) is stale; remove it", e.reason);
        }
        (None, None) => {}
    }
    result.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    (result, produced)
}

/// The checks of one case; `Err` carries the failure message. `elsewhere`:
/// outputs of another implementation to hold to the same bounds; `produced`
/// receives the candidate's decoded outputs.
fn judge(
    backend: &dyn Backend,
    oracle: &CpuBackend,
    case: &Case,
    signature: &OpSignature,
    elsewhere: Option<&[Option<Vec<f64>>]>,
    result: &mut CaseResult,
    produced: &mut Vec<Option<Vec<f64>>>,
) -> Result<(), String> {
    let out_descs = signature.outputs();
    let mut values = Vec::new();
    let mut input_bytes = Vec::new();
    for (slot, input) in case.inputs.iter().enumerate() {
        let v = input
            .as_ref()
            .map(|i| i.generator.values(&i.desc, &mut Rng::new(case.seed ^ (slot as u64 + 1).wrapping_mul(0x9E37))));
        let bytes = v
            .as_ref()
            .zip(input.as_ref())
            .map(|(v, i)| match &i.generator {
                Gen::Bytes(b) => Ok(b.clone()),
                _ => try_from_f64(i.desc.dtype, v, "input bytes"),
            })
            .transpose()
            .map_err(|e| e.to_string())?;
        // What the tolerance model sees is what the bytes hold: exact for
        // element dtypes (generators round), and for block-quantized inputs the
        // dequantized values (re-quantizing dequantized values can move a scale).
        let v = bytes
            .as_ref()
            .zip(input.as_ref())
            .map(|(b, i)| try_to_f64(i.desc.dtype, b, "input values"))
            .transpose()
            .map_err(|e| e.to_string())?;
        input_bytes.push(bytes);
        values.push(v);
    }
    let reference = execute(oracle, case, signature, &input_bytes).map_err(|e| format!("reference failed: {e}"))?;
    let first = execute(backend, case, signature, &input_bytes).map_err(|e| format!("execution failed: {e}"))?;
    if first.inputs_modified {
        return Err("an input tensor was modified by the call".into());
    }
    let second =
        execute(backend, case, signature, &input_bytes).map_err(|e| format!("second execution failed: {e}"))?;
    if second.outcome.outputs != first.outcome.outputs {
        return Err("rerun with the same inputs is not bit-identical".into());
    }
    // Readbacks widened to f64 (8 bytes an element), allocated fallibly.
    let decode = |outputs: &[Option<Vec<u8>>]| -> Result<Vec<Option<Vec<f64>>>, String> {
        outputs
            .iter()
            .zip(out_descs)
            .map(|(b, d)| b.as_ref().map(|b| try_to_f64(d.dtype, b, "readback as f64")).transpose())
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())
    };
    let ref_values = decode(&reference.outcome.outputs)?;
    let data = CaseData { case, signature, inputs: &values, reference: &ref_values };
    let mut worst: Option<(f64, String)> = None;
    let mut worst_elsewhere: Option<(f64, String)> = None;
    let mut max_abs: f64 = 0.0;
    *produced = decode(&first.outcome.outputs)?;
    for (slot, desc) in out_descs.iter().enumerate() {
        let (Some(got), Some(want)) = (&produced[slot], &ref_values[slot]) else { continue };
        // Integer and bool outputs, data movement and dtype conversion (which
        // the standard defines as round-to-nearest-even) must match exactly.
        let exact = !desc.dtype.is_float() || case.op.is_exact();
        let core = if exact { vec![0.0; want.len()] } else { core_bound(&data, slot) };
        let other = elsewhere.and_then(|e| e.get(slot)).and_then(Option::as_ref);
        if let Some(other) = other
            && other.len() != want.len()
        {
            return Err(format!("output {slot}: {} expected values for {desc}", other.len()));
        }
        for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
            let bound = if exact { 0.0 } else { core[i] + rounding_terms(desc.dtype, w) };
            let (ratio, abs_err) = element_ratio(g, w, bound, exact);
            if abs_err.is_finite() {
                max_abs = max_abs.max(abs_err);
            }
            if worst.as_ref().is_none_or(|(r, _)| ratio > *r) {
                let loc = format!("output {slot} element {i} of {desc}: got {g:e}, reference {w:e}, bound {bound:.3e}");
                worst = Some((ratio, loc));
            }
            if let Some(other) = other {
                let e = other[i];
                let (ratio, _) = element_ratio(e, w, bound, exact);
                if worst_elsewhere.as_ref().is_none_or(|(r, _)| ratio > *r) {
                    let loc = format!(
                        "output {slot} element {i} of {desc}: expected {e:e}, reference {w:e}, bound {bound:.3e}"
                    );
                    worst_elsewhere = Some((ratio, loc));
                }
            }
        }
    }
    result.max_abs_error = Some(max_abs);
    let backend_ratio = worst.as_ref().map_or(0.0, |(r, _)| *r);
    let elsewhere_ratio = worst_elsewhere.as_ref().map_or(0.0, |(r, _)| *r);
    result.max_error_ratio = Some(backend_ratio.max(elsewhere_ratio));
    if let Some((ratio, loc)) = worst {
        if ratio > 1.0 {
            return Err(format!("error ratio {ratio:.3} > 1 at {loc}"));
        }
        result.detail = format!("worst at {loc}");
    }
    // The other implementation's outputs are held to the bound a device gets:
    // beyond it, hcal's reference and that implementation disagree on the op.
    if let Some((ratio, loc)) = worst_elsewhere
        && ratio > 1.0
    {
        return Err(format!(
            "the expected output disagrees with hcal's reference: error ratio {ratio:.3} > 1 at {loc}"
        ));
    }
    Ok(())
}

/// `(|got - ref| / bound, |got - ref|)`, with NaN and infinities required to match exactly.
fn element_ratio(got: f64, want: f64, bound: f64, exact: bool) -> (f64, f64) {
    if want.is_nan() || got.is_nan() {
        return if want.is_nan() && got.is_nan() { (0.0, 0.0) } else { (f64::INFINITY, f64::INFINITY) };
    }
    if want.is_infinite() || got.is_infinite() || exact {
        return if got == want { (0.0, 0.0) } else { (f64::INFINITY, (got - want).abs()) };
    }
    let err = (got - want).abs();
    let ratio = if err == 0.0 { 0.0 } else { err / bound };
    (ratio, err)
}

struct Execution {
    outcome: Outcome,
    inputs_modified: bool,
}

/// Upload, poison outputs, run, read back, check inputs, free.
fn execute(
    backend: &dyn Backend,
    case: &Case,
    signature: &OpSignature,
    input_bytes: &[Option<Vec<u8>>],
) -> Result<Execution, Error> {
    let mut allocated: Vec<Tensor> = Vec::new();
    let result = (|| {
        let mut inputs = Vec::new();
        for (input, bytes) in case.inputs.iter().zip(input_bytes) {
            match (input, bytes) {
                (Some(i), Some(b)) => {
                    let t = backend.alloc(&i.desc)?;
                    allocated.push(t.clone());
                    backend.write(&t, b)?;
                    inputs.push(Some(t));
                }
                _ => inputs.push(None),
            }
        }
        let mut outputs = Vec::new();
        for (slot, desc) in signature.outputs().iter().enumerate() {
            if case.outputs.get(slot).copied().unwrap_or(false) {
                let t = backend.alloc(desc)?;
                allocated.push(t.clone());
                backend.write(&t, &hcal_core::host_vec(desc.byte_len()?, POISON, &format!("poison for {desc}"))?)?;
                outputs.push(Some(t));
            } else {
                outputs.push(None);
            }
        }
        let in_refs: Vec<Option<&Tensor>> = inputs.iter().map(Option::as_ref).collect();
        let out_refs: Vec<Option<&Tensor>> = outputs.iter().map(Option::as_ref).collect();
        // Validated once for the whole case: the call reuses the signature's geometry.
        backend.run_call(&Call::from_signature(signature.clone(), &in_refs, &out_refs)?)?;
        let mut read = Vec::new();
        for t in &outputs {
            read.push(t.as_ref().map(|t| backend.read(t)).transpose()?);
        }
        let mut inputs_modified = false;
        for (t, bytes) in inputs.iter().zip(input_bytes) {
            if let (Some(t), Some(b)) = (t, bytes) {
                inputs_modified |= backend.read(t)? != *b;
            }
        }
        Ok(Execution { outcome: Outcome { outputs: read }, inputs_modified })
    })();
    for t in &allocated {
        // A failed free is reported only if nothing else failed first.
        if let Err(e) = backend.free(t)
            && result.is_ok()
        {
            return Err(e);
        }
    }
    result
}
