//! What the report shows of a search stage once it ran: its behavioural parameter sets, Gelman–Rubin `R̂`
//! and Geweke z-scores of MCMC chains, the correlation of the behavioural sets and a predictive band of
//! discharge simulated from them ([`crate::samplers::diagnostics`] does the statistics).
//!
//! The behavioural sets are, unless the stage sets `behavioural` or `behavioural_threshold`:
//! - for MCMC methods (whose rows say whether each proposal was `accepted`): the chain states of the
//!   second half of every chain, a state kept through rejections counted once per draw;
//! - for the others: GLUE's best 10 % of the runs by cost.

use super::front::ParetoFront;
use super::store::SampleRow;
use crate::calibration::objective::Problem;
use crate::samplers::Proposal;
use crate::samplers::diagnostics::{
    Behavioural, ChainStates, behavioural, correlation, gelman_rubin, geweke, percentile_bands,
};
use std::fmt;

/// The GLUE rule of a stage that sets none: the best 10 % of the runs.
pub const DEFAULT_BEHAVIOURAL: Behavioural = Behavioural::Best { percent: 10.0 };
/// Behavioural sets simulated for the predictive band, at most.
pub const BAND_SETS: usize = 100;
/// Sets simulated per engine call.
const SETS_PER_CALL: usize = 64;
/// The percentiles of the predictive band: lower, median, upper.
pub const BAND_PERCENTILES: [f64; 3] = [5.0, 50.0, 95.0];
/// Geweke windows per parameter (SPOTPY's default), fewer for short chains.
const GEWEKE_INTERVALS: usize = 20;

/// How a stage's behavioural sets were chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BehaviouralRule {
    /// The states of the second half of each MCMC chain.
    ChainHalves,
    /// GLUE's selection by cost.
    Glue(Behavioural),
}

impl fmt::Display for BehaviouralRule {
    /// `states of the second half of each chain`, `best 10 % of the runs`, `runs with cost ≤ 0.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BehaviouralRule::ChainHalves => write!(f, "states of the second half of each chain"),
            BehaviouralRule::Glue(Behavioural::Best { percent }) => write!(f, "best {percent} % of the runs"),
            BehaviouralRule::Glue(Behavioural::Threshold(t)) => write!(f, "runs with cost ≤ {t}"),
        }
    }
}

/// Percentiles of the discharge simulated with behavioural sets, per gauge and step.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveBand {
    /// Parameter sets simulated (`≤` [`BAND_SETS`]).
    pub sets: usize,
    /// 5 % discharge `[G][T]` [m³/s] (gauges in mesh order).
    pub lower: Vec<Vec<f32>>,
    /// Median discharge `[G][T]` [m³/s].
    pub median: Vec<Vec<f32>>,
    /// 95 % discharge `[G][T]` [m³/s].
    pub upper: Vec<Vec<f32>>,
}

/// The diagnostics of one search stage.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSummary {
    /// Stage number (1-based).
    pub stage: usize,
    /// The method's config name (`"dream"`).
    pub method: String,
    /// The searched parameters `[d]`.
    pub names: Vec<String>,
    /// Every evaluation of the stage, in `eval_id` order, `[E]` (each `x` is `[d]`).
    pub rows: Vec<SampleRow>,
    pub rule: BehaviouralRule,
    /// The behavioural sets as indices into `rows`, `[B]`: ascending for GLUE; chain by chain, draw by
    /// draw for chain states (a state kept through rejections repeats).
    pub behavioural: Vec<usize>,
    /// MCMC chains seen (0 for other methods).
    pub chains: usize,
    /// `R̂` per parameter `[d]` of the chains' second halves; `None` without 2 chains of 2 draws.
    pub r_hat: Option<Vec<f64>>,
    /// Geweke z-scores per parameter `[d][windows]` of the second halves pooled draw by draw (chains only).
    pub geweke: Option<Vec<Vec<f64>>>,
    /// Pearson correlation of the behavioural sets `[d][d]`; empty with fewer than 2 sets.
    pub correlation: Vec<Vec<f64>>,
    /// Discharge from up to [`BAND_SETS`] behavioural sets; `None` without any.
    pub band: Option<PredictiveBand>,
    /// A multi-objective stage's Pareto front (its `members` index `rows`); `None` for one objective.
    pub pareto: Option<ParetoFront>,
}

