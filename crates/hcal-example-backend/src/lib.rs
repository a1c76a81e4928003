//! # hcal-example-backend: a backend written from outside hcal
//!
//! What a vendor's Rust crate looks like: it depends on `hcal-core` only,
//! owns its memory (host `Vec<f32>`s standing in for device buffers), runs a
//! few ops the way a simple device kernel would (f32 arithmetic, sequential
//! accumulation), declines everything else with a reason, and is certified by
//! the same conformance suite as hcal's own backends (`tests/conformance.rs`).
//! An application makes it available by name with `hcal::register`:
//!
//! ```
//! hcal::register("example", |_| Ok(Box::new(hcal_example_backend::ExampleBackend::new())))?;
//! let dev = hcal::Device::open("example")?;
//! let x = dev.tensor_f32(&[3], &[-1.0, 0.5, 2.0])?;
//! assert_eq!(hcal::ops::unary(&x, hcal::UnaryOp::Relu)?.to_f32()?, [0.0, 0.5, 2.0]);
//! # Ok::<(), hcal::Error>(())
//! ```
//!
//! Runs: MatMul (numpy batch broadcasting), Softmax, Relu, Sigmoid, Tanh,
//! Exp, Neg, and Add/Sub/Mul/Div/Max/Min with broadcasting, on f32. The shapes
//! come from the geometry hcal-core resolved when it validated the call
//! ([`Call::geometry`]): this crate never re-derives a shape rule.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hcal_core::{
    Backend, BinaryOp, Call, DType, DeviceInfo, DeviceType, Error, Geometry, Op, OpSignature, Result, Support, Tensor,
    TensorDesc, TensorId, UnaryOp,
};

const NAME: &str = "example";

/// An f32 host "device" (backend name `example`).
pub struct ExampleBackend {
    info: DeviceInfo,
    next_id: AtomicU64,
    memory: Mutex<HashMap<TensorId, Vec<u8>>>,
}

impl Default for ExampleBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl ExampleBackend {
    /// A device with no tensors.
    pub fn new() -> Self {
        let mut info = DeviceInfo::new(NAME, "example f32 host device", DeviceType::Cpu, "example");
        info.vendor = "hcal examples".into();
        info.driver = format!("hcal-example-backend {}", env!("CARGO_PKG_VERSION"));
        info.notes.push("f32 only; MatMul, Softmax, five unary and six binary ops".into());
        Self { info, next_id: AtomicU64::new(1), memory: Mutex::new(HashMap::new()) }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<TensorId, Vec<u8>>> {
        // Every mutation is one insert or remove: a poisoned lock is consistent.
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn values(&self, t: Option<&Tensor>) -> Result<Vec<f32>> {
        let t = t.ok_or_else(|| Error::Backend { backend: NAME.into(), detail: "missing operand".into() })?;
        let memory = self.memory();
        let bytes = memory.get(&t.id()).ok_or(Error::InvalidTensor { backend: NAME.into(), id: t.id().0 })?;
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }

    fn store(&self, t: Option<&Tensor>, values: &[f32]) -> Result<()> {
        let t = t.ok_or_else(|| Error::Backend { backend: NAME.into(), detail: "missing output".into() })?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        match self.memory().get_mut(&t.id()) {
            Some(slot) => {
                *slot = bytes;
                Ok(())
            }
            None => Err(Error::InvalidTensor { backend: NAME.into(), id: t.id().0 }),
        }
    }
}

/// Why the example declines `signature`, if it does.
fn decline(signature: &OpSignature) -> Option<String> {
    if let Some(d) = signature.inputs().iter().flatten().find(|d| d.dtype != DType::F32) {
        return Some(format!("the example backend computes in f32 only, not {}", d.dtype));
    }
    match signature.op() {
        Op::MatMul | Op::Softmax { .. } => None,
        Op::Binary(BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Max | BinaryOp::Min) => {
            None
        }
        Op::Unary(UnaryOp::Relu | UnaryOp::Sigmoid | UnaryOp::Tanh | UnaryOp::Exp | UnaryOp::Neg) => None,
        op => Some(format!("{op} is not implemented in the example backend")),
    }
}

impl Backend for ExampleBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn supports(&self, signature: &OpSignature) -> Support {
        decline(signature).map_or(Support::Native, Support::Unsupported)
    }

    fn alloc(&self, desc: &TensorDesc) -> Result<Tensor> {
        let len = desc.byte_len()?;
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).map_err(|e| Error::OutOfMemory {
            backend: NAME.into(),
            bytes: len,
            detail: e.to_string(),
        })?;
        bytes.resize(len, 0);
        let id = TensorId(self.next_id.fetch_add(1, Ordering::Relaxed));
        self.memory().insert(id, bytes);
        Ok(Tensor::from_parts(id, desc.clone()))
    }

