//! DREAM: DiffeRential Evolution Adaptive Metropolis (Vrugt 2016), with SPOTPY's options and defaults.
//!
//! `n_chains` chains evolve in lockstep; one batch is one generation (one proposal per chain). The log
//! target is `−value + ln prior(x)` ([`bayes::log_target`]).
//!
//! # Algorithm
//! * Start: chain `j` starts at the priors' quantiles `(j+1)/(n_chains+1)`, then each parameter's column
//!   is shuffled across the chains (SPOTPY's `get_regular_startingpoint`, which takes the percentiles of
//!   1001 prior draws; here the exact quantiles).
//! * Proposal for chain `i`, from the states at the start of the generation: `D ~ U{1, …, delta}` pairs of
//!   distinct other chains `(r1_k, r2_k)`; a crossover value `CR ∈ {1/n_cr, …, 1}` drawn uniformly and the
//!   dimensions `j` with `u_j < CR` (one at random if none); then for those `d*` dimensions
//!   `x*_j = x_j + (1 + λ_j)·γ·Σ_k (x_{r1_k,j} − x_{r2_k,j}) + ζ_j` with `λ_j ~ U(−c, c)`, `ζ_j ~ N(0, eps)`
//!   and `γ = 2.38/√(2 D d*)`, or `γ = 1` with probability 0.2 (jumps between modes). Reflected once at the
//!   bounds, then clamped.
//! * Acceptance (`acceptance = "metropolis"`, default): `ln u < ln π(x*) − ln π(x)`, so the chains sample
//!   the posterior. A rejected chain repeats its state.
//! * Convergence: after every full generation, `R̂` (Gelman & Rubin 1992 as in Vrugt's code,
//!   [`diagnostics::gelman_rubin_1992`]) per parameter on the last half of each chain (all of it while a
//!   chain has at most 3 states), counting the states actually drawn. Once every `R̂ < convergence_limit`
//!   and each chain has at least 5 states, DREAM runs `runs_after_convergence` more evaluations and stops
//!   ([`Sampler::termination`] says when it converged). [`Dream::r_hats`] keeps the `R̂` of each generation.
//!
//! # SPOTPY's quirks (`algorithms/dream.py`, 1.6.7)
//! * Acceptance (option 6, its default) `u < exp(½(L* − L))` tempers a log-likelihood by ½ (it is exact
//!   only for `L = −SSR`): behind `acceptance = "spotpy"`; the chains then sample `π^½`.
//! * Its crossover mask is drawn *after* each evaluation and used for the *next* chain's proposal, and an
//!   empty mask moves no dimension: here the mask belongs to its proposal and is never empty.
//! * Its `R̂` divides by the allocated chain length (`rep`), not the states drawn, so it declares
//!   convergence early: here the drawn count.
//! * Its generator reads live states, so chain `i` sees the states chain `i−1` just took; here all chains
//!   propose from the states at the start of the generation (the parallel DREAM of Vrugt's code).
//! * After convergence it resets its run counter and stops 100 runs later: here the budget counts every
//!   evaluation, so `runs_after_convergence` are counted within `max_evaluations`.
//! * Like SPOTPY, no crossover adaptation and no outlier-chain removal (Vrugt's DREAM has both).
//!
//! # Defaults (SPOTPY's `sample()`)
//! `n_chains = 7`, `n_cr = 3`, `delta = 3`, `c = 0.1`, `eps = 1e-5` (SPOTPY's `10e-6`, absolute units),
//! `convergence_limit = 1.2`, `runs_after_convergence = 100`, `acceptance = "metropolis"`.
//!
//! # Reference
//! Vrugt (2016), Markov chain Monte Carlo simulation using the DREAM software package, *Environ. Model.
//! Softw.* 75, 273–316; SPOTPY `algorithms/dream.py`.

