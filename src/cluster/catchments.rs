//! Multi-catchment training: a gradient stage on a mesh of several independent catchments
//! ([`components`]) spread over the ranks. Each rank simulates its share ([`Share`]) forward and
//! backward; rank 0 adds the ranks' costs and control gradients in rank order (a reduce to rank 0, where
//! the optimizer runs), so one optimizer step sees every catchment. The mapping (uniform, regional, `ann`,
//! the hybrid network's weights) is shared: each rank pulls its share's field gradient back through it.

use crate::calibration::cost::{CalibrationCostError, GaugeCost};
use crate::calibration::objective::Problem;
use crate::config::Config;
use crate::cost::RawCostOptions;
use crate::cost::options::{OneOrMany, RawWeights};
use crate::mesh::components::{assign, components};
use crate::model::{Fields, Inputs, forward_cost, gauge_cells, gradient, simulate_batch};
use hydrograd_models::adjoint::AdjointOptions;

/// Whether a gradient stage with `cost` on `inputs` can be spread over `ranks ≥ 2` ranks: at least two
/// independent catchments, and a cost that is a weighted sum over gauges (not a quantile of them).
pub fn spreadable(inputs: &Inputs, cost: &GaugeCost, ranks: usize) -> bool {
    ranks >= 2 && cost.options.wgauge.iter().all(|&w| w >= 0.0) && components(&inputs.mesh).len() >= 2
}

/// The gauges (indices of `mesh.gauges`, ascending) of each rank's share.
pub fn gauges_per_rank(inputs: &Inputs, ranks: usize) -> Vec<Vec<usize>> {
    let parts = components(&inputs.mesh);
    assign(&parts, ranks)
        .iter()
        .map(|share| {
            let mut gauges: Vec<usize> = share.iter().flat_map(|&c| parts[c].gauges.iter().copied()).collect();
            gauges.sort_unstable();
            gauges
        })
        .collect()
}

/// One rank's share of the catchments: its inputs and its part of the cost.
pub struct Share {
    /// Its active cells, as positions in the whole mesh's routing order, ascending.
    pub cells: Vec<usize>,
    /// Its gauges, as indices of the whole mesh's gauges, ascending.
    pub gauges: Vec<usize>,
    pub inputs: Inputs,
    /// The cost's terms on its gauges with their weights in the whole cost; `None` when none of its gauges
    /// is in the cost.
    pub cost: Option<GaugeCost>,
    gauge_cells: Vec<usize>,
}

/// A share's evaluation: its part of `J_obs`, of `∂J_obs/∂x` (`[n]`, empty when not asked) and the
/// discharge at its gauges `[T, G′]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub jobs: f64,
    pub gradient: Vec<f64>,
    pub qsim: Vec<f32>,
}

impl Share {
    /// Rank `rank`'s share of `ranks`, with the part of `cost` (the whole stage's, from `raw`) on its gauges.
    pub fn new(
        config: &Config,
        inputs: &Inputs,
        (raw, cost): (&RawCostOptions, &GaugeCost),
        ranks: usize,
        rank: usize,
    ) -> Result<Share, CalibrationCostError> {
        let parts = components(&inputs.mesh);
        let mine = &assign(&parts, ranks)[rank];
        let mut cells: Vec<usize> = mine.iter().flat_map(|&c| parts[c].cells.iter().copied()).collect();
        cells.sort_unstable();
        let gauges = gauges_per_rank(inputs, ranks).swap_remove(rank);
        let sub = inputs.restricted(&cells, &gauges);
        let options = &cost.options;
        let in_cost: Vec<usize> = gauges.iter().copied().filter(|&g| options.gauge[g]).collect();
        let cost = if in_cost.is_empty() {
            None
        } else {
            let codes = in_cost.iter().map(|&g| inputs.mesh.gauges[g].code.clone()).collect();
            let raw = RawCostOptions {
                gauge: Some(OneOrMany::Many(codes)),
                wgauge: Some(RawWeights::Many(in_cost.iter().map(|&g| options.wgauge[g]).collect())),
                ..raw.clone()
            };
            Some(GaugeCost::new(config, &sub, &raw, &format!("cost_options of MPI rank {rank}'s catchments"))?)
        };
        let gauge_cells = gauge_cells(&sub.mesh);
        Ok(Share { cells, gauges, inputs: sub, cost, gauge_cells })
    }

    /// The share's part of `J_obs` at `x` of `problem` (the whole stage's), its part of the gradient when
    /// `want_gradient`, and its discharge.
    pub fn evaluate(&self, problem: &Problem<'_>, x: &[f64], want_gradient: bool) -> Result<Partial, crate::Error> {
        let config = problem.config;
        if self.cells.is_empty() {
            // more ranks than catchments: this one has none
            let gradient = if want_gradient { vec![0.0; x.len()] } else { Vec::new() };
            return Ok(Partial { jobs: 0.0, gradient, qsim: Vec::new() });
        }
        let (parameters, states) = problem.fields(x);
        let (p, s) = (parameters.restricted(&self.cells), states.restricted(&self.cells));
        let Some(cost) = &self.cost else {
            let (qsim, _) = simulate_batch(config, &self.inputs, std::slice::from_ref(&p), &s)?;
            let gradient = if want_gradient { vec![0.0; x.len()] } else { Vec::new() };
            return Ok(Partial { jobs: 0.0, gradient, qsim });
        };
        if !want_gradient {
            let (jobs, qsim) = forward_cost(config, &self.inputs, &p, &s, &self.gauge_cells, cost)?;
            return Ok(Partial { jobs, gradient: Vec::new(), qsim });
        }
        let g = gradient(config, &self.inputs, &p, &s, &self.gauge_cells, cost, &AdjointOptions::default())?;
        let (mut gp, mut gs) = (zeroed(&parameters), zeroed(&states));
        gp.add_restricted(&g.parameters, &self.cells);
        gs.add_restricted(&g.states, &self.cells);
        Ok(Partial { jobs: g.cost, gradient: problem.space.pull_back(x, &gp, &gs), qsim: g.qsim })
    }
}

fn zeroed(f: &Fields) -> Fields {
    Fields { values: vec![0.0; f.values.len()], weights: vec![0.0; f.weights.len()], ..f.clone() }
}

/// Adds the ranks' partials, in rank order, into `J_obs`, `∂J_obs/∂x` (when asked) and the discharge at
/// every gauge `[T, G]` (each rank's gauges from `gauges`).
#[allow(clippy::type_complexity)]
pub fn reduce(
    partials: &[Partial],
    gauges: &[Vec<usize>],
    ngauge: usize,
    dim: usize,
    want_gradient: bool,
) -> (f64, Option<Vec<f64>>, Vec<f32>) {
    let nt = partials.iter().zip(gauges).find(|(_, g)| !g.is_empty()).map_or(0, |(p, g)| p.qsim.len() / g.len());
    let mut qsim = vec![0.0f32; nt * ngauge];
    let mut jobs = 0.0;
    let mut grad = want_gradient.then(|| vec![0.0; dim]);
    for (partial, own) in partials.iter().zip(gauges) {
        jobs += partial.jobs;
        if let Some(g) = grad.as_mut() {
            g.iter_mut().zip(&partial.gradient).for_each(|(a, b)| *a += b);
        }
        for t in 0..nt {
            for (j, &gauge) in own.iter().enumerate() {
                qsim[t * ngauge + gauge] = partial.qsim[t * own.len() + j];
            }
        }
    }
    (jobs, grad, qsim)
}
