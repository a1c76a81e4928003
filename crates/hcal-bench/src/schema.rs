//! The self-describing JSON document of a run (`"kind": "bench"`), its CSV
//! form, and how a record's metrics follow from a measurement.

use hcal::{DType, DeviceInfo};
use serde::{Deserialize, Serialize};

use crate::model::{bytes, flops, intensity, roofline};
use crate::peak::Peak;
use crate::runner::{Measurement, TimingMode};
use crate::spec::{OpKind, Workload};
use crate::stats::{RepPolicy, Stop, Summary};

/// Value of the top-level `"kind"` field of a bench document.
pub const KIND: &str = "bench";
/// Version of this schema; bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// One `hcal bench` run: where it ran, how, and every result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRun {
    /// Always `"bench"` (see [`KIND`]); `hcal report` dispatches on it.
    pub kind: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// hcal's version (`CARGO_PKG_VERSION`).
    pub hcal_version: String,
    /// `git describe --always --dirty` of the source the binary was built from
    /// (`unknown` outside a git checkout).
    pub git_revision: String,
    /// `release` or `debug`: debug builds are slow and say so.
    pub build_profile: String,
    /// Seconds since the Unix epoch when the run started.
    pub created_unix_s: u64,
    /// The machine.
    pub host: Host,
    /// The command line.
    pub command: Vec<String>,
    /// Repetition policy in force.
    pub policy: RepPolicy,
    /// One entry per backend measured.
    pub devices: Vec<DeviceRecord>,
    /// One entry per (backend, workload) measured.
    pub results: Vec<ResultRecord>,
    /// Rows that could not run (unsupported, out of memory), with the reason.
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// The run was stopped (Ctrl-C) before every row ran: `results` and
    /// `skipped` hold the rows done by then, the row in progress is left out.
    #[serde(default)]
    pub interrupted: bool,
}

/// The host machine of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Host name (`HOSTNAME`, `/etc/hostname`, or `unknown`).
    pub hostname: String,
    /// `std::env::consts::OS`.
    pub os: String,
    /// `std::env::consts::ARCH`.
    pub arch: String,
    /// Threads available to the process.
    pub cpus: usize,
}

