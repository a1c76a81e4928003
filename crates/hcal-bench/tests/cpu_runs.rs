//! Measuring on the cpu backend end to end, and the baselines' correctness:
//! a baseline must compute the same thing as the candidate, or its speedup is
//! meaningless. Results are checked for values and shape, never for speed.

use hcal::{DType, Device};
use hcal_bench::*;

fn cpu() -> Device {
    Device::open("cpu").unwrap()
}

fn policy() -> RepPolicy {
    RepPolicy { max_reps: 3, min_reps: 2, max_time_s: 0.2, warmup_s: 0.0, ..RepPolicy::quick() }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn measure_samples_within_the_policy() {
    let device = cpu();
    let w = Workload::new(Shape::parse(OpKind::Matmul, "16x8x4").unwrap(), DType::F32);
    let p = Prepared::new(&device, &w).unwrap();
    let m = measure(&device, &policy(), || p.call()).unwrap();
    assert!((1..=3).contains(&m.samples_s.len()), "{m:?}");
    assert_eq!(m.samples_s.len(), m.wall_samples_s.len());
    assert!(m.inner >= 1 && m.first_call_s > 0.0);
    assert_eq!(m.timing, TimingMode::Wall, "the cpu backend has no device timer");
    assert!(m.samples_s.iter().all(|s| s.is_finite() && *s > 0.0));
}

#[test]
fn cold_operands_fill_the_asked_bytes_and_every_call_computes_the_same() {
    let device = cpu();
    // A [1, 64] (256 B) and B [64, 64] (16 KiB) f32: 16640 bytes a set.
    let w = Workload::new(Shape::parse(OpKind::Matmul, "1x64x64").unwrap(), DType::F32);
    let mut p = Prepared::new(&device, &w).unwrap();
    p.call().unwrap();
    let warm = p.output.to_f32().unwrap();
    assert_eq!(p.operand_sets(), 1);
    assert_eq!(p.go_cold(100_000).unwrap(), 7, "ceil(100000 / 16640) sets");
    assert_eq!(p.operand_sets(), 7);
    // A round of calls through every set, and one more: each gives the warm bits.
    for call in 0..8 {
        p.call().unwrap();
        assert_eq!(p.output.to_f32().unwrap(), warm, "call {call}");
    }
    // A set already larger than the bytes asked needs no copy.
    assert_eq!(p.go_cold(1000).unwrap(), 1);
    // One-op baselines rotate too; the composed attention (several ops) says why it cannot.
    let mut gemm = PreparedBaseline::new(&device, &Baseline::Gemm, &w).unwrap();
    assert_eq!(gemm.go_cold(100_000).unwrap(), 7);
    for _ in 0..8 {
        gemm.call().unwrap();
        assert_eq!(gemm.output().expect("gemm has an output").to_f32().unwrap(), warm);
    }
    let a = Workload::new(Shape::parse(OpKind::Attention, "1x2x4x4").unwrap(), DType::F32);
    let mut composed = PreparedBaseline::new(&device, &Baseline::Composed, &a).unwrap();
    let err = composed.go_cold(100_000).unwrap_err().to_string();
    assert!(err.contains("several ops"), "{err}");
}

#[test]
fn composed_attention_computes_what_the_fused_op_does() {
    let device = cpu();
    for (spec, causal, kv) in
        [("1x4x8x8x16", false, None), ("2x4x8x8x16", true, Some(2)), ("1x6x3x10x8", true, Some(3))]
    {
        let w =
            Workload { shape: Shape::parse(OpKind::Attention, spec).unwrap(), dtype: DType::F32, causal, kv_heads: kv };
        let fused = Prepared::new(&device, &w).unwrap();
        fused.call().unwrap();
        let composed = PreparedBaseline::new(&device, &Baseline::Composed, &w).unwrap();
        composed.call().unwrap();
        let d = max_diff(
            &fused.output.to_f32().unwrap(),
            &composed.output().expect("composed has an output").to_f32().unwrap(),
        );
        assert!(d < 1e-5, "{spec} causal={causal} kv={kv:?}: max diff {d}");
        assert!(composed.kernel.contains("Softmax"), "{}", composed.kernel);
    }
}

#[test]
fn gemm_baseline_computes_the_matmul() {
    let device = cpu();
    let w = Workload::new(Shape::parse(OpKind::Matmul, "5x7x3").unwrap(), DType::F32);
    let candidate = Prepared::new(&device, &w).unwrap();
    candidate.call().unwrap();
    let gemm = PreparedBaseline::new(&device, &Baseline::Gemm, &w).unwrap();
    gemm.call().unwrap();
    assert_eq!(candidate.output.to_f32().unwrap(), gemm.output().expect("gemm has an output").to_f32().unwrap());
}

#[test]
fn the_same_kernel_as_baseline_is_refused_and_a_different_one_accepted() {
    let device = cpu();
    let w = Workload::new(Shape::parse(OpKind::Matmul, "8x8x8").unwrap(), DType::F32);
    let p = Prepared::new(&device, &w).unwrap();
    let sig = p.signature();
    let variant = device.backend().instruments().and_then(|i| i.kernel_variant(sig));
    let candidate = kernel_identity(device.info(), &[(variant.as_deref(), &sig.op().to_string())]);
    // `--baseline cpu` on a cpu candidate: the same op on the same device.
    let same = PreparedBaseline::new(&cpu(), &Baseline::Backend("cpu".into()), &w).unwrap();
    let err = check_baseline_differs(&candidate, &same.kernel).unwrap_err();
    assert!(err.0.contains("same kernel"), "{err}");
    // Gemm is a different kernel on the reference backend.
    let gemm = PreparedBaseline::new(&device, &Baseline::Gemm, &w).unwrap();
    check_baseline_differs(&candidate, &gemm.kernel).unwrap();
    // Baselines that do not apply to the op say so.
    assert!(PreparedBaseline::new(&device, &Baseline::Composed, &w).is_err());
    // The reference backend has no device probes, so no copy baseline.
    let err = PreparedBaseline::new(&device, &Baseline::Copy, &w).err().expect("no copy probe on cpu");
    assert!(err.to_string().contains("no copy probe"), "{err}");
}

#[test]
fn host_peaks_are_positive() {
    assert!(host_fma_gflops(1) > 0.0);
    assert!(host_copy_gbps(2, 1 << 16) > 0.0);
}

#[test]
fn the_launch_cost_is_a_positive_time_per_op() {
    let us = hcal_bench::peak::launch_us(&cpu()).unwrap().expect("the reference runs f32 Add");
    assert!(us.is_finite() && us > 0.0, "{us}");
    let peak = hcal_bench::peak::measure(&cpu()).unwrap();
    assert!(peak.launch_us.is_some_and(|us| us > 0.0), "{peak:?}");
}
