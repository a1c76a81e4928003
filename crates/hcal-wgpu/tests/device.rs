//! Device limits, lost devices, freed handles and batching surface as hcal
//! errors or correct results, never as wgpu panics or hangs.
//!
//! Each test opens the best adapter; without one it says so and passes,
//! unless `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

use hcal_core::{Backend, BackendExt, BinaryOp, DType, Error, Op, OpSignature, Support, Tensor, TensorDesc};
use hcal_wgpu::WgpuBackend;

mod common;

fn gpu() -> Option<WgpuBackend> {
    common::open("wgpu")
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
fn a_tensor_beyond_one_binding_runs_in_pieces_and_beyond_one_buffer_is_declined() {
    let Some(gpu) = gpu() else { return };
    let max = gpu.info().limits["max_storage_buffer_binding_size"] as usize;
    let x = TensorDesc::new([max / 4 + 64], DType::F32);
    let sig = OpSignature::new(Op::Binary(BinaryOp::Add), vec![Some(x.clone()), Some(x)]).unwrap();
    assert_eq!(gpu.supports(&sig), Support::Native, "split into pieces of one binding each");
    // An f16 tensor whose f32 copy exceeds max_buffer_size (or u32 indexing).
    let max_buffer = gpu.info().limits["max_buffer_size"] as usize;
    let x = TensorDesc::new([max_buffer / 4 + 1024], DType::F16);
    let sig = OpSignature::new(Op::Unary(hcal_core::UnaryOp::Relu), vec![Some(x)]).unwrap();
    match gpu.supports(&sig) {
        Support::Unsupported(reason) => {
            assert!(reason.contains("max_buffer_size") || reason.contains("2^32"), "{reason}")
        }
        Support::Native => panic!("a tensor larger than one buffer was accepted"),
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
    let chain = count_up(&gpu, 257, 1000);
    assert!(f32s(&gpu.read(&chain.sum).unwrap()).iter().all(|&v| v == 1000.0));
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

/// Both ways of waiting (`:spin` polls and yields, `:block` sleeps in the
/// driver) return every result of a chain longer than one submitted batch
/// (`MAX_BATCH_DISPATCHES` is 256), and a device lost after work was recorded
/// under either is an error on the next call, not a hang.
#[test]
fn both_wait_policies_return_whole_batches_and_report_a_loss() {
    for (name, gpu) in every_adapter_and_wait_policy() {
        let chain = count_up(&gpu, 33, 300);
        gpu.sync().unwrap();
        assert!(f32s(&gpu.read(&chain.sum).unwrap()).iter().all(|&v| v == 300.0), "[{name}]");
        gpu.run(&Op::Binary(BinaryOp::Add), &[&chain.sum, &chain.one], &[&chain.spare]).unwrap();
        gpu.destroy_device_for_testing();
        assert!(matches!(gpu.sync(), Err(Error::DeviceLost { .. })), "[{name}] sync after loss");
    }
}

/// A started read (`read_start`) returns the tensor as it was after the work
/// enqueued before it, though later work, queued before the wait, writes
/// the same tensor; under both wait policies, on every adapter (GL reads at
/// once), and a packed quantized tensor's read comes back in stored order.
#[test]
fn a_started_read_returns_the_contents_at_its_start_while_later_work_runs() {
    for (name, gpu) in every_adapter_and_wait_policy() {
        let chain = count_up(&gpu, 33, 300);
        let at_300 = gpu.read_start(&chain.sum).unwrap();
        // 300 more steps write both tensors of the chain, the read's included.
        let (mut sum, mut spare) = (chain.sum, chain.spare);
        for _ in 0..300 {
            gpu.run(&Op::Binary(BinaryOp::Add), &[&sum, &chain.one], &[&spare]).unwrap();
            std::mem::swap(&mut sum, &mut spare);
        }
        let at_599 = gpu.read_start(&spare).unwrap();
        assert!(f32s(&at_300.wait().unwrap()).iter().all(|&v| v == 300.0), "[{name}] the first read");
        assert!(f32s(&at_599.wait().unwrap()).iter().all(|&v| v == 599.0), "[{name}] the second read");
        assert!(f32s(&gpu.read(&sum).unwrap()).iter().all(|&v| v == 600.0), "[{name}] after both");
        // Two Q8_0 blocks (34 bytes each): scale 1.0, quants 0..63.
        let desc = TensorDesc::new([2, 32], DType::Q8_0);
        let block = |b: u8| {
            [&half::f16::from_f32(1.0).to_le_bytes()[..], &(0..32).map(|i| b * 32 + i).collect::<Vec<u8>>()].concat()
        };
        let bytes = [block(0), block(1)].concat();
        let q = gpu.alloc(&desc).unwrap();
        gpu.write(&q, &bytes).unwrap();
        assert_eq!(gpu.read_start(&q).unwrap().wait().unwrap(), bytes, "[{name}] a packed tensor");
        let stale = gpu.alloc(&TensorDesc::new([4], DType::F32)).unwrap();
        gpu.free(&stale).unwrap();
        assert!(matches!(gpu.read_start(&stale), Err(Error::InvalidTensor { .. })), "[{name}] a freed handle");
    }
}

/// Every adapter under each way of waiting (`:spin` and `:block`), named;
/// none where the machine has no adapter ([`gpu`] says so, or fails in CI).
fn every_adapter_and_wait_policy() -> Vec<(String, WgpuBackend)> {
    if gpu().is_none() {
        return Vec::new();
    }
    let names =
        hcal_wgpu::adapters().into_iter().flat_map(|a| ["spin", "block"].map(|pin| format!("{}:{pin}", a.name)));
    names.map(|name| (name.clone(), WgpuBackend::open(&name).unwrap_or_else(|e| panic!("open {name}: {e}")))).collect()
}

/// The tensors of [`count_up`].
struct Chain {
    /// The count after the last step.
    sum: Tensor,
    /// The other tensor of the ping-pong.
    spare: Tensor,
    /// `len` ones.
    one: Tensor,
}

/// `x <- x + 1` on `len` f32 zeros, `steps` times, ping-ponging between two
/// tensors with no wait in between (recorded, submitted in batches).
fn count_up(gpu: &WgpuBackend, len: usize, steps: usize) -> Chain {
    let desc = TensorDesc::new([len], DType::F32);
    let (mut sum, mut spare, one) = (gpu.alloc(&desc).unwrap(), gpu.alloc(&desc).unwrap(), gpu.alloc(&desc).unwrap());
    gpu.write(&sum, bytemuck::cast_slice(&vec![0f32; len])).unwrap();
    gpu.write(&one, bytemuck::cast_slice(&vec![1f32; len])).unwrap();
    for _ in 0..steps {
        gpu.run(&Op::Binary(BinaryOp::Add), &[&sum, &one], &[&spare]).unwrap();
        std::mem::swap(&mut sum, &mut spare);
    }
    Chain { sum, spare, one }
}

/// Every adapter this machine offers (the failure paths differ per API).
fn every_adapter() -> Vec<WgpuBackend> {
    let names: Vec<String> = hcal_wgpu::adapters().iter().map(|a| a.name.clone()).collect();
    if names.is_empty() {
        return gpu().into_iter().collect();
    }
    names.iter().map(|n| WgpuBackend::open(n).unwrap_or_else(|e| panic!("open {n}: {e}"))).collect()
}

#[test]
fn sizes_past_u64_buffer_sizes_and_unaddressable_tensors_are_errors() {
    for gpu in every_adapter() {
        // 2^64 - 1 bool bytes: the byte size fits in usize, the rounded-up
        // buffer size would not (this overflowed before, a panic in alloc).
        let huge = TensorDesc::new([usize::MAX], DType::Bool);
        assert!(matches!(gpu.alloc(&huge), Err(Error::DeviceLimit { .. })), "{}", gpu.info().backend);
        let just_over = TensorDesc::new([usize::MAX - 255], DType::Bool);
        assert!(matches!(gpu.alloc(&just_over), Err(Error::DeviceLimit { .. })));
        // A byte size that overflows usize, and an empty tensor with a huge dim.
        for d in [TensorDesc::new([usize::MAX], DType::F32), TensorDesc::new([0, usize::MAX], DType::F32)] {
            assert!(matches!(gpu.alloc(&d), Err(Error::TooLarge { .. })), "{d}");
        }
        // The backend is unaffected.
        let x = gpu.alloc(&TensorDesc::new([4], DType::F32)).expect("alloc after refusals");
        gpu.write(&x, bytemuck::cast_slice(&[1f32, 2., 3., 4.])).unwrap();
        assert_eq!(f32s(&gpu.read(&x).unwrap()), [1., 2., 3., 4.]);
    }
}

/// `HCAL_OOM_CHILD` makes the test below the child it spawns.
const OOM_CHILD: &str = "HCAL_OOM_CHILD";

/// Allocating past the device's memory is an error, never a crash, a hang
/// or a wrong result, and the adapter is usable afterwards. The memory of a
/// software adapter (lavapipe, llvmpipe) is the host's, overcommitted:
/// exhausting it for real would bring in the OOM killer. So a child process
/// runs the allocations under an address-space limit (`ulimit -v`, 2 GiB),
/// where the driver's allocations fail as they do when a device is full.
///
/// What the drivers here do (the child prints it):
/// - lavapipe (Vulkan): `alloc` returns [`Error::OutOfMemory`] at once, and
///   the same backend keeps working after the tensors are freed;
/// - llvmpipe (GL): the GL driver takes buffers without checking them, so
///   `alloc`, `run` and `sync` still succeed past the limit, and the next
///   `read` returns [`Error::DeviceLost`]: late, but an error rather than
///   wrong data; the adapter opens again.
#[test]
fn allocation_beyond_device_memory_is_an_error() {
    if let Ok(adapter) = std::env::var(OOM_CHILD) {
        return exhaust_memory(&adapter);
    }
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: the address-space limit needs a Linux shell");
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    for gpu in every_adapter() {
        let name = gpu.info().backend.clone();
        drop(gpu);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 2097152 && exec \"$0\" \"$@\"")
            .arg(&exe)
            .args(["--exact", "allocation_beyond_device_memory_is_an_error", "--nocapture"])
            .env(OOM_CHILD, &name)
            .output()
            .expect("spawn the child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "[{name}] child failed ({:?}):\n{stdout}\n{stderr}", out.status);
        let line = stdout.lines().find(|l| l.starts_with("out of memory:")).unwrap_or_else(|| {
            panic!("[{name}] the child never ran out of memory:\n{stdout}\n{stderr}");
        });
        eprintln!("[{name}] {line}");
    }
}

/// Tensors of 120 MiB the child makes at most: 2.8 GiB, past the 2 GiB limit
/// even before the process's own use of address space.
const MAX_TENSORS: usize = 24;

/// In the child: 120 MiB tensors (at most [`MAX_TENSORS`]),
/// each written by a kernel (the outer product of two small vectors) so that
/// lazily backed memory is really taken, until a call fails; then the last
/// tensor is read (an error, or the right values). Afterwards the adapter
/// must run an op: on the same backend, or on a reopened one after a loss.
fn exhaust_memory(adapter: &str) {
    let gpu = match WgpuBackend::open(adapter) {
        Ok(g) => g,
        // Under the limit even opening may fail: an error too, not a crash.
        Err(e) => {
            println!("out of memory: at open: {e}");
            return;
        }
    };
    let (m, n) = (4096, 7680);
    let a = gpu.alloc(&TensorDesc::new([m, 1], DType::F32)).unwrap();
    let b = gpu.alloc(&TensorDesc::new([1, n], DType::F32)).unwrap();
    gpu.write(&a, bytemuck::cast_slice(&vec![1f32; m])).unwrap();
    gpu.write(&b, bytemuck::cast_slice(&vec![2f32; n])).unwrap();
    let desc = TensorDesc::new([m, n], DType::F32);
    let mut held = Vec::new();
    let mut failure = None;
    for _ in 0..MAX_TENSORS {
        let t = match gpu.alloc(&desc) {
            Ok(t) => t,
            Err(e) => {
                failure = Some(("alloc", e));
                break;
            }
        };
        held.push(t.clone());
        if let Err(e) = gpu.run(&Op::MatMul, &[&a, &b], &[&t]) {
            failure = Some(("run", e));
            break;
        }
        if let Err(e) = gpu.sync() {
            failure = Some(("sync", e));
            break;
        }
    }
    let (stage, e) = match failure {
        Some(f) => f,
        None => match gpu.read(held.last().expect("tensors were made")) {
            Err(e) => ("read", e),
            Ok(bytes) => {
                let values = f32s(&bytes);
                assert!(values.iter().all(|&v| v == 2.0), "a tensor past the limit holds wrong values");
                panic!("{MAX_TENSORS} tensors of 120 MiB fit under a 2 GiB address-space limit");
            }
        },
    };
    assert!(
        matches!(e, Error::OutOfMemory { .. } | Error::DeviceLimit { .. } | Error::DeviceLost { .. }),
        "{stage} past the limit failed with an unexpected error: {e}"
    );
    println!("out of memory: {} tensors of 120 MiB, then {stage} failed: {e}", held.len());
    let lost = matches!(e, Error::DeviceLost { .. });
    for t in &held {
        let freed = gpu.free(t);
        assert!(freed.is_ok() || lost, "free after {stage} failed: {freed:?}");
    }
    drop(held);
    let fresh;
    let gpu = if lost {
        fresh = WgpuBackend::open(adapter).expect("reopen after the loss");
        &fresh
    } else {
        &gpu
    };
    let small = TensorDesc::new([4], DType::F32);
    let (x, y) = (gpu.alloc(&small).expect("alloc afterwards"), gpu.alloc(&small).expect("alloc afterwards"));
    gpu.write(&x, bytemuck::cast_slice(&[-1f32, 2., -3., 4.])).unwrap();
    gpu.run(&Op::Unary(hcal_core::UnaryOp::Relu), &[&x], &[&y]).expect("run afterwards");
    assert_eq!(f32s(&gpu.read(&y).expect("read afterwards")), [0., 2., 0., 4.]);
}

#[test]
fn a_device_lost_with_work_pending_fails_every_call_without_hanging() {
    for gpu in every_adapter() {
        let name = gpu.info().backend.clone();
        let desc = TensorDesc::new([1024], DType::F16);
        let (x, y) = (gpu.alloc(&desc).unwrap(), gpu.alloc(&desc).unwrap());
        gpu.write(&x, &[0u8; 2048]).unwrap();
        // Recorded, not yet submitted.
        for _ in 0..10 {
            gpu.run(&Op::Unary(hcal_core::UnaryOp::Exp), &[&x], &[&y]).unwrap();
        }
        gpu.destroy_device_for_testing();
        let lost = |what: &str, r: Result<(), Error>| {
            assert!(matches!(r, Err(Error::DeviceLost { .. })), "[{name}] {what} after loss: {r:?}");
        };
        lost("run", gpu.run(&Op::Unary(hcal_core::UnaryOp::Exp), &[&x], &[&y]));
        lost("write", gpu.write(&x, &[0u8; 2048]));
        lost("sync", gpu.sync());
        lost("alloc", gpu.alloc(&desc).map(drop));
        assert!(gpu.read(&y).is_err(), "[{name}] read after loss");
        // Releasing handles is host bookkeeping: allowed, and never a panic.
        let _ = (gpu.free(&x), gpu.free(&y));
        // The loss is this device's: the adapter opens again and works.
        let fresh = WgpuBackend::open(&name).expect("reopen after a loss");
        let t = fresh.alloc(&TensorDesc::new([2], DType::F32)).unwrap();
        fresh.write(&t, bytemuck::cast_slice(&[5f32, 6.])).unwrap();
        assert_eq!(f32s(&fresh.read(&t).unwrap()), [5., 6.], "[{name}]");
    }
}

/// Mesa's CPU drivers stop a shader's loops after 65,535 iterations: a long
/// reduction runs there in partial results (`reduce_partial.rs`), never
/// answered short (40,000 ones summed to 21,845 in one invocation once);
/// one within the budget runs in one invocation per output. Both exact.
#[test]
fn a_reduction_past_the_cpu_drivers_loop_budget_runs_in_partials_not_short() {
    let Some(gpu) = gpu() else { return };
    let sum = Op::Reduce { op: hcal_core::ReduceOp::Sum, axes: None, keepdims: false };
    for n in [40_000, 20_000] {
        let x = gpu.alloc(&TensorDesc::new([n], DType::F32)).unwrap();
        gpu.write(&x, bytemuck::cast_slice(&vec![1f32; n])).unwrap();
        let y = gpu.alloc(&TensorDesc::new(Vec::<usize>::new(), DType::F32)).unwrap();
        gpu.run(&sum, &[&x], &[&y]).unwrap();
        assert_eq!(bytemuck::cast_slice::<u8, f32>(&gpu.read(&y).unwrap()), [n as f32]);
    }
}

/// The loop budget per op along one axis: one iteration per element of a
/// lane for ArgMax/CumSum; lanes past it run in segments, each continuing
/// the last one's state, exact (ones summed to 70,000; the largest value
/// found past the first segment, its first and last copies told apart).
#[test]
fn ops_along_an_axis_past_the_cpu_drivers_loop_budget_run_in_segments() {
    let Some(gpu) = gpu() else { return };
    let n = 70_000;
    let cumsum = Op::CumSum { axis: 1, exclusive: false, reverse: false };
    let x = gpu.alloc(&TensorDesc::new([1, n], DType::F32)).unwrap();
    gpu.write(&x, bytemuck::cast_slice(&vec![1f32; n])).unwrap();
    let y = gpu.alloc(x.desc()).unwrap();
    gpu.run(&cumsum, &[&x], &[&y]).unwrap();
    let sums = f32s(&gpu.read(&y).unwrap());
    assert!(sums.iter().enumerate().all(|(i, &s)| s == (i + 1) as f32), "last {}", sums[n - 1]);
    let mut v: Vec<f32> = (0..n).map(|i| (i % 1000) as f32).collect();
    v[66_000] = 5e3;
    v[69_000] = 5e3;
    gpu.write(&x, bytemuck::cast_slice(&v)).unwrap();
    for (last, want) in [(false, 66_000i64), (true, 69_000)] {
        let argmax = Op::ArgMax { axis: 1, keepdims: false, select_last_index: last };
        let i = gpu.alloc(&TensorDesc::new([1], DType::I64)).unwrap();
        gpu.run(&argmax, &[&x], &[&i]).unwrap();
        assert_eq!(bytemuck::cast_slice::<u8, i64>(&gpu.read(&i).unwrap()), [want]);
    }
}
