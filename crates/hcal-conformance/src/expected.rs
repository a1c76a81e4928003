//! Expected failures as data: a known deviation of one backend/adapter, with its reason.

use serde::{Deserialize, Serialize};

/// A case (or case-name prefix) known to fail on matching backends.
///
/// Matching is by prefix on the backend name (`wgpu:gl` matches `wgpu:gl:0`),
/// substring on the device name (`llvmpipe`) and prefix on the case name
/// (`Attention/f16/` covers every f16 attention case). An entry whose case
/// then passes is reported as a failure ("stale expected failure"), so the
/// list never outlives the bug.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedFailure {
    /// Backend-name prefix.
    pub backend: String,
    /// Device-name substring; empty matches any device.
    pub device: String,
    /// Case-name prefix.
    pub case: String,
    /// Why it fails and where it is tracked.
    pub reason: String,
}

impl ExpectedFailure {
    /// Whether this entry covers `case` on `backend`/`device`.
    pub fn matches(&self, backend: &str, device: &str, case: &str) -> bool {
        backend.starts_with(&self.backend) && device.contains(&self.device) && case.starts_with(&self.case)
    }
}

/// hcal's own list of known deviations: every backend in this repository
/// passes every case it declares `Native`; the entries are oneDNN's own
/// behaviour as the `onednn` plugin (crates/hcal-onednn) exposes it.
pub fn builtin() -> Vec<ExpectedFailure> {
    onednn()
}

/// oneDNN 2.6 (CPU, JIT kernels) where it differs from the standard. Each was
/// observed through the plugin; the plugin maps the op faithfully and does
/// not patch oneDNN's results.
fn onednn() -> Vec<ExpectedFailure> {
    let entry = |case: &str, reason: &str| ExpectedFailure {
        backend: "onednn".into(),
        device: String::new(),
        case: case.into(),
        reason: reason.into(),
    };
    const ELTWISE: &str = "https://oneapi-src.github.io/oneDNN/v2.6/dev_guide_eltwise.html";
    const BINARY: &str = "https://oneapi-src.github.io/oneDNN/v2.6/dev_guide_binary.html";
    vec![
        entry(
            "Relu/f32/special-values",
            &format!(
                "oneDNN's eltwise relu (alpha = 0) maps NaN to 0: its JIT kernel is a max with 0 that drops NaN, \
                 while the standard (and oneDNN's documented formula, alpha * s for s <= 0) gives NaN; see {ELTWISE}"
            ),
        ),
        entry(
            "Max/f32/nan-propagates",
            &format!(
                "oneDNN's binary max is vmaxps(src0, src1), which returns src1 when either is NaN: max(NaN, 2) = 2 \
                 (NaN only propagates from src1); the standard gives NaN; NaN handling is not specified in {BINARY}"
            ),
        ),
        entry(
            "Min/f32/nan-propagates",
            &format!(
                "oneDNN's binary min is vminps(src0, src1), which returns src1 when either is NaN: min(NaN, 2) = 2 \
                 (NaN only propagates from src1); the standard gives NaN; NaN handling is not specified in {BINARY}"
            ),
        ),
    ]
}
