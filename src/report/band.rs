//! The predictive band at one gauge: the 5–95 % range of the discharge simulated with behavioural sets
//! (shaded), their median and the observed discharge, against dates.

use std::fmt::Write;

use super::PredictiveBand;
use super::decimate::envelope;
use super::svg::{self, Frame};
use super::time_axis::date_ticks;

/// The shaded band's outline points: `(step, lower, upper)` runs without gaps, at most two per pixel
/// column. A long series keeps per column the lowest `lower` and the highest `upper` it covers, at the
/// column's first step, so the band keeps every extreme.
pub(crate) fn outline(lower: &[f32], upper: &[f32], columns: usize) -> Vec<Vec<(usize, f32, f32)>> {
    let n = lower.len().min(upper.len());
    let columns = columns.max(1);
    let valid = |t: usize| lower[t].is_finite() && upper[t].is_finite();
    let mut runs: Vec<Vec<(usize, f32, f32)>> = Vec::new();
    let mut current = Vec::new();
    let per = if n <= 2 * columns { 1 } else { n.div_ceil(columns) };
    for start in (0..n).step_by(per) {
        let steps = (start..(start + per).min(n)).filter(|&t| valid(t));
        let point = steps.fold(None, |acc: Option<(usize, f32, f32)>, t| match acc {
            None => Some((t, lower[t], upper[t])),
            Some((s, lo, hi)) => Some((s, lo.min(lower[t]), hi.max(upper[t]))),
        });
        match point {
            Some(p) => current.push(p),
            None if !current.is_empty() => runs.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// A `<figure>` with the band plot `<svg class="plot" id="search-{stage}-band-{index}">`.
pub(crate) fn figure(stage: usize, band: &PredictiveBand, index: usize, sets: usize) -> String {
    let dt_ms = band.dt_s.max(1) * 1000;
    let steps = band.median.len().max(band.observed.len());
    let time = |i: usize| (band.start_ms + i as i64 * dt_ms) as f64;
    let t_end = band.start_ms + steps.saturating_sub(1) as i64 * dt_ms;
    let observed = |v: f32| v.is_finite() && v >= 0.0;
    let hi = band
        .upper
        .iter()
        .chain(&band.median)
        .filter(|v| v.is_finite())
        .chain(band.observed.iter().filter(|&&v| observed(v)))
        .fold(f64::NEG_INFINITY, |a, &v| a.max(v as f64));
    let lo = band.lower.iter().filter(|v| v.is_finite()).fold(0.0f64, |a, &v| a.min(v as f64));
    let ((y0, y1), y_ticks) = svg::nice_ticks(lo, if hi.is_finite() { hi } else { 1.0 }, 5);
    let frame = Frame::new((band.start_ms as f64, t_end as f64), (y0, y1));
    let x_ticks = date_ticks(band.start_ms, t_end, frame.columns() as f64);
    let label = format!("Predictive band at gauge {} (stage {stage})", band.code);
    let mut plot = svg::open(&format!("search-{stage}-band-{index}"), &label);
    plot.push_str(&svg::axes(&frame, &x_ticks, &y_ticks, "time (UTC)", "discharge [m³/s]"));
    let mut d = String::new();
    for run in outline(&band.lower, &band.upper, frame.columns()) {
        for (k, &(t, _, hi)) in run.iter().enumerate() {
            let _ = write!(d, "{}{:.1} {:.1}", if k == 0 { "M" } else { "L" }, frame.px(time(t)), frame.py(hi as f64));
        }
        for &(t, lo, _) in run.iter().rev() {
            let _ = write!(d, "L{:.1} {:.1}", frame.px(time(t)), frame.py(lo as f64));
        }
        d.push('Z');
    }
    let _ = write!(plot, r#"<path class="band" d="{d}"/>"#);
    let mut legend = vec![("s-band", "5–95 % of the behavioural simulations".to_string())];
    for (values, valid, class, name) in [
        (&band.median, f32::is_finite as fn(f32) -> bool, "s-median", format!("median of {sets} behavioural sets")),
        (&band.observed, observed, "s-obs", "observed".to_string()),
    ] {
        if values.is_empty() {
            continue;
        }
        let runs = envelope(values, frame.columns(), valid);
        let d = svg::path_data(&runs, |i| (frame.px(time(i)), frame.py(values[i] as f64)));
        let _ = write!(plot, r#"<path class="series {class}" d="{d}"/>"#);
        legend.push((class, if runs.is_empty() { format!("{name} (no data)") } else { name }));
    }
    plot.push_str(&svg::legend(&legend));
    if !hi.is_finite() {
        plot.push_str(&svg::note(&frame, "no data"));
    }
    plot.push_str("</svg>");
    format!(
        r#"<figure class="card"><figcaption><h4>Predictive band at gauge <code>{}</code></h4></figcaption>{plot}</figure>"#,
        super::text::escape(&band.code)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_keeps_extremes_and_splits_at_gaps() {
        let lower = [1.0, 2.0, f32::NAN, 1.0];
        let upper = [3.0, 4.0, 5.0, 3.0];
        assert_eq!(outline(&lower, &upper, 10), [vec![(0, 1.0, 3.0), (1, 2.0, 4.0)], vec![(3, 1.0, 3.0)]]);
        let n = 10_000;
        let mut lower = vec![1.0f32; n];
        let mut upper = vec![2.0f32; n];
        (lower[4321], upper[8765]) = (-3.0, 9.0);
        let runs = outline(&lower, &upper, 100);
        assert_eq!(runs.len(), 1);
        assert!(runs[0].len() <= 200);
        assert!(runs[0].iter().any(|p| p.1 == -3.0) && runs[0].iter().any(|p| p.2 == 9.0));
    }

    #[test]
    fn figure_has_band_median_and_observed() {
        let band = PredictiveBand {
            code: "Y<1>".into(),
            start_ms: 1_633_050_000_000,
            dt_s: 3600,
            observed: vec![1.0, -99.0, 2.5, 2.0],
            lower: vec![0.8, 1.0, 1.5, 1.2],
            median: vec![1.0, 1.6, 2.2, 1.9],
            upper: vec![1.3, 2.4, 3.1, 2.6],
        };
        let html = figure(2, &band, 1, 37);
        assert!(html.contains(r#"id="search-2-band-1""#) && html.contains("Y&lt;1&gt;"));
        assert!(html.contains(r#"<path class="band" d="M"#) && html.contains("Z\"/>"));
        assert!(html.contains("median of 37 behavioural sets") && html.contains(r#"class="series s-obs" d="M"#));
        assert!(!html.contains("class=\"note\""));
    }
}