impl Host {
    /// The machine this process runs on.
    pub fn current() -> Host {
        let hostname = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into());
        Host {
            hostname,
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// A backend of the run: device facts, timer and measured peak.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    /// Backend name (`cpu`, `wgpu:vulkan:0`).
    pub backend: String,
    /// The backend's `info()`: device name, API, vendor, driver, limits, features.
    pub info: DeviceInfo,
    /// `device` when the backend has a device timer, else `wall`.
    pub timing: TimingMode,
    /// The measured peak (`None` with `--no-peak`).
    pub peak: Option<Peak>,
}

/// One measured workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// `matmul` or `attention`.
    pub op: OpKind,
    /// Backend name.
    pub backend: String,
    /// `f32` or `f16`.
    pub dtype: DType,
    /// Canonical SPEC: `MxNxK`, `BxHxSxD` or `BxHxSqxSkvxD`.
    pub shape: String,
    /// Attention: causal mask.
    pub causal: bool,
    /// Attention: KV heads when they differ from query heads (GQA).
    pub kv_heads: Option<usize>,
    /// Suite the row came from (`square`, `llama3-8b`, ...; `cli` for `--shape`).
    pub suite: String,
    /// Row label within the suite (`prefill qkv`).
    pub label: String,
    /// `--scale` the suite was built at (1 = real shapes).
    pub scale: f64,
    /// The backend's name for the kernel that ran ([`hcal::Instruments::kernel_variant`]).
    pub kernel: Option<String>,
    /// Timer of `samples_s`.
    pub timing: TimingMode,
    /// Wall seconds of the first call (pipeline build, autotune), not in the samples.
    pub first_call_s: f64,
    /// Median seconds per call.
    pub median_s: f64,
    /// Fastest sample.
    pub min_s: f64,
    /// Slowest sample.
    pub max_s: f64,
    /// Mean of the samples.
    pub mean_s: f64,
    /// Robust relative noise `1.4826 MAD / median`.
    pub rel_noise: f64,
    /// Samples taken.
    pub reps: usize,
    /// Calls per sample.
    pub inner: usize,
    /// Why sampling stopped.
    pub stop: Stop,
    /// FLOPs of one call ([`crate::flops`]).
    pub flops: u64,
    /// Bytes of one call ([`crate::bytes`]).
    pub bytes: u64,
    /// `flops / median_s / 1e9`.
    pub gflops: f64,
    /// `bytes / median_s / 1e9`.
    pub gbps: f64,
    /// `flops / bytes`.
    pub intensity: f64,
    /// `gflops / peak.compute_gflops * 100` (`None` without a peak).
    pub pct_peak_compute: Option<f64>,
    /// `gbps / peak.bandwidth_gbps * 100`.
    pub pct_peak_bandwidth: Option<f64>,
    /// `min(peak compute, intensity * peak bandwidth)`, GFLOP/s.
    pub roofline_gflops: Option<f64>,
    /// `gflops / roofline_gflops * 100`.
    pub pct_roofline: Option<f64>,
    /// Seconds per call of every sample, in order.
    pub samples_s: Vec<f64>,
    /// Wall seconds per call (with sync) of every sample.
    pub wall_samples_s: Vec<f64>,
    /// The named baseline, when one was asked for and ran.
    pub baseline: Option<BaselineRecord>,
    /// Why the requested baseline did not run for this row (it does not
    /// apply to the op, failed, or was refused as the candidate's own kernel).
    #[serde(default)]
    pub baseline_error: Option<String>,
    /// The most device memory (bytes) the backend held during one warm call,
    /// operands included (`Instruments::memory_peak`); `None` when it does not track it.
    #[serde(default)]
    pub peak_device_bytes: Option<u64>,
    /// Operand sets the calls took in turn (`--cold`, [`crate::Prepared::go_cold`]):
    /// each call read its operands from device memory, not from a cache an
    /// earlier call filled. `None`: every call reused the same operands.
    #[serde(default)]
    pub cold_sets: Option<usize>,
    /// Bytes of those operand sets together (`--cold`): at least
    /// [`crate::COLD_BYTES`] unless [`crate::COLD_MAX_SETS`] capped the sets.
    #[serde(default)]
    pub cold_bytes: Option<u64>,
}

/// The baseline a result was compared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineRecord {
    /// `--baseline` name (`cpu`, `composed`, `gemm`).
    pub name: String,
    /// Kernel identity, checked to differ from the candidate's.
    pub kernel: String,
    /// Timer of the baseline's samples.
    pub timing: TimingMode,
    /// Wall seconds of the baseline's first call.
    pub first_call_s: f64,
    /// Median seconds per call.
    pub median_s: f64,
    /// Samples, seconds per call.
    pub samples_s: Vec<f64>,
    /// `baseline median / candidate median`: above 1 the candidate is faster.
    pub speedup: f64,
}

/// A row that did not run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    /// Backend name.
    pub backend: String,
    /// The workload key (`matmul/f32/64x64x64`).
    pub key: String,
    /// Why.
    pub reason: String,
}

