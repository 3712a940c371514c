//! One search stage's part of the page: a header with the run's numbers, then the convergence curve,
//! the parameter table (posterior summary, `R̂` and Geweke), the correlation matrix, the dotty plots, the
//! posterior histograms and the predictive band at each gauge; a multi-objective stage's Pareto front after
//! the convergence curve.

use std::fmt::Write;

use super::SearchSection;
use super::text::{escape, fmt_sig};
use super::{band, convergence, dotty, histogram, pareto, search_tables};

/// The `<article class="search-stage" id="search-stage-{stage}">` of `s`.
pub(crate) fn section(s: &SearchSection) -> String {
    let stage = s.stage;
    let best = s.costs.iter().copied().filter(|c| c.is_finite()).fold(f64::INFINITY, f64::min);
    let unique = s.behavioural.iter().filter(|&&b| b).count();
    let draws = s.posterior.first().map_or(0, Vec::len);
    let mut meta = format!(
        "{} evaluations · best cost {} · behavioural: {} ({unique} sets",
        s.costs.len(),
        fmt_sig(best, 4),
        escape(&s.rule)
    );
    if draws != unique {
        let _ = write!(meta, ", {draws} draws");
    }
    meta.push(')');
    if s.chains > 0 {
        let _ = write!(meta, " · {} chains", s.chains);
    }
    let mut out = format!(
        r#"<article class="search-stage" id="search-stage-{stage}"><h3 class="stage-title">Stage {stage}: <code>{}</code></h3><p class="meta">{meta}</p>"#,
        escape(&s.method)
    );
    out.push_str(&convergence::figure(stage, &s.costs));
    if let Some(p) = &s.pareto {
        out.push_str(&pareto::figure(stage, p));
    }
    let _ = write!(
        out,
        r#"<div class="card"><h4>Parameters of the behavioural sets</h4>{}</div><div class="card"><h4>Correlation of the behavioural sets</h4>{}</div>"#,
        search_tables::parameters(s),
        search_tables::correlation(s)
    );
    let shown = s.costs.len().min(dotty::MAX_DOTS);
    let grids = [
        (
            "Dotty plots",
            format!(
                "cost of {shown} of the {} evaluations against each parameter; behavioural sets in red",
                s.costs.len()
            ),
            dotty::panels(stage, &s.names, &s.values, &s.costs, &s.behavioural),
        ),
        (
            "Posterior histograms",
            format!("the behavioural sets' values ({draws})"),
            histogram::panels(stage, &s.names, &s.posterior),
        ),
    ];
    for (title, caption, panels) in grids {
        let _ = write!(
            out,
            r#"<figure class="card"><figcaption><h4>{title}</h4><p class="meta">{caption}</p></figcaption><div class="panels">{}</div></figure>"#,
            panels.concat()
        );
    }
    if s.bands.is_empty() {
        out.push_str(r#"<p class="empty">No predictive band: no behavioural set.</p>"#);
    }
    for (j, b) in s.bands.iter().enumerate() {
        out.push_str(&band::figure(stage, b, j, s.band_sets));
    }
    out.push_str("</article>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::PredictiveBand;

    fn stage(chains: usize) -> SearchSection {
        let e = 300;
        let values: Vec<Vec<f64>> = (0..3).map(|p| (0..e).map(|k| ((k * (p + 3)) % 97) as f64).collect()).collect();
        let costs: Vec<f64> = (0..e).map(|k| 1.0 + ((k * 7) % 50) as f64 / 10.0).collect();
        let behavioural: Vec<bool> = costs.iter().map(|&c| c < 1.5).collect();
        let posterior = values.iter().map(|v| (0..e).filter(|&k| behavioural[k]).map(|k| v[k]).collect()).collect();
        let band = PredictiveBand {
            code: "Y1".into(),
            start_ms: 1_633_050_000_000,
            dt_s: 3600,
            observed: vec![1.0; 48],
            lower: vec![0.5; 48],
            median: vec![1.0; 48],
            upper: vec![1.5; 48],
        };
        SearchSection {
            stage: 2,
            method: "dream".into(),
            rule: "states of the second half of each chain".into(),
            names: vec!["cp".into(), "ct".into(), "llr".into()],
            values,
            costs,
            behavioural,
            posterior,
            chains,
            r_hat: (chains > 0).then(|| vec![1.01, 1.5, 1.1]),
            geweke: (chains > 0).then(|| vec![vec![0.3; 20]; 3]),
            correlation: vec![vec![1.0, 0.1, 0.2], vec![0.1, 1.0, 0.3], vec![0.2, 0.3, 1.0]],
            band_sets: 30,
            bands: vec![band.clone(), PredictiveBand { code: "Y2".into(), ..band }],
            pareto: None,
        }
    }

    #[test]
    fn a_stage_has_every_plot_and_table() {
        let html = section(&stage(5));
        assert!(
            html.starts_with(r#"<article class="search-stage" id="search-stage-2">"#) && html.ends_with("</article>")
        );
        // convergence, 3 dotty panels, 3 histograms, 2 bands
        assert_eq!(html.matches(r#"<svg class="plot"#).count(), 1 + 3 + 3 + 2);
        assert_eq!(html.matches(r#"<svg class="plot panel""#).count(), 6);
        assert!(html.contains("300 evaluations · best cost 1 · behavioural:"), "{html}");
        assert!(html.contains(" · 5 chains") && html.contains("⚑") && html.contains(r#"<table class="corr">"#));
        assert!(html.contains(r#"id="search-2-band-1""#) && html.contains("median of 30 behavioural sets"));
        let glue = section(&SearchSection { bands: vec![], rule: "best 10 % of the runs".into(), ..stage(0) });
        assert!(!glue.contains("chains") && !glue.contains("R̂") && glue.contains("No predictive band"));
        assert_eq!(glue.matches(r#"<svg class="plot"#).count(), 1 + 3 + 3);
        // three objectives: a table and 3 panels after the convergence curve
        let e = 300;
        let pareto = crate::report::ParetoSection {
            objectives: vec!["nse".into(), "kge".into(), "pbias".into()],
            values: (0..3).map(|o| (0..e).map(|k| ((k * (o + 2)) % 11) as f64).collect()).collect(),
            front: vec![0, 11],
            chosen: 11,
            choice: "compromise".into(),
            hypervolume: 2.0,
            reference: vec![1.0; 3],
        };
        let multi = section(&SearchSection { pareto: Some(pareto), ..stage(0) });
        assert_eq!(multi.matches(r#"<svg class="plot"#).count(), 1 + 3 + 3 + 3 + 2);
        let (convergence, front) = (multi.find(r#"id="search-2-convergence""#), multi.find(r#"id="pareto-2""#));
        assert!(convergence.is_some() && front > convergence, "the front follows the convergence curve");
    }
}
