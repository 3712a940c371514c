//! Prior distributions of the sampled parameters, always truncated to the parameter's bounds (a model
//! parameter outside its bounds is not feasible): uniform, normal and lognormal.
//!
//! Draws use the inverse CDF on `[F(lower), F(upper)]`, so a seed gives the same values whatever the
//! truncation, and one uniform number is consumed per draw.

use super::random::LegacyRandom;

/// The shape of a prior before truncation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// Uniform between the bounds.
    Uniform,
    /// Normal with mean `mean` and standard deviation `sd` (same unit as the parameter).
    Normal { mean: f64, sd: f64 },
    /// Lognormal: `ln x ~ N(mu, sigma)`; needs `lower ≥ 0`.
    LogNormal { mu: f64, sigma: f64 },
}

/// A distribution truncated to `[lower, upper]` (finite, `lower < upper`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    pub distribution: Distribution,
    pub lower: f64,
    pub upper: f64,
}

impl Prior {
    /// Uniform on `[lower, upper]`.
    pub fn uniform(lower: f64, upper: f64) -> Prior {
        Prior { distribution: Distribution::Uniform, lower, upper }
    }

    /// Why the prior is not usable, if it is not.
    pub fn check(&self) -> Result<(), String> {
        if !(self.lower.is_finite() && self.upper.is_finite() && self.lower < self.upper) {
            return Err(format!("bounds [{}, {}] must be finite with lower < upper", self.lower, self.upper));
        }
        match self.distribution {
            Distribution::Uniform => Ok(()),
            Distribution::Normal { mean, sd } if mean.is_finite() && sd > 0.0 && sd.is_finite() => Ok(()),
            Distribution::Normal { mean, sd } => {
                Err(format!("normal prior needs a finite mean and sd > 0 (got {mean}, {sd})"))
            }
            Distribution::LogNormal { .. } if self.lower < 0.0 => {
                Err(format!("lognormal prior needs lower ≥ 0 (got {})", self.lower))
            }
            Distribution::LogNormal { mu, sigma } if mu.is_finite() && sigma > 0.0 && sigma.is_finite() => Ok(()),
            Distribution::LogNormal { mu, sigma } => {
                Err(format!("lognormal prior needs a finite mu and sigma > 0 (got {mu}, {sigma})"))
            }
        }
    }

    /// The standard-normal coordinate of `x` (normal and lognormal).
    fn z(&self, x: f64) -> f64 {
        match self.distribution {
            Distribution::Uniform => unreachable!("uniform priors have no z"),
            Distribution::Normal { mean, sd } => (x - mean) / sd,
            Distribution::LogNormal { mu, sigma } => {
                if x <= 0.0 {
                    f64::NEG_INFINITY
                } else {
                    (x.ln() - mu) / sigma
                }
            }
        }
    }

    fn value_at_z(&self, z: f64) -> f64 {
        match self.distribution {
            Distribution::Uniform => unreachable!("uniform priors have no z"),
            Distribution::Normal { mean, sd } => mean + sd * z,
            Distribution::LogNormal { mu, sigma } => (mu + sigma * z).exp(),
        }
    }

    /// The quantile of probability `u ∈ [0, 1]` of the truncated distribution.
    pub fn quantile(&self, u: f64) -> f64 {
        let x = match self.distribution {
            Distribution::Uniform => self.lower + u * (self.upper - self.lower),
            _ => {
                let (za, zb) = (self.z(self.lower), self.z(self.upper));
                // work in the tail that keeps precision: the upper tail through the survival function
                let z = if za > 0.0 {
                    let (sa, sb) = (normal_sf(za), normal_sf(zb));
                    -normal_quantile(sa - u * (sa - sb))
                } else {
                    let (fa, fb) = (normal_cdf(za), normal_cdf(zb));
                    normal_quantile(fa + u * (fb - fa))
                };
                self.value_at_z(z)
            }
        };
        x.clamp(self.lower, self.upper)
    }

    /// One draw (one uniform number from `rng`).
    pub fn sample(&self, rng: &mut LegacyRandom) -> f64 {
        self.quantile(rng.random_sample())
    }

    /// The log density at `x` up to a constant; `-inf` outside the bounds.
    pub fn ln_density(&self, x: f64) -> f64 {
        if !(self.lower..=self.upper).contains(&x) {
            return f64::NEG_INFINITY;
        }
        match self.distribution {
            Distribution::Uniform => 0.0,
            Distribution::Normal { .. } => -0.5 * self.z(x).powi(2),
            Distribution::LogNormal { sigma, .. } => {
                if x <= 0.0 {
                    f64::NEG_INFINITY
                } else {
                    -0.5 * self.z(x).powi(2) - x.ln() - sigma.ln()
                }
            }
        }
    }
}

