//! The real SmolLM2-135M-Instruct on every wgpu adapter (lavapipe, GL), its
//! Q4_1/Q8_0 weights read packed by the quantized kernels:
//!
//! - its greedy reply to "What is the capital of France?" is the independent
//!   numpy oracle's, token for token (`common::PARIS`);
//! - its logits for a short prompt and two teacher-forced steps agree with
//!   the cpu reference's within the bound the conformance tolerance model
//!   gives, carried through the model as the decoder example does
//!   (`crates/hcal/examples/decoder/tolerance.rs`): the reference is rerun
//!   [`PROBES`] times with every op output moved by `+-` its conformance
//!   bound (random signs), and each logit's bound is `factor(PROBES)` times
//!   the root mean square of its deviations (a false alarm per logit below
//!   1e-9 under the model's independence assumption). Nothing is tuned to
//!   the data, and a backend whose one op breaks its bound fails (the
//!   decoder test shows the check's teeth).
//!
//! The model file and adapters as `common::model_path` and
//! `HCAL_REQUIRE_ADAPTER=1` say. The logits test is slow on the f64 cpu
//! reference (14.4 minutes for a 4-token prompt and two steps on a loaded
//! 2-core host: 0 of 294,912 logits outside their bound on lavapipe and GL),
//! so it runs with `--ignored`.

#[path = "../../hcal/examples/decoder/tolerance.rs"]
#[allow(dead_code)]
mod tolerance;

/// The random generator `tolerance.rs` draws its signs from (the decoder
/// example's SplitMix64).
mod model {
    pub struct Rng(u64);

    impl Rng {
        pub fn new(seed: u64) -> Self {
            Self(seed)
        }

        pub fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }
}

mod common;

use hcal_gguf::{Gguf, Tokenizer};
use hcal_llm::Steps;

/// Perturbed reference runs the logit bounds are estimated from (16 is the
/// fewest at which `tolerance::factor` is finite: 44 times the spread).
const PROBES: usize = 16;

fn wgpu_adapters() -> Vec<String> {
    let names: Vec<String> = hcal::available_backends().into_iter().filter(|n| n.starts_with("wgpu:")).collect();
    if names.is_empty() {
        assert!(
            !std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1"),
            "HCAL_REQUIRE_ADAPTER=1 but no wgpu adapter was found"
        );
        eprintln!("skipped: no wgpu adapter");
    }
    names
}

/// Every step's logits of `prompt` then `forced` (teacher-forced) on `device`.
fn logits(device: &hcal::Device, gguf: &Gguf, prompt: &[u32], forced: &[u32]) -> Vec<Vec<f32>> {
    let model = hcal_llm::Model::load(device, gguf, prompt.len() + forced.len() + 1).unwrap();
    let mut all = Vec::new();
    let steps = Steps { forced: Some(forced), ..Steps::default() };
    hcal_llm::run(&model, prompt, steps, |_| {}, |l| all.push(l.to_vec())).unwrap();
    all
}

#[test]
fn the_wgpu_adapters_answer_paris_token_for_token() {
    let Some(path) = common::model_path() else { return };
    let gguf = hcal_llm::open_gguf(&path).unwrap();
    let prompt = common::chat_prompt(&gguf, "What is the capital of France?");
    let stop = Tokenizer::from_gguf(&gguf).unwrap().token_id("<|im_end|>");
    for name in wgpu_adapters() {
        let device = hcal::Device::open(&name).unwrap();
        let model = hcal_llm::Model::load(&device, &gguf, prompt.len() + 9).unwrap();
        let (reply, _, _) = hcal_llm::generate(&model, &prompt, 8, stop, |_| {}).unwrap();
        assert_eq!(reply, common::PARIS, "{name}: the numpy oracle's greedy reply");
        // A CPU driver's device is the host's cores: no overlapped steps there.
        let software = device.info().device_type == hcal::DeviceType::SoftwareGpu;
        assert_eq!(hcal_llm::overlaps_steps(&device), !software, "{name}: {:?}", device.info().device_type);
        // Pipelined: each step's token chosen on the device, the next step
        // queued before the host waits for it (GPUs' default, not lavapipe's).
        let mut streamed = Vec::new();
        let g = hcal_llm::greedy(&model, &prompt, 8, stop, |t| streamed.push(t)).unwrap();
        assert_eq!(g.tokens, common::PARIS, "{name}: pipelined");
        assert_eq!((&streamed, &g.argmax), (&g.tokens, &g.tokens), "{name}: pipelined");
        // Fewer tokens than the reply: it stops at the count.
        let g = hcal_llm::greedy(&model, &prompt, 3, stop, |_| {}).unwrap();
        assert_eq!(g.tokens, common::PARIS[..3], "{name}: three tokens");
    }
}