use super::bayes::{self, Acceptance};
use crate::samplers::diagnostics;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// Options of [`Dream`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DreamOptions {
    /// Number of chains (SPOTPY's `nChains`), at least `2·delta + 1`.
    pub n_chains: usize,
    /// Number of crossover values `CR = 1/n_cr, …, 1` (SPOTPY's `nCr`).
    pub n_cr: usize,
    /// The most chain pairs a proposal's jump sums (`D ~ U{1, …, delta}`).
    pub delta: usize,
    /// Half-width of the jump's relative noise `λ ~ U(−c, c)`.
    pub c: f64,
    /// Standard deviation of the additive noise `ζ` [parameter units].
    pub eps: f64,
    /// Every `R̂` below this declares convergence.
    pub convergence_limit: f64,
    /// Evaluations run after convergence before stopping.
    pub runs_after_convergence: usize,
    /// `"metropolis"` (`ln u < L* − L`) or `"spotpy"` (`ln u < ½(L* − L)`, SPOTPY's option 6).
    pub acceptance: Acceptance,
}

impl Default for DreamOptions {
    fn default() -> Self {
        DreamOptions {
            n_chains: 7,
            n_cr: 3,
            delta: 3,
            c: 0.1,
            eps: 10e-6,
            convergence_limit: 1.2,
            runs_after_convergence: 100,
            acceptance: Acceptance::Metropolis,
        }
    }
}

/// DREAM (see the module doc).
#[derive(Debug)]
pub struct Dream {
    space: Space,
    options: DreamOptions,
    rng: LegacyRandom,
    /// Each chain's state and log target (empty before the start points are told).
    states: Vec<Vec<f64>>,
    targets: Vec<f64>,
    /// Per chain, the running sums of `x − x₀` and `(x − x₀)²` over its states, `[(T+1)·d]` (x₀ its start).
    sums: Vec<Vec<f64>>,
    squares: Vec<Vec<f64>>,
    /// Each chain's start (the reference of its running sums), `[n_chains][d]`.
    origins: Vec<Vec<f64>>,
    /// States per chain so far.
    length: usize,
    /// A batch was cut short (budget or runs after convergence): the run is over.
    truncated: bool,
    pending: Vec<Proposal>,
    accepted: Vec<bool>,
    accepts: Vec<usize>,
    evaluations: usize,
    r_hats: Vec<Vec<f64>>,
    /// Evaluations at convergence, and the count at which the run stops.
    converged: Option<(usize, usize)>,
}

impl Dream {
    /// A sampler of `space` with `options`; `max_evaluations` is not needed.
    ///
    /// # Errors
    /// `"<key>: …"` for an invalid option (`delta`, `n_chains`, `n_cr`, `c`, `eps`, `convergence_limit`),
    /// `"parameters: …"` for an empty space or an invalid prior.
    pub fn new(
        space: Space,
        options: DreamOptions,
        random_state: u32,
        _max_evaluations: usize,
    ) -> Result<Self, String> {
        bayes::check_space(&space)?;
        let o = &options;
        if o.delta == 0 {
            return Err("delta: must be at least 1".into());
        }
        if o.n_chains < 2 * o.delta + 1 {
            return Err(format!(
                "n_chains: needs at least 2·delta + 1 = {} chains (got {})",
                2 * o.delta + 1,
                o.n_chains
            ));
        }
        if o.n_cr == 0 {
            return Err("n_cr: must be at least 1".into());
        }
        if !(o.c.is_finite() && o.c >= 0.0) {
            return Err(format!("c: must be finite and ≥ 0 (got {})", o.c));
        }
        if !(o.eps.is_finite() && o.eps >= 0.0) {
            return Err(format!("eps: must be finite and ≥ 0 (got {})", o.eps));
        }
        if !(o.convergence_limit > 0.0 && o.convergence_limit.is_finite()) {
            return Err(format!("convergence_limit: must be finite and > 0 (got {})", o.convergence_limit));
        }
        let n = o.n_chains;
        Ok(Dream {
            space,
            options,
            rng: LegacyRandom::new(random_state),
            states: Vec::new(),
            targets: Vec::new(),
            sums: vec![Vec::new(); n],
            squares: vec![Vec::new(); n],
            origins: Vec::new(),
            length: 0,
            truncated: false,
            pending: Vec::new(),
            accepted: Vec::new(),
            accepts: vec![0; n],
            evaluations: 0,
            r_hats: Vec::new(),
            converged: None,
        })
    }

    /// `R̂` per parameter after each full generation until convergence, `[generations][d]` (`+inf` while a
    /// chain has not moved).
    pub fn r_hats(&self) -> &[Vec<f64>] {
        &self.r_hats
    }

    /// Each chain's acceptance rate so far (after its start).
    pub fn acceptance_rates(&self) -> Vec<f64> {
        let proposals = self.length.saturating_sub(1) as f64;
        self.accepts.iter().map(|&a| a as f64 / proposals).collect()
    }

