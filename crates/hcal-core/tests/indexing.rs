//! Gather, GatherElements, TensorScatter and Attention's `nonpad_kv_seqlen`:
//! each shape rule is an error naming the op and the dims, and `Call` accepts
//! exactly the alias the standard declares for TensorScatter (in place);
//! SplitRotaryScatter's two are in `split_rotary_scatter.rs`.

use hcal_core::{
    Attention, Call, DType, Error, Op, ScatterMode, Tensor, TensorDesc, TensorId, infer_outputs, out_of_range_fill,
    quant,
};

fn d(shape: &[usize], dtype: DType) -> TensorDesc {
    TensorDesc::new(shape, dtype)
}

fn err(op: &Op, inputs: &[Option<TensorDesc>]) -> String {
    let refs: Vec<_> = inputs.iter().map(Option::as_ref).collect();
    infer_outputs(op, &refs).expect_err("the call must be rejected").to_string()
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "{text:?} does not mention {n:?}");
    }
}

const LINEAR: Op = Op::TensorScatter { axis: -2, mode: ScatterMode::Linear };

#[test]
fn gather_shapes_and_rules() {
    let out =
        infer_outputs(&Op::Gather { axis: 1 }, &[Some(&d(&[2, 5, 3], DType::F16)), Some(&d(&[4, 2], DType::I64))]);
    assert_eq!(out.unwrap(), [d(&[2, 4, 2, 3], DType::F16)]);
    let scalar = infer_outputs(&Op::Gather { axis: 0 }, &[Some(&d(&[5, 3], DType::Bool)), Some(&d(&[], DType::I64))]);
    assert_eq!(scalar.unwrap(), [d(&[3], DType::Bool)]);
    let op = Op::Gather { axis: 2 };
    assert_mentions(&err(&op, &[Some(d(&[2, 5], DType::F32)), Some(d(&[1], DType::I64))]), &["Gather", "axis", "2"]);
    assert_mentions(
        &err(&Op::Gather { axis: 0 }, &[Some(d(&[2, 5], DType::F32)), Some(d(&[1], DType::F32))]),
        &["Gather", "indices", "f32", "i64"],
    );
    assert_mentions(
        &err(&Op::Gather { axis: 0 }, &[Some(d(&[], DType::F32)), Some(d(&[1], DType::I64))]),
        &["Gather", "rank >= 1"],
    );
}

#[test]
fn gather_moves_whole_blocks_of_a_quantized_table_only() {
    let table = d(&[100, 64], DType::Q4_1);
    let rows = infer_outputs(&Op::Gather { axis: 0 }, &[Some(&table), Some(&d(&[3], DType::I64))]).unwrap();
    assert_eq!(rows, [d(&[3, 64], DType::Q4_1)]);
    let e = err(&Op::Gather { axis: -1 }, &[Some(table), Some(d(&[3], DType::I64))]);
    assert_mentions(&e, &["Gather", "q4_1[100, 64]", "split its blocks"]);
}

#[test]
fn out_of_range_fills_are_nan_or_zero() {
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        let fill = out_of_range_fill(dtype);
        let value = match dtype {
            DType::F32 => f64::from(f32::from_le_bytes(fill[..4].try_into().unwrap())),
            DType::F16 => half::f16::from_le_bytes([fill[0], fill[1]]).to_f64(),
            _ => half::bf16::from_le_bytes([fill[0], fill[1]]).to_f64(),
        };
        assert!(value.is_nan(), "{dtype}");
    }
    for q in DType::QUANTIZED {
        assert!(quant::dequantize(q, &out_of_range_fill(q)).unwrap().iter().all(|v| v.is_nan()), "{q}");
    }
    assert_eq!(out_of_range_fill(DType::Bool), [0]);
}

#[test]
fn gather_elements_rules() {
    let op = Op::GatherElements { axis: 1 };
    let out = infer_outputs(&op, &[Some(&d(&[4, 5], DType::I64)), Some(&d(&[2, 9], DType::I64))]).unwrap();
    assert_eq!(out, [d(&[2, 9], DType::I64)], "longer than data along the axis is fine");
    let e = err(&op, &[Some(d(&[4, 5], DType::F32)), Some(d(&[5, 3], DType::I64))]);
    assert_mentions(&e, &["GatherElements", "[5, 3]", "[4, 5]", "axis 1"]);
    let e = err(&op, &[Some(d(&[4, 5], DType::F32)), Some(d(&[4], DType::I64))]);
    assert_mentions(&e, &["GatherElements", "rank"]);
    let e = err(&op, &[Some(d(&[4, 64], DType::Q8_0)), Some(d(&[4, 2], DType::I64))]);
    assert_mentions(&e, &["GatherElements", "q8_0"]);
}

