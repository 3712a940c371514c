//! Posterior diagnostics of a sampling run (`shared/spec/samplers.md` §3, SPOTPY's `analyser.py`):
//! Gelman–Rubin R̂, Geweke z-scores, GLUE behavioural selection, predictive percentile bands and the
//! parameter correlation matrix.
//!
//! Chains are `[chain][draw][param]` (`chains[c][t][i]`), samples `[draw][param]`, series `[run][step]`.
//! Percentiles interpolate linearly between order statistics, as numpy's default `np.percentile`.

use super::Proposal;

/// Why a diagnostic cannot be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DiagnosticError {
    #[error("need at least {need} chains, got {got}")]
    TooFewChains { need: usize, got: usize },
    #[error("need at least {need} draws per chain, got {got}")]
    TooShort { need: usize, got: usize },
    #[error("chain {chain} has {got} draws, chain 0 has {expected}")]
    UnequalLengths { chain: usize, got: usize, expected: usize },
    #[error("draw {draw} of chain {chain} has {got} values, expected {expected}")]
    Dimension { chain: usize, draw: usize, got: usize, expected: usize },
}

/// Each chain's mean and variance (`ddof = 1`) per parameter, `[m][d]` twice, and the draws per chain.
type Moments = (Vec<Vec<f64>>, Vec<Vec<f64>>, usize);

fn chain_moments(chains: &[Vec<Vec<f64>>]) -> Result<Moments, DiagnosticError> {
    if chains.len() < 2 {
        return Err(DiagnosticError::TooFewChains { need: 2, got: chains.len() });
    }
    let n = chains[0].len();
    if n < 2 {
        return Err(DiagnosticError::TooShort { need: 2, got: n });
    }
    let d = chains[0][0].len();
    let (mut means, mut variances) = (Vec::with_capacity(chains.len()), Vec::with_capacity(chains.len()));
    for (c, chain) in chains.iter().enumerate() {
        if chain.len() != n {
            return Err(DiagnosticError::UnequalLengths { chain: c, got: chain.len(), expected: n });
        }
        if let Some(t) = chain.iter().position(|x| x.len() != d) {
            return Err(DiagnosticError::Dimension { chain: c, draw: t, got: chain[t].len(), expected: d });
        }
        let mean: Vec<f64> = (0..d).map(|i| chain.iter().map(|x| x[i]).sum::<f64>() / n as f64).collect();
        let var: Vec<f64> =
            (0..d).map(|i| chain.iter().map(|x| (x[i] - mean[i]).powi(2)).sum::<f64>() / (n - 1) as f64).collect();
        means.push(mean);
        variances.push(var);
    }
    Ok((means, variances, n))
}

/// `R̂` per parameter from each chain's mean and variance (`ddof = 1`) over `n` draws; `extra` adds the
/// `B/(m n)` term of the 1992 paper.
fn psrf(means: &[Vec<f64>], variances: &[Vec<f64>], n: usize, extra: bool) -> Vec<f64> {
    let (m, n) = (means.len() as f64, n as f64);
    let d = means.first().map_or(0, Vec::len);
    (0..d)
        .map(|i| {
            let w = variances.iter().map(|v| v[i]).sum::<f64>() / m;
            let grand = means.iter().map(|mu| mu[i]).sum::<f64>() / m;
            let b = n * means.iter().map(|mu| (mu[i] - grand).powi(2)).sum::<f64>() / (m - 1.0);
            let var_plus = (n - 1.0) / n * w + b / n;
            let v = if extra { var_plus + b / (m * n) } else { var_plus };
            if w > 0.0 { (v / w).sqrt() } else { f64::INFINITY }
        })
        .collect()
}

