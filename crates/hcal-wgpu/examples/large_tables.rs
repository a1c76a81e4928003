//! Tables larger than one storage binding, read in windows.
//!
//! `cargo run --release -p hcal-wgpu --example large_tables -- [BACKEND] [ROWS] [COLS]`
//! (defaults `wgpu`, 128256, 4096: Llama-3-8B's vocabulary and width) builds
//! a Q8_0 table of ROWS x COLS (558 MB at the defaults, past lavapipe's
//! 128 MiB binding) and runs on it:
//!
//! - a Gather of 8 rows (an embedding lookup, with a negative index and one
//!   outside the table), its bytes checked against the table's rows (and the
//!   NaN-scale fill);
//! - a Gemm of one token against it as a transposed weight (an output
//!   layer), checked against the f64 dot products of the dequantized rows.
//!
//! It prints each call's time and the largest error.

use std::time::Instant;

use hcal_core::{Backend, BackendExt, DType, Gemm, Op, TensorDesc};

fn main() -> hcal_core::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("wgpu", String::as_str);
    let arg = |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (rows, cols) = (arg(2, 128_256), arg(3, 4096));
    let gpu = hcal_wgpu::WgpuBackend::open(name)?;
    // Q8_0 blocks: an f16 scale of 1/64 and 32 signed bytes, varied by position.
    let block_bytes = 34;
    let row_bytes = cols / 32 * block_bytes;
    let mut table = vec![0u8; rows * row_bytes];
    for (b, block) in table.chunks_exact_mut(block_bytes).enumerate() {
        block[..2].copy_from_slice(&half::f16::from_f32(1.0 / 64.0).to_le_bytes());
        for (k, q) in block[2..].iter_mut().enumerate() {
            *q = ((b * 31 + k * 17) % 255) as u8;
        }
    }
    let table_desc = TensorDesc::new([rows, cols], DType::Q8_0);
    let t = gpu.alloc(&table_desc)?;
    gpu.write(&t, &table)?;
    println!("{name}: Q8_0 table [{rows}, {cols}]: {} bytes", table.len());

    // Gather: rows by index, -1 is the last row, rows (past the end) the fill.
    let ids: Vec<i64> = vec![0, 1, 7, rows as i64 / 2, rows as i64 - 2, -1, 12_345 % rows as i64, rows as i64];
    let ids_desc = TensorDesc::new([ids.len()], DType::I64);
    let idx = gpu.alloc(&ids_desc)?;
    gpu.write(&idx, &ids.iter().flat_map(|i| i.to_le_bytes()).collect::<Vec<u8>>())?;
    let out = gpu.alloc(&TensorDesc::new([ids.len(), cols], DType::Q8_0))?;
    let start = Instant::now();
    gpu.run(&Op::Gather { axis: 0 }, &[&t, &idx], &[&out])?;
    let got = gpu.read(&out)?;
    let secs = start.elapsed().as_secs_f64();
    let mut wrong = 0;
    for (k, &i) in ids.iter().enumerate() {
        let got_row = &got[k * row_bytes..(k + 1) * row_bytes];
        let want: Vec<u8> = match i {
            i if i >= rows as i64 => {
                // The fill: every block a NaN scale (0x7E00) and zero values.
                (0..row_bytes).map(|c| [0x00, 0x7E].get(c % block_bytes).copied().unwrap_or(0)).collect()
            }
            i => {
                let r = if i < 0 { (rows as i64 + i) as usize } else { i as usize };
                table[r * row_bytes..(r + 1) * row_bytes].to_vec()
            }
        };
        wrong += usize::from(got_row != want.as_slice());
    }
    println!("Gather of {} rows: {:.1} ms, {wrong} rows differ from the table", ids.len(), secs * 1e3);

    // Gemm: one token x the table as B^T, against f64 dot products.
    let a: Vec<f32> = (0..cols).map(|c| ((c * 7919) % 2000) as f32 / 2000.0 - 0.5).collect();
    let a_t = gpu.alloc(&TensorDesc::new([1, cols], DType::F32))?;
    gpu.write(&a_t, bytemuck::cast_slice(&a))?;
    let y = gpu.alloc(&TensorDesc::new([1, rows], DType::F32))?;
    let gemm = Op::Gemm(Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: true });
    gpu.run(&gemm, &[&a_t, &t], &[&y])?;
    gpu.sync()?;
    let start = Instant::now();
    gpu.run(&gemm, &[&a_t, &t], &[&y])?;
    let got: Vec<f32> = bytemuck::cast_slice(&gpu.read(&y)?).to_vec();
    let secs = start.elapsed().as_secs_f64();
    let mut worst = 0f64;
    for (r, &g) in got.iter().enumerate() {
        let w = hcal_core::quant::dequantize(DType::Q8_0, &table[r * row_bytes..(r + 1) * row_bytes])?;
        let (dot, scale) =
            w.iter().zip(&a).fold((0.0, 0.0), |(d, s), (&w, &a)| (d + w * f64::from(a), s + (w * f64::from(a)).abs()));
        worst = worst.max((f64::from(g) - dot).abs() / scale.max(f64::MIN_POSITIVE));
    }
    println!(
        "Gemm [1, {cols}] x [{rows}, {cols}]^T: {:.1} ms, {:.2} GB/s of weights; largest error {worst:.1e} of the sum of |terms|",
        secs * 1e3,
        table.len() as f64 / secs / 1e9
    );
    Ok(())
}
