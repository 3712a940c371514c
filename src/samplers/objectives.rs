//! SPOTPY 1.6.7's objective functions (`spotpy/objectivefunctions.py`, `shared/spec/samplers.md` §2), in f64.
//!
//! Every function takes `(evaluation, simulation)`, observations first as in SPOTPY, and returns NaN when the
//! lengths differ. NaN handling follows SPOTPY function by function: where it calls `nansum`/`nanmean` the NaN
//! pairs are skipped (the count and the other sums still see them, see each function), everywhere else a NaN
//! propagates. σ is the population standard deviation (ddof 0). Where SPOTPY raises instead of returning a
//! value (`pbias` with `Σe = 0`, `lognse` and `kge_non_parametric` on empty series) these return NaN.
//!
//! Sums use numpy's pairwise summation order ([`np_sum`]), and Python's left-to-right `sum` where SPOTPY calls
//! the builtin (`lognse`), so results usually equal SPOTPY's to the last bit (`np.corrcoef` goes through BLAS,
//! whose order is not reproduced).
//!
//! Two SPOTPY details are kept on purpose: `pbias` is `100·Σ(s−e)/Σe` (the docstring shows the opposite sign)
//! and `kge_non_parametric` uses `nansum` in α as 1.6.7 does (≤1.6.6 used `nanmean`). One is not: with a NaN in
//! either series, SPOTPY's Spearman ranks come from Python sorting NaN keys (an artefact of timsort); ours is
//! NaN (the KGE itself is NaN either way, through β).
//!
//! [`SpotpyObjective`] names them for a config and turns each into a cost to minimise ([`SpotpyObjective::cost`]).

/// numpy's pairwise sum of `f(0..n)` (`pairwise_sum_DOUBLE`: blocks of 128 in 8 accumulators), so sums match
/// `np.sum` bit for bit.
pub(crate) fn np_sum(n: usize, f: &impl Fn(usize) -> f64) -> f64 {
    fn rec(lo: usize, n: usize, f: &impl Fn(usize) -> f64) -> f64 {
        if n < 8 {
            (lo..lo + n).fold(0.0, |acc, i| acc + f(i))
        } else if n <= 128 {
            let mut r: [f64; 8] = std::array::from_fn(|j| f(lo + j));
            let mut i = 8;
            while i < n - n % 8 {
                for (j, rj) in r.iter_mut().enumerate() {
                    *rj += f(lo + i + j);
                }
                i += 8;
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for k in i..n {
                res += f(lo + k);
            }
            res
        } else {
            let n2 = n / 2 - (n / 2) % 8;
            rec(lo, n2, f) + rec(lo + n2, n - n2, f)
        }
    }
    rec(0, n, f)
}

/// `np.nansum`: NaN terms count as 0 (in place, so the pairwise grouping is numpy's).
pub(crate) fn np_nansum(n: usize, f: &impl Fn(usize) -> f64) -> f64 {
    np_sum(n, &|i| {
        let v = f(i);
        if v.is_nan() { 0.0 } else { v }
    })
}

/// `np.mean` (NaN if empty or if any term is NaN).
pub(crate) fn np_mean(n: usize, f: &impl Fn(usize) -> f64) -> f64 {
    np_sum(n, f) / n as f64
}

/// `np.nanmean` (NaN if no term is a number).
pub(crate) fn np_nanmean(n: usize, f: &impl Fn(usize) -> f64) -> f64 {
    let count = (0..n).filter(|&i| !f(i).is_nan()).count();
    np_nansum(n, f) / count as f64
}

/// `np.std` with ddof 0.
pub(crate) fn np_std(x: &[f64]) -> f64 {
    let m = np_mean(x.len(), &|i| x[i]);
    (np_sum(x.len(), &|i| (x[i] - m) * (x[i] - m)) / x.len() as f64).sqrt()
}

/// `np.nanvar` with ddof 0 (NaN if no term is a number).
pub(crate) fn np_nanvar(n: usize, f: &impl Fn(usize) -> f64) -> f64 {
    let count = (0..n).filter(|&i| !f(i).is_nan()).count() as f64;
    let m = np_nansum(n, f) / count;
    np_nansum(n, &|i| (f(i) - m) * (f(i) - m)) / count
}

/// NaN if the lengths differ, else the value of `body`.
fn same_length(e: &[f64], s: &[f64], body: impl FnOnce() -> f64) -> f64 {
    if e.len() == s.len() { body() } else { f64::NAN }
}

/// Bias `nansum(e − s)/n` (Gupta et al. 1998); n counts the NaN pairs. Best 0.
pub fn bias(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || np_nansum(e.len(), &|i| e[i] - s[i]) / e.len() as f64)
}