impl ResultRecord {
    /// The record of workload `w` measured as `m` on `backend` against `peak`.
    ///
    /// ```
    /// use hcal_bench::*;
    /// let w = Workload::new(Shape::parse(OpKind::Matmul, "100x100x100")?, hcal::DType::F32);
    /// let m = Measurement {
    ///     first_call_s: 0.5,
    ///     samples_s: vec![0.002, 0.001, 0.001],
    ///     wall_samples_s: vec![0.002, 0.001, 0.001],
    ///     inner: 1,
    ///     timing: TimingMode::Wall,
    ///     stop: Stop::Stable,
    /// };
    /// let peak = Peak {
    ///     compute_gflops: 10.0,
    ///     compute_method: "test".into(),
    ///     bandwidth_gbps: 1.0,
    ///     bandwidth_method: "test".into(),
    ///     timing: TimingMode::Wall,
    ///     fma_probes: 7,
    ///     fma_probe_flops: 1 << 26,
    ///     launch_us: Some(40.0),
    /// };
    /// let r = ResultRecord::new(&w, "cpu", "cli", "", 1.0, None, &m, Some(&peak));
    /// assert_eq!(r.gflops, 2.0); // 2e6 FLOPs in 1 ms
    /// assert_eq!(r.pct_peak_compute, Some(20.0));
    /// assert_eq!(r.roofline_gflops, Some(10.0)); // intensity 16.7 FLOP/B x 1 GB/s > 10
    /// # Ok::<(), hcal_bench::SpecError>(())
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        w: &Workload,
        backend: &str,
        suite: &str,
        label: &str,
        scale: f64,
        kernel: Option<String>,
        m: &Measurement,
        peak: Option<&Peak>,
    ) -> ResultRecord {
        let s = Summary::of(&m.samples_s).unwrap_or(Summary {
            n: 0,
            median: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
            mean: f64::NAN,
            mad: f64::NAN,
            rel_noise: f64::NAN,
        });
        let (f, b) = (flops(w), bytes(w));
        let gflops = f as f64 / s.median / 1e9;
        let gbps = b as f64 / s.median / 1e9;
        let ai = intensity(w);
        let roof = peak.map(|p| roofline(p.compute_gflops, p.bandwidth_gbps, ai));
        ResultRecord {
            op: w.op(),
            backend: backend.to_string(),
            dtype: w.dtype,
            shape: w.shape.to_string(),
            causal: w.causal,
            kv_heads: w.kv_heads,
            suite: suite.to_string(),
            label: label.to_string(),
            scale,
            kernel,
            timing: m.timing,
            first_call_s: m.first_call_s,
            median_s: s.median,
            min_s: s.min,
            max_s: s.max,
            mean_s: s.mean,
            rel_noise: s.rel_noise,
            reps: s.n,
            inner: m.inner,
            stop: m.stop,
            flops: f,
            bytes: b,
            gflops,
            gbps,
            intensity: ai,
            pct_peak_compute: peak.map(|p| 100.0 * gflops / p.compute_gflops),
            pct_peak_bandwidth: peak.map(|p| 100.0 * gbps / p.bandwidth_gbps),
            roofline_gflops: roof,
            pct_roofline: roof.map(|r| 100.0 * gflops / r),
            samples_s: m.samples_s.clone(),
            wall_samples_s: m.wall_samples_s.clone(),
            baseline: None,
            baseline_error: None,
            peak_device_bytes: None,
            cold_sets: None,
            cold_bytes: None,
        }
    }

    /// Recompute the "% of peak" and roofline fields against `peak` (the
    /// device's final peak, once probes between rows may have raised it).
    pub fn set_peak(&mut self, peak: &Peak) {
        let roof = roofline(peak.compute_gflops, peak.bandwidth_gbps, self.intensity);
        self.pct_peak_compute = Some(100.0 * self.gflops / peak.compute_gflops);
        self.pct_peak_bandwidth = Some(100.0 * self.gbps / peak.bandwidth_gbps);
        self.roofline_gflops = Some(roof);
        self.pct_roofline = Some(100.0 * self.gflops / roof);
    }

    /// Whether the result reads above its device's measured FMA peak (the
    /// probe was no ceiling for this kernel: a faster instruction form, or
    /// the host ran faster during the row than during every probe).
    pub fn above_peak(&self) -> bool {
        self.pct_peak_compute.is_some_and(|p| p > 100.0)
    }

    /// The comparison key: `backend` then the workload key
    /// (`cpu matmul/f32/64x64x64`, `... -kv8-causal`), and `-cold` for a
    /// row measured with cold operands ([`ResultRecord::cold_sets`]).
    pub fn key(&self) -> String {
        let mut key = format!("{} {}/{}/{}", self.backend, self.op, self.dtype, self.shape);
        if let Some(kv) = self.kv_heads {
            key += &format!("-kv{kv}");
        }
        if self.causal {
            key += "-causal";
        }
        // Cold and warm times of a row are different measurements.
        if self.cold_sets.is_some() {
            key += "-cold";
        }
        key
    }

    /// Relative standard error of the median (`rel_noise / sqrt(reps)`).
    pub fn rel_error(&self) -> f64 {
        self.rel_noise / (self.reps.max(1) as f64).sqrt()
    }
}

