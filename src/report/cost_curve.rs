//! The cost curve: the cost at every iteration of every calibration stage, stages drawn one after the
//! other with their boundaries marked.

use std::fmt::Write;

use super::CostPoint;
use super::decimate::envelope;
use super::svg::{self, Frame};
use super::text::fmt_sig;

/// Stages get these line classes in turn.
const STAGE_CLASSES: usize = 6;
/// Point markers are drawn only up to this many iterations.
const MAX_MARKERS: usize = 80;

/// A run of consecutive points of one stage: `[start, end)` indices into the point list.
struct Stage {
    stage: usize,
    start: usize,
    end: usize,
}

fn stages(points: &[CostPoint]) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::new();
    for (k, p) in points.iter().enumerate() {
        match out.last_mut() {
            Some(s) if s.stage == p.stage => s.end = k + 1,
            _ => out.push(Stage { stage: p.stage, start: k, end: k + 1 }),
        }
    }
    out
}

/// A `<figure>` with the per-stage summary and the plot (`<svg class="plot" id="cost-curve">`).
///
/// # Arguments
/// * `points` - every iteration of every stage, in the order they ran.
pub(crate) fn figure(points: &[CostPoint]) -> String {
    let costs: Vec<f32> = points.iter().map(|p| p.cost as f32).collect();
    let validation: Vec<f32> = points.iter().map(|p| p.validation.map_or(f32::NAN, |v| v as f32)).collect();
    let finite = || points.iter().flat_map(|p| [p.cost, p.validation.unwrap_or(f64::NAN)]).filter(|c| c.is_finite());
    let (lo, hi) = (finite().fold(f64::INFINITY, f64::min), finite().fold(f64::NEG_INFINITY, f64::max));
    let has_data = lo.is_finite();
    let ((y0, y1), y_ticks) = if has_data { svg::nice_ticks(lo, hi, 5) } else { svg::nice_ticks(0.0, 1.0, 5) };
    let last = points.len().saturating_sub(1).max(1);
    let ((x0, x1), x_ticks) = svg::nice_ticks(0.0, last as f64, last.min(8));
    let frame = Frame::new((x0, x1), (y0, y1));

    let mut plot = svg::open("cost-curve", "Cost at every iteration");
    plot.push_str(&svg::axes(&frame, &x_ticks, &y_ticks, "iteration (stages in sequence)", "cost"));
    let xy = |k: usize| (frame.px(k as f64), frame.py(points[k].cost));
    let mut legend = Vec::new();
    let mut summary = String::new();
    let classes: Vec<String> = (0..STAGE_CLASSES).map(|j| format!("s-stage{j}")).collect();
    for (j, s) in stages(points).iter().enumerate() {
        let class = &classes[j % STAGE_CLASSES];
        let runs: Vec<Vec<usize>> = envelope(&costs[s.start..s.end], frame.columns(), |c| c.is_finite())
            .into_iter()
            .map(|run| run.into_iter().map(|k| k + s.start).collect())
            .collect();
        let _ = write!(plot, r#"<path class="series {class}" d="{}"/>"#, svg::path_data(&runs, xy));
        if points.len() <= MAX_MARKERS {
            for k in (s.start..s.end).filter(|&k| points[k].cost.is_finite()) {
                let (x, y) = xy(k);
                let _ = write!(plot, r#"<circle class="marker {class}" cx="{x:.1}" cy="{y:.1}" r="2.5"/>"#);
            }
        }
        if j > 0 {
            let x = frame.px(s.start as f64 - 0.5);
            let _ = write!(
                plot,
                r#"<path class="boundary" d="M{x:.1} {:.1}V{:.1}"/><text class="boundary-label" x="{:.1}" y="{:.1}">stage {}</text>"#,
                frame.top(),
                frame.bottom(),
                x + 4.0,
                frame.top() + 12.0,
                s.stage
            );
        }
        let n = s.end - s.start;
        legend.push((class.as_str(), format!("stage {}", s.stage)));
        let _ = write!(
            summary,
            "<li>stage {}: {n} iteration{}, cost {} → <b>{}</b>",
            s.stage,
            if n == 1 { "" } else { "s" },
            fmt_sig(points[s.start].cost, 4),
            fmt_sig(points[s.end - 1].cost, 4)
        );
        if let (Some(a), Some(b)) = (points[s.start].validation, points[s.end - 1].validation) {
            let _ = write!(summary, "; validation {} → <b>{}</b>", fmt_sig(a, 4), fmt_sig(b, 4));
        }
        summary.push_str("</li>");
    }
    if validation.iter().any(|v| v.is_finite()) {
        let vxy = |k: usize| (frame.px(k as f64), frame.py(validation[k] as f64));
        let runs = envelope(&validation, frame.columns(), |c| c.is_finite());
        let _ = write!(plot, r#"<path class="series s-validation" d="{}"/>"#, svg::path_data(&runs, vxy));
        legend.push(("s-validation", "validation (held-out gauges)".to_string()));
    }
    plot.push_str(&svg::legend(&legend));
    if !has_data {
        plot.push_str(&svg::note(&frame, if points.is_empty() { "no iterations" } else { "no finite cost" }));
    }
    plot.push_str("</svg>");
    format!(
        r#"<figure class="card"><figcaption><h3>Cost</h3><ul class="scores">{summary}</ul></figcaption>{plot}</figure>"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(stage: usize, iteration: usize, cost: f64) -> CostPoint {
        CostPoint { stage, iteration, cost, validation: None }
    }

    #[test]
    fn validation_is_a_dashed_series_with_its_scores() {
        let points: Vec<CostPoint> = (0..10)
            .map(|i| CostPoint { validation: Some(0.5 - 0.01 * i as f64), ..point(1, i, 0.4 - 0.02 * i as f64) })
            .collect();
        let html = figure(&points);
        assert!(html.contains(r#"class="series s-validation""#));
        assert!(html.contains("validation 0.5 → <b>0.41</b>"), "{html}");
        assert!(html.contains("validation (held-out gauges)"));
    }

    #[test]
    fn stage_boundaries_are_marked() {
        let mut points: Vec<CostPoint> = (0..30).map(|i| point(0, i, 1.0 / (1.0 + i as f64))).collect();
        points.extend((0..20).map(|i| point(1, i, 0.03 - 0.001 * i as f64)));
        let html = figure(&points);
        assert_eq!(html.matches(r#"class="boundary""#).count(), 1);
        assert!(html.contains(">stage 1</text>"));
        assert!(html.contains("stage 0: 30 iterations, cost 1 → <b>0.03333</b>"), "{html}");
        assert!(html.contains("stage 1: 20 iterations"));
        assert_eq!(html.matches("<circle").count(), 50);
    }

    #[test]
    fn one_iteration_is_a_dot() {
        let html = figure(&[point(0, 0, 0.5)]);
        assert!(html.contains("stage 0: 1 iteration, cost 0.5 → <b>0.5</b>"));
        assert!(html.contains("h0\"/>"), "{html}");
        assert_eq!(html.matches("<circle").count(), 1);
        assert!(!html.contains("class=\"note\""));
    }

    #[test]
    fn no_iterations_say_so() {
        let html = figure(&[]);
        assert!(html.contains(">no iterations</text>") && html.contains(r#"id="cost-curve""#));
    }

    #[test]
    fn many_iterations_have_no_markers() {
        let points: Vec<CostPoint> = (0..5000).map(|i| point(0, i, (-(i as f64) / 1000.0).exp())).collect();
        let html = figure(&points);
        assert_eq!(html.matches("<circle").count(), 0);
        assert!(html.len() < 100_000);
    }
}
