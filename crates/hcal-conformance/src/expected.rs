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

/// hcal's own list of known deviations. Empty: every backend in this
/// repository passes every case it declares `Native`.
pub fn builtin() -> Vec<ExpectedFailure> {
    Vec::new()
}
