//! SPOTPY 1.6.7's likelihoods (`spotpy/likelihoods.py`, `shared/spec/samplers.md` §2.1), in f64: log-likelihoods
//! and informal likelihoods of the residuals `e_t = obs_t − sim_t`, all to be **maximised**.
//!
//! Each function takes `(obs, sim)` and, where SPOTPY does, the measurement errors `σ_t` (`measerror`, default
//! `0.1·obs`: negative where obs is). Formulas, operation order and NaN handling are SPOTPY's (see each
//! function), with these deterministic rules where SPOTPY raises, draws random numbers or fails on NumPy 2:
//! - NaN when the lengths differ or the series are empty (SPOTPY raises `LikelihoodError`), and when
//!   `measerror` is not as long as `obs`;
//! - NaN when some `σ_t = 0` (SPOTPY replaces those by `U(0.01, 0.1)` draws and warns): pass a positive
//!   `measerror` for series with zero observations;
//! - the AR(1) likelihoods take `phi` explicitly (SPOTPY draws a random φ for `LikelihoodAR1NoC` without
//!   params; [`ar1_coefficient`] gives the φ `LikelihoodAR1WithC` uses without params), NaN unless |φ| < 1;
//! - NaN where SPOTPY returns `np.NAN`, which raises `AttributeError` on NumPy 2 (invalid φ, zero variances).
//!
//! The generalized (Schoups & Vrugt 2010) and skewed-Student likelihoods are not ported (the latter returns
//! `ln` of a negative number, i.e. NaN, in SPOTPY).

use std::borrow::Cow;
use std::f64::consts::PI;

use crate::samplers::objectives::{np_mean, np_nanmean, np_nansum, np_nanvar, np_sum};

/// SPOTPY's shaping factor `G` of the informal likelihoods (`DREAMPar`'s default).
pub const DEFAULT_G: f64 = 10.0;

/// True when SPOTPY's `__standartChecksBeforeStart` passes: same, non-zero length.
fn valid(obs: &[f64], sim: &[f64]) -> bool {
    !obs.is_empty() && obs.len() == sim.len()
}

/// σ_t (`measerror`, or `0.1·obs`), or None where SPOTPY raises (lengths) or jitters (a zero σ_t).
fn sigmas<'a>(obs: &[f64], sim: &[f64], measerror: Option<&'a [f64]>) -> Option<Cow<'a, [f64]>> {
    let sigma: Cow<[f64]> = match measerror {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(obs.iter().map(|o| o * 0.1).collect()),
    };
    (valid(obs, sim) && sigma.len() == obs.len() && !sigma.contains(&0.0)).then_some(sigma)
}

/// `−n/2·ln 2π − nansum(ln σ_t) − ½Σ(e_t/σ_t)²`, the Gaussian log-likelihood with known errors (Vrugt 2016,
/// eq. 8; SPOTPY's `logLikelihood`). NaN residuals propagate; a NaN or negative σ_t drops out of the log sum.
pub fn gaussian_log_likelihood(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    let n = obs.len();
    -(n as f64) / 2.0 * (2.0 * PI).ln()
        - np_nansum(n, &|i| sig[i].ln())
        - 0.5 * np_sum(n, &|i| ((obs[i] - sim[i]) / sig[i]).powi(2))
}

/// `−n/2·ln Σe_t²`, the Gaussian likelihood with the error variance integrated out (SPOTPY's
/// `gaussianLikelihoodMeasErrorOut`, the DREAM tutorial default). NaN propagates.
pub fn gaussian_meas_error_out(obs: &[f64], sim: &[f64]) -> f64 {
    if !valid(obs, sim) {
        return f64::NAN;
    }
    let n = obs.len();
    -(n as f64) / 2.0 * np_sum(n, &|i| (obs[i] - sim[i]).powi(2)).ln()
}

/// `−Σ N(e_t; 0, σ_t)`: minus a *sum of densities*, not of log-densities, as SPOTPY's
/// `gaussianLikelihoodHomoHeteroDataError` computes it. NaN propagates.
pub fn gaussian_homo_hetero_data_error(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    -np_sum(obs.len(), &|i| {
        1.0 / (2.0 * PI * sig[i].powi(2)).sqrt() * (-0.5 * ((obs[i] - sim[i]) / sig[i]).powi(2)).exp()
    })
}

