//! Where a run's time goes, op by op: [`Profiled`] wraps a backend, waits
//! for every op it runs and adds the op's wall time to a table keyed by the
//! op and the dtypes and shapes of its first two inputs (Attention by its
//! query only, so a growing key/value cache keeps one row).
//!
//! Waiting after each op removes the overlap a backend gets from batching,
//! so the total is above the unprofiled run's time; the split between ops is
//! what the table is for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hcal_core::{Backend, BackendWrapper, Call, Op, Result};

/// Per key: calls, seconds, and the device commands they recorded (where
/// the backend counts them, `Instruments::commands_recorded`).
type Table = HashMap<String, (usize, f64, Option<u64>)>;

/// A backend that runs every op on the wrapped one, then syncs and records
/// the elapsed time in its [`Profile`].
///
/// ```
/// use hcal::{Device, profile::Profiled};
/// let (backend, profile) = Profiled::new(hcal::open("cpu")?);
/// let dev = Device::new(Box::new(backend));
/// let x = dev.tensor_f32(&[2], &[1., -1.])?;
/// hcal::ops::unary(&x, hcal::UnaryOp::Relu)?;
/// let rows = profile.rows();
/// assert_eq!((rows[0].0.as_str(), rows[0].1), ("Relu(f32[2])", 1));
/// # Ok::<(), hcal::Error>(())
/// ```
pub struct Profiled {
    inner: Box<dyn Backend>,
    table: Arc<Mutex<Table>>,
}

/// The table a [`Profiled`] backend fills; clones share it.
#[derive(Clone)]
pub struct Profile(Arc<Mutex<Table>>);

impl Profiled {
    /// Wrap `inner`; the [`Profile`] reads what it records.
    pub fn new(inner: Box<dyn Backend>) -> (Self, Profile) {
        let table = Arc::new(Mutex::new(HashMap::new()));
        (Self { inner, table: table.clone() }, Profile(table))
    }
}

impl Profile {
    /// Forget what was recorded (after a warm-up or a prefill).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The rows, most expensive first: `(key, calls, seconds)`.
    pub fn rows(&self) -> Vec<(String, usize, f64)> {
        let table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = table.iter().map(|(k, &(n, s, _))| (k.clone(), n, s)).collect();
        rows.sort_by(|a, b| b.2.total_cmp(&a.2));
        rows
    }

    /// Device commands recorded per call of the row `key`, where the
    /// backend counts them.
    pub fn commands_per_call(&self, key: &str) -> Option<f64> {
        let table = self.0.lock().unwrap_or_else(|p| p.into_inner());
        table.get(key).and_then(|&(n, _, c)| Some(c? as f64 / n.max(1) as f64))
    }

    /// The rows as text, one line each after a total: seconds, share of the
    /// total, calls, key, and device commands per call where counted.
    pub fn report(&self) -> String {
        let rows = self.rows();
        let total: f64 = rows.iter().map(|r| r.2).sum();
        let mut out = format!("{total:8.3} s  100.0%  all ops\n");
        for (key, calls, secs) in rows {
            let commands = self.commands_per_call(&key).map_or(String::new(), |c| format!("  ({c:.1} commands/call)"));
            out += &format!("{secs:8.3} s  {:5.1}%  {calls:5} x {key}{commands}\n", 100.0 * secs / total.max(1e-12));
        }
        out
    }
}

impl BackendWrapper for Profiled {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }

    fn execute(&self, call: &Call<'_>) -> Result<()> {
        let commands = || self.inner.instruments().and_then(|i| i.commands_recorded());
        let before = commands();
        let start = Instant::now();
        self.inner.execute(call)?;
        self.inner.sync()?;
        let elapsed = start.elapsed().as_secs_f64();
        let recorded = commands().zip(before).map(|(after, before)| after - before);
        let named = if matches!(call.op(), Op::Attention(_)) { 1 } else { 2 };
        let shapes: Vec<String> = call
            .inputs()
            .iter()
            .take(named)
            .map(|t| t.map_or("-".into(), |t| format!("{}{:?}", t.dtype(), t.shape())))
            .collect();
        let key = format!("{}({})", call.op().name(), shapes.join(", "));
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let row = table.entry(key).or_insert((0, 0.0, recorded.map(|_| 0)));
        row.0 += 1;
        row.1 += elapsed;
        row.2 = row.2.zip(recorded).map(|(sum, c)| sum + c);
        Ok(())
    }
}