/// Percent bias `100·nansum(s − e)/nansum(e)` (positive when the simulation is too large). Best 0.
/// NaN when `nansum(e) = 0` (SPOTPY raises `ZeroDivisionError`).
pub fn pbias(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let total = np_nansum(e.len(), &|i| e[i]);
        if total == 0.0 { f64::NAN } else { 100.0 * (np_nansum(e.len(), &|i| s[i] - e[i]) / total) }
    })
}

/// Nash–Sutcliffe efficiency `1 − nansum((e − s)²)/nansum((e − nanmean e)²)`. The denominator and the mean
/// keep the observations whose simulation is NaN. Best 1.
pub fn nse(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let m = np_nanmean(e.len(), &|i| e[i]);
        let numerator = np_nansum(e.len(), &|i| (e[i] - s[i]) * (e[i] - s[i]));
        let denominator = np_nansum(e.len(), &|i| (e[i] - m) * (e[i] - m));
        1.0 - numerator / denominator
    })
}

/// NSE of the logarithms, `1 − Σ(ln(s+ε) − ln(e+ε))²/Σ(ln(e+ε) − mean)²` (SPOTPY's `lognashsutcliffe`,
/// ε default 0). NaN propagates; a value ≤ 0 after adding ε gives `ln` = −∞ or NaN. Best 1.
pub fn lognse(evaluation: &[f64], simulation: &[f64], epsilon: f64) -> f64 {
    let (e, s) = (evaluation, simulation);
    if e.is_empty() || e.len() != s.len() {
        return f64::NAN;
    }
    let le: Vec<f64> = e.iter().map(|v| (v + epsilon).ln()).collect();
    let m = np_mean(le.len(), &|i| le[i]);
    // Python's builtin `sum`: left to right.
    let numerator = s.iter().zip(&le).fold(0.0, |acc, (v, l)| acc + ((v + epsilon).ln() - l).powi(2));
    let denominator = le.iter().fold(0.0, |acc, l| acc + (l - m) * (l - m));
    1.0 - numerator / denominator
}

/// Mean Gaussian log-density of the residuals, `mean(−y²/2 − ln√(2π))` with `y = (e − s)/scale` and
/// `scale = max(mean(e)/10, 0.01)` (NaN if `mean(e)` is NaN). Best (largest) `−ln√(2π)`.
pub fn log_p(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let mut scale = np_mean(e.len(), &|i| e[i]) / 10.0;
        if scale < 0.01 {
            scale = 0.01;
        }
        let c = (2.0 * std::f64::consts::PI).sqrt().ln();
        np_mean(e.len(), &|i| {
            let y = (e[i] - s[i]) / scale;
            -(y * y) / 2.0 - c
        })
    })
}

/// Pearson correlation as `np.corrcoef(e, s)[0, 1]`: covariances with ddof 1, clipped to [−1, 1]. NaN for
/// n < 2, a constant series or any NaN. Best 1.
pub fn correlation(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let n = e.len();
        let (me, ms) = (np_mean(n, &|i| e[i]), np_mean(n, &|i| s[i]));
        let k = 1.0 / (n as f64 - 1.0);
        let see = np_sum(n, &|i| (e[i] - me) * (e[i] - me)) * k;
        let sss = np_sum(n, &|i| (s[i] - ms) * (s[i] - ms)) * k;
        let ses = np_sum(n, &|i| (e[i] - me) * (s[i] - ms)) * k;
        (ses / see.sqrt() / sss.sqrt()).clamp(-1.0, 1.0)
    })
}

