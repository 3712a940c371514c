//! The convergence curve of a search stage: the best cost found against the evaluations spent.

use std::fmt::Write;

use super::decimate::envelope;
use super::scale::Axis;
use super::svg::{self, Frame};

/// The best cost after each evaluation `[E]` (`NaN` until the first finite cost).
pub(crate) fn best_so_far(costs: &[f64]) -> Vec<f64> {
    let mut best = f64::NAN;
    costs
        .iter()
        .map(|&c| {
            if c.is_finite() && (best.is_nan() || c < best) {
                best = c;
            }
            best
        })
        .collect()
}

/// A `<figure>` with the plot `<svg class="plot" id="search-{stage}-convergence">`: the best cost
/// against the number of evaluations, on a log axis when every cost is positive.
///
/// # Arguments
/// * `costs` - every evaluation's cost `[E]`, in evaluation order.
pub(crate) fn figure(stage: usize, costs: &[f64]) -> String {
    let best = best_so_far(costs);
    let axis = Axis::fit(best.iter().copied(), costs.iter().all(|&c| c > 0.0), 5);
    let n = costs.len().max(1);
    let ((x0, x1), x_ticks) = svg::nice_ticks(0.0, n as f64, 8);
    let frame = Frame::new((x0, x1), axis.range);
    let y_title = if axis.is_log() { "best cost (log scale)" } else { "best cost" };
    let mut plot = svg::open(&format!("search-{stage}-convergence"), &format!("Best cost of stage {stage}"));
    plot.push_str(&svg::axes(&frame, &x_ticks, &axis.ticks, "evaluations", y_title));
    let shown: Vec<f32> = best.iter().map(|&b| axis.pos(b) as f32).collect();
    let runs = envelope(&shown, frame.columns(), f32::is_finite);
    let d = svg::path_data(&runs, |i| (frame.px((i + 1) as f64), frame.py(shown[i] as f64)));
    let _ = write!(plot, r#"<path class="series s-best" d="{d}"/>"#);
    plot.push_str(&svg::legend(&[("s-best", "best cost so far".to_string())]));
    if runs.is_empty() {
        plot.push_str(&svg::note(&frame, if costs.is_empty() { "no evaluations" } else { "no finite cost" }));
    }
    plot.push_str("</svg>");
    format!(r#"<figure class="card"><figcaption><h4>Convergence</h4></figcaption>{plot}</figure>"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_so_far_skips_failures() {
        let best = best_so_far(&[f64::INFINITY, 3.0, 4.0, f64::NAN, 1.0, 2.0]);
        assert!(best[0].is_nan());
        assert_eq!(&best[1..], [3.0, 3.0, 3.0, 1.0, 1.0]);
    }

    #[test]
    fn positive_costs_are_drawn_on_a_log_axis() {
        let costs: Vec<f64> = (0..2000).map(|i| 10.0 * (-(i as f64) / 200.0).exp()).collect();
        let html = figure(3, &costs);
        assert!(html.contains(r#"id="search-3-convergence""#) && html.contains("(log scale)"));
        assert!(html.contains(r#"class="series s-best" d="M"#) && html.len() < 60_000, "{}", html.len());
        let html = figure(3, &[-1.0, -2.0]);
        assert!(!html.contains("(log scale)") && !html.contains("class=\"note\""));
        assert!(figure(1, &[]).contains(">no evaluations</text>"));
    }
}
