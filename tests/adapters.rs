//! Every wgpu adapter, not only the best one: a lost device fails every
//! later call without hanging, shown by a hard deadline (the body runs on a
//! thread and the test fails when it outlasts [`DEADLINE`], instead of
//! waiting on it), and every matmul kernel gives the same bits as the simple
//! one on each adapter (hcal-wgpu's own tests check these on one adapter).
//!
//! Without an adapter the tests say so and pass, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use hcal::{Backend, BackendExt, DType, Error, Gemm, Instruments, Op, OpSignature, TensorDesc, UnaryOp};
use hcal_wgpu::WgpuBackend;

/// Most a device-loss check may take on one adapter (lavapipe needs about a second).
const DEADLINE: Duration = Duration::from_secs(60);

/// Run `body` on a thread; fail the test when it has not returned after
/// `deadline` (the thread is left behind: a hang ends with the test binary).
/// A panic in `body` fails the test with its message.
fn within<T: Send + 'static>(what: &str, deadline: Duration, body: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = channel();
    let handle = std::thread::spawn(move || {
        let value = body();
        let _ = tx.send(());
        value
    });
    match rx.recv_timeout(deadline) {
        Ok(()) => handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
        // The body panicked: its message is the test's.
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(value) => value,
        },
        Err(RecvTimeoutError::Timeout) => panic!("{what} did not finish within {deadline:?}: it hangs"),
    }
}

/// The wgpu adapters (`wgpu:<api>:<index>`); empty, with a note, without
/// one (a failure under `HCAL_REQUIRE_ADAPTER=1`).
fn adapters() -> Vec<String> {
    let names = hcal_wgpu::adapter_names();
    if names.is_empty() {
        assert!(
            !std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1"),
            "HCAL_REQUIRE_ADAPTER=1 and no wgpu adapter"
        );
        eprintln!("skipped: no wgpu adapter");
    }
    names
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

#[test]
fn the_hard_deadline_fails_a_body_that_hangs() {
    let hung = std::panic::catch_unwind(|| {
        within("a sleeping body", Duration::from_millis(50), || std::thread::sleep(Duration::from_secs(5)))
    });
    let message = hung.expect_err("a hang must fail");
    let text = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("did not finish within"), "{text}");
    assert_eq!(within("a quick body", DEADLINE, || 7), 7);
}

#[test]
fn a_lost_device_fails_every_call_within_a_deadline_on_every_adapter() {
    for name in adapters() {
        let adapter = name.clone();
        within(&format!("device loss on {name}"), DEADLINE, move || {
            let gpu = WgpuBackend::open(&adapter).expect("open");
            let desc = TensorDesc::new([1024], DType::F16);
            let (x, y) = (gpu.alloc(&desc).unwrap(), gpu.alloc(&desc).unwrap());
            gpu.write(&x, &[0u8; 2048]).unwrap();
            // Recorded, not yet submitted, when the device goes.
            for _ in 0..10 {
                gpu.run(&Op::Unary(UnaryOp::Exp), &[&x], &[&y]).unwrap();
            }
            gpu.destroy_device_for_testing();
            let lost = |what: &str, r: Result<(), Error>| {
                assert!(matches!(r, Err(Error::DeviceLost { .. })), "[{adapter}] {what} after loss: {r:?}");
            };
            lost("run", gpu.run(&Op::Unary(UnaryOp::Exp), &[&x], &[&y]));
            lost("write", gpu.write(&x, &[0u8; 2048]));
            lost("sync", gpu.sync());
            lost("alloc", gpu.alloc(&desc).map(drop));
            assert!(gpu.read(&y).is_err(), "[{adapter}] read after loss");
            let _ = (gpu.free(&x), gpu.free(&y));
            // The loss is this device's: the adapter opens again and works.
            let fresh = WgpuBackend::open(&adapter).expect("reopen after a loss");
            let t = fresh.alloc(&TensorDesc::new([2], DType::F32)).unwrap();
            fresh.write(&t, bytemuck::cast_slice(&[5f32, 6.])).unwrap();
            assert_eq!(f32s(&fresh.read(&t).unwrap()), [5., 6.], "[{adapter}]");
        });
    }
}