/// Coefficient of determination `r²` (the square of [`correlation`]). Best 1.
pub fn r2(evaluation: &[f64], simulation: &[f64]) -> f64 {
    correlation(evaluation, simulation).powi(2)
}

/// Mean squared error `nanmean((e − s)²)`. Best 0.
pub fn mse(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || np_nanmean(e.len(), &|i| (e[i] - s[i]) * (e[i] - s[i])))
}

/// Root mean squared error `√mse` (NaN when empty). Best 0.
pub fn rmse(evaluation: &[f64], simulation: &[f64]) -> f64 {
    if evaluation.is_empty() { f64::NAN } else { mse(evaluation, simulation).sqrt() }
}

/// Mean absolute error `mean|s − e|` (NaN propagates). Best 0.
pub fn mae(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || np_mean(e.len(), &|i| (s[i] - e[i]).abs()))
}

/// Relative RMSE `rmse/mean(e)` (`mean(e)` propagates NaN). Best 0 (assumes `mean(e) > 0`).
pub fn rrmse(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let e = evaluation;
    same_length(e, simulation, || rmse(e, simulation) / np_mean(e.len(), &|i| e[i]))
}

/// Willmott's (1981) index of agreement `d = 1 − Σ(e − s)²/Σ(|s − ē| + |e − ē|)²` (NaN propagates). Best 1.
pub fn agreement_index(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let m = np_mean(e.len(), &|i| e[i]);
        let numerator = np_sum(e.len(), &|i| (e[i] - s[i]) * (e[i] - s[i]));
        let denominator = np_sum(e.len(), &|i| ((s[i] - m).abs() + (e[i] - m).abs()).powi(2));
        1.0 - numerator / denominator
    })
}

/// Covariance `mean((e − ē)(s − s̄))` (ddof 0, NaN propagates). SPOTPY gives it no direction.
pub fn covariance(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let (me, ms) = (np_mean(e.len(), &|i| e[i]), np_mean(s.len(), &|i| s[i]));
        np_mean(e.len(), &|i| (e[i] - me) * (s[i] - ms))
    })
}

/// Kobayashi & Salam's (2000) decomposed MSE `bias² + (σe − σs)² + 2σeσs(1 − r)`, with [`bias`] (nansum) and
/// NaN-propagating σ and r. Best 0.
pub fn decomposed_mse(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || {
        let (se, ss) = (np_std(e), np_std(s));
        bias(e, s).powi(2) + (se - ss).powi(2) + 2.0 * se * ss * (1.0 - correlation(e, s))
    })
}

/// Kling–Gupta efficiency (Gupta et al. 2009), `1 − √((r−1)² + (α−1)² + (β−1)²)`. Best 1.
pub fn kge(evaluation: &[f64], simulation: &[f64]) -> f64 {
    kge_all(evaluation, simulation).0
}

/// [`kge`] with its parts `(kge, r, α, β)`: r Pearson, `α = σs/σe`, `β = Σs/Σe` (SPOTPY's `return_all=True`).
/// All NaN when the lengths differ.
pub fn kge_all(evaluation: &[f64], simulation: &[f64]) -> (f64, f64, f64, f64) {
    let (e, s) = (evaluation, simulation);
    if e.len() != s.len() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let r = correlation(e, s);
    let alpha = np_std(s) / np_std(e);
    let beta = np_sum(s.len(), &|i| s[i]) / np_sum(e.len(), &|i| e[i]);
    (kge_from_parts(r, alpha, beta), r, alpha, beta)
}

fn kge_from_parts(r: f64, alpha: f64, beta: f64) -> f64 {
    1.0 - ((r - 1.0).powi(2) + (alpha - 1.0).powi(2) + (beta - 1.0).powi(2)).sqrt()
}

/// Non-parametric KGE (Pool et al. 2018) as SPOTPY 1.6.7 computes it. Best 1.
pub fn kge_non_parametric(evaluation: &[f64], simulation: &[f64]) -> f64 {
    kge_non_parametric_all(evaluation, simulation).0
}

