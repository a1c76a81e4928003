//! Device limits, lost devices, freed handles and batching surface as hcal
//! errors or correct results, never as wgpu panics or hangs.
//!
//! Each test opens the best adapter; without one it says so and passes,
//! unless `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Backend, BackendExt, BinaryOp, DType, Error, Op, OpSignature, Support, TensorDesc};
use hcal_wgpu::WgpuBackend;

fn gpu() -> Option<WgpuBackend> {
    match WgpuBackend::open("wgpu") {
        Ok(b) => Some(b),
        Err(e) if std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1") => {
            panic!("HCAL_REQUIRE_ADAPTER=1: {e}")
        }
        Err(e) => {
            eprintln!("skipped: no wgpu adapter ({e})");
            None
        }
    }
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

#[test]
fn allocation_beyond_max_buffer_size_is_a_device_limit_error() {
    let Some(gpu) = gpu() else { return };
    let max = gpu.info().limits["max_buffer_size"];
    let desc = TensorDesc::new([(max / 4 + 1024) as usize], DType::F32);
    match gpu.alloc(&desc) {
        Err(Error::DeviceLimit { limit, max: m, requested, .. }) => {
            assert_eq!(limit, "max_buffer_size");
            assert_eq!(m, max);
            assert!(requested > max);
        }
        other => panic!("expected DeviceLimit, got {other:?}"),
    }
}

#[test]
fn a_tensor_beyond_one_binding_is_declined_with_the_limit_named() {
    let Some(gpu) = gpu() else { return };
    let max = gpu.info().limits["max_storage_buffer_binding_size"] as usize;
    let x = TensorDesc::new([max / 4 + 64], DType::F32);
    let sig = OpSignature::new(Op::Binary(BinaryOp::Add), vec![Some(x.clone()), Some(x)]);
    match gpu.supports(&sig) {
        Support::Unsupported(reason) => assert!(reason.contains("max_storage_buffer_binding_size"), "{reason}"),
        Support::Native => panic!("a tensor larger than one binding was accepted"),
    }
}

#[test]
fn a_lost_device_makes_every_later_call_an_error() {
    let Some(gpu) = gpu() else { return };
    let desc = TensorDesc::new([4], DType::F32);
    let x = gpu.alloc(&desc).expect("alloc before loss");
    gpu.destroy_device_for_testing();
    let y = gpu.alloc(&desc);
    assert!(matches!(y, Err(Error::DeviceLost { .. })), "alloc after loss: {:?}", y.map(|t| t.desc().clone()));
    let r = gpu.read(&x);
    assert!(r.is_err(), "read after loss returned {r:?}");
    assert!(gpu.sync().is_err() || gpu.read(&x).is_err());
}

#[test]
fn freed_and_foreign_handles_are_errors() {
    let Some(gpu) = gpu() else { return };
    let x = gpu.alloc(&TensorDesc::new([4], DType::F32)).expect("alloc");
    gpu.free(&x).expect("first free");
    assert!(matches!(gpu.read(&x), Err(Error::InvalidTensor { .. })));
    assert!(matches!(gpu.free(&x), Err(Error::InvalidTensor { .. })));
    let wrong_len = gpu.alloc(&TensorDesc::new([4], DType::F32)).expect("alloc");
    assert!(matches!(gpu.write(&wrong_len, &[0u8; 12]), Err(Error::ByteLength { .. })));
}

#[test]
fn a_thousand_recorded_ops_then_one_read_are_correct_and_recycle_buffers() {
    let Some(gpu) = gpu() else { return };
    let desc = TensorDesc::new([257], DType::F32);
    let (x, one, y) = (gpu.alloc(&desc).unwrap(), gpu.alloc(&desc).unwrap(), gpu.alloc(&desc).unwrap());
    gpu.write(&x, bytemuck::cast_slice(&vec![0f32; 257])).unwrap();
    gpu.write(&one, bytemuck::cast_slice(&vec![1f32; 257])).unwrap();
    // x <- x + 1, 1000 times, ping-ponging between two buffers; no wait in between.
    let (mut a, mut b) = (&x, &y);
    for _ in 0..1000 {
        gpu.run(&Op::Binary(BinaryOp::Add), &[a, &one], &[b]).unwrap();
        std::mem::swap(&mut a, &mut b);
    }
    assert!(f32s(&gpu.read(a).unwrap()).iter().all(|&v| v == 1000.0));
    // f16 conversions use scratch buffers; they return to the pool.
    let h = TensorDesc::new([64], DType::F16);
    let (hx, hy) = (gpu.alloc(&h).unwrap(), gpu.alloc(&h).unwrap());
    gpu.write(&hx, &[0u8; 128]).unwrap();
    gpu.run(&Op::Unary(hcal_core::UnaryOp::Exp), &[&hx], &[&hy]).unwrap();
    gpu.sync().unwrap();
    let before = gpu.memory_stats();
    for _ in 0..100 {
        gpu.run(&Op::Unary(hcal_core::UnaryOp::Exp), &[&hx], &[&hy]).unwrap();
    }
    gpu.sync().unwrap();
    assert_eq!(gpu.memory_stats(), before, "scratch buffers leaked");
    let ones = gpu.read(&hy).unwrap();
    assert!(ones.chunks_exact(2).all(|c| u16::from_le_bytes([c[0], c[1]]) == 0x3c00), "exp(0) in f16 is 1.0");
}
