//! Timing: first call, warm-up, repetitions until stable or a cap; device
//! time from the backend's timestamps where it has them, wall time around the
//! work and a sync otherwise; the operands a row runs on (`Prepared`, warm
//! or rotated through copies for `--cold`). Baselines: `baseline.rs`.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hcal::{Attention, DType, Device, DeviceTensor, Gemm, Op, OpSignature, Result, TensorDesc};
use serde::{Deserialize, Serialize};

use crate::spec::{Shape, Workload};
use crate::stats::{RepPolicy, Stop};

/// How a time was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimingMode {
    /// The backend's device timer ([`hcal::Instruments::begin_timing`]): the time
    /// the device spent executing the work.
    Device,
    /// Wall clock around enqueueing the work and a `sync()`.
    Wall,
}

impl fmt::Display for TimingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimingMode::Device => "device",
            TimingMode::Wall => "wall",
        })
    }
}

/// Time `work` once: device seconds when the backend has a timer, else wall
/// seconds around `work` and a sync. The device is synced either way.
///
/// # Errors
/// Errors of `work` and of the device.
pub fn time_region(device: &Device, work: impl FnOnce() -> Result<()>) -> Result<(f64, TimingMode)> {
    let (seconds, _, mode) = time_both(device, work)?;
    Ok((seconds, mode))
}

/// As [`time_region`], also returning the wall time: `(chosen, wall, mode)`.
fn time_both(device: &Device, work: impl FnOnce() -> Result<()>) -> Result<(f64, f64, TimingMode)> {
    let instruments = device.backend().instruments();
    let timing = match instruments {
        Some(i) => i.begin_timing()?,
        None => false,
    };
    let start = Instant::now();
    let result = work().and_then(|()| device.sync());
    let wall = start.elapsed().as_secs_f64();
    let device_s = match instruments {
        Some(i) if timing => i.end_timing()?,
        _ => None,
    };
    result?;
    Ok(match device_s {
        Some(s) => (s, wall, TimingMode::Device),
        None => (wall, wall, TimingMode::Wall),
    })
}

/// What [`measure`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    /// Wall seconds of the very first call and its sync: includes pipeline
    /// compilation and any autotuning the first use of a kernel on the device
    /// triggers (later rows that reuse the kernel do not pay it again).
    pub first_call_s: f64,
    /// Seconds per call of each sample (sample time / `inner`), in the order taken.
    pub samples_s: Vec<f64>,
    /// Wall seconds per call of each sample (including the sync).
    pub wall_samples_s: Vec<f64>,
    /// Calls per sample.
    pub inner: usize,
    /// Timer of `samples_s`.
    pub timing: TimingMode,
    /// Why sampling stopped.
    pub stop: Stop,
}

/// Time `call` (which enqueues one op) on `device` under `policy`: one first
/// call, warm-up, then samples of `inner` calls each until
/// [`RepPolicy::stop`] says so.
///
/// # Errors
/// Errors of `call` and of the device.
pub fn measure(device: &Device, policy: &RepPolicy, mut call: impl FnMut() -> Result<()>) -> Result<Measurement> {
    let first_call_s = first_call(device, &mut call)?;
    measure_after_first(device, policy, first_call_s, call)
}

/// The wall seconds of one call and its sync: the first call of a row,
/// which compiles and tunes (see [`Measurement::first_call_s`]).
///
/// # Errors
/// Errors of `call` and of the device.
pub fn first_call(device: &Device, call: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    call()?;
    device.sync()?;
    Ok(start.elapsed().as_secs_f64())
}

