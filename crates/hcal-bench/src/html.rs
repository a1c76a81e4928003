//! `hcal report --html`: runs from any backends and machines merged into one
//! self-contained page, charts drawn by `plotters` as inline SVG (nothing is
//! fetched when the page is viewed).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;

use crate::schema::{BenchRun, ResultRecord};
use crate::table::format_seconds;

/// A run with the name it was loaded from (shown in the page).
pub struct NamedRun {
    /// File name or other label.
    pub source: String,
    /// The run.
    pub run: BenchRun,
}

/// One line on a chart: the results of one backend of one run.
struct Series<'a> {
    label: String,
    color: RGBColor,
    run: &'a BenchRun,
    backend: String,
}

impl<'a> Series<'a> {
    fn results(&self) -> impl Iterator<Item = &'a ResultRecord> + '_ {
        self.run.results.iter().filter(move |r| r.backend == self.backend)
    }
}

/// Every (run, backend) pair, labelled `backend (device)` plus `@host` when
/// the runs come from more than one machine.
fn series(runs: &[NamedRun]) -> Vec<Series<'_>> {
    let hosts: BTreeSet<&str> = runs.iter().map(|r| r.run.host.hostname.as_str()).collect();
    let mut out: Vec<Series<'_>> = Vec::new();
    for named in runs {
        for d in &named.run.devices {
            let mut label = format!("{} ({})", d.backend, d.info.name);
            if hosts.len() > 1 {
                label += &format!(" @{}", named.run.host.hostname);
            }
            if out.iter().any(|s| s.label == label) {
                label += &format!(" [{}]", named.source);
            }
            let color = Palette99::pick(out.len()).to_rgba();
            out.push(Series {
                label,
                color: RGBColor(color.0, color.1, color.2),
                run: &named.run,
                backend: d.backend.clone(),
            });
        }
    }
    out
}

/// Minimal HTML escaping for text and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A log axis range covering `values` with some margin.
fn log_range(values: impl Iterator<Item = f64>) -> Option<std::ops::Range<f64>> {
    let (lo, hi) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo <= hi).then(|| lo / 2.0..hi * 2.0)
}

/// The 1-2-5 ticks of a log axis over `range` (`0.1, 0.2, 0.5, 1, 2, 5, 10`),
/// so every decade has three labelled values to read a point against.
fn ticks_125(range: &std::ops::Range<f64>) -> Vec<f64> {
    let (lo, hi) = (range.start, range.end);
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    (first..=last).flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e))).filter(|v| (lo..=hi).contains(v)).collect()
}

/// A tick label with about three significant digits (`0.25`, `12.5`, `340`).
fn tick(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.1e}")
    }
}