/// `−Σln(2|σ_t|) − Σ|e_t|/σ_t`, the Laplace log-likelihood (SPOTPY's `LaplacianLikelihood`). NaN propagates.
pub fn laplacian_likelihood(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    let n = obs.len();
    -np_sum(n, &|i| (2.0 * sig[i].abs()).ln()) - np_sum(n, &|i| (obs[i] - sim[i]).abs() / sig[i])
}

/// Lag-1 autocorrelation `γ(1)/γ(0)` of `data`, `γ(h) = Σ(x_{t+h} − x̄)(x_t − x̄)/n` (SPOTPY's
/// `TimeSeries.AR_1_Coeff`): the φ of `LikelihoodAR1WithC` called without params. NaN propagates.
pub fn ar1_coefficient(data: &[f64]) -> f64 {
    let n = data.len();
    let m = np_mean(n, &|i| data[i]);
    let acf = |lag: usize| np_sum(n - lag, &|i| (data[i + lag] - m) * (data[i] - m)) / n as f64;
    if n == 0 { f64::NAN } else { acf(1) / acf(0) }
}

/// SPOTPY's `LikelihoodAR1WithC`: the **negated** Gaussian log-likelihood of AR(1) residuals
/// `e_t = c + φe_{t−1} + η_t`, `c = nanmean(obs)(1 − φ)`, the first term with variance `σ_1²/(1 − φ²)` and mean
/// `c/(1 − φ)`. As SPOTPY, a larger value is a *worse* AR(1) fit although SPOTPY maximises it. NaN unless
/// |φ| < 1; NaN residuals propagate.
pub fn ar1_with_c(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>, phi: f64) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    if phi.is_nan() || phi.abs() >= 1.0 {
        return f64::NAN;
    }
    let n = obs.len();
    let e = |i: usize| obs[i] - sim[i];
    let c = np_nanmean(n, &|i| obs[i]) * (1.0 - phi);
    let sum_1 = np_sum(n - 1, &|i| sig[i + 1].ln());
    let sum_2 = np_sum(n - 1, &|i| ((e(i + 1) - c - phi * e(i)) / sig[i + 1]).powi(2));
    let var_1 = sig[0].powi(2) / (1.0 - phi.powi(2));
    -(-(n as f64 / 2.0) * (2.0 * PI).ln()
        - 0.5 * var_1.ln()
        - (e(0) - c / (1.0 - phi)).powi(2) / (2.0 * sig[0].powi(2) / (1.0 - phi.powi(2)))
        - sum_1
        - 0.5 * sum_2)
}

/// SPOTPY's `LikelihoodAR1NoC`: [`ar1_with_c`] with `c = 0`, i.e. the negated
/// `−n/2·ln 2π + ½ln(1 − φ²) − ½(1 − φ²)e_1²/σ_1² − Σ_{t≥2}ln σ_t − ½Σ_{t≥2}((e_t − φe_{t−1})/σ_t)²`.
/// NaN unless |φ| < 1 (SPOTPY draws φ at random when it is not given).
pub fn ar1_no_c(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>, phi: f64) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    if phi.is_nan() || phi.abs() >= 1.0 {
        return f64::NAN;
    }
    let n = obs.len();
    let e = |i: usize| obs[i] - sim[i];
    let sum_1 = np_sum(n - 1, &|i| sig[i + 1].ln());
    let sum_2 = np_sum(n - 1, &|i| ((e(i + 1) - phi * e(i)) / sig[i + 1]).powi(2));
    -(-(n as f64 / 2.0) * (2.0 * PI).ln() + 0.5 * (1.0 - phi.powi(2)).ln()
        - 0.5 * (1.0 - phi.powi(2)) * (1.0 / sig[0].powi(2)) * e(0).powi(2)
        - sum_1
        - 0.5 * sum_2)
}

