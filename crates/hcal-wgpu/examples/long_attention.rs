//! Attention over a long sequence without a sequence-squared buffer.
//!
//! `cargo run --release -p hcal-wgpu --example long_attention -- [BACKEND] [S] [HEADS] [D]`
//! (defaults `wgpu`, 32768, 1, 64) runs one non-causal self-attention of
//! `[1, HEADS, S, D]` in f32 and prints the time, GFLOP/s (4 S^2 D per head),
//! the largest single device buffer the call allocated, and what an S x S
//! score matrix would have needed.

use std::time::Instant;

use hcal_core::{Attention, Backend, BackendExt, DType, Instruments, Op, TensorDesc};

fn main() -> hcal_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("wgpu", String::as_str);
    let arg = |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (s, h, d) = (arg(2, 32768), arg(3, 1), arg(4, 64));
    let gpu = hcal_wgpu::WgpuBackend::open(name)?;
    let desc = TensorDesc::new([1, h, s, d], DType::F32);
    let data: Vec<f32> = (0..h * s * d).map(|i| ((i * 7919) % 2000) as f32 / 2000.0 - 0.5).collect();
    let (q, k, v, y) = (gpu.alloc(&desc)?, gpu.alloc(&desc)?, gpu.alloc(&desc)?, gpu.alloc(&desc)?);
    for t in [&q, &k, &v] {
        gpu.write(t, bytemuck::cast_slice(&data))?;
    }
    gpu.sync()?;
    Instruments::reset_memory_peak(&gpu);
    let start = Instant::now();
    gpu.run(&Op::Attention(Attention::default()), &[&q, &k, &v], &[&y])?;
    gpu.sync()?;
    let secs = start.elapsed().as_secs_f64();
    let out: Vec<f32> = bytemuck::cast_slice(&gpu.read(&y)?).to_vec();
    let mem = gpu.memory_report();
    let flops = 4.0 * (h * s * s * d) as f64;
    println!("{name}: attention [1, {h}, {s}, {d}] in {secs:.1} s, {:.2} GFLOP/s", flops / secs / 1e9);
    println!(
        "largest buffer allocated: {} bytes ({:.1} MiB); an S x S score matrix per head would be {} bytes ({:.1} GiB)",
        mem.largest_buffer,
        mem.largest_buffer as f64 / (1 << 20) as f64,
        (s * s * 4) as u64,
        (s * s * 4) as f64 / (1u64 << 30) as f64
    );
    println!(
        "peak device memory held: {:.1} MiB; output finite: {}",
        mem.peak_device_bytes as f64 / (1 << 20) as f64,
        out.iter().all(|v| v.is_finite())
    );
    Ok(())
}