/// Colour of a series as an HTML `#rrggbb`.
fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Throughput (GFLOP/s) against problem size (FLOPs per call) for one op and
/// suite, one colour per series. A sweep (`lines`) joins its points; the
/// rows of a model suite are different kernels of one layer, so they are
/// points labelled with the row name instead.
fn throughput_chart(
    title: &str,
    series: &[Series<'_>],
    pick: &dyn Fn(&ResultRecord) -> bool,
    lines: bool,
) -> Result<String, String> {
    let points: Vec<Vec<(f64, f64, String)>> = series
        .iter()
        .map(|s| {
            let mut p: Vec<(f64, f64, String)> =
                s.results().filter(|r| pick(r)).map(|r| (r.flops as f64, r.gflops, r.label.clone())).collect();
            p.sort_by(|a, b| a.0.total_cmp(&b.0));
            p
        })
        .collect();
    let all = || points.iter().flatten();
    let (Some(xr), Some(yr)) = (log_range(all().map(|p| p.0)), log_range(all().map(|p| p.1))) else {
        return Ok(String::new());
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(
                xr.clone().log_scale().with_key_points(ticks_125(&xr)),
                yr.clone().log_scale().with_key_points(ticks_125(&yr)),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_labels(8)
            .y_labels(8)
            .x_desc("problem size (FLOPs per call, log)")
            .y_desc("GFLOP/s (log)")
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut labelled = std::collections::BTreeSet::new();
        for (s, p) in series.iter().zip(&points) {
            let color = s.color;
            if lines && p.len() > 1 {
                chart
                    .draw_series(LineSeries::new(p.iter().map(|q| (q.0, q.1)), color.stroke_width(2)))
                    .map_err(|e| e.to_string())?;
            }
            chart
                .draw_series(p.iter().map(|q| Circle::new((q.0, q.1), 4, color.filled())))
                .map_err(|e| e.to_string())?;
            if !lines {
                for q in p.iter().filter(|q| labelled.insert(q.2.clone())) {
                    let text =
                        Text::new(q.2.clone(), (q.0, q.1), ("sans-serif", 11).into_font().color(&BLACK.mix(0.7)));
                    chart.draw_series(std::iter::once(text)).map_err(|e| e.to_string())?;
                }
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Roofline: GFLOP/s against arithmetic intensity, each device's roof
/// `min(peak compute, intensity x peak bandwidth)` as a line in its colour and
/// its results as points (circles matmul, triangles attention).
fn roofline_chart(series: &[Series<'_>]) -> Result<String, String> {
    let peaks: Vec<Option<(f64, f64)>> = series
        .iter()
        .map(|s| s.run.device(&s.backend).and_then(|d| d.peak.as_ref()).map(|p| (p.compute_gflops, p.bandwidth_gbps)))
        .collect();
    let results = || series.iter().flat_map(|s| s.results());
    let xr = log_range(results().map(|r| r.intensity).chain(peaks.iter().flatten().map(|(c, b)| c / b)));
    let yr = log_range(results().map(|r| r.gflops).chain(peaks.iter().flatten().map(|p| p.0)));
    let (Some(xr), Some(yr)) = (xr, yr) else { return Ok(String::new()) };
    let (x0, x1) = (xr.start, xr.end);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Roofline: measured roofs (lines), results (circles matmul, triangles attention)",
                ("sans-serif", 18),
            )
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(
                xr.clone().log_scale().with_key_points(ticks_125(&xr)),
                yr.clone().log_scale().with_key_points(ticks_125(&yr)),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("arithmetic intensity (FLOP per byte, log)")
            .y_desc("GFLOP/s (log)")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .draw()
            .map_err(|e| e.to_string())?;
        for (s, peak) in series.iter().zip(&peaks) {
            let color = s.color;
            if let Some((compute, bandwidth)) = *peak {
                let ridge = compute / bandwidth;
                let mut roof = vec![(x0, x0 * bandwidth)];
                if ridge > x0 && ridge < x1 {
                    roof.push((ridge, compute));
                }
                roof.push((x1, compute.min(x1 * bandwidth)));
                let roof: Vec<(f64, f64)> = roof.into_iter().map(|(x, y)| (x, y.max(yr.start))).collect();
                chart.draw_series(LineSeries::new(roof, color.stroke_width(2))).map_err(|e| e.to_string())?;
            }
            let matmul: Vec<(f64, f64)> =
                s.results().filter(|r| r.op == crate::OpKind::Matmul).map(|r| (r.intensity, r.gflops)).collect();
            let attention: Vec<(f64, f64)> =
                s.results().filter(|r| r.op == crate::OpKind::Attention).map(|r| (r.intensity, r.gflops)).collect();
            chart
                .draw_series(matmul.into_iter().map(|xy| Circle::new(xy, 4, color.filled())))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(attention.into_iter().map(|xy| TriangleMarker::new(xy, 5, color.filled())))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The colour key of every chart, in HTML (so no legend box covers points):
/// one swatch per series with its measured peaks.
fn legend(series: &[Series<'_>]) -> String {
    let mut html = String::from("<div class=\"legend\">");
    for s in series {
        let peak = s.run.device(&s.backend).and_then(|d| d.peak.as_ref()).map_or(String::new(), |p| {
            format!(" &mdash; roof: {} GFLOP/s, {} GB/s", tick(p.compute_gflops), tick(p.bandwidth_gbps))
        });
        let _ = write!(html, "<span><i style=\"background:{}\"></i>{}{peak}</span>", hex(s.color), esc(&s.label));
    }
    html + "</div>"
}

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222}\
table{border-collapse:collapse;font-size:12px;margin:8px 0 20px}\
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}td.n{text-align:right}\
th{background:#f0f0f0}.charts{display:flex;flex-wrap:wrap;gap:12px}\
.charts svg{border:1px solid #ddd}.note{color:#555;font-size:13px;max-width:1100px}\
.legend{margin:6px 0 10px;font-size:14px}.legend span{margin-right:22px;white-space:nowrap}\
.legend i{display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:-2px;border-radius:2px}";

/// The whole page: runs (device, driver, version, revision, peaks), one
/// throughput-vs-size chart per (op, suite), a roofline, baselines, and every
/// result.
///
/// # Errors
/// A chart that could not be drawn (message from plotters).
pub fn render(runs: &[NamedRun]) -> Result<String, String> {
    let series = series(runs);
    let mut html = String::new();
    let total: usize = runs.iter().map(|r| r.run.results.len()).sum();
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>hcal bench report</title>\
<style>{STYLE}</style></head><body><h1>hcal bench report</h1>\
<p class=\"note\">{} run(s), {} backend(s), {total} results. Times are medians; GFLOP/s use the FLOP \
model of each op (matmul 2MNK; attention 4·B·H·D·pairs, causal rows counting only visible pairs). \
Peaks are measured on each device by hcal's own microbenchmarks (see Runs).</p><h2>Runs</h2>",
        runs.len(),
        series.len()
    );
    html += "<table><tr><th>file</th><th>backend</th><th>device</th><th>api / driver</th><th>host</th>\
<th>hcal / git / build</th><th>timer</th><th>peak compute</th><th>peak bandwidth</th><th>launch per op</th></tr>";
    for named in runs {
        let run = &named.run;
        for d in &run.devices {
            let (pc, pb) = match &d.peak {
                Some(p) => (
                    format!("{:.3} GFLOP/s<br><small>{}</small>", p.compute_gflops, esc(&p.compute_method)),
                    format!("{:.3} GB/s<br><small>{}</small>", p.bandwidth_gbps, esc(&p.bandwidth_method)),
                ),
                None => ("-".into(), "-".into()),
            };
            let launch = d.peak.as_ref().and_then(|p| p.launch_us).map_or("-".into(), |us| format!("{us:.1} us"));
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{} ({} {}, {} threads)</td>\
<td>{} / {} / {}</td><td>{}</td><td>{pc}</td><td>{pb}</td><td>{launch}</td></tr>",
                esc(&named.source),
                esc(&d.backend),
                esc(&d.info.name),
                esc(&d.info.api),
                esc(&d.info.driver),
                esc(&run.host.hostname),
                esc(&run.host.os),
                esc(&run.host.arch),
                run.host.cpus,
                esc(&run.hcal_version),
                esc(&run.git_revision),
                esc(&run.build_profile),
                d.timing,
            );
        }
    }
    html += "</table><h2>Throughput vs size</h2>";
    html += &legend(&series);
    html += "<div class=\"charts\">";
    let groups: BTreeSet<(crate::OpKind, String, String)> =
        runs.iter().flat_map(|n| n.run.results.iter().map(|r| (r.op, r.suite.clone(), r.dtype.to_string()))).collect();
    for (op, suite, dtype) in &groups {
        let title = format!("{op} {dtype}, suite {suite}");
        let pick = |r: &ResultRecord| r.op == *op && r.suite == *suite && r.dtype.to_string() == *dtype;
        html += &throughput_chart(&title, &series, &pick, suite == "square")?;
    }
    html += "</div><h2>Roofline</h2>";
    html += &legend(&series);
    html += &roofline_chart(&series)?;
    let with_baseline: Vec<(&BenchRun, &ResultRecord)> = runs
        .iter()
        .flat_map(|n| n.run.results.iter().map(move |r| (&n.run, r)))
        .filter(|(_, r)| r.baseline.is_some())
        .collect();
    if !with_baseline.is_empty() {
        html += "<h2>Speedup vs baseline</h2><table><tr><th>backend</th><th>row</th><th>candidate kernel</th>\
<th>baseline</th><th>baseline kernel</th><th>candidate</th><th>baseline time</th><th>speedup</th></tr>";
        for (_, r) in with_baseline {
            let b = r.baseline.as_ref().expect("filtered");
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}x</td></tr>",
                esc(&r.backend),
                esc(&r.key()),
                esc(r.kernel.as_deref().unwrap_or("-")),
                esc(&b.name),
                esc(&b.kernel),
                format_seconds(r.median_s),
                format_seconds(b.median_s),
                b.speedup
            );
        }
        html += "</table>";
    }
    html += "<h2>All results</h2><table><tr><th>backend</th><th>suite</th><th>label</th><th>op</th><th>dtype</th>\
<th>shape</th><th>timer</th><th>first call</th><th>median</th><th>min</th><th>max</th><th>reps</th>\
<th>GFLOP/s</th><th>GB/s</th><th>FLOP/B</th><th>% peak</th><th>% roofline</th><th>kernel</th></tr>";
    for named in runs {
        for r in &named.run.results {
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
            let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1}%"));
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{:.3}</td><td class=\"n\">{:.3}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><small>{}</small></td></tr>",
                esc(&r.backend),
                esc(&r.suite),
                esc(&r.label),
                r.op,
                r.dtype,
                esc(&shape),
                r.timing,
                format_seconds(r.first_call_s),
                format_seconds(r.median_s),
                format_seconds(r.min_s),
                format_seconds(r.max_s),
                r.reps,
                r.gflops,
                r.gbps,
                r.intensity,
                pct(r.pct_peak_compute),
                pct(r.pct_roofline),
                esc(r.kernel.as_deref().unwrap_or("-")),
            );
        }
    }
    html += "</table></body></html>\n";
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::ticks_125;

    #[test]
    fn log_ticks_step_1_2_5_inside_the_range() {
        assert_eq!(ticks_125(&(0.15..60.0)), vec![0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
        assert_eq!(ticks_125(&(3.0..4.0)), Vec::<f64>::new());
        assert!(ticks_125(&(0.0..1.0)).is_empty());
    }
}