/// As [`measure`] when the caller already made the first call (it took
/// `first_call_s`, see [`first_call`]): warm-up, then samples. Warm-up is
/// bounded by `policy.max_time_s` like sampling, and skipped when the first
/// call alone took that long: such a call is warm after one run, and the
/// policy takes one sample of it. So a row costs its first call plus about
/// `max_time_s` (at least one more call), however slow the call.
///
/// ```
/// use hcal::{DType, Device};
/// use hcal_bench::{OpKind, Prepared, RepPolicy, Shape, Workload, first_call, measure_after_first};
///
/// let device = Device::open("cpu").unwrap();
/// let w = Workload::new(Shape::parse(OpKind::Matmul, "16x16x16").unwrap(), DType::F32);
/// let p = Prepared::new(&device, &w).unwrap();
/// let first = first_call(&device, &mut || p.call()).unwrap();
/// // A time cap below the first call: no warm-up, one sample of one call.
/// let policy = RepPolicy { max_time_s: 1e-9, min_sample_s: 0.0, ..RepPolicy::default() };
/// let m = measure_after_first(&device, &policy, first, || p.call()).unwrap();
/// assert_eq!((m.samples_s.len(), m.inner, m.first_call_s), (1, 1, first));
/// ```
///
/// # Errors
/// Errors of `call` and of the device.
pub fn measure_after_first(
    device: &Device,
    policy: &RepPolicy,
    first_call_s: f64,
    mut call: impl FnMut() -> Result<()>,
) -> Result<Measurement> {
    let mut run = Sampler::warm(device, policy, first_call_s, &mut call)?;
    let sampling = Instant::now();
    let stop = loop {
        run.sample(&mut call)?;
        if let Some(stop) = policy.stop(&run.samples_s, sampling.elapsed().as_secs_f64()) {
            break stop;
        }
    };
    Ok(run.finish(stop))
}

/// Measure a candidate and a baseline with their samples interleaved (one
/// candidate sample, one baseline sample, and so on), so both see the same
/// machine: on a shared host whose speed drifts by tens of percent over
/// seconds, measuring one after the other can put the two in different
/// phases and skew their ratio. Each gets its own first call, warm-up and
/// calls per sample as in [`measure`]; sampling stops when both would stop,
/// with the time budget doubled (the two share it).
///
/// # Errors
/// The first error of either call or of a sync.
///
/// # Example
/// ```
/// use hcal::{DType, Device};
/// use hcal_bench::{OpKind, Prepared, RepPolicy, Shape, Workload, measure_pair};
///
/// let device = Device::open("cpu").unwrap();
/// let small = Workload::new(Shape::parse(OpKind::Matmul, "32x32x32").unwrap(), DType::F32);
/// let large = Workload::new(Shape::parse(OpKind::Matmul, "64x64x64").unwrap(), DType::F32);
/// let (a, b) = (Prepared::new(&device, &small).unwrap(), Prepared::new(&device, &large).unwrap());
/// let policy = RepPolicy { min_reps: 3, max_reps: 3, ..RepPolicy::quick() };
/// let (ma, mb) = measure_pair((&device, &mut || a.call()), (&device, &mut || b.call()), &policy).unwrap();
/// assert_eq!((ma.samples_s.len(), mb.samples_s.len()), (3, 3));
/// ```
pub fn measure_pair(
    (device_a, call_a): (&Device, &mut dyn FnMut() -> Result<()>),
    (device_b, call_b): (&Device, &mut dyn FnMut() -> Result<()>),
    policy: &RepPolicy,
) -> Result<(Measurement, Measurement)> {
    let mut a = Sampler::start(device_a, policy, call_a)?;
    let mut b = Sampler::start(device_b, policy, call_b)?;
    let shared = RepPolicy { max_time_s: 2.0 * policy.max_time_s, ..*policy };
    let sampling = Instant::now();
    let (mut stop_a, mut stop_b) = (None, None);
    loop {
        if stop_a.is_none() {
            a.sample(call_a)?;
        }
        if stop_b.is_none() {
            b.sample(call_b)?;
        }
        let elapsed = sampling.elapsed().as_secs_f64();
        stop_a = stop_a.or_else(|| shared.stop(&a.samples_s, elapsed));
        stop_b = stop_b.or_else(|| shared.stop(&b.samples_s, elapsed));
        if let (Some(sa), Some(sb)) = (stop_a, stop_b) {
            return Ok((a.finish(sa), b.finish(sb)));
        }
    }
}

/// One call's measurement in progress: first call and warm-up done, samples
/// taken so far.
struct Sampler<'a> {
    device: &'a Device,
    first_call_s: f64,
    inner: usize,
    samples_s: Vec<f64>,
    wall_samples_s: Vec<f64>,
    timing: TimingMode,
}

impl<'a> Sampler<'a> {
    /// The first call (timed on the wall clock: it includes compilation),
    /// then warm-up as [`Sampler::warm`].
    fn start(device: &'a Device, policy: &RepPolicy, call: &mut dyn FnMut() -> Result<()>) -> Result<Self> {
        let first_call_s = first_call(device, call)?;
        Self::warm(device, policy, first_call_s, call)
    }

