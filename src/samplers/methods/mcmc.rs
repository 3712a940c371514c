//! Random-walk Metropolis with independent chains (SPOTPY's `mcmc`, after Metropolis et al. 1953).
//!
//! Each chain starts at a draw from the priors (`space.sample`). Every batch proposes one point per chain,
//! `x* = x_c + N(0, step)` per parameter, reflected once at the bounds then clamped (SPOTPY's
//! `check_par_validity_reflect`), and each chain accepts its proposal on its own test. The log target is
//! `−value + ln prior(x)` ([`bayes::log_target`]).
//!
//! # Acceptance
//! * `acceptance = "metropolis"` (default): `ln u < ln π(x*) − ln π(x)`, `u ~ U(0, 1)`. The reflection keeps
//!   the proposal symmetric, so the chains sample the posterior.
//! * `acceptance = "spotpy"`: SPOTPY 1.6.7's rule (issue #156): with `L = −value` the log-likelihood (SPOTPY's
//!   `like`, without the prior density, as in SPOTPY), accept if `|L|/|L*| > 1` or `|L|/|L*| > u`,
//!   `u ~ U(0.3, 1)`. It favours values nearer 0, not higher values: for a cost `value ≥ 0` it always takes a
//!   lower cost and a higher one with probability `(value/value* − 0.3)/0.7`, a relative test that keeps
//!   climbing as the cost nears 0 (a stochastic hill climber, not a sampler of a definite distribution).
//!   The prior density is left out on purpose: with it a uniform prior adds a constant to `|L|` that makes
//!   the ratio ≈ 1 and the rule accept nearly everything.
//!
//! # Defaults (SPOTPY's `sample(rep, nChains=1)`)
//! `n_chains = 1`; `step`: the prior's `P50 − P40` per parameter (0.1 × range for a uniform prior), SPOTPY's
//! `step` attribute. SPOTPY runs `while iter ≤ rep − nChains`; here the chains walk until the budget is
//! spent (the last batch is cut to the budget: its first chains only). A proposal is asked with its chain
//! index; [`Sampler::accepted`] says which proposals became their chain's state (all start points do).
//! Chains never stop on their own.
//!
//! # Reference
//! Metropolis, Rosenbluth, Rosenbluth, Teller & Teller (1953), *J. Chem. Phys.* 21, 1087–1092; SPOTPY
//! `algorithms/mcmc.py`.

use super::bayes::{self, Acceptance};
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// Options of [`Mcmc`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McmcOptions {
    /// Number of independent chains, one proposal each per batch (SPOTPY's `nChains`).
    pub n_chains: usize,
    /// The proposal's standard deviation as a fraction of each parameter's range; unset: the prior's
    /// `P50 − P40` (SPOTPY's `step`, 0.1 × range for a uniform prior).
    pub step: Option<f64>,
    /// `"metropolis"` (the Metropolis test) or `"spotpy"` (SPOTPY's `|L|/|L*|` rule).
    pub acceptance: Acceptance,
}

impl Default for McmcOptions {
    fn default() -> Self {
        McmcOptions { n_chains: 1, step: None, acceptance: Acceptance::Metropolis }
    }
}

/// Random-walk Metropolis (see the module doc).
#[derive(Debug)]
pub struct Mcmc {
    space: Space,
    options: McmcOptions,
    rng: LegacyRandom,
    steps: Vec<f64>,
    /// Each chain's state, log target and log-likelihood `−value`, empty before the start points are told.
    states: Vec<Vec<f64>>,
    targets: Vec<f64>,
    likes: Vec<f64>,
    /// The last batch asked.
    pending: Vec<Proposal>,
    accepted: Vec<bool>,
    accepts: Vec<usize>,
    proposals: Vec<usize>,
}

