//! `{backend}/attention/{B}x{Hq}x{Sq}x{Skv}x{D}[-variant]`: ONNX Attention on
//! 4-D `[B, H, S, D]` f32 inputs, throughput in FLOPs (`4 B Hq Sq Skv D`),
//! device synced inside the timed region.

// criterion_group! expands to an undocumented `pub fn`.
#![allow(missing_docs)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hcal::{Attention, DType, Device, Op};
use hcal_benches::{attention_flops, backends, filled};

/// One row of the shape table.
struct Shape {
    batch: usize,
    q_heads: usize,
    kv_heads: usize,
    q_len: usize,
    kv_len: usize,
    head_dim: usize,
    causal: bool,
}

impl Shape {
    /// `{B}x{Hq}x{Sq}x{Skv}x{D}`, then `-gqa{Hq/Hkv}` and `-causal` when they apply.
    fn name(&self) -> String {
        let mut name = format!("{}x{}x{}x{}x{}", self.batch, self.q_heads, self.q_len, self.kv_len, self.head_dim);
        if self.kv_heads != self.q_heads {
            name += &format!("-gqa{}", self.q_heads / self.kv_heads);
        }
        if self.causal {
            name += "-causal";
        }
        name
    }
}

const fn shape(q_heads: usize, kv_heads: usize, q_len: usize, kv_len: usize, causal: bool) -> Shape {
    Shape { batch: 1, q_heads, kv_heads, q_len, kv_len, head_dim: 64, causal }
}

/// Prefill-like rows (square, plain and causal), grouped-query attention, and
/// a decode-like row (one query against a long cache).
const SHAPES: [Shape; 5] = [
    shape(8, 8, 64, 64, false),
    shape(8, 8, 128, 128, false),
    shape(8, 8, 128, 128, true),
    shape(8, 2, 128, 128, true),
    shape(8, 2, 1, 1024, false),
];

fn attention(c: &mut Criterion) {
    for name in backends() {
        let device = match Device::open(&name) {
            Ok(device) => device,
            Err(err) => {
                eprintln!("skipping backend {name}: {err}");
                continue;
            }
        };
        let mut group = c.benchmark_group(format!("{name}/attention"));
        for s in &SHAPES {
            let q = filled(&device, &[s.batch, s.q_heads, s.q_len, s.head_dim], DType::F32, 1).expect("alloc Q");
            let k = filled(&device, &[s.batch, s.kv_heads, s.kv_len, s.head_dim], DType::F32, 2).expect("alloc K");
            let v = filled(&device, &[s.batch, s.kv_heads, s.kv_len, s.head_dim], DType::F32, 3).expect("alloc V");
            let y = device
                .alloc(&hcal::TensorDesc::new([s.batch, s.q_heads, s.q_len, s.head_dim], DType::F32))
                .expect("alloc Y");
            let op = Op::Attention(Attention { is_causal: s.causal, ..Default::default() });
            group.throughput(Throughput::Elements(attention_flops(s.batch, s.q_heads, s.q_len, s.kv_len, s.head_dim)));
            group.bench_function(BenchmarkId::from_parameter(s.name()), |bench| {
                bench.iter(|| {
                    device.run(&op, &[Some(&q), Some(&k), Some(&v)], &[Some(&y)]).expect("Attention");
                    device.sync().expect("sync");
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, attention);
criterion_main!(benches);
