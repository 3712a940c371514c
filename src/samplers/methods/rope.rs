//! ROPE, robust parameter estimation (Bárdossy & Singh 2008), with SPOTPY's options. One batch is one
//! round (in chunks of at most 1024 points).
//!
//! # Algorithm
//! * Round 1: a Latin hypercube of `repetitions_first_run` points on the priors (each parameter's strata
//!   are prior quantiles `(π_i + u_i)/n` with its own permutation `π` and jitter `u`).
//! * Then `subsets − 1` rounds of `⌊(max_evaluations − first)/(subsets − 1)⌋` points each (the last one
//!   also takes the remainder, so the budget is spent exactly). A round keeps the best
//!   `percentage_first_run` (after round 1) or `percentage_following_runs` of the previous round's points,
//!   `N` points `X`, and draws uniform candidates in their bounding box, `N` at a time, until it has its
//!   points among those of half-space (Tukey) depth ≥ 1 with respect to `X`.
//! * Depth is approximated on `ndir` directions, drawn afresh for each `N` candidates: each is the normal of
//!   the hyperplane through `d` distinct random points of `X` (the eigenvector of the smallest eigenvalue
//!   of their covariance, [`symmetric_eigen`]), or a random unit direction when `N < d` (and `1` in 1-D).
//!   A candidate's depth is the least, over the directions, of the number of points of `X` on either side
//!   of it; depth ≥ 1 means it projects within `X`'s range on every direction.
//! * If 1000·N candidates give too few deep points (many parameters), the rest of the round is drawn
//!   uniformly in the box ([`Rope::box_points`] counts them).
//!
//! # SPOTPY's quirks (`algorithms/rope.py`, 1.6.7), not reproduced
//! * Its first round evaluates `first_run − 1` points of a hypercube that shares one jitter across the
//!   parameters and ignores the priors (`lhs` quirk): here all points, textbook jitter, prior quantiles.
//! * It makes the later rounds' size even and does not spend the remainder of the budget: here the last
//!   round takes the remainder.
//! * Its depth scan counts with a 1e-5 slack and a half-integer bisection; its point subset never picks the
//!   last point first; it gives up after 10 tries with fewer points than asked, and raised `ValueError`
//!   in 2 of 5 seeds on 2-D Ackley: here exact counts, uniform subsets, and the box fallback.
//!
//! # Defaults (SPOTPY's `sample()`)
//! `repetitions_first_run = ⌊max_evaluations/2⌋`, `subsets = 5`, `percentage_first_run = 0.1`,
//! `percentage_following_runs = 0.1`, `ndir = max(⌊points per later round/100⌋, 1)` (SPOTPY's `NDIR`,
//! which may be 0 there, i.e. no depth test).
//!
//! # Reference
//! Bárdossy & Singh (2008), Robust estimation of hydrological model parameters, *Hydrol. Earth Syst. Sci.*
//! 12, 1273–1283; SPOTPY `algorithms/rope.py`.

use super::bayes;
use super::linalg::symmetric_eigen;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The most points of one batch.
const CHUNK: usize = 1024;
/// Candidate draws per wanted point before the box fallback, in units of `N` candidates.
const MAX_TRIES: usize = 1000;

/// Options of [`Rope`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RopeOptions {
    /// Points of the first (Latin hypercube) round; unset: `⌊max_evaluations/2⌋`.
    pub repetitions_first_run: Option<usize>,
    /// Rounds in all, the first included.
    pub subsets: usize,
    /// The fraction of the first round's points that shapes the second round, in (0, 1].
    pub percentage_first_run: f64,
    /// The fraction of each later round's points that shapes the next round, in (0, 1].
    pub percentage_following_runs: f64,
    /// Directions of the depth approximation; unset: `max(⌊points per later round/100⌋, 1)`.
    pub ndir: Option<usize>,
}

impl Default for RopeOptions {
    fn default() -> Self {
        RopeOptions {
            repetitions_first_run: None,
            subsets: 5,
            percentage_first_run: 0.1,
            percentage_following_runs: 0.1,
            ndir: None,
        }
    }
}

