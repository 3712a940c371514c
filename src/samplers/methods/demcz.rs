//! DE-MCz: Differential Evolution Markov Chain from past states (ter Braak & Vrugt 2008), with SPOTPY's
//! options.
//!
//! `n_chains` chains share an archive `Z` of past states; one batch is one generation (one proposal per
//! chain). The log target is `−value + ln prior(x)` ([`bayes::log_target`]).
//!
//! # Algorithm
//! * Archive: `Z₀` holds `n_seed · n_chains` draws from the priors, `n_seed = max(⌈2d/n_chains⌉, 2)`
//!   (SPOTPY's seeding rounds; raised until `Z₀` has `2·de_pairs + 1` points). The last round's points are
//!   the chains' starts: only they are evaluated (ter Braak & Vrugt's `Z₀` needs no evaluation).
//! * Burn-in (the first `burn_in` generations, SPOTPY's `burnIn`): each chain proposes a fresh draw from the
//!   priors and accepts it if `ln u < L* − L` (the likelihood ratio: an independence sampler whose
//!   proposal is the prior, so the prior density cancels). This explores the whole space before the
//!   difference moves; `burn_in = 0` gives the published algorithm.
//! * Then: `x*_i = x_i + (1 + e)·γ·(Σ_{a=1..δ} z_{r1,a} − Σ_{a=1..δ} z_{r2,a}) + E` with `2δ` distinct rows
//!   of the archive's window (not the chain's own latest entry), `δ = de_pairs`, `e ~ N(0, 0.05)` and
//!   `E ~ N(0, eps)` per component, `γ = 2.38/√(2 δ d)`, or `γ = 1` with probability 1/5 (one `γ` per
//!   generation). Reflected once at the bounds, then clamped, which keeps the proposal symmetric
//!   (`boundary = "reflect"`), or clamped onto them (`boundary = "clamp"`, SPOTPY's); accepted if
//!   `ln u < ln π(x*) − ln π(x)`.
//! * Every `thin` generations the chains' states are appended to `Z` (one record), and the start of the
//!   window moves forward by `adaptation_rate` records (SPOTPY's `adaptationRate`); `Z₀`'s rounds count as
//!   records too (so "auto" starts past most of `Z₀`, as SPOTPY, which keeps only its last seeding round
//!   and drops it at its first record). By default ("auto", as
//!   SPOTPY) the rate is `min(0.5·0.234/ā, 0.95)`, `ā` the acceptance probability `min(1, π(x*)/π(x))`
//!   averaged over the chains and smoothed over generations (weight `1 − e^(−1/30)` per generation, from
//!   `ā = 10⁻⁶`): while few proposals are accepted the window forgets nearly as fast as it grows, so the
//!   jumps scale with the chains' recent spread, not with the prior draws and the burn-in; the window grows
//!   by at least 0.05 records per record. It always holds the last record and at least `2δ + 1` rows.
//!   `adaptation_rate = 0` keeps the whole archive, as published: its jumps shrink only as the archive
//!   fills. Measured at 1000 evaluations (median best value over seeds 1–30, "auto" against 0): Rosenbrock
//!   2-D 0.0065 / 0.058, 10-D 153 / 1493, 30-D 5.7·10⁴ / 2.2·10⁴; Ackley 2-D 0.21 / 0.99; hymod RMSE
//!   7.92 / 7.89 (7.72 with `boundary = "clamp"`); Griewank and 10/30-D Ackley within 4 %. The window also breaks detailed balance while it
//!   forgets; as it grows without bound the chains still settle (the correlated-Gaussian test below).
//! * Convergence: when the chains have more recorded states than parameters, and then each time the
//!   generation count has grown by 10 %, Gelman–Rubin `R̂` ([`diagnostics::gelman_rubin`]) on the last half
//!   of each chain's recorded states; the run stops when every `R̂ < convergence_criteria`. `R̂` hardly
//!   ever falls below SPOTPY's default 0.8, so by default the chains run to the budget; set 1.1–1.2 to stop
//!   on convergence.
//!
//! # SPOTPY's quirks (`algorithms/demcz.py`, 1.6.7), not reproduced
//! * It evaluates every seeding round but records only the last one in `Z`: here `Z₀` holds all rounds and
//!   only the starts are evaluated.
//! * Its chains first compare against one scalar log-density (the last seed's): here each its own.
//! * It clamps proposals to the bounds: a biased kernel that piles points onto a bound, which is no sampler
//!   of the posterior but finds an optimum on a bound (hymod's `bexp` = 0.1) quickly. Here they are reflected
//!   by default; `boundary = "clamp"` clamps them as SPOTPY.
//! * Its seeding round is the window's first record, dropped at once (its start moves by 1): here `Z₀`'s
//!   rounds move the start by the adaptation rate each.
//! * Its `R̂` uses population variances, and when a chain has not moved it draws `R̂ ~ U(0.1, 0.9)` and
//!   so stops at random after the burn-in (with 3 chains on 2-D Rosenbrock, seed 1, after 309 of 2000
//!   evaluations): here a chain that has not moved gives `R̂ = +inf`.
//! * No snooker update (optional in the paper, absent in SPOTPY).
//!
//! # Defaults (SPOTPY's `sample()`)
//! `n_chains = 3`, `burn_in = 100`, `thin = 1`, `convergence_criteria = 0.8`, `de_pairs = 2`,
//! `eps = 0.05` (absolute units, as SPOTPY), `adaptation_rate` unset ("auto"), `boundary = "reflect"` (not
//! SPOTPY's).
//!
//! # Reference
//! ter Braak & Vrugt (2008), Differential Evolution Markov Chain with snooker updater and fewer chains,
//! *Stat. Comput.* 18, 435–446; SPOTPY `algorithms/demcz.py` (after J. Salvatier's `multichain_mcmc`).

