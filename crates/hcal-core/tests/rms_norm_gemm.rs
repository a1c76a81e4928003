//! RMSNormGemm's rules are its two steps' (RMSNormalization of A over its
//! last axis, then Gemm), and every bad input is an error naming this op,
//! the step and the dims.

use hcal_core::{DType, Op, RmsNormGemm, TensorDesc, infer_outputs};

const WEIGHTS: RmsNormGemm = RmsNormGemm { epsilon: 1e-5, alpha: 1.0, beta: 0.0, trans_b: true };

fn infer(attrs: RmsNormGemm, inputs: &[Option<TensorDesc>]) -> Result<Vec<TensorDesc>, String> {
    let refs: Vec<Option<&TensorDesc>> = inputs.iter().map(Option::as_ref).collect();
    infer_outputs(&Op::RmsNormGemm(attrs), &refs).map_err(|e| e.to_string())
}

/// Attributes, inputs, and what the error must mention.
type BadCase = (RmsNormGemm, Vec<Option<TensorDesc>>, Vec<&'static str>);

fn f32s(shape: &[usize]) -> Option<TensorDesc> {
    Some(TensorDesc::new(shape, DType::F32))
}

#[test]
fn the_output_is_the_gemms() {
    // SmolLM2's Q/K/V projection: A [1, 576], Scale [576], Q4_1 B [960, 576].
    let b = Some(TensorDesc::new([960, 576], DType::Q4_1));
    assert_eq!(
        infer(WEIGHTS, &[f32s(&[1, 576]), f32s(&[576]), b]).unwrap(),
        vec![TensorDesc::new([1, 960], DType::F32)]
    );
    // B as [K, N], a broadcast Scale and C.
    let attrs = RmsNormGemm { trans_b: false, beta: 1.0, ..WEIGHTS };
    let y = infer(attrs, &[f32s(&[3, 8]), f32s(&[1]), f32s(&[8, 5]), f32s(&[5])]).unwrap();
    assert_eq!(y, vec![TensorDesc::new([3, 5], DType::F32)]);
    assert_eq!(Op::RmsNormGemm(WEIGHTS).to_string(), "RMSNormGemm(epsilon=0.00001, alpha=1, beta=0, transB=1)");
}

#[test]
fn bad_inputs_name_the_op_the_step_and_the_dims() {
    let q = |shape: &[usize]| Some(TensorDesc::new(shape, DType::Q4_1));
    let cases: Vec<BadCase> = vec![
        // Scale not broadcastable to A's rows.
        (WEIGHTS, vec![f32s(&[1, 576]), f32s(&[575]), q(&[960, 576])], vec!["RMSNormalization", "[575]", "[1, 576]"]),
        // Inner dims differ.
        (WEIGHTS, vec![f32s(&[1, 576]), f32s(&[576]), q(&[960, 544])], vec!["Gemm", "inner dims", "[960, 544]"]),
        // A not rank 2 (the Gemm's rule).
        (WEIGHTS, vec![f32s(&[2, 1, 64]), f32s(&[64]), q(&[8, 64])], vec!["Gemm", "[2, 1, 64]", "rank 2"]),
        // Mixed float dtypes of A and Scale.
        (
            WEIGHTS,
            vec![f32s(&[1, 64]), Some(TensorDesc::new([64], DType::F16)), q(&[8, 64])],
            vec!["RMSNormalization", "f32", "f16"],
        ),
        // An integer A.
        (WEIGHTS, vec![Some(TensorDesc::new([1, 64], DType::I64)), f32s(&[64]), q(&[8, 64])], vec!["i64"]),
        // Epsilon out of range, alpha not finite.
        (
            RmsNormGemm { epsilon: -1.0, ..WEIGHTS },
            vec![f32s(&[1, 64]), f32s(&[64]), q(&[8, 64])],
            vec!["epsilon", "-1"],
        ),
        (
            RmsNormGemm { alpha: f32::NAN, ..WEIGHTS },
            vec![f32s(&[1, 64]), f32s(&[64]), q(&[8, 64])],
            vec!["alpha", "NaN"],
        ),
        // C that does not broadcast to [M, N].
        (
            RmsNormGemm { beta: 1.0, ..WEIGHTS },
            vec![f32s(&[2, 64]), f32s(&[64]), q(&[8, 64]), f32s(&[3])],
            vec!["Gemm", "[3]"],
        ),
        // Too few inputs.
        (WEIGHTS, vec![f32s(&[1, 64]), f32s(&[64])], vec!["3 to 4 inputs"]),
    ];
    for (attrs, inputs, needles) in cases {
        let text = infer(attrs, &inputs).expect_err("must be rejected");
        assert!(text.starts_with("RMSNormGemm"), "{text:?} does not name the op first");
        for n in needles {
            assert!(text.contains(n), "{text:?} does not mention {n:?}");
        }
    }
}
