//! A SPOTPY objective function or likelihood as the cost of a search stage (`optimize_options.objective`
//! or `optimize_options.likelihood`), in place of smash's `jobs_cmpt`; or several of them, minimised
//! together by a multi-objective method (`optimize_options.objectives`), all `K` computed from the same
//! simulated discharge.
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

/// The costs of discharge `[T, G]` against the observations with the stage's gauges and window.
#[derive(Debug, Clone)]
pub struct SpotpyCost {
    /// `[K]`, `K ≥ 1`: the first is the stage's cost.
    objectives: Vec<SearchObjective>,
    /// Observed discharge \[m³/s\], `[T, G]`, negative where missing.
    qobs: Vec<f64>,
    ngauge: usize,
    start: usize,
    /// `(gauge, weight)` of the gauges in the cost.
    gauges: Vec<(usize, f64)>,
}

impl SpotpyCost {
    /// # Panics
    /// Without any objective.
    pub fn new(objectives: Vec<SearchObjective>, options: &CostOptions, qobs: &[f32], ngauge: usize) -> SpotpyCost {
        assert!(!objectives.is_empty(), "a SPOTPY cost needs an objective");
        let gauges = (0..ngauge).filter(|&g| options.gauge[g]).map(|g| (g, options.wgauge[g])).collect();
        SpotpyCost {
            objectives,
            qobs: qobs.iter().map(|&v| v as f64).collect(),
            ngauge,
            start: options.end_warmup,
            gauges,
        }
    }

    /// The number of objectives `K`.
    pub fn count(&self) -> usize {
        self.objectives.len()
    }

    /// The cost of `qsim` (`[T, G]` m³/s): the first objective's.
    pub fn evaluate(&self, qsim: impl Fn(usize) -> f64) -> f64 {
        self.combined(&self.series(qsim), &self.objectives[0])
    }

    /// Every objective's cost of `qsim` (`[T, G]` m³/s), `[K]`, from one extraction of the series.
    pub fn evaluate_all(&self, qsim: impl Fn(usize) -> f64) -> Vec<f64> {
        let series = self.series(qsim);
        self.objectives.iter().map(|o| self.combined(&series, o)).collect()
    }

    /// `(observed, simulated)` per gauge of the cost, on the steps after the warm-up with an observation.
    fn series(&self, qsim: impl Fn(usize) -> f64) -> Vec<(Vec<f64>, Vec<f64>)> {
        let nt = self.qobs.len() / self.ngauge.max(1);
        let mut out = Vec::with_capacity(self.gauges.len());
        for &(g, _) in &self.gauges {
            let (mut obs, mut sim) = (Vec::with_capacity(nt), Vec::with_capacity(nt));
            for t in self.start..nt {
                let o = self.qobs[t * self.ngauge + g];
                if o >= 0.0 {
                    obs.push(o);
                    sim.push(qsim(t * self.ngauge + g));
                }
            }
            out.push((obs, sim));
        }
        out
    }

    /// `objective` on each gauge's `series`, combined over the gauges.
    fn combined(&self, series: &[(Vec<f64>, Vec<f64>)], objective: &SearchObjective) -> f64 {
        let mut values: Vec<(f64, f64)> =
            series.iter().zip(&self.gauges).map(|((obs, sim), &(_, w))| (objective.cost(obs, sim), w)).collect();
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
        let cost = SpotpyCost {
            objectives: vec![objective],
            qobs: vec![9.0, 1.0, -99.0, 3.0],
            ngauge: 1,
            start: 1,
            gauges: vec![(0, 1.0)],
        };
        let sim = [100.0, 2.0, 50.0, 3.0];
        assert!((cost.evaluate(|i| sim[i]) - (0.5f64).sqrt()).abs() < 1e-15);
        let likelihood =
            SearchObjective::Likelihood(Likelihood::from_name("gaussianLikelihoodMeasErrorOut", None).unwrap());
        let cost = SpotpyCost { objectives: vec![likelihood], ..cost };
        // −ln L = n/2 · ln Σe² with e = (1, 0): n = 2 → ln 1 = 0
        assert_eq!(cost.evaluate(|i| sim[i]), 0.0);
    }

    #[test]
    fn several_objectives_come_from_the_same_series_and_combine_per_gauge() {
        let names = ["nse", "pbias", "rmse"];
        let objectives =
            names.iter().map(|n| SearchObjective::Objective(SpotpyObjective::from_name(n).unwrap())).collect();
        // [T = 4, G = 2], gauge weights 0.25 and 0.75; step 0 is warm-up, gauge 1 misses step 2
        let cost = SpotpyCost {
            objectives,
            qobs: vec![50.0, 50.0, 1.0, 2.0, 2.0, -99.0, 3.0, 4.0],
            ngauge: 2,
            start: 1,
            gauges: vec![(0, 0.25), (1, 0.75)],
        };
        let sim = [0.0, 0.0, 1.5, 2.0, 2.0, 7.0, 2.5, 5.0];
        let all = cost.evaluate_all(|i| sim[i]);
        // gauge 0: obs (1, 2, 3), sim (1.5, 2, 2.5): Σe² = 0.5, Σ(o − ō)² = 2 → NSE 0.75, pbias 0, rmse √(1/6)
        // gauge 1: obs (2, 4), sim (2, 5): Σe² = 1, Σ(o − ō)² = 2 → NSE 0.5, pbias 100·1/6, rmse √(1/2)
        let expected = [
            -(0.25 * 0.75 + 0.75 * 0.5),
            0.25 * 0.0 + 0.75 * (100.0 / 6.0),
            0.25 * (1.0f64 / 6.0).sqrt() + 0.75 * 0.5f64.sqrt(),
        ];
        for (k, name) in names.iter().enumerate() {
            assert!((all[k] - expected[k]).abs() < 1e-12, "{name}: {} vs {}", all[k], expected[k]);
        }
        assert_eq!(cost.evaluate(|i| sim[i]), all[0], "the cost is the first objective");
        assert_eq!(cost.count(), 3);
    }
}
