//! Particle swarm optimisation with a global-best topology (Kennedy & Eberhart 1995), inertia weight
//! (Shi & Eberhart 1998) and Clerc & Kennedy's (2002) constriction coefficients as defaults
//! (`shared/spec/samplers.md` §5; SPOTPY has no PSO).
//!
//! **Initial swarm**: `swarm_size` positions drawn from the priors; velocities `(u − x)/2` with `u` uniform in
//! the bounds (SPSO 2007's rule), clamped like every velocity. Each particle draws its position, then its `u`.
//!
//! **Each step** (one batch, `chain` = the particle index), for particle `i` and coordinate `d`, with
//! `r₁, r₂ ~ U[0, 1)` drawn in that order:
//! `v ← w v + c₁ r₁ (p_i − x) + c₂ r₂ (g − x)`, `|v| ≤ v_max · range`, `x ← x + v`, where `p_i` is the
//! particle's best point and `g` the swarm's best before the step (synchronous update: `g` changes only after
//! the whole step is told). A coordinate that leaves its bounds is put back by `boundary`: `"clamp"` onto the
//! bound, `"reflect"` mirrored at it (then clamped); either way that velocity component is set to 0 (the
//! "absorbing wall" of hydroPSO, its default, for clamp).
//!
//! **Inertia**: `w = inertia` throughout, or decreasing linearly from `inertia` to `inertia_final` over the
//! budget (`w = inertia + (inertia_final − inertia) · e/E`, `e` the evaluations told so far, `E` =
//! `max_evaluations`), e.g. 0.9 → 0.4 as Shi & Eberhart. Defaults: `w = 0.7298`, `c₁ = c₂ = 1.49618`
//! (constriction χ = 0.7298 with φ = 4.1), `v_max = 0.5`, `boundary = "clamp"`, 40 particles. A particle's
//! best is replaced only by a strictly better value. The method never stops on its own.

use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// How a coordinate that left its bounds is put back (its velocity component is zeroed either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PsoBoundary {
    /// Onto the bound.
    Clamp,
    /// Mirrored at the bound, then clamped.
    Reflect,
}

/// Options of [`Pso`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PsoOptions {
    /// Particles (≥ 1).
    pub swarm_size: usize,
    /// Inertia weight `w` (at the start, if `inertia_final` is set).
    pub inertia: f64,
    /// Inertia at the end of the budget, for a linear decrease; default: constant.
    pub inertia_final: Option<f64>,
    /// Cognitive coefficient (towards the particle's best).
    pub c1: f64,
    /// Social coefficient (towards the swarm's best).
    pub c2: f64,
    /// Velocity limit as a fraction of each parameter's range.
    pub v_max: f64,
    /// `"clamp"` or `"reflect"`.
    pub boundary: PsoBoundary,
}

impl Default for PsoOptions {
    fn default() -> Self {
        PsoOptions {
            swarm_size: 40,
            inertia: 0.7298,
            inertia_final: None,
            c1: 1.49618,
            c2: 1.49618,
            v_max: 0.5,
            boundary: PsoBoundary::Clamp,
        }
    }
}

/// The particle swarm (module docs).
#[derive(Clone, Debug)]
pub struct Pso {
    space: Space,
    options: PsoOptions,
    rng: LegacyRandom,
    max_evaluations: usize,
    told: usize,
    /// Positions and velocities `[swarm][n]`.
    x: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    /// Each particle's best point and value (empty before the first tell).
    best_x: Vec<Vec<f64>>,
    best_f: Vec<f64>,
    /// The swarm's best particle.
    global: usize,
    /// Particles of the last ask.
    asked: usize,
}

