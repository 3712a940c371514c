//! Posterior histograms: the behavioural sets' values of each parameter, one small panel per parameter.

use std::fmt::Write;

use super::svg::{self, Frame, PANEL};

/// Bins of a histogram of `n` values: `⌈√n⌉`, between 5 and 30.
fn bins(n: usize) -> usize {
    (n as f64).sqrt().ceil().clamp(5.0, 30.0) as usize
}

/// The counts of the finite `values` in `bins` equal bins over `(lo, hi)` (the last bin closed).
pub(crate) fn counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    let width = (hi - lo) / bins as f64;
    for &v in values.iter().filter(|v| v.is_finite()) {
        let k = if width > 0.0 { ((v - lo) / width).floor() as usize } else { 0 };
        counts[k.min(bins - 1)] += 1;
    }
    counts
}

/// One panel per parameter (`<svg class="plot panel" id="search-{stage}-hist-{i}">`).
///
/// # Arguments
/// * `names` - `[d]`; `posterior` - the behavioural sets' values `[d][B]`.
pub(crate) fn panels(stage: usize, names: &[String], posterior: &[Vec<f64>]) -> Vec<String> {
    names
        .iter()
        .zip(posterior)
        .enumerate()
        .map(|(i, (name, values))| {
            let finite = || values.iter().copied().filter(|v| v.is_finite());
            let (lo, hi) = (finite().fold(f64::INFINITY, f64::min), finite().fold(f64::NEG_INFINITY, f64::max));
            let mut plot =
                svg::open_panel(&format!("search-{stage}-hist-{i}"), &format!("Posterior histogram of {name}"));
            if !lo.is_finite() {
                let ((x0, x1), x_ticks) = svg::nice_ticks(0.0, 1.0, 4);
                let ((y0, y1), y_ticks) = svg::nice_ticks(0.0, 1.0, 4);
                let frame = Frame::sized(PANEL, (x0, x1), (y0, y1));
                plot.push_str(&svg::axes(&frame, &x_ticks, &y_ticks, name, "sets"));
                plot.push_str(&svg::note(&frame, "no behavioural sets"));
                plot.push_str("</svg>");
                return plot;
            }
            let (lo, hi) =
                if hi > lo { (lo, hi) } else { (lo - 0.5 * lo.abs().max(1e-9), hi + 0.5 * hi.abs().max(1e-9)) };
            let n = bins(finite().count());
            let counts = counts(values, lo, hi, n);
            let top = counts.iter().copied().max().unwrap_or(1).max(1);
            let ((x0, x1), x_ticks) = svg::nice_ticks(lo, hi, 4);
            let ((y0, y1), y_ticks) = svg::nice_ticks(0.0, top as f64, 4);
            let frame = Frame::sized(PANEL, (x0, x1), (y0, y1));
            plot.push_str(&svg::axes(&frame, &x_ticks, &y_ticks, name, "sets"));
            let width = (hi - lo) / n as f64;
            let mut d = String::new();
            for (k, &c) in counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                let (a, b) = (frame.px(lo + k as f64 * width), frame.px(lo + (k + 1) as f64 * width));
                let _ =
                    write!(d, "M{a:.1} {:.1}V{:.1}H{b:.1}V{:.1}Z", frame.py(0.0), frame.py(c as f64), frame.py(0.0));
            }
            let _ = write!(plot, r#"<path class="bars" d="{d}"/></svg>"#);
            plot
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cover_the_range_and_skip_nan() {
        assert_eq!(counts(&[0.0, 0.1, 0.5, 1.0, f64::NAN], 0.0, 1.0, 4), [2, 0, 1, 1]);
        assert_eq!(counts(&[2.0, 2.0], 2.0, 2.0, 3), [2, 0, 0]);
        assert_eq!((bins(4), bins(100), bins(10_000)), (5, 10, 30));
    }

    #[test]
    fn a_panel_per_parameter_even_without_sets() {
        let names = vec!["cp".to_string(), "ct".to_string(), "llr".to_string()];
        let posterior = vec![(0..100).map(|i| i as f64).collect(), vec![3.0; 10], vec![]];
        let panels = panels(4, &names, &posterior);
        assert_eq!(panels.len(), 3);
        // 100 values in 10 bins of 10
        assert_eq!(panels[0].matches('Z').count(), 10);
        assert!(panels[0].contains(r#"id="search-4-hist-0""#));
        assert_eq!(panels[1].matches('Z').count(), 1, "a constant parameter is one bar");
        assert!(panels[2].contains(">no behavioural sets</text>"));
    }
}
