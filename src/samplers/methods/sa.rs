//! Simulated annealing as SPOTPY's `sa` (after Kirkpatrick, Gelatt & Vecchi 1983). Sequential: one point
//! per batch.
//!
//! # Algorithm
//! The search holds a current point `x_c` with energy `f_c` (the value, minimised) and a temperature `T`
//! [value units], starting at `x0` (the priors' medians, SPOTPY's `optguess`, or option `x0`) and
//! `T = t_ini`. After each evaluation of `x` with value `f`:
//! * if `f < f_c`: `x_c ← x`, `f_c ← f`, and the next point is `U(x_c − step, x_c + step)`;
//! * else with `ΔE = f − f_c`, the Boltzmann test `u ≤ exp(−ΔE/T)`, `u ~ U(0, 1)` (always passed when
//!   `ΔE = 0`): if passed, `x_c ← x` and `f_c ← f` (the textbook Metropolis step) and the next point is
//!   `U(x_c ± step)`; if not, the next point is `N(x_c, step)`.
//!
//! Points are clamped to the bounds. Every `n_temp` evaluations (after the first) `T ← alpha·T`; the search
//! stops when `T ≤ 0.001·t_ini` (about 687 levels, 34 000 evaluations with the defaults) or at the budget.
//!
//! # SPOTPY's quirk (`algorithms/sa.py`, 1.6.7), behind `variant = "spotpy"`
//! On a passed Boltzmann test SPOTPY moves `x_c` but keeps the old `f_c` (`E_opt` is not updated), so
//! later points are compared with the energy of a point that is no longer current: `f_c` only ever
//! decreases and equals the best value seen.
//!
//! # Defaults (SPOTPY's `sample(rep, Tini=80, Ntemp=50, alpha=0.99)`)
//! `t_ini = 80`, `n_temp = 50`, `alpha = 0.99`, `x0` = the priors' medians, `step` = the prior's `P50 − P40`
//! (0.1 × range for a uniform prior), `variant = "textbook"`.
//!
//! # Reference
//! Kirkpatrick, Gelatt & Vecchi (1983), Optimization by simulated annealing, *Science* 220, 671–680;
//! SPOTPY `algorithms/sa.py`.

use super::bayes;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// Which acceptance bookkeeping [`Sa`] follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaVariant {
    /// The current energy follows the current point (Metropolis).
    #[default]
    Textbook,
    /// SPOTPY's: an accepted worse point does not update the current energy.
    Spotpy,
}

/// Options of [`Sa`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SaOptions {
    /// Initial temperature [value units] (SPOTPY's `Tini`).
    pub t_ini: f64,
    /// Evaluations per temperature level (SPOTPY's `Ntemp`).
    pub n_temp: usize,
    /// Cooling factor per level, in (0, 1).
    pub alpha: f64,
    /// The start point `[d]`; unset: the priors' medians (SPOTPY's `optguess`).
    pub x0: Option<Vec<f64>>,
    /// The proposal half-width (uniform) or sd (normal) as a fraction of each parameter's range; unset:
    /// the prior's `P50 − P40` (SPOTPY's `step`).
    pub step: Option<f64>,
    /// `"textbook"` or `"spotpy"`.
    pub variant: SaVariant,
}

impl Default for SaOptions {
    fn default() -> Self {
        SaOptions { t_ini: 80.0, n_temp: 50, alpha: 0.99, x0: None, step: None, variant: SaVariant::Textbook }
    }
}

/// Simulated annealing (see the module doc).
#[derive(Debug)]
pub struct Sa {
    space: Space,
    options: SaOptions,
    rng: LegacyRandom,
    steps: Vec<f64>,
    /// The next point to ask.
    next: Vec<f64>,
    /// The current point and energy (`None` before the start is told).
    current: Option<(Vec<f64>, f64)>,
    temperature: f64,
    /// Evaluations in the current level.
    in_level: usize,
}