use super::bayes;
use crate::samplers::diagnostics;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The standard deviation of the relative jitter `e` of the jump (SPOTPY's fixed 0.05).
const JITTER: f64 = 0.05;
/// The weight of a generation in the smoothed acceptance probability `ā` (SPOTPY's `1 − e^(−1/30)`).
const SMOOTHING: f64 = 0.032_783_899_517_994_1;
/// `ā` before the first generation (SPOTPY's).
const INITIAL_ACCEPTANCE: f64 = 1e-6;

/// The Metropolis acceptance probability `min(1, e^(L* − L))` (0 for a rejected `−inf` proposal).
fn acceptance_probability(proposed: f64, current: f64) -> f64 {
    if proposed == f64::NEG_INFINITY || proposed.is_nan() {
        0.0
    } else if current == f64::NEG_INFINITY {
        1.0
    } else {
        (proposed - current).min(0.0).exp()
    }
}

/// How a proposal that left the bounds is put back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DemczBoundary {
    /// Mirrored at the bound once, then clamped: a symmetric proposal (the chains sample the posterior).
    #[default]
    Reflect,
    /// Onto the bound (SPOTPY's `check_par_validity`): the points at a bound get the mass of everything
    /// beyond it, a biased kernel that finds optima on a bound fast.
    Clamp,
}

/// Options of [`Demcz`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemczOptions {
    /// Number of chains (SPOTPY's `nChains`).
    pub n_chains: usize,
    /// Generations whose proposals are fresh draws from the priors (SPOTPY's `burnIn`).
    pub burn_in: usize,
    /// The chains' states join the archive every `thin` generations.
    pub thin: usize,
    /// The run stops when every Gelman–Rubin `R̂` is below this (SPOTPY's `convergenceCriteria`).
    pub convergence_criteria: f64,
    /// Archive differences summed per jump, `δ` (SPOTPY's `DEpairs`).
    pub de_pairs: usize,
    /// Standard deviation of the additive noise `E` [parameter units].
    pub eps: f64,
    /// Records by which the start of the archive's window moves at each record (SPOTPY's `adaptationRate`);
    /// unset: SPOTPY's `"auto"`, `min(0.5·0.234/ā, 0.95)` with `ā` the smoothed acceptance probability;
    /// `0`: the whole archive (ter Braak & Vrugt).
    pub adaptation_rate: Option<f64>,
    /// `"reflect"` (a symmetric proposal) or `"clamp"` (SPOTPY's: onto the bound).
    pub boundary: DemczBoundary,
}

impl Default for DemczOptions {
    fn default() -> Self {
        DemczOptions {
            n_chains: 3,
            burn_in: 100,
            thin: 1,
            convergence_criteria: 0.8,
            de_pairs: 2,
            eps: 5e-2,
            adaptation_rate: None,
            boundary: DemczBoundary::Reflect,
        }
    }
}