impl SearchSummary {
    /// The behavioural sets, `[B][d]`.
    pub fn behavioural_sets(&self) -> Vec<&[f64]> {
        self.behavioural.iter().map(|&i| self.rows[i].x.as_slice()).collect()
    }
}

/// The diagnostics of stage `stage` run by `method` on `names`, from its `rows`, with the predictive band
/// simulated by `problem`.
///
/// # Arguments
/// * `rule` - the stage's `behavioural`/`behavioural_threshold` (`None`: see the module doc).
///
/// # Errors
/// A failed simulation of the band.
pub fn summarize(
    stage: usize,
    method: &str,
    names: Vec<String>,
    rows: Vec<SampleRow>,
    rule: Option<Behavioural>,
    problem: &Problem<'_>,
) -> Result<SearchSummary, crate::Error> {
    let mut summary = diagnose(stage, method, names, rows, rule);
    let picks = band_picks(summary.behavioural.len());
    if !picks.is_empty() {
        let sets: Vec<&[f64]> = picks.iter().map(|&k| summary.rows[summary.behavioural[k]].x.as_slice()).collect();
        let mut q = Vec::new();
        for group in sets.chunks(SETS_PER_CALL) {
            q.extend(problem.discharge_batch(group)?);
        }
        let gauges = problem.inputs.mesh.gauges.len();
        summary.band = Some(band_of(&q, sets.len(), problem.config.time.ntime, gauges));
    }
    Ok(summary)
}

/// Everything of [`summarize`] but the band (`None`).
pub fn diagnose(
    stage: usize,
    method: &str,
    names: Vec<String>,
    rows: Vec<SampleRow>,
    rule: Option<Behavioural>,
) -> SearchSummary {
    let mcmc = rows.iter().any(|r| r.accepted.is_some());
    let chains = if mcmc { ChainDiagnostics::of(&rows) } else { ChainDiagnostics::default() };
    let (rule, behavioural) = match rule {
        None if mcmc => (BehaviouralRule::ChainHalves, chains.second_halves.clone()),
        rule => {
            let rule = rule.unwrap_or(DEFAULT_BEHAVIOURAL);
            let costs: Vec<f64> = rows.iter().map(|r| r.cost).collect();
            (BehaviouralRule::Glue(rule), behavioural(&costs, rule))
        }
    };
    let sets: Vec<Vec<f64>> = behavioural.iter().map(|&i| rows[i].x.clone()).collect();
    let correlation = if sets.len() >= 2 { correlation(&sets) } else { Vec::new() };
    SearchSummary {
        stage,
        method: method.to_string(),
        names,
        rows,
        rule,
        behavioural,
        chains: chains.count,
        r_hat: chains.r_hat,
        geweke: mcmc.then_some(chains.geweke),
        correlation,
        band: None,
        pareto: None,
    }
}

/// What the chains of an MCMC stage say.
#[derive(Default)]
struct ChainDiagnostics {
    count: usize,
    /// Row indices of the states of each chain's second half, chain by chain.
    second_halves: Vec<usize>,
    r_hat: Option<Vec<f64>>,
    /// `[d][windows]`.
    geweke: Vec<Vec<f64>>,
}

impl ChainDiagnostics {
    fn of(rows: &[SampleRow]) -> ChainDiagnostics {
        // the states' "values" are their row indices (exact in f64), so the halves point back into `rows`
        let mut states = ChainStates::default();
        for (i, r) in rows.iter().enumerate() {
            let proposal = Proposal { x: r.x.clone(), chain: r.chain.map(|c| c as usize) };
            states.record(&[proposal], &[i as f64], &[r.accepted.unwrap_or(false)]);
        }
        let halves = states.second_halves();
        let n = states.values.iter().map(Vec::len).min().unwrap_or(0);
        let second_halves = states.values.iter().flat_map(|v| v[n / 2..n].iter().map(|&i| i as usize)).collect();
        let d = rows.first().map_or(0, |r| r.x.len());
        let pooled = |i: usize| -> Vec<f64> {
            (0..halves.first().map_or(0, Vec::len)).flat_map(|t| halves.iter().map(move |h| h[t][i])).collect()
        };
        let geweke = (0..d)
            .map(|i| {
                let trace = pooled(i);
                geweke(&trace, GEWEKE_INTERVALS.min(trace.len() / 4))
            })
            .collect();
        ChainDiagnostics { count: states.chains.len(), second_halves, r_hat: gelman_rubin(&halves).ok(), geweke }
    }
}

