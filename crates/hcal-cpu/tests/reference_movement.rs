//! The reference's data-movement ops on hand-checked values (numpy's answers
//! for the same calls), in f32 and on raw i64 / bool elements.

use hcal_core::{Backend, BackendExt, DType, Op, SplitParts, TensorDesc, infer_outputs};
use hcal_cpu::CpuBackend;

/// Run `op` on inputs given as (shape, dtype, bytes) and return every output's bytes.
fn run(op: &Op, inputs: &[(&[usize], DType, Vec<u8>)]) -> Vec<Vec<u8>> {
    let cpu = CpuBackend::new();
    let tensors: Vec<_> = inputs
        .iter()
        .map(|(shape, dtype, bytes)| {
            let t = cpu.alloc(&TensorDesc::new(*shape, *dtype)).unwrap();
            cpu.write(&t, bytes).unwrap();
            t
        })
        .collect();
    let descs: Vec<_> = tensors.iter().map(|t| Some(t.desc())).collect();
    let outs: Vec<_> = infer_outputs(op, &descs).unwrap().iter().map(|d| cpu.alloc(d).unwrap()).collect();
    let ins: Vec<_> = tensors.iter().collect();
    cpu.run(op, &ins, &outs.iter().collect::<Vec<_>>()).unwrap();
    outs.iter().map(|t| cpu.read(t).unwrap()).collect()
}

fn f32s(values: &[f32]) -> Vec<u8> {
    bytemuck::cast_slice(values).to_vec()
}

fn as_f32(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn i64s(values: &[i64]) -> Vec<u8> {
    bytemuck::cast_slice(values).to_vec()
}

const X23: [f32; 6] = [0., 1., 2., 3., 4., 5.];

#[test]
fn concat_joins_rows_per_outer_index() {
    let y = run(&Op::Concat { axis: 1 }, &[(&[2, 1], DType::F32, f32s(&[9., 8.])), (&[2, 3], DType::F32, f32s(&X23))]);
    assert_eq!(as_f32(&y[0]), [9., 0., 1., 2., 8., 3., 4., 5.]);
    let bools = run(&Op::Concat { axis: 0 }, &[(&[1], DType::Bool, vec![1]), (&[2], DType::Bool, vec![0, 1])]);
    assert_eq!(bools[0], [1, 0, 1]);
}

#[test]
fn slice_steps_backwards_and_clamps() {
    // x[::-1, 2:0:-2] of [[0, 1, 2], [3, 4, 5]] = [[5], [2]]
    let op = Op::Slice { starts: vec![-1, 2], ends: vec![i64::MIN, 0], axes: None, steps: Some(vec![-1, -2]) };
    assert_eq!(as_f32(&run(&op, &[(&[2, 3], DType::F32, f32s(&X23))])[0]), [5., 2.]);
    // x[:, -100:100] is all of x; i64 elements move exactly (beyond 2^53).
    let big = [i64::MAX, i64::MIN, (1 << 60) + 1];
    let op = Op::Slice { starts: vec![-100], ends: vec![100], axes: Some(vec![-1]), steps: None };
    assert_eq!(run(&op, &[(&[1, 3], DType::I64, i64s(&big))])[0], i64s(&big));
}

#[test]
fn split_gives_one_output_per_part() {
    let op = Op::Split { axis: 1, parts: SplitParts::Sizes(vec![2, 0, 1]) };
    let y = run(&op, &[(&[2, 3], DType::F32, f32s(&X23))]);
    assert_eq!((as_f32(&y[0]), y[1].len(), as_f32(&y[2])), (vec![0., 1., 3., 4.], 0, vec![2., 5.]));
}

#[test]
fn expand_repeats_extent_one_dims() {
    let y = run(&Op::Expand { shape: vec![2, 1, 2] }, &[(&[3, 1], DType::F32, f32s(&[1., 2., 3.]))]);
    assert_eq!(as_f32(&y[0]), [1., 1., 2., 2., 3., 3., 1., 1., 2., 2., 3., 3.]);
    let scalar = run(&Op::Expand { shape: vec![3] }, &[(&[], DType::Bool, vec![1])]);
    assert_eq!(scalar[0], [1, 1, 1]);
}

#[test]
fn reshape_keeps_the_bytes() {
    let y = run(&Op::Reshape { shape: vec![3, -1] }, &[(&[2, 3], DType::F32, f32s(&X23))]);
    assert_eq!(as_f32(&y[0]), X23);
}

#[test]
fn trilu_zeroes_outside_the_triangle() {
    // np.triu(x, 1) and np.tril(x, -1) of [[0, 1, 2], [3, 4, 5]].
    let upper = run(&Op::Trilu { upper: true, k: 1 }, &[(&[2, 3], DType::F32, f32s(&X23))]);
    assert_eq!(as_f32(&upper[0]), [0., 1., 2., 0., 0., 5.]);
    let lower = run(&Op::Trilu { upper: false, k: -1 }, &[(&[2, 3], DType::I64, i64s(&[1, 2, 3, 4, 5, 6]))]);
    assert_eq!(lower[0], i64s(&[0, 0, 0, 4, 0, 0]));
}

#[test]
fn range_rounds_once_and_is_exact_for_i64() {
    let f = run(&Op::Range { start: 1.0, limit: 5.0, delta: 2.0, dtype: DType::F32 }, &[]);
    assert_eq!(as_f32(&f[0]), [1., 3.]);
    let i = run(&Op::Range { start: -9e15, limit: 9e15, delta: 6e15, dtype: DType::I64 }, &[]);
    assert_eq!(i[0], i64s(&[-9_000_000_000_000_000, -3_000_000_000_000_000, 3_000_000_000_000_000]));
}