/// DE-MCz (see the module doc).
#[derive(Debug)]
pub struct Demcz {
    space: Space,
    options: DemczOptions,
    rng: LegacyRandom,
    /// The archive, `[|Z|][d]`: the seeds, then the recorded states in chain order.
    z: Vec<Vec<f64>>,
    /// Points in `Z₀`.
    seeds: usize,
    /// Each chain's latest entry in `Z`.
    latest: Vec<usize>,
    states: Vec<Vec<f64>>,
    /// Each chain's log target and log-likelihood `−value`.
    targets: Vec<f64>,
    likes: Vec<f64>,
    /// Generations told after the starts.
    generation: usize,
    pending: Vec<Proposal>,
    accepted: Vec<bool>,
    accepts: Vec<usize>,
    evaluations: usize,
    last_check: usize,
    r_hat: Vec<f64>,
    converged: Option<usize>,
    truncated: bool,
    /// The first record of the window of `Z` the jumps draw from (fractional: it moves by the adaptation rate).
    window: f64,
    /// The smoothed acceptance probability `ā` (SPOTPY's `accepts_ratio`).
    acceptance: f64,
}

impl Demcz {
    /// A sampler of `space` with `options`; `max_evaluations` is not needed.
    ///
    /// # Errors
    /// `"<key>: …"` for an invalid option (`n_chains`, `thin`, `de_pairs`, `eps`, `convergence_criteria`),
    /// `"parameters: …"` for an empty space or an invalid prior.
    pub fn new(
        space: Space,
        options: DemczOptions,
        random_state: u32,
        _max_evaluations: usize,
    ) -> Result<Self, String> {
        bayes::check_space(&space)?;
        let o = &options;
        if o.n_chains < 2 {
            return Err(format!("n_chains: needs at least 2 chains (got {})", o.n_chains));
        }
        if o.thin == 0 {
            return Err("thin: must be at least 1".into());
        }
        if o.de_pairs == 0 {
            return Err("de_pairs: must be at least 1".into());
        }
        if !(o.eps.is_finite() && o.eps >= 0.0) {
            return Err(format!("eps: must be finite and ≥ 0 (got {})", o.eps));
        }
        if let Some(rate) = o.adaptation_rate
            && !(0.0..=1.0).contains(&rate)
        {
            return Err(format!("adaptation_rate: must be in [0, 1] (got {rate})"));
        }
        if !(o.convergence_criteria > 0.0 && o.convergence_criteria.is_finite()) {
            return Err(format!("convergence_criteria: must be finite and > 0 (got {})", o.convergence_criteria));
        }
        let n = o.n_chains;
        Ok(Demcz {
            space,
            options,
            rng: LegacyRandom::new(random_state),
            z: Vec::new(),
            seeds: 0,
            latest: Vec::new(),
            states: Vec::new(),
            targets: Vec::new(),
            likes: Vec::new(),
            generation: 0,
            pending: Vec::new(),
            accepted: Vec::new(),
            accepts: vec![0; n],
            evaluations: 0,
            last_check: 0,
            r_hat: Vec::new(),
            converged: None,
            truncated: false,
            window: 0.0,
            acceptance: INITIAL_ACCEPTANCE,
        })
    }

    /// The latest Gelman–Rubin `R̂` per parameter (empty before the first check).
    pub fn r_hat(&self) -> &[f64] {
        &self.r_hat
    }

    /// The archive `Z`, `[|Z|][d]`: the prior draws `Z₀`, then the recorded states in chain order.
    pub fn archive(&self) -> &[Vec<f64>] {
        &self.z
    }

    /// The rows of `Z` the next jumps draw from: whole records from the window's start rounded up, at least
    /// the last record and `2·de_pairs + 1` rows.
    pub fn window(&self) -> &[Vec<f64>] {
        &self.z[self.window_start()..]
    }

    fn window_start(&self) -> usize {
        let n = self.options.n_chains;
        (self.window.ceil() as usize * n).min(self.z.len() - n.max(2 * self.options.de_pairs + 1))
    }

    /// The records by which the window's start moves at a record.
    fn rate(&self) -> f64 {
        self.options.adaptation_rate.unwrap_or_else(|| (0.5 * 0.234 / self.acceptance).min(0.95))
    }

