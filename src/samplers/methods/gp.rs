//! Gaussian-process Bayesian optimisation with expected improvement (GP-EI).
//!
//! Jones, Schonlau & Welch (1998), *Efficient global optimization of expensive black-box functions*;
//! Snoek, Larochelle & Adams (2012), *Practical Bayesian optimization of machine learning algorithms*
//! (Matérn-5/2 ARD kernel); Ginsbourger, Le Riche & Carraro (2010), *Kriging is well-suited to parallelize
//! optimization* (constant liar, kriging believer). SPOTPY has no such method.
//!
//! 1. **Initial design.** `n_initial` points (default `max(2d + 1, 10)`) by Latin hypercube in the priors'
//!    probability (`quantile((perm + U)/m)` per dimension: uniform priors give the usual LHS of the box),
//!    asked as one batch.
//! 2. **Surrogate.** Points in unit coordinates of the bounds; values warped (`warping`: by default the
//!    normal quantiles of their ranks, as in copula-based BO, since a hydrological cost spans decades:
//!    without it the few huge values set the scale and the surrogate is flat where the optimum lies; a
//!    told `+inf` is first replaced by the worst finite value), then standardised (`(y − mean)/sd`). A Matérn-5/2 ARD process plus fitted noise plus the
//!    fixed `nugget` ([`gp_model`](super::gp_model)); its hyperparameters maximise the log marginal
//!    likelihood by a projected L-BFGS from the previous fit and `n_restarts` random starts, redone once
//!    `refit_every` new points were told (the surrogate is conditioned on every point at every ask).
//! 3. **Acquisition.** Expected improvement below the best standardised value less `xi` (in standardised
//!    units), maximised in log form (stable far from the data) over `n_candidates` uniform draws in the
//!    box plus `n_local` Gaussian perturbations of each of the 5 best points (spreads 0.1, 0.03, 0.01 in
//!    turn), then a compass search from the 3 best candidates (steps 0.02 halved to 1e-4).
//! 4. **Batches.** With `batch_size > 1`, after each point of the batch the surrogate (hyperparameters kept)
//!    is conditioned on that point with a lie for its value: its posterior mean (`liar = "believer"`,
//!    kriging believer) or the least, mean or largest standardised value (`"min"`, `"mean"`, `"max"`,
//!    constant liar).
//!
//! **Defaults:** `n_initial = max(2d + 1, 10)`, `batch_size = 1`, `liar = "believer"`, `warping = "rank"`, `xi = 0.01`,
//! `refit_every = 1`, `n_restarts = 1`, `n_candidates = 2000`, `n_local = 60`, `nugget = 1e-6`,
//! `max_points = 1000`.
//!
//! **Cost.** Each likelihood evaluation of a fit costs `O(N³)` (Cholesky factor and inverse of `K`), and a
//! fit takes some 20 (from the previous fit) to 200 (from a random start) of them; each ask also costs
//! `O(N²)` per acquisition candidate. Measured on one core: a 2-D run of 100 points about 1 s, a 10-D run
//! of 200 points about a minute, nearly all of it in the fits. Fine up to a few hundred points, slow beyond:
//! `max_evaluations` above `max_points` (default 1000) is refused, and long runs should raise
//! `refit_every`. The priors only shape the initial design (this is an optimiser, not a Bayesian sampler).

use super::gp_model::{Surrogate, fit};
use super::unit_history::UnitHistory;
use crate::samplers::prior::normal_cdf;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// The value given to the points already chosen in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Liar {
    /// The surrogate's posterior mean (kriging believer).
    Believer,
    /// The least value told (constant liar, optimistic).
    Min,
    /// The mean value told.
    Mean,
    /// The largest value told (constant liar, pessimistic).
    Max,
}

/// How the told values are transformed before the surrogate is fitted to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warping {
    /// The values themselves.
    None,
    /// `ln(y − min + δ)`, `δ` a tenth of the spread between the least value and the median.
    Log,
    /// The normal quantiles of their ranks (mid-ranks for ties), the default: robust to the heavy upper
    /// tail of hydrological costs (`1 − NSE` of 10²–10⁴ at extreme parameters against ≈ 0.1 near the
    /// optimum), which otherwise flattens the standardised values near the optimum.
    Rank,
}

