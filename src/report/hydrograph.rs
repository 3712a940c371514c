//! One gauge's hydrograph: observed, first-guess and calibrated discharge against dates, with scores.

use std::fmt::Write;

use super::Hydrograph;
use super::decimate::envelope;
use super::svg::{self, Frame};
use super::text::{escape, fmt_sig};
use super::time_axis::{date_ticks, label};

/// An observation is missing when negative (smash's -99) or not finite.
fn observed(v: f32) -> bool {
    v.is_finite() && v >= 0.0
}

fn simulated(v: f32) -> bool {
    v.is_finite()
}

/// A series to draw: values `[T]`, which values are drawn, CSS class and legend label.
type Series<'a> = (&'a [f32], fn(f32) -> bool, &'static str, &'static str);

/// A `<figure>` with the gauge's code, period, scores and its plot (`<svg class="plot" id="hydrograph-{index}">`).
pub(crate) fn figure(h: &Hydrograph, index: usize) -> String {
    let dt_ms = h.dt_s.max(1) * 1000;
    let steps = h.observed.len().max(h.before.len()).max(h.after.len());
    let time = |i: usize| (h.start_ms + i as i64 * dt_ms) as f64;
    let t_end = h.start_ms + steps.saturating_sub(1) as i64 * dt_ms;

    let series: [Series; 3] = [
        (&h.before, simulated, "s-before", "simulated, first guess"),
        (&h.after, simulated, "s-after", "simulated, calibrated"),
        (&h.observed, observed, "s-obs", "observed"),
    ];
    let (mut lo, mut hi) = (0.0f64, f64::NEG_INFINITY);
    for (values, valid, ..) in &series {
        for &v in values.iter().filter(|&&v| valid(v)) {
            lo = lo.min(v as f64);
            hi = hi.max(v as f64);
        }
    }
    let has_data = hi.is_finite();
    let ((y0, y1), y_ticks) = svg::nice_ticks(lo, if has_data { hi } else { 1.0 }, 5);
    let frame = Frame::new((h.start_ms as f64, t_end as f64), (y0, y1));
    let x_ticks = date_ticks(h.start_ms, t_end, frame.columns() as f64);

    let mut plot = svg::open(&format!("hydrograph-{index}"), &format!("Hydrograph of gauge {}", h.code));
    plot.push_str(&svg::axes(&frame, &x_ticks, &y_ticks, "time (UTC)", "discharge [m³/s]"));
    let mut legend = Vec::new();
    for (values, valid, class, name) in series {
        if values.is_empty() {
            continue;
        }
        let runs = envelope(values, frame.columns(), valid);
        let d = svg::path_data(&runs, |i| (frame.px(time(i)), frame.py(values[i] as f64)));
        let _ = write!(plot, r#"<path class="series {class}" d="{d}"/>"#);
        legend.push((class, if runs.is_empty() { format!("{name} (no data)") } else { name.to_string() }));
    }
    plot.push_str(&svg::legend(&legend));
    if !has_data {
        plot.push_str(&svg::note(&frame, "no data"));
    }
    plot.push_str("</svg>");

    let period = match (label(h.start_ms, "%Y-%m-%d %H:%M"), label(t_end, "%Y-%m-%d %H:%M")) {
        (Some(a), Some(b)) if steps > 0 => format!("{a} → {b} UTC · {steps} steps of {}", duration(h.dt_s)),
        _ => "no time steps".to_string(),
    };
    let mut scores = String::new();
    for (name, value) in &h.scores {
        let _ = write!(scores, "<li>{} <b>{}</b></li>", escape(name), fmt_sig(*value, 4));
    }
    format!(
        r#"<figure class="card"><figcaption><h3>Gauge <code>{}</code></h3><p class="meta">{}</p><ul class="scores">{scores}</ul></figcaption>{plot}</figure>"#,
        escape(&h.code),
        escape(&period),
    )
}

/// `dt_s` [s] in the largest whole unit (`1 h`, `15 min`, `1 d`).
fn duration(dt_s: i64) -> String {
    match dt_s {
        s if s > 0 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s > 0 && s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s > 0 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauge(observed: Vec<f32>, before: Vec<f32>, after: Vec<f32>) -> Hydrograph {
        Hydrograph {
            code: "Y<3204>&\"040\"".into(),
            start_ms: 1_577_840_400_000, // 2020-01-01 01:00 UTC
            dt_s: 3600,
            observed,
            before,
            after,
            scores: vec![("NSE <after>".into(), 0.8345)],
        }
    }

    #[test]
    fn escapes_code_and_score_names() {
        let html = figure(&gauge(vec![1.0, 2.0], vec![1.0, 1.5], vec![1.1, 1.9]), 0);
        assert!(html.contains("Y&lt;3204&gt;&amp;&quot;040&quot;"), "{html}");
        assert!(html.contains("NSE &lt;after&gt; <b>0.8345</b>"));
        assert!(!html.contains("<3204>") && !html.contains("<after>"));
        assert!(html.contains("2020-01-01 01:00 → 2020-01-01 02:00 UTC · 2 steps of 1 h"), "{html}");
    }

    #[test]
    fn no_observations_still_draws_simulations() {
        let html = figure(&gauge(vec![-99.0; 48], vec![1.0; 48], vec![2.0; 48]), 3);
        assert!(html.contains(r#"id="hydrograph-3""#));
        assert!(html.contains("observed (no data)"));
        assert!(html.contains(r#"class="series s-after" d="M"#));
        assert!(html.contains(r#"class="series s-obs" d="""#));
        assert!(!html.contains("class=\"note\""));
    }

    #[test]
    fn empty_series_say_no_data() {
        let html = figure(&gauge(vec![], vec![], vec![]), 0);
        assert!(html.contains(">no data</text>") && html.contains("no time steps"));
        assert!(html.starts_with("<figure") && html.ends_with("</figure>"));
    }

    #[test]
    fn long_series_stay_small() {
        let n = 100_000;
        let wave: Vec<f32> = (0..n).map(|i| 10.0 + 9.0 * ((i as f32) * 0.01).sin()).collect();
        let html = figure(&gauge(wave.clone(), wave.clone(), wave), 0);
        assert!(html.len() < 200_000, "{} bytes", html.len());
    }
}
