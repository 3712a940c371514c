//! The tables of a search stage: a parameter summary (best set, posterior percentiles, Gelman–Rubin `R̂`
//! and Geweke z-scores) and the correlation matrix of the behavioural sets as coloured cells.

use std::fmt::Write;

use super::SearchSection;
use super::text::{escape, fmt_sig};
use crate::samplers::diagnostics::percentile;

/// `R̂` above this is flagged as not converged.
pub(crate) const R_HAT_LIMIT: f64 = 1.2;

/// The parameter table: per parameter the best set's value, the posterior mean, standard deviation and
/// 5/50/95 % percentiles; with chains, `R̂` (flagged above [`R_HAT_LIMIT`]) and the Geweke scores' largest
/// `|z|` with the share of windows beyond 2.
pub(crate) fn parameters(s: &SearchSection) -> String {
    let best =
        (0..s.costs.len()).filter(|&k| s.costs[k].is_finite()).min_by(|&a, &b| s.costs[a].total_cmp(&s.costs[b]));
    let chains = s.chains > 0;
    let mut out = String::from(
        r#"<table class="stats"><tr><th>parameter</th><th>best</th><th>mean</th><th>sd</th><th>5 %</th><th>50 %</th><th>95 %</th>"#,
    );
    if chains {
        out.push_str(r#"<th title="Gelman–Rubin potential scale reduction of the chains' second halves">R̂</th>"#);
        out.push_str(
            r#"<th title="Geweke z-scores of the pooled second halves">Geweke max |z|</th><th>windows |z| &gt; 2</th>"#,
        );
    }
    out.push_str("</tr>");
    for (i, name) in s.names.iter().enumerate() {
        let post: Vec<f64> =
            s.posterior.get(i).map_or(Vec::new(), |p| p.iter().copied().filter(|v| v.is_finite()).collect());
        let n = post.len() as f64;
        let mean = post.iter().sum::<f64>() / n;
        let sd = if post.len() > 1 {
            (post.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        let cell = |v: f64| if v.is_nan() { "–".to_string() } else { fmt_sig(v, 4) };
        let _ =
            write!(out, "<tr><th>{}</th><td>{}</td>", escape(name), cell(best.map_or(f64::NAN, |k| s.values[i][k])));
        for v in [mean, sd, percentile(&post, 5.0), percentile(&post, 50.0), percentile(&post, 95.0)] {
            let _ = write!(out, "<td>{}</td>", cell(v));
        }
        if chains {
            match s.r_hat.as_ref().and_then(|r| r.get(i)) {
                Some(&r) if r.is_nan() || r > R_HAT_LIMIT => {
                    let _ = write!(
                        out,
                        r#"<td class="flag" title="not converged (R̂ &gt; {R_HAT_LIMIT})">{} ⚑</td>"#,
                        cell(r)
                    );
                }
                Some(&r) => {
                    let _ = write!(out, "<td>{}</td>", cell(r));
                }
                None => out.push_str("<td>–</td>"),
            }
            let z = s.geweke.as_ref().and_then(|g| g.get(i)).map_or(&[][..], Vec::as_slice);
            let max = z.iter().fold(f64::NAN, |a, v| if a.is_nan() || v.abs() > a { v.abs() } else { a });
            let beyond = z.iter().filter(|v| v.abs() > 2.0).count();
            let share = if z.is_empty() { "–".to_string() } else { format!("{beyond} of {}", z.len()) };
            let _ = write!(out, "<td>{}</td><td>{share}</td>", cell(max));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    if chains && s.r_hat.is_none() {
        out.push_str(r#"<p class="meta">R̂ needs at least 2 chains of 2 draws.</p>"#);
    }
    out
}

/// The background of a correlation `r`: white at 0, towards red for +1 and blue for −1; grey for `NaN`.
pub(crate) fn correlation_color(r: f64) -> String {
    if r.is_nan() {
        return "#e4e7eb".into();
    }
    let target: [f64; 3] =
        if r > 0.0 { [0xd1 as f64, 0x49 as f64, 0x5b as f64] } else { [0x1f as f64, 0x6f as f64, 0xb4 as f64] };
    let t = r.abs().min(1.0);
    let [red, green, blue] = target.map(|c| (255.0 + (c - 255.0) * t).round() as u8);
    format!("#{red:02x}{green:02x}{blue:02x}")
}

/// The correlation matrix of the behavioural sets as a table of coloured cells.
pub(crate) fn correlation(s: &SearchSection) -> String {
    if s.correlation.is_empty() {
        return r#"<p class="empty">Fewer than 2 behavioural sets: no correlation.</p>"#.into();
    }
    let mut out = String::from(r#"<table class="corr"><tr><th></th>"#);
    for name in &s.names {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    out.push_str("</tr>");
    for (name, row) in s.names.iter().zip(&s.correlation) {
        let _ = write!(out, "<tr><th>{}</th>", escape(name));
        for &r in row {
            let text = if r.abs() > 0.6 { " light" } else { "" };
            // `+ 0.0` turns a rounded −0 into 0
            let value =
                if r.is_nan() { "–".to_string() } else { format!("{:.2}", (r * 100.0).round() / 100.0 + 0.0) };
            let _ = write!(out, r#"<td class="r{text}" style="background:{}">{value}</td>"#, correlation_color(r));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section() -> SearchSection {
        SearchSection {
            stage: 1,
            method: "dream".into(),
            names: vec!["cp".into(), "ct".into()],
            values: vec![vec![100.0, 200.0, 300.0], vec![1.0, 2.0, 3.0]],
            costs: vec![0.5, 0.2, f64::NAN],
            behavioural: vec![false, true, true],
            posterior: vec![vec![200.0, 300.0, 300.0], vec![2.0, 3.0, 3.0]],
            chains: 3,
            r_hat: Some(vec![1.05, 1.7]),
            geweke: Some(vec![vec![0.5, -2.5, 1.0], vec![]]),
            correlation: vec![vec![1.0, -0.8], vec![-0.8, 1.0]],
            ..SearchSection::default()
        }
    }

    #[test]
    fn parameter_table_flags_unconverged_chains() {
        let html = parameters(&section());
        assert_eq!(html.matches(r#"class="flag""#).count(), 1);
        assert!(html.contains("<td>1.05</td>") && html.contains("1.7 ⚑"), "{html}");
        // best is the second evaluation; the posterior mean of cp is 266.7
        assert!(html.contains("<tr><th>cp</th><td>200</td><td>266.7</td>"), "{html}");
        assert!(html.contains("<td>2.5</td><td>1 of 3</td>"), "{html}");
        let glue = SearchSection { chains: 0, r_hat: None, geweke: None, ..section() };
        assert!(!parameters(&glue).contains("R̂"));
    }

    #[test]
    fn correlation_cells_are_coloured() {
        assert_eq!(correlation_color(0.0), "#ffffff");
        assert_eq!(correlation_color(1.0), "#d1495b");
        assert_eq!(correlation_color(-1.0), "#1f6fb4");
        let html = correlation(&section());
        assert_eq!(html.matches("<td ").count(), 4);
        assert!(html.contains(r#"<td class="r light" style="background:#"#) && html.contains(">-0.80<"));
        let none = SearchSection { correlation: vec![], ..section() };
        assert!(correlation(&none).contains("Fewer than 2"));
    }
}