impl Pso {
    pub fn new(space: Space, options: PsoOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        if options.swarm_size == 0 {
            return Err("swarm_size: must be ≥ 1".into());
        }
        for (key, v) in [("inertia", options.inertia), ("c1", options.c1), ("c2", options.c2)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{key}: must be finite and ≥ 0 (got {v})"));
            }
        }
        if let Some(w) = options.inertia_final
            && !(w >= 0.0 && w.is_finite())
        {
            return Err(format!("inertia_final: must be finite and ≥ 0 (got {w})"));
        }
        if !(options.v_max > 0.0 && options.v_max.is_finite()) {
            return Err(format!("v_max: must be > 0 (got {})", options.v_max));
        }
        let mut rng = LegacyRandom::new(random_state);
        let mut x = Vec::with_capacity(options.swarm_size);
        let mut v = Vec::with_capacity(options.swarm_size);
        for _ in 0..options.swarm_size {
            let xi = space.sample(&mut rng);
            let u = space.sample_uniform(&mut rng);
            let vi = (0..n).map(|d| clamp_velocity(0.5 * (u[d] - xi[d]), options.v_max * space.width(d))).collect();
            x.push(xi);
            v.push(vi);
        }
        Ok(Pso {
            space,
            options,
            rng,
            max_evaluations,
            told: 0,
            x,
            v,
            best_x: Vec::new(),
            best_f: Vec::new(),
            global: 0,
            asked: 0,
        })
    }

    /// The inertia weight of the next step.
    fn inertia(&self) -> f64 {
        match self.options.inertia_final {
            None => self.options.inertia,
            Some(last) => {
                let t = (self.told as f64 / self.max_evaluations.max(1) as f64).min(1.0);
                self.options.inertia + (last - self.options.inertia) * t
            }
        }
    }

    /// Moves every particle one step.
    fn step(&mut self) {
        let w = self.inertia();
        let (c1, c2) = (self.options.c1, self.options.c2);
        let g = self.best_x[self.global].clone();
        for i in 0..self.x.len() {
            for (d, &gd) in g.iter().enumerate() {
                let (r1, r2) = (self.rng.random_sample(), self.rng.random_sample());
                let x = self.x[i][d];
                let v = w * self.v[i][d] + c1 * r1 * (self.best_x[i][d] - x) + c2 * r2 * (gd - x);
                let v = clamp_velocity(v, self.options.v_max * self.space.width(d));
                let (lo, hi) = (self.space.lower(d), self.space.upper(d));
                let mut moved = x + v;
                self.v[i][d] = v;
                if !(lo..=hi).contains(&moved) {
                    moved = match self.options.boundary {
                        PsoBoundary::Clamp => moved.clamp(lo, hi),
                        PsoBoundary::Reflect => {
                            let mirrored = if moved < lo { 2.0 * lo - moved } else { 2.0 * hi - moved };
                            mirrored.clamp(lo, hi)
                        }
                    };
                    self.v[i][d] = 0.0;
                }
                self.x[i][d] = moved;
            }
        }
    }
}

fn clamp_velocity(v: f64, limit: f64) -> f64 {
    v.clamp(-limit, limit)
}

