//! # hcal-bench: how close each backend gets to its chip's limit
//!
//! The library behind `hcal bench` and `hcal report`. Design choices:
//!
//! - **Workloads are data** ([`Workload`]: op, [`Shape`] parsed from a SPEC
//!   such as `256x256x256` or `1x32x512x128`, dtype, causal, GQA), grouped in
//!   [`Suite`]s: a square sweep and one transformer layer of real LLM configs
//!   ([`LLAMA3_8B`], [`QWEN25_7B`], [`SMOLLM2_135M`]) in prefill and decode,
//!   scaled down by `--scale` for slow devices ([`default_scale`]; a model
//!   already small keeps its size, [`Suite::default_scale`]).
//! - **Models, not kernels, define the work**: [`flops`] (matmul `2MNK`,
//!   attention `4·B·H·D·pairs` with only visible pairs counted under a causal
//!   mask) and [`bytes`] (inputs read once, outputs written once), so every
//!   backend is scored on the same numerator.
//! - **Time the device, not the queue** ([`measure`]): the first call is timed
//!   apart (pipeline build), then warm-up, then samples until the median's
//!   relative standard error is 1% or a cap ([`RepPolicy`]); each sample uses
//!   the backend's device timer ([`hcal::Instruments::begin_timing`]) where it has
//!   one, the wall clock around the work and a `sync()` otherwise.
//! - **% of a measured peak** ([`peak::measure`]): FMA throughput and copy
//!   bandwidth measured on the device with [`hcal::Instruments::run_probe`], or on
//!   the host for backends without probes (and the report says which).
//! - **Baselines are checked** ([`check_baseline_differs`]): a speedup is only
//!   reported against a kernel whose identity ([`kernel_identity`]) differs
//!   from the candidate's.
//! - **Self-describing results** ([`BenchRun`], `"kind": "bench"`): device,
//!   driver, hcal version, git revision, kernel variant and every sample;
//!   [`compare`] flags regressions beyond a noise band, [`html::render`]
//!   merges runs from many machines into one page.
//!
//! ```
//! use hcal_bench::{measure, Prepared, RepPolicy, ResultRecord, Shape, OpKind, Workload};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = hcal::Device::open("cpu")?;
//! let w = Workload::new(Shape::parse(OpKind::Matmul, "32x32x32")?, hcal::DType::F32);
//! let p = Prepared::new(&device, &w)?;
//! let policy = RepPolicy { max_reps: 5, ..RepPolicy::quick() };
//! let m = measure(&device, &policy, || p.call())?;
//! let r = ResultRecord::new(&w, "cpu", "cli", "", 1.0, None, &m, None);
//! assert_eq!(r.flops, 2 * 32 * 32 * 32);
//! assert!(r.gflops > 0.0 && r.reps >= 1);
//! # Ok(()) }
//! ```

mod baseline;
mod compare;
mod estimate;
pub mod host;
pub mod html;
mod model;
pub mod peak;
mod runner;
mod schema;
mod spec;
mod stats;
mod suite;
mod table;

pub use baseline::{Baseline, PreparedBaseline, check_baseline_differs, kernel_identity};
pub use compare::{CompareOptions, Comparison, Verdict, compare, has_regression, noise_band};
pub use estimate::{Estimate, estimate};
pub use host::{host_copy_gbps, host_fma_gflops};
pub use model::{attention_pairs, bytes, flops, intensity, roofline};
pub use peak::Peak;
pub use runner::{
    COLD_BYTES, COLD_MAX_SETS, Measurement, Prepared, TimingMode, first_call, measure, measure_after_first,
    measure_pair, time_region,
};
pub use schema::{BaselineRecord, BenchRun, DeviceRecord, Host, KIND, ResultRecord, SCHEMA_VERSION, Skipped};
pub use spec::{OpKind, Shape, SpecError, Workload, parse_dtype};
pub use stats::{RepPolicy, Stop, Summary};
pub use suite::{
    DECODE_CONTEXT, LLAMA3_8B, ModelConfig, PREFILL_TOKENS, Phase, QWEN25_7B, SMOLLM2_135M, SQUARE_MAX, Suite,
    default_scale,
};
pub use table::{comparison_table, format_bytes, format_seconds, results_table};