/// Options of [`Gp`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GpOptions {
    /// Points of the initial Latin hypercube; `None`: `max(2d + 1, 10)`.
    pub n_initial: Option<usize>,
    /// Points per ask after the initial design.
    pub batch_size: usize,
    /// How the points already chosen in a batch are valued.
    pub liar: Liar,
    /// Transform of the told values before the fit (see [`Warping`]).
    pub warping: Warping,
    /// Exploration margin of the expected improvement, in standard deviations of the told values.
    pub xi: f64,
    /// Told points between two fits of the hyperparameters (1: at every ask).
    pub refit_every: usize,
    /// Random starts of the hyperparameter fit besides the previous fit.
    pub n_restarts: usize,
    /// Uniform candidates of the acquisition search.
    pub n_candidates: usize,
    /// Perturbations of each of the 5 best points among the candidates.
    pub n_local: usize,
    /// Variance added to the diagonal of the covariance (standardised units), grown tenfold if needed.
    pub nugget: f64,
    /// Largest `max_evaluations` accepted (the surrogate costs `O(N³)`).
    pub max_points: usize,
}

impl Default for GpOptions {
    fn default() -> Self {
        GpOptions {
            n_initial: None,
            batch_size: 1,
            liar: Liar::Believer,
            warping: Warping::Rank,
            xi: 0.01,
            refit_every: 1,
            n_restarts: 1,
            n_candidates: 2000,
            n_local: 60,
            nugget: 1e-6,
            max_points: 1000,
        }
    }
}

/// The GP-EI sampler (see the module doc).
#[derive(Clone, Debug)]
pub struct Gp {
    space: Space,
    options: GpOptions,
    n_initial: usize,
    rng: LegacyRandom,
    /// Told points in unit coordinates and their values, and the batch in flight.
    history: UnitHistory,
    /// The last fitted hyperparameters and the number of points they were fitted on.
    theta: Option<(Vec<f64>, usize)>,
}

impl Gp {
    /// # Errors
    /// `"key: why"` for an invalid option or prior, or `max_evaluations > max_points`.
    pub fn new(space: Space, options: GpOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        let d = space.dim();
        if d == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        for p in &space.parameters {
            p.prior.check().map_err(|e| format!("{}: {e}", p.name))?;
        }
        let n_initial = options.n_initial.unwrap_or((2 * d + 1).max(10));
        let checks = [
            (n_initial == 0, "n_initial: must be at least 1".to_string()),
            (options.batch_size == 0, "batch_size: must be at least 1".into()),
            (
                !(options.xi >= 0.0 && options.xi.is_finite()),
                format!("xi: must be finite and ≥ 0 (got {})", options.xi),
            ),
            (options.refit_every == 0, "refit_every: must be at least 1".into()),
            (options.n_candidates == 0, "n_candidates: must be at least 1".into()),
            (
                !(options.nugget > 0.0 && options.nugget <= 1e-2),
                format!("nugget: must be in (0, 1e-2] (got {})", options.nugget),
            ),
            (
                max_evaluations > options.max_points,
                format!(
                    "max_points: max_evaluations = {max_evaluations} exceeds max_points = {} (each refit costs O(N³))",
                    options.max_points
                ),
            ),
        ];
        if let Some((_, e)) = checks.into_iter().find(|(bad, _)| *bad) {
            return Err(e);
        }
        let rng = LegacyRandom::new(random_state);
        Ok(Gp { space, options, n_initial, rng, history: UnitHistory::default(), theta: None })
    }

    /// `m` Latin-hypercube points in the priors' probability, in unit coordinates.
    fn latin_hypercube(&mut self, m: usize) -> Vec<Vec<f64>> {
        let mut points = vec![vec![0.0; self.space.dim()]; m];
        for d in 0..self.space.dim() {
            let mut strata: Vec<usize> = (0..m).collect();
            self.rng.shuffle(&mut strata);
            let prior = self.space.parameters[d].prior;
            for (point, s) in points.iter_mut().zip(strata) {
                let x = prior.quantile((s as f64 + self.rng.random_sample()) / m as f64);
                point[d] = ((x - prior.lower) / (prior.upper - prior.lower)).clamp(0.0, 1.0);
            }
        }
        points
    }

