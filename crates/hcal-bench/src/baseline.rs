//! What a candidate is compared with (`--baseline`): another backend, the
//! ONNX Gemm form of a matmul, attention composed of plain ops, or a copy of
//! the row's bytes; and the check that a baseline runs a different kernel
//! than the candidate.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hcal::{BinaryOp, Device, DeviceTensor, Gemm, Op, OpSignature, Probe, Result, TensorDesc};

use crate::runner::{Prepared, cold_copies, filled};
use crate::spec::{OpKind, Shape, SpecError, Workload};

/// What a candidate is compared with (`--baseline NAME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The same op on another backend (`--baseline cpu`).
    Backend(String),
    /// Attention only: the unfused composition on the same backend,
    /// `Transpose(K) -> MatMul -> Mul(scale) [-> Add(causal mask)] -> Softmax
    /// -> MatMul`, which materializes the `Sq x Skv` scores.
    Composed,
    /// Matmul only: ONNX `Gemm` (alpha 1, no C) on the same backend.
    Gemm,
    /// The device's copy probe ([`Probe::Copy`]) moving as many bytes as the
    /// row does ([`crate::bytes`]: half read, half written), in one launch on
    /// the same backend: the bandwidth roofline at the row's size, launch
    /// cost included. Its speedup `t_copy / t_row` is the share of a
    /// same-size copy's speed the kernel reaches, where "% roofline" divides
    /// by the peak of a 64 MiB copy, whose launch cost is amortized. A
    /// small memory-bound kernel (a decode GEMV of 200 KB) reads low against
    /// the peak when each launch costs as much as its bytes take to move, and
    /// this says how much of that the kernel itself loses. The copy reuses
    /// its buffers (it is warm where a cache holds them, also with `--cold`),
    /// so it never flatters the row.
    Copy,
}

impl Baseline {
    /// The name written in reports: `composed`, `gemm`, or the backend name.
    pub fn name(&self) -> String {
        match self {
            Baseline::Backend(b) => b.clone(),
            Baseline::Composed => "composed".into(),
            Baseline::Gemm => "gemm".into(),
            Baseline::Copy => "copy".into(),
        }
    }

    /// Whether the baseline is defined for `op` (`composed`: attention only,
    /// `gemm`: matmul only, a backend and `copy`: every op).
    ///
    /// ```
    /// use hcal_bench::{Baseline, OpKind};
    /// assert!(Baseline::Composed.applies_to(OpKind::Attention));
    /// assert!(!Baseline::Composed.applies_to(OpKind::Matmul));
    /// assert!(Baseline::Backend("cpu".into()).applies_to(OpKind::Matmul));
    /// ```
    pub fn applies_to(&self, op: OpKind) -> bool {
        match self {
            Baseline::Backend(_) | Baseline::Copy => true,
            Baseline::Composed => op == OpKind::Attention,
            Baseline::Gemm => op == OpKind::Matmul,
        }
    }
}

impl FromStr for Baseline {
    type Err = SpecError;

    /// `composed`, `gemm`, `copy`, or a backend name.
    fn from_str(s: &str) -> std::result::Result<Self, SpecError> {
        match s.trim() {
            "" => Err(SpecError("empty baseline name".into())),
            "composed" => Ok(Baseline::Composed),
            "gemm" => Ok(Baseline::Gemm),
            "copy" => Ok(Baseline::Copy),
            other => Ok(Baseline::Backend(other.to_string())),
        }
    }
}