/// Gelman–Rubin's potential scale reduction factor per parameter, as Gelman et al. (2004, *Bayesian Data
/// Analysis*, 2nd ed., §11.6): `R̂ = √(var⁺/W)` with `var⁺ = (n−1)/n · W + B/n`, `W` the mean within-chain
/// variance and `B = n · var(chain means)` (both with `ddof = 1`), for `m ≥ 2` chains of `n ≥ 2` draws.
///
/// Pass the draws to judge (usually each chain's second half). `R̂` tends to 1 from above as the chains
/// mix; values below about 1.1–1.2 are read as converged. A parameter with `W = 0` (no chain moved) gets
/// `+inf`: stuck chains never count as converged. (SPOTPY's `analyser.gelman_rubin`, unused there, returns
/// `V̂/W` without the square root, see [`gelman_rubin_1992`].)
///
/// # Shapes
/// `chains`: `[m][n][d]`; returns `[d]`.
pub fn gelman_rubin(chains: &[Vec<Vec<f64>>]) -> Result<Vec<f64>, DiagnosticError> {
    let (means, variances, n) = chain_moments(chains)?;
    Ok(psrf(&means, &variances, n, false))
}

/// The original Gelman & Rubin (1992) factor `R̂ = √(V̂/W)` with `V̂ = var⁺ + B/(m n)`, written by Vrugt's
/// DREAM code (and SPOTPY's `dream.get_r_hat`) as `√((m+1)/m · var⁺/W − (n−1)/(m n))`. It exceeds
/// [`gelman_rubin`] by the `B/(m n)` term. `W = 0` gives `+inf`.
///
/// # Shapes
/// `chains`: `[m][n][d]`; returns `[d]`.
pub fn gelman_rubin_1992(chains: &[Vec<Vec<f64>>]) -> Result<Vec<f64>, DiagnosticError> {
    let (means, variances, n) = chain_moments(chains)?;
    Ok(psrf(&means, &variances, n, true))
}

/// [`gelman_rubin_1992`] from each chain's mean and variance (`ddof = 1`) over `n ≥ 2` draws, for samplers
/// that keep running sums instead of the draws.
///
/// # Shapes
/// `means`, `variances`: `[m][d]` with `m ≥ 2`; returns `[d]`.
pub fn gelman_rubin_1992_from_moments(means: &[Vec<f64>], variances: &[Vec<f64>], n: usize) -> Vec<f64> {
    assert!(means.len() >= 2 && means.len() == variances.len() && n >= 2, "gelman_rubin: need 2 chains of 2 draws");
    psrf(means, variances, n, true)
}

/// Geweke z-scores of one parameter's trace with SPOTPY's windows (`analyser._Geweke`): for
/// `k = 0..intervals`, the window of `L = ⌊len/intervals/2⌋` draws starting at `⌊0.1·len + k L⌋` is compared
/// with the one starting at `⌊len/2 + k L⌋`: `z = (m₁ − m₂)/√(v₁/L + v₂/L)`.
///
/// The windows' variances are plain sample variances (no spectral density at zero, unlike Geweke 1992), so
/// the scores are exact z-scores for uncorrelated draws only; an autocorrelated chain shows larger `|z|`.
/// SPOTPY divides by `√(v₁ + v₂)` (the spread of the draws, not of the window means), which makes its
/// scores smaller by `√L` and its ±2 lines meaningless; this function divides by the standard errors.
///
/// # Returns
/// `[intervals]` scores; empty when the trace is too short for windows of 2 draws (`len < 4·intervals`).
pub fn geweke(samples: &[f64], intervals: usize) -> Vec<f64> {
    let len = samples.len();
    if intervals == 0 || len < 4 * intervals {
        return Vec::new();
    }
    let l = len / intervals / 2;
    let first = 0.1 * len as f64;
    let stats = |w: &[f64]| {
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let var = w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / w.len() as f64;
        (mean, var)
    };
    (0..intervals)
        .map(|k| {
            let s1 = (first + (k * l) as f64) as usize;
            let s2 = len / 2 + k * l;
            let (m1, v1) = stats(&samples[s1..s1 + l]);
            let (m2, v2) = stats(&samples[s2..(s2 + l).min(len)]);
            (m1 - m2) / (v1 / l as f64 + v2 / l as f64).sqrt()
        })
        .collect()
}

