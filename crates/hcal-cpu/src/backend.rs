//! The `Backend` implementation: host storage and dispatch to the op modules.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hcal_core::{
    Backend, Call, DType, DeviceInfo, DeviceType, Error, Op, OpSignature, Result, Support, Tensor, TensorDesc,
    TensorId, attention_geometry, matmul_geometry, norm_split, normalize_axis, reduce_axes, rotary_geometry,
    softmax_split, transpose_perm,
};

use crate::attention::{AttentionInputs, AttentionProblem};
use crate::convert::{from_f64, to_f64, to_i64};
use crate::norm::Param;
use crate::{elementwise, matmul, norm, reduce, rotary, softmax, transpose};

const NAME: &str = "cpu";

/// The CPU reference backend (backend name `cpu`).
///
/// Thread safe: storage sits behind a mutex that is held only while copying
/// bytes in and out, so independent calls from several threads run in parallel.
pub struct CpuBackend {
    info: DeviceInfo,
    next_id: AtomicU64,
    storage: Mutex<HashMap<TensorId, Vec<u8>>>,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuBackend {
    /// A reference backend with empty storage.
    pub fn new() -> Self {
        let mut info = DeviceInfo::new(NAME, "hcal reference (f64)", DeviceType::Cpu, "reference");
        info.vendor = "hcal".into();
        info.driver = format!("hcal-cpu {}", env!("CARGO_PKG_VERSION"));
        info.limits.insert("threads".into(), rayon::current_num_threads() as u64);
        Self { info, next_id: AtomicU64::new(1), storage: Mutex::new(HashMap::new()) }
    }

    fn storage(&self) -> std::sync::MutexGuard<'_, HashMap<TensorId, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map inconsistent
        // (every mutation is a single insert/remove), so a poisoned lock is usable.
        self.storage.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bytes(&self, t: &Tensor) -> Result<Vec<u8>> {
        self.storage().get(&t.id()).cloned().ok_or(Error::InvalidTensor { backend: NAME.into(), id: t.id().0 })
    }

    fn values(&self, t: Option<&Tensor>) -> Result<Option<Vec<f64>>> {
        t.map(|t| Ok(to_f64(t.dtype(), &self.bytes(t)?))).transpose()
    }

    fn store(&self, t: Option<&Tensor>, values: &[f64]) -> Result<()> {
        let Some(t) = t else { return Ok(()) };
        self.store_bytes(t, from_f64(t.dtype(), values))
    }

    fn store_bytes(&self, t: &Tensor, bytes: Vec<u8>) -> Result<()> {
        match self.storage().get_mut(&t.id()) {
            Some(slot) => {
                *slot = bytes;
                Ok(())
            }
            None => Err(Error::InvalidTensor { backend: NAME.into(), id: t.id().0 }),
        }
    }
}

impl Backend for CpuBackend {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn supports(&self, _signature: &OpSignature) -> Support {
        // The reference defines every valid signature.
        Support::Native
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
        self.storage().insert(id, bytes);
        Ok(Tensor::from_parts(id, desc.clone()))
    }

    fn free(&self, tensor: &Tensor) -> Result<()> {
        self.storage()
            .remove(&tensor.id())
            .map(drop)
            .ok_or(Error::InvalidTensor { backend: NAME.into(), id: tensor.id().0 })
    }