/// The identity of the kernel(s) a run executes: the device (API and device
/// name, so two backend names for one adapter, such as `wgpu:vulkan:0` and
/// `wgpu:vulkan:0:baseline`, share it), then the backend's
/// [`hcal::Instruments::kernel_variant`] of each step or, when it does not name
/// its kernels, the op names.
///
/// ```
/// let cpu = hcal::DeviceInfo::new("cpu", "hcal reference (f64)", hcal::DeviceType::Cpu, "reference");
/// assert_eq!(hcal_bench::kernel_identity(&cpu, &[(None, "MatMul")]), "reference/hcal reference (f64): MatMul");
/// let gpu = hcal::DeviceInfo::new("wgpu:vulkan:0:baseline", "llvmpipe", hcal::DeviceType::SoftwareGpu, "vulkan");
/// assert_eq!(
///     hcal_bench::kernel_identity(&gpu, &[(Some("matmul.wgsl:matmul@1"), "Gemm")]),
///     "vulkan/llvmpipe: matmul.wgsl:matmul@1",
/// );
/// ```
pub fn kernel_identity(device: &hcal::DeviceInfo, kernels: &[(Option<&str>, &str)]) -> String {
    let names: Vec<&str> = kernels.iter().map(|(variant, op)| variant.unwrap_or(op)).collect();
    format!("{}/{}: {}", device.api, device.name, names.join(" -> "))
}

/// A baseline must run a different kernel than the candidate, or its
/// "speedup" measures nothing (the FlagGems bug of timing one function twice).
///
/// ```
/// use hcal_bench::check_baseline_differs;
/// assert!(check_baseline_differs("reference/hcal: MatMul", "vulkan/llvmpipe: matmul.wgsl:matmul@1").is_ok());
/// let same = "vulkan/llvmpipe: matmul.wgsl:matmul@1";
/// assert!(check_baseline_differs(same, same).unwrap_err().0.contains("same kernel"));
/// ```
///
/// # Errors
/// [`SpecError`] naming the shared kernel.
pub fn check_baseline_differs(candidate: &str, baseline: &str) -> std::result::Result<(), SpecError> {
    if candidate == baseline {
        return Err(SpecError(format!(
            "baseline runs the same kernel as the candidate ({candidate}); a speedup against itself means nothing"
        )));
    }
    Ok(())
}

/// A baseline ready to run: its calls and its kernel identity.
pub struct PreparedBaseline {
    /// Kernel identity ([`kernel_identity`]).
    pub kernel: String,
    device: Device,
    work: Work,
    /// Copies of the one step's inputs ([`PreparedBaseline::go_cold`]).
    copies: Vec<Vec<DeviceTensor>>,
    /// Calls made, which picks the next call's operand set.
    calls: AtomicUsize,
}

/// One op of a baseline: inputs and output shared with neighbouring steps.
type Step = (Op, Vec<Arc<DeviceTensor>>, Arc<DeviceTensor>);

/// What each call of a baseline enqueues.
enum Work {
    /// Ops in order (another backend, `gemm`, `composed`).
    Ops(Vec<Step>),
    /// The device's probe (`copy`).
    Probe(Probe),
}

impl PreparedBaseline {
    /// Prepare `baseline` of workload `w`: `device` is the candidate's device
    /// (for `composed`, `gemm` and `copy`) or the baseline backend's.
    ///
    /// # Errors
    /// [`hcal::Error::Unsupported`] when the baseline does not apply to the op
    /// or the backend has no copy probe (`copy`); allocation errors.
    pub fn new(device: &Device, baseline: &Baseline, w: &Workload) -> Result<PreparedBaseline> {
        let unsupported = |reason: &str| hcal::Error::Unsupported {
            op: w.op().to_string(),
            backend: device.info().backend.clone(),
            reason: format!("baseline {}: {reason}", baseline.name()),
        };
        let steps = match (baseline, w.shape) {
            (Baseline::Backend(_), _) => {
                let p = Prepared::new(device, w)?;
                vec![(p.op, p.inputs.into_iter().map(Arc::new).collect(), Arc::new(p.output))]
            }
            (Baseline::Gemm, Shape::Matmul { .. }) => {
                let p = Prepared::new(device, w)?;
                let gemm = Op::Gemm(Gemm { alpha: 1.0, beta: 0.0, trans_a: false, trans_b: false });
                vec![(gemm, p.inputs.into_iter().map(Arc::new).collect(), Arc::new(p.output))]
            }
            (Baseline::Composed, Shape::Attention { batch, heads, q_len, kv_len, head_dim }) => {
                composed_attention(device, w, [batch, heads, q_len, kv_len, head_dim])?
            }
            (Baseline::Gemm, _) => return Err(unsupported("applies to matmul only")),
            (Baseline::Composed, _) => return Err(unsupported("applies to attention only")),
            (Baseline::Copy, _) => return copy_baseline(device, w)?.map_err(|reason| unsupported(&reason)),
        };
        let instruments = device.backend().instruments();
        let variants: Vec<(Option<String>, String)> = steps
            .iter()
            .map(|(op, ins, _)| {
                let sig = OpSignature::new(op.clone(), ins.iter().map(|t| Some(t.desc().clone())).collect())?;
                Ok((instruments.and_then(|i| i.kernel_variant(&sig)), op.to_string()))
            })
            .collect::<Result<_>>()?;
        let refs: Vec<(Option<&str>, &str)> = variants.iter().map(|(v, o)| (v.as_deref(), o.as_str())).collect();
        let kernel = kernel_identity(device.info(), &refs);
        Ok(PreparedBaseline {
            kernel,
            device: device.clone(),
            work: Work::Ops(steps),
            copies: Vec::new(),
            calls: AtomicUsize::new(0),
        })
    }

