//! `--profile`: where a run's time goes, op by op. A backend wrapper waits
//! for every op and adds its wall time to a table keyed by op and the shapes
//! of its first two inputs (Attention by its query only: its cache grows).
//!
//! Waiting after each op removes the overlap batching gives, so the total is
//! above the unprofiled run; the split is what it is for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hcal::{Backend, BackendWrapper, Call, Op};

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
    /// Forget what was recorded (after the prefill).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The table, most expensive first, as lines: seconds, share, calls, key.
    pub fn report(&self) -> String {
        let table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = table.iter().map(|(k, &(n, s))| (k.clone(), n, s)).collect();
        rows.sort_by(|a, b| b.2.total_cmp(&a.2));
        let total: f64 = rows.iter().map(|r| r.2).sum();
        let mut out = format!("{total:8.3} s  100.0%  all ops\n");
        for (key, calls, secs) in rows {
            out += &format!("{secs:8.3} s  {:5.1}%  {calls:5} x {key}\n", 100.0 * secs / total.max(1e-12));
        }
        out
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
        let named = if matches!(call.op(), Op::Attention(_)) { 1 } else { 2 };
        let shapes: Vec<String> = call
            .inputs()
            .iter()
            .take(named)
            .map(|t| t.map_or("-".into(), |t| format!("{}{:?}", t.dtype(), t.shape())))
            .collect();
        let key = format!("{}({})", call.op().name(), shapes.join(", "));
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let row = table.entry(key).or_insert((0, 0.0));
        row.0 += 1;
        row.1 += elapsed;
        Ok(())
    }
}
