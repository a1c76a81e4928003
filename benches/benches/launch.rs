//! `{backend}/launch/1000x{mode}`: the cost of launching small ops.
//!
//! 1000 elementwise adds on 256 floats, either all recorded and then synced
//! once (`recorded`), or each submitted and waited for (`synced`). Before the
//! criterion runs, a side-by-side measurement prints microseconds per op for
//! both modes and their ratio, on every backend.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hcal::{BinaryOp, DType, Device, DeviceTensor, Op};
use hcal_benches::{backends, filled};

const OPS: usize = 1000;

fn add(device: &Device, a: &DeviceTensor, b: &DeviceTensor, y: &DeviceTensor) {
    device.run(&Op::Binary(BinaryOp::Add), &[Some(a), Some(b)], &[Some(y)]).expect("Add");
}

/// 1000 ops, then one sync.
fn recorded(device: &Device, a: &DeviceTensor, b: &DeviceTensor, y: &DeviceTensor) {
    for _ in 0..OPS {
        add(device, a, b, y);
    }
    device.sync().expect("sync");
}

/// 1000 times: one op, then a sync.
fn synced(device: &Device, a: &DeviceTensor, b: &DeviceTensor, y: &DeviceTensor) {
    for _ in 0..OPS {
        add(device, a, b, y);
        device.sync().expect("sync");
    }
}

fn median_us_per_op(f: impl Fn()) -> f64 {
    f(); // warm-up: pipelines compiled, pools filled
    let mut samples: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    samples[2].as_secs_f64() * 1e6 / OPS as f64
}

fn launch(c: &mut Criterion) {
    for name in backends() {
        let Ok(device) = Device::open(&name) else {
            eprintln!("skipping backend {name}: cannot open");
            continue;
        };
        let a = filled(&device, &[256], DType::F32, 1).expect("A");
        let b = filled(&device, &[256], DType::F32, 2).expect("B");
        let y = device.alloc(&hcal::TensorDesc::new([256], DType::F32)).expect("Y");
        let r = median_us_per_op(|| recorded(&device, &a, &b, &y));
        let s = median_us_per_op(|| synced(&device, &a, &b, &y));
        println!("{name}/launch: recorded {r:.2} us/op, submit-and-wait {s:.2} us/op, ratio {:.1}x", s / r);
        let mut group = c.benchmark_group(format!("{name}/launch"));
        group.throughput(Throughput::Elements(OPS as u64));
        group.bench_function(BenchmarkId::from_parameter("1000x-recorded"), |bench| {
            bench.iter(|| recorded(&device, &a, &b, &y))
        });
        group.bench_function(BenchmarkId::from_parameter("1000x-synced"), |bench| {
            bench.iter(|| synced(&device, &a, &b, &y))
        });
        group.finish();
    }
}

criterion_group!(benches, launch);
criterion_main!(benches);