    /// As [`Prepared::go_cold`], for a baseline of one op (another backend,
    /// `gemm`). Returns the number of operand sets: 1 for `copy`, whose
    /// probe keeps its buffers (see [`Baseline::Copy`]).
    ///
    /// # Errors
    /// [`hcal::Error::Unsupported`] for `composed` (its intermediate tensors
    /// would stay warm); reading back and allocation errors.
    pub fn go_cold(&mut self, bytes: usize) -> Result<usize> {
        let steps = match &self.work {
            Work::Probe(_) => return Ok(1),
            Work::Ops(steps) => steps,
        };
        let [(_, inputs, _)] = steps.as_slice() else {
            return Err(hcal::Error::Unsupported {
                op: steps.last().map_or_else(String::new, |s| s.0.to_string()),
                backend: self.device.info().backend.clone(),
                reason: "cold operands rotate the inputs of a one-op baseline, and this one has several ops (its \
intermediates would stay warm)"
                    .into(),
            });
        };
        let inputs: Vec<&DeviceTensor> = inputs.iter().map(|t| &**t).collect();
        self.copies = cold_copies(&inputs, bytes)?;
        Ok(1 + self.copies.len())
    }

    /// The device the baseline runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The tensor holding the baseline's result (the last step's output;
    /// for `composed` attention, `[B, Hkv, (H / Hkv) Sq, D]`, the same memory
    /// layout as the candidate's `[B, H, Sq, D]`); `None` for `copy`, which
    /// computes nothing to compare.
    pub fn output(&self) -> Option<&DeviceTensor> {
        match &self.work {
            Work::Ops(steps) => steps.last().map(|step| &*step.2),
            Work::Probe(_) => None,
        }
    }

    /// Enqueue every step once (`copy`: its probe).
    ///
    /// # Errors
    /// Validation, support and device errors.
    pub fn call(&self) -> Result<()> {
        let steps = match &self.work {
            Work::Ops(steps) => steps,
            // `copy_baseline` ran it once, so the backend has instruments.
            Work::Probe(probe) => {
                let no_probe = || hcal::Error::Unsupported {
                    op: "Copy".into(),
                    backend: self.device.info().backend.clone(),
                    reason: "baseline copy: the backend has no copy probe (Instruments::run_probe)".into(),
                };
                let instruments = self.device.backend().instruments().ok_or_else(no_probe)?;
                return instruments.run_probe(probe)?.map(drop).ok_or_else(no_probe);
            }
        };
        let set = self.calls.fetch_add(1, Ordering::Relaxed) % (1 + self.copies.len());
        for (op, ins, out) in steps {
            let inputs: Vec<Option<&DeviceTensor>> = match set {
                0 => ins.iter().map(|t| Some(&**t)).collect(),
                i => self.copies[i - 1].iter().map(Some).collect(),
            };
            self.device.run(op, &inputs, &[Some(&**out)])?;
        }
        Ok(())
    }
}

