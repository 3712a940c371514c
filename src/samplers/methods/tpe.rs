//! Tree-structured Parzen Estimator (TPE): sequential model-based optimisation with density ratios.
//!
//! Bergstra, Bardenet, Bengio & Kégl (2011), *Algorithms for hyper-parameter optimization*, NeurIPS, with
//! the choices of optuna's `TPESampler` (independent sampling, `optuna/samplers/_tpe/`), reimplemented here
//! from the algorithm. SPOTPY has no TPE.
//!
//! 1. **Startup.** The first `n_startup` points (default 20, hyperopt's `n_startup_jobs`; optuna uses 10)
//!    are drawn from the priors (`space.sample`), asked as one batch.
//! 2. **Split.** The `n` points told so far are sorted by value (stable: ties keep their order);
//!    the best `n_below = min(⌈gamma·n⌉, gamma_cap)` form the "good" set, the others the "bad" set.
//!    This is optuna's `default_gamma` (`gamma = 0.1`, cap 25), not hyperopt's `⌈0.25 √n⌉`.
//! 3. **Parzen estimators.** Per dimension, in the unit coordinates `u = (x − lower)/(upper − lower)`,
//!    each set gives a mixture of Gaussians truncated to `[0, 1]`, one kernel per point plus the prior
//!    `N(0.5, 1²)` (`consider_prior`, weight `prior_weight`). A kernel's bandwidth is the larger gap to its
//!    sorted neighbours (the bounds count as neighbours); without `consider_endpoints` the first and last
//!    kernels take the gap to their one inner neighbour instead. `consider_magic_clip` clips bandwidths to
//!    `[1/min(100, 1 + k), 1]` with `k` the number of kernels including the prior. Kernel weights follow
//!    optuna's `default_weights`: all 1 for up to 25 points, else a ramp from `1/m` to 1 over the `m − 25`
//!    oldest points and 1 for the 25 newest.
//! 4. **Acquisition.** Per dimension, `n_ei_candidates` (24) draws from the good density `l`; the one of
//!    largest `ln l(u) − ln g(u)` (the bad density `g`) is kept (first of equal ones). Dimensions are
//!    independent (optuna's default `multivariate = False`).
//!
//! With `batch_size > 1` each ask returns `batch_size` points by the constant liar: every point already
//! chosen for the batch joins the history with value `+inf` (the worst, so it lands in the bad set and
//! pushes the next points away), as optuna's `constant_liar`. Told `+inf` (failed runs) are worst, kept in
//! the bad set. The priors only shape the startup draws and the bounds; the Parzen prior kernel is optuna's
//! wide Gaussian whatever the parameter's prior (TPE is an optimiser, not a Bayesian sampler).
//!
//! **Defaults:** `n_startup = 20`, `n_ei_candidates = 24`, `gamma = 0.1` with `gamma_cap = 25`,
//! `consider_prior = true` with `prior_weight = 1`, `consider_magic_clip = true`,
//! `consider_endpoints = false`, `batch_size = 1`.
//!
//! Cost per point `O(d · n_ei_candidates · n)`: cheap next to any model run. The randomness (prior draws,
//! kernel choice, inverse-CDF draw) comes from the sampler's numpy-legacy stream, so the points are not
//! optuna's for the same seed.

use super::unit_history::UnitHistory;
use crate::samplers::prior::{normal_cdf, normal_quantile};
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// Options of [`Tpe`] (optuna's `TPESampler` names).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TpeOptions {
    /// Points drawn from the priors before the model is used (hyperopt's `n_startup_jobs`).
    pub n_startup: usize,
    /// Candidates drawn from the good density per dimension at each point.
    pub n_ei_candidates: usize,
    /// Fraction of the points in the good set: `n_below = min(⌈gamma · n⌉, gamma_cap)`.
    pub gamma: f64,
    /// Most points in the good set.
    pub gamma_cap: usize,
    /// Whether each density also has the prior kernel `N(0.5, 1²)` in unit coordinates.
    pub consider_prior: bool,
    /// Weight of the prior kernel against 1 for a point (before the weights are normalised).
    pub prior_weight: f64,
    /// Whether bandwidths are clipped to `[1/min(100, 1 + kernels), 1]` (else `[1e-12, 1]`).
    pub consider_magic_clip: bool,
    /// Whether the outermost kernels use their gap to the bound as a neighbour gap.
    pub consider_endpoints: bool,
    /// Points per ask after the startup (`> 1`: constant liar with the worst value).
    pub batch_size: usize,
}

