//! Cost terms comparing simulated and observed discharge (spec §7).

pub mod metrics;

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
