//! Chat with a GGUF Llama-architecture model through hcal ops:
//!
//! ```sh
//! cargo run --release -p hcal-llm --example chat -- --model SmolLM2-135M-Instruct.Q4_1.gguf \
//!     --backend cpu --prompt "What is the capital of France?"
//! ```
//!
//! Prints the reply as it is generated, then prefill and decode tokens/s, and
//! with `--ids` the prompt and reply token ids (to compare with llama.cpp).

use std::io::Write;

use clap::Parser;
use hcal_gguf::{ChatTemplate, Message, Tokenizer};

#[derive(Parser)]
struct Args {
    /// The GGUF file.
    #[arg(long)]
    model: std::path::PathBuf,
    /// Backend name (see `hcal devices`).
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// The user's message.
    #[arg(long, default_value = "What is the capital of France?")]
    prompt: String,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 32)]
    max_tokens: usize,
    /// Print the token ids too.
    #[arg(long)]
    ids: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let gguf = hcal_llm::open_gguf(&args.model)?;
    let tokenizer = Tokenizer::from_gguf(&gguf)?;
    let template = ChatTemplate::from_gguf(&gguf)?;
    let text = template.format(&[Message::new("user", args.prompt.clone())], true);
    let prompt = tokenizer.encode(&text);
    let device = hcal::Device::open(&args.backend)?;
    let model = hcal_llm::Model::load(&device, &gguf, prompt.len() + args.max_tokens + 1)?;
    let stop = tokenizer.token_id("<|im_end|>");
    let mut stream = tokenizer.stream_decoder();
    let (reply, prefill_s, decode_s) = hcal_llm::generate(&model, &prompt, args.max_tokens, stop, |t| {
        if Some(t) != stop {
            print!("{}", stream.push(t));
            let _ = std::io::stdout().flush();
        }
    })?;
    println!("{}", stream.finish());
    eprintln!(
        "{}: prefill {} tokens in {:.2} s ({:.1} tok/s), decode {} tokens in {:.2} s ({:.1} tok/s)",
        device.info().backend,
        prompt.len(),
        prefill_s,
        prompt.len() as f64 / prefill_s,
        reply.len(),
        decode_s,
        reply.len().saturating_sub(1) as f64 / decode_s.max(1e-9)
    );
    if args.ids {
        println!("prompt ids: {prompt:?}");
        println!("reply ids: {reply:?}");
    }
    Ok(())
}