impl Sa {
    /// A search of `space` with `options`; `max_evaluations` is not needed.
    ///
    /// # Errors
    /// `"<key>: …"` for an invalid option (`t_ini`, `n_temp`, `alpha`, `x0`, `step`), `"parameters: …"` for
    /// an empty space or an invalid prior.
    pub fn new(space: Space, options: SaOptions, random_state: u32, _max_evaluations: usize) -> Result<Self, String> {
        bayes::check_space(&space)?;
        if !(options.t_ini.is_finite() && options.t_ini > 0.0) {
            return Err(format!("t_ini: must be finite and > 0 (got {})", options.t_ini));
        }
        if options.n_temp == 0 {
            return Err("n_temp: must be at least 1".into());
        }
        if !(options.alpha > 0.0 && options.alpha < 1.0) {
            return Err(format!("alpha: must be in (0, 1) (got {})", options.alpha));
        }
        bayes::check_step("step", options.step)?;
        let x0 = match &options.x0 {
            Some(x0) if x0.len() != space.dim() => {
                return Err(format!("x0: has {} values for {} parameters", x0.len(), space.dim()));
            }
            Some(x0) if !space.contains(x0) => return Err(format!("x0: {x0:?} is outside the bounds")),
            Some(x0) => x0.clone(),
            None => bayes::medians(&space),
        };
        let steps = bayes::step_sizes(&space, options.step);
        let temperature = options.t_ini;
        Ok(Sa {
            space,
            options,
            rng: LegacyRandom::new(random_state),
            steps,
            next: x0,
            current: None,
            temperature,
            in_level: 0,
        })
    }

    /// The current temperature.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// Whether the Boltzmann test passes for a point `delta` worse than the current one.
    fn boltzmann(&mut self, delta: f64) -> bool {
        if delta > 0.0 {
            let p = (-delta / self.temperature).exp();
            self.rng.random_sample() <= p
        } else {
            true
        }
    }
}