/// The [`Baseline::Copy`] of workload `w`: its probe, run once to learn
/// what it moves; `Ok(Err(reason))` when the copy cannot stand for the row.
///
/// # Errors
/// Device errors of the probe.
fn copy_baseline(device: &Device, w: &Workload) -> Result<std::result::Result<PreparedBaseline, String>> {
    // Half the row's bytes each way: the probe counts its reads and writes.
    let each_way = (crate::bytes(w) / 2).max(16);
    let probe = Probe::Copy { bytes: each_way };
    let work = match device.backend().instruments() {
        Some(i) => i.run_probe(&probe)?,
        None => None,
    };
    let Some(work) = work else {
        return Ok(Err("the backend has no copy probe (Instruments::run_probe)".into()));
    };
    device.sync()?;
    // The probe copies whole vec4s within one storage binding; a row that
    // moves more than that would be set against a smaller copy.
    if work.bytes < 2 * (each_way / 16 * 16) {
        return Ok(Err(format!(
            "the row moves {} bytes, and one launch of the copy probe at most {} ({})",
            2 * each_way,
            work.bytes,
            work.method
        )));
    }
    Ok(Ok(PreparedBaseline {
        kernel: kernel_identity(device.info(), &[(Some(&work.method), "Copy")]),
        device: device.clone(),
        work: Work::Probe(probe),
        copies: Vec::new(),
        calls: AtomicUsize::new(0),
    }))
}

/// The unfused attention of [`Baseline::Composed`]. With `r = H / Hkv` query
/// heads per KV head, Q `[B, H, Sq, D]` is the same memory as
/// `[B, Hkv, r Sq, D]`, so plain batched matmuls against K `[B, Hkv, Skv, D]`
/// implement grouped-query attention without broadcasting.
fn composed_attention(device: &Device, w: &Workload, [b, h, sq, skv, d]: [usize; 5]) -> Result<Vec<Step>> {
    let kv = w.kv_heads_or_all();
    let rows = (h / kv) * sq;
    let dt = w.dtype;
    let tensor = |shape: [usize; 4], seed: u64| {
        filled(device, TensorDesc::new(shape, dt), seed, "an input of the composed attention").map(Arc::new)
    };
    let alloc = |shape: &[usize]| device.alloc(&TensorDesc::new(shape, dt)).map(Arc::new);
    let (q, k, v) = (tensor([b, kv, rows, d], 1)?, tensor([b, kv, skv, d], 2)?, tensor([b, kv, skv, d], 3)?);
    let kt = alloc(&[b, kv, d, skv])?;
    let scale = Arc::new(device.tensor_from_f32(TensorDesc::new([1], dt), &[1.0 / (d as f32).sqrt()])?);
    let raw = alloc(&[b, kv, rows, skv])?;
    let scaled = alloc(&[b, kv, rows, skv])?;
    let mut steps: Vec<Step> = vec![
        (Op::Transpose { perm: Some(vec![0, 1, 3, 2]) }, vec![k], Arc::clone(&kt)),
        (Op::MatMul, vec![q, kt], Arc::clone(&raw)),
        (Op::Binary(BinaryOp::Mul), vec![raw, scale], Arc::clone(&scaled)),
    ];
    let mut logits = scaled;
    if w.causal {
        // Row j * Sq + i of the merged rows is query i: it sees keys 0..=i.
        let mut mask: Vec<f32> =
            hcal::host_vec_with_capacity(rows.saturating_mul(skv), &format!("causal mask [{rows}, {skv}]"))?;
        mask.extend(
            (0..rows).flat_map(|row| (0..skv).map(move |key| if key > row % sq { f32::NEG_INFINITY } else { 0.0 })),
        );
        let mask = Arc::new(device.tensor_from_f32(TensorDesc::new([rows, skv], dt), &mask)?);
        let masked = alloc(&[b, kv, rows, skv])?;
        steps.push((Op::Binary(BinaryOp::Add), vec![logits, mask], Arc::clone(&masked)));
        logits = masked;
    }
    let p = alloc(&[b, kv, rows, skv])?;
    steps.push((Op::Softmax { axis: -1 }, vec![logits], Arc::clone(&p)));
    steps.push((Op::MatMul, vec![p, v], alloc(&[b, kv, rows, d])?));
    Ok(steps)
}