    /// The standardised values (`+inf` → worst finite), or `None` when no value is finite.
    fn standardised(&self) -> Option<Vec<f64>> {
        let finite: Vec<f64> = self.history.values.iter().copied().filter(|v| v.is_finite()).collect();
        let worst = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if finite.is_empty() {
            return None;
        }
        let y: Vec<f64> = self.history.values.iter().map(|&v| if v.is_finite() { v } else { worst }).collect();
        let y = warp(&y, self.options.warping);
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64).sqrt();
        let sd = if sd > 0.0 && sd.is_finite() { sd } else { 1.0 };
        Some(y.iter().map(|v| (v - mean) / sd).collect())
    }

    /// The hyperparameters for the current points: refitted when `refit_every` points arrived since.
    fn hyperparameters(&mut self, y: &[f64]) -> Vec<f64> {
        let n = self.history.units.len();
        if let Some((theta, at)) = &self.theta
            && n < at + self.options.refit_every
        {
            return theta.clone();
        }
        let d = self.space.dim();
        let mut starts = vec![match &self.theta {
            Some((theta, _)) => theta.clone(),
            None => [vec![0.3_f64.ln(); d], vec![0.0, 1e-4_f64.ln()]].concat(),
        }];
        for _ in 0..self.options.n_restarts {
            // ℓ ∈ [0.05, 2], s² ∈ [0.3, 3], σ² ∈ [1e-6, 1e-2], log-uniform
            let mut start: Vec<f64> = (0..d).map(|_| self.rng.uniform(0.05_f64.ln(), 2.0_f64.ln())).collect();
            start.push(self.rng.uniform(0.3_f64.ln(), 3.0_f64.ln()));
            start.push(self.rng.uniform(1e-6_f64.ln(), 1e-2_f64.ln()));
            starts.push(start);
        }
        let theta = fit(&self.history.units, y, &starts, self.options.nugget);
        self.theta = Some((theta.clone(), n));
        theta
    }

    /// The point of largest expected improvement under `model` (unit coordinates), with `x` `[N][d]` and
    /// `y` `[N]` the data it is conditioned on.
    fn maximise_ei(&mut self, model: &Surrogate, x: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
        let d = self.space.dim();
        let target = y.iter().copied().fold(f64::INFINITY, f64::min) - self.options.xi;
        let score = |u: &[f64]| {
            let (mean, var) = model.predict(u);
            let sd = var.sqrt();
            sd.ln() + ln_h((target - mean) / sd)
        };
        let mut candidates: Vec<Vec<f64>> =
            (0..self.options.n_candidates).map(|_| (0..d).map(|_| self.rng.random_sample()).collect()).collect();
        let mut order: Vec<usize> = (0..y.len()).collect();
        order.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
        for &i in order.iter().take(5) {
            for k in 0..self.options.n_local {
                let spread = [0.1, 0.03, 0.01][k % 3];
                candidates.push(x[i].iter().map(|v| (v + self.rng.normal(0.0, spread)).clamp(0.0, 1.0)).collect());
            }
        }
        let mut scored: Vec<(f64, usize)> = candidates.iter().enumerate().map(|(i, u)| (score(u), i)).collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut best: Option<(f64, Vec<f64>)> = None;
        for &(value, i) in scored.iter().take(3) {
            let (u, value) = compass_search(&score, candidates[i].clone(), value);
            if best.as_ref().is_none_or(|(b, _)| value > *b) {
                best = Some((value, u));
            }
        }
        best.expect("n_candidates ≥ 1").1
    }
}

