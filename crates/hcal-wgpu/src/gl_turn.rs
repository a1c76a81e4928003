//! One thread at a time inside wgpu's GL backend.
//!
//! Why: wgpu's GL backend drives one EGL context per adapter, shared by every
//! device opened on it, behind a lock that **panics** when a thread has
//! waited 6 seconds for it (wgpu-hal 30, `AdapterContext::lock`: "Could not
//! lock adapter context. This is most-likely a deadlock."). The holder keeps
//! it for as long as its work runs: a wait for submitted work sits in
//! `glClientWaitSync` inside the lock, and llvmpipe runs a submit's
//! dispatches before returning. So two threads using hcal on one GL adapter
//! (two devices, or one device from two threads) made the second panic
//! whenever the first waited on more than 6 seconds of work: a product of
//! three 4096 x 4096 matrices on llvmpipe in one thread panicked a 64-float
//! `read` in another, in `create_buffer`. The test suite hit it under load
//! (two GL tests of one binary, in `create_compute_pipeline` and
//! `unmap_buffer`).
//!
//! What: every entry point of a GL backend that calls into wgpu takes this
//! process-wide turn first ([`GlTurn`]), so at most one hcal thread is inside
//! wgpu's GL backend and the others wait here, with no time limit. The
//! device work was serialized by the context already; what now also waits
//! is the host side of other threads' calls (planning, recording, pipeline
//! creation, readback copies) while one thread waits on its work, and one
//! turn serves every GL adapter of the process. The cost of the trade: a GL
//! wait that never ends now stalls the other GL threads silently, where
//! wgpu-hal would have panicked after 6 seconds. The turn is reentrant per
//! thread (an entry point may call another), and other backends never take
//! it.

use std::cell::{Cell, RefCell};
use std::sync::{Mutex, MutexGuard};

/// The process-wide turn. One lock for every GL adapter: a process rarely
/// has more than one, and one lock cannot be taken in two orders.
static TURN: Mutex<()> = Mutex::new(());

thread_local! {
    /// How many turns this thread holds (nested entry points).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The lock, held while `DEPTH > 0`.
    static HELD: RefCell<Option<MutexGuard<'static, ()>>> = const { RefCell::new(None) };
}

/// Take the turn (waiting for it), or deepen this thread's hold of it.
/// During the thread's teardown, when its thread-locals are gone (a GL
/// backend kept in a thread-local and dropped with it), no turn is taken.
fn enter() {
    let Ok(depth) = DEPTH.try_with(Cell::get) else { return };
    if depth == 0 {
        // Holding `()` protects no data, so a panic elsewhere cannot leave it
        // inconsistent: a poisoned lock is taken as it is.
        let guard = TURN.lock().unwrap_or_else(|p| p.into_inner());
        if HELD.try_with(|held| *held.borrow_mut() = Some(guard)).is_err() {
            return;
        }
    }
    DEPTH.set(depth + 1);
}

/// Undo one [`enter`]; the last one gives the turn back. (No assertion:
/// this runs in drops, where a second panic would abort.)
fn leave() {
    let Ok(depth) = DEPTH.try_with(Cell::get) else { return };
    if depth == 0 {
        return;
    }
    DEPTH.set(depth - 1);
    if depth == 1 {
        let _ = HELD.try_with(|held| *held.borrow_mut() = None);
    }
}

/// This thread's turn inside wgpu's GL backend, held until dropped; a no-op
/// for other backends.
///
/// ```text
/// let _turn = GlTurn::take(gpu.is_gl);
/// gpu.device.create_buffer(..); // no other hcal thread is in GL meanwhile
/// ```
#[must_use = "the turn ends when this is dropped"]
pub(crate) struct GlTurn {
    taken: bool,
}

impl GlTurn {
    /// Take the turn where `gl` (the backend is wgpu's GL backend).
    pub(crate) fn take(gl: bool) -> Self {
        if gl {
            enter();
        }
        Self { taken: gl }
    }
}

impl Drop for GlTurn {
    fn drop(&mut self) {
        if self.taken {
            leave();
        }
    }
}

/// The first field of a struct whose other fields hold wgpu objects: its
/// drop takes the turn for the drops of the fields after it (Rust drops
/// fields in declaration order, on one thread), and [`DropTurnEnd`], the last
/// field, gives it back. Build the struct from finished values, so that
/// nothing can panic between the two (a panic in the struct expression
/// would drop the first without the second).
pub(crate) struct DropTurnStart {
    pub(crate) gl: bool,
}

impl Drop for DropTurnStart {
    fn drop(&mut self) {
        if self.gl {
            enter();
        }
    }
}

/// The last field of such a struct (see [`DropTurnStart`]).
pub(crate) struct DropTurnEnd {
    pub(crate) gl: bool,
}

impl Drop for DropTurnEnd {
    fn drop(&mut self) {
        if self.gl {
            leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn a_turn_is_reentrant_and_excludes_other_threads_until_the_last_drop() {
        let inside = Arc::new(AtomicBool::new(false));
        let start = Arc::new(Barrier::new(2));
        let outer = GlTurn::take(true);
        let inner = GlTurn::take(true); // the same thread again: no deadlock
        let (flag, go) = (Arc::clone(&inside), Arc::clone(&start));
        let other = std::thread::spawn(move || {
            go.wait();
            let _turn = GlTurn::take(true);
            flag.store(true, Ordering::SeqCst);
        });
        start.wait();
        std::thread::sleep(Duration::from_millis(50));
        drop(inner);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!inside.load(Ordering::SeqCst), "the other thread got in while the turn was held");
        drop(outer);
        other.join().unwrap();
        assert!(inside.load(Ordering::SeqCst));
    }

    #[test]
    fn drop_sentinels_hold_the_turn_between_them() {
        struct Holder {
            _start: DropTurnStart,
            probe: Probe,
            _end: DropTurnEnd,
        }
        /// Records the depth this thread holds when it is dropped.
        struct Probe(Arc<Mutex<usize>>);
        impl Drop for Probe {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = DEPTH.get();
            }
        }
        let seen = Arc::new(Mutex::new(usize::MAX));
        let holder = Holder {
            _start: DropTurnStart { gl: true },
            probe: Probe(Arc::clone(&seen)),
            _end: DropTurnEnd { gl: true },
        };
        let _ = &holder.probe;
        drop(holder);
        assert_eq!(*seen.lock().unwrap(), 1, "the field between the sentinels drops inside the turn");
        assert_eq!(DEPTH.get(), 0, "the last sentinel gives the turn back");
    }

    #[test]
    fn other_backends_never_take_the_turn() {
        let _vulkan = GlTurn::take(false);
        assert_eq!(DEPTH.get(), 0);
    }
}