impl Sampler for Pso {
    fn name(&self) -> &'static str {
        "pso"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if !self.best_f.is_empty() {
            self.step();
        }
        self.asked = self.x.len().min(remaining);
        Some((0..self.asked).map(|i| Proposal::of(i, self.x[i].clone())).collect())
    }

    fn tell(&mut self, values: &[f64]) {
        self.told += values.len();
        if self.best_f.is_empty() {
            self.best_x = self.x.clone();
            self.best_f = vec![f64::INFINITY; self.x.len()];
            for (f, &v) in self.best_f.iter_mut().zip(values) {
                *f = v;
            }
        } else {
            for (i, &v) in values.iter().enumerate() {
                if v < self.best_f[i] {
                    self.best_f[i] = v;
                    self.best_x[i] = self.x[i].clone();
                }
            }
        }
        for i in 0..self.best_f.len() {
            if self.best_f[i] < self.best_f[self.global] {
                self.global = i;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::SearchOutcome;
    use crate::samplers::driver::Termination;
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing::{self, run_recorded};

    fn square(n: usize, half: f64) -> Space {
        testing::cube(n, half)
    }

    /// Runs the search; returns the outcome and every batch asked (checked within the bounds).
    fn run(
        space: Space,
        options: PsoOptions,
        seed: u32,
        f: &dyn Fn(&[f64]) -> f64,
        budget: usize,
    ) -> (SearchOutcome, Vec<Vec<Proposal>>) {
        let mut method = Pso::new(space.clone(), options, seed, budget).unwrap();
        run_recorded(&mut method, &space, &f, budget)
    }

    #[test]
    fn reaches_the_minima_at_5000_evaluations() {
        // measured, seeds 1-5: Rosenbrock 2-D [-10, 10] 6e-8..4e-5, Ackley 2-D 8e-7..1.2e-5, Griewank 2-D 0..0.0074,
        // Ackley 10-D 0.009..0.032
        for seed in 1..=3 {
            let best = |space, f: fn(&[f64]) -> f64| run(space, PsoOptions::default(), seed, &f, 5000).0.best_value;
            assert!(best(square(2, 10.0), rosenbrock) < 1e-3, "seed {seed}");
            assert!(best(square(2, 32.768), ackley) < 1e-3, "seed {seed}");
            assert!(best(square(2, 20.0), griewank) < 0.01, "seed {seed}");
            assert!(best(square(10, 32.768), ackley) < 0.1, "seed {seed}");
        }
    }

    #[test]
    fn steps_respect_the_velocity_limit() {
        let options = PsoOptions { v_max: 0.1, ..Default::default() };
        let (_, batches) = run(square(3, 5.0), options, 2, &ackley, 400);
        for pair in batches.windows(2) {
            for (a, b) in pair[0].iter().zip(&pair[1]) {
                assert_eq!(a.chain, b.chain);
                assert!(a.x.iter().zip(&b.x).all(|(u, v)| (u - v).abs() <= 1.0 + 1e-12), "{a:?} → {b:?}");
            }
        }
    }

    #[test]
    fn walls_stop_particles_at_the_bounds() {
        // Σ (x − 3)² on [−1, 1]²: least at the corner (1, 1), value 8
        let shifted = |x: &[f64]| x.iter().map(|v| (v - 3.0).powi(2)).sum::<f64>();
        // (clamp lands on the corner itself, reflection only next to it)
        for (boundary, tolerance) in [(PsoBoundary::Clamp, 0.0), (PsoBoundary::Reflect, 1e-3)] {
            let options = PsoOptions { boundary, ..Default::default() };
            let (out, _) = run(square(2, 1.0), options, 1, &shifted, 800);
            assert!(out.best_value - 8.0 <= tolerance, "{boundary:?}: {}", out.best_value);
        }
        // clamp puts a particle exactly on the bound and zeroes its velocity component
        let mut pso = Pso::new(square(1, 1.0), PsoOptions::default(), 1, 100).unwrap();
        pso.x = vec![vec![0.9]; 40];
        pso.v = vec![vec![0.5]; 40];
        let first = pso.ask(100).unwrap();
        pso.tell(&first.iter().map(|p| shifted(&p.x)).collect::<Vec<_>>());
        pso.ask(100).unwrap();
        assert!(pso.x.iter().all(|x| x[0] == 1.0) && pso.v.iter().all(|v| v[0] == 0.0), "{:?}", pso.x);
    }

    #[test]
    fn inertia_decreases_linearly_over_the_budget() {
        let options = PsoOptions { inertia: 0.9, inertia_final: Some(0.4), ..Default::default() };
        let mut pso = Pso::new(square(2, 1.0), options, 1, 400).unwrap();
        assert_eq!(pso.inertia(), 0.9);
        pso.told = 200;
        assert!((pso.inertia() - 0.65).abs() < 1e-15);
        pso.told = 400;
        assert!((pso.inertia() - 0.4).abs() < 1e-15);
        let (out, _) = run(square(2, 10.0), options_with_schedule(), 1, &rosenbrock, 5000);
        assert!(out.best_value < 1e-2, "{}", out.best_value);
    }

    fn options_with_schedule() -> PsoOptions {
        PsoOptions { inertia: 0.9, inertia_final: Some(0.4), c1: 2.0, c2: 2.0, ..Default::default() }
    }

    #[test]
    fn same_seed_same_trace_other_seed_other_trace() {
        let trace = |seed| {
            let (_, b) = run(square(3, 5.0), PsoOptions::default(), seed, &ackley, 300);
            b.concat().into_iter().map(|p| p.x).collect::<Vec<_>>()
        };
        let a = trace(4);
        assert_eq!(a.len(), 300);
        assert_eq!(a, trace(4));
        assert_ne!(a, trace(5));
    }

    #[test]
    fn budget_cuts_the_last_step() {
        let (out, batches) = run(square(2, 1.0), PsoOptions::default(), 1, &rosenbrock, 130);
        assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), [40, 40, 40, 10]);
        assert_eq!((out.evaluations, out.termination), (130, Termination::Budget));
        assert_eq!(batches[3][9].chain, Some(9));
    }

    #[test]
    fn invalid_options_name_the_key() {
        let space = square(2, 1.0);
        let err = |o: PsoOptions| Pso::new(space.clone(), o, 0, 10).unwrap_err();
        assert!(err(PsoOptions { swarm_size: 0, ..Default::default() }).starts_with("swarm_size:"));
        assert!(err(PsoOptions { inertia: -0.1, ..Default::default() }).starts_with("inertia:"));
        assert!(err(PsoOptions { inertia_final: Some(f64::NAN), ..Default::default() }).starts_with("inertia_final:"));
        assert!(err(PsoOptions { c2: f64::INFINITY, ..Default::default() }).starts_with("c2:"));
        assert!(err(PsoOptions { v_max: 0.0, ..Default::default() }).starts_with("v_max:"));
        let parsed: PsoOptions = toml::from_str("boundary = \"reflect\"\ninertia_final = 0.4").unwrap();
        assert_eq!((parsed.boundary, parsed.inertia_final), (PsoBoundary::Reflect, Some(0.4)));
        assert!(toml::from_str::<PsoOptions>("topology = \"ring\"").unwrap_err().to_string().contains("topology"));
    }
}
