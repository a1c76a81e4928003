//! The benchmark hooks of the `Backend` trait on wgpu: device timing with
//! timestamp queries, kernel names, and the peak microbenchmarks. Correctness
//! only: no test here depends on how fast anything runs.
//!
//! Each test opens the best adapter; without one it says so and passes,
//! unless `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Backend, BackendExt, DType, Gemm, Instruments, Op, OpSignature, Probe, TensorDesc};
use hcal_wgpu::WgpuBackend;

mod common;

fn gpu() -> Option<WgpuBackend> {
    common::open("wgpu")
}

#[test]
fn timing_reports_device_seconds_of_the_work_between_begin_and_end() {
    let Some(gpu) = gpu() else { return };
    let has_timestamps = gpu.info().features.iter().any(|f| f == "timestamp-query");
    let desc = TensorDesc::new([64, 64], DType::F32);
    let a = gpu.alloc(&desc).unwrap();
    gpu.write(&a, bytemuck::cast_slice(&vec![0.5f32; 64 * 64])).unwrap();
    let y = gpu.alloc(&desc).unwrap();
    // Untimed work already recorded must not disturb the region.
    gpu.run(&Op::MatMul, &[&a, &a], &[&y]).unwrap();
    assert_eq!(gpu.begin_timing().unwrap(), has_timestamps);
    for _ in 0..3 {
        gpu.run(&Op::MatMul, &[&a, &a], &[&y]).unwrap();
    }
    let seconds = gpu.end_timing().unwrap();
    if has_timestamps {
        let s = seconds.expect("timing was on");
        assert!(s.is_finite() && s > 0.0, "device time {s}");
    } else {
        assert_eq!(seconds, None);
    }
    // Timing is off again, and the results are right: 64 * 0.25 = 16.
    assert_eq!(gpu.end_timing().unwrap(), None);
    let out: Vec<f32> = bytemuck::cast_slice(&gpu.read(&y).unwrap()).to_vec();
    assert!(out.iter().all(|&v| v == 16.0));
}

#[test]
fn timing_survives_more_passes_than_one_query_set_holds() {
    let Some(gpu) = gpu() else { return };
    let desc = TensorDesc::new([16], DType::F32);
    let x = gpu.alloc(&desc).unwrap();
    gpu.write(&x, bytemuck::cast_slice(&[1f32; 16])).unwrap();
    let y = gpu.alloc(&desc).unwrap();
    if !gpu.begin_timing().unwrap() {
        return;
    }
    // A read closes the pass, so each op gets a pass of its own: 300 passes
    // need 600 queries, more than one set of 256.
    for _ in 0..300 {
        gpu.run(&Op::Softmax { axis: 0 }, &[&x], &[&y]).unwrap();
        gpu.read(&y).unwrap();
    }
    let s = gpu.end_timing().unwrap().expect("timing was on");
    assert!(s.is_finite() && s > 0.0);
}

#[test]
fn kernel_variant_tells_kernels_apart_and_names_shared_ones_alike() {
    let Some(gpu) = gpu() else { return };
    let sig = |op: Op, dtype: DType| OpSignature::new(op, vec![Some(TensorDesc::new([8, 8], dtype)); 2]).unwrap();
    let softmax =
        |dtype: DType| OpSignature::new(Op::Softmax { axis: -1 }, vec![Some(TensorDesc::new([8, 8], dtype))]).unwrap();
    let matmul = gpu.kernel_variant(&sig(Op::MatMul, DType::F32)).unwrap();
    let gemm = gpu.kernel_variant(&sig(Op::Gemm(Gemm::default()), DType::F32)).unwrap();
    let soft = gpu.kernel_variant(&softmax(DType::F32)).unwrap();
    let soft_half = gpu.kernel_variant(&softmax(DType::F16)).unwrap();
    // Shader file, entry point or variant, and a hash of the source.
    assert!(matmul.starts_with("matmul") && matmul.contains(".wgsl:") && matmul.contains('@'), "{matmul}");
    assert_eq!(matmul, gemm, "MatMul and Gemm of one shape run the same kernel");
    assert_ne!(matmul, soft);
    assert!(soft.starts_with("softmax.wgsl:softmax@"), "{soft}");
    assert!(soft_half.starts_with(&soft) && soft_half.contains("+convert.wgsl@"), "{soft_half}");
}

#[test]
fn probes_report_their_work() {
    let Some(gpu) = gpu() else { return };
    let fma = gpu.run_probe(&Probe::Fma { flops: 1 << 24 }).unwrap().expect("wgpu has an fma probe");
    assert!(fma.flops > 0 && fma.flops <= 1 << 25, "{fma:?}");
    assert!(fma.method.contains("fma_peak"));
    let copy = gpu.run_probe(&Probe::Copy { bytes: 1 << 20 }).unwrap().expect("wgpu has a copy probe");
    assert_eq!(copy.bytes, 2 << 20);
    gpu.sync().unwrap();
}
