//! Differential evolution (Storn & Price 1997) as scipy 1.17's `differential_evolution(...,
//! updating="deferred", polish=False)` (`scipy/optimize/_differentialevolution.py`).
//!
//! The population lives in the unit cube (parameter `= ½(l + u) + (t − ½)|u − l|`):
//! - **init** `"latinhypercube"` (scipy's: stratum `i` of `S` holds `(u + i)/S` with one uniform `u` per
//!   member and dimension, then each dimension's column is permuted on its own) or `"random"` (uniform);
//!   `S = max(5, popsize · n)` members;
//! - **each generation** draws the mutation factor `F ~ U[mutation₀, mutation₁)` once (dither; a scalar
//!   `mutation` is used as is), then for every member `i`: five distinct indices other than `i` from a
//!   persistent index array shuffled in place, the mutant `b'` of the strategy (`best1bin`:
//!   `x_best + F(x_r0 − x_r1)`; `rand1bin`: `x_r0 + F(x_r1 − x_r2)`; `currenttobest1bin`:
//!   `x_i + F(x_best − x_i + x_r0 − x_r1)`), binomial crossover with probability `recombination` where one
//!   random coordinate always comes from `b'`; coordinates outside `[0, 1]` are redrawn uniformly;
//! - greedy replacement (`f(trial) ≤ f(x_i)`), then the best member is swapped into slot 0;
//! - stops when `std(E) ≤ atol + tol·|mean(E)|` over the energies (numpy's pairwise sums, so the test is
//!   bitwise scipy's) or after `maxiter` generations.
//!
//! With the same seed (`LegacyRandom` is numpy's `RandomState`, which scipy uses for `seed=int`), options and
//! values, the asked points are scipy's: the random draws come in scipy's order (dither, the shuffles, the
//! crossover points, the crossover uniforms, the out-of-bounds redraws, row-major).
//!
//! **One generation is one batch** (`updating = "deferred"`: the whole trial population is evaluated before
//! any replacement). scipy's default `"immediate"` updates the best member after each trial, which makes the
//! generation sequential (scipy itself switches to deferred when `workers ≠ 1`); it is not offered.
//! **No polishing**: scipy's default `polish=True` ends with L-BFGS-B, a gradient method with finite
//! differences; this method is gradient-free (run a gradient optimizer afterwards if wanted).
//! Not offered either: the other strategies, constraints, integrality, `x0`, `"sobol"`/`"halton"` init.
//! Not reproduced: scipy evaluates the initial population again while every energy is infinite (every run
//! failed); here the generations go on (trials replace failed members).
//! `chain` = the member index.

use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The mutant of each trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeStrategy {
    /// `x_best + F (x_r0 − x_r1)`.
    Best1bin,
    /// `x_r0 + F (x_r1 − x_r2)`.
    Rand1bin,
    /// `x_i + F (x_best − x_i + x_r0 − x_r1)`.
    Currenttobest1bin,
}

/// The initial population.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeInit {
    /// scipy's Latin hypercube (module docs).
    Latinhypercube,
    /// Uniform in the bounds.
    Random,
}

/// The mutation factor `F`: a constant, or `[min, max)` redrawn every generation (dither).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum DeMutation {
    Constant(f64),
    Dither([f64; 2]),
}

/// Options of [`DifferentialEvolution`] (scipy's names and defaults).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeOptions {
    /// `"best1bin"`, `"rand1bin"` or `"currenttobest1bin"`.
    pub strategy: DeStrategy,
    /// Members per parameter: the population is `max(5, popsize · n)`.
    pub popsize: usize,
    /// `F ∈ [0, 2)`, or `[min, max]` for a dither (default `[0.5, 1.0]`).
    pub mutation: DeMutation,
    /// Crossover probability `CR ∈ [0, 1]`.
    pub recombination: f64,
    /// Relative convergence tolerance on the energies' spread.
    pub tol: f64,
    /// Absolute convergence tolerance.
    pub atol: f64,
    /// Maximum generations (the initial population is not one).
    pub maxiter: usize,
    /// `"latinhypercube"` or `"random"`.
    pub init: DeInit,
    /// Only `"deferred"` (module docs).
    pub updating: String,
}

impl Default for DeOptions {
    fn default() -> Self {
        DeOptions {
            strategy: DeStrategy::Best1bin,
            popsize: 15,
            mutation: DeMutation::Dither([0.5, 1.0]),
            recombination: 0.7,
            tol: 0.01,
            atol: 0.0,
            maxiter: 1000,
            init: DeInit::Latinhypercube,
            updating: "deferred".into(),
        }
    }
}