impl Mcmc {
    /// A sampler of `space` with `options`; `max_evaluations` is not needed (the chains walk until stopped).
    ///
    /// # Errors
    /// `"n_chains: …"` for no chain, `"step: …"` for a step that is not a positive finite fraction,
    /// `"parameters: …"` for an empty space or an invalid prior.
    pub fn new(space: Space, options: McmcOptions, random_state: u32, _max_evaluations: usize) -> Result<Self, String> {
        bayes::check_space(&space)?;
        if options.n_chains == 0 {
            return Err("n_chains: must be at least 1".into());
        }
        bayes::check_step("step", options.step)?;
        let steps = bayes::step_sizes(&space, options.step);
        let n = options.n_chains;
        Ok(Mcmc {
            space,
            options,
            rng: LegacyRandom::new(random_state),
            steps,
            states: Vec::new(),
            targets: Vec::new(),
            likes: Vec::new(),
            pending: Vec::new(),
            accepted: Vec::new(),
            accepts: vec![0; n],
            proposals: vec![0; n],
        })
    }

    /// Each chain's acceptance rate so far (accepted / proposed after its start; `NaN` before any proposal).
    pub fn acceptance_rates(&self) -> Vec<f64> {
        self.accepts.iter().zip(&self.proposals).map(|(&a, &p)| a as f64 / p as f64).collect()
    }

    /// Each chain's current state, `[n_chains][d]` (empty before the start points are told).
    pub fn states(&self) -> &[Vec<f64>] {
        &self.states
    }

    /// SPOTPY's test on the log-likelihoods (NaN, for two failed runs, rejects).
    fn spotpy_accepts(&mut self, proposed: f64, current: f64) -> bool {
        let ratio = current.abs() / proposed.abs();
        let u = self.rng.uniform(0.3, 1.0);
        ratio > 1.0 || ratio > u
    }
}

/// The log-likelihood `−value` of SPOTPY's rule (`−inf` for a failed run).
fn like(value: f64) -> f64 {
    if value.is_nan() { f64::NEG_INFINITY } else { -value }
}