/// Deterministic values in [-1, 1) with varied low bits, so reordered sums differ.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// `op(a, b)` on `backend`, as raw bits, plus the kernel it reports.
fn product(backend: &WgpuBackend, op: &Op, a: &[usize], b: &[usize]) -> (Vec<u32>, String) {
    let (da, db) = (TensorDesc::new(a.to_vec(), DType::F32), TensorDesc::new(b.to_vec(), DType::F32));
    let sig = OpSignature::new(op.clone(), vec![Some(da.clone()), Some(db.clone())]).expect("valid shapes");
    let out = sig.outputs()[0].clone();
    let (ta, tb, ty) = (backend.alloc(&da).unwrap(), backend.alloc(&db).unwrap(), backend.alloc(&out).unwrap());
    backend.write(&ta, bytemuck::cast_slice(&values(da.numel(), 1))).unwrap();
    backend.write(&tb, bytemuck::cast_slice(&values(db.numel(), 2))).unwrap();
    backend.run(op, &[&ta, &tb], &[&ty]).unwrap();
    let bits =
        backend.read(&ty).unwrap().chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let kernel = backend.kernel_variant(&sig).unwrap_or_default();
    for t in [ta, tb, ty] {
        backend.free(&t).unwrap();
    }
    (bits, kernel)
}

#[test]
fn every_matmul_kernel_is_bit_identical_to_the_simple_one_on_every_adapter() {
    let matmul = Op::MatMul;
    let gemm_tb = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
    // Edge tiles, K tails, broadcast batches, a transposed B, A staged as a
    // texture (N >= 256) and products too small to tune (as hcal-wgpu's
    // matmul_kernels test, there on the best adapter only).
    let shapes: Vec<(Op, Vec<usize>, Vec<usize>)> = vec![
        (matmul.clone(), vec![37, 29], vec![29, 36]),
        (matmul.clone(), vec![37, 29], vec![29, 260]),
        (matmul.clone(), vec![3, 1, 33, 19], vec![2, 19, 264]),
        (gemm_tb.clone(), vec![150, 45], vec![300, 45]),
        (matmul.clone(), vec![130, 67], vec![67, 132]),
        (matmul.clone(), vec![200, 1000], vec![1000, 8]),
        (matmul.clone(), vec![2, 70, 64], vec![2, 64, 68]),
        (gemm_tb, vec![1, 300], vec![40, 300]),
    ];
    for adapter in adapters() {
        let shapes = shapes.clone();
        let name = adapter.clone();
        let ran = within(&format!("matmul kernels on {adapter}"), Duration::from_secs(600), move || {
            let simple = WgpuBackend::open(&format!("{name}:baseline")).expect("open the simple kernel");
            let expected: Vec<Vec<u32>> = shapes.iter().map(|(op, a, b)| product(&simple, op, a, b).0).collect();
            let mut ran = std::collections::BTreeSet::new();
            for kernel in hcal_wgpu::matmul_kernel_names() {
                let pinned = format!("{name}:mm={kernel}");
                let backend = WgpuBackend::open(&pinned).expect("open a pinned kernel");
                for ((op, a, b), want) in shapes.iter().zip(&expected) {
                    let (got, variant) = product(&backend, op, a, b);
                    ran.insert(
                        variant.split(':').nth(1).unwrap_or_default().split('@').next().unwrap_or_default().to_string(),
                    );
                    let diff = got.iter().zip(want).position(|(g, w)| g != w);
                    assert!(diff.is_none(), "{pinned} on {op:?} {a:?} x {b:?}: first differing output at {diff:?}");
                }
            }
            (ran, simple.info().features.iter().any(|f| f == "subgroups"))
        });
        let (ran, subgroups) = ran;
        eprintln!("[{adapter}] kernels run: {ran:?}");
        assert!(ran.iter().any(|k| k.starts_with("tiled-")), "[{adapter}] kernels run: {ran:?}");
        if subgroups {
            assert!(ran.iter().any(|k| k.starts_with("texture-")), "[{adapter}] kernels run: {ran:?}");
        }
    }
}
