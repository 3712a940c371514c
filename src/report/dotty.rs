//! Dotty plots: the cost of every evaluation against each parameter, one small panel per parameter,
//! behavioural sets highlighted. Large runs are thinned to at most [`MAX_DOTS`] evaluations.

use std::fmt::Write;

use super::scale::Axis;
use super::svg::{self, Frame, PANEL};

/// Evaluations drawn per panel, at most.
pub(crate) const MAX_DOTS: usize = 5000;

/// The evaluations to draw (ascending indices), at most `max`: all when they fit; otherwise up to half
/// of the budget for the behavioural ones (more when the others are fewer), the rest for the others, each
/// group thinned to evenly spaced picks. Deterministic.
///
/// # Arguments
/// * `behavioural` - whether each evaluation is behavioural `[E]`.
pub(crate) fn thin(behavioural: &[bool], max: usize) -> Vec<usize> {
    if behavioural.len() <= max {
        return (0..behavioural.len()).collect();
    }
    let (chosen, others): (Vec<usize>, Vec<usize>) = (0..behavioural.len()).partition(|&i| behavioural[i]);
    let keep_chosen = chosen.len().min((max / 2).max(max.saturating_sub(others.len())));
    let keep_others = others.len().min(max - keep_chosen);
    let evenly = |list: &[usize], k: usize| -> Vec<usize> { (0..k).map(|j| list[j * list.len() / k]).collect() };
    let mut picked = evenly(&chosen, keep_chosen);
    picked.extend(evenly(&others, keep_others));
    picked.sort_unstable();
    picked
}

/// One panel per parameter (`<svg class="plot panel" id="search-{stage}-dotty-{i}">`): cost against the
/// parameter's value, grey dots for the evaluations, red for the behavioural ones (drawn on top).
///
/// # Arguments
/// * `names` - `[d]`; `values` - `[d][E]`; `costs`, `behavioural` - `[E]`.
pub(crate) fn panels(
    stage: usize,
    names: &[String],
    values: &[Vec<f64>],
    costs: &[f64],
    behavioural: &[bool],
) -> Vec<String> {
    let shown = thin(behavioural, MAX_DOTS);
    let y = Axis::fit(shown.iter().map(|&k| costs[k]), costs.iter().all(|&c| c > 0.0), 4);
    let y_title = if y.is_log() { "cost (log)" } else { "cost" };
    names
        .iter()
        .zip(values)
        .enumerate()
        .map(|(i, (name, v))| {
            let finite = || shown.iter().map(|&k| v[k]).filter(|x| x.is_finite());
            let (lo, hi) = (finite().fold(f64::INFINITY, f64::min), finite().fold(f64::NEG_INFINITY, f64::max));
            let ((x0, x1), x_ticks) =
                if lo.is_finite() { svg::nice_ticks(lo, hi, 4) } else { svg::nice_ticks(0.0, 1.0, 4) };
            let frame = Frame::sized(PANEL, (x0, x1), y.range);
            let mut plot = svg::open_panel(&format!("search-{stage}-dotty-{i}"), &format!("Cost against {name}"));
            plot.push_str(&svg::axes(&frame, &x_ticks, &y.ticks, name, y_title));
            for (class, wanted) in [("dots", false), ("dots dots-b", true)] {
                let mut d = String::new();
                for &k in shown.iter().filter(|&&k| behavioural[k] == wanted) {
                    let (px, py) = (frame.px(v[k]), frame.py(y.pos(costs[k])));
                    if px.is_finite() && py.is_finite() {
                        let _ = write!(d, "M{px:.1} {py:.1}h0");
                    }
                }
                let _ = write!(plot, r#"<path class="{class}" d="{d}"/>"#);
            }
            if shown.is_empty() {
                plot.push_str(&svg::note(&frame, "no evaluations"));
            }
            plot.push_str("</svg>");
            plot
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_behavioural_sets_and_spreads_the_rest() {
        assert_eq!(thin(&[true, false, false], 10), [0, 1, 2]);
        let flags: Vec<bool> = (0..100_000).map(|i| i % 100 == 0).collect();
        let kept = thin(&flags, 5000);
        assert_eq!(kept.len(), 5000);
        // the 1000 behavioural sets all fit in half the budget; 4000 others evenly spread
        assert_eq!(kept.iter().filter(|&&k| flags[k]).count(), 1000);
        assert!(kept.windows(2).all(|w| w[0] < w[1]) && kept[0] == 0 && *kept.last().unwrap() > 99_000);
        let mostly: Vec<bool> = (0..10_000).map(|i| i % 10 != 0).collect();
        let kept = thin(&mostly, 5000);
        assert_eq!(kept.iter().filter(|&&k| !mostly[k]).count(), 1000);
        assert_eq!(thin(&mostly, 5000), kept, "deterministic");
    }

    #[test]
    fn one_panel_per_parameter_with_highlighted_sets() {
        let names = vec!["cp".to_string(), "k<x>".to_string()];
        let values = vec![vec![1.0, 2.0, 3.0, 4.0], vec![0.1, 0.2, f64::NAN, 0.4]];
        let costs = [0.9, 0.5, 0.2, f64::INFINITY];
        let panels = panels(2, &names, &values, &costs, &[false, false, true, false]);
        assert_eq!(panels.len(), 2);
        assert!(panels[1].contains(r#"id="search-2-dotty-1""#) && panels[1].contains("k&lt;x&gt;"));
        let dots = |html: &str, class: &str| {
            let at = html.find(&format!(r#"class="{class}" d=""#)).unwrap() + class.len() + 12;
            html[at..].split('"').next().unwrap().matches('M').count()
        };
        // the infinite cost is not drawn; the NaN value of the second parameter neither
        assert_eq!((dots(&panels[0], "dots"), dots(&panels[0], "dots dots-b")), (2, 1));
        assert_eq!((dots(&panels[1], "dots"), dots(&panels[1], "dots dots-b")), (2, 0));
        // the finite costs 0.2 … 0.9 hold the round values 0.2 and 0.5: a log axis
        assert!(panels[0].contains(">cost (log)</text>"), "{}", panels[0]);
    }
}
