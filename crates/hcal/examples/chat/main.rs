//! Chat with a GGUF Llama-architecture model through hcal ops:
//!
//! ```sh
//! cargo run --release -p hcal --example chat -- --gguf SmolLM2-135M-Instruct.Q4_1.gguf \
//!     --backend wgpu:vulkan:0 --chat --prompt "What is the capital of France?"
//! ```
//!
//! The prompt is raw text with special tokens (`<|im_start|>` ...) parsed;
//! `--chat` applies the GGUF's chat template to it as a user message.
//! Greedy decoding, streamed; then load, prefill and decode times on stderr.
//! `--teacher-force ID,ID,...` feeds that continuation instead and records
//! the model's own argmax at each step; `--prompt-tokens N` repeats the
//! prompt's tokens to exactly N (a long prompt for prefill throughput);
//! `--json FILE` writes the run (`-` for stdout); `--profile` prints where
//! the time went, op by op (prefill and decode apart); the summary counts the
//! device commands (dispatches, copies) per decode step where the backend
//! does (`Instruments::commands_recorded`); `--warmup` runs the
//! prompt once untimed first, so kernel compilation is not timed.

use std::io::Write;
use std::time::Instant;

use clap::Parser;
use hcal_gguf::{ChatTemplate, Message, Tokenizer};
use hcal_llm::Steps;

#[derive(Parser)]
struct Args {
    /// The GGUF file.
    #[arg(long, alias = "model")]
    gguf: std::path::PathBuf,
    /// Backend name (see `hcal devices`).
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// The prompt: raw text (special tokens parsed), or with `--chat` the user's message.
    #[arg(long, default_value = "What is the capital of France?")]
    prompt: String,
    /// Format the prompt as a user message with the GGUF's chat template.
    #[arg(long)]
    chat: bool,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 32)]
    max_tokens: usize,
    /// Feed these token ids after the prompt (comma-separated) and record the model's argmax at each.
    #[arg(long, value_delimiter = ',')]
    teacher_force: Option<Vec<u32>>,
    /// Repeat the prompt's tokens to exactly this many (prefill throughput).
    #[arg(long)]
    prompt_tokens: Option<usize>,
    /// Write the run as JSON to this file (`-`: stdout).
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Print the token ids too.
    #[arg(long)]
    ids: bool,
    /// Time every op (synced one by one) and print the table.
    #[arg(long)]
    profile: bool,
    /// Run the prompt and two decode steps once, untimed, first: the timed
    /// run then excludes one-time costs (the driver compiling each kernel
    /// on first use, buffer pools filling).
    #[arg(long)]
    warmup: bool,
}