    /// Warm-up calls after a first call of `first_call_s`, which also size
    /// `inner` so a sample lasts at least `policy.min_sample_s`. Bounded by
    /// `policy.max_time_s`: none when the first call alone took that long,
    /// and no new call once that much warm-up time has passed.
    fn warm(
        device: &'a Device,
        policy: &RepPolicy,
        first_call_s: f64,
        call: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Self> {
        let warm = Instant::now();
        let mut warm_calls = 0usize;
        if first_call_s < policy.max_time_s {
            while warm_calls < policy.warmup_reps || warm.elapsed().as_secs_f64() < policy.warmup_s {
                call()?;
                device.sync()?;
                warm_calls += 1;
                if warm.elapsed().as_secs_f64() >= policy.max_time_s {
                    break;
                }
            }
        }
        let per_call = if warm_calls == 0 { first_call_s } else { warm.elapsed().as_secs_f64() / warm_calls as f64 };
        let inner = ((policy.min_sample_s / per_call.max(1e-9)).ceil() as usize).clamp(1, 1000);
        Ok(Self {
            device,
            first_call_s,
            inner,
            samples_s: Vec::new(),
            wall_samples_s: Vec::new(),
            timing: TimingMode::Device,
        })
    }

    /// One sample of `inner` calls.
    fn sample(&mut self, call: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        let inner = self.inner;
        let (seconds, wall, mode) = time_both(self.device, || (0..inner).try_for_each(|_| call()))?;
        self.samples_s.push(seconds / inner as f64);
        self.wall_samples_s.push(wall / inner as f64);
        self.timing = mode;
        Ok(())
    }

    fn finish(self, stop: Stop) -> Measurement {
        let (samples_s, timing) = trusted_samples(self.samples_s, &self.wall_samples_s, self.timing);
        Measurement {
            first_call_s: self.first_call_s,
            samples_s,
            wall_samples_s: self.wall_samples_s,
            inner: self.inner,
            timing,
            stop,
        }
    }
}

/// The device-timed samples, unless the device timer plainly missed the work:
/// a median under a fifth of the wall clock's when the wall clock says the
/// work takes more than 0.2 ms per call. Then the wall samples, marked so.
/// (Seen on lavapipe: a lone GEMV dispatch timed at 10-40 us against 3 ms
/// of wall time, while the same dispatch alone in a run timed right.)
fn trusted_samples(samples: Vec<f64>, wall: &[f64], timing: TimingMode) -> (Vec<f64>, TimingMode) {
    let median = |v: &[f64]| crate::Summary::of(v).map_or(f64::NAN, |s| s.median);
    let (device, wall_median) = (median(&samples), median(wall));
    if timing == TimingMode::Device && wall_median > 2e-4 && device < 0.2 * wall_median {
        (wall.to_vec(), TimingMode::Wall)
    } else {
        (samples, timing)
    }
}

/// Bytes of operands `--cold` rotates through ([`Prepared::go_cold`]): more
/// than the last-level cache of current CPUs and GPUs (32 MiB of L3 on the
/// 2-vCPU EPYC this was written on, 50 MB of L2 on an H100, 256 MB of
/// Infinity Cache on an MI300X), so a call finds none of its operands in a
/// cache from an earlier call, as a model's decode step reads each layer's
/// weights once per token.
pub const COLD_BYTES: usize = 512 << 20;

/// Most operand sets [`Prepared::go_cold`] makes, so a tiny row does not
/// become millions of allocations. A row whose operands are under
/// `COLD_BYTES / COLD_MAX_SETS` (32 KiB) then rotates through less than
/// `COLD_BYTES`, which a large cache may hold (16384 sets of 384 bytes are
/// 6 MiB); `hcal bench` names such rows.
pub const COLD_MAX_SETS: usize = 16384;

/// Operands of a workload on a device, filled with the same deterministic
/// pseudo-random data on every backend, and the op that consumes them.
pub struct Prepared {
    /// The op (`MatMul`, or `Attention` with the workload's options).
    pub op: Op,
    /// Inputs in ONNX order.
    pub inputs: Vec<DeviceTensor>,
    /// The output.
    pub output: DeviceTensor,
    /// The op on the inputs' descriptors, validated once for every call.
    signature: OpSignature,
    /// Copies of `inputs` that calls take in turn after `inputs` itself
    /// ([`Prepared::go_cold`]); empty while warm.
    copies: Vec<Vec<DeviceTensor>>,
    /// Calls made, which picks the next call's operand set.
    calls: AtomicUsize,
}

impl Prepared {
    /// Allocate and fill the operands of `w` on `device`.
    ///
    /// # Errors
    /// Allocation errors.
    pub fn new(device: &Device, w: &Workload) -> Result<Prepared> {
        let weights_t = Op::Gemm(Gemm { trans_b: true, ..Gemm::default() });
        let (op, shapes) = match w.shape {
            // Quantized weights: B [N, K] with blocks along K, Gemm transB.
            Shape::Matmul { m, n, k } if w.dtype.is_quantized() => (weights_t, vec![vec![m, k], vec![n, k]]),
            Shape::Matmul { m, n, k } => (Op::MatMul, vec![vec![m, k], vec![k, n]]),
            Shape::Attention { batch, heads, q_len, kv_len, head_dim } => {
                let kv = w.kv_heads_or_all();
                let op = Op::Attention(Attention { is_causal: w.causal, ..Default::default() });
                let kv_shape = vec![batch, kv, kv_len, head_dim];
                (op, vec![vec![batch, heads, q_len, head_dim], kv_shape.clone(), kv_shape])
            }
        };
        // A quantized dtype is B's; A (and so Y) stay f32.
        let dtype_of = |i: usize| if w.dtype.is_quantized() && i == 0 { DType::F32 } else { w.dtype };
        let descs = shapes.iter().enumerate().map(|(i, s)| Some(TensorDesc::new(s.as_slice(), dtype_of(i)))).collect();
        let signature = OpSignature::new(op.clone(), descs)?;
        let names: &[&str] = if matches!(op, Op::MatMul | Op::Gemm(_)) { &["A", "B"] } else { &["Q", "K", "V"] };
        let inputs = shapes
            .iter()
            .zip(names)
            .enumerate()
            .map(|(i, (s, name))| {
                let what = format!("input {name} of {op}");
                filled(device, TensorDesc::new(s.as_slice(), dtype_of(i)), i as u64 + 1, &what)
            })
            .collect::<Result<Vec<_>>>()?;
        let output = device.alloc(&signature.outputs()[0])?;
        Ok(Prepared { op, inputs, output, signature, copies: Vec::new(), calls: AtomicUsize::new(0) })
    }

