//! SPOTPY's "maximum likelihood estimation" `mle`: a random start followed by a greedy Gaussian hill
//! climber (Houska et al. 2015).
//!
//! # Algorithm
//! * Burn-in: `burn_in` draws from the priors (`space.sample`), asked as one batch (in chunks of at most
//!   1024 points). The climb starts at the best of them (the first best on ties).
//! * Then one point per batch: `x' = clamp(N(x_best, step))` per parameter, kept as the new `x_best` only if
//!   its value is strictly lower (SPOTPY's `new_like > old_like`). It runs until the budget is spent.
//!
//! SPOTPY evaluates its burn-in one point at a time; here it is one batch, with the same points' law. It
//! fails when `int(rep/10) = 0`; here the burn-in has at least one point.
//!
//! # Defaults (SPOTPY's `sample(rep)`)
//! `burn_in = ⌊max_evaluations/10⌋` (at least 1), `step` = the prior's `P50 − P40` per parameter (0.1 ×
//! range for a uniform prior, SPOTPY's `step`).
//!
//! # Reference
//! Houska, Kraft, Chamorro-Chavez & Breuer (2015), SPOTting model parameters using a ready-made Python
//! package, *PLoS ONE* 10(12), e0145180; SPOTPY `algorithms/mle.py`.

use super::bayes;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The most points of one burn-in batch.
const CHUNK: usize = 1024;

/// Options of [`Mle`] (the defaults leave both unset).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MleOptions {
    /// Random draws before the climb; unset: `⌊max_evaluations/10⌋` (SPOTPY's `burnIn`), at least 1.
    pub burn_in: Option<usize>,
    /// The step's standard deviation as a fraction of each parameter's range; unset: the prior's
    /// `P50 − P40` (SPOTPY's `step`).
    pub step: Option<f64>,
}

/// SPOTPY's MLE hill climber (see the module doc).
#[derive(Debug)]
pub struct Mle {
    space: Space,
    rng: LegacyRandom,
    steps: Vec<f64>,
    burn_in: usize,
    /// Burn-in points asked so far.
    drawn: usize,
    pending: Vec<Vec<f64>>,
    best: Option<(Vec<f64>, f64)>,
}

impl Mle {
    /// A climber of `space` with `options`, for a budget of `max_evaluations` (it sets the burn-in).
    ///
    /// # Errors
    /// `"burn_in: …"` for a zero burn-in, `"step: …"` for a step that is not a positive finite fraction,
    /// `"parameters: …"` for an empty space or an invalid prior.
    pub fn new(space: Space, options: MleOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        bayes::check_space(&space)?;
        bayes::check_step("step", options.step)?;
        if options.burn_in == Some(0) {
            return Err("burn_in: must be at least 1".into());
        }
        let burn_in = options.burn_in.unwrap_or((max_evaluations / 10).max(1));
        let steps = bayes::step_sizes(&space, options.step);
        Ok(Mle {
            space,
            rng: LegacyRandom::new(random_state),
            steps,
            burn_in,
            drawn: 0,
            pending: Vec::new(),
            best: None,
        })
    }

    /// The climber's current point and value (`None` before anything is told).
    pub fn current(&self) -> Option<(&[f64], f64)> {
        self.best.as_ref().map(|(x, v)| (x.as_slice(), *v))
    }
}

impl Sampler for Mle {
    fn name(&self) -> &'static str {
        "mle"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        self.pending = if self.drawn < self.burn_in {
            let n = (self.burn_in - self.drawn).min(CHUNK).min(remaining);
            self.drawn += n;
            (0..n).map(|_| self.space.sample(&mut self.rng)).collect()
        } else {
            let (x, _) = self.best.as_ref().expect("the burn-in was told");
            let mut step: Vec<f64> = x.iter().zip(&self.steps).map(|(&c, &s)| self.rng.normal(c, s)).collect();
            self.space.clip(&mut step);
            vec![step]
        };
        Some(self.pending.iter().cloned().map(Proposal::free).collect())
    }

    fn tell(&mut self, values: &[f64]) {
        for (x, &v) in std::mem::take(&mut self.pending).into_iter().zip(values) {
            if self.best.as_ref().is_none_or(|b| v < b.1) {
                self.best = Some((x, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing;
    use crate::samplers::{Flow, search};

    fn run(f: fn(&[f64]) -> f64, half: f64, d: usize, seed: u32, budget: usize) -> f64 {
        let mut s = Mle::new(testing::cube(d, half), MleOptions::default(), seed, budget).unwrap();
        testing::best(&mut s, f, budget)
    }

    #[test]
    fn minimises_the_test_functions() {
        let rosen = testing::median((1..=5).map(|seed| run(rosenbrock, 10.0, 2, seed, 2000)));
        let grie = testing::median((1..=5).map(|seed| run(griewank, 20.0, 2, seed, 2000)));
        let ack = testing::median((1..=5).map(|seed| run(ackley, 32.768, 2, seed, 2000)));
        assert!(rosen < 0.1 && grie < 0.03 && ack < 2.0, "rosenbrock {rosen}, griewank {grie}, ackley {ack}");
    }

    #[test]
    fn burn_in_is_one_batch_then_a_greedy_climb() {
        let space = testing::cube(2, 10.0);
        let mut s = Mle::new(space.clone(), MleOptions::default(), 3, 3000).unwrap();
        let mut sizes = Vec::new();
        let mut best_so_far = f64::INFINITY;
        let mut f = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            Ok(b.iter().map(|p| rosenbrock(&p.x)).collect())
        };
        search(&mut s, &mut f, 3000, &mut |r| {
            sizes.push(r.proposals.len());
            assert_within(&space, r.proposals);
            best_so_far = best_so_far.min(r.values.iter().copied().fold(f64::INFINITY, f64::min));
            Flow::Continue
        })
        .unwrap();
        assert_eq!(sizes[0], 300);
        assert!(sizes[1..].iter().all(|&n| n == 1));
        assert_eq!(sizes.len(), 1 + 2700);
        // the climber holds the best point seen
        assert_eq!(s.current().unwrap().1, best_so_far);
    }

    #[test]
    fn reproducible_and_on_budget() {
        let space = testing::cube(3, 5.0);
        let trace = |seed| {
            let mut s =
                Mle::new(space.clone(), MleOptions { burn_in: Some(2000), step: Some(0.3) }, seed, 2500).unwrap();
            testing::trace(&mut s, griewank, 2500)
        };
        let (a, b, c) = (trace(1), trace(1), trace(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 2500);
        assert_within(&space, &a);
    }

    #[test]
    fn invalid_options_name_their_key() {
        let space = testing::cube(2, 1.0);
        let err = |o: MleOptions| Mle::new(space.clone(), o, 0, 10).unwrap_err();
        assert!(err(MleOptions { burn_in: Some(0), ..MleOptions::default() }).starts_with("burn_in:"));
        assert!(err(MleOptions { step: Some(f64::INFINITY), ..MleOptions::default() }).starts_with("step:"));
        assert_eq!(toml::from_str::<MleOptions>("burn_in = 7").unwrap().burn_in, Some(7));
        assert!(toml::from_str::<MleOptions>("burnIn = 7").unwrap_err().to_string().contains("burnIn"));
    }
}