/// [`kge_non_parametric`] with its parts `(kge, r, α, β)`:
/// - r: Spearman's correlation of ordinal ranks. Ties in e are broken by position, ties in s by the rank of e
///   (Python's stable sorts, first by e, then by s). NaN if a value is NaN (see the module doc);
/// - α = `1 − ½·nansum|I_s − I_e|`, `I_x = sort(x/(nanmean(x)·n))` (NaN sorted last, as `np.sort`);
/// - β = `mean(s)/mean(e)` (NaN propagates).
pub fn kge_non_parametric_all(evaluation: &[f64], simulation: &[f64]) -> (f64, f64, f64, f64) {
    let (e, s) = (evaluation, simulation);
    let n = e.len();
    if n == 0 || n != s.len() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let r = spearman(e, s);
    let fdc = |x: &[f64]| {
        let scale = np_nanmean(n, &|i| x[i]) * n as f64;
        let mut v: Vec<f64> = x.iter().map(|xi| xi / scale).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())));
        v
    };
    let (fs, fe) = (fdc(s), fdc(e));
    let alpha = 1.0 - 0.5 * np_nansum(n, &|i| (fs[i] - fe[i]).abs());
    let beta = np_mean(n, &|i| s[i]) / np_mean(n, &|i| e[i]);
    (kge_from_parts(r, alpha, beta), r, alpha, beta)
}

/// SPOTPY's `_spearmann_corr` on NaN-free data (NaN otherwise).
fn spearman(x: &[f64], y: &[f64]) -> f64 {
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].partial_cmp(&x[b]).unwrap()); // stable: ties by position
    let mut rank_x = vec![0.0; n];
    for (rank, &i) in order.iter().enumerate() {
        rank_x[i] = (rank + 1) as f64;
    }
    order.sort_by(|&a, &b| y[a].partial_cmp(&y[b]).unwrap()); // stable: ties by rank of x
    // Row j of the y-sorted table has ranks (rank_x[order[j]], j + 1).
    let m = (n as f64 + 1.0) / 2.0;
    let numerator = np_nansum(n, &|j| (rank_x[order[j]] - m) * ((j + 1) as f64 - m));
    let d1 = np_nansum(n, &|j| (rank_x[order[j]] - m).powi(2)).sqrt();
    let d2 = np_nansum(n, &|j| ((j + 1) as f64 - m).powi(2)).sqrt();
    numerator / (d1 * d2)
}

/// RMSE-observations standard deviation ratio `rmse/σe` (Moriasi et al. 2007; σe propagates NaN). Best 0.
pub fn rsr(evaluation: &[f64], simulation: &[f64]) -> f64 {
    same_length(evaluation, simulation, || rmse(evaluation, simulation) / np_std(evaluation))
}

/// Volume error `Σ(s − e)/Σe` (Reynolds et al. 2017; NaN propagates). Best 0.
pub fn volume_error(evaluation: &[f64], simulation: &[f64]) -> f64 {
    let (e, s) = (evaluation, simulation);
    same_length(e, s, || np_sum(e.len(), &|i| s[i] - e[i]) / np_sum(e.len(), &|i| e[i]))
}

/// Which value of an objective function is best.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Minimize,
    Maximize,
    /// Best at 0, either sign equally bad (bias, pbias, volume error).
    ZeroBest,
}

/// One of SPOTPY's objective functions, chosen by name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SpotpyObjective {
    Bias,
    Pbias,
    Nse,
    LogNse { epsilon: f64 },
    LogP,
    Correlation,
    R2,
    Mse,
    Rmse,
    Mae,
    Rrmse,
    AgreementIndex,
    Covariance,
    DecomposedMse,
    Kge,
    KgeNonParametric,
    Rsr,
    VolumeError,
}

