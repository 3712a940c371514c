//! The calibration report of `hydrograd train`: one self-contained HTML page.
//!
//! [`render`] turns a [`Report`] into a single HTML document that needs nothing but a browser: styles
//! and scripts are inline, plots are inline SVG and parameter maps are PNG images in `data:` URIs. A
//! content security policy forbids every other load, so opening the page never touches the network.
//!
//! The page has four sections:
//! - **Summary**: the key/value table of [`Report::summary`].
//! - **Hydrographs**: one plot per gauge, observed against simulated discharge before and after
//!   calibration, dates on the time axis, the gauge's scores above it. Long series are decimated to
//!   the min/max envelope of each pixel column, so a plot stays small (tens of kB) for 10⁵ steps.
//! - **Cost**: the cost at every iteration of every stage, stage boundaries marked.
//! - **Search stages** (only when some stage ran a derivative-free method, see `search.rs`): per stage
//!   the convergence curve, a parameter table (posterior summary, `R̂` and Geweke for MCMC chains), the
//!   correlation matrix of the behavioural sets, dotty plots, posterior histograms and the predictive
//!   band of discharge at each gauge; for a multi-objective stage, its Pareto front (`pareto.rs`).
//! - **Parameter maps**: each map in viridis (inactive cells grey), with a colorbar giving min and max.
//!
//! A small script checks on load that every plot and map rendered and writes the result into
//! `<pre id="render-check">` (see `docs/report.md`); `tests/report_browser.rs` reads it back from
//! headless Chromium.
//!
//! # Example
//! ```
//! use hydrograd::report::{CostPoint, Report, render};
//!
//! let report = Report {
//!     title: "Calibration of Y3204040".into(),
//!     summary: vec![("structure".into(), "gr4-lr".into())],
//!     cost_curve: vec![CostPoint { stage: 0, iteration: 0, cost: 0.5, validation: None }],
//!     ..Report::default()
//! };
//! let html = render(&report);
//! assert!(html.starts_with("<!DOCTYPE html>") && html.contains("gr4-lr"));
//! ```

mod band;
mod colormap;
mod convergence;
mod cost_curve;
mod decimate;
mod dotty;
mod histogram;
mod hydrograph;
mod map;
mod page;
mod pareto;
mod scale;
mod search;
mod search_tables;
mod svg;
mod text;
mod time_axis;

/// Everything shown in the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Page title (also the `<title>`).
    pub title: String,
    /// Key/value rows of the summary table: config, structure, cells, steps, optimizers, final cost, timings.
    pub summary: Vec<(String, String)>,
    /// One hydrograph per gauge.
    pub hydrographs: Vec<Hydrograph>,
    /// The cost at every iteration of every stage, in the order they ran.
    pub cost_curve: Vec<CostPoint>,
    /// Calibrated parameter maps.
    pub maps: Vec<ParameterMap>,
    /// The diagnostics of each search stage, in the order they ran.
    pub searches: Vec<SearchSection>,
}

/// The diagnostics of one search stage (a derivative-free method): its evaluations, behavioural sets,
/// chain diagnostics and predictive band.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchSection {
    /// Stage number (1-based).
    pub stage: usize,
    /// The method's name, e.g. `dream`.
    pub method: String,
    /// How the behavioural sets were chosen, e.g. `best 10 % of the runs`.
    pub rule: String,
    /// The searched parameters `[d]`.
    pub names: Vec<String>,
    /// Every evaluation's parameter values, `[d][E]`, in evaluation order.
    pub values: Vec<Vec<f64>>,
    /// Every evaluation's cost `[E]` [-]; non-finite values are failed evaluations.
    pub costs: Vec<f64>,
    /// Whether each evaluation is behavioural `[E]`.
    pub behavioural: Vec<bool>,
    /// The behavioural sets `[d][B]` (the posterior sample: a chain state repeats once per draw it lasted).
    pub posterior: Vec<Vec<f64>>,
    /// MCMC chains (0: the method has none).
    pub chains: usize,
    /// Gelman–Rubin `R̂` per parameter `[d]` (chains only).
    pub r_hat: Option<Vec<f64>>,
    /// Geweke z-scores per parameter `[d][windows]` (chains only).
    pub geweke: Option<Vec<Vec<f64>>>,
    /// Correlation of the behavioural sets `[d][d]` (empty: fewer than 2 sets).
    pub correlation: Vec<Vec<f64>>,
    /// Parameter sets simulated for the predictive bands.
    pub band_sets: usize,
    /// The predictive band at each gauge (empty: none simulated).
    pub bands: Vec<PredictiveBand>,
    /// A multi-objective stage's Pareto front (`None` for one objective).
    pub pareto: Option<ParetoSection>,
}

/// The Pareto front of a multi-objective search stage, over its evaluations (those of [`SearchSection`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParetoSection {
    /// The objectives' names `[K]`, e.g. `nse`, `pbias`.
    pub objectives: Vec<String>,
    /// Every evaluation's minimised objective values `[K][E]` (e.g. −NSE), in evaluation order; non-finite
    /// values are failed evaluations.
    pub values: Vec<Vec<f64>>,
    /// The front's members, indices into the evaluations `[F]`.
    pub front: Vec<usize>,
    /// The member passed on to the next stage (an index into the evaluations).
    pub chosen: usize,
    /// How it was chosen, e.g. `compromise` or `best nse`.
    pub choice: String,
    /// The front's hypervolume against `reference`.
    pub hypervolume: f64,
    /// The hypervolume's reference point `[K]`.
    pub reference: Vec<f64>,
}

