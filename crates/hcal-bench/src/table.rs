//! Terminal tables of results, peaks and comparisons.

use crate::compare::{Comparison, Verdict};
use crate::schema::BenchRun;

/// Seconds with a unit that keeps 3-4 significant digits.
///
/// ```
/// assert_eq!(hcal_bench::format_seconds(0.0123), "12.30 ms");
/// assert_eq!(hcal_bench::format_seconds(2.5e-6), "2.50 us");
/// assert_eq!(hcal_bench::format_seconds(1.5), "1.500 s");
/// ```
pub fn format_seconds(s: f64) -> String {
    if !s.is_finite() {
        "-".into()
    } else if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.2} us", s * 1e6)
    }
}

/// A value with 3 significant digits or so.
fn num(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Columns padded to their widest cell; `right[i]` right-aligns column `i`.
fn render(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i].saturating_sub(c.chars().count());
                if right.get(i).copied().unwrap_or(false) {
                    format!("{}{c}", " ".repeat(pad))
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out += &line(row.clone());
    }
    out
}

/// Bytes in binary units with 3-4 significant digits.
///
/// ```
/// assert_eq!(hcal_bench::format_bytes(3 << 20), "3.00 MiB");
/// assert_eq!(hcal_bench::format_bytes(200 << 20), "200 MiB");
/// assert_eq!(hcal_bench::format_bytes(512), "512 B");
/// ```
pub fn format_bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{b} B") } else { format!("{} {}", num(v), units[u]) }
}

/// Each attention row's GFLOP/s as a share of the fastest f32 matmul row of
/// the same backend in this run (empty when a backend lacks either).
fn attention_vs_matmul(run: &BenchRun) -> String {
    use crate::spec::OpKind;
    let mut out = String::new();
    for d in &run.devices {
        let rows = run.results.iter().filter(|r| r.backend == d.backend);
        let best = rows
            .clone()
            .filter(|r| r.op == OpKind::Matmul && r.dtype == hcal::DType::F32 && r.gflops.is_finite())
            .max_by(|a, b| a.gflops.total_cmp(&b.gflops));
        let Some(best) = best else { continue };
        let attention: Vec<_> = rows.filter(|r| r.op == OpKind::Attention).collect();
        if attention.is_empty() {
            continue;
        }
        out += &format!(
            "attention vs matmul on {} (matmul {} f32 {} GFLOP/s, the fastest in this run):\n",
            d.backend,
            best.shape,
            num(best.gflops)
        );
        for r in attention {
            let causal = if r.causal { " causal" } else { "" };
            let kv = r.kv_heads.map_or(String::new(), |k| format!(" kv{k}"));
            out += &format!(
                "  {} {}{kv}{causal}: {} GFLOP/s = {:.0}% of matmul\n",
                r.dtype,
                r.shape,
                num(r.gflops),
                100.0 * r.gflops / best.gflops
            );
        }
    }
    out
}

