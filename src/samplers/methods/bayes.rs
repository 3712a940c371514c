//! Pieces shared by the Bayesian samplers (`mcmc`, `dream`, `demcz`) and SPOTPY's local searches (`mle`,
//! `sa`): the log target density, the Metropolis test, SPOTPY's default step sizes and start point.
//!
//! # The target density
//! A sampler is told values to minimise; the Bayesian samplers read `L = −value` as the log-likelihood and
//! sample `π(x) ∝ exp(L(x)) · prior(x)`, so their log target is `−value + space.ln_prior(x)` (SPOTPY ignores
//! the prior density and uses the priors only to draw start points: with uniform priors, its default, the
//! two agree). A failed evaluation (`+inf`) has log target `−inf` and is never accepted.
//!
//! # SPOTPY's parameter defaults
//! SPOTPY fills a parameter's `step` with `P50 − P40` of 100 000 prior draws (≈ 0.1 × range for a uniform
//! prior) and its `optguess` with their median; here both come from the exact quantiles of the (truncated)
//! prior, so no random number is consumed.

use crate::samplers::Space;

/// Which acceptance test an MCMC sampler applies (each sampler documents its `Spotpy` rule).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Acceptance {
    /// The Metropolis test `ln u < ln π(x*) − ln π(x)`, `u ~ U(0, 1)`: the chains sample the posterior.
    #[default]
    Metropolis,
    /// SPOTPY 1.6.7's test, kept to reproduce its runs.
    Spotpy,
}

/// The log target density `−value + ln prior(x)` (`−inf` for a failed or out-of-bounds point).
pub fn log_target(space: &Space, x: &[f64], value: f64) -> f64 {
    let lp = space.ln_prior(x);
    if value.is_nan() || value == f64::INFINITY || lp == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    -value + lp
}

/// The Metropolis test on log densities: `ln u < proposed − current`.
///
/// A proposal with log density `−inf` is rejected; one with a finite log density replaces a state at `−inf`
/// (the difference is then `+inf`).
pub fn metropolis(ln_u: f64, proposed: f64, current: f64) -> bool {
    if proposed == f64::NEG_INFINITY || proposed.is_nan() {
        return false;
    }
    if current == f64::NEG_INFINITY {
        return true;
    }
    ln_u < proposed - current
}

/// The step size of each parameter: `fraction × (upper − lower)` if `fraction` is given, else SPOTPY's
/// default `P50 − P40` of the prior (`0.1 × (upper − lower)` for a uniform prior).
pub fn step_sizes(space: &Space, fraction: Option<f64>) -> Vec<f64> {
    (0..space.dim())
        .map(|i| match fraction {
            Some(f) => f * space.width(i),
            None => {
                let prior = &space.parameters[i].prior;
                prior.quantile(0.5) - prior.quantile(0.4)
            }
        })
        .collect()
}

/// The medians of the priors (SPOTPY's default `optguess`).
pub fn medians(space: &Space) -> Vec<f64> {
    space.parameters.iter().map(|p| p.prior.quantile(0.5)).collect()
}

/// Checks an optional step fraction: `Err("<key>: …")` unless it is finite and `> 0`.
pub fn check_step(key: &str, fraction: Option<f64>) -> Result<(), String> {
    match fraction {
        Some(f) if !(f.is_finite() && f > 0.0) => {
            Err(format!("{key}: must be a finite fraction of the range > 0 (got {f})"))
        }
        _ => Ok(()),
    }
}

/// Checks a space usable by a sampler: at least one parameter and valid priors.
pub fn check_space(space: &Space) -> Result<(), String> {
    if space.dim() == 0 {
        return Err("parameters: the space has no parameter".into());
    }
    for p in &space.parameters {
        p.prior.check().map_err(|e| format!("parameters: {}: {e}", p.name))?;
    }
    Ok(())
}

/// Helpers of the sampler tests: test problems, runs and posterior checks.
#[cfg(test)]
pub mod testing {
    use crate::samplers::diagnostics::ChainStates;
    use crate::samplers::driver::{EvaluationError, assert_within};
    use crate::samplers::{Flow, Proposal, Sampler, SearchOutcome, Space, search};

    /// The cube `[−half, half]^d` with uniform priors.
    pub fn cube(d: usize, half: f64) -> Space {
        boxed(d, -half, half)
    }