/// Every variant (`lognse` with ε = 0) with (our name, SPOTPY's name), in the order of [`SpotpyObjective::NAMES`].
const TABLE: [(SpotpyObjective, &str, &str); 18] = {
    use SpotpyObjective::*;
    [
        (Bias, "bias", "bias"),
        (Pbias, "pbias", "pbias"),
        (Nse, "nse", "nashsutcliffe"),
        (LogNse { epsilon: 0.0 }, "lognse", "lognashsutcliffe"),
        (LogP, "log_p", "log_p"),
        (Correlation, "correlation", "correlationcoefficient"),
        (R2, "r2", "rsquared"),
        (Mse, "mse", "mse"),
        (Rmse, "rmse", "rmse"),
        (Mae, "mae", "mae"),
        (Rrmse, "rrmse", "rrmse"),
        (AgreementIndex, "agreement_index", "agreementindex"),
        (Covariance, "covariance", "covariance"),
        (DecomposedMse, "decomposed_mse", "decomposed_mse"),
        (Kge, "kge", "kge"),
        (KgeNonParametric, "kge_non_parametric", "kge_non_parametric"),
        (Rsr, "rsr", "rsr"),
        (VolumeError, "volume_error", "volume_error"),
    ]
};

impl SpotpyObjective {
    /// The names [`from_name`](Self::from_name) accepts (it also takes SPOTPY's spellings: `nashsutcliffe`,
    /// `lognashsutcliffe`, `correlationcoefficient`, `rsquared`, `agreementindex`).
    pub const NAMES: [&'static str; 18] = {
        let mut names = [""; 18];
        let mut i = 0;
        while i < 18 {
            names[i] = TABLE[i].1;
            i += 1;
        }
        names
    };

    /// The function called `name`, ours or SPOTPY's (`lognse` with ε = 0).
    ///
    /// # Errors
    /// An unknown name, with the list of known ones.
    pub fn from_name(name: &str) -> Result<Self, String> {
        TABLE
            .iter()
            .find(|(_, ours, spotpy)| name == *ours || name == *spotpy)
            .map(|entry| entry.0)
            .ok_or_else(|| format!("unknown objective function '{name}' (one of: {})", Self::NAMES.join(", ")))
    }

    /// Our name and SPOTPY's.
    pub fn names(&self) -> (&'static str, &'static str) {
        let entry = TABLE.iter().find(|entry| std::mem::discriminant(&entry.0) == std::mem::discriminant(self));
        entry.map(|(_, ours, spotpy)| (*ours, *spotpy)).expect("every variant is in TABLE")
    }

    /// The function's value on `(evaluation, simulation)`, as SPOTPY returns it.
    pub fn evaluate(&self, evaluation: &[f64], simulation: &[f64]) -> f64 {
        use SpotpyObjective::*;
        let f = match *self {
            LogNse { epsilon } => return lognse(evaluation, simulation, epsilon),
            Bias => bias,
            Pbias => pbias,
            Nse => nse,
            LogP => log_p,
            Correlation => correlation,
            R2 => r2,
            Mse => mse,
            Rmse => rmse,
            Mae => mae,
            Rrmse => rrmse,
            AgreementIndex => agreement_index,
            Covariance => covariance,
            DecomposedMse => decomposed_mse,
            Kge => kge,
            KgeNonParametric => kge_non_parametric,
            Rsr => rsr,
            VolumeError => volume_error,
        };
        f(evaluation, simulation)
    }

    /// Whether the function is best large, small or at zero. Covariance, which has no best value, counts as
    /// maximised (like the correlation); rrmse as minimised (it assumes `mean(e) > 0`).
    pub fn direction(&self) -> Direction {
        use SpotpyObjective::*;
        match self {
            Bias | Pbias | VolumeError => Direction::ZeroBest,
            Mse | Rmse | Mae | Rrmse | DecomposedMse | Rsr => Direction::Minimize,
            Nse | LogNse { .. } | LogP | Correlation | R2 | AgreementIndex | Covariance | Kge | KgeNonParametric => {
                Direction::Maximize
            }
        }
    }

    /// A cost to minimise: `v` for a minimised function, `−v` for a maximised one, `|v|` for a zero-best one,
    /// and `+∞` when `v` is NaN (an undefined fit is the worst, as in [`crate::samplers::search`]).
    pub fn cost(&self, evaluation: &[f64], simulation: &[f64]) -> f64 {
        let v = self.evaluate(evaluation, simulation);
        let cost = match self.direction() {
            Direction::Minimize => v,
            Direction::Maximize => -v,
            Direction::ZeroBest => v.abs(),
        };
        if cost.is_nan() { f64::INFINITY } else { cost }
    }
}

#[cfg(test)]
#[path = "objectives_tests.rs"]
mod tests;