#[test]
fn tensor_scatter_rules() {
    let cache = d(&[2, 3, 8, 4], DType::F16);
    let out = infer_outputs(&LINEAR, &[Some(&cache), Some(&d(&[2, 3, 1, 4], DType::F16))]).unwrap();
    assert_eq!(out, std::slice::from_ref(&cache));
    let longer = err(&LINEAR, &[Some(cache.clone()), Some(d(&[2, 3, 9, 4], DType::F16))]);
    assert_mentions(&longer, &["TensorScatter", "[2, 3, 9, 4]", "[2, 3, 8, 4]", "sequence dim 2"]);
    let other = err(&LINEAR, &[Some(cache.clone()), Some(d(&[2, 2, 1, 4], DType::F16))]);
    assert_mentions(&other, &["TensorScatter", "[2, 2, 1, 4]"]);
    let dtype = err(&LINEAR, &[Some(cache.clone()), Some(d(&[2, 3, 1, 4], DType::F32))]);
    assert_mentions(&dtype, &["TensorScatter", "f16", "f32"]);
    let w = err(&LINEAR, &[Some(cache.clone()), Some(d(&[2, 3, 1, 4], DType::F16)), Some(d(&[3], DType::I64))]);
    assert_mentions(&w, &["TensorScatter", "write_indices", "[3]", "B=2"]);
    let batch_axis = Op::TensorScatter { axis: 0, mode: ScatterMode::Circular };
    let e = err(&batch_axis, &[Some(cache.clone()), Some(cache.clone())]);
    assert_mentions(&e, &["TensorScatter", "axis", "batch"]);
    let e = err(&LINEAR, &[Some(d(&[4], DType::F32)), Some(d(&[4], DType::F32))]);
    assert_mentions(&e, &["TensorScatter", "rank >= 2"]);
}

#[test]
fn nonpad_kv_seqlen_is_i64_per_batch_and_excludes_a_past() {
    let op = Op::Attention(Attention::default());
    let (q, kv) = (d(&[2, 1, 1, 4], DType::F32), d(&[2, 1, 8, 4], DType::F32));
    let with = |n: TensorDesc, past: bool| {
        let p = past.then(|| d(&[2, 1, 3, 4], DType::F32));
        vec![Some(q.clone()), Some(kv.clone()), Some(kv.clone()), None, p.clone(), p, Some(n)]
    };
    let refs = with(d(&[2], DType::I64), false);
    let refs: Vec<_> = refs.iter().map(Option::as_ref).collect();
    assert!(infer_outputs(&op, &refs).is_ok());
    assert_mentions(&err(&op, &with(d(&[3], DType::I64), false)), &["Attention", "nonpad_kv_seqlen", "B=2"]);
    assert_mentions(&err(&op, &with(d(&[2], DType::F32), false)), &["Attention", "nonpad_kv_seqlen", "f32"]);
    assert_mentions(&err(&op, &with(d(&[2], DType::I64), true)), &["Attention", "nonpad_kv_seqlen", "past_key"]);
}

#[test]
fn only_tensor_scatter_may_write_its_past_cache_in_place() {
    let t = |id, shape: &[usize], dtype| Tensor::from_parts(TensorId(id), TensorDesc::new(shape, dtype));
    let (cache, update, w) = (t(1, &[1, 2, 8, 4], DType::F32), t(2, &[1, 2, 8, 4], DType::F32), t(3, &[1], DType::I64));
    // The declared alias: present_cache is past_cache.
    assert!(Call::new(&LINEAR, &[&cache, &update, &w], &[&cache]).is_ok());
    // Any other alias of the same op is rejected, naming the slots.
    match Call::new(&LINEAR, &[&cache, &update, &w], &[&update]) {
        Err(Error::Aliasing { op: "TensorScatter", input: 1, output: 0, .. }) => {}
        other => panic!("present_cache aliasing the update must be rejected, got {other:?}"),
    }
    // Other ops still reject every alias.
    let x = t(4, &[2, 3], DType::F32);
    assert!(matches!(Call::new(&Op::Softmax { axis: -1 }, &[&x], &[&x]), Err(Error::Aliasing { .. })));
    let (b, ids) = (t(6, &[2, 3], DType::F32), t(7, &[2, 3], DType::I64));
    let gather = Call::new(&Op::GatherElements { axis: 0 }, &[&b, &ids], &[&b]);
    assert!(matches!(gather, Err(Error::Aliasing { .. })));
}
