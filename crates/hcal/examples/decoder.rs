//! A Llama-style decoder on any hcal backend, with safetensors weights.
//!
//! ```sh
//! cargo run --release -p hcal --example decoder -- --backend cpu --backend wgpu:vulkan:0
//! cargo run --release -p hcal --example decoder -- --write-weights model.safetensors --config 100m
//! cargo run --release -p hcal --example decoder -- --weights model.safetensors --no-check
//! ```
//!
//! For each backend: load the weights, prefill a random prompt, decode token
//! by token reusing the KV cache, and print prefill and decode tokens/s. With
//! the check on (the default) the same model first runs on the cpu
//! reference, tracking a per-logit error bound propagated from the
//! conformance tolerance model, and every backend is replayed on the
//! reference's tokens and must keep each logit within its bound.
//!
//! The model is in `decoder/model.rs`, the bound in `decoder/bounds.rs`, the
//! comparison in `decoder/check.rs`; `tests/decoder.rs` shares them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use hcal::Device;

#[path = "decoder/check.rs"]
mod check;
#[path = "decoder/model.rs"]
mod model;
#[path = "decoder/tolerance.rs"]
mod tolerance;

use check::Reference;
use model::{Config, Decoder, Generation, Result, Rng, Weights, generate, write_random_weights};

/// Run a Llama-style decoder built from hcal ops on one or more backends.
#[derive(Parser)]
#[command(name = "decoder")]
struct Args {
    /// Backend to run (repeat for several); `all` runs cpu and every wgpu adapter.
    #[arg(long = "backend", value_name = "NAME", default_value = "all")]
    backends: Vec<String>,

    /// Safetensors model file. Without it a random model of --config is
    /// written to the temp directory (once) and loaded from there.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,

    /// Write a random-weight model of --config to FILE and exit.
    #[arg(long, value_name = "FILE")]
    write_weights: Option<PathBuf>,

    /// Model size for --write-weights and for the default model.
    #[arg(long, default_value = "small", value_parser = ["small", "100m"])]
    config: String,

    /// Prompt tokens (random, from --seed).
    #[arg(long, default_value_t = 16)]
    prompt_len: usize,

    /// Decode steps after the prefill.
    #[arg(long, default_value_t = 16)]
    steps: usize,

    /// Seed of the random weights and prompt.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Skip the comparison with the cpu reference (only the benchmark).
    #[arg(long)]
    no_check: bool,

    /// Perturbed reference runs the logits' bound is estimated from.
    #[arg(long, default_value_t = 64)]
    probes: usize,

    /// Wait for every op of the timed run and print where the time went.
    #[arg(long)]
    profile: bool,

    /// Untimed runs per backend before the timed one (pipeline builds, autotuning).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("decoder: {e}");
            ExitCode::from(2)
        }
    }
}

/// `Ok(false)` when a backend's logits left their bound.
fn run(args: Args) -> Result<bool> {
    let config = Config::by_name(&args.config)?;
    if let Some(path) = &args.write_weights {
        write_random_weights(path, &config, args.seed)?;
        println!("wrote {} ({}, {:.2} M parameters)", path.display(), args.config, config.param_count() as f64 / 1e6);
        return Ok(true);
    }
    let path = match &args.weights {
        Some(path) => path.clone(),
        None => {
            let path = std::env::temp_dir().join(format!("hcal-decoder-{}-seed{}.safetensors", args.config, args.seed));
            if !path.exists() {
                write_random_weights(&path, &config, args.seed)?;
            }
            path
        }
    };
    let start = Instant::now();
    let weights = Weights::load(&path)?;
    let c = &weights.config;
    println!(
        "model {}: {:.2} M parameters, {} layers, width {}, {}/{} heads of {}, vocab {} (read in {:.2} s)",
        path.display(),
        c.param_count() as f64 / 1e6,
        c.num_layers,
        c.hidden_size,
        c.num_heads,
        c.num_kv_heads,
        c.head_dim(),
        c.vocab_size,
        start.elapsed().as_secs_f64()
    );
    let prompt = Rng::new(args.seed ^ 0x5EED).tokens(args.prompt_len, c.vocab_size);
    println!("prompt {} tokens, {} decode steps, f32", prompt.len(), args.steps);

    let reference = if args.no_check {
        None
    } else {
        let start = Instant::now();
        let reference = Reference::run(&weights, &prompt, args.steps, args.probes)?;
        println!(
            "reference: cpu, and {} perturbed runs for the bound ({:.1} x their RMS deviation), in {:.2} s",
            reference.probes,
            tolerance::factor(reference.probes),
            start.elapsed().as_secs_f64()
        );
        Some(reference)
    };

    let names: Vec<String> =
        if args.backends.iter().any(|b| b == "all") { hcal::available_backends() } else { args.backends.clone() };
    let mut all_passed = true;
    println!(
        "\n{:<16} {:>9} {:>14} {:>13}  check against the cpu reference",
        "backend", "load s", "prefill tok/s", "decode tok/s"
    );
    for name in &names {
        let (device, profile) = if args.profile {
            let (backend, profile) = hcal::profile::Profiled::new(hcal::open(name)?);
            (Device::new(Box::new(backend)), Some(profile))
        } else {
            (Device::open(name)?, None)
        };
        let start = Instant::now();
        let decoder = Decoder::new(&device, &weights)?;
        let load_s = start.elapsed().as_secs_f64();
        let timed = |decoder: &Decoder| -> Result<Generation> {
            match &reference {
                Some(r) => r.replay(decoder),
                None => generate(decoder, &prompt, args.steps, None),
            }
        };
        for _ in 0..args.warmup {
            timed(&decoder)?;
        }
        if let Some(profile) = &profile {
            profile.clear();
        }
        let run = timed(&decoder)?;
        let prefill = prompt.len() as f64 / run.prefill_s;
        let decode = if args.steps > 0 { args.steps as f64 / run.decode_s } else { f64::NAN };
        let verdict = match &reference {
            Some(r) => {
                let agreement = r.compare(&run);
                all_passed &= agreement.passed();
                agreement.to_string()
            }
            None => "skipped (--no-check)".to_string(),
        };
        println!("{name:<16} {load_s:>9.2} {prefill:>14.1} {decode:>13.1}  {verdict}");
        if let Some(profile) = &profile {
            let rows = profile.rows();
            let total: f64 = rows.iter().map(|r| r.2).sum();
            println!("  profile of the timed run (each op synced): {total:.3} s in ops");
            for (key, calls, secs) in rows.iter().take(12) {
                println!("  {:>6.1}% {secs:>8.4} s {calls:>5} x {key}", 100.0 * secs / total);
            }
        }
    }
    Ok(all_passed)
}
