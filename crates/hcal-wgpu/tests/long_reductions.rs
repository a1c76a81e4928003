//! Reductions and row-wise ops too long for one invocation or one binding:
//! partial reductions (`reduce_partial.rs`) and the composed long rows
//! (`long_rows.rs`) on every adapter, under a 4 KB binding cap and past
//! Mesa's CPU-driver loop budget, against the f64 reference.
//!
//! Without an adapter each test says so and passes, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Backend, BackendExt, DType, Op, OpSignature, ReduceOp, Support, TensorDesc};
use hcal_wgpu::WgpuBackend;

mod common;
use common::open;
#[path = "common/binding_cap.rs"]
mod binding_cap;
use binding_cap::{f32s, pairs, values};

/// Softmax, LogSoftmax and normalization rows longer than a binding, or than a
/// workgroup loops over on Mesa's CPU drivers (a row of 4.3 M elements came
/// out wrong there and was declined before), run composed of partial
/// reductions and elementwise kernels (`long_rows.rs`): checked against the
/// f64 reference within the conformance suite's tolerance model.
#[test]
fn long_rows_run_composed_within_tolerance() {
    use hcal_conformance::{Case, Input, Verdict, run_case};
    let unit = hcal_conformance::generate::Gen::Uniform { lo: -1.0, hi: 1.0 };
    let input = |shape: &[usize]| Input::new(shape, DType::F32, unit.clone());
    let case =
        |op: Op, shapes: &[&[usize]]| Case::new(format!("{op:?}"), op, shapes.iter().map(|s| input(s)).collect());
    let layer = |axis| Op::LayerNormalization { axis, epsilon: 1e-5 };
    let rms = Op::RmsNormalization { axis: -1, epsilon: 1e-6 };
    // Under a 4 KB binding: a lane strided across more than a binding, rows
    // of 8 KB, normalized dims of 2,000 elements over one and two axes.
    let capped = [
        case(Op::Softmax { axis: 0 }, &[&[300, 5]]),
        case(Op::Softmax { axis: -1 }, &[&[3, 2000]]),
        case(Op::LogSoftmax { axis: 1 }, &[&[2, 2000, 3]]),
        case(layer(-1), &[&[3, 2000], &[2000], &[2000]]),
        case(layer(1), &[&[2, 40, 50], &[40, 50], &[50]]),
        case(rms.clone(), &[&[3, 2000], &[2000]]),
    ];
    // Rows past the CPU drivers' loop budget (4,194,240 elements; 1,397,376
    // for LogSoftmax's three loops).
    let long = [
        case(Op::Softmax { axis: -1 }, &[&[1, 4_300_000]]),
        case(Op::LogSoftmax { axis: -1 }, &[&[1, 1_500_000]]),
        case(rms, &[&[1, 4_300_000], &[4_300_000]]),
    ];
    let check = |backend: &WgpuBackend, case: &Case| {
        let result = run_case(backend, case);
        assert!(
            result.verdict == Verdict::Pass,
            "{}: {}: {:?} {}",
            backend.info().backend,
            case.name,
            result.verdict,
            result.detail
        );
    };
    for (_, split) in pairs("") {
        capped.iter().for_each(|case| check(&split, case));
    }
    for adapter in hcal_wgpu::adapter_names() {
        let Some(backend) = open(&adapter) else { return };
        if backend.info().device_type == hcal_core::DeviceType::SoftwareGpu {
            long.iter().for_each(|case| check(&backend, case));
        }
    }
}

/// `op` on f32 inputs with the given values, on any backend; `Err` with the
/// reason when the backend declines it.
fn eval(backend: &dyn Backend, op: &Op, inputs: &[(TensorDesc, Vec<f32>)]) -> Result<Vec<f32>, String> {
    let sig = OpSignature::new(op.clone(), inputs.iter().map(|(d, _)| Some(d.clone())).collect()).expect("valid");
    if let Support::Unsupported(why) = backend.supports(&sig) {
        return Err(why);
    }
    let ins: Vec<_> = inputs
        .iter()
        .map(|(d, v)| {
            let t = backend.alloc(d).unwrap();
            backend.write(&t, bytemuck::cast_slice(v)).unwrap();
            t
        })
        .collect();
    let out = backend.alloc(&sig.outputs()[0]).unwrap();
    backend.run(op, &ins.iter().collect::<Vec<_>>(), &[&out]).unwrap_or_else(|e| panic!("{op:?}: {e}"));
    let got = bytemuck::cast_slice(&backend.read(&out).unwrap()).to_vec();
    for t in ins.iter().chain([&out]) {
        backend.free(t).unwrap();
    }
    Ok(got)
}

