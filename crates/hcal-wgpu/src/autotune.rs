//! Choosing a kernel variant per (adapter, shape class) by timing the candidates.
//!
//! The first call of a shape class builds each candidate's pipeline, warms it
//! up on a tiny problem (lavapipe compiles on the first dispatch), times one
//! run of it (wall clock around a submit-and-wait; the caller may time a
//! shortened problem), and keeps the fastest; later calls reuse the choice.
//! Tuning stops adding candidates when one more as costly as the costliest so
//! far would overrun [`BUDGET`], so a first call stays bounded.
//! `HCAL_AUTOTUNE_LOG=1` prints each decision with its timings to stderr.
//! Choices persist per adapter in `$HCAL_CACHE_DIR` (default
//! `$XDG_CACHE_HOME/hcal` or `~/.cache/hcal`) as `autotune-<adapter>.txt`,
//! one `class variant` pair per line. `HCAL_AUTOTUNE=0` disables tuning: the
//! heuristic default variant is used, and nothing is timed or written.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most wall time the candidates of one shape class may take together.
pub(crate) const BUDGET: Duration = Duration::from_millis(800);

/// Remembered choices, by shape-class key, per backend name. Only what
/// tuning chose: choices pinned by a backend name live in `crate::pins::Pins`.
#[derive(Default)]
pub(crate) struct Autotuner {
    choices: Mutex<HashMap<String, HashMap<String, String>>>,
}

/// Whether tuning is enabled (`HCAL_AUTOTUNE` unset or not `0`/`off`).
pub(crate) fn enabled() -> bool {
    !matches!(std::env::var("HCAL_AUTOTUNE").as_deref(), Ok("0") | Ok("off") | Ok("false"))
}

fn cache_file(backend: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("HCAL_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("hcal")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/hcal")))?;
    let safe: String = backend.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    Some(dir.join(format!("autotune-{safe}.txt")))
}

impl Autotuner {
    fn with_choices<T>(&self, backend: &str, f: impl FnOnce(&mut HashMap<String, String>) -> T) -> T {
        let mut all = self.choices.lock().unwrap_or_else(|p| p.into_inner());
        let choices = all.entry(backend.to_string()).or_insert_with(|| {
            // A missing or unreadable cache only costs a re-tune.
            let text = cache_file(backend).and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default();
            text.lines().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
        });
        f(choices)
    }

    /// The remembered variant of `class`, if tuned before.
    pub(crate) fn known(&self, backend: &str, class: &str) -> Option<String> {
        self.with_choices(backend, |c| c.get(class).cloned())
    }

    /// Remember (and persist) the variant of `class`.
    pub(crate) fn remember(&self, backend: &str, class: &str, variant: &str) {
        self.with_choices(backend, |c| {
            c.insert(class.to_string(), variant.to_string());
            if let Some(file) = cache_file(backend) {
                let mut lines: Vec<String> = c.iter().map(|(k, v)| format!("{k} {v}")).collect();
                lines.sort();
                // Best effort: a read-only cache directory only costs re-tuning.
                let _ = std::fs::create_dir_all(file.parent().unwrap_or(&file));
                let _ = std::fs::write(&file, lines.join("\n") + "\n");
            }
        });
    }
}

/// Print one tuning decision to stderr when `HCAL_AUTOTUNE_LOG` is set (to
/// anything but `0`): the shape class and each timed candidate, fastest first.
pub(crate) fn log(backend: &str, class: &str, timings: impl Iterator<Item = (String, f64)>) {
    if matches!(std::env::var("HCAL_AUTOTUNE_LOG").as_deref(), Err(_) | Ok("0")) {
        return;
    }
    let mut timings: Vec<(String, f64)> = timings.collect();
    timings.sort_by(|a, b| a.1.total_cmp(&b.1));
    let list: Vec<String> = timings.iter().map(|(n, s)| format!("{n} {:.2} ms", s * 1e3)).collect();
    eprintln!("hcal autotune {backend} {class}: {}", list.join(", "));
}

/// What [`pick`] asks of a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Build it and run it once on a tiny problem, untimed (some drivers
    /// compile a pipeline on its first dispatch).
    Prepare,
    /// The timed run.
    Time,
}

/// For each candidate: `run(v, Phase::Prepare)` untimed, then time one
/// `run(v, Phase::Time)`; stop adding candidates once another one as costly
/// as the costliest so far would overrun the budget.
/// Returns the fastest candidate and every timing taken.
pub(crate) fn pick<V: Copy, E>(
    candidates: &[V],
    mut run: impl FnMut(V, Phase) -> Result<(), E>,
) -> Result<(V, Vec<(V, f64)>), E> {
    let start = Instant::now();
    let mut timings = Vec::new();
    // The costliest candidate so far (build, warm-up and timed run): the next
    // one is only tried when that much still fits in the budget, so a first
    // call stays near BUDGET even when pipeline builds are slow.
    let mut costliest = Duration::ZERO;
    for &v in candidates {
        if !timings.is_empty() && start.elapsed() + costliest > BUDGET {
            break;
        }
        let began = Instant::now();
        run(v, Phase::Prepare)?;
        let t = Instant::now();
        run(v, Phase::Time)?;
        timings.push((v, t.elapsed().as_secs_f64()));
        costliest = costliest.max(began.elapsed());
    }
    let best = timings.iter().min_by(|a, b| a.1.total_cmp(&b.1)).map(|t| t.0).unwrap_or(candidates[0]);
    Ok((best, timings))
}
