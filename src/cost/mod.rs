//! Cost terms comparing simulated and observed discharge (spec §7).
//!
//! * [`options`]: smash's `cost_options` ([`CostOptions`]), validated from a TOML table.
//! * [`observation`]: the observation cost `J_obs` and its gradient ([`ObservationCost`]), built on
//!   [`efficiency`] metrics, [`signatures`] (with the [`baseflow`] filter and [`quantile`]s) and flood
//!   events from [`segmentation`]; [`gauge_forcing`] gives the gauge mean precipitation it needs.
//! * [`regularization`]: the prior and smoothing terms.
//! * [`metrics`]: plain f32 NSE/KGE for run summaries ([`gauge_scores`]).

pub mod baseflow;
pub mod efficiency;
pub mod gauge_forcing;
pub mod metrics;
pub mod observation;
pub mod options;
pub mod quantile;
pub mod regularization;
pub mod segmentation;
pub mod signatures;

pub use efficiency::Metric;
pub use gauge_forcing::{downstream_gauges, gauge_areas, gauge_mean_forcing};
pub use observation::{CostSetup, Evaluation, ObservationCost};
pub use options::{CostError, CostOptions, JobsComponent, RawCostOptions, RegComponent, RegWeight, Transform};
pub use regularization::{Smoothing, prior};
pub use signatures::Signature;

/// Efficiency of the simulation at one gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeScore {
    pub code: String,
    /// Number of observed steps.
    pub observed: usize,
    pub nse: Option<f32>,
    pub kge: Option<f32>,
}

/// NSE and KGE at every gauge with at least one observation; `qobs`, `qsim`: `[T, G]`.
pub fn gauge_scores(codes: &[String], qobs: &[f32], qsim: &[f32]) -> Vec<GaugeScore> {
    let g = codes.len();
    let column = |v: &[f32], j: usize| -> Vec<f32> { v.iter().skip(j).step_by(g).copied().collect() };
    (0..g)
        .filter_map(|j| {
            let (obs, sim) = (column(qobs, j), column(qsim, j));
            let observed = obs.iter().filter(|&&x| x >= 0.0).count();
            (observed > 0).then(|| GaugeScore {
                code: codes[j].clone(),
                observed,
                nse: metrics::nse(&obs, &sim),
                kge: metrics::kge(&obs, &sim),
            })
        })
        .collect()
}
