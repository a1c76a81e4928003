//! The `Backend` implementation: host storage and dispatch to the op modules.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hcal_core::{
    Backend, Call, DType, DeviceInfo, DeviceType, Error, Geometry, Op, OpSignature, Result, Support, Tensor,
    TensorDesc, TensorId,
};

use crate::attention::{AttentionInputs, AttentionProblem};
use crate::convert::{to_i64, try_from_f64, try_to_f64};
use crate::norm::Param;
use crate::{arg, binary, cumsum, indexing, matmul, movement, norm, reduce, rotary, select, softmax, transpose, unary};

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

    /// A copy of `t`'s storage, allocated fallibly (the copy is what a
    /// readback returns and what an op decodes, as large as the tensor).
    fn bytes(&self, t: &Tensor) -> Result<Vec<u8>> {
        let storage = self.storage();
        let bytes = storage.get(&t.id()).ok_or(Error::InvalidTensor { backend: NAME.into(), id: t.id().0 })?;
        hcal_core::host_copy(bytes, &format!("host copy of {}", t.desc()))
    }

    fn values(&self, t: Option<&Tensor>) -> Result<Option<Vec<f64>>> {
        t.map(|t| self.decode(t)).transpose()
    }

    /// `t`'s values widened to f64 (8 bytes per element whatever the dtype).
    fn decode(&self, t: &Tensor) -> Result<Vec<f64>> {
        try_to_f64(t.dtype(), &self.bytes(t)?, &format!("f64 values of {}", t.desc()))
    }

    fn store(&self, t: Option<&Tensor>, values: &[f64]) -> Result<()> {
        let Some(t) = t else { return Ok(()) };
        self.store_bytes(t, try_from_f64(t.dtype(), values, &format!("result {}", t.desc()))?)
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
        self.store_bytes(tensor, hcal_core::host_copy(bytes, &format!("write to {}", tensor.desc()))?)
    }

    fn read(&self, tensor: &Tensor) -> Result<Vec<u8>> {
        self.bytes(tensor)
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        check_result_memory(call)?;
        let input = |i: usize| self.values(call.input(i));
        // Required inputs are present: `Call` validated the arity.
        let required = |i: usize| -> Result<(Vec<f64>, &Tensor)> {
            let t = call.input(i).expect("validated by hcal-core");
            Ok((self.decode(t)?, t))
        };
        let out = |i: usize| call.output(i);
        // hcal-core resolved the geometry while validating; it always matches the op.
        match (call.op(), call.geometry()) {
            (Op::MatMul, Geometry::MatMul(g)) => {
                let ((a, _), (b, _)) = (required(0)?, required(1)?);
                self.store(out(0), &matmul::matmul(g, &a, &b))
            }
            (Op::Gemm(attrs), Geometry::Gemm(g)) => {
                let ((a, _), (b, _)) = (required(0)?, required(1)?);
                let c = input(2)?;
                let (alpha, beta) = (f64::from(attrs.alpha), f64::from(attrs.beta));
                self.store(out(0), &matmul::gemm(g, alpha, beta, &a, &b, c.as_deref()))
            }
            (Op::Softmax { .. }, Geometry::Softmax(split)) => {
                let (x, _) = required(0)?;
                self.store(out(0), &softmax::softmax(*split, &x))
            }
            (Op::LayerNormalization { epsilon, .. }, Geometry::Normalization { axis, split }) => {
                let ((x, tx), (scale, ts)) = (required(0)?, required(1)?);
                let bias = input(2)?;
                let bias_param = bias
                    .as_deref()
                    .map(|v| Param { values: v, shape: call.input(2).map(Tensor::shape).unwrap_or(&[]) });
                let y = norm::layer_norm(
                    *split,
                    &tx.shape()[*axis..],
                    &x,
                    f64::from(*epsilon),
                    Param { values: &scale, shape: ts.shape() },
                    bias_param,
                );
                self.store(out(0), &y)
            }
            (Op::RmsNormalization { epsilon, .. }, Geometry::Normalization { axis, split }) => {
                let ((x, tx), (scale, ts)) = (required(0)?, required(1)?);
                let y = norm::rms_norm(
                    *split,
                    &tx.shape()[*axis..],
                    &x,
                    f64::from(*epsilon),
                    Param { values: &scale, shape: ts.shape() },
                );
                self.store(out(0), &y)
            }
            (Op::RmsNormGemm(attrs), Geometry::NormGemm { split, gemm }) => {
                // Exactly the two ops: the normalized rows rounded to A's
                // dtype (RMSNormalization's output), then the Gemm.
                let ((a, ta), (scale, ts), (b, _)) = (required(0)?, required(1)?, required(2)?);
                let c = input(3)?;
                let scale = Param { values: &scale, shape: ts.shape() };
                let normed = norm::rms_norm(*split, &ta.shape()[1..], &a, f64::from(attrs.epsilon), scale);
                let normed = crate::convert::to_f64(ta.dtype(), &crate::convert::from_f64(ta.dtype(), &normed));
                let (alpha, beta) = (f64::from(attrs.alpha), f64::from(attrs.beta));
                self.store(out(0), &matmul::gemm(gemm, alpha, beta, &normed, &b, c.as_deref()))
            }
            (Op::Attention(attrs), Geometry::Attention(g)) => {
                let ((q, _), (k, _), (v, _)) = (required(0)?, required(1)?, required(2)?);
                let (mask, past_key, past_value) = (input(3)?, input(4)?, input(5)?);
                let nonpad = call.input(6).map(|t| self.bytes(t).map(|b| to_i64(&b))).transpose()?;
                let inputs = AttentionInputs {
                    q: &q,
                    k: &k,
                    v: &v,
                    mask: mask.as_deref().zip(call.input(3).map(Tensor::dtype)),
                    past_key: past_key.as_deref(),
                    past_value: past_value.as_deref(),
                    nonpad_kv_seqlen: nonpad.as_deref(),
                };
                let problem = AttentionProblem::new(attrs, g, &inputs);
                self.store(out(0), &problem.output())?;
                self.store(out(1), &problem.present_key)?;
                self.store(out(2), &problem.present_value)
            }
            (Op::RotaryEmbedding(attrs), Geometry::RotaryEmbedding(g)) => {
                let ((x, _), (cos, _), (sin, _)) = (required(0)?, required(1)?, required(2)?);
                let ids = call.input(3).map(|t| self.bytes(t).map(|b| to_i64(&b))).transpose()?;
                self.store(out(0), &rotary::rotary_embedding(g, attrs.interleaved, &x, &cos, &sin, ids.as_deref()))
            }
            (Op::Gelu { approximate }, Geometry::Elementwise) => {
                let (x, _) = required(0)?;
                self.store(out(0), &unary::map(&x, |v| unary::gelu(*approximate, v)))
            }
            (Op::Unary(u), Geometry::Elementwise) => {
                let (x, _) = required(0)?;
                self.store(out(0), &unary::map(&x, |v| unary::unary(*u, v)))
            }
            (Op::GatedUnary { activation }, Geometry::Gated { rows, half }) => {
                let (x, t) = required(0)?;
                self.store(out(0), &unary::gated(*activation, t.dtype(), &x, *rows, *half))
            }
            (Op::Binary(bop), Geometry::Broadcast { out_shape, a_strides, b_strides }) => {
                let ((a, _), (b, _)) = (required(0)?, required(1)?);
                self.store(out(0), &binary::broadcast_binary(*bop, &a, a_strides, &b, b_strides, out_shape))
            }
            // ---- elementwise with attributes, clipping and selection (ops-elementwise) ----
            (Op::LeakyRelu { alpha }, Geometry::Elementwise) => {
                let (x, _) = required(0)?;
                self.store(out(0), &unary::map(&x, |v| unary::leaky_relu(f64::from(*alpha), v)))
            }
            (Op::HardSigmoid { alpha, beta }, Geometry::Elementwise) => {
                let (x, _) = required(0)?;
                let (alpha, beta) = (f64::from(*alpha), f64::from(*beta));
                self.store(out(0), &unary::map(&x, |v| unary::hard_sigmoid(alpha, beta, v)))
            }
            (Op::Clip, Geometry::Elementwise) => {
                let (x, _) = required(0)?;
                let lo = input(1)?.map_or(f64::NEG_INFINITY, |v| v[0]);
                let hi = input(2)?.map_or(f64::INFINITY, |v| v[0]);
                self.store(out(0), &unary::map(&x, |v| select::clip(v, lo, hi)))
            }
            (Op::Where, Geometry::Where { out_shape, strides }) => {
                // Moves raw elements, so every dtype (i64 included) is exact.
                let input_bytes = |i: usize| self.bytes(call.input(i).expect("validated by hcal-core"));
                let cond: Vec<bool> = input_bytes(0)?.iter().map(|&b| b != 0).collect();
                let (x, y) = (input_bytes(1)?, input_bytes(2)?);
                let size = call.input(1).expect("validated by hcal-core").dtype().size_bytes();
                let (xs, ys): (Vec<&[u8]>, Vec<&[u8]>) =
                    (x.chunks_exact(size).collect(), y.chunks_exact(size).collect());
                let chosen = select::select(&cond, &xs, &ys, strides, out_shape).concat();
                self.store_bytes(out(0).expect("validated by hcal-core"), chosen)
            }
            (Op::Reduce { op, .. }, Geometry::Reduce { axes }) => {
                let (x, tx) = required(0)?;
                self.store(out(0), &reduce::reduce(*op, &x, tx.shape(), axes))
            }
            (Op::Transpose { .. }, Geometry::Transpose { perm }) => {
                // Moves raw elements, so every dtype (i64 included) is exact.
                let tx = call.input(0).expect("validated by hcal-core");
                let bytes = self.bytes(tx)?;
                let elems: Vec<&[u8]> = bytes.chunks_exact(tx.dtype().size_bytes()).collect();
                let moved = transpose::transpose(&elems, tx.shape(), perm).concat();
                self.store_bytes(out(0).expect("validated by hcal-core"), moved)
            }
            (Op::Cast { to }, Geometry::Elementwise) => {
                let tx = call.input(0).expect("validated by hcal-core");
                let bytes = self.bytes(tx)?;
                let y = out(0).expect("validated by hcal-core");
                if tx.dtype() == *to {
                    return self.store_bytes(y, bytes);
                }
                if tx.dtype() == DType::I64 && *to == DType::Bool {
                    return self.store_bytes(y, to_i64(&bytes).into_iter().map(|v| u8::from(v != 0)).collect());
                }
                self.store(Some(y), &try_to_f64(tx.dtype(), &bytes, &format!("f64 values of {}", tx.desc()))?)
            }
            // along one axis
            (
                Op::ArgMax { select_last_index, .. } | Op::ArgMin { select_last_index, .. },
                Geometry::AlongAxis { split, .. },
            ) => {
                let (x, _) = required(0)?;
                let largest = matches!(call.op(), Op::ArgMax { .. });
                let indices = arg::arg_extreme(*split, &x, largest, *select_last_index);
                let bytes = indices.iter().flat_map(|i| i.to_le_bytes()).collect();
                self.store_bytes(out(0).expect("validated by hcal-core"), bytes)
            }
            (Op::LogSoftmax { .. }, Geometry::Softmax(split)) => {
                let (x, _) = required(0)?;
                self.store(out(0), &softmax::log_softmax(*split, &x))
            }
            (Op::CumSum { exclusive, reverse, .. }, Geometry::AlongAxis { split, .. }) => {
                let (x, _) = required(0)?;
                self.store(out(0), &cumsum::cumsum(*split, &x, *exclusive, *reverse))
            }
            // ---- data movement (issue 18): raw elements, exact in every dtype ----
            (Op::Concat { .. }, Geometry::Concat { outer, inner, lens, .. }) => {
                let xs = call.inputs().iter().flatten().map(|t| self.bytes(t)).collect::<Result<Vec<_>>>()?;
                let elem = call.input(0).expect("validated by hcal-core").dtype().size_bytes();
                let y = movement::concat(&xs, elem, *outer, *inner, lens);
                self.store_bytes(out(0).expect("validated by hcal-core"), y)
            }
            (Op::Slice { .. } | Op::Split { .. } | Op::Expand { .. }, Geometry::Views(views)) => {
                let tx = call.input(0).expect("validated by hcal-core");
                let x = self.bytes(tx)?;
                for (i, view) in views.iter().enumerate() {
                    if let Some(y) = out(i) {
                        self.store_bytes(y, movement::gather_view(&x, tx.dtype().size_bytes(), y.shape(), view))?;
                    }
                }
                Ok(())
            }
            (Op::Reshape { .. }, Geometry::Copy) => {
                let bytes = self.bytes(call.input(0).expect("validated by hcal-core"))?;
                self.store_bytes(out(0).expect("validated by hcal-core"), bytes)
            }
            (Op::Range { start, delta, dtype, .. }, Geometry::Range { len }) => {
                let y = out(0).expect("validated by hcal-core");
                if *dtype == DType::I64 {
                    // hcal-core checked both are integers within 2^53, exact in f64.
                    let values = movement::range_i64(*start as i64, *delta as i64, *len);
                    return self.store_bytes(y, values.iter().flat_map(|v| v.to_le_bytes()).collect());
                }
                self.store(Some(y), &movement::range(*start, *delta, *len))
            }
            (Op::Trilu { upper, k }, Geometry::Matrices { rows, cols, .. }) => {
                let tx = call.input(0).expect("validated by hcal-core");
                let y = movement::trilu(&self.bytes(tx)?, tx.dtype().size_bytes(), (*rows, *cols), *upper, *k);
                self.store_bytes(out(0).expect("validated by hcal-core"), y)
            }
            // Indexing and KV caches: raw storage units moved, every dtype exact.
            (Op::Gather { .. }, Geometry::Gather(g)) => {
                let data = call.input(0).expect("validated by hcal-core");
                let indices = to_i64(&self.bytes(call.input(1).expect("validated by hcal-core"))?);
                let fill = hcal_core::out_of_range_fill(data.dtype());
                let rows = indexing::gather(g, g.inner_bytes(data.dtype()), &self.bytes(data)?, &indices, &fill);
                self.store_bytes(out(0).expect("validated by hcal-core"), rows)
            }
            (Op::GatherElements { .. }, Geometry::GatherElements(g)) => {
                let (data, ti) =
                    (call.input(0).expect("validated by hcal-core"), call.input(1).expect("validated by hcal-core"));
                let indices = to_i64(&self.bytes(ti)?);
                let fill = hcal_core::out_of_range_fill(data.dtype());
                let elem = data.dtype().size_bytes();
                let y = indexing::gather_elements(g, elem, &self.bytes(data)?, &indices, ti.shape(), &fill);
                self.store_bytes(out(0).expect("validated by hcal-core"), y)
            }
            (Op::TensorScatter { .. }, Geometry::TensorScatter(g)) => {
                // Reads the whole past before writing the present, so the
                // in-place call (present is past) needs nothing else.
                let cache = call.input(0).expect("validated by hcal-core");
                let mut present = self.bytes(cache)?;
                let update = self.bytes(call.input(1).expect("validated by hcal-core"))?;
                let w = call.input(2).map(|t| self.bytes(t).map(|b| to_i64(&b))).transpose()?;
                indexing::tensor_scatter(g, cache.dtype().size_bytes(), &mut present, &update, w.as_deref());
                self.store_bytes(out(0).expect("validated by hcal-core"), present)
            }
            (Op::SplitRotaryScatter(attrs), Geometry::SplitRotaryScatter(g)) => {
                // Both caches are read whole before anything is stored, so
                // the in-place call (present is past) needs nothing else.
                let ((qkv, _), (mut k, _), (mut v, _)) = (required(0)?, required(1)?, required(2)?);
                let w = to_i64(&self.bytes(call.input(3).expect("validated by hcal-core"))?);
                let ((cos, _), (sin, _)) = (required(4)?, required(5)?);
                let q = crate::qkv_cache::split_rotary_scatter(
                    g,
                    attrs.interleaved,
                    &qkv,
                    [&cos, &sin],
                    &w,
                    &mut k,
                    &mut v,
                );
                self.store(out(0), &q)?;
                self.store(out(1), &k)?;
                self.store(out(2), &v)
            }
            (op, geometry) => unreachable!("hcal-core pairs every op with its geometry: {op} with {geometry:?}"),
        }
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }
}

