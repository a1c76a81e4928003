//! GatedUnary's rules: the last dim halves, and each bad input is an error
//! naming the op and the dims.

use hcal_core::{DType, Op, TensorDesc, UnaryOp, infer_outputs};

fn infer(activation: UnaryOp, shape: &[usize], dtype: DType) -> Result<Vec<TensorDesc>, String> {
    let x = TensorDesc::new(shape, dtype);
    infer_outputs(&Op::GatedUnary { activation }, &[Some(&x)]).map_err(|e| e.to_string())
}

#[test]
fn the_last_dim_halves() {
    let y = infer(UnaryOp::Silu, &[2, 1, 3072], DType::F16).unwrap();
    assert_eq!(y, vec![TensorDesc::new([2, 1, 1536], DType::F16)]);
    assert_eq!(infer(UnaryOp::Relu, &[0, 4], DType::F32).unwrap(), vec![TensorDesc::new([0, 2], DType::F32)]);
    assert_eq!(Op::GatedUnary { activation: UnaryOp::Silu }.to_string(), "GatedUnary(activation=Silu)");
}

#[test]
fn bad_inputs_name_the_op_and_the_dims() {
    for (activation, shape, dtype, needles) in [
        (UnaryOp::Silu, &[2, 5][..], DType::F32, &["GatedUnary", "[2, 5]", "even"][..]),
        (UnaryOp::Silu, &[], DType::F32, &["GatedUnary", "[]"]),
        (UnaryOp::Silu, &[4], DType::I64, &["GatedUnary", "i64"]),
        (UnaryOp::Not, &[4], DType::F32, &["GatedUnary", "activation", "Not"]),
    ] {
        let text = infer(activation, shape, dtype).expect_err("must be rejected");
        for n in needles {
            assert!(text.contains(n), "{text:?} does not mention {n:?}");
        }
    }
}