impl BenchRun {
    /// An empty run stamped with this build and machine.
    pub fn new(command: Vec<String>, policy: RepPolicy) -> BenchRun {
        BenchRun {
            kind: KIND.into(),
            schema_version: SCHEMA_VERSION,
            hcal_version: env!("CARGO_PKG_VERSION").into(),
            git_revision: env!("HCAL_GIT_REVISION").into(),
            build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.into(),
            created_unix_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            host: Host::current(),
            command,
            policy,
            devices: Vec::new(),
            results: Vec::new(),
            skipped: Vec::new(),
            interrupted: false,
        }
    }

    /// The device record of `backend`.
    pub fn device(&self, backend: &str) -> Option<&DeviceRecord> {
        self.devices.iter().find(|d| d.backend == backend)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a bench run always serializes")
    }

    /// Parse a bench document, checking `kind` and `schema_version`.
    ///
    /// # Errors
    /// A message naming what is wrong (not JSON, another kind, a newer schema).
    pub fn from_json(text: &str) -> Result<BenchRun, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("kind").and_then(|k| k.as_str()) {
            Some(KIND) => {}
            Some(other) => return Err(format!("a {other:?} document, not a bench run")),
            None => return Err("no top-level \"kind\" field; not an hcal document".into()),
        }
        let version = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0);
        if version > u64::from(SCHEMA_VERSION) {
            return Err(format!("schema_version {version} is newer than this hcal understands ({SCHEMA_VERSION})"));
        }
        serde_json::from_value(value).map_err(|e| format!("not a valid bench document: {e}"))
    }

    /// One CSV line per result, with a header; fields containing a comma or
    /// quote are quoted (RFC 4180).
    pub fn to_csv(&self) -> String {
        const HEADER: &str = "backend,op,dtype,shape,causal,kv_heads,suite,label,scale,kernel,timing,\
first_call_s,median_s,min_s,max_s,rel_noise,reps,inner,flops,bytes,gflops,gbps,intensity,\
pct_peak_compute,peak_gflops,pct_peak_bandwidth,peak_gbps,pct_roofline,baseline,baseline_median_s,speedup,\
peak_device_bytes,cold_sets,cold_bytes";
        let mut out = String::from(HEADER);
        out.push('\n');
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
        for r in &self.results {
            let peak = self.device(&r.backend).and_then(|d| d.peak.as_ref());
            let fields = [
                r.backend.clone(),
                r.op.to_string(),
                r.dtype.to_string(),
                r.shape.clone(),
                r.causal.to_string(),
                r.kv_heads.map_or(String::new(), |k| k.to_string()),
                r.suite.clone(),
                r.label.clone(),
                r.scale.to_string(),
                r.kernel.clone().unwrap_or_default(),
                r.timing.to_string(),
                r.first_call_s.to_string(),
                r.median_s.to_string(),
                r.min_s.to_string(),
                r.max_s.to_string(),
                r.rel_noise.to_string(),
                r.reps.to_string(),
                r.inner.to_string(),
                r.flops.to_string(),
                r.bytes.to_string(),
                r.gflops.to_string(),
                r.gbps.to_string(),
                r.intensity.to_string(),
                opt(r.pct_peak_compute),
                opt(peak.map(|p| p.compute_gflops)),
                opt(r.pct_peak_bandwidth),
                opt(peak.map(|p| p.bandwidth_gbps)),
                opt(r.pct_roofline),
                r.baseline.as_ref().map_or(String::new(), |b| b.name.clone()),
                opt(r.baseline.as_ref().map(|b| b.median_s)),
                opt(r.baseline.as_ref().map(|b| b.speedup)),
                r.peak_device_bytes.map_or(String::new(), |b| b.to_string()),
                r.cold_sets.map_or(String::new(), |n| n.to_string()),
                r.cold_bytes.map_or(String::new(), |n| n.to_string()),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out += &line.join(",");
            out.push('\n');
        }
        out
    }
}

/// `f` quoted when it holds a comma, quote or line break.
fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.to_string() }
}