    /// Make every later call read its operands from device memory rather
    /// than from a cache an earlier call filled: copies of the inputs are
    /// added until all the operand sets together hold at least `bytes`
    /// (one set when a single set is that large; at most [`COLD_MAX_SETS`]
    /// sets), and calls take the sets in
    /// turn. A copy holds the same bytes, so every call computes the same
    /// result. Returns the number of sets. The copies are extra device
    /// memory, so measure a row's memory before.
    ///
    /// ```
    /// use hcal::{DType, Device};
    /// use hcal_bench::{Prepared, Shape, Workload};
    ///
    /// let device = Device::open("cpu").unwrap();
    /// let w = Workload::new(Shape::Matmul { m: 1, n: 64, k: 64 }, DType::F32);
    /// let mut p = Prepared::new(&device, &w).unwrap();
    /// // A 1x64 A and a 64x64 B: 16.6 KB a set, so 4 sets hold 64 KiB.
    /// assert_eq!(p.go_cold(64 << 10).unwrap(), 4);
    /// p.call().unwrap();
    /// ```
    ///
    /// # Errors
    /// Reading the inputs back, allocation ([`hcal::Error::OutOfMemory`]
    /// where the device cannot hold the copies).
    pub fn go_cold(&mut self, bytes: usize) -> Result<usize> {
        let inputs: Vec<&DeviceTensor> = self.inputs.iter().collect();
        self.copies = cold_copies(&inputs, bytes)?;
        Ok(1 + self.copies.len())
    }

    /// The operand sets calls rotate through: 1 until [`Prepared::go_cold`].
    pub fn operand_sets(&self) -> usize {
        1 + self.copies.len()
    }

    /// Bytes of one operand set (the inputs).
    ///
    /// # Errors
    /// A descriptor whose size overflows (not one [`Prepared::new`] makes).
    pub fn operand_bytes(&self) -> Result<usize> {
        set_bytes(&self.inputs.iter().collect::<Vec<_>>())
    }

    /// The op's validated signature (for [`hcal::Instruments::kernel_variant`]).
    pub fn signature(&self) -> &OpSignature {
        &self.signature
    }

