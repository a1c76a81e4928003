//! Conformance certificates: what was tested, on what, and every verdict.
//!
//! A certificate is issued from an [`OnnxReport`]. Its JSON has the top-level
//! `"kind": "certificate"` (the key `hcal report` dispatches on) and names the
//! backend, adapter, driver and hcal version, the SHA-256 of every WGSL shader
//! source the backend runs (for `wgpu` backends; the CPU reference runs none),
//! the corpus, and every case with its verdict, error ratio and reason.
//! [`render_text`] and [`render_html`] print it for people.
//!
//! ```
//! use hcal_onnx::certificate::{Certificate, render_text, shader_digests};
//! let digests = shader_digests([("unary", "fn main() {}")]);
//! assert_eq!(digests[0].sha256.len(), 64);
//! # let _ = (Certificate::from_json, render_text);
//! ```

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hcal_conformance::{Summary, Verdict};
use hcal_core::DeviceType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::{Corpus, OnnxDefault, OnnxReport, OpRow, op_table, verdict_word};

/// The `kind` of a certificate's JSON.
pub const CERTIFICATE_KIND: &str = "certificate";

/// The SHA-256 of one shader source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShaderDigest {
    /// Shader family name (`matmul`).
    pub name: String,
    /// Lowercase hex SHA-256 of the source text's UTF-8 bytes.
    pub sha256: String,
}

/// One case on a certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertifiedCase {
    /// Case folder name.
    pub name: String,
    /// ONNX op type.
    pub op: String,
    /// Verdict under hcal's tolerance model.
    pub verdict: Verdict,
    /// Worst `error / bound` (absent when nothing was compared).
    pub error_ratio: Option<f64>,
    /// Whether the outputs also pass ONNX's default `rtol = 1e-3, atol = 1e-7`.
    pub onnx_default_pass: Option<bool>,
    /// Why it did not pass (or which outputs were not compared); empty otherwise.
    pub reason: String,
}

/// A conformance certificate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// Always [`CERTIFICATE_KIND`].
    pub kind: String,
    /// Layout version of this JSON (1).
    pub format_version: u32,
    /// What the certificate is about.
    pub title: String,
    /// hcal version that ran the cases.
    pub hcal_version: String,
    /// Backend name (`wgpu:vulkan:0`).
    pub backend: String,
    /// Adapter (device) name as the driver reports it.
    pub adapter: String,
    /// Driver name and version.
    pub driver: String,
    /// API or implementation (`vulkan`, `reference`).
    pub api: String,
    /// Processor kind.
    pub device_type: DeviceType,
    /// Issue time, seconds since the Unix epoch.
    pub issued_unix_s: u64,
    /// The corpus and op filter.
    pub corpus: Corpus,
    /// How verdicts were reached.
    pub criteria: String,
    /// SHA-256 of every shader source the backend runs.
    pub shaders: Vec<ShaderDigest>,
    /// SHA-256 over the `name:sha256` lines of `shaders`: one value to compare builds.
    pub shaders_sha256: String,
    /// Totals, as the built-in suite counts them.
    pub summary: Summary,
    /// Cases whose outputs also pass ONNX's default tolerance.
    pub onnx_default_passed: usize,
    /// Per-op totals.
    pub per_op: Vec<OpRow>,
    /// Every case.
    pub cases: Vec<CertifiedCase>,
}

/// The criteria text every certificate carries.
const CRITERIA: &str = "pass: every compared output within hcal's per-element error bound (hcal-conformance \
tolerance model) of the f64 reference, ONNX's expected output within the same bound, inputs unmodified, \
a rerun bit-identical; onnx_default_pass: numpy assert_allclose(expected, got, rtol=1e-3, atol=1e-7); \
unsupported: outside the hcal standard or declined by the backend, with the reason; expected_failure: \
a listed known deviation of that onnx release's data, with the reason; imprecise_expected: the backend \
within hcal's bound of the f64 reference, ONNX's expected output outside it but within the bound of the f16 or \
bf16 arithmetic ONNX's reference computed it in (both deviations given)";

