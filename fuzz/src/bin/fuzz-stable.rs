//! Run a fuzz target on stable Rust, without libFuzzer: random byte strings
//! and mutations (bit flips, byte edits, splices) of a seed corpus, each run
//! under `catch_unwind`. No coverage feedback, so it explores less than
//! `cargo +nightly fuzz run`; it needs no nightly toolchain or sanitizer.
//!
//! ```text
//! cargo run --release --manifest-path fuzz/Cargo.toml --bin fuzz-stable -- \
//!     op_validation --seconds 60 [--seed 1] [--keep-last] [CORPUS_DIR_OR_FILE ...]
//! ```
//!
//! Prints the executions and the panics found; each panicking input is saved
//! under `fuzz/artifacts/<target>/stable-crash-<n>` (replay it with
//! `cargo +nightly fuzz run <target> <file>` or this runner with the file's
//! folder as corpus). Exits 1 when something panicked. An abort (a failed
//! allocation) or a crash (a segfault in a plugin the host misled) ends the
//! run; with `--keep-last` every input is first written to
//! `fuzz/artifacts/<target>/last-input`, which then holds the one that did it.
//! The release profile of this crate keeps overflow checks on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn random_bytes(rng: &mut Rng) -> Vec<u8> {
    let len = [8, 32, 128, 1024, 8192][rng.below(5)];
    (0..rng.below(len + 1)).map(|_| rng.next() as u8).collect()
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)];
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            4 if !other.is_empty() => {
                let (i, j) = (rng.below(v.len() + 1), rng.below(other.len()));
                let take = rng.below(other.len() - j + 1);
                v.splice(i..i, other[j..j + take].iter().copied());
            }
            _ => v.truncate(rng.below(v.len() + 1)),
        }
    }
    v
}

/// Every file under `dirs`, recursively (an ONNX node-test folder seeds
/// with its models and tensors), up to 1 MiB each.
fn corpus(dirs: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(entries) => stack.extend(entries.flatten().map(|e| e.path())),
                Err(e) => eprintln!("warning: cannot read corpus folder {}: {e}", path.display()),
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.len() <= 1 << 20
        {
            out.push(bytes);
        }
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: fuzz-stable <op_validation|onnx_model|onnx_tensor|plugin_abi|gguf_reader> [--seconds N] [--seed S] \
                 [--keep-last] [CORPUS_DIR ...]";
    let Some(name) = args.next() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Some(&(_, target)) = hcal_fuzz::TARGETS.iter().find(|(n, _)| *n == name) else {
        eprintln!("unknown target {name:?}; {usage}");
        std::process::exit(2);
    };
    let (mut seconds, mut seed, mut dirs, mut keep_last) = (60u64, 1u64, Vec::new(), false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(seconds),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(seed),
            "--keep-last" => keep_last = true,
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    let seeds = corpus(&dirs);
    // Panics are counted, not printed one by one.
    std::panic::set_hook(Box::new(|_| {}));
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts").join(&name);
    let mut rng = Rng(seed);
    let (start, limit) = (Instant::now(), Duration::from_secs(seconds));
    let (mut execs, mut crashes) = (0u64, 0u64);
    while start.elapsed() < limit {
        for _ in 0..64 {
            let input = if seeds.is_empty() || rng.below(4) == 0 {
                random_bytes(&mut rng)
            } else {
                let (a, b) = (&seeds[rng.below(seeds.len())], &seeds[rng.below(seeds.len())]);
                mutate(&mut rng, a, b)
            };
            execs += 1;
            if keep_last {
                let _ = std::fs::create_dir_all(&artifacts);
                let _ = std::fs::write(artifacts.join("last-input"), &input);
            }
            if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
                crashes += 1;
                let _ = std::fs::create_dir_all(&artifacts);
                let path = artifacts.join(format!("stable-crash-{crashes}"));
                let _ = std::fs::write(&path, &input);
                eprintln!("panic #{crashes}: input saved to {}", path.display());
            }
        }
    }
    println!(
        "{name}: {execs} executions in {:.0} s ({} seeds), {crashes} panics",
        start.elapsed().as_secs_f64(),
        seeds.len()
    );
    if crashes > 0 {
        std::process::exit(1);
    }
}