impl Default for TpeOptions {
    fn default() -> Self {
        TpeOptions {
            n_startup: 20,
            n_ei_candidates: 24,
            gamma: 0.1,
            gamma_cap: 25,
            consider_prior: true,
            prior_weight: 1.0,
            consider_magic_clip: true,
            consider_endpoints: false,
            batch_size: 1,
        }
    }
}

/// The TPE sampler (see the module doc).
#[derive(Clone, Debug)]
pub struct Tpe {
    space: Space,
    options: TpeOptions,
    rng: LegacyRandom,
    /// Told points in unit coordinates and their values, and the batch in flight.
    history: UnitHistory,
}

impl Tpe {
    /// # Errors
    /// `"key: why"` for an invalid option or prior.
    pub fn new(space: Space, options: TpeOptions, random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        let _ = max_evaluations; // TPE needs no budget: it only ever asks what the driver allows
        if space.dim() == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        for p in &space.parameters {
            p.prior.check().map_err(|e| format!("{}: {e}", p.name))?;
        }
        if options.n_ei_candidates == 0 {
            return Err("n_ei_candidates: must be at least 1".into());
        }
        if !(options.gamma > 0.0 && options.gamma <= 1.0) {
            return Err(format!("gamma: must be in (0, 1] (got {})", options.gamma));
        }
        if options.gamma_cap == 0 {
            return Err("gamma_cap: must be at least 1".into());
        }
        if !(options.prior_weight > 0.0 && options.prior_weight.is_finite()) {
            return Err(format!("prior_weight: must be finite and > 0 (got {})", options.prior_weight));
        }
        if options.batch_size == 0 {
            return Err("batch_size: must be at least 1".into());
        }
        let rng = LegacyRandom::new(random_state);
        Ok(Tpe { space, options, rng, history: UnitHistory::default() })
    }

    /// The next point in unit coordinates, with `liars` (already chosen for this batch) counted as worst.
    fn suggest(&mut self, liars: &[Vec<f64>]) -> Vec<f64> {
        let n = self.history.units.len() + liars.len();
        let value = |i: usize| if i < self.history.values.len() { self.history.values[i] } else { f64::INFINITY };
        let point = |i: usize| {
            if i < self.history.units.len() { &self.history.units[i] } else { &liars[i - self.history.units.len()] }
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| value(a).total_cmp(&value(b))); // stable: ties keep trial order
        let n_below = ((self.options.gamma * n as f64).ceil() as usize).min(self.options.gamma_cap).min(n);
        let mut below = order[..n_below].to_vec();
        let mut above = order[n_below..].to_vec();
        below.sort_unstable();
        above.sort_unstable(); // trial order, for the recency weights
        let (w_below, w_above) = (default_weights(below.len()), default_weights(above.len()));
        let mut u = Vec::with_capacity(self.space.dim());
        for d in 0..self.space.dim() {
            let obs_below: Vec<f64> = below.iter().map(|&i| point(i)[d]).collect();
            let obs_above: Vec<f64> = above.iter().map(|&i| point(i)[d]).collect();
            let l = Parzen::new(&obs_below, &w_below, &self.options);
            let g = Parzen::new(&obs_above, &w_above, &self.options);
            let mut best: Option<(f64, f64)> = None;
            for _ in 0..self.options.n_ei_candidates {
                let c = l.sample(&mut self.rng);
                let score = l.ln_pdf(c) - g.ln_pdf(c);
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, c));
                }
            }
            u.push(best.expect("n_ei_candidates ≥ 1").1);
        }
        u
    }
}

impl Sampler for Tpe {
    fn name(&self) -> &'static str {
        "tpe"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        self.history.pending.clear();
        if self.history.units.len() < self.options.n_startup {
            let k = (self.options.n_startup - self.history.units.len()).min(remaining);
            for _ in 0..k {
                let x = self.space.sample(&mut self.rng);
                self.history.pending.push(self.space.to_unit(&x));
            }
        } else {
            let k = self.options.batch_size.min(remaining);
            let mut liars = Vec::with_capacity(k);
            for _ in 0..k {
                let u = self.suggest(&liars);
                liars.push(u);
            }
            self.history.pending = liars;
        }
        Some(self.history.proposals(&self.space))
    }

    fn tell(&mut self, values: &[f64]) {
        self.history.record("tpe", values);
    }
}

/// optuna's `default_weights`: 1 for up to 25 points, else `linspace(1/m, 1, m − 25)` then 25 ones (oldest first).
fn default_weights(m: usize) -> Vec<f64> {
    if m < 25 {
        return vec![1.0; m];
    }
    let ramp = m - 25;
    let start = 1.0 / m as f64;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| if ramp == 1 { start } else { start + (1.0 - start) * i as f64 / (ramp - 1) as f64 })
        .collect();
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