/// ROPE (see the module doc).
#[derive(Debug)]
pub struct Rope {
    space: Space,
    options: RopeOptions,
    rng: LegacyRandom,
    /// The size of every round.
    rounds: Vec<usize>,
    ndir: usize,
    /// The round being evaluated (index into `rounds`) and its points and values so far.
    round: usize,
    points: Vec<Vec<f64>>,
    values: Vec<f64>,
    /// Points of the current round asked so far.
    asked: usize,
    box_points: usize,
}

impl Rope {
    /// ROPE on `space` with `options`, planned for `max_evaluations`.
    ///
    /// # Errors
    /// `"<key>: …"` for an invalid option (`subsets`, `percentage_first_run`, `percentage_following_runs`,
    /// `repetitions_first_run`, `ndir`), `"parameters: …"` for an empty space or an invalid prior.
    pub fn new(space: Space, options: RopeOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        bayes::check_space(&space)?;
        if options.subsets < 2 {
            return Err(format!("subsets: needs at least 2 rounds (got {})", options.subsets));
        }
        for (key, p) in [
            ("percentage_first_run", options.percentage_first_run),
            ("percentage_following_runs", options.percentage_following_runs),
        ] {
            if !(p > 0.0 && p <= 1.0) {
                return Err(format!("{key}: must be in (0, 1] (got {p})"));
            }
        }
        let first = options.repetitions_first_run.unwrap_or(max_evaluations / 2);
        if first == 0 {
            return Err("repetitions_first_run: must be at least 1".into());
        }
        if options.ndir == Some(0) {
            return Err("ndir: must be at least 1".into());
        }
        let later = max_evaluations.saturating_sub(first) / (options.subsets - 1);
        let mut rounds = vec![first];
        if later > 0 {
            rounds.extend(std::iter::repeat_n(later, options.subsets - 1));
            *rounds.last_mut().expect("subsets ≥ 2") += max_evaluations - first - later * (options.subsets - 1);
        }
        let ndir = options.ndir.unwrap_or((later / 100).max(1));
        Ok(Rope {
            space,
            options,
            rng: LegacyRandom::new(random_state),
            rounds,
            ndir,
            round: 0,
            points: Vec::new(),
            values: Vec::new(),
            asked: 0,
            box_points: 0,
        })
    }

    /// Points drawn uniformly in the box because too few candidates were deep enough.
    pub fn box_points(&self) -> usize {
        self.box_points
    }

    /// The planned size of every round.
    pub fn rounds(&self) -> &[usize] {
        &self.rounds
    }

    /// A Latin hypercube of `n` points on the priors.
    fn hypercube(&mut self, n: usize) -> Vec<Vec<f64>> {
        let mut points = vec![vec![0.0; self.space.dim()]; n];
        for (j, p) in self.space.parameters.iter().enumerate() {
            let mut strata: Vec<usize> = (0..n).collect();
            self.rng.shuffle(&mut strata);
            for (point, s) in points.iter_mut().zip(strata) {
                point[j] = p.prior.quantile((s as f64 + self.rng.random_sample()) / n as f64);
            }
        }
        points
    }