/// Bad input (a corrupt GGUF, an unknown backend, a device error) is one
/// `error:` line and exit status 2.
fn main() -> std::process::ExitCode {
    match chat(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn chat(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let gguf = hcal_llm::open_gguf(&args.gguf)?;
    let in_file = |e: hcal_gguf::GgufError| format!("{}: {e}", args.gguf.display());
    let tokenizer = Tokenizer::from_gguf(&gguf).map_err(in_file)?;
    let text = if args.chat {
        ChatTemplate::from_gguf(&gguf).map_err(in_file)?.format(&[Message::new("user", args.prompt.clone())], true)
    } else {
        args.prompt.clone()
    };
    let mut prompt = tokenizer.encode(&text);
    if let Some(n) = args.prompt_tokens {
        if prompt.is_empty() {
            return Err("--prompt-tokens needs a non-empty prompt".into());
        }
        prompt = prompt.iter().copied().cycle().take(n).collect();
    }
    let (device, profile) = if args.profile {
        let (wrapped, profile) = hcal::profile::Profiled::new(hcal::open(&args.backend)?);
        (hcal::Device::new(Box::new(wrapped)), Some(profile))
    } else {
        (hcal::Device::open(&args.backend)?, None)
    };
    let forced = args.teacher_force.as_deref();
    let steps = forced.map_or(args.max_tokens, <[u32]>::len);
    let start = Instant::now();
    let model = hcal_llm::Model::load(&device, &gguf, prompt.len() + steps + 1)?;
    device.sync()?;
    let load_s = start.elapsed().as_secs_f64();
    let stop = tokenizer.token_id("<|im_end|>");
    if args.warmup {
        hcal_llm::run(&model, &prompt, Steps { max_new: 3, stop: None, forced: None }, |_| {}, |_| {})?;
        if let Some(p) = &profile {
            p.clear();
        }
    }
    let mut stream = tokenizer.stream_decoder();
    // The profile of the prompt's pass is taken when its logits arrive.
    let mut prefill_table = None;
    // Device commands recorded when each step's logits arrive: the first
    // after the prompt, the rest one per decode step.
    let commands = || device.backend().instruments().and_then(|i| i.commands_recorded());
    let mut at_logits: Vec<Option<u64>> = Vec::new();
    let mut print = |t: u32| {
        if Some(t) != stop {
            print!("{}", stream.push(t));
            let _ = std::io::stdout().flush();
        }
    };
    // Greedy replies on GPUs pick each token on the device and queue the
    // next step before reading it back (`hcal_llm::greedy`); on CPU drivers,
    // under teacher forcing and in the profile (which times each op), every
    // step's logits come back (`hcal_llm::run`).
    let generation = if forced.is_none() && profile.is_none() && hcal_llm::overlaps_steps(&device) {
        hcal_llm::greedy(&model, &prompt, args.max_tokens, stop, |t| {
            at_logits.push(commands());
            print(t);
        })?
    } else {
        hcal_llm::run(&model, &prompt, Steps { max_new: args.max_tokens, stop, forced }, &mut print, |_| {
            at_logits.push(commands());
            if let Some(p) = profile.as_ref().filter(|_| prefill_table.is_none()) {
                prefill_table = Some(p.report());
                p.clear();
            }
        })?
    };
    println!("{}", stream.finish());
    let decoded = generation.tokens.len().saturating_sub(1);
    let prefill_tok_s = prompt.len() as f64 / generation.prefill_s.max(1e-9);
    let decode_tok_s = decoded as f64 / generation.decode_s.max(1e-9);
    let peak = device.backend().instruments().and_then(|i| i.memory_peak());
    // Commands per decode step: from the prompt's logits to the last step's.
    let commands_per_step = match (at_logits.first(), at_logits.last()) {
        (Some(&Some(first)), Some(&Some(last))) if at_logits.len() > 1 => {
            Some((last - first) as f64 / (at_logits.len() - 1) as f64)
        }
        _ => None,
    };
    eprintln!(
        "{}: load {load_s:.2} s; prefill {} tokens in {:.2} s ({prefill_tok_s:.1} tok/s); decode {decoded} tokens in {:.2} s ({decode_tok_s:.1} tok/s); {}; peak device memory {}",
        device.info().backend,
        prompt.len(),
        generation.prefill_s,
        generation.decode_s,
        commands_per_step
            .map_or("device commands not counted".into(), |c| format!("{c:.0} device commands per decode step")),
        peak.map_or("not reported".into(), |b| format!("{:.1} MB", b as f64 / 1e6)),
    );
    if !args.warmup && device.info().device_type != hcal::DeviceType::Cpu {
        // A first run's rates hold every kernel's compilation (seconds on
        // software drivers), which reads as a slow backend.
        eprintln!("(the times include compiling each kernel at its first use; --warmup leaves that out)");
    }
    if let (Some(table), Some(p)) = (prefill_table, &profile) {
        eprintln!("profile, prefill:\n{table}profile, decode:\n{}", p.report());
    }
    if args.ids {
        println!("prompt ids: {prompt:?}");
        println!("reply ids: {:?}", generation.tokens);
        println!("argmax: {:?}", generation.argmax);
    }
    if let Some(path) = &args.json {
        let report = serde_json::json!({
            "backend": device.info().backend,
            "gguf": args.gguf,
            "prompt_tokens": prompt,
            "generated_tokens": generation.tokens,
            "argmax": generation.argmax,
            "teacher_forced": forced.is_some(),
            "warmup": args.warmup,
            "text": tokenizer.decode(&generation.tokens.iter().copied().filter(|&t| Some(t) != stop).collect::<Vec<_>>()),
            "load_s": load_s,
            "prefill_s": generation.prefill_s,
            "prefill_tok_s": prefill_tok_s,
            "decode_s": generation.decode_s,
            "decoded_tokens": decoded,
            "decode_tok_s": decode_tok_s,
            "decode_commands_per_step": commands_per_step,
            "peak_device_bytes": peak,
            "weight_bytes": model.weight_bytes(),
            "kv_cache_bytes": model.kv_cache_bytes(prompt.len() + steps),
        });
        let text = serde_json::to_string_pretty(&report)?;
        if path.as_os_str() == "-" {
            println!("{text}");
        } else {
            std::fs::write(path, text + "\n")?;
        }
    }
    Ok(())
}
