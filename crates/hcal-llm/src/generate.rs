//! Greedy decoding and teacher forcing over a [`Model`]: the loop that feeds
//! a prompt, then one token per step, and reads each step's logits.

use crate::{Model, Result};

/// Index of the largest value (the first on ties): greedy decoding.
pub fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// What a [`run`] did: the tokens it fed or chose after the prompt, the
/// model's own greedy choice at each step, and the seconds it spent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Generation {
    /// Tokens after the prompt: the forced continuation, or the greedy reply.
    pub tokens: Vec<u32>,
    /// The model's argmax after the prompt and after each token of `tokens`
    /// but the last: `argmax[i]` is its prediction for `tokens[i]`.
    pub argmax: Vec<u32>,
    /// Seconds of the prompt's forward pass, logits read back included.
    pub prefill_s: f64,
    /// Seconds of the later steps, each with its logits read back.
    pub decode_s: f64,
}

/// What to run after the prompt: up to `max_new` greedy tokens, stopping
/// after `stop`; or, with `forced`, exactly that continuation (teacher
/// forcing), recording the model's own choices.
#[derive(Clone, Copy, Debug, Default)]
pub struct Steps<'a> {
    /// Most tokens to generate (ignored with `forced`).
    pub max_new: usize,
    /// The end-of-turn token, after which generation stops.
    pub stop: Option<u32>,
    /// A continuation to feed instead of the model's choices.
    pub forced: Option<&'a [u32]>,
}

/// Prefill `prompt`, then the steps `steps` asks for, calling `on_token`
/// with each token after the prompt as it is fed or chosen, and `on_logits`
/// with each step's next-token logits (`[vocab]`: after the prompt's last
/// token, then after each fed token; see [`Model::forward_last`]).
///
/// # Errors
/// As [`Model::forward`].
pub fn run(
    model: &Model,
    prompt: &[u32],
    steps: Steps<'_>,
    mut on_token: impl FnMut(u32),
    mut on_logits: impl FnMut(&[f32]),
) -> Result<Generation> {
    let vocab = model.config().vocab_size;
    let mut cache = model.new_cache()?;
    let start = std::time::Instant::now();
    let logits = model.forward_last(prompt, &mut cache)?.to_f32()?;
    let mut out = Generation { prefill_s: start.elapsed().as_secs_f64(), ..Generation::default() };
    on_logits(&logits);
    out.argmax.push(argmax(&logits[logits.len() - vocab..]));
    let total = steps.forced.map_or(steps.max_new, <[u32]>::len);
    let start = std::time::Instant::now();
    while out.tokens.len() < total {
        let i = out.tokens.len();
        let next = steps.forced.map_or(out.argmax[i], |f| f[i]);
        out.tokens.push(next);
        on_token(next);
        let stopped = steps.forced.is_none() && Some(next) == steps.stop;
        if stopped || out.tokens.len() == total {
            break;
        }
        let logits = model.forward_last(&[next], &mut cache)?.to_f32()?;
        on_logits(&logits);
        out.argmax.push(argmax(&logits));
    }
    out.decode_s = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Greedy generation: prefill `prompt`, then up to `max_new` tokens, stopping
/// after `stop` (the end-of-turn token) when given. Returns the new tokens and
/// the seconds of prefill and of decode.
///
/// # Errors
/// As [`Model::forward`].
pub fn generate(
    model: &Model,
    prompt: &[u32],
    max_new: usize,
    stop: Option<u32>,
    on_token: impl FnMut(u32),
) -> Result<(Vec<u32>, f64, f64)> {
    let g = run(model, prompt, Steps { max_new, stop, forced: None }, on_token, |_| {})?;
    Ok((g.tokens, g.prefill_s, g.decode_s))
}