/// `−m/2·ln 2π − m·ln σ̄ − √(Σ(e_t/σ_t)²)/(2σ̄²)` with `σ̄ = mean(σ_t)` (SPOTPY's `NoisyABCGaussianLikelihood`,
/// a Euclidean distance in place of Prangle's). NaN if `σ̄ = 0`; NaN propagates.
pub fn noisy_abc_gaussian_likelihood(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    let m = obs.len();
    let mean_sigma = np_mean(m, &|i| sig[i]);
    if mean_sigma == 0.0 {
        return f64::NAN;
    }
    let distance = np_sum(m, &|i| ((obs[i] - sim[i]) / sig[i]).powi(2)).sqrt();
    -(m as f64) / 2.0 * (2.0 * PI).ln() - m as f64 * mean_sigma.ln() - 0.5 / mean_sigma.powi(2) * distance
}

/// `min_t(σ_t − |e_t/σ_t|)`, the ABC boxcar likelihood (SPOTPY's `ABCBoxcarLikelihood`). NaN propagates.
pub fn abc_boxcar_likelihood(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    (0..obs.len())
        .map(|i| sig[i] - ((obs[i] - sim[i]) / sig[i]).powi(2).sqrt())
        .fold(f64::INFINITY, |a, v| if a.is_nan() || v.is_nan() { f64::NAN } else { a.min(v) })
}

/// `#{t : |e_t/σ_t| ≤ σ_t}`, the GLUE limits of acceptability count (SPOTPY's `LimitsOfAcceptability`; σ_t
/// bounds the *scaled* residual, as SPOTPY). NaN terms do not count.
pub fn limits_of_acceptability(obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
    let Some(sig) = sigmas(obs, sim, measerror) else { return f64::NAN };
    (0..obs.len()).filter(|&i| ((obs[i] - sim[i]) / sig[i]).abs() <= sig[i]).count() as f64
}

/// `−G·(ln nanvar e)³` (SPOTPY's `InverseErrorVarianceShapingFactor`; its docstring says `−G·ln var`). NaN when
/// the variance is 0.
pub fn inverse_error_variance_shaping_factor(obs: &[f64], sim: &[f64], g: f64) -> f64 {
    if !valid(obs, sim) {
        return f64::NAN;
    }
    let var = np_nanvar(obs.len(), &|i| obs[i] - sim[i]);
    if var == 0.0 { f64::NAN } else { -g * var.ln().powi(3) }
}

/// `G·ln(1 − nanvar(e)/nanvar(obs))` (SPOTPY's `NashSutcliffeEfficiencyShapingFactor`). NaN when `nanvar(obs)`
/// is 0 or the ratio exceeds 1.
pub fn nse_shaping_factor(obs: &[f64], sim: &[f64], g: f64) -> f64 {
    if !valid(obs, sim) {
        return f64::NAN;
    }
    let var_obs = np_nanvar(obs.len(), &|i| obs[i]);
    let ratio = np_nanvar(obs.len(), &|i| obs[i] - sim[i]) / var_obs;
    if var_obs == 0.0 || ratio > 1.0 { f64::NAN } else { g * (1.0 - ratio).ln() }
}

/// `−G·nanvar(e)` (SPOTPY's `ExponentialTransformErrVarShapingFactor`).
pub fn exponential_transform_err_var_shaping_factor(obs: &[f64], sim: &[f64], g: f64) -> f64 {
    if !valid(obs, sim) {
        return f64::NAN;
    }
    -g * np_nanvar(obs.len(), &|i| obs[i] - sim[i])
}

/// `−ln Σ|e_t|` (SPOTPY's `sumOfAbsoluteErrorResiduals`). NaN propagates.
pub fn sum_of_absolute_error_residuals(obs: &[f64], sim: &[f64]) -> f64 {
    if !valid(obs, sim) {
        return f64::NAN;
    }
    -np_sum(obs.len(), &|i| (obs[i] - sim[i]).abs()).ln()
}