impl Sampler for Sa {
    fn name(&self) -> &'static str {
        "sa"
    }

    fn ask(&mut self, _remaining: usize) -> Option<Vec<Proposal>> {
        if self.current.is_some() {
            if self.in_level == self.options.n_temp {
                self.temperature *= self.options.alpha;
                self.in_level = 0;
            }
            if self.in_level == 0 && self.temperature <= 0.001 * self.options.t_ini {
                return None;
            }
            self.in_level += 1;
        }
        Some(vec![Proposal::free(self.next.clone())])
    }

    fn tell(&mut self, values: &[f64]) {
        let value = values[0];
        let x = std::mem::take(&mut self.next);
        let (mut xc, mut fc) = self.current.take().unwrap_or_else(|| (x.clone(), value));
        let uniform = if value < fc {
            (xc, fc) = (x, value);
            true
        } else if self.boltzmann(value - fc) {
            xc = x;
            if self.options.variant == SaVariant::Textbook {
                fc = value;
            }
            true
        } else {
            false
        };
        let mut next: Vec<f64> = if uniform {
            xc.iter().zip(&self.steps).map(|(&c, &s)| self.rng.uniform(c - s, c + s)).collect()
        } else {
            xc.iter().zip(&self.steps).map(|(&c, &s)| self.rng.normal(c, s)).collect()
        };
        self.space.clip(&mut next);
        self.next = next;
        self.current = Some((xc, fc));
    }

    fn termination(&self) -> String {
        format!("the temperature fell to {:.4} ≤ 0.001·t_ini", self.temperature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{Termination, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::methods::bayes::testing;
    use crate::samplers::{Flow, search};

    /// A run from `x0 = half/2` in every parameter (the default, the centre, is the optimum of Griewank and
    /// Ackley).
    fn run(f: fn(&[f64]) -> f64, half: f64, d: usize, variant: SaVariant, seed: u32, budget: usize) -> f64 {
        let options = SaOptions { variant, x0: Some(vec![0.5 * half; d]), ..SaOptions::default() };
        let mut s = Sa::new(testing::cube(d, half), options, seed, budget).unwrap();
        testing::best(&mut s, f, budget)
    }

    #[test]
    fn minimises_the_test_functions() {
        for (variant, limits) in [(SaVariant::Textbook, [0.5, 0.05, 6.0]), (SaVariant::Spotpy, [0.6, 0.04, 5.0])] {
            let rosen = testing::median((1..=5).map(|seed| run(rosenbrock, 10.0, 2, variant, seed, 2000)));
            let grie = testing::median((1..=5).map(|seed| run(griewank, 20.0, 2, variant, seed, 2000)));
            let ack = testing::median((1..=5).map(|seed| run(ackley, 32.768, 2, variant, seed, 2000)));
            let ok = rosen < limits[0] && grie < limits[1] && ack < limits[2];
            assert!(ok, "{variant:?}: rosenbrock {rosen}, griewank {grie}, ackley {ack}");
        }
    }

    #[test]
    fn starts_at_the_medians_and_cools_down_to_a_stop() {
        let space = testing::cube(2, 5.0);
        let options = SaOptions { t_ini: 1.0, n_temp: 3, alpha: 0.5, ..SaOptions::default() };
        let mut s = Sa::new(space, options, 1, 100).unwrap();
        let mut f = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, crate::samplers::driver::EvaluationError> {
            Ok(b.iter().map(|p| rosenbrock(&p.x)).collect())
        };
        let mut first = None;
        let out = search(&mut s, &mut f, 100, &mut |r| {
            first.get_or_insert_with(|| r.proposals[0].x.clone());
            Flow::Continue
        })
        .unwrap();
        assert_eq!(first.unwrap(), [0.0, 0.0]);
        // T = 1, 0.5, …, 2^-9 > 0.001 ≥ 2^-10: 10 levels of 3 after the start
        assert_eq!(out.evaluations, 31);
        assert!(matches!(out.termination, Termination::Method(_)));
        assert!((s.temperature() - 2f64.powi(-10)).abs() < 1e-15);
    }

    #[test]
    fn spotpy_variant_keeps_the_best_energy() {
        // a worse point passes the Boltzmann test (T huge): textbook compares the next with it,
        // spotpy still with the best energy
        for (variant, want) in [(SaVariant::Textbook, 5.0), (SaVariant::Spotpy, 1.0)] {
            let options = SaOptions { t_ini: 1e12, variant, ..SaOptions::default() };
            let mut s = Sa::new(testing::cube(2, 5.0), options, 1, 10).unwrap();
            s.ask(1).unwrap();
            s.tell(&[1.0]);
            s.ask(1).unwrap();
            s.tell(&[5.0]);
            assert_eq!(s.current.as_ref().unwrap().1, want, "{variant:?}");
        }
    }

    #[test]
    fn reproducible_bounded_and_on_budget() {
        let space = testing::cube(3, 2.0);
        let trace = |seed| {
            let options = SaOptions { step: Some(0.8), ..SaOptions::default() };
            let mut s = Sa::new(space.clone(), options, seed, 500).unwrap();
            testing::trace(&mut s, rosenbrock, 500)
        };
        let (a, b, c) = (trace(1), trace(1), trace(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 500);
        assert_within(&space, &a);
    }

    #[test]
    fn invalid_options_name_their_key() {
        let space = testing::cube(2, 1.0);
        let err = |o: SaOptions| Sa::new(space.clone(), o, 0, 10).unwrap_err();
        assert!(err(SaOptions { t_ini: 0.0, ..SaOptions::default() }).starts_with("t_ini:"));
        assert!(err(SaOptions { n_temp: 0, ..SaOptions::default() }).starts_with("n_temp:"));
        assert!(err(SaOptions { alpha: 1.0, ..SaOptions::default() }).starts_with("alpha:"));
        assert!(err(SaOptions { x0: Some(vec![0.0]), ..SaOptions::default() }).starts_with("x0:"));
        assert!(err(SaOptions { x0: Some(vec![0.0, 3.0]), ..SaOptions::default() }).starts_with("x0:"));
        let parsed: SaOptions = toml::from_str("t_ini = 10.0\nx0 = [0.5, 0.5]\nvariant = \"spotpy\"").unwrap();
        assert_eq!(parsed.x0, Some(vec![0.5, 0.5]));
        assert_eq!(parsed.variant, SaVariant::Spotpy);
        assert!(toml::from_str::<SaOptions>("Tini = 4.0").unwrap_err().to_string().contains("Tini"));
    }
}
