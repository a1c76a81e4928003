//! Helpers shared by the reliability tests of this package.

#![allow(dead_code)]

use hcal::{Backend, BackendExt, Tensor};
use hcal_conformance::Case;

/// Run `case` once on `backend`: its inputs' bytes and its outputs' bytes.
pub fn run_once(backend: &dyn Backend, case: &Case, inputs: &[Option<Vec<u8>>]) -> hcal::Result<Vec<Option<Vec<u8>>>> {
    let mut handles: Vec<Option<Tensor>> = Vec::new();
    for (slot, bytes) in case.inputs.iter().zip(inputs) {
        handles.push(match (slot, bytes) {
            (Some(input), Some(bytes)) => {
                let t = backend.alloc(&input.desc)?;
                backend.write(&t, bytes)?;
                Some(t)
            }
            _ => None,
        });
    }
    let descs: Vec<Option<&hcal::TensorDesc>> = case.inputs.iter().map(|i| i.as_ref().map(|i| &i.desc)).collect();
    let inferred = hcal::infer_outputs(&case.op, &descs)?;
    let mut outs: Vec<Option<Tensor>> = Vec::new();
    for (d, &wanted) in inferred.iter().zip(&case.outputs) {
        outs.push(if wanted { Some(backend.alloc(d)?) } else { None });
    }
    let in_refs: Vec<Option<&Tensor>> = handles.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outs.iter().map(Option::as_ref).collect();
    backend.run_optional(&case.op, &in_refs, &out_refs)?;
    let result = outs.iter().map(|t| t.as_ref().map(|t| backend.read(t)).transpose()).collect();
    for t in handles.iter().chain(&outs).flatten() {
        backend.free(t)?;
    }
    result
}

/// Input bytes of a case, seeded per slot as the conformance runner seeds
/// them, so they are the inputs the judge saw.
pub fn input_bytes(case: &Case) -> Vec<Option<Vec<u8>>> {
    case.inputs
        .iter()
        .enumerate()
        .map(|(slot, i)| {
            i.as_ref().map(|i| {
                let seed = case.seed ^ (slot as u64 + 1).wrapping_mul(0x9E37);
                let values = i.generator.values(&i.desc, &mut hcal_conformance::generate::Rng::new(seed));
                hcal_cpu::convert::from_f64(i.desc.dtype, &values)
            })
        })
        .collect()
}
