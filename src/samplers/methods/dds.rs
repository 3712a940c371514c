//! DDS: dynamically dimensioned search (Tolson & Shoemaker 2007, *Water Resour. Res.* 43, W01413), drawn
//! exactly as SPOTPY 1.6.7's `algorithms/dds.py` draws (`shared/spec/samplers.md` §1.11).
//!
//! A greedy single-solution search. It starts from the best of `max(5, round(0.005·R))` uniform points in the
//! bounds (`R` = evaluations per trial, Python's half-to-even rounding), or from `x_initial` (one evaluation).
//! Then, for `i = 0..m` with `m = R − n_init`, every parameter is perturbed with probability
//! `P_i = 1 − ln(i+1)/ln(m)` (if none is picked, one uniformly: `ceil(n·u) − 1`), by
//! `x_j + r·(upper_j − lower_j)·N(0, 1)`. A coordinate that leaves the bounds is reflected with probability ½
//! (`u ≤ ½`) or set to the violated bound; a reflection that overshoots the other bound falls back to the
//! violated bound. The candidate replaces the current best only if it is strictly better. `trials`
//! independent restarts split the budget.
//!
//! # Draw order (SPOTPY replay)
//! With the same `random_state`, this DDS asks the very points SPOTPY's DDS evaluates (`tests/spotpy_dds.rs`)
//! for uniform priors: SPOTPY seeds `np.random` and draws from it; [`LegacyRandom`] is that stream. SPOTPY also
//! consumes the stream in its bookkeeping: every `self.parameter()` call draws one value per parameter (one
//! `random_sample` each for a uniform parameter), and DDS calls it twice before the first trial (bounds),
//! once at the start of each trial, once after each improvement, and once when the initial phase ends. DDS
//! skips the same draws at the same moments. In order:
//! * start of run: `2n` skipped; start of each trial: `n` skipped;
//! * initial point: `n` uniforms (`lower + range·u`, in parameter order);
//! * candidate: `n` uniforms (the selection mask), then for each selected parameter in order one `normal`
//!   and one uniform (reflect or absorb); if none was selected, one uniform picks the parameter first;
//! * after a strict improvement (initial or search phase): `n` skipped; after the last initial point: `n`
//!   skipped.
//!
//! With non-uniform priors SPOTPY's `parameter()` draws from other distributions, so the replay holds for
//! uniform priors only; the search itself never reads the priors' shapes (DDS works in the bounds).
//!
//! Not reproduced: SPOTPY's integer parameters (`as_int`). Deliberate difference: if every initial value is
//! `≥ 1e308` (failed runs), SPOTPY crashes; here the first initial point becomes the current solution.
//!
//! Defaults: `r = 0.2`, `trials = 1`, no `x_initial` (SPOTPY's). Values are minimised (SPOTPY maximises its
//! objective: feed it the negated value to compare).

use serde::Deserialize;

use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// SPOTPY's initial best objective (`-1e308` when maximising).
const UNSET: f64 = 1e308;

/// Options of [`Dds`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DdsOptions {
    /// Neighbourhood size: the perturbation's standard deviation as a fraction of each parameter's range
    /// (SPOTPY's constructor keyword `r`).
    pub r: f64,
    /// Independent restarts; each gets `max_evaluations / trials` evaluations (the remainder is unused).
    pub trials: usize,
    /// A starting point (one evaluation) instead of the random initial sample; within the bounds.
    pub x_initial: Option<Vec<f64>>,
}

impl Default for DdsOptions {
    fn default() -> Self {
        DdsOptions { r: 0.2, trials: 1, x_initial: None }
    }
}

/// Dynamically dimensioned search; asks one point at a time.
#[derive(Debug)]
pub struct Dds {
    space: Space,
    options: DdsOptions,
    rng: LegacyRandom,
    /// Evaluations per trial (SPOTPY's `repetitions`).
    per_trial: usize,
    /// Evaluations of the initial phase of a trial.
    n_init: usize,
    trial: usize,
    /// Evaluations told in the current trial.
    step: usize,
    /// Whether the current trial's start-up draws were skipped.
    started: bool,
    /// The current (best) solution of the trial and its value (`UNSET` until one improves on it).
    best_x: Vec<f64>,
    best_value: f64,
    /// The point of the last `ask`.
    pending: Vec<f64>,
}

