//! Properties of validation: on any op descriptor (any op, any attributes,
//! zero to seven inputs of any rank, dtype and dims, zero and huge dims
//! included) `infer_outputs`, `Call` and the shared geometry functions return
//! `Ok` or an `Err` and never panic; what they accept is self-consistent.
//!
//! Case counts are sized for CI; `PROPTEST_CASES=100000 cargo test -p
//! hcal-core --test properties` runs longer.

mod support;

use hcal_core::{
    Call, DType, Error, Op, Tensor, TensorDesc, TensorId, attention_geometry, broadcast_shapes, infer_outputs,
    matmul_geometry, normalize_axis, reduce_axes, rotary_geometry, transpose_perm,
};
use proptest::prelude::*;
use support::{Spec, arbitrary_spec, cases, desc, mutated_spec, valid_spec};

/// Handles for a spec's inputs (ids 1..) and its inferred, requested outputs (ids 100..).
fn tensors(spec: &Spec, outputs: &[TensorDesc]) -> (Vec<Option<Tensor>>, Vec<Option<Tensor>>) {
    let inputs = spec
        .inputs
        .iter()
        .enumerate()
        .map(|(i, d)| d.clone().map(|d| Tensor::from_parts(TensorId(1 + i as u64), d)))
        .collect();
    let outputs = outputs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let wanted = spec.outputs.get(i).copied().unwrap_or(true) || !spec.op.output_is_optional(i);
            wanted.then(|| Tensor::from_parts(TensorId(100 + i as u64), d.clone()))
        })
        .collect();
    (inputs, outputs)
}

/// Everything validation offers, on one spec: must not panic, and what it
/// accepts must be consistent.
fn check(spec: &Spec) -> Result<(), TestCaseError> {
    let inferred = infer_outputs(&spec.op, &spec.refs());
    // Every message renders (Display of NaN attributes, huge dims, ...).
    let _ = spec.op.to_string();
    let Ok(outputs) = inferred else {
        let e = inferred.unwrap_err();
        prop_assert!(!e.to_string().is_empty());
        return Ok(());
    };
    prop_assert_eq!(outputs.len(), spec.op.output_arity());
    // What validation accepts is addressable: every input and output has a byte size.
    for d in spec.inputs.iter().flatten().chain(&outputs) {
        prop_assert!(d.byte_len().is_ok(), "accepted {} whose byte size overflows", d);
        let _ = (d.strides(), d.to_string());
    }
    // Validation is a function of its inputs.
    prop_assert_eq!(&infer_outputs(&spec.op, &spec.refs()).unwrap(), &outputs);
    // A call with exactly the inferred outputs is valid.
    let (ins, outs) = tensors(spec, &outputs);
    let in_refs: Vec<Option<&Tensor>> = ins.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outs.iter().map(Option::as_ref).collect();
    let call = Call::with_optional(&spec.op, &in_refs, &out_refs);
    prop_assert!(call.is_ok(), "{:?}", call.err());
    let call = call.unwrap();
    let _ = call.signature().to_string();
    // An output with one more dim, or another dtype, is rejected; so is an
    // output that aliases an input.
    let mut bigger = outputs[0].clone();
    bigger.shape.push(2);
    let wrong = Tensor::from_parts(TensorId(99), bigger);
    let mut with_wrong = out_refs.clone();
    with_wrong[0] = Some(&wrong);
    let mismatch = Call::with_optional(&spec.op, &in_refs, &with_wrong);
    prop_assert!(matches!(mismatch, Err(Error::OutputMismatch { index: 0, .. })), "{:?}", mismatch.err());
    if let Some(first) = ins.iter().flatten().find(|t| t.desc() == &outputs[0]) {
        let mut aliased = out_refs.clone();
        aliased[0] = Some(first);
        let alias = Call::with_optional(&spec.op, &in_refs, &aliased);
        prop_assert!(matches!(alias, Err(Error::Aliasing { .. })), "{:?}", alias.err());
    }
    Ok(())
}

/// The geometry functions backends call, on raw descriptors.
fn check_geometry(spec: &Spec) {
    let get = |i: usize| spec.inputs.get(i).and_then(Option::as_ref);
    if let (Some(a), Some(b)) = (get(0), get(1)) {
        if let Ok(g) = matmul_geometry(&a.shape, &b.shape)
            && g.batch.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).is_some_and(|n| n > 0)
        {
            let _ = g.operand_offsets(0);
        }
        let _ = broadcast_shapes("Add", &a.shape, &b.shape);
    }
    match &spec.op {
        Op::Attention(attrs) => {
            if let (Some(q), Some(k), Some(v)) = (get(0), get(1), get(2))
                && let Ok(g) = attention_geometry(attrs, q, k, v, get(3), get(4).zip(get(5)), get(6))
            {
                let _ = (g.total_len(), g.group_size());
            }
        }
        Op::RotaryEmbedding(attrs) => {
            if let (Some(x), Some(c), Some(s)) = (get(0), get(1), get(2)) {
                let _ = rotary_geometry(attrs, x, c, s, get(3));
            }
        }
        Op::Reduce { axes, .. } => {
            let _ = reduce_axes("ReduceSum", axes.as_deref(), get(0).map_or(0, TensorDesc::rank));
        }
        Op::Transpose { perm } => {
            let _ = transpose_perm(perm.as_deref(), get(0).map_or(0, TensorDesc::rank));
        }
        Op::Softmax { axis }
        | Op::LayerNormalization { axis, .. }
        | Op::RmsNormalization { axis, .. }
        | Op::LogSoftmax { axis }
        | Op::ArgMax { axis, .. }
        | Op::ArgMin { axis, .. }
        | Op::CumSum { axis, .. } => {
            let _ = normalize_axis("Softmax", *axis, get(0).map_or(0, TensorDesc::rank));
        }
        _ => {}
    }
}