/// Reductions whose outputs read more than a binding, or loop past the CPU
/// drivers' 65,535 iterations, run in partial results (`reduce_partial.rs`):
/// by (output, chunk) items and by passes over chunks, with one and with
/// two combine levels. Each result against the f64 reference: max and min
/// exact (NaN propagated from a late chunk), sums within the sequential
/// bound `count eps sum |x|`, products and L2 norms within `(count + 2) eps`
/// relative (products of values near +-1, norms of values near 1e30, whose
/// squares only a scaled sum holds).
#[test]
fn partial_reductions_match_the_reference() {
    let cpu = hcal_cpu::CpuBackend::new();
    let reduce = |op, axes: &[i64]| Op::Reduce { op, axes: Some(axes.to_vec()), keepdims: false };
    let data = |shape: &[usize], op: ReduceOp| {
        let n = shape.iter().product();
        let mut v = values(n, 7 + n as u64);
        match op {
            ReduceOp::Prod => v.iter_mut().for_each(|x| *x = x.signum() * (1.0 + *x / 64.0)),
            ReduceOp::L2 => v.iter_mut().for_each(|x| *x *= 1e30),
            ReduceOp::Max | ReduceOp::Min => v[n - 17] = f32::NAN,
            _ => {}
        }
        (f32s(shape), v)
    };
    let all = [ReduceOp::Sum, ReduceOp::Mean, ReduceOp::Max, ReduceOp::Min, ReduceOp::Prod, ReduceOp::L2];
    let mut capped: Vec<(Op, (TensorDesc, Vec<f32>))> = Vec::new();
    for op in all {
        // Rows of 20 KB: items of (row, chunk).
        capped.push((reduce(op, &[1]), data(&[3, 5000], op)));
    }
    for op in [ReduceOp::Sum, ReduceOp::Max, ReduceOp::L2] {
        // Each output's inputs strided across 24 KB: passes over chunks of rows.
        capped.push((reduce(op, &[0]), data(&[2000, 3], op)));
    }
    capped.push((reduce(ReduceOp::Mean, &[0, 2]), data(&[40, 30, 20], ReduceOp::Mean)));
    // 400 chunks of one row: more states than a 4 KB binding holds, two combine levels.
    capped.push((reduce(ReduceOp::Sum, &[0]), data(&[250_000], ReduceOp::Sum)));
    capped.push((reduce(ReduceOp::Prod, &[0]), data(&[250_000], ReduceOp::Prod)));
    // Past the loop budget of Mesa's CPU drivers, no binding cap; and at its
    // edge, one invocation per output (8,190 x 8 + 3 and 16,383 x 4 + 3
    // iterations for ReduceL2 and ReduceSum over the last axis of a matrix).
    let mut long: Vec<(Op, (TensorDesc, Vec<f32>))> = [ReduceOp::Sum, ReduceOp::L2, ReduceOp::Min]
        .into_iter()
        .map(|op| (reduce(op, &[1]), data(&[2, 40_000], op)))
        .collect();
    long.push((reduce(ReduceOp::L2, &[1]), data(&[2, 8190], ReduceOp::L2)));
    long.push((reduce(ReduceOp::Sum, &[1]), data(&[2, 16_383], ReduceOp::Sum)));
    let check = |name: &str, op: &Op, (desc, v): &(TensorDesc, Vec<f32>), got: &[f32]| {
        let want = eval(&cpu, op, &[(desc.clone(), v.clone())]).unwrap();
        let Op::Reduce { op: kind, axes: Some(axes), .. } = op else { unreachable!() };
        let count: usize = axes.iter().map(|&a| desc.shape[a as usize]).product();
        let eps = f64::from(f32::EPSILON);
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            let ok = match kind {
                ReduceOp::Max | ReduceOp::Min => g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                ReduceOp::Sum | ReduceOp::Mean => {
                    let scale = if *kind == ReduceOp::Mean { count as f64 } else { 1.0 };
                    let abs_sum: f64 = v.iter().map(|x| f64::from(x.abs())).sum::<f64>() / scale;
                    (f64::from(g) - f64::from(w)).abs() <= count as f64 * eps * abs_sum
                }
                ReduceOp::Prod | ReduceOp::L2 => {
                    (f64::from(g) - f64::from(w)).abs() <= (count + 2) as f64 * eps * f64::from(w.abs())
                }
            };
            assert!(ok, "{name}: {op:?} on {desc}: output {i} is {g}, the reference {w}");
        }
        assert_eq!(got.len(), want.len());
    };
    for (_, split) in pairs("") {
        let name = split.info().backend.clone();
        for (op, input) in &capped {
            let got = eval(&split, op, std::slice::from_ref(input)).unwrap_or_else(|why| panic!("{name}: {why}"));
            check(&name, op, input, &got);
        }
    }
    for adapter in hcal_wgpu::adapter_names() {
        let Some(backend) = open(&adapter) else { return };
        for (op, input) in &long {
            let got = eval(&backend, op, std::slice::from_ref(input)).unwrap_or_else(|why| panic!("{adapter}: {why}"));
            check(&adapter, op, input, &got);
        }
    }
}
