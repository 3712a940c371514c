//! Monte Carlo: independent draws from the priors (SPOTPY 1.6.7 `algorithms/mc.py`, `shared/spec/samplers.md`
//! §1.1), in batches of at most 1024 points, until the budget is spent.
//!
//! Each point takes one uniform number per parameter, in parameter order, mapped through the prior's quantile
//! function ([`Space::sample`]). SPOTPY draws each distribution with numpy's own sampler instead (the same law,
//! another stream); uniform priors draw the same values from the same seed. No options.

use serde::Deserialize;

use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The most points per batch.
pub const BATCH: usize = 1024;

/// Options of [`Mc`]: none.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McOptions {}

/// Monte Carlo sampling of the priors.
#[derive(Debug)]
pub struct Mc {
    space: Space,
    rng: LegacyRandom,
}

impl Mc {
    /// # Errors
    /// `"parameters: …"` for an empty space.
    pub fn new(space: Space, _options: McOptions, random_state: u32, _max_evaluations: usize) -> Result<Self, String> {
        if space.dim() == 0 {
            return Err("parameters: Monte Carlo needs at least one parameter".into());
        }
        Ok(Mc { space, rng: LegacyRandom::new(random_state) })
    }
}

impl Sampler for Mc {
    fn name(&self) -> &'static str {
        "mc"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        Some((0..remaining.min(BATCH)).map(|_| Proposal::free(self.space.sample(&mut self.rng))).collect())
    }

    fn tell(&mut self, _values: &[f64]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, Termination, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::{Distribution, Flow, Parameter, Prior, search};

    fn cube(n: usize, b: f64) -> Space {
        let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Space::uniform(&names, &vec![(-b, b); n])
    }

    fn run(f: fn(&[f64]) -> f64, space: &Space, seed: u32, budget: usize) -> (f64, Vec<usize>, Vec<Vec<f64>>) {
        let mut mc = Mc::new(space.clone(), McOptions::default(), seed, budget).unwrap();
        let (mut sizes, mut trace) = (Vec::new(), Vec::new());
        let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            assert_within(space, b);
            sizes.push(b.len());
            trace.extend(b.iter().map(|p| p.x.clone()));
            Ok(b.iter().map(|p| f(&p.x)).collect())
        };
        let outcome = search(&mut mc, &mut objective, budget, &mut |_| Flow::Continue).unwrap();
        assert_eq!(outcome.evaluations, budget);
        assert_eq!(outcome.termination, Termination::Budget);
        (outcome.best_value, sizes, trace)
    }

    #[test]
    fn batches_spend_the_budget_exactly() {
        let (_, sizes, _) = run(rosenbrock, &cube(2, 10.0), 1, 2500);
        assert_eq!(sizes, [1024, 1024, 452]);
    }

    #[test]
    fn reaches_the_measured_thresholds() {
        // medians over seeds 1..=5 at 5000 draws (measured: griewank-2D 0.011, ackley-2D 2.45, rosenbrock-2D 0.33)
        for (f, b, threshold) in
            [(griewank as fn(&[f64]) -> f64, 20.0, 0.05), (ackley, 32.768, 5.0), (rosenbrock, 10.0, 2.0)]
        {
            let mut bests: Vec<f64> = (1..=5).map(|s| run(f, &cube(2, b), s, 5000).0).collect();
            bests.sort_by(f64::total_cmp);
            assert!(bests[2] < threshold, "{bests:?}");
        }
    }

    #[test]
    fn draws_uniform_priors_as_numpy_does_and_follows_other_priors() {
        // np.random.seed(42); np.random.uniform(-1, 1, 2) draws -1 + 2·[0.3745401188473625, 0.9507143064099162]
        let (_, _, trace) = run(rosenbrock, &cube(2, 1.0), 42, 1);
        assert_eq!(trace[0], [-1.0 + 2.0 * 0.3745401188473625, -1.0 + 2.0 * 0.9507143064099162]);
        let prior = Prior { distribution: Distribution::Normal { mean: 2.0, sd: 0.5 }, lower: 0.0, upper: 10.0 };
        let space = Space { parameters: vec![Parameter { name: "k".into(), prior }] };
        let (_, _, trace) = run(|x| x[0], &space, 3, 20_000);
        let mean = trace.iter().map(|x| x[0]).sum::<f64>() / trace.len() as f64;
        assert!((mean - 2.0).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn seeds_decide_the_trace() {
        let space = cube(3, 1.0);
        assert_eq!(run(griewank, &space, 5, 100).2, run(griewank, &space, 5, 100).2);
        assert_ne!(run(griewank, &space, 5, 100).2, run(griewank, &space, 6, 100).2);
        assert!(
            Mc::new(Space { parameters: vec![] }, McOptions::default(), 0, 10).unwrap_err().starts_with("parameters:")
        );
        assert!(toml::from_str::<McOptions>("batch = 3").is_err());
    }
}