    fn free(&self, tensor: &Tensor) -> Result<()> {
        self.memory()
            .remove(&tensor.id())
            .map(drop)
            .ok_or(Error::InvalidTensor { backend: NAME.into(), id: tensor.id().0 })
    }

    fn write(&self, tensor: &Tensor, bytes: &[u8]) -> Result<()> {
        let expected = tensor.desc().byte_len()?;
        if bytes.len() != expected {
            let desc = tensor.desc().to_string();
            return Err(Error::ByteLength { what: "write", desc, expected, got: bytes.len() });
        }
        match self.memory().get_mut(&tensor.id()) {
            Some(slot) => {
                slot.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(Error::InvalidTensor { backend: NAME.into(), id: tensor.id().0 }),
        }
    }

    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        self.memory().get(&tensor.id()).cloned().ok_or(Error::InvalidTensor { backend: NAME.into(), id: tensor.id().0 })
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        if let Some(reason) = decline(call.signature()) {
            return Err(Error::Unsupported { op: call.op().to_string(), backend: NAME.into(), reason });
        }
        let x = self.values(call.input(0))?;
        let y = match (call.op(), call.geometry()) {
            (Op::MatMul, Geometry::MatMul(g)) => {
                let b = self.values(call.input(1))?;
                let mut y = vec![0.0f32; g.batch_count() * g.m * g.n];
                for item in 0..g.batch_count() {
                    let (a_off, b_off) = g.operand_offsets(item);
                    for i in 0..g.m {
                        for j in 0..g.n {
                            // Sequential f32 fused multiply-adds in K order, as a device kernel.
                            let dot = (0..g.k)
                                .fold(0.0f32, |acc, p| x[a_off + i * g.k + p].mul_add(b[b_off + p * g.n + j], acc));
                            y[(item * g.m + i) * g.n + j] = dot;
                        }
                    }
                }
                y
            }
            (Op::Softmax { .. }, Geometry::Softmax(s)) => {
                let mut y = x.clone();
                for outer in 0..s.outer {
                    for inner in 0..s.inner {
                        let at = |j: usize| (outer * s.len + j) * s.inner + inner;
                        let max = (0..s.len).map(|j| x[at(j)]).fold(f32::NEG_INFINITY, f32::max);
                        let sum: f32 = (0..s.len).map(|j| (x[at(j)] - max).exp()).sum();
                        for j in 0..s.len {
                            y[at(j)] = (x[at(j)] - max).exp() / sum;
                        }
                    }
                }
                y
            }
            (Op::Unary(u), Geometry::Elementwise) => x.iter().map(|&v| unary(*u, v)).collect(),
            (Op::Binary(op), Geometry::Broadcast { out_shape, a_strides, b_strides }) => {
                let b = self.values(call.input(1))?;
                let n: usize = out_shape.iter().product();
                (0..n)
                    .map(|flat| {
                        let (mut rest, mut ia, mut ib) = (flat, 0, 0);
                        for d in (0..out_shape.len()).rev() {
                            let idx = rest % out_shape[d];
                            rest /= out_shape[d];
                            ia += idx * a_strides[d];
                            ib += idx * b_strides[d];
                        }
                        binary(*op, x[ia], b[ib])
                    })
                    .collect()
            }
            (op, geometry) => {
                unreachable!("decline() admits only the ops above; hcal-core pairs {op} with {geometry:?}")
            }
        };
        self.store(call.output(0), &y)
    }

    fn sync(&self) -> Result<()> {
        // Every call completes before `execute` returns.
        Ok(())
    }
}

fn unary(op: UnaryOp, x: f32) -> f32 {
    match op {
        // NaN stays NaN (f32::max would drop it).
        UnaryOp::Relu => {
            if x.is_nan() {
                x
            } else {
                x.max(0.0)
            }
        }
        UnaryOp::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        UnaryOp::Tanh => x.tanh(),
        UnaryOp::Exp => x.exp(),
        UnaryOp::Neg => -x,
        other => unreachable!("declined: {other:?}"),
    }
}

fn binary(op: BinaryOp, a: f32, b: f32) -> f32 {
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        // NaN propagates, as numpy's maximum and minimum.
        BinaryOp::Max | BinaryOp::Min if a.is_nan() || b.is_nan() => f32::NAN,
        BinaryOp::Max => a.max(b),
        BinaryOp::Min => a.min(b),
        other => unreachable!("declined: {other:?}"),
    }
}