/// Which runs GLUE keeps as behavioural (values are minimised: lower is better).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Behavioural {
    /// The best `percent` % of the runs: value `≤` the `percent`-th percentile of the values (SPOTPY's
    /// `get_posterior(percentage=percent, maximize=False)`).
    Best { percent: f64 },
    /// Every run with value `≤ threshold` (e.g. `1 − NSE ≤ 0.5`).
    Threshold(f64),
}

/// The indices (ascending) of the behavioural runs among `values`; non-finite values are never kept and do
/// not enter the percentile.
pub fn behavioural(values: &[f64], rule: Behavioural) -> Vec<usize> {
    let limit = match rule {
        Behavioural::Threshold(t) => t,
        Behavioural::Best { percent } => {
            let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
            if finite.is_empty() {
                return Vec::new();
            }
            percentile(&finite, percent)
        }
    };
    values.iter().enumerate().filter(|(_, v)| v.is_finite() && **v <= limit).map(|(i, _)| i).collect()
}

/// The `q`-th percentile (`0 ≤ q ≤ 100`) of `values` by linear interpolation between order statistics
/// (numpy's default). `NaN` for an empty slice.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted_percentile(&sorted, q)
}

fn sorted_percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 100.0) / 100.0 * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The percentiles SPOTPY's `get_percentiles` gives per simulation step.
pub const PREDICTIVE_PERCENTILES: [f64; 5] = [5.0, 25.0, 50.0, 75.0, 95.0];

/// Predictive bands: the percentiles `percents` of a set of simulated series at each time step (e.g. of the
/// behavioural runs, or of the posterior chain states, with [`PREDICTIVE_PERCENTILES`]).
///
/// # Shapes
/// `series`: `[runs][T]` (equal lengths); returns `[percents.len()][T]`.
pub fn percentile_bands(series: &[Vec<f64>], percents: &[f64]) -> Vec<Vec<f64>> {
    let t_len = series.first().map_or(0, Vec::len);
    assert!(series.iter().all(|s| s.len() == t_len), "percentile_bands: series of unequal lengths");
    let mut bands = vec![vec![f64::NAN; t_len]; percents.len()];
    let mut column = Vec::with_capacity(series.len());
    for t in 0..t_len {
        column.clear();
        column.extend(series.iter().map(|s| s[t]));
        column.sort_by(f64::total_cmp);
        for (band, &q) in bands.iter_mut().zip(percents) {
            band[t] = sorted_percentile(&column, q);
        }
    }
    bands
}

/// Pearson's correlation matrix of the parameters over `samples` (`[draws][d]`), `[d][d]`. A parameter
/// that never varies has correlation `NaN` with the others (and 1 with itself).
pub fn correlation(samples: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = samples.first().map_or(0, Vec::len);
    let n = samples.len() as f64;
    let means: Vec<f64> = (0..d).map(|i| samples.iter().map(|x| x[i]).sum::<f64>() / n).collect();
    let mut cov = vec![vec![0.0; d]; d];
    for x in samples {
        for i in 0..d {
            for j in 0..=i {
                cov[i][j] += (x[i] - means[i]) * (x[j] - means[j]);
            }
        }
    }
    let mut r = vec![vec![0.0; d]; d];
    for i in 0..d {
        for j in 0..=i {
            let v = if i == j { 1.0 } else { cov[i][j] / (cov[i][i] * cov[j][j]).sqrt() };
            let v = if i != j && !(cov[i][i] > 0.0 && cov[j][j] > 0.0) { f64::NAN } else { v };
            r[i][j] = v;
            r[j][i] = v;
        }
    }
    r
}

/// The chain states of an MCMC run, rebuilt from the batches the driver reports: a proposal of chain `c`
/// that was accepted becomes its new state, a rejected one repeats the previous state (a chain's first
/// point, its start, is always accepted by the samplers here). Proposals without a chain are ignored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChainStates {
    /// `[chain][draw][d]`.
    pub chains: Vec<Vec<Vec<f64>>>,
    /// The value of each state, `[chain][draw]`.
    pub values: Vec<Vec<f64>>,
}