/// Fail with [`Error::OutOfMemory`] when the host cannot hold the f64
/// results of `call` (and the working copies the op modules make of them),
/// before any work is done. The op modules allocate their results
/// infallibly, like any numeric code: this reserves and releases their
/// size up front, so a call too large for the host is an error instead of
/// an abort of the process midway. (Inputs and results are converted with
/// fallible allocations, see `CpuBackend::decode` and `CpuBackend::store`.)
fn check_result_memory(call: &Call<'_>) -> Result<()> {
    let f64s = |n: usize| n.saturating_mul(size_of::<f64>());
    let outputs: usize = call.outputs().iter().flatten().map(|t| t.desc().numel()).fold(0, usize::saturating_add);
    let bytes = match call.geometry() {
        // A table of element slices (two words each) and the moved bytes.
        Geometry::Transpose { .. } => outputs.saturating_mul(4 * size_of::<usize>()),
        // Tables of X's and Y's element slices (at most one entry per output
        // each), the condition and the moved bytes.
        Geometry::Where { .. } => outputs.saturating_mul(5 * size_of::<usize>()),
        // The per-row results (and their row headers) next to Y, and the
        // f64 key and value caches, present outputs or not.
        Geometry::Attention(g) => {
            let cache = g.batch.saturating_mul(g.kv_heads).saturating_mul(g.total_len());
            let cache = cache.saturating_mul(g.head_dim.saturating_add(g.v_head_dim));
            let y = g.batch.saturating_mul(g.q_heads).saturating_mul(g.q_len).saturating_mul(g.v_head_dim);
            f64s(y).saturating_mul(3).saturating_add(f64s(cache))
        }
        _ => f64s(outputs).saturating_mul(2),
    };
    drop(hcal_core::host_vec_with_capacity::<u8>(bytes, &format!("results of {}", call.op()))?);
    Ok(())
}