    /// The best `fraction` of the last round's points (SPOTPY's `get_best_runs`: the last
    /// `n − ⌊n (1 − fraction)⌋` in value order).
    fn best_points(&self, fraction: f64) -> Vec<Vec<f64>> {
        let n = self.values.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.values[a].total_cmp(&self.values[b]));
        let keep = n - (n as f64 * (1.0 - fraction)) as usize;
        order[..keep.max(1)].iter().map(|&i| self.points[i].clone()).collect()
    }

    /// `ndir` unit directions for the depth of points with respect to `x`.
    fn directions(&mut self, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let d = self.space.dim();
        (0..self.ndir)
            .map(|_| {
                if d == 1 {
                    return vec![1.0];
                }
                if x.len() >= d {
                    let rows = self.rng.distinct(x.len(), d, &[]);
                    let mean: Vec<f64> =
                        (0..d).map(|j| rows.iter().map(|&r| x[r][j]).sum::<f64>() / d as f64).collect();
                    let mut cov = vec![0.0; d * d];
                    for &r in &rows {
                        for i in 0..d {
                            for j in 0..d {
                                cov[i * d + j] += (x[r][i] - mean[i]) * (x[r][j] - mean[j]) / (d - 1) as f64;
                            }
                        }
                    }
                    let (_, vectors) = symmetric_eigen(&cov, d);
                    let v: Vec<f64> = (0..d).map(|i| vectors[i * d]).collect();
                    if v.iter().all(|c| c.is_finite()) {
                        return v;
                    }
                }
                let v: Vec<f64> = (0..d).map(|_| self.rng.standard_normal()).collect();
                let norm = v.iter().map(|c| c * c).sum::<f64>().sqrt();
                v.iter().map(|c| c / norm).collect()
            })
            .collect()
    }

    /// The next round's points: deep candidates in the bounding box of the best points.
    fn deep_points(&mut self, size: usize, fraction: f64) -> Vec<Vec<f64>> {
        let x = self.best_points(fraction);
        let d = self.space.dim();
        let lo: Vec<f64> = (0..d).map(|j| x.iter().map(|p| p[j]).fold(f64::INFINITY, f64::min)).collect();
        let hi: Vec<f64> = (0..d).map(|j| x.iter().map(|p| p[j]).fold(f64::NEG_INFINITY, f64::max)).collect();
        let mut out = Vec::with_capacity(size);
        for _ in 0..MAX_TRIES * size.div_ceil(x.len()) {
            let directions = self.directions(&x);
            let projections: Vec<Vec<f64>> = directions
                .iter()
                .map(|u| {
                    let mut p: Vec<f64> = x.iter().map(|p| dot(u, p)).collect();
                    p.sort_by(f64::total_cmp);
                    p
                })
                .collect();
            for _ in 0..x.len() {
                let candidate: Vec<f64> = (0..d).map(|j| self.rng.uniform(lo[j], hi[j])).collect();
                let deep = directions.iter().zip(&projections).all(|(u, p)| {
                    let t = dot(u, &candidate);
                    let below = p.partition_point(|&v| v <= t);
                    let above = p.len() - p.partition_point(|&v| v < t);
                    below.min(above) >= 1
                });
                if deep {
                    out.push(candidate);
                    if out.len() == size {
                        return out;
                    }
                }
            }
        }
        self.box_points += size - out.len();
        while out.len() < size {
            out.push((0..d).map(|j| self.rng.uniform(lo[j], hi[j])).collect());
        }
        out
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Sampler for Rope {
    fn name(&self) -> &'static str {
        "rope"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if self.asked == self.rounds[self.round] && self.values.len() == self.asked {
            // the round is complete: plan the next one from its best points
            if self.round + 1 == self.rounds.len() {
                return None;
            }
            let fraction = if self.round == 0 {
                self.options.percentage_first_run
            } else {
                self.options.percentage_following_runs
            };
            self.round += 1;
            let next = self.deep_points(self.rounds[self.round], fraction);
            self.points = next;
            self.values.clear();
            self.asked = 0;
        } else if self.round == 0 && self.points.is_empty() {
            self.points = self.hypercube(self.rounds[0]);
        }
        let n = (self.rounds[self.round] - self.asked).min(CHUNK).min(remaining);
        let batch = self.points[self.asked..self.asked + n].iter().cloned().map(Proposal::free).collect();
        self.asked += n;
        Some(batch)
    }

    fn tell(&mut self, values: &[f64]) {
        self.values.extend_from_slice(values);
    }

    fn termination(&self) -> String {
        format!("all {} rounds evaluated", self.rounds.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, Termination, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing;
    use crate::samplers::{Flow, search};

    fn run(f: fn(&[f64]) -> f64, half: f64, d: usize, seed: u32, budget: usize) -> f64 {
        let mut s = Rope::new(testing::cube(d, half), RopeOptions::default(), seed, budget).unwrap();
        testing::best(&mut s, f, budget)
    }

    #[test]
    fn minimises_the_test_functions() {
        let rosen = testing::median((1..=5).map(|seed| run(rosenbrock, 10.0, 2, seed, 2000)));
        let grie = testing::median((1..=5).map(|seed| run(griewank, 20.0, 2, seed, 2000)));
        let ack = testing::median((1..=5).map(|seed| run(ackley, 32.768, 2, seed, 2000)));
        assert!(rosen < 0.3 && grie < 0.05 && ack < 0.5, "rosenbrock {rosen}, griewank {grie}, ackley {ack}");
    }

    #[test]
    fn rounds_spend_the_budget_in_batches() {
        let space = testing::cube(3, 10.0);
        let mut s = Rope::new(space.clone(), RopeOptions::default(), 1, 2003).unwrap();
        assert_eq!(s.rounds(), [1001, 250, 250, 250, 252]);
        let mut sizes = Vec::new();
        let mut f = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            Ok(b.iter().map(|p| rosenbrock(&p.x)).collect())
        };
        let out = search(&mut s, &mut f, 5000, &mut |r| {
            sizes.push(r.proposals.len());
            assert_within(&space, r.proposals);
            Flow::Continue
        })
        .unwrap();
        assert_eq!(sizes, [1001, 250, 250, 250, 252]);
        assert_eq!(out.termination, Termination::Method("all 5 rounds evaluated".into()));
        assert_eq!(s.box_points(), 0);
    }

    #[test]
    fn hypercube_fills_every_stratum() {
        let space = testing::cube(3, 1.0);
        let mut s = Rope::new(space, RopeOptions::default(), 4, 40).unwrap();
        let points = s.hypercube(20);
        for j in 0..3 {
            let mut strata: Vec<usize> = points.iter().map(|p| ((p[j] + 1.0) / 2.0 * 20.0) as usize).collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..20).collect::<Vec<_>>());
        }
    }

    #[test]
    fn later_rounds_stay_in_the_convex_region_of_the_best() {
        // best points on a thin diagonal band: deep candidates hug it, box candidates would not
        let space = testing::cube(2, 1.0);
        let options = RopeOptions { ndir: Some(20), ..RopeOptions::default() };
        let mut s = Rope::new(space, options, 2, 200).unwrap();
        s.points = (0..100)
            .map(|i| {
                let t = -1.0 + 2.0 * i as f64 / 99.0;
                vec![t, t + 0.01 * (i % 3) as f64 - 0.01]
            })
            .collect();
        s.values = vec![0.0; 100];
        let deep = s.deep_points(500, 1.0);
        let off = deep.iter().filter(|p| (p[0] - p[1]).abs() > 0.05).count();
        assert!(off < 25, "{off} of 500 candidates off the band");
    }

    #[test]
    fn reproducible_bounded_and_on_budget() {
        let space = testing::cube(4, 3.0);
        let trace = |seed| {
            let mut s = Rope::new(space.clone(), RopeOptions::default(), seed, 1500).unwrap();
            testing::trace(&mut s, ackley, 1500)
        };
        let (a, b, c) = (trace(1), trace(1), trace(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 1500);
        assert_within(&space, &a);
        // a smaller budget than planned cuts the run
        let mut s = Rope::new(space.clone(), RopeOptions::default(), 1, 1500).unwrap();
        assert_eq!(testing::trace(&mut s, ackley, 900).len(), 900);
    }

    #[test]
    fn invalid_options_name_their_key() {
        let space = testing::cube(2, 1.0);
        let err = |o: RopeOptions| Rope::new(space.clone(), o, 0, 100).unwrap_err();
        assert!(err(RopeOptions { subsets: 1, ..RopeOptions::default() }).starts_with("subsets:"));
        assert!(
            err(RopeOptions { percentage_first_run: 0.0, ..RopeOptions::default() })
                .starts_with("percentage_first_run:")
        );
        assert!(
            err(RopeOptions { percentage_following_runs: 1.5, ..RopeOptions::default() })
                .starts_with("percentage_following_runs:")
        );
        assert!(
            err(RopeOptions { repetitions_first_run: Some(0), ..RopeOptions::default() })
                .starts_with("repetitions_first_run:")
        );
        assert!(err(RopeOptions { ndir: Some(0), ..RopeOptions::default() }).starts_with("ndir:"));
        assert_eq!(toml::from_str::<RopeOptions>("ndir = 7").unwrap().ndir, Some(7));
        assert!(toml::from_str::<RopeOptions>("NDIR = 7").unwrap_err().to_string().contains("NDIR"));
    }
}