    fn write(&self, tensor: &Tensor, bytes: &[u8]) -> Result<()> {
        let expected = tensor.desc().byte_len()?;
        if bytes.len() != expected {
            return Err(Error::ByteLength {
                what: "write",
                desc: tensor.desc().to_string(),
                expected,
                got: bytes.len(),
            });
        }
        self.store_bytes(tensor, bytes.to_vec())
    }

    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        self.bytes(tensor)
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        let input = |i: usize| self.values(call.input(i));
        // Required inputs are present: `Call` validated the arity.
        let required = |i: usize| -> Result<(Vec<f64>, &Tensor)> {
            let t = call.input(i).expect("validated by hcal-core");
            Ok((to_f64(t.dtype(), &self.bytes(t)?), t))
        };
        let out = |i: usize| call.output(i);
        match call.op() {
            Op::MatMul => {
                let ((a, ta), (b, tb)) = (required(0)?, required(1)?);
                let g = matmul_geometry(ta.shape(), tb.shape())?;
                self.store(out(0), &matmul::matmul(&g, &a, &b))
            }
            Op::Gemm(attrs) => {
                let ((a, ta), (b, tb)) = (required(0)?, required(1)?);
                let c = input(2)?;
                let c_arg = c.as_deref().zip(call.input(2).map(Tensor::shape));
                self.store(out(0), &matmul::gemm(attrs, &a, ta.shape(), &b, tb.shape(), c_arg))
            }
            Op::Softmax { axis } => {
                let (x, tx) = required(0)?;
                let ax = normalize_axis("Softmax", *axis, tx.desc().rank())?;
                self.store(out(0), &softmax::softmax(softmax_split(tx.shape(), ax), &x))
            }
            Op::LayerNormalization { axis, epsilon } => {
                let ((x, tx), (scale, ts)) = (required(0)?, required(1)?);
                let ax = normalize_axis("LayerNormalization", *axis, tx.desc().rank())?;
                let bias = input(2)?;
                let bias_param = bias
                    .as_deref()
                    .map(|v| Param { values: v, shape: call.input(2).map(Tensor::shape).unwrap_or(&[]) });
                let y = norm::layer_norm(
                    norm_split(tx.shape(), ax),
                    &tx.shape()[ax..],
                    &x,
                    *epsilon as f64,
                    Param { values: &scale, shape: ts.shape() },
                    bias_param,
                );
                self.store(out(0), &y)
            }
            Op::RmsNormalization { axis, epsilon } => {
                let ((x, tx), (scale, ts)) = (required(0)?, required(1)?);
                let ax = normalize_axis("RMSNormalization", *axis, tx.desc().rank())?;
                let y = norm::rms_norm(
                    norm_split(tx.shape(), ax),
                    &tx.shape()[ax..],
                    &x,
                    *epsilon as f64,
                    Param { values: &scale, shape: ts.shape() },
                );
                self.store(out(0), &y)
            }
            Op::Attention(attrs) => {
                let ((q, tq), (k, tk), (v, tv)) = (required(0)?, required(1)?, required(2)?);
                let (mask, past_key, past_value) = (input(3)?, input(4)?, input(5)?);
                let desc = |i: usize| call.input(i).map(Tensor::desc);
                let past = desc(4).zip(desc(5));
                let g = attention_geometry(attrs, tq.desc(), tk.desc(), tv.desc(), desc(3), past)?;
                let inputs = AttentionInputs {
                    q: &q,
                    k: &k,
                    v: &v,
                    mask: mask.as_deref().zip(call.input(3).map(Tensor::dtype)),
                    past_key: past_key.as_deref(),
                    past_value: past_value.as_deref(),
                };
                let problem = AttentionProblem::new(attrs, &g, &inputs);
                self.store(out(0), &problem.output())?;
                self.store(out(1), &problem.present_key)?;
                self.store(out(2), &problem.present_value)
            }
            Op::RotaryEmbedding(attrs) => {
                let ((x, tx), (cos, tc), (sin, ts)) = (required(0)?, required(1)?, required(2)?);
                let ids = call.input(3).map(|t| self.bytes(t).map(|b| to_i64(&b))).transpose()?;
                let g = rotary_geometry(attrs, tx.desc(), tc.desc(), ts.desc(), call.input(3).map(Tensor::desc))?;
                self.store(out(0), &rotary::rotary_embedding(&g, attrs.interleaved, &x, &cos, &sin, ids.as_deref()))
            }
            Op::Gelu { approximate } => {
                let (x, _) = required(0)?;
                self.store(out(0), &elementwise::map(&x, |v| elementwise::gelu(*approximate, v)))
            }
            Op::Unary(u) => {
                let (x, _) = required(0)?;
                self.store(out(0), &elementwise::map(&x, |v| elementwise::unary(*u, v)))
            }
            Op::Binary(bop) => {
                let ((a, ta), (b, tb)) = (required(0)?, required(1)?);
                let out_t = out(0).expect("validated by hcal-core");
                self.store(out(0), &elementwise::broadcast_binary(*bop, &a, ta.shape(), &b, tb.shape(), out_t.shape()))
            }
            Op::Reduce { op, axes, .. } => {
                let (x, tx) = required(0)?;
                let axes = reduce_axes(op.name(), axes.as_deref(), tx.desc().rank())?;
                self.store(out(0), &reduce::reduce(*op, &x, tx.shape(), &axes))
            }
            Op::Transpose { perm } => {
                // Moves raw elements, so every dtype (i64 included) is exact.
                let tx = call.input(0).expect("validated by hcal-core");
                let perm = transpose_perm(perm.as_deref(), tx.desc().rank())?;
                let bytes = self.bytes(tx)?;
                let elems: Vec<&[u8]> = bytes.chunks_exact(tx.dtype().size_bytes()).collect();
                let moved = transpose::transpose(&elems, tx.shape(), &perm).concat();
                self.store_bytes(out(0).expect("validated by hcal-core"), moved)
            }
            Op::Cast { to } => {
                let tx = call.input(0).expect("validated by hcal-core");
                let bytes = self.bytes(tx)?;
                let y = out(0).expect("validated by hcal-core");
                if tx.dtype() == *to {
                    return self.store_bytes(y, bytes);
                }
                if tx.dtype() == DType::I64 && *to == DType::Bool {
                    return self.store_bytes(y, to_i64(&bytes).into_iter().map(|v| u8::from(v != 0)).collect());
                }
                self.store(Some(y), &to_f64(tx.dtype(), &bytes))
            }
        }
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }
}
