//! The Pareto front of a multi-objective search stage: a table (the front's size, its hypervolume with the
//! reference point, the member passed on and the best member of each objective) and one scatter panel per
//! pair of objectives: every evaluation in grey, the front in blue, the member passed on circled in red.

use std::fmt::Write;

use super::ParetoSection;
use super::dotty::{MAX_DOTS, thin};
use super::svg::{self, Frame, PANEL};
use super::text::{escape, fmt_sig};
use crate::samplers::diagnostics::percentile;

/// Each axis shows the front and the evaluations up to this percentile of the objective, so that a few
/// very poor sets do not squeeze the front into a corner.
const AXIS_PERCENTILE: f64 = 90.0;

/// The `<div class="card">` of the front of stage `stage`.
pub(crate) fn figure(stage: usize, p: &ParetoSection) -> String {
    let k = p.objectives.len();
    let shown = thin(&in_front(p), MAX_DOTS);
    let panels: Vec<String> = (0..k)
        .flat_map(|a| (a + 1..k).map(move |b| (a, b)))
        .enumerate()
        .map(|(i, (a, b))| panel(stage, i, p, (a, b), &shown))
        .collect();
    let caption = format!(
        "{} of the {} evaluations against each pair of objectives (minimised values; axes to the {AXIS_PERCENTILE} % \
         percentile of the evaluations); the front in blue, the member passed on circled",
        shown.len(),
        p.values.first().map_or(0, Vec::len)
    );
    format!(
        r#"<figure class="card" id="pareto-{stage}"><figcaption><h4>Pareto front</h4><p class="meta">{caption}</p></figcaption>{}<div class="panels">{}</div></figure>"#,
        table(p),
        panels.concat()
    )
}

/// Whether each evaluation is on the front `[E]`.
fn in_front(p: &ParetoSection) -> Vec<bool> {
    let mut flags = vec![false; p.values.first().map_or(0, Vec::len)];
    for &i in &p.front {
        flags[i] = true;
    }
    flags
}

