//! Value axes that may be logarithmic: costs of a search often span decades.

use super::svg::{Tick, nice_ticks};
use super::text::fmt_sig;

/// A value axis: its range and ticks in axis units (`log10` of the value on a log axis).
pub(crate) struct Axis {
    log: bool,
    /// `(lo, hi)` [axis units].
    pub range: (f64, f64),
    pub ticks: Vec<Tick>,
}

impl Axis {
    /// An axis over the finite `values` with about `target` ticks: logarithmic when `log` is asked, every
    /// finite value is positive and at least two of its ticks (see [`log_ticks`]) fall in their range; linear
    /// otherwise (`0..1` without any finite value).
    pub(crate) fn fit(values: impl IntoIterator<Item = f64>, log: bool, target: usize) -> Axis {
        let (lo, hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        if !lo.is_finite() {
            let (range, ticks) = nice_ticks(0.0, 1.0, target);
            return Axis { log: false, range, ticks };
        }
        if log && lo > 0.0 && hi > lo {
            let ticks = log_ticks(lo, hi, target);
            if ticks.len() >= 2 {
                return Axis { log: true, range: (lo.log10(), hi.log10()), ticks };
            }
        }
        let (range, ticks) = nice_ticks(lo, hi, target);
        Axis { log: false, range, ticks }
    }

    /// `v` in axis units (`NaN` for a non-positive value on a log axis).
    pub(crate) fn pos(&self, v: f64) -> f64 {
        if !self.log {
            v
        } else if v > 0.0 {
            v.log10()
        } else {
            f64::NAN
        }
    }

    pub(crate) fn is_log(&self) -> bool {
        self.log
    }
}

/// Ticks within `[lo, hi]`, `0 < lo < hi`: at 1, 2 and 5 × 10ⁿ, or else at 1 and 3 × 10ⁿ, whichever first
/// gives at most `target + 2` ticks; else at powers of ten, every few decades for wide ranges.
fn log_ticks(lo: f64, hi: f64, target: usize) -> Vec<Tick> {
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let at = |mantissas: &[f64], every: usize| -> Vec<Tick> {
        let mut ticks = Vec::new();
        for k in (k0..=k1).step_by(every) {
            for m in mantissas {
                let v = m * 10f64.powi(k);
                if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                    ticks.push(Tick { pos: v.log10(), label: fmt_sig(v, 3) });
                }
            }
        }
        ticks
    };
    for mantissas in [&[1.0, 2.0, 5.0][..], &[1.0, 3.0]] {
        let ticks = at(mantissas, 1);
        if ticks.len() <= target + 2 {
            return ticks;
        }
    }
    at(&[1.0], ((k1 - k0) as usize).div_ceil(target.max(1)).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_values_over_decades_get_a_log_axis() {
        let axis = Axis::fit([0.012, 0.5, 3.0, f64::INFINITY], true, 5);
        assert!(axis.is_log());
        let labels: Vec<&str> = axis.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0.02", "0.05", "0.1", "0.2", "0.5", "1", "2"]);
        let three: Vec<String> = Axis::fit([0.0012, 3.0], true, 5).ticks.into_iter().map(|t| t.label).collect();
        assert_eq!(three, ["0.003", "0.01", "0.03", "0.1", "0.3", "1", "3"]);
        let narrow = Axis::fit([0.15, 0.6], true, 5);
        assert_eq!(narrow.ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["0.2", "0.5"]);
        assert!((axis.range.0 - 0.012f64.log10()).abs() < 1e-12 && axis.pos(100.0) == 2.0);
        let wide = Axis::fit([1e-6, 1e6], true, 4);
        assert_eq!(
            wide.ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
            ["1e-6", "0.001", "1", "1000", "1e6"]
        );
    }

    #[test]
    fn other_values_get_a_linear_axis() {
        assert!(!Axis::fit([-1.0, 2.0], true, 5).is_log());
        assert!(!Axis::fit([0.5, 2.0], false, 5).is_log());
        // no round value between 0.031 and 0.045
        assert!(!Axis::fit([0.031, 0.045], true, 5).is_log());
        let empty = Axis::fit([f64::NAN], true, 5);
        assert_eq!(empty.range, (0.0, 1.0));
    }
}