/// SHA-256 digests of `(name, source)` pairs, in the order given.
pub fn shader_digests<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<ShaderDigest> {
    sources
        .into_iter()
        .map(|(name, source)| ShaderDigest { name: name.to_string(), sha256: hex(&Sha256::digest(source.as_bytes())) })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Certificate {
    /// Issue a certificate for `report`. `wgpu` backends list the digests of
    /// [`hcal_wgpu::shader_sources`]; other backends run no shaders.
    pub fn issue(report: &OnnxReport) -> Self {
        let shaders = if report.device.backend.starts_with("wgpu") {
            shader_digests(hcal_wgpu::shader_sources())
        } else {
            Vec::new()
        };
        Self::issue_with_shaders(report, shaders)
    }

    /// As [`Certificate::issue`] with the shader digests given.
    pub fn issue_with_shaders(report: &OnnxReport, shaders: Vec<ShaderDigest>) -> Self {
        let d = &report.device;
        let lines: String = shaders.iter().map(|s| format!("{}:{}\n", s.name, s.sha256)).collect();
        let cases = report
            .cases
            .iter()
            .map(|c| CertifiedCase {
                name: c.result.name.clone(),
                op: c.result.op.clone(),
                verdict: c.result.verdict,
                error_ratio: c.result.max_error_ratio,
                onnx_default_pass: c.onnx_default.map(|o: OnnxDefault| o.pass),
                reason: if c.result.verdict == Verdict::Pass {
                    c.unchecked.join("; ")
                } else {
                    c.result.detail.clone()
                },
            })
            .collect();
        Self {
            kind: CERTIFICATE_KIND.to_string(),
            format_version: 1,
            title: format!("hcal conformance certificate: {}", corpus_text(&report.corpus)),
            hcal_version: report.hcal_version.clone(),
            backend: d.backend.clone(),
            adapter: d.name.clone(),
            driver: d.driver.clone(),
            api: d.api.clone(),
            device_type: d.device_type,
            issued_unix_s: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |t| t.as_secs()),
            corpus: report.corpus.clone(),
            criteria: CRITERIA.to_string(),
            shaders_sha256: hex(&Sha256::digest(lines.as_bytes())),
            shaders,
            summary: report.summary,
            onnx_default_passed: report.cases.iter().filter(|c| c.onnx_default.is_some_and(|o| o.pass)).count(),
            per_op: report.per_op(),
            cases,
        }
    }

    /// True when no case failed.
    pub fn conforms(&self) -> bool {
        self.summary.failed == 0
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("certificates contain only serializable data")
    }

    /// Parse a certificate written by [`Certificate::to_json`].
    ///
    /// # Errors
    /// The JSON error when the text is not a certificate (including a `kind`
    /// other than `"certificate"`).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        let cert: Self = serde_json::from_str(text)?;
        if cert.kind != CERTIFICATE_KIND {
            return Err(serde::de::Error::custom(format!("kind is {:?}, not {CERTIFICATE_KIND:?}", cert.kind)));
        }
        Ok(cert)
    }
}

fn ratio_text(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_string(), |r| format!("{r:.3e}"))
}

/// `onnx 1.23.2 node tests (opset <= 28)`: the release and opset a certificate speaks for.
pub fn corpus_text(corpus: &Corpus) -> String {
    format!(
        "onnx {} node tests{}",
        corpus.onnx_version.as_deref().unwrap_or("(unknown version)"),
        corpus.opset.map_or_else(String::new, |o| format!(" (opset <= {o})"))
    )
}

fn onnx_text(p: Option<bool>) -> &'static str {
    match p {
        Some(true) => "pass",
        Some(false) => "fail",
        None => "-",
    }
}

