//! Expansion of the `// TEMPLATE` shaders (`matmul_tiled.wgsl`,
//! `matmul_texture.wgsl`, `attention_flash.wgsl`): register tiles written
//! once with `$tokens` and unrolled here into named values, because on SIMD
//! CPU drivers (lavapipe) loop-indexed private arrays live in memory while
//! named values stay in registers.

use std::fmt::Write as _;

/// How to expand one template.
pub(crate) struct Expansion<'a> {
    /// Tokens replaced everywhere first (`$RR` -> `16`).
    pub(crate) constants: &'a [(&'a str, u32)],
    /// Per-line repeats, outermost first: a line holding `$r` is emitted once
    /// per r in `0..n`, with `$r` replaced.
    pub(crate) repeats: &'a [(&'a str, u32)],
    /// Block repeats: a run of consecutive lines holding the token is emitted
    /// as a block once per index in `0..n`, so each step's values die before
    /// the next step's are made (emitting every step of one line first kept
    /// all steps' values live and spilled them).
    pub(crate) blocks: &'a [(&'static str, u32)],
}

/// Expand `text`; `block_tokens(token, index)` gives the replacements of a
/// block's index (the token itself and any tokens derived from it, longest
/// first).
pub(crate) fn expand(
    text: &str,
    e: &Expansion<'_>,
    block_tokens: impl Fn(&'static str, u32) -> Vec<(&'static str, String)>,
) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| e.constants.iter().fold(line.to_string(), |l, (token, v)| l.replace(token, &v.to_string())))
        .collect();
    let mut out = String::with_capacity(text.len() * 8);
    let mut i = 0;
    while i < lines.len() {
        match e.blocks.iter().find(|(token, _)| lines[i].contains(token)) {
            None => {
                emit(&mut out, &lines[i], e.repeats);
                i += 1;
            }
            Some(&(token, count)) => {
                let run = lines[i..].iter().take_while(|l| l.contains(token)).count();
                for n in 0..count {
                    let subs = block_tokens(token, n);
                    for line in &lines[i..i + run] {
                        let line = subs.iter().fold(line.clone(), |l, (t, v)| l.replace(t, v));
                        emit(&mut out, &line, e.repeats);
                    }
                }
                i += run;
            }
        }
    }
    out
}

/// Emit `line` once per combination of the repeat tokens it holds.
fn emit(out: &mut String, line: &str, repeats: &[(&str, u32)]) {
    match repeats.split_first() {
        None => {
            let _ = writeln!(out, "{line}");
        }
        Some((&(token, n), rest)) => {
            let count = if line.contains(token) { n } else { 1 };
            for v in 0..count {
                emit(out, &line.replace(token, &v.to_string()), rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_repeat_per_token_and_blocks_per_step() {
        let text = "let n = $NNu;\nvar a$r_$c = 0.0;\nlet x$j = $j;\na$r_$c += x$j;\nend";
        let e = Expansion { constants: &[("$NN", 3)], repeats: &[("$r", 2), ("$c", 2)], blocks: &[("$j", 2)] };
        let got = expand(text, &e, |_, j| vec![("$j", j.to_string())]);
        let want = "let n = 3u;\nvar a0_0 = 0.0;\nvar a0_1 = 0.0;\nvar a1_0 = 0.0;\nvar a1_1 = 0.0;\n\
let x0 = 0;\na0_0 += x0;\na0_1 += x0;\na1_0 += x0;\na1_1 += x0;\n\
let x1 = 1;\na0_0 += x1;\na0_1 += x1;\na1_0 += x1;\na1_1 += x1;\nend\n";
        assert_eq!(got, want);
    }
}