    /// Each chain's acceptance rate so far (after its start).
    pub fn acceptance_rates(&self) -> Vec<f64> {
        self.accepts.iter().map(|&a| a as f64 / self.generation as f64).collect()
    }

    /// Fills `Z₀` and returns the chains' starts (its last round).
    fn seed(&mut self) -> Vec<Vec<f64>> {
        let (n, d) = (self.options.n_chains, self.space.dim());
        let mut rounds = (2 * d).div_ceil(n).max(2);
        while rounds * n < 2 * self.options.de_pairs + 1 {
            rounds += 1;
        }
        self.z = (0..rounds * n).map(|_| self.space.sample(&mut self.rng)).collect();
        self.seeds = self.z.len();
        self.latest = (self.seeds - n..self.seeds).collect();
        // Z₀'s rounds count as records: the window's start moves past them at the initial rate
        self.window = rounds as f64 * self.rate();
        self.z[self.seeds - n..].to_vec()
    }

    /// The difference-evolution proposals of one generation.
    fn propose(&mut self) -> Vec<Vec<f64>> {
        let (d, pairs) = (self.space.dim(), self.options.de_pairs);
        let gamma = if self.rng.below(5) == 0 { 1.0 } else { 2.38 / ((2 * pairs * d) as f64).sqrt() };
        let first = self.window_start();
        let mut proposals = Vec::with_capacity(self.states.len());
        for i in 0..self.states.len() {
            let mut rows = self.rng.distinct(self.z.len() - first, 2 * pairs, &[self.latest[i] - first]);
            rows.iter_mut().for_each(|r| *r += first);
            let mut x = self.states[i].clone();
            for (j, xj) in x.iter_mut().enumerate() {
                let jump: f64 = rows[..pairs].iter().map(|&r| self.z[r][j]).sum::<f64>()
                    - rows[pairs..].iter().map(|&r| self.z[r][j]).sum::<f64>();
                let e = self.rng.normal(0.0, JITTER);
                *xj += (1.0 + e) * gamma * jump + self.rng.normal(0.0, self.options.eps);
            }
            match self.options.boundary {
                DemczBoundary::Reflect => self.space.reflect(&mut x),
                DemczBoundary::Clamp => self.space.clip(&mut x),
            }
            proposals.push(x);
        }
        proposals
    }

    /// Gelman–Rubin on the last half of each chain's recorded states (its start, then every record).
    fn check_convergence(&mut self) {
        let n = self.options.n_chains;
        let records = (self.z.len() - self.seeds) / n + 1;
        if records <= self.space.dim() || records < 4 || (self.generation as f64) <= 1.1 * self.last_check as f64 {
            return;
        }
        self.last_check = self.generation;
        let first = self.seeds - n;
        let chains: Vec<Vec<Vec<f64>>> =
            (0..n).map(|c| (records / 2..records).map(|k| self.z[first + k * n + c].clone()).collect()).collect();
        self.r_hat = diagnostics::gelman_rubin(&chains).expect("equal chains of at least 2 draws");
        if self.r_hat.iter().all(|&r| r < self.options.convergence_criteria) {
            self.converged = Some(self.evaluations);
        }
    }
}