    /// The start points: the priors' quantiles `(j+1)/(n+1)`, each parameter shuffled across chains.
    fn start_points(&mut self) -> Vec<Vec<f64>> {
        let n = self.options.n_chains;
        let mut points = vec![vec![0.0; self.space.dim()]; n];
        for (i, p) in self.space.parameters.iter().enumerate() {
            let mut column: Vec<f64> = (0..n).map(|j| p.prior.quantile((j + 1) as f64 / (n + 1) as f64)).collect();
            self.rng.shuffle(&mut column);
            for (point, v) in points.iter_mut().zip(column) {
                point[i] = v;
            }
        }
        points
    }

    /// Chain `i`'s proposal from the current states.
    fn propose(&mut self, i: usize) -> Vec<f64> {
        let (n, d) = (self.options.n_chains, self.space.dim());
        let pairs = self.rng.randint(1, self.options.delta as i64 + 1) as usize;
        let others = self.rng.distinct(n, 2 * pairs, &[i]);
        let cr = (self.rng.below(self.options.n_cr) + 1) as f64 / self.options.n_cr as f64;
        let mut mask: Vec<bool> = (0..d).map(|_| self.rng.random_sample() < cr).collect();
        if !mask.contains(&true) {
            mask[self.rng.below(d)] = true;
        }
        let d_star = mask.iter().filter(|&&m| m).count();
        let gamma = if self.rng.random_sample() < 0.2 { 1.0 } else { 2.38 / ((2 * pairs * d_star) as f64).sqrt() };
        let mut x = self.states[i].clone();
        for j in (0..d).filter(|&j| mask[j]) {
            let jump: f64 = (0..pairs).map(|k| self.states[others[k]][j] - self.states[others[pairs + k]][j]).sum();
            let lambda = self.rng.uniform(-self.options.c, self.options.c);
            x[j] += (1.0 + lambda) * gamma * jump + self.rng.normal(0.0, self.options.eps);
        }
        self.space.reflect(&mut x);
        x
    }

    /// Appends every chain's current state to its running sums.
    fn record_states(&mut self) {
        let d = self.space.dim();
        for (c, x) in self.states.iter().enumerate() {
            let (sums, squares) = (&mut self.sums[c], &mut self.squares[c]);
            if sums.is_empty() {
                sums.resize(d, 0.0);
                squares.resize(d, 0.0);
            }
            let base = sums.len() - d;
            for j in 0..d {
                let shift = x[j] - self.origins[c][j];
                sums.push(sums[base + j] + shift);
                squares.push(squares[base + j] + shift * shift);
            }
        }
        self.length += 1;
    }

    /// `R̂` per parameter on the last half of the chains (all of them up to 3 states), from the running sums.
    fn r_hat(&self) -> Vec<f64> {
        let (t, d) = (self.length, self.space.dim());
        let a = if t > 3 { t / 2 } else { 0 };
        let k = (t - a) as f64;
        let mut means = Vec::with_capacity(self.states.len());
        let mut variances = Vec::with_capacity(self.states.len());
        for c in 0..self.states.len() {
            let (sums, squares) = (&self.sums[c], &self.squares[c]);
            let s1: Vec<f64> = (0..d).map(|j| sums[t * d + j] - sums[a * d + j]).collect();
            means.push((0..d).map(|j| self.origins[c][j] + s1[j] / k).collect());
            variances.push(
                (0..d)
                    .map(|j| ((squares[t * d + j] - squares[a * d + j] - s1[j] * s1[j] / k) / (k - 1.0)).max(0.0))
                    .collect(),
            );
        }
        diagnostics::gelman_rubin_1992_from_moments(&means, &variances, t - a)
    }
}