/// scipy's differential evolution, deferred updating (module docs).
#[derive(Clone, Debug)]
pub struct DifferentialEvolution {
    space: Space,
    options: DeOptions,
    rng: LegacyRandom,
    /// Members in the unit cube `[S][n]`; slot 0 holds the best after each generation.
    population: Vec<Vec<f64>>,
    energies: Vec<f64>,
    /// scipy's `_random_population_index`, shuffled in place by each sample selection.
    index: Vec<usize>,
    /// The trial population of the last ask `[S][n]`.
    trials: Vec<Vec<f64>>,
    /// Generations done; `None` before the initial population is told.
    generation: Option<usize>,
    done: Option<String>,
}

impl DifferentialEvolution {
    pub fn new(space: Space, options: DeOptions, random_state: u32, _max_evaluations: usize) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        if options.popsize == 0 {
            return Err("popsize: must be ≥ 1".into());
        }
        let (lo, hi) = match options.mutation {
            DeMutation::Constant(f) => (f, f),
            DeMutation::Dither([a, b]) => (a.min(b), a.max(b)),
        };
        if !(lo >= 0.0 && hi < 2.0) {
            return Err(format!("mutation: must be in [0, 2) (got {:?})", options.mutation));
        }
        if !(0.0..=1.0).contains(&options.recombination) {
            return Err(format!("recombination: must be in [0, 1] (got {})", options.recombination));
        }
        if options.tol.is_nan() || options.tol < 0.0 {
            return Err(format!("tol: must be ≥ 0 (got {})", options.tol));
        }
        if options.atol.is_nan() || options.atol < 0.0 {
            return Err(format!("atol: must be ≥ 0 (got {})", options.atol));
        }
        if options.updating != "deferred" {
            return Err(format!(
                "updating: only \"deferred\" is offered (got {:?}): \"immediate\" evaluates one trial at a time",
                options.updating
            ));
        }
        let mut options = options;
        options.mutation = match options.mutation {
            DeMutation::Dither(_) => DeMutation::Dither([lo, hi]),
            constant => constant,
        };
        let size = (options.popsize * n).max(5);
        let mut rng = LegacyRandom::new(random_state);
        let population = match options.init {
            DeInit::Latinhypercube => latin_hypercube(&mut rng, size, n),
            DeInit::Random => (0..size).map(|_| (0..n).map(|_| rng.random_sample()).collect()).collect(),
        };
        Ok(DifferentialEvolution {
            space,
            options,
            rng,
            trials: population.clone(),
            population,
            energies: vec![f64::INFINITY; size],
            index: (0..size).collect(),
            generation: None,
            done: None,
        })
    }

    /// The best member in parameter units and its value.
    pub fn best(&self) -> (Vec<f64>, f64) {
        (self.scale(&self.population[0]), self.energies[0])
    }

    /// Unit cube → parameters (scipy's `_scale_parameters`), clamped against rounding.
    fn scale(&self, t: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let (l, u) = (self.space.lower(i), self.space.upper(i));
                0.5 * (l + u) + (v - 0.5) * (l - u).abs()
            })
            .collect();
        self.space.clip(&mut x);
        x
    }

    /// Swaps the first lowest energy into slot 0.
    fn promote_lowest(&mut self) {
        let mut best = 0;
        for (i, e) in self.energies.iter().enumerate() {
            if *e < self.energies[best] {
                best = i;
            }
        }
        self.energies.swap(0, best);
        self.population.swap(0, best);
    }

    /// `std(E) ≤ atol + tol·|mean(E)|` with numpy's arithmetic; never with an infinite energy.
    fn converged(&self) -> bool {
        if self.energies.iter().any(|e| e.is_infinite()) {
            return false;
        }
        let count = self.energies.len() as f64;
        let mean = numpy_sum(&self.energies) / count;
        let squares: Vec<f64> = self.energies.iter().map(|e| (e - mean) * (e - mean)).collect();
        let std = (numpy_sum(&squares) / count).sqrt();
        std <= self.options.atol + self.options.tol * mean.abs()
    }

    /// Five distinct members other than `candidate` (scipy's `_select_samples`).
    fn select(&mut self, candidate: usize) -> Vec<usize> {
        self.rng.shuffle(&mut self.index);
        self.index.iter().take(6).copied().filter(|&i| i != candidate).take(5).collect()
    }

    /// The trial population of one generation (scipy's `_mutate_many` then `_ensure_constraint`).
    fn mutate(&mut self) -> Vec<Vec<f64>> {
        let (size, n) = (self.population.len(), self.space.dim());
        let scale = match self.options.mutation {
            DeMutation::Constant(f) => f,
            DeMutation::Dither([lo, hi]) => self.rng.uniform(lo, hi),
        };
        let samples: Vec<Vec<usize>> = (0..size).map(|c| self.select(c)).collect();
        let pop = &self.population;
        let mut mutants: Vec<Vec<f64>> = samples
            .iter()
            .enumerate()
            .map(|(c, r)| {
                (0..n)
                    .map(|j| match self.options.strategy {
                        DeStrategy::Best1bin => pop[0][j] + scale * (pop[r[0]][j] - pop[r[1]][j]),
                        DeStrategy::Rand1bin => pop[r[0]][j] + scale * (pop[r[1]][j] - pop[r[2]][j]),
                        DeStrategy::Currenttobest1bin => {
                            pop[c][j] + scale * (pop[0][j] - pop[c][j] + pop[r[0]][j] - pop[r[1]][j])
                        }
                    })
                    .collect()
            })
            .collect();
        let fill: Vec<usize> = (0..size).map(|_| self.rng.below(n)).collect();
        for (c, mutant) in mutants.iter_mut().enumerate() {
            for (j, m) in mutant.iter_mut().enumerate() {
                let crossover = self.rng.random_sample() < self.options.recombination;
                if !(crossover || j == fill[c]) {
                    *m = self.population[c][j];
                }
            }
        }
        for mutant in &mut mutants {
            for m in mutant.iter_mut() {
                if *m > 1.0 || *m < 0.0 {
                    *m = self.rng.random_sample();
                }
            }
        }
        mutants
    }
}