/// The front's size, hypervolume and reference point, then the member passed on and the best member of
/// each objective with their objective values.
fn table(p: &ParetoSection) -> String {
    let reference: Vec<String> = p.reference.iter().map(|&r| fmt_sig(r, 4)).collect();
    let mut out = format!(
        r#"<table class="stats pareto"><tr><th>front</th><td colspan="{}">{} members · hypervolume {} (reference point ({}))</td></tr><tr><th>member</th><th>evaluation</th>"#,
        p.objectives.len() + 1,
        p.front.len(),
        fmt_sig(p.hypervolume, 4),
        reference.join(", ")
    );
    for name in &p.objectives {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out.push_str("</tr>");
    let best = |o: usize| {
        let value = |i: usize| if p.values[o][i].is_nan() { f64::INFINITY } else { p.values[o][i] };
        p.front.iter().copied().min_by(|&a, &b| value(a).total_cmp(&value(b)))
    };
    let mut rows = vec![(format!("passed on ({})", p.choice), Some(p.chosen))];
    rows.extend(p.objectives.iter().enumerate().map(|(o, name)| (format!("best {name}"), best(o))));
    for (label, member) in rows {
        let Some(i) = member else { continue };
        let _ = write!(out, "<tr><th>{}</th><td>{i}</td>", escape(&label));
        for column in &p.values {
            let _ = write!(out, "<td>{}</td>", fmt_sig(column[i], 4));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// The range of an axis: the finite values of the front and of the evaluations up to [`AXIS_PERCENTILE`].
fn range(values: &[f64], front: &[usize]) -> (f64, f64) {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let cap = percentile(&finite, AXIS_PERCENTILE);
    let kept =
        finite.iter().copied().filter(|&v| v <= cap).chain(front.iter().map(|&i| values[i]).filter(|v| v.is_finite()));
    kept.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Panel `i` (`<svg class="plot panel" id="search-{stage}-pareto-{i}">`): objective `b` against `a`.
fn panel(stage: usize, i: usize, p: &ParetoSection, (a, b): (usize, usize), shown: &[usize]) -> String {
    let (xs, ys) = (&p.values[a], &p.values[b]);
    let ticks = |(lo, hi): (f64, f64)| if lo <= hi { svg::nice_ticks(lo, hi, 4) } else { svg::nice_ticks(0.0, 1.0, 4) };
    let (x_range, y_range) = (range(xs, &p.front), range(ys, &p.front));
    let ((x0, x1), x_ticks) = ticks(x_range);
    let ((y0, y1), y_ticks) = ticks(y_range);
    let frame = Frame::sized(PANEL, (x0, x1), (y0, y1));
    let (x_name, y_name) = (&p.objectives[a], &p.objectives[b]);
    let mut plot = svg::open_panel(&format!("search-{stage}-pareto-{i}"), &format!("{y_name} against {x_name}"));
    plot.push_str(&svg::axes(&frame, &x_ticks, &y_ticks, x_name, y_name));
    // by the data ranges: the ticks' ends may round a hair inside them
    let inside = |k: usize| (x_range.0..=x_range.1).contains(&xs[k]) && (y_range.0..=y_range.1).contains(&ys[k]);
    let flags = in_front(p);
    for (class, wanted) in [("dots", false), ("dots dots-f", true)] {
        let mut d = String::new();
        for &k in shown.iter().filter(|&&k| flags[k] == wanted && inside(k)) {
            let _ = write!(d, "M{:.1} {:.1}h0", frame.px(xs[k]), frame.py(ys[k]));
        }
        let _ = write!(plot, r#"<path class="{class}" d="{d}"/>"#);
    }
    if inside(p.chosen) {
        let (cx, cy) = (frame.px(xs[p.chosen]), frame.py(ys[p.chosen]));
        let _ = write!(plot, r#"<circle class="chosen" cx="{cx:.1}" cy="{cy:.1}" r="6"/>"#);
    }
    if shown.is_empty() {
        plot.push_str(&svg::note(&frame, "no evaluations"));
    }
    plot.push_str("</svg>");
    plot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front() -> ParetoSection {
        // 6 evaluations of (−NSE, |pbias|): the front is 0, 2, 4; 5 failed
        ParetoSection {
            objectives: vec!["nse".into(), "pbias".into()],
            values: vec![vec![-0.9, -0.5, -0.8, -0.7, -0.6, f64::INFINITY], vec![12.0, 20.0, 4.0, 6.0, 1.0, 3.0]],
            front: vec![0, 2, 4],
            chosen: 2,
            choice: "compromise".into(),
            hypervolume: 0.123,
            reference: vec![-0.57, 13.1],
        }
    }

    #[test]
    fn the_table_gives_the_front_and_its_extreme_members() {
        let html = table(&front());
        assert!(html.contains("3 members · hypervolume 0.123 (reference point (-0.57, 13.1))"), "{html}");
        assert!(html.contains("<tr><th>passed on (compromise)</th><td>2</td><td>-0.8</td><td>4</td></tr>"), "{html}");
        assert!(html.contains("<tr><th>best nse</th><td>0</td><td>-0.9</td><td>12</td></tr>"), "{html}");
        assert!(html.contains("<tr><th>best pbias</th><td>4</td><td>-0.6</td><td>1</td></tr>"), "{html}");
    }

    #[test]
    fn one_panel_per_pair_with_the_front_and_the_choice() {
        let html = figure(3, &front());
        assert_eq!(html.matches(r#"<svg class="plot panel""#).count(), 1);
        assert!(html.contains(r#"id="search-3-pareto-0""#) && html.contains(r#"<circle class="chosen""#));
        let dots = |class: &str| {
            let at = html.find(&format!(r#"class="{class}" d=""#)).unwrap() + class.len() + 12;
            html[at..].split('"').next().unwrap().matches('M').count()
        };
        // the failed evaluation is not drawn, nor the one past the 90 % percentile of nse or pbias (1)
        assert_eq!((dots("dots"), dots("dots dots-f")), (1, 3));
        let three = ParetoSection {
            objectives: vec!["nse".into(), "pbias".into(), "kge".into()],
            values: vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![0.5, 0.5]],
            front: vec![0, 1],
            chosen: 0,
            ..front()
        };
        assert_eq!(figure(1, &three).matches(r#"<svg class="plot panel""#).count(), 3);
    }
}