/// The certificate as plain text: header, shader digests, per-op table, every case.
pub fn render_text(cert: &Certificate) -> String {
    let mut out = String::new();
    let s = &cert.summary;
    let _ = writeln!(out, "{}", cert.title);
    let _ = writeln!(
        out,
        "verdict:     {}",
        if cert.conforms() { "CONFORMS (no case failed)" } else { "DOES NOT CONFORM" }
    );
    let _ = writeln!(out, "backend:     {} ({}, {:?})", cert.backend, cert.api, cert.device_type);
    let _ = writeln!(out, "adapter:     {}", cert.adapter);
    let _ = writeln!(out, "driver:      {}", cert.driver);
    let _ = writeln!(out, "hcal:        {}", cert.hcal_version);
    let _ = writeln!(out, "issued:      {} (unix seconds)", cert.issued_unix_s);
    let _ = writeln!(
        out,
        "corpus:      {}, {}{}",
        corpus_text(&cert.corpus),
        cert.corpus.dir,
        if cert.corpus.ops.is_empty() { String::new() } else { format!(" (ops: {})", cert.corpus.ops.join(", ")) }
    );
    let _ = writeln!(
        out,
        "summary:     {} cases: {} passed, {} failed, {} skipped; {} also pass ONNX's default rtol=1e-3 atol=1e-7",
        s.total, s.passed, s.failed, s.skipped, cert.onnx_default_passed
    );
    let _ = writeln!(out, "criteria:    {}", cert.criteria);
    if cert.shaders.is_empty() {
        let _ = writeln!(out, "shaders:     none (this backend runs no shaders)");
    } else {
        let _ = writeln!(out, "shaders:     {} sources, set sha256 {}", cert.shaders.len(), cert.shaders_sha256);
        for sh in &cert.shaders {
            let _ = writeln!(out, "  {:<16} {}", sh.name, sh.sha256);
        }
    }
    out.push('\n');
    out.push_str(&op_table(&cert.per_op));
    out.push('\n');
    let _ = writeln!(out, "{:<58} {:<18} {:<17} {:>11} {:>5}  reason", "case", "op", "verdict", "ratio", "onnx");
    for c in &cert.cases {
        let _ = writeln!(
            out,
            "{:<58} {:<18} {:<17} {:>11} {:>5}  {}",
            c.name,
            c.op,
            verdict_word(c.verdict),
            ratio_text(c.error_ratio),
            onnx_text(c.onnx_default_pass),
            c.reason
        );
    }
    out
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The certificate as one self-contained HTML page.
pub fn render_html(cert: &Certificate) -> String {
    let mut out = String::new();
    let s = &cert.summary;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}: {backend}</title>\n<style>\
body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}}th{{background:#f2f2f2}}\
td.n{{text-align:right;font-variant-numeric:tabular-nums}}code{{font-size:12px}}\
.pass{{color:#176f2c}}.fail{{color:#b00020;font-weight:bold}}.unsupported{{color:#777}}.expected_failure{{color:#a66300}}\
.badge{{display:inline-block;padding:4px 10px;border-radius:4px;color:#fff}}.ok{{background:#176f2c}}.no{{background:#b00020}}\
</style></head><body>\n<h1>{title}</h1>\n<p><span class=\"badge {badge}\">{verdict}</span></p>\n<table>\n",
        title = esc(&cert.title),
        backend = esc(&cert.backend),
        badge = if cert.conforms() { "ok" } else { "no" },
        verdict = if cert.conforms() { "CONFORMS: no case failed" } else { "DOES NOT CONFORM" },
    );
    let rows = [
        ("backend", format!("{} ({}, {:?})", cert.backend, cert.api, cert.device_type)),
        ("adapter", cert.adapter.clone()),
        ("driver", cert.driver.clone()),
        ("hcal version", cert.hcal_version.clone()),
        ("issued (unix s)", cert.issued_unix_s.to_string()),
        ("corpus", format!("{}, {}", corpus_text(&cert.corpus), cert.corpus.dir)),
        (
            "summary",
            format!(
                "{} cases: {} passed, {} failed, {} skipped; {} also pass ONNX's default rtol=1e-3 atol=1e-7",
                s.total, s.passed, s.failed, s.skipped, cert.onnx_default_passed
            ),
        ),
        ("criteria", cert.criteria.clone()),
        (
            "shader set sha256",
            if cert.shaders.is_empty() {
                "none (this backend runs no shaders)".into()
            } else {
                cert.shaders_sha256.clone()
            },
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    out.push_str("</table>\n");
    if !cert.shaders.is_empty() {
        out.push_str("<h2>Shaders</h2>\n<table><tr><th>shader</th><th>sha256</th></tr>\n");
        for sh in &cert.shaders {
            let _ = writeln!(out, "<tr><td>{}</td><td><code>{}</code></td></tr>", esc(&sh.name), esc(&sh.sha256));
        }
        out.push_str("</table>\n");
    }
    out.push_str(
        "<h2>Per op</h2>\n<table><tr><th>op</th><th>found</th><th>pass</th><th>fail</th><th>unsupported</th>\
<th>expected failures</th><th>imprecise expected data</th><th>ONNX default pass</th><th>worst ratio</th></tr>\n",
    );
    for r in &cert.per_op {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.3e}</td></tr>",
            esc(&r.op),
            r.found,
            r.passed,
            r.failed,
            r.unsupported,
            r.expected_failures,
            r.imprecise_expected,
            r.onnx_default_passed,
            r.worst_ratio
        );
    }
    out.push_str(
        "</table>\n<h2>Cases</h2>\n<table><tr><th>case</th><th>op</th><th>verdict</th><th>error ratio</th>\
<th>ONNX default</th><th>reason</th></tr>\n",
    );
    for c in &cert.cases {
        let class =
            serde_json::to_value(c.verdict).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.name),
            esc(&c.op),
            verdict_word(c.verdict),
            ratio_text(c.error_ratio),
            onnx_text(c.onnx_default_pass),
            esc(&c.reason)
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{OnnxCaseResult, REPORT_KIND};

    fn report(backend: &str) -> OnnxReport {
        let mut pass = OnnxCaseResult::without_run("test_relu", "Relu", "f32", Verdict::Pass, String::new());
        pass.result.max_error_ratio = Some(0.0);
        pass.onnx_default = Some(OnnxDefault { pass: true, max_abs_error: 0.0, max_rel_error: 0.0 });
        let skip =
            OnnxCaseResult::without_run("test_conv", "Conv", "f32", Verdict::Unsupported, "op <Conv> & co".into());
        let cases = vec![pass, skip];
        let results: Vec<_> = cases.iter().map(|c| c.result.clone()).collect();
        OnnxReport {
            kind: REPORT_KIND.into(),
            summary: Summary::of(&results),
            device: hcal_core::DeviceInfo::new(backend, "dev", DeviceType::Cpu, "reference"),
            hcal_version: "0.1.0".into(),
            corpus: Corpus {
                dir: "node".into(),
                onnx_version: Some("1.23.2".into()),
                opset: Some(28),
                expected_failures_of: Some("1.23.2".into()),
                ops: vec![],
            },
            elapsed_s: 0.1,
            cases,
            interrupted: false,
        }
    }

    #[test]
    fn digests_are_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let d = shader_digests([("x", "abc")]);
        assert_eq!(d[0].sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn wgpu_certificates_list_every_shader_and_cpu_ones_none() {
        let gpu = Certificate::issue(&report("wgpu:vulkan:0"));
        assert_eq!(gpu.shaders.len(), hcal_wgpu::shader_sources().count());
        assert!(gpu.shaders.len() > 5);
        let cpu = Certificate::issue(&report("cpu"));
        assert!(cpu.shaders.is_empty());
    }

    #[test]
    fn json_round_trips_and_kind_is_checked() {
        let cert = Certificate::issue(&report("cpu"));
        let json = cert.to_json();
        assert!(json.contains("\"kind\": \"certificate\""));
        assert_eq!(Certificate::from_json(&json).unwrap(), cert);
        let other = json.replace("\"kind\": \"certificate\"", "\"kind\": \"bench\"");
        assert!(Certificate::from_json(&other).unwrap_err().to_string().contains("not \"certificate\""));
    }

    #[test]
    fn renderings_name_the_backend_and_every_case() {
        let cert = Certificate::issue(&report("cpu"));
        let text = render_text(&cert);
        assert!(text.contains("CONFORMS") && text.contains("test_relu") && text.contains("test_conv"));
        assert!(text.contains("onnx 1.23.2 node tests (opset <= 28)"), "{text}");
        let html = render_html(&cert);
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("op &lt;Conv&gt; &amp; co"));
        assert!(html.contains("class=\"unsupported\""));
    }
}