    /// Enqueue the op once, on the next operand set in turn (the inputs
    /// themselves until [`Prepared::go_cold`]).
    ///
    /// # Errors
    /// Validation, support and device errors.
    pub fn call(&self) -> Result<()> {
        let set = match self.calls.fetch_add(1, Ordering::Relaxed) % self.operand_sets() {
            0 => &self.inputs,
            i => &self.copies[i - 1],
        };
        let inputs: Vec<Option<&DeviceTensor>> = set.iter().map(Some).collect();
        self.output.device().run_signature(self.signature.clone(), &inputs, &[Some(&self.output)])
    }
}

/// Bytes of the tensors `inputs`.
fn set_bytes(inputs: &[&DeviceTensor]) -> Result<usize> {
    inputs.iter().map(|t| t.desc().byte_len()).sum()
}

/// Copies of `inputs` (same descriptors, same bytes) such that they and
/// `inputs` together hold at least `bytes`: `ceil(bytes / set) - 1` of them,
/// at most [`COLD_MAX_SETS`]` - 1`.
pub(crate) fn cold_copies(inputs: &[&DeviceTensor], bytes: usize) -> Result<Vec<Vec<DeviceTensor>>> {
    let sets = bytes.div_ceil(set_bytes(inputs)?.max(1)).clamp(1, COLD_MAX_SETS);
    let contents = inputs.iter().map(|t| t.to_bytes()).collect::<Result<Vec<_>>>()?;
    (1..sets)
        .map(|_| {
            inputs.iter().zip(&contents).map(|(t, data)| t.device().tensor_from_bytes(t.desc().clone(), data)).collect()
        })
        .collect()
}

/// A tensor of `desc` filled with values in `[-1, 1)` from a fixed LCG seeded
/// by `seed` (as the criterion benches do), so every backend computes on the
/// same data. The host copy is allocated fallibly: its size comes from the
/// command line, and one the host cannot hold is [`hcal::Error::OutOfMemory`]
/// naming `what`, not an abort.
pub(crate) fn filled(device: &Device, desc: TensorDesc, seed: u64, what: &str) -> Result<DeviceTensor> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut data: Vec<f32> = hcal::host_vec_with_capacity(desc.numel(), &format!("{what}, {desc}"))?;
    data.extend((0..desc.numel()).map(|_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }));
    device.tensor_from_f32(desc, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sets really rotate: a copy changed behind `go_cold`'s back shows
    /// up in exactly the calls that take it.
    #[test]
    fn cold_calls_take_the_sets_in_turn() {
        let device = Device::open("cpu").unwrap();
        let w = Workload::new(crate::Shape::Matmul { m: 1, n: 2, k: 2 }, DType::F32);
        let mut p = Prepared::new(&device, &w).unwrap();
        // A [1, 2] and B [2, 2] f32: 24 bytes a set, so 3 sets for 72.
        assert_eq!(p.go_cold(72).unwrap(), 3);
        p.copies[1][1] = device.tensor_from_f32(TensorDesc::new([2, 2], DType::F32), &[0.0; 4]).unwrap();
        let outputs: Vec<bool> = (0..6)
            .map(|_| {
                p.call().unwrap();
                p.output.to_f32().unwrap().iter().all(|v| *v == 0.0)
            })
            .collect();
        // Sets 0, 1, 2, 0, 1, 2: the zeroed B is set 2.
        assert_eq!(outputs, [false, false, true, false, false, true]);
    }

    #[test]
    fn a_device_timer_that_missed_the_work_gives_way_to_the_wall_clock() {
        let wall = [3e-3, 3.1e-3, 2.9e-3];
        let (s, mode) = trusted_samples(vec![1e-5, 4e-5, 3e-5], &wall, TimingMode::Device);
        assert_eq!((s, mode), (wall.to_vec(), TimingMode::Wall));
        // Plausible device times (below wall: submission and sync excluded) stay.
        let (s, mode) = trusted_samples(vec![2.5e-3, 2.6e-3, 2.4e-3], &wall, TimingMode::Device);
        assert_eq!((s, mode), (vec![2.5e-3, 2.6e-3, 2.4e-3], TimingMode::Device));
        // Short work: launch overhead dominates the wall clock, nothing to judge.
        let (s, mode) = trusted_samples(vec![1e-6, 1e-6, 1e-6], &[1e-4, 1e-4, 1e-4], TimingMode::Device);
        assert_eq!((s, mode), (vec![1e-6; 3], TimingMode::Device));
    }
}
