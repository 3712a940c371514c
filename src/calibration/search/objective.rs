//! A SPOTPY objective function or likelihood as the cost of a search stage (`optimize_options.objective`
//! or `optimize_options.likelihood`), in place of smash's `jobs_cmpt`.
//!
//! Per gauge of the stage's `cost_options.gauge`, on the steps after `end_warmup` where the observation is
//! present (`≥ 0`): an objective gives [`SpotpyObjective::cost`] (`−v` for what SPOTPY maximises, `v` for
//! what it minimises, `|v|` for bias-like ones), a likelihood gives `−ln L` (the measurement error defaults to
//! SPOTPY's `0.1·obs`; the AR(1) likelihoods, which SPOTPY returns negated, and the homo/hetero-error one, a
//! negated sum of densities, are minimised as they stand, so that every likelihood improves the fit). Gauges combine with `cost_options.wgauge`: a weighted sum, or for the quantile
//! aliases (`median`, ...) the quantile of the gauges' values, as smash combines its own costs.

use crate::cost::CostOptions;
use crate::samplers::likelihoods::Likelihood;
use crate::samplers::objectives::SpotpyObjective;

/// What a search stage minimises instead of smash's cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SearchObjective {
    Objective(SpotpyObjective),
    Likelihood(Likelihood),
}

impl SearchObjective {
    /// The name as configs spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Objective(o) => o.names().0,
            Self::Likelihood(l) => l.names().0,
        }
    }

    /// The value to minimise on one gauge's series.
    pub fn cost(&self, obs: &[f64], sim: &[f64]) -> f64 {
        match self {
            Self::Objective(o) => o.cost(obs, sim),
            Self::Likelihood(l) => {
                // SPOTPY's AR(1) likelihoods return −ln L and its homo/hetero one −Σ densities: maximising
                // them as SPOTPY does worsens the fit, so their value is the cost as it stands
                let negated = matches!(
                    l,
                    Likelihood::Ar1WithC { .. } | Likelihood::Ar1NoC { .. } | Likelihood::GaussianHomoHeteroDataError
                );
                let value = l.evaluate(obs, sim, None);
                let cost = if negated { value } else { -value };
                if cost.is_nan() { f64::INFINITY } else { cost }
            }
        }
    }
}

/// The cost of discharge `[T, G]` against the observations with the stage's gauges and window.
#[derive(Debug, Clone)]
pub struct SpotpyCost {
    objective: SearchObjective,
    /// Observed discharge \[m³/s\], `[T, G]`, negative where missing.
    qobs: Vec<f64>,
    ngauge: usize,
    start: usize,
    /// `(gauge, weight)` of the gauges in the cost.
    gauges: Vec<(usize, f64)>,
}

impl SpotpyCost {
    pub fn new(objective: SearchObjective, options: &CostOptions, qobs: &[f32], ngauge: usize) -> SpotpyCost {
        let gauges = (0..ngauge).filter(|&g| options.gauge[g]).map(|g| (g, options.wgauge[g])).collect();
        SpotpyCost {
            objective,
            qobs: qobs.iter().map(|&v| v as f64).collect(),
            ngauge,
            start: options.end_warmup,
            gauges,
        }
    }

    /// The cost of `qsim` (`[T, G]` m³/s).
    pub fn evaluate(&self, qsim: impl Fn(usize) -> f64) -> f64 {
        let nt = self.qobs.len() / self.ngauge.max(1);
        let mut values = Vec::with_capacity(self.gauges.len());
        for &(g, w) in &self.gauges {
            let (mut obs, mut sim) = (Vec::with_capacity(nt), Vec::with_capacity(nt));
            for t in self.start..nt {
                let o = self.qobs[t * self.ngauge + g];
                if o >= 0.0 {
                    obs.push(o);
                    sim.push(qsim(t * self.ngauge + g));
                }
            }
            values.push((self.objective.cost(&obs, &sim), w));
        }
        combine(&mut values)
    }
}

/// A weighted sum, or the quantile `−w` of the values when the weights are smash's quantile aliases.
fn combine(values: &mut [(f64, f64)]) -> f64 {
    match values.first() {
        None => f64::NAN,
        Some(&(_, w)) if w < 0.0 => {
            values.sort_by(|a, b| a.0.total_cmp(&b.0));
            let position = -w * (values.len() - 1) as f64;
            let (lo, hi) = (position.floor() as usize, position.ceil() as usize);
            let frac = position - lo as f64;
            values[lo].0 + frac * (values[hi].0 - values[lo].0)
        }
        Some(_) => values.iter().map(|(v, w)| v * w).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_combine_by_weight_or_quantile() {
        assert_eq!(combine(&mut [(1.0, 0.25), (3.0, 0.75)]), 2.5);
        assert_eq!(combine(&mut [(5.0, -0.5), (1.0, -0.5), (3.0, -0.5)]), 3.0);
        assert_eq!(combine(&mut [(4.0, -0.25), (0.0, -0.25), (2.0, -0.25)]), 1.0);
    }

    #[test]
    fn missing_observations_and_warm_up_are_left_out() {
        let objective = SearchObjective::Objective(SpotpyObjective::from_name("rmse").unwrap());
        // [T = 4, G = 1]: the first step is warm-up, the third is missing
        let cost =
            SpotpyCost { objective, qobs: vec![9.0, 1.0, -99.0, 3.0], ngauge: 1, start: 1, gauges: vec![(0, 1.0)] };
        let sim = [100.0, 2.0, 50.0, 3.0];
        assert!((cost.evaluate(|i| sim[i]) - (0.5f64).sqrt()).abs() < 1e-15);
        let likelihood =
            SearchObjective::Likelihood(Likelihood::from_name("gaussianLikelihoodMeasErrorOut", None).unwrap());
        let cost = SpotpyCost { objective: likelihood, ..cost };
        // −ln L = n/2 · ln Σe² with e = (1, 0): n = 2 → ln 1 = 0
        assert_eq!(cost.evaluate(|i| sim[i]), 0.0);
    }
}
