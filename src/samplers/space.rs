//! The searched space: named parameters, each with its bounds and prior.

use super::prior::Prior;
use super::random::LegacyRandom;

/// One searched parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The model's name (`cp`, `ct`, ... or `cp-zone2` for a zone of a distributed control).
    pub name: String,
    pub prior: Prior,
}

/// The parameters of a search, in the order of every point's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct Space {
    pub parameters: Vec<Parameter>,
}

impl Space {
    /// Uniform priors on `bounds`, named `names`.
    pub fn uniform(names: &[&str], bounds: &[(f64, f64)]) -> Space {
        let parameters = names
            .iter()
            .zip(bounds)
            .map(|(n, &(l, u))| Parameter { name: n.to_string(), prior: Prior::uniform(l, u) })
            .collect();
        Space { parameters }
    }

    /// Number of parameters.
    pub fn dim(&self) -> usize {
        self.parameters.len()
    }

    pub fn lower(&self, i: usize) -> f64 {
        self.parameters[i].prior.lower
    }

    pub fn upper(&self, i: usize) -> f64 {
        self.parameters[i].prior.upper
    }

    /// `upper − lower` of parameter `i`.
    pub fn width(&self, i: usize) -> f64 {
        self.upper(i) - self.lower(i)
    }

    /// One draw from the priors (one uniform number per parameter, in order).
    pub fn sample(&self, rng: &mut LegacyRandom) -> Vec<f64> {
        self.parameters.iter().map(|p| p.prior.sample(rng)).collect()
    }

    /// One uniform draw in the bounds (one uniform number per parameter, in order).
    pub fn sample_uniform(&self, rng: &mut LegacyRandom) -> Vec<f64> {
        (0..self.dim()).map(|i| rng.uniform(self.lower(i), self.upper(i))).collect()
    }

    /// Clamps `x` into the bounds.
    pub fn clip(&self, x: &mut [f64]) {
        for (i, v) in x.iter_mut().enumerate() {
            *v = v.clamp(self.lower(i), self.upper(i));
        }
    }

    /// Reflects `x` at the bounds once (`lo + (lo − x)`, `hi − (x − hi)`), then clamps what is still out.
    pub fn reflect(&self, x: &mut [f64]) {
        for (i, v) in x.iter_mut().enumerate() {
            let (lo, hi) = (self.lower(i), self.upper(i));
            if *v < lo {
                *v = lo + (lo - *v);
            } else if *v > hi {
                *v = hi - (*v - hi);
            }
            *v = v.clamp(lo, hi);
        }
    }

    /// Whether every coordinate is within its bounds.
    pub fn contains(&self, x: &[f64]) -> bool {
        x.iter().enumerate().all(|(i, v)| (self.lower(i)..=self.upper(i)).contains(v))
    }

    /// The sum of the priors' log densities at `x` (up to a constant; `-inf` outside the bounds).
    pub fn ln_prior(&self, x: &[f64]) -> f64 {
        self.parameters.iter().zip(x).map(|(p, &v)| p.prior.ln_density(v)).sum()
    }

    /// `x` mapped to `[0, 1]ⁿ` by the bounds.
    pub fn to_unit(&self, x: &[f64]) -> Vec<f64> {
        x.iter().enumerate().map(|(i, v)| (v - self.lower(i)) / self.width(i)).collect()
    }

    /// `u ∈ [0, 1]ⁿ` mapped to the bounds.
    pub fn from_unit(&self, u: &[f64]) -> Vec<f64> {
        u.iter().enumerate().map(|(i, v)| self.lower(i) + v * self.width(i)).collect()
    }
}