impl ChainStates {
    /// Adds one batch: `proposals`, their `values` and the sampler's `accepted` flags, all `[B]`.
    pub fn record(&mut self, proposals: &[Proposal], values: &[f64], accepted: &[bool]) {
        for ((p, &v), &ok) in proposals.iter().zip(values).zip(accepted) {
            let Some(c) = p.chain else { continue };
            if self.chains.len() <= c {
                self.chains.resize(c + 1, Vec::new());
                self.values.resize(c + 1, Vec::new());
            }
            if ok {
                self.chains[c].push(p.x.clone());
                self.values[c].push(v);
            } else if let (Some(x), Some(&last)) = (self.chains[c].last().cloned(), self.values[c].last()) {
                self.chains[c].push(x);
                self.values[c].push(last);
            }
        }
    }

    /// The last half of every chain, cut to the shortest chain's length first (`[chain][⌈n/2⌉][d]`): the
    /// draws Gelman–Rubin usually judges.
    pub fn second_halves(&self) -> Vec<Vec<Vec<f64>>> {
        let n = self.chains.iter().map(Vec::len).min().unwrap_or(0);
        self.chains.iter().map(|ch| ch[n / 2..n].to_vec()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::random::LegacyRandom;

    fn iid_chains(m: usize, n: usize, offsets: &[f64], seed: u32) -> Vec<Vec<Vec<f64>>> {
        let mut rng = LegacyRandom::new(seed);
        (0..m)
            .map(|c| (0..n).map(|_| vec![offsets[c] + rng.standard_normal(), rng.standard_normal()]).collect())
            .collect()
    }

    #[test]
    fn gelman_rubin_by_hand() {
        // two chains of three draws: means 2 and 5, within variances 1 and 1, B = 3·4.5 = 13.5
        let chains = vec![vec![vec![1.0], vec![2.0], vec![3.0]], vec![vec![4.0], vec![5.0], vec![6.0]]];
        let r = gelman_rubin(&chains).unwrap();
        // var⁺ = 2/3 · 1 + 13.5/3 = 5.1667, R̂ = √5.1667
        assert!((r[0] - (2.0 / 3.0 + 4.5f64).sqrt()).abs() < 1e-12, "{r:?}");
        let r92 = gelman_rubin_1992(&chains).unwrap();
        // V̂ = var⁺ + B/(m n) = 5.1667 + 2.25
        assert!((r92[0] - (2.0 / 3.0 + 4.5 + 2.25f64).sqrt()).abs() < 1e-12, "{r92:?}");
        // identical chains: B = 0, R̂ = √((n−1)/n), just below 1
        let same = vec![chains[0].clone(), chains[0].clone()];
        assert!((gelman_rubin(&same).unwrap()[0] - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn gelman_rubin_of_mixed_and_separated_chains() {
        let mixed = gelman_rubin(&iid_chains(4, 2000, &[0.0; 4], 1)).unwrap();
        for r in &mixed {
            assert!((0.99..1.01).contains(r), "{mixed:?}");
        }
        let separated = gelman_rubin(&iid_chains(4, 2000, &[0.0, 3.0, 6.0, 9.0], 2)).unwrap();
        assert!(separated[0] > 3.0 && (0.99..1.01).contains(&separated[1]), "{separated:?}");
        let r92 = gelman_rubin_1992(&iid_chains(4, 2000, &[0.0; 4], 1)).unwrap();
        assert!(r92.iter().zip(&mixed).all(|(a, b)| a >= b && (a - b) < 0.01), "{r92:?}");
    }

    #[test]
    fn gelman_rubin_rejects_bad_input_and_flags_stuck_chains() {
        let one = iid_chains(1, 10, &[0.0], 3);
        assert_eq!(gelman_rubin(&one), Err(DiagnosticError::TooFewChains { need: 2, got: 1 }));
        let mut two = iid_chains(2, 10, &[0.0, 0.0], 3);
        two[1].pop();
        assert_eq!(gelman_rubin(&two), Err(DiagnosticError::UnequalLengths { chain: 1, got: 9, expected: 10 }));
        let stuck = vec![vec![vec![1.0]; 5], vec![vec![1.0]; 5]];
        assert_eq!(gelman_rubin(&stuck).unwrap(), [f64::INFINITY]);
    }

    #[test]
    fn geweke_of_iid_and_shifted_series() {
        let mut rng = LegacyRandom::new(7);
        let iid: Vec<f64> = (0..4000).map(|_| rng.standard_normal()).collect();
        let z = geweke(&iid, 20);
        assert_eq!(z.len(), 20);
        assert!(z.iter().all(|v| v.abs() < 3.0), "{z:?}");
        // a mean shift of 1 sd in the second half: windows of 100 draws give z ≈ 1/√(2/100) ≈ 7
        let shifted: Vec<f64> = iid.iter().enumerate().map(|(i, v)| v + if i >= 2000 { 1.0 } else { 0.0 }).collect();
        let z = geweke(&shifted, 20);
        assert!(z.iter().filter(|v| **v < -3.0).count() >= 15, "{z:?}");
        assert!(geweke(&iid[..50], 20).is_empty());
    }

    #[test]
    fn behavioural_runs_by_percent_and_threshold() {
        let values = [5.0, 1.0, f64::INFINITY, 3.0, 2.0, 4.0, 0.5, 6.0, 7.0, 8.0, 9.0];
        // finite values 0.5, 1..9 (10 values): the 20th percentile is 1 + 0.8·(2 − 1) = 1.8
        assert_eq!(behavioural(&values, Behavioural::Best { percent: 20.0 }), [1, 6]);
        assert_eq!(behavioural(&values, Behavioural::Threshold(3.0)), [1, 3, 4, 6]);
        assert!(behavioural(&[f64::INFINITY], Behavioural::Best { percent: 50.0 }).is_empty());
    }

    #[test]
    fn percentiles_match_numpy() {
        // np.percentile([3, 1, 4, 1, 5], [5, 25, 50, 75, 95]) = [1, 1, 3, 4, 4.8]
        let v = [3.0, 1.0, 4.0, 1.0, 5.0];
        let got: Vec<f64> = PREDICTIVE_PERCENTILES.iter().map(|&q| percentile(&v, q)).collect();
        let want = [1.0, 1.0, 3.0, 4.0, 4.8];
        assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-12), "{got:?}");
        let series: Vec<Vec<f64>> = v.iter().map(|&x| vec![x, 10.0 * x]).collect();
        let bands = percentile_bands(&series, &PREDICTIVE_PERCENTILES);
        assert_eq!(bands.len(), 5);
        assert!((bands[4][0] - 4.8).abs() < 1e-12 && (bands[4][1] - 48.0).abs() < 1e-12, "{bands:?}");
    }

    #[test]
    fn correlation_of_linear_and_independent_parameters() {
        let mut rng = LegacyRandom::new(11);
        let samples: Vec<Vec<f64>> = (0..20_000)
            .map(|_| {
                let (a, b) = (rng.standard_normal(), rng.standard_normal());
                vec![a, -2.0 * a + 1.0, b, 0.6 * a + 0.8 * b, 3.0]
            })
            .collect();
        let r = correlation(&samples);
        assert!((r[0][1] + 1.0).abs() < 1e-12 && (r[1][0] + 1.0).abs() < 1e-12);
        assert!(r[0][2].abs() < 0.03 && (r[0][3] - 0.6).abs() < 0.02 && (r[2][3] - 0.8).abs() < 0.02, "{r:?}");
        assert!(r[0][4].is_nan() && r[4][4] == 1.0 && r[3][3] == 1.0);
    }
}
