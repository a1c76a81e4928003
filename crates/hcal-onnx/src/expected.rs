//! Known deviations on the ONNX corpus, as data: one list per onnx release
//! (`data/expected_failures-onnx-<version>.json`), because each release ships
//! its own expected outputs and fixes some of the previous release's defects.
//!
//! Each entry is an [`ExpectedFailure`]: backend-name prefix, device-name
//! substring, the case folder name and the reason. Unlike the built-in suite,
//! the case name must match exactly (`test_add` must not cover
//! `test_add_bcast`), unless the entry ends in `*`. A listed case that passes
//! is reported as a failure (a stale entry), so the list cannot outlive the bug.

pub use hcal_conformance::ExpectedFailure;

/// The onnx releases with a list, oldest first, with their list's JSON text.
pub const LISTS: [(&str, &str); 2] = [
    ("1.18.0", include_str!("../data/expected_failures-onnx-1.18.0.json")),
    ("1.23.2", include_str!("../data/expected_failures-onnx-1.23.2.json")),
];

/// The newest onnx release with a list (the current release when this crate was written).
pub const CURRENT: &str = LISTS[LISTS.len() - 1].0;

fn parse(version: &str, text: &str) -> Vec<ExpectedFailure> {
    serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("data/expected_failures-onnx-{version}.json does not parse: {e}"))
}

/// The list of the newest release ([`CURRENT`]).
///
/// # Panics
/// Never for the shipped files (a unit test parses them).
pub fn builtin() -> Vec<ExpectedFailure> {
    parse(CURRENT, LISTS[LISTS.len() - 1].1)
}

/// The release whose list applies to a corpus of onnx `version`: that release,
/// else the newest listed release older than it (its data is the closest),
/// else the oldest; [`CURRENT`] when the version is unknown.
///
/// ```
/// use hcal_onnx::expected::list_version;
/// assert_eq!(list_version(Some("1.18.0")), "1.18.0");
/// assert_eq!(list_version(Some("1.20.1")), "1.18.0");
/// assert_eq!(list_version(Some("1.24.0")), hcal_onnx::expected::CURRENT);
/// ```
pub fn list_version(version: Option<&str>) -> &'static str {
    let Some(version) = version else { return CURRENT };
    let key = |v: &str| -> Vec<u64> { v.split(['.', 'r', 'a', 'b']).map(|p| p.parse().unwrap_or(0)).collect() };
    LISTS.iter().rev().map(|(v, _)| *v).find(|v| key(v) <= key(version)).unwrap_or(LISTS[0].0)
}

/// The list for a corpus of onnx `version` (see [`list_version`]).
pub fn for_version(version: Option<&str>) -> Vec<ExpectedFailure> {
    let chosen = list_version(version);
    let (v, text) = LISTS.iter().find(|(v, _)| *v == chosen).expect("list_version answers a listed release");
    parse(v, text)
}

/// The entries of `list` that cover `case` (exact name, or a prefix ending in `*`),
/// rewritten to match by prefix as [`ExpectedFailure::matches`] does.
pub fn for_case(list: &[ExpectedFailure], case: &str) -> Vec<ExpectedFailure> {
    list.iter()
        .filter(|e| match e.case.strip_suffix('*') {
            Some(prefix) => case.starts_with(prefix),
            None => e.case == case,
        })
        .map(|e| ExpectedFailure { case: case.to_string(), ..e.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lists_parse_and_every_entry_has_a_reason() {
        for (version, text) in LISTS {
            for e in parse(version, text) {
                assert!(!e.reason.trim().is_empty(), "{version}: {e:?}");
                assert!(e.case.starts_with("test_"), "{version}: {e:?}");
            }
        }
    }

    #[test]
    fn names_match_exactly_unless_starred() {
        let entry = |case: &str| ExpectedFailure {
            backend: "cpu".into(),
            device: String::new(),
            case: case.into(),
            reason: "r".into(),
        };
        let list = [entry("test_add"), entry("test_sub_*")];
        assert_eq!(for_case(&list, "test_add").len(), 1);
        assert!(for_case(&list, "test_add_bcast").is_empty());
        assert_eq!(for_case(&list, "test_sub_bcast").len(), 1);
    }
}
