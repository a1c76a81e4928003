//! Bounded memory: 10,000 alloc / write / execute / free cycles on the
//! reference backend leave the host RSS flat (one test in its own binary, so
//! no other test moves the RSS). After [`WARMUP`] cycles the RSS may grow by
//! at most [`RSS_CAP_BYTES`] over [`CYCLES`]: a leak of one of the cycle's
//! smallest tensors (1 KiB) per cycle would exceed it tenfold.

use hcal_core::{Backend, BackendExt, DType, Op, TensorDesc};

/// Measured cycles.
const CYCLES: usize = 10_000;
/// Cycles before the first measurement.
const WARMUP: usize = 500;
/// Most host RSS growth allowed over [`CYCLES`] (measured: under 1 MiB).
const RSS_CAP_BYTES: u64 = 1 << 20;

/// Resident set size of this process (Linux `/proc/self/status` VmRSS).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().strip_suffix("kB")?.trim().parse::<u64>();
    kb.ok().map(|kb| kb * 1024)
}

fn cycle(cpu: &hcal_cpu::CpuBackend, i: usize) {
    let n = [256, 1000, 4096][i % 3];
    let (f, h) = (TensorDesc::new([n], DType::F32), TensorDesc::new([n], DType::F16));
    let (x, y, z) = (cpu.alloc(&f).unwrap(), cpu.alloc(&h).unwrap(), cpu.alloc(&h).unwrap());
    cpu.write(&x, bytemuck::cast_slice(&vec![i as f32; n])).unwrap();
    cpu.run(&Op::Cast { to: DType::F16 }, &[&x], &[&y]).unwrap();
    cpu.run(&Op::Softmax { axis: -1 }, &[&y], &[&z]).unwrap();
    if i % 100 == 0 {
        let got = cpu.read(&z).unwrap();
        let p = half::f16::from_le_bytes([got[0], got[1]]).to_f32();
        assert!((p - 1.0 / n as f32).abs() <= 1e-3 / n as f32 + 1e-7, "cycle {i}: {p}");
    }
    for t in [x, y, z] {
        cpu.free(&t).unwrap();
    }
}

#[test]
fn ten_thousand_cycles_leave_rss_flat() {
    let cpu = hcal_cpu::CpuBackend::new();
    for i in 0..WARMUP {
        cycle(&cpu, i);
    }
    let before = rss_bytes();
    for i in WARMUP..WARMUP + CYCLES {
        cycle(&cpu, i);
    }
    let after = rss_bytes();
    eprintln!("[cpu] {CYCLES} cycles: RSS {before:?} -> {after:?} bytes");
    if let (Some(before), Some(after)) = (before, after) {
        let growth = after.saturating_sub(before);
        assert!(growth <= RSS_CAP_BYTES, "RSS grew by {growth} bytes (cap {RSS_CAP_BYTES})");
    }
}