/// scipy's Latin hypercube: `(u_ij + i)/S` per stratum `i`, then one permutation of the strata per column.
fn latin_hypercube(rng: &mut LegacyRandom, size: usize, n: usize) -> Vec<Vec<f64>> {
    let segment = 1.0 / size as f64;
    let samples: Vec<Vec<f64>> =
        (0..size).map(|i| (0..n).map(|_| segment * rng.random_sample() + i as f64 * segment).collect()).collect();
    let mut population = vec![vec![0.0; n]; size];
    for j in 0..n {
        let mut order: Vec<usize> = (0..size).collect();
        rng.shuffle(&mut order);
        for (i, &o) in order.iter().enumerate() {
            population[i][j] = samples[o][j];
        }
    }
    population
}

/// numpy's pairwise summation of a contiguous float64 array (`np.sum`, blocks of 8 up to 128).
pub fn numpy_sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a)
}

fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise(&a[..half]) + pairwise(&a[half..])
    }
}

impl Sampler for DifferentialEvolution {
    fn name(&self) -> &'static str {
        "de"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if self.done.is_some() {
            return None;
        }
        if let Some(generation) = self.generation {
            if generation >= self.options.maxiter {
                self.done = Some(format!("maxiter: {} generations", self.options.maxiter));
                return None;
            }
            self.trials = self.mutate();
        }
        let k = self.trials.len().min(remaining);
        Some((0..k).map(|i| Proposal::of(i, self.scale(&self.trials[i]))).collect())
    }

    fn tell(&mut self, values: &[f64]) {
        match self.generation {
            None => {
                self.energies[..values.len()].copy_from_slice(values);
                self.promote_lowest();
                self.generation = Some(0);
            }
            Some(generation) => {
                for (i, &e) in values.iter().enumerate() {
                    if e <= self.energies[i] {
                        self.population[i] = self.trials[i].clone();
                        self.energies[i] = e;
                    }
                }
                // scipy: members the budget left unevaluated have energy inf and replace an inf member
                for i in values.len()..self.trials.len() {
                    if self.energies[i] == f64::INFINITY {
                        self.population[i] = self.trials[i].clone();
                    }
                }
                self.promote_lowest();
                self.generation = Some(generation + 1);
                if self.converged() {
                    self.done =
                        Some(format!("converged: std(E) ≤ atol + tol·|mean(E)| after {} generations", generation + 1));
                }
            }
        }
    }

    fn termination(&self) -> String {
        self.done.clone().unwrap_or_else(|| "running".into())
    }
}

#[cfg(test)]
#[path = "de_tests.rs"]
mod tests;
