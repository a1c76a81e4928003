//! The GGUF crate's f32 dequantization must mean what the standard says
//! (`hcal_core::quant`, exact in f64). Every value of the GGML formulas is a
//! product of an f16 scale and a small integer (exact in f32), plus for Q4_1 an
//! f16 min: one f32 rounding of an exact value. So the f32 result must equal the
//! exact f64 value rounded to f32 on every block (as a number: the standard
//! defines values in real arithmetic, where -0 and +0 are the same value; GGML's
//! `(q - 8) * d` with a negative `d` and `q = 8` gives -0).

use hcal_core::DType;
use hcal_gguf::GgmlType;
use hcal_gguf::quant::dequantize;

/// Deterministic bytes (xorshift64*), so a failure reproduces.
fn pseudo_random_bytes(n: usize, mut state: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Overwrite each block's f16 fields (at `fields` byte offsets) with finite
/// values, negative ones included, so no block is NaN or infinite.
fn finite_scales(bytes: &mut [u8], block_bytes: usize, fields: &[usize]) {
    for (b, block) in bytes.chunks_exact_mut(block_bytes).enumerate() {
        for (f, &at) in fields.iter().enumerate() {
            let v = ((b * 7 + f * 3) % 23) as f32 * 0.013 - 0.15;
            block[at..at + 2].copy_from_slice(&half::f16::from_f32(v).to_le_bytes());
        }
    }
}

fn check(ggml: GgmlType, dtype: DType, block_bytes: usize, fields: &[usize]) {
    let blocks = 257;
    let mut bytes = pseudo_random_bytes(blocks * block_bytes, 0x9E37_79B9_7F4A_7C15 ^ block_bytes as u64);
    finite_scales(&mut bytes, block_bytes, fields);
    let ours = dequantize(ggml, &bytes).unwrap();
    let exact = hcal_core::quant::dequantize(dtype, &bytes).unwrap();
    assert_eq!(ours.len(), blocks * 32);
    assert_eq!(exact.len(), ours.len());
    for (i, (&a, &e)) in ours.iter().zip(&exact).enumerate() {
        assert!(a == e as f32, "{ggml} value {i}: gguf {a} vs standard {e}");
    }
}

#[test]
fn q4_0_equals_the_standard() {
    check(GgmlType::Q4_0, DType::Q4_0, 18, &[0]);
}

#[test]
fn q4_1_equals_the_standard() {
    check(GgmlType::Q4_1, DType::Q4_1, 20, &[0, 2]);
}

#[test]
fn q8_0_equals_the_standard() {
    check(GgmlType::Q8_0, DType::Q8_0, 34, &[0]);
}