proptest! {
    // Failures print the shrunk descriptor; nothing is written next to the sources.
    #![proptest_config(ProptestConfig { cases: cases(2000), failure_persistence: None, ..ProptestConfig::default() })]

    /// The generator of valid calls is right (the device properties rely on it)
    /// and every valid call passes all checks.
    #[test]
    fn valid_calls_are_accepted(spec in valid_spec()) {
        let inferred = infer_outputs(&spec.op, &spec.refs());
        prop_assert!(inferred.is_ok(), "{} on {:?}: {}", spec.op, spec.inputs, inferred.unwrap_err());
        check(&spec)?;
        check_geometry(&spec);
    }

    /// Calls next to the rules: one to three mutations of a valid call.
    #[test]
    fn mutated_calls_never_panic(spec in mutated_spec()) {
        check(&spec)?;
        check_geometry(&spec);
    }

    /// Any op, any attributes, any inputs.
    #[test]
    fn arbitrary_calls_never_panic(spec in arbitrary_spec()) {
        check(&spec)?;
        check_geometry(&spec);
    }

    /// Byte sizes of any descriptor (overflowing dims included) are a size or `TooLarge`.
    #[test]
    fn byte_len_is_a_size_or_too_large(d in desc()) {
        // In u128 (dims have at most 64 bits, and at most 6 of them: checked).
        let size = d.dtype.size_bytes() as u128;
        let extent = d.shape.iter().try_fold(size, |acc, &x| acc.checked_mul(x.max(1) as u128));
        let exact = d.shape.iter().try_fold(size, |acc, &x| acc.checked_mul(x as u128));
        match d.byte_len() {
            Ok(n) => {
                prop_assert!(extent.is_some_and(|e| e <= usize::MAX as u128));
                prop_assert_eq!(Some(n as u128), exact);
            }
            Err(Error::TooLarge { .. }) => prop_assert!(extent.is_none_or(|e| e > usize::MAX as u128)),
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
        let _ = (d.numel(), d.to_string());
    }
}

#[test]
fn huge_dims_that_multiply_past_usize_are_errors_not_panics() {
    let f = DType::F32;
    let big = 1usize << 40;
    // Output dims that overflow together although each input is addressable.
    let a = TensorDesc::new([big, 1, 2, 2], f);
    let b = TensorDesc::new([1, big, 2, 2], f);
    assert!(infer_outputs(&Op::MatMul, &[Some(&a), Some(&b)]).is_err());
    // A zero dim makes the byte size 0, but the other dims still multiply.
    let z = TensorDesc::new([0, usize::MAX, usize::MAX], f);
    assert!(infer_outputs(&Op::MatMul, &[Some(&z), Some(&TensorDesc::new([usize::MAX, 2], f))]).is_err());
    let _ = TensorDesc::new([usize::MAX, usize::MAX], DType::Bool).byte_len();
    // Packed attention: Hq * Dv overflows though Q [1, 1, 2^40] and V [1, 1, 2^40] are small enough.
    let attrs = hcal_core::Attention { q_num_heads: Some(big), kv_num_heads: Some(1), ..Default::default() };
    let (q, k, v) = (TensorDesc::new([1, 1, big], f), TensorDesc::new([1, 1, 1], f), TensorDesc::new([1, 1, big], f));
    let e = infer_outputs(&Op::Attention(attrs), &[Some(&q), Some(&k), Some(&v)]).unwrap_err();
    assert!(e.to_string().contains("Attention") && e.to_string().contains("too large to address"), "{e}");
    // Empty packed inputs split into any number of heads; the [B, H, S, D]
    // views must still be addressable (found by the op_validation fuzz target:
    // B * Hq * Sq overflowed in the reference).
    let huge_heads = hcal_core::Attention { q_num_heads: Some(1 << 62), kv_num_heads: Some(1), ..Default::default() };
    let empty = TensorDesc::new([8, 3, 0], f);
    let e = infer_outputs(&Op::Attention(huge_heads), &[Some(&empty), Some(&empty), Some(&empty)]).unwrap_err();
    assert!(e.to_string().contains("Q split into heads [8, 4611686018427387904, 3, 0]"), "{e}");
}