/// Which of `b` behavioural sets the band simulates: up to [`BAND_SETS`] positions evenly spread over
/// `0..b`, the first included.
pub fn band_picks(b: usize) -> Vec<usize> {
    let k = b.min(BAND_SETS);
    (0..k).map(|i| i * b / k).collect()
}

/// The band of `sets` simulations.
///
/// # Shapes
/// `q`: `[sets, T, G]` [m³/s], as [`Problem::discharge_batch`] returns it.
pub fn band_of(q: &[f32], sets: usize, nt: usize, gauges: usize) -> PredictiveBand {
    assert_eq!(q.len(), sets * nt * gauges, "band_of: discharge of {sets} sets × {nt} steps × {gauges} gauges");
    let (mut lower, mut median, mut upper) = (Vec::new(), Vec::new(), Vec::new());
    for j in 0..gauges {
        let series: Vec<Vec<f64>> =
            (0..sets).map(|s| (0..nt).map(|t| q[(s * nt + t) * gauges + j] as f64).collect()).collect();
        let bands = percentile_bands(&series, &BAND_PERCENTILES);
        let band = |k: usize| bands[k].iter().map(|&v| v as f32).collect::<Vec<f32>>();
        lower.push(band(0));
        median.push(band(1));
        upper.push(band(2));
    }
    PredictiveBand { sets, lower, median, upper }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::objective::Terms;

    fn row(eval_id: u64, chain: Option<u32>, x: Vec<f64>, cost: f64, accepted: Option<bool>) -> SampleRow {
        let terms = Terms::new(cost, 0.0);
        let objectives = Vec::new();
        SampleRow {
            eval_id,
            stage: 1,
            batch: 0,
            chain,
            x,
            objectives,
            cost,
            terms,
            accepted,
            cached: false,
            seconds: 0.0,
        }
    }

    fn names() -> Vec<String> {
        vec!["cp".into(), "ct".into()]
    }

    #[test]
    fn glue_keeps_the_best_runs_by_default_or_by_threshold() {
        let rows: Vec<SampleRow> =
            (0..20).map(|i| row(i, None, vec![i as f64, -(i as f64)], (20 - i) as f64, None)).collect();
        let s = diagnose(1, "lhs", names(), rows.clone(), None);
        assert_eq!(s.rule, BehaviouralRule::Glue(DEFAULT_BEHAVIOURAL));
        // costs 1..20: the 10th percentile is 2.9, so costs 1 and 2 (rows 19 and 18)
        assert_eq!(s.behavioural, [18, 19]);
        assert_eq!(s.chains, 0);
        assert!(s.r_hat.is_none() && s.geweke.is_none());
        assert!((s.correlation[0][1] + 1.0).abs() < 1e-12, "{:?}", s.correlation);
        let s = diagnose(1, "lhs", names(), rows, Some(Behavioural::Threshold(5.0)));
        assert_eq!(s.behavioural, [15, 16, 17, 18, 19]);
        assert_eq!(s.rule.to_string(), "runs with cost ≤ 5");
        assert_eq!(s.behavioural_sets()[0], [15.0, -15.0]);
    }

    /// Two chains of 8 draws, interleaved as a sampler's batches are: chain 0 around 0, chain 1 around 10.
    fn two_chains(offset: f64) -> Vec<SampleRow> {
        let mut rows = Vec::new();
        for t in 0..8u64 {
            for c in 0..2u32 {
                let v = c as f64 * offset + [0.0, 1.0, 2.0, 3.0][(t % 4) as usize];
                // odd draws of chain 1 are rejected: its state repeats
                let accepted = t == 0 || c == 0 || t % 2 == 0;
                rows.push(row(2 * t + c as u64, Some(c), vec![v, 2.0 * v], v, Some(accepted)));
            }
        }
        rows
    }

    #[test]
    fn chains_give_their_second_halves_and_r_hat() {
        let s = diagnose(2, "dream", names(), two_chains(10.0), None);
        assert_eq!((s.rule, s.chains), (BehaviouralRule::ChainHalves, 2));
        // chain 0: rows 8, 10, 12, 14 (draws 4..8); chain 1 states: draw 4 (row 9), 5 repeats it, 6 (row 13), 7 repeats
        assert_eq!(s.behavioural, [8, 10, 12, 14, 9, 9, 13, 13]);
        // second halves: chain 0 = [0, 1, 2, 3], chain 1 = [10, 10, 12, 12]; W = (5/3 + 4/3)/2 = 1.5,
        // B = 4 · var([1.5, 11]) = 4 · 45.125 = 180.5, var⁺ = 3/4 · 1.5 + 180.5/4
        let r_hat = s.r_hat.as_ref().unwrap();
        let want = ((0.75 * 1.5 + 180.5 / 4.0) / 1.5f64).sqrt();
        assert!((r_hat[0] - want).abs() < 1e-12 && (r_hat[1] - want).abs() < 1e-12, "{r_hat:?} vs {want}");
        assert!(r_hat[0] > 1.2);
        assert_eq!(s.geweke.as_ref().unwrap().len(), 2);
        assert!((s.correlation[0][1] - 1.0).abs() < 1e-12);
        // the same chains on top of each other mix: R̂ below 1.2
        let mixed = diagnose(2, "dream", names(), two_chains(0.0), None);
        assert!(mixed.r_hat.unwrap()[0] < 1.2);
        // an explicit rule applies GLUE to the chains too
        let glue = diagnose(2, "dream", names(), two_chains(10.0), Some(Behavioural::Threshold(0.5)));
        assert_eq!(glue.behavioural, [0, 8]);
        assert!(glue.r_hat.is_some());
    }

    #[test]
    fn one_chain_has_no_r_hat_and_no_runs_nothing() {
        let rows: Vec<SampleRow> = (0..10).map(|t| row(t, Some(0), vec![t as f64, 1.0], 1.0, Some(true))).collect();
        let s = diagnose(1, "mcmc", names(), rows, None);
        assert_eq!((s.chains, s.behavioural.len()), (1, 5));
        assert!(s.r_hat.is_none());
        let empty = diagnose(1, "sceua", names(), Vec::new(), None);
        assert!(empty.behavioural.is_empty() && empty.correlation.is_empty() && empty.band.is_none());
    }

    #[test]
    fn band_picks_are_evenly_spread() {
        assert_eq!(band_picks(0), Vec::<usize>::new());
        assert_eq!(band_picks(3), [0, 1, 2]);
        let picks = band_picks(1000);
        assert_eq!(picks.len(), BAND_SETS);
        assert_eq!((picks[0], picks[1], picks[99]), (0, 10, 990));
    }

    #[test]
    fn band_has_a_lower_median_and_upper_series_per_gauge() {
        // 5 sets × 3 steps × 2 gauges: set s gives s + 1 at gauge 0 and 10 (s + 1) at gauge 1
        let (sets, nt, g) = (5, 3, 2);
        let q: Vec<f32> = (0..sets * nt * g).map(|k| ((k / (nt * g)) + 1) as f32 * [1.0, 10.0][k % g]).collect();
        let band = band_of(&q, sets, nt, g);
        assert_eq!(band.sets, 5);
        for series in [&band.lower, &band.median, &band.upper] {
            assert_eq!(series.len(), g);
            assert!(series.iter().all(|s| s.len() == nt));
        }
        // np.percentile([1, 2, 3, 4, 5], [5, 50, 95]) = [1.2, 3, 4.8]
        assert!((band.lower[0][0] - 1.2).abs() < 1e-6 && band.median[0][2] == 3.0, "{band:?}");
        assert!((band.upper[1][1] - 48.0).abs() < 1e-4, "{band:?}");
    }
}