/// `y` transformed by `warping` (see [`Warping`]).
fn warp(y: &[f64], warping: Warping) -> Vec<f64> {
    match warping {
        Warping::None => y.to_vec(),
        Warping::Log => {
            let mut sorted = y.to_vec();
            sorted.sort_by(f64::total_cmp);
            let (min, median) = (sorted[0], sorted[sorted.len() / 2]);
            let delta = if median > min { 0.1 * (median - min) } else { 1.0 };
            y.iter().map(|v| (v - min + delta).ln()).collect()
        }
        Warping::Rank => {
            let n = y.len();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| y[a].total_cmp(&y[b]));
            let mut z = vec![0.0; n];
            let mut i = 0;
            while i < n {
                let mut j = i;
                while j + 1 < n && y[order[j + 1]] == y[order[i]] {
                    j += 1;
                }
                let p = ((i + j) as f64 / 2.0 + 0.5) / n as f64;
                for &k in &order[i..=j] {
                    z[k] = crate::samplers::prior::normal_quantile(p);
                }
                i = j + 1;
            }
            z
        }
    }
}

/// Greedy compass search maximising `score` in `[0, 1]ᵈ` from `u` (steps 0.02 halved down to 1e-4, at most
/// 300 evaluations).
fn compass_search(score: &dyn Fn(&[f64]) -> f64, mut u: Vec<f64>, mut value: f64) -> (Vec<f64>, f64) {
    let (mut step, mut evaluations) = (0.02, 0);
    while step >= 1e-4 && evaluations < 300 {
        let mut improved = false;
        for c in 0..u.len() {
            for sign in [1.0, -1.0] {
                let mut trial = u.clone();
                trial[c] = (trial[c] + sign * step).clamp(0.0, 1.0);
                evaluations += 1;
                let v = score(&trial);
                if v > value {
                    (u, value, improved) = (trial, v, true);
                    break;
                }
            }
        }
        if !improved {
            step *= 0.5;
        }
    }
    (u, value)
}

/// `ln(φ(z) + z Φ(z))`, the expected improvement of a unit Gaussian over `z`, stable for `z ≪ 0`
/// (asymptotic series `φ(z)(1/z² − 3/z⁴ + 15/z⁶ − 105/z⁸)` below `z = −30`).
fn ln_h(z: f64) -> f64 {
    let ln_phi = -0.5 * z * z - 0.5 * (2.0 * std::f64::consts::PI).ln();
    if z > -30.0 {
        let h = ln_phi.exp() + z * normal_cdf(z);
        return h.max(f64::MIN_POSITIVE).ln();
    }
    let w = 1.0 / (z * z);
    ln_phi + (w * (1.0 - w * (3.0 - w * (15.0 - 105.0 * w)))).ln()
}

impl Sampler for Gp {
    fn name(&self) -> &'static str {
        "gp"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        self.history.pending = if self.history.units.is_empty() {
            let mut design = self.latin_hypercube(self.n_initial);
            design.truncate(remaining);
            design
        } else {
            self.propose(self.options.batch_size.min(remaining))
        };
        Some(self.history.proposals(&self.space))
    }

    fn tell(&mut self, values: &[f64]) {
        self.history.record("gp", values);
    }
}

impl Gp {
    /// `k` points by expected improvement (liars after the first).
    fn propose(&mut self, k: usize) -> Vec<Vec<f64>> {
        let d = self.space.dim();
        let random = |rng: &mut LegacyRandom| (0..d).map(|_| rng.random_sample()).collect::<Vec<f64>>();
        let Some(mut y) = self.standardised() else { return (0..k).map(|_| random(&mut self.rng)).collect() };
        let theta = self.hyperparameters(&y);
        let mut x = self.history.units.clone();
        let lie = match self.options.liar {
            Liar::Min => y.iter().copied().fold(f64::INFINITY, f64::min),
            Liar::Max => y.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Liar::Mean | Liar::Believer => 0.0, // standardised: the mean is 0
        };
        let mut batch = Vec::with_capacity(k);
        for i in 0..k {
            let Ok(model) = Surrogate::new(&x, &y, &theta, self.options.nugget) else {
                batch.push(random(&mut self.rng));
                continue;
            };
            let u = self.maximise_ei(&model, &x, &y);
            if i + 1 < k {
                y.push(if self.options.liar == Liar::Believer { model.predict(&u).0 } else { lie });
                x.push(u.clone());
            }
            batch.push(u);
        }
        batch
    }
}

#[cfg(test)]
#[path = "gp_tests.rs"]
mod tests;
