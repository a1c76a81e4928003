//! Shared helpers for the reference backend's hand-derived op tests.
//!
//! Inputs are uploaded as little-endian bytes built by hand (no dependency on
//! the backend's own conversions), every output is pre-filled with `0xFF`
//! bytes (NaN for the float dtypes) so a kernel that leaves an element
//! unwritten or reads its output shows up, and results are read back raw.

#![allow(dead_code)]

use hcal_core::{Backend, BackendExt, DType, Error, Op, Tensor, TensorDesc};
pub use hcal_cpu::CpuBackend;

/// One positional input of an op call.
pub enum In<'a> {
    /// f32 data.
    F32(&'a [usize], &'a [f32]),
    /// bool data, stored as one byte 0/1.
    Bool(&'a [usize], &'a [bool]),
    /// i64 data.
    I64(&'a [usize], &'a [i64]),
    /// Raw 16-bit patterns of an f16 or bf16 tensor.
    Bits16(&'a [usize], DType, &'a [u16]),
    /// An absent optional input.
    Absent,
}

/// A fresh reference backend.
pub fn backend() -> CpuBackend {
    CpuBackend::new()
}

/// Little-endian bytes of f32 values.
pub fn f32_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// f32 values from little-endian bytes.
pub fn f32_from_bytes(bytes: &[u8]) -> Vec<f32> {
    assert_eq!(bytes.len() % 4, 0, "f32 byte length {}", bytes.len());
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// 16-bit patterns from little-endian bytes (f16 / bf16 tensors).
pub fn u16_from_bytes(bytes: &[u8]) -> Vec<u16> {
    assert_eq!(bytes.len() % 2, 0, "16-bit byte length {}", bytes.len());
    bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

/// i64 values from little-endian bytes.
pub fn i64_from_bytes(bytes: &[u8]) -> Vec<i64> {
    assert_eq!(bytes.len() % 8, 0, "i64 byte length {}", bytes.len());
    bytes.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect()
}

/// Allocate and fill one input; `None` for [`In::Absent`].
pub fn upload(be: &CpuBackend, input: &In<'_>) -> Option<Tensor> {
    let (shape, dtype, bytes): (&[usize], DType, Vec<u8>) = match input {
        In::F32(s, d) => (s, DType::F32, f32_bytes(d)),
        In::Bool(s, d) => (s, DType::Bool, d.iter().map(|&b| u8::from(b)).collect()),
        In::I64(s, d) => (s, DType::I64, d.iter().flat_map(|v| v.to_le_bytes()).collect()),
        In::Bits16(s, dt, d) => (s, *dt, d.iter().flat_map(|v| v.to_le_bytes()).collect()),
        In::Absent => return None,
    };
    let desc = TensorDesc::new(shape.to_vec(), dtype);
    assert_eq!(desc.numel() * dtype.size_bytes(), bytes.len(), "test data length does not match {desc}");
    let t = be.alloc(&desc).expect("alloc input");
    be.write(&t, &bytes).expect("write input");
    Some(t)
}

/// Allocate an output and poison it with `0xFF` bytes (NaN for floats).
pub fn alloc_poisoned(be: &CpuBackend, shape: &[usize], dtype: DType) -> Tensor {
    let desc = TensorDesc::new(shape.to_vec(), dtype);
    let t = be.alloc(&desc).expect("alloc output");
    be.write(&t, &vec![0xFF; desc.byte_len().unwrap()]).expect("poison output");
    t
}

/// Run `op` with `outputs` given as `(shape, dtype)` (or `None` to leave an
/// optional output out); returns each requested output's bytes.
pub fn try_run_raw(
    op: &Op,
    inputs: &[In<'_>],
    outputs: &[Option<(&[usize], DType)>],
) -> Result<Vec<Option<Vec<u8>>>, Error> {
    let be = backend();
    let ins: Vec<Option<Tensor>> = inputs.iter().map(|i| upload(&be, i)).collect();
    let outs: Vec<Option<Tensor>> = outputs.iter().map(|o| o.map(|(s, d)| alloc_poisoned(&be, s, d))).collect();
    let in_refs: Vec<Option<&Tensor>> = ins.iter().map(Option::as_ref).collect();
    let out_refs: Vec<Option<&Tensor>> = outs.iter().map(Option::as_ref).collect();
    be.run_optional(op, &in_refs, &out_refs)?;
    be.sync()?;
    outs.iter().map(|o| o.as_ref().map(|t| be.read(t)).transpose()).collect()
}

/// As [`try_run_raw`], panicking on error with the op in the message.
pub fn run_raw(op: &Op, inputs: &[In<'_>], outputs: &[Option<(&[usize], DType)>]) -> Vec<Option<Vec<u8>>> {
    try_run_raw(op, inputs, outputs).unwrap_or_else(|e| panic!("{op} failed: {e}"))
}

/// Run `op` with a single f32 output of `out_shape` and return its values.
pub fn run_f32(op: &Op, inputs: &[In<'_>], out_shape: &[usize]) -> Vec<f32> {
    let out = run_raw(op, inputs, &[Some((out_shape, DType::F32))]);
    f32_from_bytes(out[0].as_ref().unwrap())
}

/// Run a one-input f32 op whose output has the input's shape.
pub fn run_unary_f32(op: &Op, shape: &[usize], x: &[f32]) -> Vec<f32> {
    run_f32(op, &[In::F32(shape, x)], shape)
}

/// Assert `got` matches `want` within `tol * max(1, |want|)`; NaN expects NaN,
/// infinities must match exactly.
#[track_caller]
pub fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: got {} values, want {}: got {got:?}", got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g = f64::from(g);
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= tol * w.abs().max(1.0)
        };
        assert!(ok, "{what}: element {i} is {g}, want {w}\n got:  {got:?}\n want: {want:?}");
    }
}

/// Default tolerance: results are f64 rounded to f32, inputs like ln(3) are
/// f32-rounded, so a few f32 ulps.
pub const TOL: f64 = 1e-6;