impl Dds {
    /// # Errors
    /// `"key: why"` for an invalid option, or `max_evaluations` too small for the initial phase.
    pub fn new(space: Space, options: DdsOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        if space.dim() == 0 {
            return Err("parameters: DDS needs at least one parameter".into());
        }
        if !(options.r > 0.0 && options.r.is_finite()) {
            return Err(format!("r: must be finite and > 0 (got {})", options.r));
        }
        if options.trials == 0 {
            return Err("trials: must be ≥ 1".into());
        }
        if let Some(x0) = &options.x_initial {
            if x0.len() != space.dim() {
                return Err(format!("x_initial: {} values for {} parameters", x0.len(), space.dim()));
            }
            if !space.contains(x0) {
                return Err(format!("x_initial: {x0:?} is outside the bounds"));
            }
        }
        let per_trial = max_evaluations / options.trials;
        let n_init = match options.x_initial {
            Some(_) => 1,
            None => 5.max((0.005 * per_trial as f64).round_ties_even() as usize),
        };
        if per_trial <= n_init {
            return Err(format!(
                "max_evaluations: {max_evaluations} leaves {per_trial} per trial, not more than the {n_init} \
                 initial evaluations"
            ));
        }
        Ok(Dds {
            space,
            options,
            rng: LegacyRandom::new(random_state),
            per_trial,
            n_init,
            trial: 0,
            step: 0,
            started: false,
            best_x: Vec::new(),
            best_value: UNSET,
            pending: Vec::new(),
        })
    }

    /// Skips the draws of one SPOTPY `self.parameter()` call (one uniform per parameter).
    fn skip_parameter_call(&mut self) {
        for _ in 0..self.space.dim() {
            self.rng.random_sample();
        }
    }

    /// A candidate around the current solution, at search iteration `i` of `m`.
    fn candidate(&mut self, i: usize, m: usize) -> Vec<f64> {
        perturb(&self.space, &mut self.rng, self.options.r, &self.best_x, i, m)
    }
}

/// DDS's candidate around `x` at search iteration `i` of `m` (`m ≥ 2`), with neighbourhood size `r`: each
/// parameter moves with probability `1 − ln(i+1)/ln(m)` (one chosen uniformly if none does) by
/// `r·(upper − lower)·N(0, 1)`, reflected at a bound with probability ½ or set onto it (module docs).
///
/// Draws: `n` uniforms (the mask), then per moved parameter in order one `normal` and one uniform; when none
/// moved, one uniform picks the parameter first. Shared with PADDS.
pub fn perturb(space: &Space, rng: &mut LegacyRandom, r: f64, x: &[f64], i: usize, m: usize) -> Vec<f64> {
    let n = space.dim();
    let mask: Vec<f64> = (0..n).map(|_| rng.random_sample()).collect();
    let p = 1.0 - ((i + 1) as f64).ln() / (m as f64).ln();
    let mut out = x.to_vec();
    let mut moved = false;
    for (j, &u) in mask.iter().enumerate() {
        if u < p {
            moved = true;
            out[j] = neighbour(space, rng, r, x[j], j);
        }
    }
    if !moved {
        // `ceil(n·u) − 1`, where u = 0 gives −1: Python's last index
        let k = ((n as f64) * rng.random_sample()).ceil() as usize;
        let j = if k == 0 { n - 1 } else { k - 1 };
        out[j] = neighbour(space, rng, r, x[j], j);
    }
    out
}

