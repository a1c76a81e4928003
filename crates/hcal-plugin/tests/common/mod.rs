//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::Path;

/// Report a skipped test: a clear message locally, a failure under CI (`CI`
/// set), where a missing C compiler is a broken runner, not a reason to skip.
pub fn skip(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why} (CI is set, so this is a failure rather than a skip)");
    }
    eprintln!("SKIPPED {test}: {why}");
}

/// A test plugin built by build.rs, or a skip message when none was built.
pub fn plugin(test: &str, built: Option<&'static Path>, what: &str) -> Option<&'static Path> {
    if built.is_none() {
        skip(test, &format!("the {what} test plugin was not built (no working C compiler; see the build warnings)"));
    }
    built
}