impl Sampler for Dream {
    fn name(&self) -> &'static str {
        "dream"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if self.truncated {
            return None;
        }
        let mut limit = remaining;
        if let Some((_, stop)) = self.converged {
            if self.evaluations >= stop {
                return None;
            }
            limit = limit.min(stop - self.evaluations);
        }
        let mut batch: Vec<Proposal> = if self.states.is_empty() {
            self.start_points().into_iter().enumerate().map(|(c, x)| Proposal::of(c, x)).collect()
        } else {
            (0..self.options.n_chains).map(|i| Proposal::of(i, self.propose(i))).collect()
        };
        batch.truncate(limit);
        self.pending = batch.clone();
        Some(batch)
    }

    fn tell(&mut self, values: &[f64]) {
        let pending = std::mem::take(&mut self.pending);
        let n = self.options.n_chains;
        self.evaluations += values.len();
        self.accepted.clear();
        if values.len() < n {
            // the budget (or the runs after convergence) ended inside a generation
            self.truncated = true;
        }
        if self.states.is_empty() {
            self.targets = pending.iter().zip(values).map(|(p, &v)| bayes::log_target(&self.space, &p.x, v)).collect();
            self.states = pending.into_iter().map(|p| p.x).take(values.len()).collect();
            self.origins = self.states.clone();
            self.accepted = vec![true; values.len()];
            if !self.truncated {
                self.record_states();
            }
            return;
        }
        for (c, (p, &v)) in pending.iter().zip(values).enumerate() {
            let proposed = bayes::log_target(&self.space, &p.x, v);
            let ln_u = self.rng.random_sample().ln();
            let ok = match self.options.acceptance {
                Acceptance::Metropolis => bayes::metropolis(ln_u, proposed, self.targets[c]),
                Acceptance::Spotpy => bayes::metropolis(ln_u, 0.5 * proposed, 0.5 * self.targets[c]),
            };
            if ok {
                self.states[c].clone_from(&p.x);
                self.targets[c] = proposed;
                self.accepts[c] += 1;
            }
            self.accepted.push(ok);
        }
        if self.truncated {
            return;
        }
        self.record_states();
        if self.converged.is_none() {
            let r = self.r_hat();
            if self.length >= 5 && r.iter().all(|&v| v < self.options.convergence_limit) {
                self.converged = Some((self.evaluations, self.evaluations + self.options.runs_after_convergence));
            }
            self.r_hats.push(r);
        }
    }

    fn accepted(&self) -> Option<&[bool]> {
        Some(&self.accepted)
    }

    fn termination(&self) -> String {
        match self.converged {
            Some((at, _)) => format!(
                "converged: R̂ < {} for every parameter after {at} evaluations ({} generations), then {} more",
                self.options.convergence_limit,
                self.r_hats.len(),
                self.options.runs_after_convergence
            ),
            None => "finished".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{Termination, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing::{self, Gaussian};

    fn run(f: fn(&[f64]) -> f64, half: f64, d: usize, seed: u32, budget: usize) -> f64 {
        let mut s = Dream::new(testing::cube(d, half), DreamOptions::default(), seed, budget).unwrap();
        testing::best(&mut s, f, budget)
    }

    #[test]
    fn samples_a_correlated_gaussian_and_converges() {
        let g = Gaussian::correlated();
        let options = DreamOptions { runs_after_convergence: 40_000, ..DreamOptions::default() };
        let mut s = Dream::new(g.space(), options, 4, 0).unwrap();
        let chains = testing::chains(&mut s, &|x: &[f64]| g.value(x), 100_000);
        assert!(s.termination().starts_with("converged"), "{}", s.termination());
        let total: usize = chains.chains.iter().map(Vec::len).sum();
        assert!(total < 100_000, "{total} states: it should stop 40 000 evaluations after converging");
        let last = s.r_hats().last().unwrap();
        assert!(last.iter().all(|&r| r < 1.2), "{last:?}");
        g.assert_moments(&chains, 0.1, 0.08);
        // the same R̂ from the draws themselves
        let halves: Vec<Vec<Vec<f64>>> = {
            let n = s.r_hats().len() + 1;
            chains.chains.iter().map(|c| c[n / 2..n].to_vec()).collect()
        };
        let direct = diagnostics::gelman_rubin_1992(&halves).unwrap();
        assert!(direct.iter().zip(last).all(|(a, b)| (a - b).abs() < 1e-9), "{direct:?} vs {last:?}");
    }

    #[test]
    fn spotpy_acceptance_samples_a_tempered_posterior() {
        // exp(½ L) of a Gaussian is a Gaussian √2 times as wide
        let g = Gaussian::correlated();
        let options =
            DreamOptions { runs_after_convergence: 40_000, acceptance: Acceptance::Spotpy, ..DreamOptions::default() };
        let mut s = Dream::new(g.space(), options, 5, 0).unwrap();
        let chains = testing::chains(&mut s, &|x: &[f64]| g.value(x), 100_000);
        let wide = Gaussian { sd: [g.sd[0] * 2f64.sqrt(), g.sd[1] * 2f64.sqrt()], ..g };
        wide.assert_moments(&chains, 0.1, 0.08);
    }

    #[test]
    fn default_run_stops_after_convergence() {
        let g = Gaussian::correlated();
        let mut s = Dream::new(g.space(), DreamOptions::default(), 1, 0).unwrap();
        let mut f = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, crate::samplers::driver::EvaluationError> {
            Ok(b.iter().map(|p| g.value(&p.x)).collect())
        };
        let out = crate::samplers::search(&mut s, &mut f, 20_000, &mut |_| crate::samplers::Flow::Continue).unwrap();
        let Termination::Method(message) = &out.termination else { panic!("{:?}", out.termination) };
        let (at, _) = s.converged.unwrap();
        assert_eq!(out.evaluations, at + 100, "{message}");
        assert!(at < 5000, "{message}");
        assert!(s.r_hats().last().unwrap().iter().all(|&r| r < 1.2));
    }

    #[test]
    fn starts_at_shuffled_prior_quantiles() {
        let space = testing::cube(3, 8.0);
        let mut s = Dream::new(space, DreamOptions::default(), 9, 0).unwrap();
        let starts = s.ask(100).unwrap();
        assert_eq!(starts.len(), 7);
        for j in 0..3 {
            let mut column: Vec<f64> = starts.iter().map(|p| p.x[j]).collect();
            column.sort_by(f64::total_cmp);
            let want: Vec<f64> = (1..=7).map(|k| -8.0 + 16.0 * k as f64 / 8.0).collect();
            assert!(column.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12), "{column:?}");
        }
        let diagonal = starts.iter().all(|p| p.x[0] == p.x[1] && p.x[1] == p.x[2]);
        assert!(!diagonal, "columns are shuffled independently");
    }

    #[test]
    fn minimises_the_test_functions() {
        let rosen = testing::median((1..=5).map(|seed| run(rosenbrock, 10.0, 2, seed, 2000)));
        let grie = testing::median((1..=5).map(|seed| run(griewank, 20.0, 2, seed, 2000)));
        let ack = testing::median((1..=5).map(|seed| run(ackley, 32.768, 2, seed, 2000)));
        assert!(rosen < 0.2 && grie < 0.2 && ack < 2.0, "rosenbrock {rosen}, griewank {grie}, ackley {ack}");
    }

    #[test]
    fn reproducible_bounded_and_on_budget() {
        let space = testing::cube(4, 10.0);
        let options = DreamOptions { convergence_limit: 1.0, ..DreamOptions::default() };
        let trace = |seed| {
            let mut s = Dream::new(space.clone(), options.clone(), seed, 0).unwrap();
            testing::trace(&mut s, rosenbrock, 1003)
        };
        let (a, b, c) = (trace(1), trace(1), trace(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 1003);
        assert_eq!(a.last().unwrap().chain, Some(1));
        assert_within(&space, &a);
    }

    #[test]
    fn invalid_options_name_their_key() {
        let space = testing::cube(2, 1.0);
        let err = |o: DreamOptions| Dream::new(space.clone(), o, 0, 10).unwrap_err();
        assert!(err(DreamOptions { n_chains: 6, ..DreamOptions::default() }).starts_with("n_chains:"));
        assert!(err(DreamOptions { delta: 0, ..DreamOptions::default() }).starts_with("delta:"));
        assert!(err(DreamOptions { n_cr: 0, ..DreamOptions::default() }).starts_with("n_cr:"));
        assert!(err(DreamOptions { eps: -1.0, ..DreamOptions::default() }).starts_with("eps:"));
        assert!(err(DreamOptions { c: f64::NAN, ..DreamOptions::default() }).starts_with("c:"));
        let parsed: DreamOptions = toml::from_str("n_chains = 9\nacceptance = \"spotpy\"").unwrap();
        assert_eq!(parsed, DreamOptions { n_chains: 9, acceptance: Acceptance::Spotpy, ..DreamOptions::default() });
        assert!(toml::from_str::<DreamOptions>("nCr = 4").unwrap_err().to_string().contains("nCr"));
    }
}