/// A mixture of Gaussians truncated to `[0, 1]`, one per observation plus the optional prior kernel.
#[derive(Clone, Debug)]
struct Parzen {
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    inv_sigmas: Vec<f64>,
    /// Normalised weights.
    weights: Vec<f64>,
    /// `Φ((0 − μ)/σ)` and `Φ((1 − μ)/σ)` per kernel.
    cdf_lo: Vec<f64>,
    cdf_hi: Vec<f64>,
    /// `ln w − ln(σ √(2π) (Φ_hi − Φ_lo))` per kernel.
    ln_coef: Vec<f64>,
}

impl Parzen {
    /// # Arguments
    /// * `obs` — the set's coordinates in `[0, 1]`, in trial order; `obs_weights` — their weights.
    fn new(obs: &[f64], obs_weights: &[f64], options: &TpeOptions) -> Parzen {
        let n = obs.len();
        let consider_prior = options.consider_prior || n == 0;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| obs[a].total_cmp(&obs[b]));
        let mut with_ends = Vec::with_capacity(n + 2);
        with_ends.push(0.0);
        with_ends.extend(order.iter().map(|&i| obs[i]));
        with_ends.push(1.0);
        let mut sorted_sigmas: Vec<f64> =
            (1..=n).map(|k| (with_ends[k] - with_ends[k - 1]).max(with_ends[k + 1] - with_ends[k])).collect();
        if !options.consider_endpoints && n >= 2 {
            sorted_sigmas[0] = with_ends[2] - with_ends[1];
            sorted_sigmas[n - 1] = with_ends[n] - with_ends[n - 1];
        }
        let min_sigma = if options.consider_magic_clip {
            1.0 / (100.0_f64).min(1.0 + (n + usize::from(consider_prior)) as f64)
        } else {
            1e-12
        };
        let mut mus = obs.to_vec();
        let mut sigmas = vec![0.0; n];
        for (rank, &i) in order.iter().enumerate() {
            sigmas[i] = sorted_sigmas[rank].clamp(min_sigma, 1.0);
        }
        let mut weights = obs_weights.to_vec();
        if consider_prior {
            mus.push(0.5);
            sigmas.push(1.0);
            weights.push(options.prior_weight);
        }
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        let cdf_lo: Vec<f64> = mus.iter().zip(&sigmas).map(|(m, s)| normal_cdf(-m / s)).collect();
        let cdf_hi: Vec<f64> = mus.iter().zip(&sigmas).map(|(m, s)| normal_cdf((1.0 - m) / s)).collect();
        let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        let ln_coef = (0..mus.len())
            .map(|k| weights[k].ln() - sigmas[k].ln() - half_ln_2pi - (cdf_hi[k] - cdf_lo[k]).ln())
            .collect();
        let inv_sigmas = sigmas.iter().map(|s| 1.0 / s).collect();
        Parzen { mus, sigmas, inv_sigmas, weights, cdf_lo, cdf_hi, ln_coef }
    }

    /// One draw: a kernel by weight, then its truncated Gaussian by inverse CDF (two uniform numbers).
    fn sample(&self, rng: &mut LegacyRandom) -> f64 {
        let r = rng.random_sample();
        let mut k = self.weights.len() - 1;
        let mut acc = 0.0;
        for (i, w) in self.weights.iter().enumerate() {
            acc += w;
            if r < acc {
                k = i;
                break;
            }
        }
        let p = self.cdf_lo[k] + rng.random_sample() * (self.cdf_hi[k] - self.cdf_lo[k]);
        (self.mus[k] + self.sigmas[k] * normal_quantile(p)).clamp(0.0, 1.0)
    }

    /// `ln` of the mixture density at `u ∈ [0, 1]` (streaming log-sum-exp over the kernels, skipping the
    /// kernels `e⁻⁴⁰` below the largest so far).
    fn ln_pdf(&self, u: f64) -> f64 {
        let (mut max, mut sum) = (f64::NEG_INFINITY, 0.0);
        for k in 0..self.mus.len() {
            let z = (u - self.mus[k]) * self.inv_sigmas[k];
            let t = self.ln_coef[k] - 0.5 * z * z;
            if t <= max {
                if t > max - 40.0 {
                    sum += (t - max).exp(); // smaller terms add less than 5e-18 each
                }
            } else {
                sum = sum * (max - t).exp() + 1.0;
                max = t;
            }
        }
        max + sum.ln()
    }
}

#[cfg(test)]
#[path = "tpe_tests.rs"]
mod tests;