    /// The box `[lo, hi]^d` with uniform priors, parameters `x0 … x(d−1)`.
    pub fn boxed(d: usize, lo: f64, hi: f64) -> Space {
        let names: Vec<String> = (0..d).map(|i| format!("x{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Space::uniform(&names, &vec![(lo, hi); d])
    }

    /// Runs `method` on `f` for at most `budget` evaluations; returns the outcome and every batch asked,
    /// each checked within the bounds of `space`.
    pub fn run_recorded(
        method: &mut dyn Sampler,
        space: &Space,
        f: &dyn Fn(&[f64]) -> f64,
        budget: usize,
    ) -> (SearchOutcome, Vec<Vec<Proposal>>) {
        let mut objective =
            |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> { Ok(b.iter().map(|p| f(&p.x)).collect()) };
        let mut batches = Vec::new();
        let out = search(method, &mut objective, budget, &mut |r| {
            assert_within(space, r.proposals);
            batches.push(r.proposals.to_vec());
            Flow::Continue
        })
        .unwrap();
        (out, batches)
    }

    /// The best value `sampler` finds on `f` within `budget` evaluations.
    pub fn best(sampler: &mut dyn Sampler, f: fn(&[f64]) -> f64, budget: usize) -> f64 {
        let mut objective =
            |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> { Ok(b.iter().map(|p| f(&p.x)).collect()) };
        search(sampler, &mut objective, budget, &mut |_| Flow::Continue).unwrap().best_value
    }

    /// Every point `sampler` asks on `f` within `budget` evaluations, in order.
    pub fn trace(sampler: &mut dyn Sampler, f: fn(&[f64]) -> f64, budget: usize) -> Vec<Proposal> {
        let mut objective =
            |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> { Ok(b.iter().map(|p| f(&p.x)).collect()) };
        let mut points = Vec::new();
        search(sampler, &mut objective, budget, &mut |r| {
            points.extend_from_slice(r.proposals);
            Flow::Continue
        })
        .unwrap();
        points
    }

    /// The chain states of an MCMC run of `budget` evaluations on `f`.
    pub fn chains(sampler: &mut dyn Sampler, f: &dyn Fn(&[f64]) -> f64, budget: usize) -> ChainStates {
        let mut objective =
            |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> { Ok(b.iter().map(|p| f(&p.x)).collect()) };
        let mut states = ChainStates::default();
        search(sampler, &mut objective, budget, &mut |r| {
            states.record(r.proposals, r.values, r.accepted.expect("an MCMC sampler reports acceptance"));
            Flow::Continue
        })
        .unwrap();
        states
    }

    /// The median of some values.
    pub fn median(values: impl Iterator<Item = f64>) -> f64 {
        let mut v: Vec<f64> = values.collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
    }

    /// A 2-D Gaussian posterior: `value = ½ (x−μ)ᵀ Σ⁻¹ (x−μ)` on `[−15, 15]²` (uniform priors).
    pub struct Gaussian {
        pub mean: [f64; 2],
        pub sd: [f64; 2],
        pub rho: f64,
    }

    impl Gaussian {
        /// `μ = (1, −1)`, `σ = (1, 2)`, `ρ = 0.8`.
        pub fn correlated() -> Gaussian {
            Gaussian { mean: [1.0, -1.0], sd: [1.0, 2.0], rho: 0.8 }
        }

        pub fn space(&self) -> Space {
            cube(2, 15.0)
        }

        pub fn value(&self, x: &[f64]) -> f64 {
            let z0 = (x[0] - self.mean[0]) / self.sd[0];
            let z1 = (x[1] - self.mean[1]) / self.sd[1];
            0.5 * (z0 * z0 - 2.0 * self.rho * z0 * z1 + z1 * z1) / (1.0 - self.rho * self.rho)
        }

        /// Asserts that the chains' pooled second halves have the mean within `mean_tol` (in sd units),
        /// the sds within the relative `sd_tol` and the correlation within `sd_tol` of the truth.
        pub fn assert_moments(&self, states: &ChainStates, mean_tol: f64, sd_tol: f64) {
            let draws: Vec<Vec<f64>> = states.second_halves().into_iter().flatten().collect();
            let n = draws.len() as f64;
            let mean: Vec<f64> = (0..2).map(|i| draws.iter().map(|x| x[i]).sum::<f64>() / n).collect();
            let sd: Vec<f64> =
                (0..2).map(|i| (draws.iter().map(|x| (x[i] - mean[i]).powi(2)).sum::<f64>() / n).sqrt()).collect();
            let rho = draws.iter().map(|x| (x[0] - mean[0]) * (x[1] - mean[1])).sum::<f64>() / n / (sd[0] * sd[1]);
            for i in 0..2 {
                assert!(
                    (mean[i] - self.mean[i]).abs() < mean_tol * self.sd[i],
                    "mean {mean:?} vs {:?} ({n} draws)",
                    self.mean
                );
                assert!((sd[i] / self.sd[i] - 1.0).abs() < sd_tol, "sd {sd:?} vs {:?} ({n} draws)", self.sd);
            }
            assert!((rho - self.rho).abs() < sd_tol, "correlation {rho} vs {}", self.rho);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::{Distribution, Parameter, Prior};

    #[test]
    fn steps_are_a_tenth_of_a_uniform_range_by_default() {
        let space = Space::uniform(&["a", "b"], &[(-10.0, 10.0), (0.0, 1.0)]);
        let steps = step_sizes(&space, None);
        assert!((steps[0] - 2.0).abs() < 1e-12 && (steps[1] - 0.1).abs() < 1e-12, "{steps:?}");
        assert_eq!(step_sizes(&space, Some(0.5)), [10.0, 0.5]);
        assert_eq!(medians(&space), [0.0, 0.5]);
        // a normal prior: P50 − P40 = 0.2533 sd
        let prior = Prior { distribution: Distribution::Normal { mean: 1.0, sd: 2.0 }, lower: -50.0, upper: 50.0 };
        let space = Space { parameters: vec![Parameter { name: "n".into(), prior }] };
        assert!((step_sizes(&space, None)[0] - 2.0 * 0.253_347_103_135_799_7).abs() < 1e-9);
        assert!((medians(&space)[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn log_target_and_metropolis_handle_failures() {
        let space = Space::uniform(&["a"], &[(0.0, 1.0)]);
        assert_eq!(log_target(&space, &[0.5], 2.0), -2.0);
        assert_eq!(log_target(&space, &[0.5], f64::INFINITY), f64::NEG_INFINITY);
        assert_eq!(log_target(&space, &[1.5], 2.0), f64::NEG_INFINITY);
        assert!(metropolis(-0.1, -1.0, -1.0));
        assert!(!metropolis(-0.1, -1.2, -1.0));
        assert!(metropolis(-0.3, -1.2, -1.0));
        assert!(!metropolis(-1e-300, f64::NEG_INFINITY, f64::NEG_INFINITY));
        assert!(metropolis(-1e-300, -1e9, f64::NEG_INFINITY));
        assert!(check_step("step", Some(0.0)).unwrap_err().starts_with("step:"));
        assert!(check_step("step", None).is_ok());
    }
}