impl Sampler for Demcz {
    fn name(&self) -> &'static str {
        "demcz"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if self.converged.is_some() || self.truncated {
            return None;
        }
        let points = if self.states.is_empty() {
            self.seed()
        } else if self.generation < self.options.burn_in {
            (0..self.options.n_chains).map(|_| self.space.sample(&mut self.rng)).collect()
        } else {
            self.propose()
        };
        let mut batch: Vec<Proposal> = points.into_iter().enumerate().map(|(c, x)| Proposal::of(c, x)).collect();
        batch.truncate(remaining);
        self.pending = batch.clone();
        Some(batch)
    }

    fn tell(&mut self, values: &[f64]) {
        let pending = std::mem::take(&mut self.pending);
        let n = self.options.n_chains;
        self.evaluations += values.len();
        self.truncated = values.len() < n;
        self.accepted.clear();
        if self.states.is_empty() {
            for (p, &v) in pending.iter().zip(values) {
                self.targets.push(bayes::log_target(&self.space, &p.x, v));
                self.likes.push(-v);
                self.states.push(p.x.clone());
                self.accepted.push(true);
            }
            return;
        }
        let independent = self.generation < self.options.burn_in;
        let mut probability = 0.0;
        for (c, (p, &v)) in pending.iter().zip(values).enumerate() {
            let target = bayes::log_target(&self.space, &p.x, v);
            let ln_u = self.rng.random_sample().ln();
            // prior proposals: the prior density cancels, the likelihood ratio remains
            let like = if target == f64::NEG_INFINITY { f64::NEG_INFINITY } else { -v };
            let (proposed, current) = if independent { (like, self.likes[c]) } else { (target, self.targets[c]) };
            let ok = bayes::metropolis(ln_u, proposed, current);
            probability += acceptance_probability(proposed, current) / n as f64;
            if ok {
                self.states[c].clone_from(&p.x);
                self.targets[c] = target;
                self.likes[c] = -v;
                self.accepts[c] += 1;
            }
            self.accepted.push(ok);
        }
        if self.truncated {
            return;
        }
        self.generation += 1;
        self.acceptance = SMOOTHING * probability + (1.0 - SMOOTHING) * self.acceptance;
        if self.generation.is_multiple_of(self.options.thin) {
            for c in 0..n {
                self.latest[c] = self.z.len();
                self.z.push(self.states[c].clone());
            }
            self.window += self.rate();
            self.check_convergence();
        }
    }

    fn accepted(&self) -> Option<&[bool]> {
        Some(&self.accepted)
    }

    fn termination(&self) -> String {
        match self.converged {
            Some(at) => format!(
                "converged: every Gelman–Rubin R̂ < {} after {at} evaluations",
                self.options.convergence_criteria
            ),
            None => "finished".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::assert_within;
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing::{self, Gaussian};

    fn run(f: fn(&[f64]) -> f64, half: f64, d: usize, seed: u32, budget: usize) -> f64 {
        let mut s = Demcz::new(testing::cube(d, half), DemczOptions::default(), seed, budget).unwrap();
        testing::best(&mut s, f, budget)
    }

    #[test]
    fn samples_a_correlated_gaussian() {
        let g = Gaussian::correlated();
        let mut s = Demcz::new(g.space(), DemczOptions::default(), 2, 0).unwrap();
        let chains = testing::chains(&mut s, &|x: &[f64]| g.value(x), 60_000);
        g.assert_moments(&chains, 0.1, 0.08);
        assert_eq!(s.termination(), "finished");
        assert!(s.r_hat().iter().all(|&r| r < 1.05), "{:?}", s.r_hat());
        let rates = s.acceptance_rates();
        assert!(rates.iter().all(|r| (0.15..0.6).contains(r)), "{rates:?}");
    }

    #[test]
    fn stops_on_convergence_when_asked() {
        let g = Gaussian::correlated();
        let options = DemczOptions { convergence_criteria: 1.1, ..DemczOptions::default() };
        let mut s = Demcz::new(g.space(), options, 3, 0).unwrap();
        let chains = testing::chains(&mut s, &|x: &[f64]| g.value(x), 60_000);
        assert!(s.termination().starts_with("converged"), "{}", s.termination());
        let evaluations: usize = chains.chains.iter().map(Vec::len).sum();
        assert!(evaluations < 5000, "{evaluations}");
        assert!(s.r_hat().iter().all(|&r| r < 1.1));
    }

    #[test]
    fn archive_holds_every_seed_and_record() {
        // d = 4, 3 chains: ⌈8/3⌉ = 3 seeding rounds of 3 prior draws; the starts are the last round
        let space = testing::cube(4, 5.0);
        let mut s = Demcz::new(space, DemczOptions { thin: 2, ..DemczOptions::default() }, 1, 0).unwrap();
        let starts = s.ask(10).unwrap();
        assert_eq!(s.archive().len(), 9);
        assert!(starts.iter().zip(&s.archive()[6..]).all(|(p, z)| &p.x == z));
        s.tell(&[1.0, 2.0, 3.0]);
        for _ in 0..5 {
            s.ask(10).unwrap();
            s.tell(&[0.0, 5.0, f64::INFINITY]);
        }
        // 5 generations, thin 2: two records of 3 states
        assert_eq!(s.archive().len(), 15);
        assert_eq!(s.archive()[14], s.states[2]);
    }

    #[test]
    fn the_window_forgets_at_the_adaptation_rate() {
        // d = 2, 3 chains: Z₀ is 2 rounds (6 rows); 10 generations of rejected proposals add 10 records
        let window = |adaptation_rate| {
            let options = DemczOptions { adaptation_rate, burn_in: 5, ..DemczOptions::default() };
            let mut s = Demcz::new(testing::cube(2, 5.0), options, 1, 0).unwrap();
            s.ask(3).unwrap();
            s.tell(&[1.0, 2.0, 3.0]);
            for _ in 0..10 {
                s.ask(3).unwrap();
                s.tell(&[f64::INFINITY; 3]);
            }
            assert_eq!(s.archive().len(), 36);
            s.window().len()
        };
        // the published archive: everything
        assert_eq!(window(Some(0.0)), 36);
        // start (2 + 10) · 0.5 = 6 records: 6 records of 3 rows remain
        assert_eq!(window(Some(0.5)), 18);
        // "auto" with nothing accepted: 0.95 per record, start ⌈11.4⌉ = 12: no record left, widened to the
        // last 2δ + 1 = 5 rows
        assert_eq!(window(None), 5);
        assert_eq!(window(Some(1.0)), 5);
    }

    #[test]
    fn minimises_the_test_functions() {
        let rosen = testing::median((1..=5).map(|seed| run(rosenbrock, 10.0, 2, seed, 2000)));
        let grie = testing::median((1..=5).map(|seed| run(griewank, 20.0, 2, seed, 2000)));
        let ack = testing::median((1..=5).map(|seed| run(ackley, 32.768, 2, seed, 2000)));
        assert!(rosen < 0.1 && grie < 0.05 && ack < 1.0, "rosenbrock {rosen}, griewank {grie}, ackley {ack}");
    }

    #[test]
    fn reproducible_bounded_and_on_budget() {
        let space = testing::cube(5, 10.0);
        let options = DemczOptions { burn_in: 10, ..DemczOptions::default() };
        let trace = |seed| {
            let mut s = Demcz::new(space.clone(), options.clone(), seed, 0).unwrap();
            testing::trace(&mut s, rosenbrock, 1000)
        };
        let (a, b, c) = (trace(1), trace(1), trace(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 1000);
        assert_eq!(a.last().unwrap().chain, Some(0));
        assert_within(&space, &a);
        // clamping: Rosenbrock's minimum (1, …, 1) is a corner of [−1, 1]⁵, and points land on it
        let space = testing::cube(5, 1.0);
        let options = DemczOptions { burn_in: 10, boundary: DemczBoundary::Clamp, ..DemczOptions::default() };
        let mut s = Demcz::new(space.clone(), options, 1, 0).unwrap();
        let t = testing::trace(&mut s, rosenbrock, 1000);
        assert_within(&space, &t);
        let on_bound = t.iter().filter(|p| p.x.contains(&1.0)).count();
        assert!(on_bound > 100, "{on_bound} points on the upper bound");
    }

    #[test]
    fn invalid_options_name_their_key() {
        let space = testing::cube(2, 1.0);
        let err = |o: DemczOptions| Demcz::new(space.clone(), o, 0, 10).unwrap_err();
        assert!(err(DemczOptions { n_chains: 1, ..DemczOptions::default() }).starts_with("n_chains:"));
        assert!(err(DemczOptions { thin: 0, ..DemczOptions::default() }).starts_with("thin:"));
        assert!(err(DemczOptions { de_pairs: 0, ..DemczOptions::default() }).starts_with("de_pairs:"));
        assert!(err(DemczOptions { eps: -0.1, ..DemczOptions::default() }).starts_with("eps:"));
        let rate = Some(1.5);
        assert!(err(DemczOptions { adaptation_rate: rate, ..DemczOptions::default() }).starts_with("adaptation_rate:"));
        assert!(
            err(DemczOptions { convergence_criteria: 0.0, ..DemczOptions::default() })
                .starts_with("convergence_criteria:")
        );
        let parsed: DemczOptions = toml::from_str("n_chains = 5\nburn_in = 0\nboundary = \"clamp\"").unwrap();
        let want = DemczOptions { n_chains: 5, burn_in: 0, boundary: DemczBoundary::Clamp, ..DemczOptions::default() };
        assert_eq!(parsed, want);
        assert!(toml::from_str::<DemczOptions>("burnIn = 4").unwrap_err().to_string().contains("burnIn"));
    }
}