/// One of the likelihoods, chosen by name, with its parameters (φ, G).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Likelihood {
    GaussianLogLikelihood,
    GaussianMeasErrorOut,
    GaussianHomoHeteroDataError,
    Laplacian,
    Ar1WithC { phi: f64 },
    Ar1NoC { phi: f64 },
    NoisyAbcGaussian,
    AbcBoxcar,
    LimitsOfAcceptability,
    InverseErrorVarianceShapingFactor { g: f64 },
    NseShapingFactor { g: f64 },
    ExponentialTransformErrVarShapingFactor { g: f64 },
    SumOfAbsoluteErrorResiduals,
}

/// (our name, SPOTPY's name), in the order of [`Likelihood::variants`].
const TABLE: [(&str, &str); 13] = [
    ("gaussian_log_likelihood", "logLikelihood"),
    ("gaussian_meas_error_out", "gaussianLikelihoodMeasErrorOut"),
    ("gaussian_homo_hetero_data_error", "gaussianLikelihoodHomoHeteroDataError"),
    ("laplacian_likelihood", "LaplacianLikelihood"),
    ("ar1_with_c", "LikelihoodAR1WithC"),
    ("ar1_no_c", "LikelihoodAR1NoC"),
    ("noisy_abc_gaussian_likelihood", "NoisyABCGaussianLikelihood"),
    ("abc_boxcar_likelihood", "ABCBoxcarLikelihood"),
    ("limits_of_acceptability", "LimitsOfAcceptability"),
    ("inverse_error_variance_shaping_factor", "InverseErrorVarianceShapingFactor"),
    ("nse_shaping_factor", "NashSutcliffeEfficiencyShapingFactor"),
    ("exponential_transform_err_var_shaping_factor", "ExponentialTransformErrVarShapingFactor"),
    ("sum_of_absolute_error_residuals", "sumOfAbsoluteErrorResiduals"),
];

impl Likelihood {
    /// The names [`from_name`](Self::from_name) accepts, which also takes SPOTPY's (`logLikelihood`, …).
    pub const NAMES: [&'static str; 13] = {
        let mut names = [""; 13];
        let mut i = 0;
        while i < 13 {
            names[i] = TABLE[i].0;
            i += 1;
        }
        names
    };

    /// Every variant, with φ and G as given.
    fn variants(phi: f64, g: f64) -> [Likelihood; 13] {
        use Likelihood::*;
        [
            GaussianLogLikelihood,
            GaussianMeasErrorOut,
            GaussianHomoHeteroDataError,
            Laplacian,
            Ar1WithC { phi },
            Ar1NoC { phi },
            NoisyAbcGaussian,
            AbcBoxcar,
            LimitsOfAcceptability,
            InverseErrorVarianceShapingFactor { g },
            NseShapingFactor { g },
            ExponentialTransformErrVarShapingFactor { g },
            SumOfAbsoluteErrorResiduals,
        ]
    }

    /// The likelihood called `name` (ours or SPOTPY's), with `G` = [`DEFAULT_G`] for the shaping factors and
    /// `phi` for the AR(1) ones.
    ///
    /// # Errors
    /// An unknown name; `phi` missing for an AR(1) likelihood, outside (−1, 1), or given to another one.
    pub fn from_name(name: &str, phi: Option<f64>) -> Result<Self, String> {
        let index = TABLE
            .iter()
            .position(|(ours, spotpy)| name == *ours || name == *spotpy)
            .ok_or_else(|| format!("unknown likelihood '{name}' (one of: {})", Self::NAMES.join(", ")))?;
        let likelihood = Self::variants(phi.unwrap_or(0.0), DEFAULT_G)[index];
        let ar1 = matches!(likelihood, Likelihood::Ar1WithC { .. } | Likelihood::Ar1NoC { .. });
        match phi {
            None if ar1 => Err(format!("phi: '{name}' needs the AR(1) coefficient phi in (-1, 1)")),
            Some(_) if !ar1 => Err(format!("phi: only the AR(1) likelihoods take phi, not '{name}'")),
            Some(p) if p.is_nan() || p.abs() >= 1.0 => Err(format!("phi: must lie in (-1, 1), got {p}")),
            _ => Ok(likelihood),
        }
    }

