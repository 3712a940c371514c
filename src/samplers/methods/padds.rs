//! PADDS: Pareto archived dynamically dimensioned search (Asadzadeh & Tolson 2013, *Eng. Optim.* 45(12),
//! 1489–1509; `shared/spec/samplers.md` §1.11), DDS's greedy one-point search for `K ≥ 2` objectives.
//!
//! * **Start**: `initial` points uniform in the bounds (default `max(5, round(0.005·E))`, `E` the budget, as
//!   DDS), one batch; the non-dominated ones form the archive.
//! * **Search**, one point per batch, `i = 0 … m−1` with `m = E − initial`: a candidate is DDS's
//!   perturbation of the current solution ([`dds::perturb`]: each parameter moves with probability
//!   `1 − ln(i+1)/ln(m)` by `r·(upper − lower)·N(0, 1)`, reflected or set onto a violated bound). A
//!   candidate that no archive member weakly dominates joins the archive (evicting the members it
//!   dominates) and becomes the current solution. Otherwise (it is dominated by its parent, or by another
//!   member) the next current solution is drawn from the archive by roulette, with weights from `metric`.
//!   After the start, the first current solution is drawn by roulette too.
//! * **Metrics**, on the archive's values normalised to `[0, 1]` per objective (min–max over the archive;
//!   a non-finite value maps to 1): `"ones"`: uniform; `"crowd_distance"`: Deb's crowding distance;
//!   `"hvc"`: the exclusive hypervolume contribution against the archive's worst point `(1, …, 1)`
//!   (Asadzadeh & Tolson's recommended metric: it favours members in sparse and bulging parts of the front).
//!   The extreme members (lowest or highest in some objective) have an infinite crowding distance or no
//!   contribution against the worst point: as in the paper, each takes the weight of the nearest
//!   non-extreme member (Euclidean, normalised values). With at most `K + 1` members, or weights that sum to
//!   0, every member weighs 1. `"hvc"` costs `O(M log M)` for `K = 2` and `O(M² log M)` or more for `K ≥ 3`
//!   per change of the archive (`pareto::contributions`), recomputed only when a roulette needs it.
//!
//! Draws: the start's points row by row (one uniform per parameter); per search step, one uniform for a
//! roulette when one is needed, then DDS's draws ([`dds::perturb`]).
//!
//! Defaults: `r = 0.2` (SPOTPY's, the paper's), `metric = "hvc"` (the paper's best; SPOTPY's default is
//! `"ones"`). SPOTPY 1.6.7's `padds` (marked "beta") raises `ValueError` on its first evaluation with
//! numpy ≥ 1.24 (it builds a ragged array) and needs `deap` for `"hvc"`; not reproduced either: its
//! trials, `initial_objs`/`initial_params`, the `"chc"` metric, its test "worse than the parent in every
//! objective" (here: dominated by the archive, which holds the parent), and its crowding distance with
//! doubled end gaps. `chain` is unset.

use serde::Deserialize;

use super::dds;
use crate::samplers::pareto::{Archive, Insertion, contributions, crowding_distance};
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// How archive members are weighted when a new current solution is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaddsMetric {
    /// Every member alike.
    Ones,
    /// Deb's crowding distance.
    CrowdDistance,
    /// Exclusive hypervolume contribution.
    Hvc,
}

/// Options of [`Padds`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaddsOptions {
    /// Neighbourhood size: the perturbation's standard deviation as a fraction of each range (> 0).
    pub r: f64,
    /// Points of the start (≥ 1, < the budget); unset: `max(5, round(0.005·E))`.
    pub initial: Option<usize>,
    /// `"ones"`, `"crowd_distance"` or `"hvc"`.
    pub metric: PaddsMetric,
}

impl Default for PaddsOptions {
    fn default() -> Self {
        PaddsOptions { r: 0.2, initial: None, metric: PaddsMetric::Hvc }
    }
}

/// Pareto archived DDS (module docs); asks one point at a time after the start.
#[derive(Clone, Debug)]
pub struct Padds {
    space: Space,
    options: PaddsOptions,
    /// Objectives `K`.
    k: usize,
    rng: LegacyRandom,
    n_init: usize,
    /// Search iterations `m`, and those told so far.
    m: usize,
    step: usize,
    archive: Archive,
    /// The current solution; `None`: draw one from the archive.
    current: Option<Vec<f64>>,
    /// The roulette weights of the archive's members, until the archive changes.
    weights: Option<Vec<f64>>,
    /// The points of the last ask.
    pending: Vec<Vec<f64>>,
    started: bool,
}