/// A random neighbour of value `s` of parameter `j`.
fn neighbour(space: &Space, rng: &mut LegacyRandom, r: f64, s: f64, j: usize) -> f64 {
    let (lo, hi) = (space.lower(j), space.upper(j));
    let mut x = s + rng.standard_normal() * r * (hi - lo);
    let reflect = rng.random_sample() <= 0.5;
    if x < lo {
        x = if reflect { lo + (lo - x) } else { lo };
        if x > hi {
            x = lo;
        }
    } else if x > hi {
        x = if reflect { hi - (x - hi) } else { hi };
        if x < lo {
            x = hi;
        }
    }
    x
}

impl Sampler for Dds {
    fn name(&self) -> &'static str {
        "dds"
    }

    fn ask(&mut self, _remaining: usize) -> Option<Vec<Proposal>> {
        if self.trial == self.options.trials {
            return None;
        }
        if !self.started {
            if self.trial == 0 {
                self.skip_parameter_call(); // minbound
                self.skip_parameter_call(); // maxbound
            }
            self.skip_parameter_call(); // the trial's `as_int` flags
            self.started = true;
        }
        let x = if self.step < self.n_init {
            match &self.options.x_initial {
                Some(x0) => x0.clone(),
                None => (0..self.space.dim())
                    .map(|j| self.space.lower(j) + self.space.width(j) * self.rng.random_sample())
                    .collect(),
            }
        } else {
            self.candidate(self.step - self.n_init, self.per_trial - self.n_init)
        };
        self.pending = x.clone();
        Some(vec![Proposal::of(self.trial, x)])
    }

    fn tell(&mut self, values: &[f64]) {
        let Some(&v) = values.first() else { return };
        let v = if v.is_nan() { f64::INFINITY } else { v };
        if v < self.best_value {
            self.best_value = v;
            self.best_x = self.pending.clone();
            self.skip_parameter_call();
        } else if self.best_x.is_empty() {
            self.best_x = self.pending.clone();
        }
        self.step += 1;
        if self.step == self.n_init {
            self.skip_parameter_call();
        }
        if self.step == self.per_trial {
            self.trial += 1;
            self.step = 0;
            self.started = false;
            self.best_x.clear();
            self.best_value = UNSET;
        }
    }

    fn termination(&self) -> String {
        format!("{} trial(s) of {} evaluations done", self.options.trials, self.per_trial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, Termination, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::{Flow, SearchOutcome, search};

    fn cube(n: usize, b: f64) -> Space {
        let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Space::uniform(&names, &vec![(-b, b); n])
    }

    /// Runs DDS on `f` and returns the outcome and every point asked.
    fn run(
        f: fn(&[f64]) -> f64,
        space: &Space,
        options: DdsOptions,
        seed: u32,
        budget: usize,
    ) -> (SearchOutcome, Vec<Vec<f64>>) {
        let mut dds = Dds::new(space.clone(), options, seed, budget).unwrap();
        let mut trace = Vec::new();
        let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            assert_within(space, b);
            trace.extend(b.iter().map(|p| p.x.clone()));
            Ok(b.iter().map(|p| f(&p.x)).collect())
        };
        let outcome = search(&mut dds, &mut objective, budget, &mut |_| Flow::Continue).unwrap();
        (outcome, trace)
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    #[test]
    fn reaches_the_measured_thresholds() {
        // medians over seeds 1..=5 (measured, equal to SPOTPY's: rosenbrock-2D 0.34, griewank-2D 3.5e-4,
        // ackley-10D 0.72)
        let cases = [
            (rosenbrock as fn(&[f64]) -> f64, 2, 10.0, 1000, 1.0),
            (griewank, 2, 20.0, 1000, 0.01),
            (ackley, 10, 32.768, 5000, 1.5),
        ];
        for (f, n, b, budget, threshold) in cases {
            let space = cube(n, b);
            let bests: Vec<f64> =
                (1..=5).map(|s| run(f, &space, DdsOptions::default(), s, budget).0.best_value).collect();
            assert!(median(bests.clone()) < threshold, "n {n}, budget {budget}: {bests:?}");
        }
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let space = cube(3, 10.0);
        let (a, ta) = run(rosenbrock, &space, DdsOptions::default(), 4, 300);
        let (b, tb) = run(rosenbrock, &space, DdsOptions::default(), 4, 300);
        let (_, tc) = run(rosenbrock, &space, DdsOptions::default(), 5, 300);
        assert_eq!(ta, tb);
        assert_eq!(a, b);
        assert_ne!(ta, tc);
    }

    #[test]
    fn draws_in_spotpy_order() {
        // seed 3, 2-D on [0, 1]: 2n + n skipped draws, then the first initial point
        let space = cube(2, 1.0);
        let mut dds = Dds::new(space, DdsOptions::default(), 3, 100).unwrap();
        let mut rng = LegacyRandom::new(3);
        for _ in 0..6 {
            rng.random_sample();
        }
        let expected: Vec<f64> = (0..2).map(|_| -1.0 + 2.0 * rng.random_sample()).collect();
        let first = dds.ask(100).unwrap();
        assert_eq!(first[0].x, expected);
        assert_eq!(first[0].chain, Some(0));
        // an improvement skips n draws before the next initial point
        dds.tell(&[1.0]);
        for _ in 0..2 {
            rng.random_sample();
        }
        let expected: Vec<f64> = (0..2).map(|_| -1.0 + 2.0 * rng.random_sample()).collect();
        assert_eq!(dds.ask(99).unwrap()[0].x, expected);
    }

    #[test]
    fn search_phase_perturbs_fewer_parameters_over_time() {
        // P_i decays from 1 to 0: early candidates move most coordinates, late ones mostly a single one
        let space = cube(10, 1.0);
        let (_, trace) = run(|_| 1.0, &space, DdsOptions::default(), 9, 1000);
        let first = &trace[0]; // the current solution stays the first point (no improvement on a constant)
        let moved = |x: &Vec<f64>| x.iter().zip(first).filter(|(a, b)| a != b).count();
        let early: usize = trace[5..55].iter().map(moved).sum();
        let late: usize = trace[950..1000].iter().map(moved).sum();
        assert!(early > 200, "early candidates moved {early} coordinates");
        assert!((50..60).contains(&late), "late candidates moved {late} coordinates");
    }

    #[test]
    fn budget_trials_and_x_initial() {
        let space = cube(2, 5.0);
        let options = DdsOptions { trials: 3, x_initial: Some(vec![1.0, -2.0]), ..DdsOptions::default() };
        let (outcome, trace) = run(griewank, &space, options, 1, 100);
        // 3 trials of 33 evaluations, each starting at x_initial; the last evaluation is unused
        assert_eq!(outcome.evaluations, 99);
        assert!(matches!(outcome.termination, Termination::Method(_)));
        for t in 0..3 {
            assert_eq!(trace[33 * t], vec![1.0, -2.0]);
        }
        let (outcome, _) = run(ackley, &space, DdsOptions::default(), 2, 77);
        assert_eq!(outcome.evaluations, 77);
        assert_eq!(outcome.termination, Termination::Budget);
    }

    #[test]
    fn options_are_validated() {
        let space = cube(2, 1.0);
        let err = |o: DdsOptions, budget: usize| Dds::new(space.clone(), o, 0, budget).unwrap_err();
        assert!(err(DdsOptions { r: 0.0, ..DdsOptions::default() }, 100).starts_with("r:"));
        assert!(err(DdsOptions { trials: 0, ..DdsOptions::default() }, 100).starts_with("trials:"));
        assert!(err(DdsOptions { x_initial: Some(vec![0.0]), ..DdsOptions::default() }, 100).starts_with("x_initial:"));
        let outside = DdsOptions { x_initial: Some(vec![0.0, 2.0]), ..DdsOptions::default() };
        assert!(err(outside, 100).starts_with("x_initial:"));
        assert!(err(DdsOptions::default(), 5).starts_with("max_evaluations:"));
        let toml: DdsOptions = toml::from_str("r = 0.3\ntrials = 2").unwrap();
        assert_eq!(toml, DdsOptions { r: 0.3, trials: 2, x_initial: None });
        assert!(toml::from_str::<DdsOptions>("radius = 0.3").is_err());
    }
}