    /// Our name and SPOTPY's.
    pub fn names(&self) -> (&'static str, &'static str) {
        let same = |v: &Likelihood| std::mem::discriminant(v) == std::mem::discriminant(self);
        TABLE[Self::variants(0.0, 0.0).iter().position(same).expect("every variant is listed")]
    }

    /// Whether SPOTPY's function takes measurement errors (`measerror`).
    pub fn takes_measerror(&self) -> bool {
        use Likelihood::*;
        !matches!(
            self,
            GaussianMeasErrorOut
                | InverseErrorVarianceShapingFactor { .. }
                | NseShapingFactor { .. }
                | ExponentialTransformErrVarShapingFactor { .. }
                | SumOfAbsoluteErrorResiduals
        )
    }

    /// The (log-)likelihood to maximise. `measerror` (σ_t, default `0.1·obs`) is ignored by the likelihoods
    /// that take none in SPOTPY (see [`takes_measerror`](Self::takes_measerror)).
    pub fn evaluate(&self, obs: &[f64], sim: &[f64], measerror: Option<&[f64]>) -> f64 {
        use Likelihood::*;
        match *self {
            GaussianLogLikelihood => gaussian_log_likelihood(obs, sim, measerror),
            GaussianMeasErrorOut => gaussian_meas_error_out(obs, sim),
            GaussianHomoHeteroDataError => gaussian_homo_hetero_data_error(obs, sim, measerror),
            Laplacian => laplacian_likelihood(obs, sim, measerror),
            Ar1WithC { phi } => ar1_with_c(obs, sim, measerror, phi),
            Ar1NoC { phi } => ar1_no_c(obs, sim, measerror, phi),
            NoisyAbcGaussian => noisy_abc_gaussian_likelihood(obs, sim, measerror),
            AbcBoxcar => abc_boxcar_likelihood(obs, sim, measerror),
            LimitsOfAcceptability => limits_of_acceptability(obs, sim, measerror),
            InverseErrorVarianceShapingFactor { g } => inverse_error_variance_shaping_factor(obs, sim, g),
            NseShapingFactor { g } => nse_shaping_factor(obs, sim, g),
            ExponentialTransformErrVarShapingFactor { g } => exponential_transform_err_var_shaping_factor(obs, sim, g),
            SumOfAbsoluteErrorResiduals => sum_of_absolute_error_residuals(obs, sim),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBS: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    const SIM: [f64; 6] = [1.5, 1.8, 3.3, 3.6, 5.4, 7.0];

    fn close(actual: f64, expected: f64, tol: f64) {
        assert!((actual - expected).abs() <= tol * expected.abs().max(1.0), "{actual} != {expected} (tolerance {tol})");
    }

    #[test]
    fn golden_values_with_default_measurement_error() {
        let (o, s) = (&OBS[..], &SIM[..]);
        close(gaussian_log_likelihood(o, s, None), -13.98626074216275, 1e-14);
        close(gaussian_meas_error_out(o, s), -1.59188475318651, 1e-14);
        close(laplacian_likelihood(o, s, None), -7.38929040407217, 1e-14);
        close(noisy_abc_gaussian_likelihood(o, s, None), -22.0928876613352, 1e-14);
        close(abc_boxcar_likelihood(o, s, None), -4.9, 1e-14);
        assert_eq!(limits_of_acceptability(o, s, None), 0.0);
        close(inverse_error_variance_shaping_factor(o, s, DEFAULT_G), 37.2474959247413, 1e-14);
        close(nse_shaping_factor(o, s, DEFAULT_G), -0.75544901478252, 1e-13);
        close(exponential_transform_err_var_shaping_factor(o, s, DEFAULT_G), -2.12222222222222, 1e-14);
        close(sum_of_absolute_error_residuals(o, s), -1.02961941718116, 1e-14);
    }

    #[test]
    fn golden_values_of_the_ar1_and_density_likelihoods() {
        // SPOTPY 1.6.7: LikelihoodAR1WithC(obs, sim) (φ from the data), and with φ = 0.5 patched in.
        let (o, s) = (&OBS[..], &SIM[..]);
        close(ar1_coefficient(o), 0.5, 1e-15);
        close(ar1_with_c(o, s, None, ar1_coefficient(o)), 669.8030184450552, 1e-14);
        close(ar1_no_c(o, s, None, 0.5), 16.073138260271573, 1e-14);
        close(gaussian_homo_hetero_data_error(o, s, None), -3.366542719663414, 1e-14);
    }

    #[test]
    fn deterministic_rules_replace_spotpy_randomness_and_errors() {
        let (o, s) = (&OBS[..], &SIM[..]);
        let with_zero = [0.1, 0.0, 0.3, 0.4, 0.5, 0.6];
        for f in [gaussian_log_likelihood, laplacian_likelihood, abc_boxcar_likelihood, limits_of_acceptability] {
            assert!(f(o, s, Some(&with_zero)).is_nan());
            assert!(f(o, s, Some(&[0.1; 5])).is_nan());
            assert!(f(o, &s[..5], None).is_nan());
            assert!(f(&[], &[], None).is_nan());
            assert!(f(o, s, Some(&[0.1; 6])).is_finite());
        }
        assert!(ar1_no_c(o, s, None, 1.0).is_nan());
        assert!(ar1_with_c(o, s, None, -1.5).is_nan());
        assert!(ar1_no_c(o, s, None, f64::NAN).is_nan());
        assert!(noisy_abc_gaussian_likelihood(o, s, Some(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0])).is_nan());
        assert!(inverse_error_variance_shaping_factor(o, o, DEFAULT_G).is_nan());
        assert!(nse_shaping_factor(&[2.0; 6], s, DEFAULT_G).is_nan());
        assert!(nse_shaping_factor(o, &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0], DEFAULT_G).is_nan());
    }

