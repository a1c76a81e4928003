//! Decode speed of two backends measured side by side in one process:
//!
//! ```sh
//! cargo run --release -p hcal --example decode_ab -- --gguf SmolLM2-135M-Instruct.Q4_1.gguf \
//!     --backend wgpu:vulkan:0 --baseline wgpu:vulkan:0:qgemv=64x1
//! ```
//!
//! The model is loaded on both backends (two names of one adapter with
//! different pins, or two adapters). Each runs the prompt and a few steps
//! untimed, so kernel compilation is not timed. Then their decode steps
//! alternate, ABBA: in each pair of steps the first backend to run swaps.
//! Each step is what a chat pays per token: the forward pass, the logits read
//! back, the host's argmax, which feeds that backend's next step. A host that
//! drifts (clock, neighbours, thermal state) then slows both alike. Runs of
//! whole chats, one after the other, differ by up to 2x on a small VM, and
//! comparisons made that way need many rounds.
//!
//! The output gives, per backend, the median and mean milliseconds per step
//! and tokens/s; the ratio of the medians; and how often the candidate's
//! step was the faster of the pair. It also gives the first step at which
//! the two generated different tokens: different kernels may round
//! differently, so a divergence is reported, not an error, and the steps
//! after it run different tokens (the same work per step).

use std::time::Instant;

use clap::Parser;
use hcal_gguf::Tokenizer;

#[derive(Parser)]
struct Args {
    /// The GGUF file.
    #[arg(long, alias = "model")]
    gguf: std::path::PathBuf,
    /// The candidate backend (see `hcal devices`; pins such as `:qgemv=16x4` included).
    #[arg(long)]
    backend: String,
    /// The backend it is compared with.
    #[arg(long)]
    baseline: String,
    /// The prompt (raw text, special tokens parsed).
    #[arg(long, default_value = "Write a short poem about the sea.")]
    prompt: String,
    /// Decode steps timed on each backend.
    #[arg(long, default_value_t = 96)]
    steps: usize,
}

/// Bad input (a corrupt GGUF, an unknown backend, a device error) is one
/// `error:` line and exit status 2.
fn main() -> std::process::ExitCode {
    match compare(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

/// One backend's model, cache and the token it feeds next.
struct Side {
    name: String,
    model: hcal_llm::Model,
    cache: hcal_llm::KvCache,
    next: u32,
    tokens: Vec<u32>,
    ms: Vec<f64>,
}

impl Side {
    /// Load the model on `name`, run the prompt, then `warm` steps untimed.
    fn new(name: &str, gguf: &hcal_gguf::Gguf, prompt: &[u32], positions: usize) -> hcal_llm::Result<Self> {
        let device = hcal::Device::open(name)?;
        let model = hcal_llm::Model::load(&device, gguf, positions)?;
        // Warm-up on a throwaway cache: compiles every kernel the steps use.
        let mut warm = model.new_cache()?;
        let logits = model.forward_last(prompt, &mut warm)?.to_f32()?;
        model.forward_last(&[hcal_llm::argmax(&logits)], &mut warm)?.to_f32()?;
        let mut cache = model.new_cache()?;
        let next = hcal_llm::argmax(&model.forward_last(prompt, &mut cache)?.to_f32()?);
        Ok(Self { name: name.to_string(), model, cache, next, tokens: vec![next], ms: Vec::new() })
    }

    /// One timed decode step: forward, logits read back, argmax.
    fn step(&mut self) -> hcal_llm::Result<()> {
        let start = Instant::now();
        let logits = self.model.forward_last(&[self.next], &mut self.cache)?.to_f32()?;
        self.next = hcal_llm::argmax(&logits);
        self.ms.push(start.elapsed().as_secs_f64() * 1e3);
        self.tokens.push(self.next);
        Ok(())
    }

    fn median(&self) -> f64 {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    fn report(&self) -> String {
        let (median, mean) = (self.median(), self.ms.iter().sum::<f64>() / self.ms.len() as f64);
        format!("{}: median {median:.2} ms/step ({:.2} tok/s), mean {mean:.2} ms", self.name, 1e3 / median)
    }
}

fn compare(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.steps == 0 {
        return Err("--steps must be at least 1".into());
    }
    let gguf = hcal_llm::open_gguf(&args.gguf)?;
    let tokenizer = Tokenizer::from_gguf(&gguf).map_err(|e| format!("{}: {e}", args.gguf.display()))?;
    let prompt = tokenizer.encode(&args.prompt);
    if prompt.is_empty() {
        return Err("the prompt encodes to no tokens".into());
    }
    let positions = prompt.len() + args.steps + 2;
    eprintln!("loading the model on {} and {} ...", args.backend, args.baseline);
    let mut sides =
        [Side::new(&args.backend, &gguf, &prompt, positions)?, Side::new(&args.baseline, &gguf, &prompt, positions)?];
    eprintln!("{} prompt tokens; {} decode steps each, alternated ABBA", prompt.len(), args.steps);
    for pair in 0..args.steps {
        let order = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            sides[i].step()?;
        }
    }
    let [candidate, baseline] = &sides;
    let faster = candidate.ms.iter().zip(&baseline.ms).filter(|(c, b)| c < b).count();
    println!("{}", candidate.report());
    println!("{}", baseline.report());
    println!(
        "{} vs {}: {:.3}x by the medians; faster in {faster} of {} pairs of steps",
        candidate.name,
        baseline.name,
        baseline.median() / candidate.median(),
        args.steps
    );
    match candidate.tokens.iter().zip(&baseline.tokens).position(|(c, b)| c != b) {
        None => println!("the same {} tokens on both", candidate.tokens.len()),
        Some(i) => println!("the tokens differ from step {i} on (different roundings; the work per step is the same)"),
    }
    Ok(())
}