/// The results table, then the peaks every "% peak" was divided by.
pub fn results_table(run: &BenchRun) -> String {
    let header = [
        "backend",
        "op",
        "dtype",
        "shape",
        "label",
        "timer",
        "first call",
        "median",
        "min",
        "max",
        "noise",
        "GFLOP/s",
        "GB/s",
        "FLOP/B",
        "% peak FLOP/s",
        "% roofline",
        "peak mem",
        "vs baseline",
    ];
    let right = [
        false, false, false, false, false, false, true, true, true, true, true, true, true, true, true, true, true,
        false,
    ];
    let rows: Vec<Vec<String>> = run
        .results
        .iter()
        .map(|r| {
            let mut shape = r.shape.clone();
            if let Some(kv) = r.kv_heads {
                shape += &format!(" kv{kv}");
            }
            if r.causal {
                shape += " causal";
            }
            if r.cold_sets.is_some() {
                shape += " cold";
            }
            let peak = run.device(&r.backend).and_then(|d| d.peak.as_ref());
            let pct = match (r.pct_peak_compute, peak) {
                (Some(p), Some(peak)) if p > 100.0 => format!("{p:.1}% of {} ABOVE", num(peak.compute_gflops)),
                (Some(p), Some(peak)) => format!("{p:.1}% of {}", num(peak.compute_gflops)),
                _ => "-".into(),
            };
            vec![
                r.backend.clone(),
                r.op.to_string(),
                r.dtype.to_string(),
                shape,
                r.label.clone(),
                r.timing.to_string(),
                format_seconds(r.first_call_s),
                format_seconds(r.median_s),
                format_seconds(r.min_s),
                format_seconds(r.max_s),
                format!("{:.1}%", r.rel_noise * 100.0),
                num(r.gflops),
                num(r.gbps),
                num(r.intensity),
                pct,
                r.pct_roofline.map_or("-".into(), |p| format!("{p:.1}%")),
                r.peak_device_bytes.map_or("-".into(), format_bytes),
                match (&r.baseline, &r.baseline_error) {
                    (Some(b), _) => format!("{:.2}x vs {}", b.speedup, b.name),
                    (None, Some(e)) if e.starts_with("refused") => "refused: same kernel".into(),
                    (None, Some(_)) => "n/a".into(),
                    (None, None) => String::new(),
                },
            ]
        })
        .collect();
    let mut out = render(&header, &rows, &right);
    out += "\npeaks measured on each device (\"% peak FLOP/s\" divides GFLOP/s by the first, \
\"% roofline\" by min(first, FLOP/B x second)):\n";
    for d in &run.devices {
        match &d.peak {
            Some(p) => {
                out += &format!(
                    "  {}: {} GFLOP/s  [{}, {} timer; {}]\n",
                    d.backend,
                    num(p.compute_gflops),
                    p.compute_method,
                    p.timing,
                    crate::peak::how_taken(p)
                );
                out += &format!("  {}: {} GB/s  [{}]\n", d.backend, num(p.bandwidth_gbps), p.bandwidth_method);
                if let Some(us) = p.launch_us {
                    out += &format!(
                        "  {}: {} us per op launched  [{} dependent {}-element Adds, one sync; wall clock, best of {}]\n",
                        d.backend,
                        num(us),
                        crate::peak::LAUNCH_OPS,
                        crate::peak::LAUNCH_ELEMENTS,
                        crate::peak::LAUNCH_REPS
                    );
                }
            }
            None => out += &format!("  {}: not measured (--no-peak)\n", d.backend),
        }
    }
    let above: Vec<String> =
        run.results.iter().filter(|r| r.above_peak()).map(|r| format!("  {}\n", r.key())).collect();
    if !above.is_empty() {
        out += "results ABOVE their device's measured FMA peak (the probe is no ceiling for them: a faster \
instruction form than the probe's, or a faster host during the row than during every probe):\n";
        out += &above.concat();
    }
    out += &cold_operands(run);
    out += &launch_bound(run);
    out += &attention_vs_matmul(run);
    let mut baselines: Vec<String> = run
        .results
        .iter()
        .filter_map(|r| r.baseline.as_ref().map(|b| format!("  {} {}: {}\n", r.backend, r.shape, b.kernel)))
        .collect();
    baselines.dedup();
    if !baselines.is_empty() {
        out += "baseline kernels (each checked to differ from the candidate's):\n";
        out += &baselines.concat();
    }
    if run.results.iter().any(|r| r.baseline.as_ref().is_some_and(|b| b.name == "copy")) {
        out += "vs copy: the copy's time over the row's, each launch included: the share of the bandwidth \
roofline at the row's size (a copy of its bytes in one launch) the row reaches, where % roofline divides by a \
64 MiB copy's\n";
    }
    out
}

