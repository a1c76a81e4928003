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
