//! Latin hypercube sampling (McKay, Beckman & Conover 1979): `N = max_evaluations` points such that each
//! parameter's `N` equal-probability strata hold one point each. The whole design is drawn at construction and
//! asked in batches of at most 1024 points.
//!
//! `variant = "standard"` (the default): for each parameter `j` a random permutation `π_j` of `0..N`
//! (numpy's legacy `shuffle`, parameters in order), then for each point `i` (in order) and each parameter `j`
//! an independent jitter `u_ij ~ U(0, 1)`, and `x_ij = Q_j((π_j(i) + u_ij) / N)` with `Q_j` the quantile
//! function of parameter `j`'s prior, so the strata have equal prior probability.
//!
//! `variant = "spotpy"` reproduces SPOTPY 1.6.7's `algorithms/lhs.py` (`shared/spec/samplers.md` §1.2): one
//! `u_i` per point, shared by every parameter, `x_ij = lower_j + (i + u_i)/N · (upper_j − lower_j)`, then each
//! parameter's column shuffled independently. Every column is thus a permutation of the same relative
//! positions, and the priors' shapes are ignored (uniform in the bounds). SPOTPY draws from Python's `random`
//! module; here from numpy's stream, so the design has the same law but other values.
//!
//! Memory: the design holds `N·n` values.

use serde::Deserialize;

use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The most points per batch.
pub const BATCH: usize = 1024;

/// How the hypercube is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LhsVariant {
    /// Independent jitter per parameter, strata of equal prior probability.
    #[default]
    Standard,
    /// SPOTPY's: one jitter per point shared by all parameters, uniform in the bounds.
    Spotpy,
}

/// Options of [`Lhs`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LhsOptions {
    /// `"standard"` or `"spotpy"`.
    pub variant: LhsVariant,
}

/// A Latin hypercube design of `max_evaluations` points.
#[derive(Debug)]
pub struct Lhs {
    /// The design, `[N, n]` row-major.
    design: Vec<f64>,
    n: usize,
    /// Points asked so far.
    next: usize,
}

impl Lhs {
    /// # Errors
    /// `"parameters: …"` for an empty space, `"max_evaluations: …"` for an empty design.
    pub fn new(space: Space, options: LhsOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: LHS needs at least one parameter".into());
        }
        if max_evaluations == 0 {
            return Err("max_evaluations: the design needs at least one point".into());
        }
        let big_n = max_evaluations;
        let mut rng = LegacyRandom::new(random_state);
        let mut design = vec![0.0; big_n * n];
        match options.variant {
            LhsVariant::Standard => {
                let strata: Vec<Vec<usize>> = (0..n)
                    .map(|_| {
                        let mut p: Vec<usize> = (0..big_n).collect();
                        rng.shuffle(&mut p);
                        p
                    })
                    .collect();
                for i in 0..big_n {
                    for (j, parameter) in space.parameters.iter().enumerate() {
                        let u = (strata[j][i] as f64 + rng.random_sample()) / big_n as f64;
                        design[i * n + j] = parameter.prior.quantile(u);
                    }
                }
            }
            LhsVariant::Spotpy => {
                let segment = 1.0 / big_n as f64;
                for i in 0..big_n {
                    let position = i as f64 * segment + rng.random_sample() * segment;
                    for j in 0..n {
                        let v = position * space.width(j) + space.lower(j);
                        design[i * n + j] = v.clamp(space.lower(j), space.upper(j));
                    }
                }
                for j in 0..n {
                    let mut column: Vec<f64> = (0..big_n).map(|i| design[i * n + j]).collect();
                    rng.shuffle(&mut column);
                    for (i, v) in column.into_iter().enumerate() {
                        design[i * n + j] = v;
                    }
                }
            }
        }
        Ok(Lhs { design, n, next: 0 })
    }
}

