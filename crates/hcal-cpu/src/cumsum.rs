//! CumSum along one axis: running sums, optionally exclusive and reversed.

use hcal_core::AxisSplit;

/// Running sums of every lane of the `[outer, len, inner]` view along `len`:
/// `y_i = sum_{j <= i} x_j`, without `x_i` when `exclusive`, from the end of
/// the lane when `reverse`. f64 accumulation in the order of the scan.
///
/// ```
/// use hcal_core::AxisSplit;
/// let s = AxisSplit { outer: 1, len: 4, inner: 1 };
/// let x = [1.0, 2.0, 3.0, 4.0];
/// assert_eq!(hcal_cpu::cumsum::cumsum(s, &x, false, false), [1.0, 3.0, 6.0, 10.0]);
/// assert_eq!(hcal_cpu::cumsum::cumsum(s, &x, true, false), [0.0, 1.0, 3.0, 6.0]);
/// assert_eq!(hcal_cpu::cumsum::cumsum(s, &x, false, true), [10.0, 9.0, 7.0, 4.0]);
/// assert_eq!(hcal_cpu::cumsum::cumsum(s, &x, true, true), [9.0, 7.0, 4.0, 0.0]);
/// ```
pub fn cumsum(split: AxisSplit, x: &[f64], exclusive: bool, reverse: bool) -> Vec<f64> {
    let AxisSplit { outer, len, inner } = split;
    let mut y = vec![0.0; x.len()];
    for o in 0..outer {
        for c in 0..inner {
            let idx = |j: usize| (o * len + j) * inner + c;
            let mut sum = 0.0;
            for step in 0..len {
                let j = if reverse { len - 1 - step } else { step };
                let v = x[idx(j)];
                if !exclusive {
                    sum += v;
                }
                y[idx(j)] = sum;
                if exclusive {
                    sum += v;
                }
            }
        }
    }
    y
}
