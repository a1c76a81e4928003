//! SplitRotaryScatter's rules: its outputs' shapes, an error naming the op
//! and the dims for each bad operand, and exactly its two in-place aliases
//! (each present cache may be its own past cache, nothing else).

use hcal_core::{Call, DType, Error, Op, SplitRotaryScatter, Tensor, TensorDesc, TensorId, infer_outputs};

fn d(shape: &[usize], dtype: DType) -> TensorDesc {
    TensorDesc::new(shape, dtype)
}

/// SmolLM2's heads: 9 query and 3 key/value heads.
const ATTRS: SplitRotaryScatter =
    SplitRotaryScatter { q_num_heads: 9, kv_num_heads: 3, interleaved: true, rotary_embedding_dim: 0 };

/// A decode step of `ATTRS` with head size 8, caches of 16 positions, tables of 20.
fn inputs() -> Vec<TensorDesc> {
    let f32 = DType::F32;
    vec![
        d(&[2, 1, 15 * 8], f32),
        d(&[2, 3, 16, 8], f32),
        d(&[2, 3, 16, 8], f32),
        d(&[2], DType::I64),
        d(&[20, 4], f32),
        d(&[20, 4], f32),
    ]
}

fn err(attrs: SplitRotaryScatter, inputs: &[TensorDesc]) -> String {
    let refs: Vec<_> = inputs.iter().map(Some).collect();
    infer_outputs(&Op::SplitRotaryScatter(attrs), &refs).expect_err("the call must be rejected").to_string()
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{text:?} does not mention {n:?}");
    }
}

#[test]
fn outputs_are_heads_first_queries_and_the_caches() {
    let x = inputs();
    let refs: Vec<_> = x.iter().map(Some).collect();
    let out = infer_outputs(&Op::SplitRotaryScatter(ATTRS), &refs).unwrap();
    assert_eq!(out, vec![d(&[2, 9, 1, 8], DType::F32), x[1].clone(), x[2].clone()]);
    // A partial rotation takes tables of R/2 columns.
    let mut partial = inputs();
    partial[4] = d(&[20, 2], DType::F32);
    partial[5] = d(&[20, 2], DType::F32);
    let refs: Vec<_> = partial.iter().map(Some).collect();
    assert!(
        infer_outputs(&Op::SplitRotaryScatter(SplitRotaryScatter { rotary_embedding_dim: 4, ..ATTRS }), &refs).is_ok()
    );
}

#[test]
fn every_bad_operand_is_an_error_naming_the_op_and_the_dims() {
    let with = |slot: usize, desc: TensorDesc| {
        let mut x = inputs();
        x[slot] = desc;
        x
    };
    let f32 = DType::F32;
    let cases: Vec<(SplitRotaryScatter, Vec<TensorDesc>, Vec<&str>)> = vec![
        (ATTRS, with(0, d(&[2, 1, 121], f32)), vec!["[2, 1, 121]", "15 heads"]),
        (ATTRS, with(0, d(&[2, 120], f32)), vec!["[2, 120]", "3-D"]),
        (ATTRS, with(0, d(&[2, 1, 120], DType::I64)), vec!["qkv", "i64"]),
        (ATTRS, with(1, d(&[2, 3, 16, 4], f32)), vec!["k_cache", "[2, 3, 16, 4]", "D=8"]),
        (ATTRS, with(2, d(&[2, 3, 16, 8], DType::F16)), vec!["v_cache", "f16"]),
        (ATTRS, with(3, d(&[1], DType::I64)), vec!["write_indices", "[1]", "B=2"]),
        (ATTRS, with(3, d(&[2], f32)), vec!["write_indices", "f32"]),
        (ATTRS, with(4, d(&[20, 3], f32)), vec!["cos_cache", "[20, 3]", "R/2=4"]),
        (ATTRS, with(5, d(&[21, 4], f32)), vec!["cos_cache", "sin_cache", "[21, 4]"]),
        (SplitRotaryScatter { kv_num_heads: 2, ..ATTRS }, inputs(), vec!["q_num_heads", "9", "kv_num_heads=2"]),
        (SplitRotaryScatter { rotary_embedding_dim: 3, ..ATTRS }, inputs(), vec!["rotary_embedding_dim", "3"]),
        // Found by the hcal-tests properties (a debug build panicked adding them).
        (
            SplitRotaryScatter { q_num_heads: usize::MAX - 1, kv_num_heads: 1, ..ATTRS },
            inputs(),
            vec!["kv_num_heads=1", "overflow"],
        ),
        (SplitRotaryScatter { rotary_embedding_dim: 10, ..ATTRS }, inputs(), vec!["rotary_embedding_dim", "10"]),
    ];
    for (attrs, x, needles) in cases {
        let text = err(attrs, &x);
        assert_mentions(&text, &["SplitRotaryScatter"]);
        assert_mentions(&text, &needles);
    }
    // More new tokens than cache positions.
    let mut long = inputs();
    long[0] = d(&[2, 17, 120], f32);
    assert_mentions(&err(ATTRS, &long), &["M >= S=17"]);
}

#[test]
fn each_present_cache_may_be_its_own_past_cache_and_nothing_else() {
    let x = inputs();
    let t = |id: u64, i: usize| Tensor::from_parts(TensorId(id), x[i].clone());
    let (qkv, k, v, w, cos, sin) = (t(1, 0), t(2, 1), t(3, 2), t(4, 3), t(5, 4), t(6, 5));
    let q = Tensor::from_parts(TensorId(7), d(&[2, 9, 1, 8], DType::F32));
    let op = Op::SplitRotaryScatter(ATTRS);
    let ins = [&qkv, &k, &v, &w, &cos, &sin];
    assert!(Call::new(&op, &ins, &[&q, &k, &v]).is_ok(), "both caches in place");
    let (k2, v2) = (Tensor::from_parts(TensorId(8), x[1].clone()), Tensor::from_parts(TensorId(9), x[2].clone()));
    assert!(Call::new(&op, &ins, &[&q, &k2, &v2]).is_ok(), "both caches copied");
    // The key cache as the present values (same shape): another input's slot.
    match Call::new(&op, &ins, &[&q, &k2, &k]) {
        Err(Error::Aliasing { op: "SplitRotaryScatter", input: 1, output: 2, .. }) => {}
        other => panic!("present_value aliasing k_cache must be rejected, got {other:?}"),
    }
}
