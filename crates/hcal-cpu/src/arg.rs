//! ArgMax / ArgMin along one axis: the index of the extreme element.
//!
//! NaN counts as beyond every number (numpy's rule): the first NaN of a lane
//! wins, or the last one with `select_last_index`. Ties between equal values
//! (`-0.0 == 0.0` included) go to the first index, or the last with
//! `select_last_index`.

use hcal_core::AxisSplit;

/// Indices of the extreme of every lane of the `[outer, len, inner]` view
/// along `len`, laid out `[outer, inner]`; `len >= 1` (hcal-core rejects an
/// empty axis). `largest`: ArgMax, else ArgMin.
///
/// ```
/// use hcal_core::AxisSplit;
/// let s = AxisSplit { outer: 1, len: 4, inner: 1 };
/// assert_eq!(hcal_cpu::arg::arg_extreme(s, &[1., 3., 3., 0.], true, false), [1]);
/// assert_eq!(hcal_cpu::arg::arg_extreme(s, &[1., 3., 3., 0.], true, true), [2]);
/// assert_eq!(hcal_cpu::arg::arg_extreme(s, &[1., f64::NAN, -5., f64::NAN], false, false), [1]);
/// ```
pub fn arg_extreme(split: AxisSplit, x: &[f64], largest: bool, select_last_index: bool) -> Vec<i64> {
    let AxisSplit { outer, len, inner } = split;
    let mut y = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for c in 0..inner {
            let at = |j: usize| x[(o * len + j) * inner + c];
            let mut best = 0;
            for j in 1..len {
                if replaces(at(j), at(best), largest, select_last_index) {
                    best = j;
                }
            }
            y.push(best as i64);
        }
    }
    y
}

/// Whether a later value `v` takes the place of the current `best`.
pub fn replaces(v: f64, best: f64, largest: bool, select_last_index: bool) -> bool {
    match (v.is_nan(), best.is_nan()) {
        (true, true) => select_last_index,
        (true, false) => true,
        (false, true) => false,
        (false, false) if v == best => select_last_index,
        (false, false) => (v > best) == largest,
    }
}