    #[test]
    fn nan_handling_follows_spotpy() {
        let o = [1.0, f64::NAN, 3.0, 4.0];
        let s = [1.5, 2.0, 3.5, 3.0];
        // nanvar of e = [−0.5, NaN, −0.5, 1]: mean 0, variance 0.5.
        close(exponential_transform_err_var_shaping_factor(&o, &s, 10.0), -5.0, 1e-15);
        assert!(gaussian_log_likelihood(&o, &s, None).is_nan());
        assert!(sum_of_absolute_error_residuals(&o, &s).is_nan());
        // |e/σ| ≤ σ with σ = 1: the NaN residual does not count.
        assert_eq!(limits_of_acceptability(&o, &s, Some(&[1.0; 4])), 3.0);
    }

    #[test]
    fn names_round_trip() {
        for (i, name) in Likelihood::NAMES.iter().enumerate() {
            let phi = (i == 4 || i == 5).then_some(0.3);
            let l = Likelihood::from_name(name, phi).unwrap();
            assert_eq!(l.names().0, *name);
            assert_eq!(Likelihood::from_name(l.names().1, phi), Ok(l));
            assert_eq!(l.takes_measerror(), l.evaluate(&OBS, &SIM, Some(&[0.0; 6])).is_nan(), "{name}");
        }
        assert_eq!(Likelihood::from_name("LikelihoodAR1NoC", Some(0.5)), Ok(Likelihood::Ar1NoC { phi: 0.5 }));
        assert!(Likelihood::from_name("ar1_no_c", None).unwrap_err().starts_with("phi:"));
        assert!(Likelihood::from_name("ar1_no_c", Some(1.0)).unwrap_err().starts_with("phi:"));
        assert!(Likelihood::from_name("laplacian_likelihood", Some(0.5)).unwrap_err().starts_with("phi:"));
        assert!(Likelihood::from_name("gauss", None).unwrap_err().contains("sum_of_absolute_error_residuals"));
        let (o, s) = (&OBS[..], &SIM[..]);
        assert_eq!(Likelihood::Ar1NoC { phi: 0.5 }.evaluate(o, s, None), ar1_no_c(o, s, None, 0.5));
        assert_eq!(
            Likelihood::NseShapingFactor { g: DEFAULT_G }.evaluate(o, s, Some(&[1.0; 6])),
            nse_shaping_factor(o, s, DEFAULT_G)
        );
    }
}