#[test]
#[ignore = "about 15 minutes: 17 runs of the f64 cpu reference; run with --ignored"]
fn wgpu_logits_agree_with_the_reference_within_the_tolerance_model() {
    let Some(path) = common::model_path() else { return };
    let adapters = wgpu_adapters();
    if adapters.is_empty() {
        return;
    }
    let gguf = hcal_llm::open_gguf(&path).unwrap();
    let tokenizer = Tokenizer::from_gguf(&gguf).unwrap();
    let prompt = tokenizer.encode("The capital of France is");
    assert_eq!(prompt.len(), 5);
    let prompt = &prompt[..4];
    // The cpu's greedy run: its logits are the reference, its tokens the
    // continuation every other run is fed (teacher forcing).
    let cpu = hcal::Device::open("cpu").unwrap();
    let model = hcal_llm::Model::load(&cpu, &gguf, prompt.len() + 4).unwrap();
    let mut reference = Vec::new();
    let steps = Steps { max_new: 3, ..Steps::default() };
    let forced = hcal_llm::run(&model, prompt, steps, |_| {}, |l| reference.push(l.to_vec())).unwrap().tokens;
    assert_eq!(reference.len(), 3, "the prompt's logits and two steps'");
    let mut sum_sq: Vec<Vec<f64>> = reference.iter().map(|l| vec![0.0; l.len()]).collect();
    for probe in 0..PROBES {
        let perturbed = hcal::Device::new(Box::new(tolerance::Perturbed::new(0xC0FFEE + probe as u64)));
        let run = logits(&perturbed, &gguf, prompt, &forced);
        for ((acc, want), got) in sum_sq.iter_mut().zip(&reference).zip(&run) {
            for ((a, &w), &g) in acc.iter_mut().zip(want).zip(got) {
                *a += (f64::from(g) - f64::from(w)).powi(2);
            }
        }
    }
    let k = tolerance::factor(PROBES);
    let bounds: Vec<Vec<f64>> =
        sum_sq.iter().map(|acc| acc.iter().map(|s| k * (s / PROBES as f64).sqrt()).collect()).collect();
    for name in adapters {
        let got = logits(&hcal::Device::open(&name).unwrap(), &gguf, prompt, &forced);
        assert_eq!(got.len(), reference.len(), "{name}: steps");
        let (mut worst, mut at, mut violations, mut max_err) = (0.0f64, (0, 0), 0, 0.0f64);
        for (step, ((want, got), bound)) in reference.iter().zip(&got).zip(&bounds).enumerate() {
            for (i, ((&w, &g), &b)) in want.iter().zip(got).zip(bound).enumerate() {
                let err = (f64::from(g) - f64::from(w)).abs();
                max_err = max_err.max(err);
                let ratio = if err == 0.0 { 0.0 } else { err / b };
                let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
                violations += usize::from(ratio > 1.0);
                if ratio > worst {
                    (worst, at) = (ratio, (step, i));
                }
            }
        }
        let logits: usize = reference.iter().map(Vec::len).sum();
        let bound_at = bounds[at.0][at.1];
        eprintln!(
            "{name}: {violations} of {logits} logits outside their bound; max |err| {max_err:.3e}; max err/bound {worst:.3e} at step {} index {} (bound there {bound_at:.3e})",
            at.0, at.1
        );
        assert_eq!(violations, 0, "{name}: max err/bound {worst:.3} at step {} index {}", at.0, at.1);
    }
}
