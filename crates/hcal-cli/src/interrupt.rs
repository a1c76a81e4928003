//! Ctrl-C (SIGINT) for the long commands (`bench`, `conformance`): the first
//! one sets a flag that the run loops check; the work in flight gets
//! [`GRACE`] to finish, then is abandoned, and the command writes what it
//! has (marked `interrupted`) and exits with [`EXIT_INTERRUPTED`]. A second
//! Ctrl-C exits at once with the same code.
//!
//! The work runs on a thread of its own ([`finish_unless_interrupted`]), so a
//! single kernel call that runs for minutes cannot hold the command: the
//! thread is left behind and ends with the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// How long the work in flight may take to finish after Ctrl-C.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// Set by the first SIGINT.
static FLAG: LazyLock<Arc<AtomicBool>> = LazyLock::new(Arc::default);

/// Handle SIGINT from now on: the first sets the flag, a second exits 130.
/// Without a handler (a platform signal-hook cannot serve) Ctrl-C keeps its
/// default, ending the process at once.
pub(crate) fn install() {
    use signal_hook::consts::SIGINT;
    // Registered first, so it sees the flag as the previous SIGINT left it.
    let _ = signal_hook::flag::register_conditional_shutdown(SIGINT, i32::from(EXIT_INTERRUPTED), Arc::clone(&FLAG));
    let _ = signal_hook::flag::register(SIGINT, Arc::clone(&FLAG));
}

/// Whether Ctrl-C was pressed.
pub(crate) fn requested() -> bool {
    FLAG.load(Ordering::SeqCst)
}

/// Run `work` on its own thread and return its result, or `None` when
/// Ctrl-C came and the work did not finish within [`GRACE`] after it (the
/// thread is abandoned). A panic in `work` is resumed here.
pub(crate) fn finish_unless_interrupted<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let handle = std::thread::spawn(work);
    let mut deadline: Option<Instant> = None;
    while !handle.is_finished() {
        if requested() && Instant::now() >= *deadline.get_or_insert_with(|| Instant::now() + GRACE) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match handle.join() {
        Ok(value) => Some(value),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_work_returns_its_value() {
        assert_eq!(finish_unless_interrupted(|| 6 * 7), Some(42));
    }
}
