//! `{backend}/matmul/{M}x{N}x{K}`: `Y[M, N] = A[M, K] @ B[K, N]` in f32,
//! throughput in FLOPs (`2 M N K`), device synced inside the timed region.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hcal::{DType, Device, Op};
use hcal_benches::{backends, filled, matmul_flops};

/// `(M, N, K)` rows: square powers of two, then a ragged shape that is no
/// tile multiple, then a skinny decode-like shape (one token times a weight).
const SHAPES: [(usize, usize, usize); 5] =
    [(64, 64, 64), (128, 128, 128), (256, 256, 256), (257, 255, 129), (1, 1024, 1024)];

fn matmul(c: &mut Criterion) {
    for name in backends() {
        let device = match Device::open(&name) {
            Ok(device) => device,
            Err(err) => {
                eprintln!("skipping backend {name}: {err}");
                continue;
            }
        };
        let mut group = c.benchmark_group(format!("{name}/matmul"));
        for (m, n, k) in SHAPES {
            let a = filled(&device, &[m, k], DType::F32, 1).expect("alloc A");
            let b = filled(&device, &[k, n], DType::F32, 2).expect("alloc B");
            let y = device.alloc(&hcal::TensorDesc::new([m, n], DType::F32)).expect("alloc Y");
            group.throughput(Throughput::Elements(matmul_flops(m, n, k)));
            group.bench_function(BenchmarkId::from_parameter(format!("{m}x{n}x{k}")), |bench| {
                bench.iter(|| {
                    device.run(&Op::MatMul, &[Some(&a), Some(&b)], &[Some(&y)]).expect("MatMul");
                    device.sync().expect("sync");
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, matmul);
criterion_main!(benches);