/// Φ(z).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// 1 − Φ(z), accurate in the upper tail.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Φ⁻¹(p) by Wichura's AS 241 (`PPND16`, relative error about 1e-16).
pub fn normal_quantile(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q * poly(&A, r) / poly(&B, r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let value = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    if q < 0.0 { -value } else { value }
}

fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &k| acc * x + k)
}

// AS 241's published 16-digit coefficients, kept as printed
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    3.387_132_872_796_366_5,
    133.141_667_891_784_38,
    1_971.590_950_306_551_3,
    13_731.693_765_509_461,
    45_921.953_931_549_87,
    67_265.770_927_008_7,
    33_430.575_583_588_13,
    2_509.080_928_730_122_7,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    1.0,
    42.313_330_701_600_91,
    687.187_007_492_057_9,
    5_394.196_021_424_751,
    21_213.794_301_586_597,
    39_307.895_800_092_71,
    28_729.085_735_721_943,
    5_226.495_278_852_545,
];
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    1.423_437_110_749_683_5,
    4.630_337_846_156_546,
    5.769_497_221_460_691,
    3.647_848_324_763_204_5,
    1.270_458_252_452_368_4,
    0.241_780_725_177_450_6,
    0.022_723_844_989_269_184,
    7.745_450_142_783_414e-4,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_759,
    1.676_384_830_183_803_8,
    0.689_767_334_985_100_1,
    0.148_103_976_427_480_08,
    0.015_198_666_563_616_457,
    5.475_938_084_995_345e-4,
    1.050_750_071_644_416_9e-9,
];
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    6.657_904_643_501_103,
    5.463_784_911_164_114,
    1.784_826_539_917_291_3,
    0.296_560_571_828_504_9,
    0.026_532_189_526_576_124,
    0.001_242_660_947_388_078_4,
    2.711_555_568_743_487_6e-5,
    2.010_334_399_292_288e-7,
];
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    1.0,
    0.599_832_206_555_888,
    0.136_929_880_922_735_8,
    0.014_875_361_290_850_615,
    7.868_691_311_456_133e-4,
    1.846_318_317_510_054_8e-5,
    1.421_511_758_316_446e-7,
    2.044_263_103_389_939_7e-15,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_inverts_the_cdf() {
        for &p in &[1e-300, 1e-12, 0.001, 0.02425, 0.3, 0.5, 0.7, 0.975, 1.0 - 1e-12] {
            let z = normal_quantile(p);
            assert!((normal_cdf(z) - p).abs() <= 1e-14 * p.max(1e-2), "p {p}: z {z}, Φ(z) {}", normal_cdf(z));
        }
        // scipy.stats.norm.ppf(0.975) = 1.959963984540054
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-14);
    }

    #[test]
    fn truncated_normal_stays_inside_and_follows_its_law() {
        let prior = Prior { distribution: Distribution::Normal { mean: 0.0, sd: 1.0 }, lower: -1.0, upper: 2.0 };
        let mut rng = LegacyRandom::new(3);
        let draws: Vec<f64> = (0..100_000).map(|_| prior.sample(&mut rng)).collect();
        assert!(draws.iter().all(|x| (-1.0..=2.0).contains(x)));
        // mean of N(0,1) truncated to [-1, 2]: (φ(-1) − φ(2)) / (Φ(2) − Φ(-1)) = 0.22934...
        let phi = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let expected = (phi(-1.0) - phi(2.0)) / (normal_cdf(2.0) - normal_cdf(-1.0));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - expected).abs() < 0.01, "mean {mean} vs {expected}");
    }

    #[test]
    fn far_tail_truncation_keeps_precision() {
        let prior = Prior { distribution: Distribution::Normal { mean: 0.0, sd: 1.0 }, lower: 9.0, upper: 10.0 };
        for u in [0.0, 0.3, 0.999] {
            let x = prior.quantile(u);
            assert!((9.0..=10.0).contains(&x) && x.is_finite(), "{u} → {x}");
        }
        assert!(prior.quantile(0.5) > 9.0 && prior.quantile(0.5) < 9.2);
    }

    #[test]
    fn lognormal_median_is_exp_mu() {
        let prior = Prior { distribution: Distribution::LogNormal { mu: 2.0, sigma: 0.5 }, lower: 0.0, upper: 1e9 };
        assert!((prior.quantile(0.5) - 2f64.exp()).abs() < 1e-9);
        assert!(prior.check().is_ok());
        let bad = Prior { lower: -1.0, ..prior };
        assert!(bad.check().unwrap_err().contains("lower ≥ 0"));
    }
}