impl Sampler for Lhs {
    fn name(&self) -> &'static str {
        "lhs"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        let total = self.design.len() / self.n;
        if self.next == total {
            return None;
        }
        let end = total.min(self.next + remaining.min(BATCH));
        let batch = (self.next..end).map(|i| Proposal::free(self.design[i * self.n..(i + 1) * self.n].to_vec()));
        let batch = batch.collect();
        self.next = end;
        Some(batch)
    }

    fn tell(&mut self, _values: &[f64]) {}

    fn termination(&self) -> String {
        format!("the design's {} points were evaluated", self.design.len() / self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::{Distribution, Flow, Parameter, Prior, search};

    fn cube(n: usize, b: f64) -> Space {
        let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Space::uniform(&names, &vec![(-b, b); n])
    }

    fn run(f: fn(&[f64]) -> f64, space: &Space, variant: LhsVariant, seed: u32, budget: usize) -> (f64, Vec<Vec<f64>>) {
        let mut lhs = Lhs::new(space.clone(), LhsOptions { variant }, seed, budget).unwrap();
        let mut trace = Vec::new();
        let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            assert_within(space, b);
            assert!(b.len() <= BATCH);
            trace.extend(b.iter().map(|p| p.x.clone()));
            Ok(b.iter().map(|p| f(&p.x)).collect())
        };
        let outcome = search(&mut lhs, &mut objective, budget, &mut |_| Flow::Continue).unwrap();
        assert_eq!(outcome.evaluations, budget);
        (outcome.best_value, trace)
    }

    /// Stratum of each coordinate, per parameter, must be a permutation of `0..N`.
    fn assert_latin(trace: &[Vec<f64>], space: &Space) {
        let big_n = trace.len();
        for j in 0..space.dim() {
            let mut strata: Vec<usize> = trace
                .iter()
                .map(|x| (((x[j] - space.lower(j)) / space.width(j) * big_n as f64) as usize).min(big_n - 1))
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..big_n).collect::<Vec<_>>(), "parameter {j}");
        }
    }

    #[test]
    fn both_variants_are_latin() {
        let space = Space::uniform(&["a", "b", "c"], &[(-1.0, 1.0), (0.0, 10.0), (-32.768, 32.768)]);
        for variant in [LhsVariant::Standard, LhsVariant::Spotpy] {
            let (_, trace) = run(rosenbrock, &space, variant, 4, 2500);
            assert_eq!(trace.len(), 2500);
            assert_latin(&trace, &space);
        }
    }

    #[test]
    fn spotpy_columns_share_their_relative_positions_standard_ones_do_not() {
        let space = cube(2, 1.0);
        let unit = |trace: &[Vec<f64>], j: usize| {
            let mut v: Vec<f64> = trace.iter().map(|x| (x[j] + 1.0) / 2.0).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let (_, trace) = run(griewank, &space, LhsVariant::Spotpy, 1, 200);
        let (a, b) = (unit(&trace, 0), unit(&trace, 1));
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
        let (_, trace) = run(griewank, &space, LhsVariant::Standard, 1, 200);
        let (a, b) = (unit(&trace, 0), unit(&trace, 1));
        assert!(a.iter().zip(&b).filter(|(x, y)| (*x - *y).abs() > 1e-6).count() > 190);
    }

    #[test]
    fn standard_strata_follow_the_prior() {
        // a normal prior: strata of equal probability, so the design's quartiles are the prior's
        let prior = Prior { distribution: Distribution::Normal { mean: 0.0, sd: 1.0 }, lower: -5.0, upper: 5.0 };
        let space = Space { parameters: vec![Parameter { name: "k".into(), prior }] };
        let (_, trace) = run(|x| x[0], &space, LhsVariant::Standard, 2, 1000);
        let mut v: Vec<f64> = trace.iter().map(|x| x[0]).collect();
        v.sort_by(f64::total_cmp);
        // Φ⁻¹(0.25) = −0.6745: the 250th point lies in stratum 249 or 250
        assert!((v[250] + 0.6745).abs() < 0.01, "lower quartile {}", v[250]);
        assert!(v[500].abs() < 0.01);
    }

    #[test]
    fn reaches_the_measured_thresholds_and_ends_with_the_design() {
        // medians over seeds 1..=5 at 5000 points (measured: griewank-2D 0.014, ackley-2D 3.5, rosenbrock-2D 0.099)
        for (f, b, threshold) in
            [(griewank as fn(&[f64]) -> f64, 20.0, 0.05), (ackley, 32.768, 6.0), (rosenbrock, 10.0, 1.0)]
        {
            let mut bests: Vec<f64> = (1..=5).map(|s| run(f, &cube(2, b), LhsVariant::Standard, s, 5000).0).collect();
            bests.sort_by(f64::total_cmp);
            assert!(bests[2] < threshold, "{bests:?}");
        }
        let mut lhs = Lhs::new(cube(2, 1.0), LhsOptions::default(), 0, 3).unwrap();
        assert_eq!(lhs.ask(10).unwrap().len(), 3);
        assert!(lhs.ask(10).is_none());
    }

    #[test]
    fn seeds_decide_and_options_are_checked() {
        let space = cube(3, 1.0);
        assert_eq!(
            run(ackley, &space, LhsVariant::Standard, 5, 50).1,
            run(ackley, &space, LhsVariant::Standard, 5, 50).1
        );
        assert_ne!(
            run(ackley, &space, LhsVariant::Standard, 5, 50).1,
            run(ackley, &space, LhsVariant::Standard, 6, 50).1
        );
        assert!(Lhs::new(space.clone(), LhsOptions::default(), 0, 0).unwrap_err().starts_with("max_evaluations:"));
        let options: LhsOptions = toml::from_str("variant = \"spotpy\"").unwrap();
        assert_eq!(options.variant, LhsVariant::Spotpy);
        let err = toml::from_str::<LhsOptions>("variant = \"maximin\"").unwrap_err().to_string();
        assert!(err.contains("variant"), "{err}");
    }
}