/// The comparison table and a one-line summary.
pub fn comparison_table(rows: &[Comparison]) -> String {
    let header = ["row", "base", "new", "new/base", "noise band", "verdict"];
    let right = [false, true, true, true, true, false];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            let verdict = match c.verdict {
                Verdict::Regression => "REGRESSION",
                Verdict::Improvement => "improvement",
                Verdict::Same => "same",
                Verdict::New => "new",
                Verdict::Missing => "missing",
            };
            vec![
                c.key.clone(),
                c.base_s.map_or("-".into(), format_seconds),
                c.new_s.map_or("-".into(), format_seconds),
                c.ratio.map_or("-".into(), |r| format!("{r:.3}")),
                c.band.map_or("-".into(), |b| format!("+/-{:.1}%", b * 100.0)),
                if c.kernel_changed { format!("{verdict} (kernel changed)") } else { verdict.to_string() },
            ]
        })
        .collect();
    let mut out = render(&header, &cells, &right);
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    out += &format!(
        "compare: {} regressions, {} improvements, {} same, {} new, {} missing\n",
        count(Verdict::Regression),
        count(Verdict::Improvement),
        count(Verdict::Same),
        count(Verdict::New),
        count(Verdict::Missing)
    );
    out
}

/// The lines saying which rows ran with cold operands (`--cold`), through
/// how many operand sets, and which rows the set cap kept under
/// [`crate::COLD_BYTES`] (a large cache may hold theirs). Empty when none ran cold.
fn cold_operands(run: &BenchRun) -> String {
    let sets: Vec<usize> = run.results.iter().filter_map(|r| r.cold_sets).collect();
    let (Some(lo), Some(hi)) = (sets.iter().min(), sets.iter().max()) else { return String::new() };
    let range = if lo == hi { format!("{lo}") } else { format!("{lo}-{hi}") };
    let mut out = format!(
        "cold operands (--cold): {} of {} rows took each call's operands from the next of {range} operand sets \
(at least {} MiB together unless named below), so no call found them in a cache an earlier call filled\n",
        sets.len(),
        run.results.len(),
        crate::COLD_BYTES >> 20
    );
    for r in &run.results {
        if let (Some(n), Some(bytes)) = (r.cold_sets, r.cold_bytes)
            && bytes < crate::COLD_BYTES as u64
        {
            out += &format!(
                "  {}: only {} in {n} sets (the cap): a large cache may hold them\n",
                r.key(),
                format_bytes(bytes)
            );
        }
    }
    out
}

/// A row whose median is under this many launch costs of its device is
/// called launch-bound.
pub const LAUNCH_BOUND_FACTOR: f64 = 3.0;

/// The footer listing rows whose median is under [`LAUNCH_BOUND_FACTOR`]
/// times their device's launch cost (`Peak::launch_us`), with the launch
/// cost as a share of the median. In a model's chain of such ops the launch
/// cost is much of each op's time; where the timed pass holds it (CPU
/// drivers hand each dispatch to their worker threads inside it), it also
/// caps the row's "% of peak" whatever the kernel does. Empty without such
/// rows or without launch costs.
fn launch_bound(run: &BenchRun) -> String {
    let launch = |backend: &str| {
        run.devices.iter().find(|d| d.backend == backend).and_then(|d| d.peak.as_ref()).and_then(|p| p.launch_us)
    };
    let rows: Vec<String> = run
        .results
        .iter()
        .filter_map(|r| {
            let us = launch(&r.backend)?;
            let median_us = r.median_s * 1e6;
            (median_us < LAUNCH_BOUND_FACTOR * us).then(|| {
                format!(
                    "  {}: median {} us, launch {} us ({:.0}%)\n",
                    r.key(),
                    num(median_us),
                    num(us),
                    100.0 * us / median_us
                )
            })
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "launch-bound rows (median under {LAUNCH_BOUND_FACTOR}x the device's launch cost per op: in a chain of such \
ops that cost is much of each op's time, and where the timed pass holds it, as on CPU drivers, it caps the \
row's % of peak whatever the kernel does):\n{}",
        rows.concat()
    )
}
