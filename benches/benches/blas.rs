//! `host-blas/matmul/{M}x{N}x{K}`: matrixmultiply's sgemm on the host CPU (all
//! its threads), the reference point for what this machine's CPU does with a
//! tuned BLAS-class kernel. Run beside `{backend}/matmul/...` (`cargo bench -p
//! hcal-benches -- matmul`) so lavapipe numbers, which are also computed on
//! this CPU, sit next to the machine's real capability in one run.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hcal_benches::matmul_flops;

const SHAPES: [(usize, usize, usize); 4] = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (1, 4096, 4096)];

fn sgemm(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    // Row-major: row stride = columns, column stride = 1.
    matrixmultiply::sgemm_unchecked_dispatch(m, k, n, a, b, c);
}

mod matrixmultiply {
    /// Safe wrapper: matrixmultiply's sgemm is an `unsafe fn` over raw strided
    /// pointers; the slices here are exactly `m*k`, `k*n` and `m*n` long,
    /// row-major, which is what the strides below describe.
    pub fn sgemm_unchecked_dispatch(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        assert!(a.len() == m * k && b.len() == k * n && c.len() == m * n, "operand lengths match the dims");
        #[allow(unsafe_code)]
        // SAFETY: the asserted lengths and the row-major strides (k, 1), (n, 1), (n, 1)
        // keep every access in bounds; `c` is a unique borrow, so nothing aliases it.
        unsafe {
            ::matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                b.as_ptr(),
                n as isize,
                1,
                0.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }
}

fn blas(c: &mut Criterion) {
    let mut group = c.benchmark_group("host-blas/matmul");
    for (m, n, k) in SHAPES {
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0).collect();
        let mut y = vec![0f32; m * n];
        group.throughput(Throughput::Elements(matmul_flops(m, n, k)));
        group.bench_function(BenchmarkId::from_parameter(format!("{m}x{n}x{k}")), |bench| {
            bench.iter(|| sgemm(m, n, k, &a, &b, &mut y))
        });
    }
    group.finish();
}

criterion_group!(benches, blas);
criterion_main!(benches);