impl Sampler for Mcmc {
    fn name(&self) -> &'static str {
        "mcmc"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        let n = self.options.n_chains;
        let mut batch = Vec::with_capacity(n);
        if self.states.is_empty() {
            for c in 0..n {
                batch.push(Proposal::of(c, self.space.sample(&mut self.rng)));
            }
        } else {
            for c in 0..n {
                let mut x: Vec<f64> =
                    self.states[c].iter().zip(&self.steps).map(|(&v, &s)| self.rng.normal(v, s)).collect();
                self.space.reflect(&mut x);
                batch.push(Proposal::of(c, x));
            }
        }
        batch.truncate(remaining);
        self.pending = batch.clone();
        Some(batch)
    }

    fn tell(&mut self, values: &[f64]) {
        let pending = std::mem::take(&mut self.pending);
        self.accepted.clear();
        if self.states.is_empty() {
            for (p, &v) in pending.iter().zip(values) {
                self.targets.push(bayes::log_target(&self.space, &p.x, v));
                self.likes.push(like(v));
                self.states.push(p.x.clone());
                self.accepted.push(true);
            }
            return;
        }
        for (c, (p, &v)) in pending.iter().zip(values).enumerate() {
            let proposed = bayes::log_target(&self.space, &p.x, v);
            let ok = match self.options.acceptance {
                Acceptance::Metropolis => {
                    let ln_u = self.rng.random_sample().ln();
                    bayes::metropolis(ln_u, proposed, self.targets[c])
                }
                Acceptance::Spotpy => self.spotpy_accepts(like(v), self.likes[c]),
            };
            self.proposals[c] += 1;
            if ok {
                self.accepts[c] += 1;
                self.states[c].clone_from(&p.x);
                self.targets[c] = proposed;
                self.likes[c] = like(v);
            }
            self.accepted.push(ok);
        }
    }

    fn accepted(&self) -> Option<&[bool]> {
        Some(&self.accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing::{self, Gaussian};
    use crate::samplers::{Flow, search};

    fn run(f: fn(&[f64]) -> f64, half: f64, d: usize, options: McmcOptions, seed: u32, budget: usize) -> f64 {
        let space = testing::cube(d, half);
        let mut s = Mcmc::new(space, options, seed, budget).unwrap();
        testing::best(&mut s, f, budget)
    }

    #[test]
    fn samples_a_correlated_gaussian() {
        let g = Gaussian::correlated();
        let options = McmcOptions { n_chains: 4, step: Some(0.05), ..McmcOptions::default() };
        let mut s = Mcmc::new(g.space(), options, 3, 0).unwrap();
        let chains = testing::chains(&mut s, &|x: &[f64]| g.value(x), 60_000);
        g.assert_moments(&chains, 0.1, 0.08);
        let rates = s.acceptance_rates();
        assert!(rates.iter().all(|r| (0.2..0.7).contains(r)), "{rates:?}");
    }

    #[test]
    fn metropolis_and_spotpy_acceptance_rates() {
        // a chain at value 1 offered points of value 1.5: metropolis accepts with exp(−0.5) = 0.607,
        // spotpy when |−1|/|−1.5| = 0.667 > u ~ U(0.3, 1), i.e. with (0.667 − 0.3)/0.7 = 0.524
        for (acceptance, want) in
            [(Acceptance::Metropolis, (-0.5f64).exp()), (Acceptance::Spotpy, (2.0 / 3.0 - 0.3) / 0.7)]
        {
            let space = Space::uniform(&["a"], &[(0.0, 1.0)]);
            let mut s = Mcmc::new(space, McmcOptions { acceptance, ..McmcOptions::default() }, 5, 0).unwrap();
            s.ask(1).unwrap();
            s.tell(&[1.0]);
            let mut accepted = 0;
            for _ in 0..20_000 {
                s.ask(1).unwrap();
                s.tell(&[1.5]);
                accepted += usize::from(s.accepted().unwrap()[0]);
                s.targets[0] = -1.0;
                s.likes[0] = -1.0;
            }
            let rate = accepted as f64 / 20_000.0;
            assert!((rate - want).abs() < 0.015, "{acceptance:?}: {rate} vs {want}");
            assert!((s.acceptance_rates()[0] - rate).abs() < 1e-12);
        }
    }

    #[test]
    fn minimises_the_test_functions() {
        let options = || McmcOptions::default();
        let rosen = testing::median((1..=5).map(|seed| run(rosenbrock, 10.0, 2, options(), seed, 2000)));
        let grie = testing::median((1..=5).map(|seed| run(griewank, 20.0, 2, options(), seed, 2000)));
        let ack = testing::median((1..=5).map(|seed| run(ackley, 32.768, 2, options(), seed, 2000)));
        assert!(rosen < 0.2 && grie < 0.03 && ack < 2.5, "rosenbrock {rosen}, griewank {grie}, ackley {ack}");
    }

    #[test]
    fn reproducible_bounded_and_on_budget() {
        let space = testing::cube(3, 10.0);
        let options = McmcOptions { n_chains: 3, step: Some(0.5), ..McmcOptions::default() };
        let trace = |seed| {
            let mut s = Mcmc::new(space.clone(), options.clone(), seed, 0).unwrap();
            testing::trace(&mut s, rosenbrock, 301)
        };
        let (a, b, c) = (trace(1), trace(1), trace(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 301);
        assert_eq!(a.last().unwrap().chain, Some(0));
        assert_within(&space, &a);
        // a large step reflects off the bounds often
        let mut s = Mcmc::new(space.clone(), options, 1, 0).unwrap();
        let mut f = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            assert_within(&space, b);
            Ok(b.iter().map(|p| rosenbrock(&p.x)).collect())
        };
        let out = search(&mut s, &mut f, 1000, &mut |r| {
            assert_eq!(r.accepted.unwrap().len(), r.proposals.len());
            Flow::Continue
        })
        .unwrap();
        assert_eq!(out.evaluations, 1000);
    }

    #[test]
    fn invalid_options_name_their_key() {
        let space = testing::cube(2, 1.0);
        let err = |o: McmcOptions| Mcmc::new(space.clone(), o, 0, 10).unwrap_err();
        assert!(err(McmcOptions { n_chains: 0, ..McmcOptions::default() }).starts_with("n_chains:"));
        assert!(err(McmcOptions { step: Some(-0.1), ..McmcOptions::default() }).starts_with("step:"));
        let parsed: McmcOptions = toml::from_str("n_chains = 4\nacceptance = \"spotpy\"").unwrap();
        assert_eq!(parsed, McmcOptions { n_chains: 4, acceptance: Acceptance::Spotpy, ..McmcOptions::default() });
        assert!(toml::from_str::<McmcOptions>("nChains = 4").unwrap_err().to_string().contains("nChains"));
    }
}
