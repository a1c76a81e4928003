//! Bounded memory: 10,000 alloc / write / execute / free cycles leave the
//! buffer pool, the device bytes hcal holds and the host RSS flat.
//!
//! One test in its own binary, so no other test's allocations move the RSS.
//! After a warm-up of [`WARMUP`] cycles (pipelines compiled, pool and
//! allocator arenas populated) the pool must be exactly where it was, and the
//! RSS may grow by at most [`RSS_CAP_BYTES`]: a leak of one 256-byte buffer
//! record per cycle would exceed it. Without an adapter the test says so and
//! passes, unless `HCAL_REQUIRE_ADAPTER=1`.

use hcal_core::{Backend, BackendExt, BinaryOp, DType, Op, TensorDesc, UnaryOp};
use hcal_wgpu::WgpuBackend;

/// Measured cycles.
const CYCLES: usize = 10_000;
/// Cycles before the first measurement.
const WARMUP: usize = 500;
/// Most host RSS growth allowed over [`CYCLES`] (measured on lavapipe and
/// llvmpipe: under 1 MiB; glibc arenas and driver caches may move a little).
const RSS_CAP_BYTES: u64 = 4 << 20;

/// Resident set size of this process (Linux `/proc/self/status` VmRSS).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().strip_suffix("kB")?.trim().parse::<u64>();
    kb.ok().map(|kb| kb * 1024)
}

/// One cycle: tensors of three size classes (f32 and f16, the latter through
/// scratch conversion buffers), a write, three ops, a read every 100th cycle.
fn cycle(gpu: &WgpuBackend, i: usize) {
    let n = [256, 1000, 4096][i % 3];
    let (f, h) = (TensorDesc::new([n], DType::F32), TensorDesc::new([n], DType::F16));
    let (x, y, z) = (gpu.alloc(&f).unwrap(), gpu.alloc(&f).unwrap(), gpu.alloc(&h).unwrap());
    let w = gpu.alloc(&h).unwrap();
    gpu.write(&x, bytemuck::cast_slice(&vec![i as f32; n])).unwrap();
    gpu.run(&Op::Binary(BinaryOp::Add), &[&x, &x], &[&y]).unwrap();
    gpu.run(&Op::Cast { to: DType::F16 }, &[&y], &[&z]).unwrap();
    gpu.run(&Op::Softmax { axis: -1 }, &[&z], &[&w]).unwrap();
    if i % 100 == 0 {
        let got = gpu.read(&y).unwrap();
        let first = f32::from_le_bytes([got[0], got[1], got[2], got[3]]);
        assert_eq!(first, 2.0 * i as f32, "cycle {i}");
        gpu.run(&Op::Unary(UnaryOp::Relu), &[&x], &[&y]).unwrap();
    }
    for t in [x, y, z, w] {
        gpu.free(&t).unwrap();
    }
}

#[test]
fn ten_thousand_cycles_leave_pool_and_rss_flat() {
    let names: Vec<String> = hcal_wgpu::adapters().iter().map(|a| a.name.clone()).collect();
    if names.is_empty() {
        assert!(!std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1"), "HCAL_REQUIRE_ADAPTER=1: no adapter");
        eprintln!("skipped: no wgpu adapter");
        return;
    }
    for name in names {
        let gpu = WgpuBackend::open(&name).expect("open");
        for i in 0..WARMUP {
            cycle(&gpu, i);
        }
        gpu.sync().unwrap();
        let (stats, report, rss) = (gpu.memory_stats(), gpu.memory_report(), rss_bytes());
        for i in WARMUP..WARMUP + CYCLES {
            cycle(&gpu, i);
        }
        gpu.sync().unwrap();
        let (stats_after, report_after, rss_after) = (gpu.memory_stats(), gpu.memory_report(), rss_bytes());
        eprintln!(
            "[{name}] {CYCLES} cycles: (live, pooled buffers, pooled bytes, pipelines) {stats:?} -> {stats_after:?}; \
             device bytes {} -> {}; RSS {:?} -> {:?} bytes",
            report.device_bytes, report_after.device_bytes, rss, rss_after
        );
        assert_eq!(stats_after, stats, "[{name}] the pool moved");
        assert_eq!(report_after.device_bytes, report.device_bytes, "[{name}] device bytes moved");
        assert_eq!(stats_after.0, 0, "[{name}] live tensors left");
        if let (Some(before), Some(after)) = (rss, rss_after) {
            let growth = after.saturating_sub(before);
            assert!(growth <= RSS_CAP_BYTES, "[{name}] RSS grew by {growth} bytes (cap {RSS_CAP_BYTES})");
        }
    }
}
