//! The decoder example's model (`examples/decoder/`) on every backend: the
//! small config's logits for the prefill and 16 decode steps must agree with
//! the cpu reference within the bound `examples/decoder/tolerance.rs`
//! derives from the conformance tolerance model.
//!
//! Without a GPU adapter the wgpu part is skipped with a message, unless
//! `HCAL_REQUIRE_ADAPTER=1` (CI), where a missing adapter fails.

#[path = "../examples/decoder/check.rs"]
mod check;
#[path = "../examples/decoder/model.rs"]
mod model;
#[path = "../examples/decoder/tolerance.rs"]
mod tolerance;

use std::path::PathBuf;

use hcal::{Backend, BackendWrapper, Call, Op, UnaryOp};

use check::Reference;
use model::{Config, Decoder, Rng, Weights, write_random_weights};

const STEPS: usize = 16;
const PROBES: usize = 64;

/// A random small model written to and read back from a safetensors file.
fn small_weights(tag: &str) -> Weights {
    let path = std::env::temp_dir().join(format!("hcal-decoder-test-{tag}-{}.safetensors", std::process::id()));
    write_random_weights(&path, &Config::small(), 7).unwrap();
    let weights = Weights::load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    weights
}

fn prompt(config: &Config) -> Vec<u32> {
    Rng::new(11).tokens(8, config.vocab_size)
}

fn wgpu_backends() -> Vec<String> {
    let names: Vec<String> = hcal::available_backends().into_iter().filter(|n| n.starts_with("wgpu:")).collect();
    if names.is_empty() {
        if std::env::var("HCAL_REQUIRE_ADAPTER").is_ok_and(|v| v == "1") {
            panic!("HCAL_REQUIRE_ADAPTER=1 but no wgpu adapter was found");
        }
        eprintln!("SKIP wgpu part: no GPU adapter on this machine (set HCAL_REQUIRE_ADAPTER=1 to fail instead)");
    }
    names
}

#[test]
fn weights_round_trip_through_safetensors() {
    let weights = small_weights("round-trip");
    let config = Config::small();
    assert_eq!(weights.config, config);
    assert_eq!(weights.tensors.len(), config.tensor_shapes().len());
    for (name, shape) in config.tensor_shapes() {
        assert_eq!(weights.tensors[&name].shape, shape, "{name}");
    }
    let params: usize = weights.tensors.values().map(|t| t.data.len()).sum();
    assert_eq!(params, config.param_count());

    let m100 = Config::by_name("100m").unwrap();
    assert_eq!(m100.param_count(), 99_496_704); // "about 100 M"
    assert!(Config::by_name("7b").is_err());

    let path: PathBuf = std::env::temp_dir().join(format!("hcal-decoder-test-bad-{}.safetensors", std::process::id()));
    std::fs::write(&path, b"not a safetensors file").unwrap();
    assert!(Weights::load(&path).is_err());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn small_decoder_logits_agree_with_the_reference_on_every_backend() {
    let weights = small_weights("agree");
    let prompt = prompt(&weights.config);
    let reference = Reference::run(&weights, &prompt, STEPS, PROBES).unwrap();
    assert_eq!((reference.probes, reference.generation.host_logits.len()), (PROBES, 1 + STEPS));
    assert_eq!(reference.generation.host_logits[0].len(), prompt.len() * weights.config.vocab_size);

    // The cpu backend replays the reference bit for bit.
    let cpu = Decoder::new(&hcal::Device::open("cpu").unwrap(), &weights).unwrap();
    let agreement = reference.compare(&reference.replay(&cpu).unwrap());
    assert!(agreement.passed() && agreement.max_error == 0.0, "cpu: {agreement}");

    for name in wgpu_backends() {
        let decoder = Decoder::new(&hcal::Device::open(&name).unwrap(), &weights).unwrap();
        let agreement = reference.compare(&reference.replay(&decoder).unwrap());
        eprintln!("{name}: {agreement}");
        assert!(agreement.passed(), "{name}: {agreement}");
    }
}

/// The cpu reference with Silu outputs 0.1% off: a device whose one op is
/// that far outside its conformance bound (an `exp` good to 10 bits).
struct SloppySilu(Box<dyn Backend>);

impl BackendWrapper for SloppySilu {
    fn inner(&self) -> &dyn Backend {
        &*self.0
    }

    fn execute(&self, call: &Call<'_>) -> hcal::Result<()> {
        self.0.execute(call)?;
        if call.op() == &Op::Unary(UnaryOp::Silu) {
            let y = call.output(0).expect("Silu has one output");
            let skewed: Vec<u8> = self
                .0
                .read(y)?
                .chunks_exact(4)
                .flat_map(|c| (f32::from_le_bytes([c[0], c[1], c[2], c[3]]) * 1.001).to_le_bytes())
                .collect();
            self.0.write(y, &skewed)?;
        }
        Ok(())
    }
}

#[test]
fn the_check_catches_one_op_outside_its_bound() {
    let weights = small_weights("teeth");
    let prompt = prompt(&weights.config);
    let reference = Reference::run(&weights, &prompt, STEPS, PROBES).unwrap();
    let device = hcal::Device::new(Box::new(SloppySilu(hcal::open("cpu").unwrap())));
    let decoder = Decoder::new(&device, &weights).unwrap();
    let agreement = reference.compare(&reference.replay(&decoder).unwrap());
    eprintln!("sloppy Silu: {agreement}");
    assert!(!agreement.passed(), "a 0.1% Silu error went unnoticed: {agreement}");
}
