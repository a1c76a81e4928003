//! Baselines on the devices present (wgpu adapters): the `copy` baseline
//! moves the row's bytes with the device's copy probe. Never a check of how
//! fast anything ran.

use hcal::{DType, Device};
use hcal_bench::{
    Baseline, OpKind, Prepared, PreparedBaseline, Shape, Workload, check_baseline_differs, kernel_identity,
};

/// Every available backend with device probes (wgpu adapters), or a clear
/// skip; with `HCAL_REQUIRE_ADAPTER=1` (CI) no adapter is a failure.
fn devices_with_probes() -> Vec<Device> {
    let devices: Vec<Device> = hcal::available_backends()
        .iter()
        .filter(|name| name.starts_with("wgpu"))
        .map(|name| Device::open(name).expect("an available backend opens"))
        .collect();
    if devices.is_empty() {
        assert!(
            !std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1"),
            "HCAL_REQUIRE_ADAPTER=1 but no wgpu adapter is available"
        );
        eprintln!("skipped: no wgpu adapter");
    }
    devices
}

#[test]
fn the_copy_baseline_moves_the_rows_bytes_with_the_copy_probe() {
    for device in devices_with_probes() {
        for (spec, dtype) in [("1x576x576", DType::Q4_1), ("1x2x8x64x16", DType::F32)] {
            let op = if spec.split('x').count() == 3 { OpKind::Matmul } else { OpKind::Attention };
            let w = Workload::new(Shape::parse(op, spec).unwrap(), dtype);
            let candidate = Prepared::new(&device, &w).unwrap();
            let sig = candidate.signature();
            let variant = device.backend().instruments().and_then(|i| i.kernel_variant(sig));
            let kernel = kernel_identity(device.info(), &[(variant.as_deref(), &sig.op().to_string())]);
            let mut copy = PreparedBaseline::new(&device, &Baseline::Copy, &w).unwrap();
            check_baseline_differs(&kernel, &copy.kernel).unwrap();
            // Half the row's bytes each way, rounded down to whole vec4s.
            let moved = hcal_bench::bytes(&w) / 2 / 16 * 16;
            assert!(
                copy.kernel.contains(&format!("copy of {moved} bytes")),
                "{}: {}",
                device.info().backend,
                copy.kernel
            );
            assert!(copy.output().is_none(), "a copy computes nothing to compare");
            assert_eq!(copy.go_cold(1 << 20).unwrap(), 1, "the probe keeps its buffers");
            copy.call().unwrap();
            device.sync().unwrap();
        }
    }
}

#[test]
fn a_row_beyond_one_copy_launch_gets_no_copy_baseline() {
    let mut checked = 0;
    for device in devices_with_probes() {
        // Where one binding holds at most 128 MiB (GL here): a row moving
        // just over twice that would be set against a smaller copy. Larger
        // bindings would need a copy this test should not allocate.
        let binding = device.info().limits.get("max_storage_buffer_binding_size").copied().unwrap_or(u64::MAX);
        if binding > 128 << 20 {
            continue;
        }
        // 1 x N x 4096 f32 with N chosen so that half its bytes exceed the binding.
        let n = (2 * binding / (4096 * 4)) as usize + 8;
        let w = Workload::new(Shape::parse(OpKind::Matmul, &format!("1x{n}x4096")).unwrap(), DType::F32);
        let err = PreparedBaseline::new(&device, &Baseline::Copy, &w).err().expect("refused");
        assert!(err.to_string().contains("one launch of the copy probe at most"), "{}: {err}", device.info().backend);
        checked += 1;
    }
    if checked == 0 {
        eprintln!("skipped: no adapter with storage bindings of 128 MiB or less (GL has them)");
    }
}
