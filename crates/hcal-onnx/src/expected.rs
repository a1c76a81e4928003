//! Known deviations on the ONNX corpus, as data (`data/expected_failures.json`).
//!
//! Each entry is an [`ExpectedFailure`]: backend-name prefix, device-name
//! substring, the case folder name and the reason. Unlike the built-in suite,
//! the case name must match exactly (`test_add` must not cover
//! `test_add_bcast`), unless the entry ends in `*`. A listed case that passes
//! is reported as a failure (a stale entry), so the list cannot outlive the bug.

pub use hcal_conformance::ExpectedFailure;

/// The list shipped with this crate.
///
/// # Panics
/// Never for the shipped file (a unit test parses it).
pub fn builtin() -> Vec<ExpectedFailure> {
    serde_json::from_str(include_str!("../data/expected_failures.json")).expect("data/expected_failures.json parses")
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
    fn the_shipped_list_parses_and_every_entry_has_a_reason() {
        for e in builtin() {
            assert!(!e.reason.trim().is_empty(), "{e:?}");
            assert!(e.case.starts_with("test_"), "{e:?}");
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