impl Padds {
    /// PADDS on `space` for `objectives` (`K ≥ 2`) objectives and a budget of `max_evaluations`.
    ///
    /// # Errors
    /// `"key: why"` for an invalid option, fewer than 2 objectives, or a budget not larger than the start.
    pub fn new(
        space: Space,
        options: PaddsOptions,
        random_state: u32,
        max_evaluations: usize,
        objectives: usize,
    ) -> Result<Self, String> {
        if space.dim() == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        if objectives < 2 {
            return Err(format!("objectives: PADDS minimises 2 objectives or more (got {objectives})"));
        }
        if !(options.r > 0.0 && options.r.is_finite()) {
            return Err(format!("r: must be finite and > 0 (got {})", options.r));
        }
        if options.initial == Some(0) {
            return Err("initial: must be ≥ 1".into());
        }
        let n_init =
            options.initial.unwrap_or_else(|| 5.max((0.005 * max_evaluations as f64).round_ties_even() as usize));
        if max_evaluations <= n_init {
            return Err(format!("max_evaluations: {max_evaluations} is not more than the {n_init} initial points"));
        }
        Ok(Padds {
            space,
            options,
            k: objectives,
            rng: LegacyRandom::new(random_state),
            n_init,
            m: max_evaluations - n_init,
            step: 0,
            archive: Archive::new(objectives),
            current: None,
            weights: None,
            pending: Vec::new(),
            started: false,
        })
    }

    /// A member drawn by roulette on the metric.
    fn draw_parent(&mut self) -> Vec<f64> {
        if self.weights.is_none() {
            self.weights = Some(weights(self.archive.values(), self.k, self.options.metric));
        }
        let weights = self.weights.as_deref().expect("set above");
        let total: f64 = weights.iter().sum();
        let target = self.rng.random_sample() * total;
        let mut cumulative = 0.0;
        let mut chosen = weights.len() - 1;
        for (i, &w) in weights.iter().enumerate() {
            cumulative += w;
            if cumulative > target {
                chosen = i;
                break;
            }
        }
        self.archive.point(chosen).to_vec()
    }
}

/// The roulette weights of archive members with values `values` (`[M, K]`), by `metric` (module docs).
fn weights(values: &[f64], k: usize, metric: PaddsMetric) -> Vec<f64> {
    let m = values.len() / k;
    if metric == PaddsMetric::Ones || m <= k + 1 {
        return vec![1.0; m];
    }
    let mut z = values.to_vec();
    let mut extreme = vec![false; m];
    for o in 0..k {
        let finite = (0..m).map(|i| values[i * k + o]).filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        for i in 0..m {
            let v = values[i * k + o];
            z[i * k + o] = if !v.is_finite() {
                1.0
            } else if hi > lo {
                (v - lo) / (hi - lo)
            } else {
                0.0
            };
        }
        let column = |i: usize| z[i * k + o];
        let low = (0..m).min_by(|&a, &b| column(a).total_cmp(&column(b))).expect("m > 0");
        let high = (0..m).max_by(|&a, &b| column(a).total_cmp(&column(b))).expect("m > 0");
        extreme[low] = true;
        extreme[high] = true;
    }
    let raw = match metric {
        PaddsMetric::CrowdDistance => crowding_distance(&z, k, &(0..m).collect::<Vec<_>>()),
        _ => contributions(&z, k, &vec![1.0; k]),
    };
    let interior: Vec<usize> = (0..m).filter(|&i| !extreme[i] && raw[i].is_finite()).collect();
    if interior.is_empty() {
        return vec![1.0; m];
    }
    let distance = |a: usize, b: usize| -> f64 { (0..k).map(|o| (z[a * k + o] - z[b * k + o]).powi(2)).sum() };
    let out: Vec<f64> = (0..m)
        .map(|i| {
            if !extreme[i] && raw[i].is_finite() {
                return raw[i];
            }
            let nearest = interior.iter().copied().min_by(|&a, &b| distance(i, a).total_cmp(&distance(i, b)));
            raw[nearest.expect("interior is not empty")]
        })
        .collect();
    let total: f64 = out.iter().sum();
    if total > 0.0 && total.is_finite() { out } else { vec![1.0; m] }
}

impl Sampler for Padds {
    fn name(&self) -> &'static str {
        "padds"
    }

    fn objectives(&self) -> usize {
        self.k
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if !self.started {
            let n = self.space.dim();
            self.pending = (0..self.n_init.min(remaining))
                .map(|_| (0..n).map(|j| self.space.lower(j) + self.space.width(j) * self.rng.random_sample()).collect())
                .collect();
        } else {
            if self.step == self.m {
                return None;
            }
            let parent = match self.current.take() {
                Some(x) => x,
                None => self.draw_parent(),
            };
            let candidate = dds::perturb(&self.space, &mut self.rng, self.options.r, &parent, self.step, self.m);
            self.current = Some(parent);
            self.pending = vec![candidate];
        }
        Some(self.pending.iter().map(|x| Proposal::free(x.clone())).collect())
    }

    fn tell(&mut self, values: &[f64]) {
        let pending = std::mem::take(&mut self.pending);
        let mut added = false;
        for (x, v) in pending.into_iter().zip(values.chunks_exact(self.k)) {
            if let Insertion::Added { .. } = self.archive.insert(x.clone(), v) {
                self.weights = None;
                added = true;
                if self.started {
                    self.current = Some(x);
                }
            }
        }
        if !self.started {
            self.started = true;
            self.current = None;
        } else {
            self.step += 1;
            if !added {
                self.current = None;
            }
        }
    }

    fn termination(&self) -> String {
        format!("the {} search steps after {} initial points are done", self.m, self.n_init)
    }
}

#[cfg(test)]
#[path = "padds_tests.rs"]
mod tests;
