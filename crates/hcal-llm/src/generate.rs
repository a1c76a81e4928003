//! Greedy decoding and teacher forcing over a [`Model`]: the loop that feeds
//! a prompt, then one token per step, and reads each step's logits.

use hcal::{DeviceTensor, PendingRead};

use crate::{LlmError, Model, Result};

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
/// the seconds of prefill and of decode: [`greedy`]'s pipelined steps where
/// [`overlaps_steps`] says they pay, else [`run`]'s.
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
    let g = if overlaps_steps(model.device()) {
        greedy(model, prompt, max_new, stop, on_token)?
    } else {
        run(model, prompt, Steps { max_new, stop, forced: None }, on_token, |_| {})?
    };
    Ok((g.tokens, g.prefill_s, g.decode_s))
}

/// [`run`]'s greedy generation (the same tokens; `argmax` equals `tokens`,
/// or holds the first choice alone when `max_new` is 0), pipelined: each
/// step's token is chosen on the device, and the step that consumes it is
/// queued before the host waits for it, so the device computes while the
/// host records the next step, and only the token (8 bytes) comes back per
/// step, not the logits.
///
/// After the prompt, each step's ArgMax ([`Model::greedy_token`]) is the
/// next step's input ([`Model::forward_token`]) on the device. The host
/// starts reading a step's token back ([`DeviceTensor::read_start`]),
/// queues the next step, then waits for the token. A stop token is so seen
/// one step late: one step more than the reply is computed, and dropped.
/// [`overlaps_steps`] says where this pays. Timing: `prefill_s` runs until
/// the first token is on the host; `decode_s` from then until the last.
///
/// ```no_run
/// # fn demo(model: &hcal_llm::Model, prompt: &[u32], end_of_turn: u32) -> hcal_llm::Result<()> {
/// let mut reply = Vec::new();
/// let g = if hcal_llm::overlaps_steps(model.device()) {
///     hcal_llm::greedy(model, prompt, 64, Some(end_of_turn), |t| reply.push(t))?
/// } else {
///     hcal_llm::run(model, prompt, hcal_llm::Steps { max_new: 64, stop: Some(end_of_turn), forced: None }, |t| reply.push(t), |_| {})?
/// };
/// assert_eq!(g.tokens, reply);
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`Model::forward`]; a token read back beyond the vocabulary.
pub fn greedy(
    model: &Model,
    prompt: &[u32],
    max_new: usize,
    stop: Option<u32>,
    mut on_token: impl FnMut(u32),
) -> Result<Generation> {
    let mut cache = model.new_cache()?;
    let start = std::time::Instant::now();
    let logits = model.forward_last(prompt, &mut cache)?;
    let next = model.greedy_token(&logits)?;
    let first = token_of(model, next.read_start()?)?;
    let mut out = Generation { prefill_s: start.elapsed().as_secs_f64(), argmax: vec![first], ..Generation::default() };
    if max_new == 0 {
        return Ok(out);
    }
    let start = std::time::Instant::now();
    out.tokens.push(first);
    on_token(first);
    // The step whose token is being read back: its token on the device and the read.
    let mut queued: Option<(DeviceTensor, PendingRead)> = None;
    let step = |token: &DeviceTensor, cache: &mut crate::KvCache| -> Result<(DeviceTensor, PendingRead)> {
        let next = model.greedy_token(&model.forward_token(token, cache)?)?;
        let read = next.read_start()?;
        Ok((next, read))
    };
    if Some(first) != stop && max_new > 1 {
        queued = Some(step(&next, &mut cache)?);
    }
    while let Some((token, read)) = queued.take() {
        // The step after this one goes to the device before the host waits.
        if out.tokens.len() + 1 < max_new {
            queued = Some(step(&token, &mut cache)?);
        }
        let t = token_of(model, read)?;
        out.tokens.push(t);
        out.argmax.push(t);
        on_token(t);
        if Some(t) == stop {
            break;
        }
    }
    out.decode_s = start.elapsed().as_secs_f64();
    Ok(out)
}

/// Whether [`greedy`]'s pipelined steps pay on `device`: on every device
/// but the host's own processor ([`hcal::DeviceType::Cpu`], and
/// [`hcal::DeviceType::SoftwareGpu`]: a CPU driver such as lavapipe). A CPU
/// driver's "device" is the host's cores, so a host thread recording the
/// next step takes them from the driver's workers, and each dispatch waits
/// for its slowest worker. On
/// lavapipe (2-vCPU VM, SmolLM2, 64 tokens, 5 alternated runs) pipelined
/// steps decoded at 23.8 / 26.3 / 26.9 / 26.2 / 29.3 tokens/s against 28.6
/// / 29.2 / 29.8 / 32.8 / 27.9 with [`run`], though recording a step took
/// 1.5 ms of its 32 while the device idled; choosing the token on the
/// device without the overlap was no faster either (13 alternated runs,
/// faster in 6). A GPU computes apart from the host, and there the overlap
/// hides the recording (not measured: no GPU here).
pub fn overlaps_steps(device: &hcal::Device) -> bool {
    !matches!(device.info().device_type, hcal::DeviceType::Cpu | hcal::DeviceType::SoftwareGpu)
}

/// The token a started read of a [`Model::greedy_token`] brings back.
fn token_of(model: &Model, read: PendingRead) -> Result<u32> {
    let bytes = read.wait()?;
    let id = bytes.get(..8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")));
    let vocab = model.config().vocab_size;
    match id {
        Some(id) if (0..vocab as i64).contains(&id) => Ok(id as u32),
        _ => Err(LlmError::Model(format!("the device's next token {id:?} is outside the vocabulary of {vocab}"))),
    }
}