/// Percentiles of the discharge simulated with behavioural sets at one gauge, on the time axis of
/// [`Hydrograph`] (value `i` ends at `start_ms + i × dt_s × 1000`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PredictiveBand {
    /// Gauge code.
    pub code: String,
    /// End of the first time step [unix ms, UTC].
    pub start_ms: i64,
    /// Time step [s].
    pub dt_s: i64,
    /// Observed discharge `[T]` [m³/s]; negative or non-finite values are missing; may be empty.
    pub observed: Vec<f32>,
    /// 5 % discharge `[T]` [m³/s].
    pub lower: Vec<f32>,
    /// Median discharge `[T]` [m³/s].
    pub median: Vec<f32>,
    /// 95 % discharge `[T]` [m³/s].
    pub upper: Vec<f32>,
}

/// Discharge at one gauge. The three series share the time axis: value `i` is the mean over the step
/// ending at `start_ms + i × dt_s × 1000`. A series may be empty (not drawn).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hydrograph {
    /// Gauge code.
    pub code: String,
    /// End of the first time step [unix ms, UTC].
    pub start_ms: i64,
    /// Time step [s].
    pub dt_s: i64,
    /// Observed discharge `[T]` [m³/s]; negative or non-finite values are missing (gaps in the line).
    pub observed: Vec<f32>,
    /// Discharge simulated with the first guess `[T]` [m³/s].
    pub before: Vec<f32>,
    /// Discharge simulated with the calibrated parameters `[T]` [m³/s].
    pub after: Vec<f32>,
    /// Named scores shown above the plot, e.g. `("NSE before", 0.41)`.
    pub scores: Vec<(String, f64)>,
}

/// The cost after one iteration of one calibration stage.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CostPoint {
    /// Stage number (stages run one after the other).
    pub stage: usize,
    /// Iteration within the stage.
    pub iteration: usize,
    /// Cost [-]; non-finite values are gaps.
    pub cost: f64,
    /// The validation cost on held-out gauges (`[validation]`), drawn dashed when present.
    pub validation: Option<f64>,
}

/// A calibrated parameter on the grid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParameterMap {
    /// Parameter name, e.g. `cp`.
    pub name: String,
    /// Unit, e.g. `mm` (may be empty).
    pub unit: String,
    /// Number of grid rows.
    pub nrow: usize,
    /// Number of grid columns.
    pub ncol: usize,
    /// Values `[nrow, ncol]`, row-major, row 0 at the top (north); NaN marks inactive cells.
    pub values: Vec<f32>,
}

/// Renders `report` as one self-contained HTML document (UTF-8).
///
/// Every user string is HTML-escaped. A map whose `values` do not have `nrow × ncol` entries is
/// replaced by an error message in the page.
///
/// # Returns
/// The HTML text, to be written to a `.html` file.
pub fn render(report: &Report) -> String {
    let sections = page::Sections {
        hydrographs: report.hydrographs.iter().enumerate().map(|(i, h)| hydrograph::figure(h, i)).collect(),
        cost: cost_curve::figure(&report.cost_curve),
        maps: report.maps.iter().enumerate().map(|(i, m)| map::figure(m, i)).collect(),
        searches: report.searches.iter().map(search::section).collect(),
    };
    page::document(&report.title, &report.summary, &sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_report_is_a_complete_page() {
        let html = render(&Report::default());
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
        assert!(html.contains("No gauges.") && html.contains("No parameter maps.") && html.contains("no iterations"));
        assert_eq!(html.matches(r#"<svg class="plot""#).count(), 1);
    }

    #[test]
    fn user_strings_are_escaped_everywhere() {
        let evil = "<script>alert(1)</script>";
        let report = Report {
            title: evil.into(),
            summary: vec![(evil.into(), "/data/<x>&y.toml".into())],
            hydrographs: vec![Hydrograph {
                code: evil.into(),
                start_ms: 0,
                dt_s: 3600,
                observed: vec![1.0],
                before: vec![1.0],
                after: vec![1.0],
                scores: vec![(evil.into(), 1.0)],
            }],
            cost_curve: vec![],
            maps: vec![ParameterMap { name: evil.into(), unit: evil.into(), nrow: 1, ncol: 1, values: vec![1.0] }],
            searches: vec![SearchSection {
                method: evil.into(),
                rule: evil.into(),
                names: vec![evil.into()],
                values: vec![vec![1.0, 2.0]],
                costs: vec![0.5, 0.4],
                behavioural: vec![false, true],
                posterior: vec![vec![2.0]],
                bands: vec![PredictiveBand {
                    code: evil.into(),
                    start_ms: 0,
                    dt_s: 3600,
                    observed: vec![1.0],
                    lower: vec![0.5],
                    median: vec![1.0],
                    upper: vec![1.5],
                }],
                ..SearchSection::default()
            }],
        };
        let html = render(&report);
        assert!(!html.contains("alert(1)</script>"), "unescaped user string");
        assert!(html.contains("/data/&lt;x&gt;&amp;y.toml"));
        assert_eq!(html.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count(), 10 + 9, "{html}");
    }

    #[test]
    fn page_loads_nothing_from_outside() {
        let html = render(&Report {
            maps: vec![ParameterMap { name: "cp".into(), unit: "mm".into(), nrow: 2, ncol: 2, values: vec![1.0; 4] }],
            ..Report::default()
        });
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(html.contains("default-src 'none'"));
        for attr in [" src=\"", " href=\""] {
            for (at, _) in html.match_indices(attr) {
                let value = &html[at + attr.len()..];
                assert!(value.starts_with("data:image/png;base64,") || value.starts_with('#'), "{}", &value[..40]);
            }
        }
    }
}
