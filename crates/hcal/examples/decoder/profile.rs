//! Where the time goes: a backend wrapper that waits for every op and adds
//! its wall time to a table keyed by op and input shapes.
//!
//! Waiting after each op removes the overlap a backend may get from
//! batching, so the total is above the unprofiled run; the split is what it
//! is for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hcal::{Backend, BackendWrapper, Call};

type Table = HashMap<String, (usize, f64)>;

/// Runs every op on `inner`, then syncs and records the elapsed time.
pub struct Profiled {
    inner: Box<dyn Backend>,
    table: Arc<Mutex<Table>>,
}

/// The table a [`Profiled`] backend fills.
#[derive(Clone)]
pub struct Profile(Arc<Mutex<Table>>);

impl Profiled {
    /// Wrap `inner`.
    pub fn new(inner: Box<dyn Backend>) -> (Self, Profile) {
        let table = Arc::new(Mutex::new(HashMap::new()));
        (Self { inner, table: table.clone() }, Profile(table))
    }
}

impl Profile {
    /// Forget what was recorded (after a warm-up).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The rows, most expensive first: `(key, calls, seconds)`.
    pub fn rows(&self) -> Vec<(String, usize, f64)> {
        let table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = table.iter().map(|(k, &(n, s))| (k.clone(), n, s)).collect();
        rows.sort_by(|a, b| b.2.total_cmp(&a.2));
        rows
    }
}

impl BackendWrapper for Profiled {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }

    fn execute(&self, call: &Call<'_>) -> hcal::Result<()> {
        let start = Instant::now();
        self.inner.execute(call)?;
        self.inner.sync()?;
        let elapsed = start.elapsed().as_secs_f64();
        // The first two inputs name the problem (Attention's growing cache would split its rows).
        let shapes: Vec<String> =
            call.inputs().iter().take(2).map(|t| t.map_or("-".into(), |t| format!("{:?}", t.shape()))).collect();
        let key = format!("{}({})", call.op().name(), shapes.join(", "));
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let row = table.entry(key).or_insert((0, 0.0));
        row.0 += 1;
        row.1 += elapsed;
        Ok(())
    }
}
