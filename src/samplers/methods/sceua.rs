//! SCE-UA: shuffled complex evolution (Duan, Sorooshian & Gupta 1992, *Water Resour. Res.* 28(4); Duan et al.
//! 1994, *J. Hydrol.* 158), as Duan's Fortran v2.1 (`sceua.f`) runs it, or as SPOTPY 1.6.7's `sceua.py` does
//! (`variant = "spotpy"`); `shared/spec/samplers.md` §1.6.
//!
//! `ngs` complexes of `npg` points (population `npt = ngs·npg`). The population is sorted by value and dealt
//! into complexes by rank (complex `k` gets ranks `k, k+ngs, k+2·ngs, …`). Each complex then takes `nspl`
//! competitive complex evolution (CCE) steps: pick a sub-complex of `nps` distinct positions with the
//! trapezoidal probability `2(npg+1−i)/(npg(npg+1))` of position `i` (inverse CDF
//! `i = 1 + ⌊npg + ½ − √((npg+½)² − npg(npg+1)·u)⌋`, duplicates redrawn); reflect its worst point `w` through
//! the centroid `c` of the others, `r = c + (c − w)`; if `r` leaves the bounds, draw a random point instead; if
//! `f(r) ≤ f(w)` accept it, otherwise try the contraction (midpoint of `c` and `w`), and if that fails too,
//! replace `w` by a random point whatever its value. Then the complexes are shuffled (merged and sorted).
//!
//! Stopping, checked after the initial population and after each shuffling loop (`termination()` says which):
//! the normalised geometric range `gnrng = exp(mean_j ln(range_j / (upper_j − lower_j)))` of the population
//! is `≤ peps`, or the best value stagnated over `kstop` loops (below). The budget is counted in model
//! evaluations by the driver; a run stops there mid-loop.
//!
//! # Variants
//! `"duan"` (the default) follows the Fortran: uniform initial population in the bounds; random points are
//! Gaussian around the sub-complex's best point with the population's standard deviation per parameter
//! (recomputed after each shuffle, floored at 1e-10), each coordinate redrawn until it is in the bounds;
//! contraction `c − ½(c − w)`; `nps = npg` takes the whole complex; `gnrng` adds δ = 1e-20 inside the
//! logarithm; stagnation when `|f_t − f_{t−kstop}| / (|f_t + f_{t−kstop}|/2) < pcento` (a fraction; 0/0 counts
//! as no change), checked once `kstop` earlier loops exist. The Fortran hard-codes `peps = 1e-3` and resets
//! `kstop` outside `[0, 20)` to 5: here they are plain options. Its optional initial point is not offered.
//!
//! `"spotpy"` follows SPOTPY: the initial population and the random points are drawn from the priors; the
//! sub-complex always holds position 1 of the complex (0-based: the *second*-best point, an off-by-one of
//! the port) plus `nps − 1` positions drawn with the 0-based formula (at most 1000 tries each); contraction
//! `w + ½(c − w)`; no δ in `gnrng`; stagnation when `100·|f_t − f_{t−kstop+1}| / mean|f_{t−kstop+1..t}| ≤ pcento`
//! (a percentage), checked once `nloop ≥ kstop`. Its rejection test `f_new > f_w` is the Fortran's
//! `f_new ≤ f_w` acceptance. Not reproduced: SPOTPY's budget, which counts each accepted CCE point twice
//! (its runs stop after 65–85 % of `repetitions` model calls) and shrinks `ngs` in its last loop; here the
//! budget is `max_evaluations` model evaluations.
//!
//! Both variants reduce the number of complexes by one per loop while it exceeds `mings` (Fortran `comp`: the
//! last complex's points are dropped); `mings = ngs` (the default) keeps them all, as SPOTPY does.
//!
//! # Batches and draw order
//! The initial population is one batch (free points). Then the complexes evolve in lockstep: all take CCE
//! step `s` together, and a batch holds one trial point per complex at the same stage: the reflections (or
//! their random replacements) of every complex, then the contractions of those whose reflection failed,
//! then the random points of those whose contraction failed too; so each CCE step takes 1–3 batches of at
//! most `ngs` points, with `chain` = the complex's index. Within a stage, complexes draw their random numbers
//! in index order (sub-complex positions, then any random replacement of the reflection; the random points
//! after a failed contraction), so the run depends only on the seed and the values told. Complexes are
//! independent within a loop, so this equals the Fortran's complex-by-complex order in law, not draw by draw.
//!
//! Defaults: `ngs = 20` (SPOTPY's), `npg = 2n+1`, `nps = n+1`, `nspl = npg`, `mings = ngs` (Duan et al. 1994's
//! recommendations, also the Fortran's), `kstop = 100`, `pcento = 1e-7`, `peps = 1e-7` (SPOTPY's, which in
//! practice run to the budget). Duan et al. 1994 leave the number of complexes to the problem: more complexes
//! raise the chance of the global optimum at the cost of evaluations; SPOTPY's issue #282 advises about one per
//! parameter. On the test functions, `ngs = n` converges much faster than 20 in 2 and 10 dimensions.

use serde::Deserialize;

use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// Which SCE-UA to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceuaVariant {
    /// Duan's Fortran v2.1.
    #[default]
    Duan,
    /// SPOTPY 1.6.7's port, quirks included (budget excepted).
    Spotpy,
}

/// Options of [`Sceua`] (SPOTPY's `sample()` keywords, plus Duan's `npg`, `nps`, `nspl`, `mings`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SceuaOptions {
    /// Number of complexes `p`.
    pub ngs: usize,
    /// Points per complex `m` (default `2n + 1`).
    pub npg: Option<usize>,
    /// Points per sub-complex `q`, `2 ≤ nps ≤ npg` (default `n + 1`).
    pub nps: Option<usize>,
    /// CCE steps per complex between shuffles `β` (default `npg`).
    pub nspl: Option<usize>,
    /// Minimum number of complexes: one is dropped per loop while there are more (default `ngs`: none).
    pub mings: Option<usize>,
    /// Shuffling loops over which the best value must improve by `pcento`.
    pub kstop: usize,
    /// Required improvement over `kstop` loops (a fraction for `"duan"`, a percentage for `"spotpy"`).
    pub pcento: f64,
    /// Stop when the population's normalised geometric range is `≤ peps`.
    pub peps: f64,
    /// `"duan"` or `"spotpy"`.
    pub variant: SceuaVariant,
}

impl Default for SceuaOptions {
    fn default() -> Self {
        SceuaOptions {
            ngs: 20,
            npg: None,
            nps: None,
            nspl: None,
            mings: None,
            kstop: 100,
            pcento: 1e-7,
            peps: 1e-7,
            variant: SceuaVariant::Duan,
        }
    }
}

/// Where a complex stands in its current CCE step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Reflection,
    Contraction,
    Random,
    Done,
}

/// One complex: its points sorted by value, and its CCE step in progress.
#[derive(Clone, Debug)]
struct Complex {
    x: Vec<Vec<f64>>,
    f: Vec<f64>,
    /// Positions of the sub-complex, ascending (so its last one holds the worst point).
    lcs: Vec<usize>,
    /// Centroid of the sub-complex without its worst point.
    centroid: Vec<f64>,
    stage: Stage,
    /// The point under evaluation.
    trial: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The initial population is still to be asked.
    Start,
    /// The initial population was asked.
    Initial,
    /// Complexes evolving.
    Evolve,
    /// Stopped on a criterion, or after a truncated batch.
    Stopped,
}

/// Shuffled complex evolution.
#[derive(Debug)]
pub struct Sceua {
    space: Space,
    ngs: usize,
    npg: usize,
    nps: usize,
    nspl: usize,
    mings: usize,
    kstop: usize,
    pcento: f64,
    peps: f64,
    variant: SceuaVariant,
    rng: LegacyRandom,
    phase: Phase,
    /// The population, sorted by value after each shuffle.
    x: Vec<Vec<f64>>,
    f: Vec<f64>,
    /// The population's standard deviation per parameter (Duan's random points).
    std: Vec<f64>,
    complexes: Vec<Complex>,
    /// Shuffling loops started.
    nloop: usize,
    /// CCE step of the current loop.
    step: usize,
    /// The best value after each loop.
    history: Vec<f64>,
    /// Indices of the complexes in the last batch, in order.
    pending: Vec<usize>,
    termination: String,
}

impl Sceua {
    /// # Errors
    /// `"key: why"` for an invalid option.
    pub fn new(
        space: Space,
        options: SceuaOptions,
        random_state: u32,
        _max_evaluations: usize,
    ) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: SCE-UA needs at least one parameter".into());
        }
        let SceuaOptions { ngs, kstop, pcento, peps, variant, .. } = options;
        let npg = options.npg.unwrap_or(2 * n + 1);
        let nps = options.nps.unwrap_or(n + 1);
        let nspl = options.nspl.unwrap_or(npg);
        let mings = options.mings.unwrap_or(ngs);
        if ngs == 0 {
            return Err("ngs: must be ≥ 1".into());
        }
        if npg < 2 {
            return Err(format!("npg: must be ≥ 2 (got {npg})"));
        }
        if !(2..=npg).contains(&nps) {
            return Err(format!("nps: must be within 2..=npg = {npg} (got {nps})"));
        }
        if nspl == 0 {
            return Err("nspl: must be ≥ 1".into());
        }
        if !(1..=ngs).contains(&mings) {
            return Err(format!("mings: must be within 1..=ngs = {ngs} (got {mings})"));
        }
        if kstop == 0 {
            return Err("kstop: must be ≥ 1".into());
        }
        if !(pcento >= 0.0 && pcento.is_finite()) {
            return Err(format!("pcento: must be finite and ≥ 0 (got {pcento})"));
        }
        if !(peps >= 0.0 && peps.is_finite()) {
            return Err(format!("peps: must be finite and ≥ 0 (got {peps})"));
        }
        Ok(Sceua {
            space,
            ngs,
            npg,
            nps,
            nspl,
            mings,
            kstop,
            pcento,
            peps,
            variant,
            rng: LegacyRandom::new(random_state),
            phase: Phase::Start,
            x: Vec::new(),
            f: Vec::new(),
            std: vec![0.0; n],
            complexes: Vec::new(),
            nloop: 0,
            step: 0,
            history: Vec::new(),
            pending: Vec::new(),
            termination: String::new(),
        })
    }

    /// Sorts the population by value and updates its statistics; `false` (and the message) if it has
    /// converged (`gnrng ≤ peps`).
    fn shuffle(&mut self) -> bool {
        let order = sorted_order(&self.f);
        self.x = order.iter().map(|&i| std::mem::take(&mut self.x[i])).collect();
        self.f = order.iter().map(|&i| self.f[i]).collect();
        let npt = self.x.len() as f64;
        let mut log_sum = 0.0;
        for j in 0..self.space.dim() {
            let column = self.x.iter().map(|p| p[j]);
            let (lo, hi) = column.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            let mean = column.clone().sum::<f64>() / npt;
            let var = column.map(|v| (v - mean) * (v - mean)).sum::<f64>() / npt;
            self.std[j] = var.max(1e-20).sqrt();
            let delta = if self.variant == SceuaVariant::Duan { 1e-20 } else { 0.0 };
            log_sum += (delta + (hi - lo) / self.space.width(j)).ln();
        }
        let gnrng = (log_sum / self.space.dim() as f64).exp();
        if gnrng <= self.peps {
            self.termination = format!(
                "the population converged: normalised geometric range {gnrng:.3e} ≤ peps {:e} after {} loops",
                self.peps, self.nloop
            );
            return false;
        }
        true
    }

    /// Whether the best value stagnated over the last `kstop` loops (and the message).
    fn stagnated(&mut self) -> bool {
        let (t, k) = (self.history.len(), self.kstop);
        let change = match self.variant {
            SceuaVariant::Duan if t > k => {
                let (old, new) = (self.history[t - 1 - k], self.history[t - 1]);
                let diff = (old - new).abs();
                if diff == 0.0 { 0.0 } else { diff / ((old + new).abs() / 2.0) }
            }
            SceuaVariant::Spotpy if t >= k => {
                let window = &self.history[t - k..];
                let diff = (window[k - 1] - window[0]).abs() * 100.0;
                let mean = window.iter().map(|v| v.abs()).sum::<f64>() / k as f64;
                if mean == 0.0 { 0.0 } else { diff / mean }
            }
            _ => return false,
        };
        let done = match self.variant {
            SceuaVariant::Duan => change < self.pcento,
            SceuaVariant::Spotpy => change <= self.pcento,
        };
        if done {
            self.termination = format!(
                "the best value changed by {change:.3e} (pcento {:e}) over the last {k} of {t} loops",
                self.pcento
            );
        }
        done
    }

    /// Deals the sorted population into complexes and starts the first CCE step.
    fn start_loop(&mut self) {
        self.nloop += 1;
        self.step = 0;
        let ngs = self.ngs;
        self.complexes = (0..ngs)
            .map(|k| {
                let ranks = (0..self.npg).map(|i| i * ngs + k);
                Complex {
                    x: ranks.clone().map(|r| self.x[r].clone()).collect(),
                    f: ranks.map(|r| self.f[r]).collect(),
                    lcs: Vec::new(),
                    centroid: Vec::new(),
                    stage: Stage::Done,
                    trial: Vec::new(),
                }
            })
            .collect();
        self.start_step();
    }

    /// Every complex picks its sub-complex and proposes its reflection, in index order.
    fn start_step(&mut self) {
        for k in 0..self.complexes.len() {
            let lcs = self.pick_subcomplex();
            let c = &self.complexes[k];
            let n = self.space.dim();
            let mut centroid = vec![0.0; n];
            for &i in &lcs[..lcs.len() - 1] {
                for (s, v) in centroid.iter_mut().zip(&c.x[i]) {
                    *s += v;
                }
            }
            centroid.iter_mut().for_each(|s| *s /= (lcs.len() - 1) as f64);
            let worst = &c.x[lcs[lcs.len() - 1]];
            let reflection: Vec<f64> = centroid.iter().zip(worst).map(|(c, w)| c + (c - w)).collect();
            let trial = if self.space.contains(&reflection) { reflection } else { self.random_point(k, lcs[0]) };
            let c = &mut self.complexes[k];
            (c.lcs, c.centroid, c.trial, c.stage) = (lcs, centroid, trial, Stage::Reflection);
        }
    }

    /// The sub-complex's positions in the sorted complex, ascending.
    fn pick_subcomplex(&mut self) -> Vec<usize> {
        let (npg, nps) = (self.npg, self.nps);
        let mut lcs = Vec::with_capacity(nps);
        match self.variant {
            SceuaVariant::Duan if nps == npg => lcs.extend(0..npg),
            SceuaVariant::Duan => {
                while lcs.len() < nps {
                    let i = self.trapezoidal();
                    if !lcs.contains(&i) {
                        lcs.push(i);
                    }
                }
            }
            SceuaVariant::Spotpy => {
                lcs.push(1);
                while lcs.len() < nps {
                    let mut i = self.trapezoidal();
                    for _ in 1..1000 {
                        if !lcs.contains(&i) {
                            break;
                        }
                        i = self.trapezoidal();
                    }
                    lcs.push(i);
                }
            }
        }
        lcs.sort_unstable();
        lcs
    }

    /// A 0-based position in `0..npg`, position `i` with probability `2(npg−i)/(npg(npg+1))`.
    fn trapezoidal(&mut self) -> usize {
        let m = self.npg as f64;
        let u = self.rng.random_sample();
        let i = (m + 0.5 - ((m + 0.5) * (m + 0.5) - m * (m + 1.0) * u).sqrt()).floor();
        (i as usize).min(self.npg - 1)
    }

    /// A random replacement point for complex `k` whose sub-complex best is at position `best`.
    fn random_point(&mut self, k: usize, best: usize) -> Vec<f64> {
        match self.variant {
            SceuaVariant::Spotpy => self.space.sample(&mut self.rng),
            SceuaVariant::Duan => {
                let centre = self.complexes[k].x[best].clone();
                (0..self.space.dim())
                    .map(|j| {
                        loop {
                            let v = centre[j] + self.std[j] * self.rng.standard_normal();
                            if (self.space.lower(j)..=self.space.upper(j)).contains(&v) {
                                break v;
                            }
                        }
                    })
                    .collect()
            }
        }
    }

    /// Puts the complexes back into the population, shuffles and checks the stopping criteria; then drops a
    /// complex if allowed and starts the next loop.
    fn end_loop(&mut self) {
        let ngs = self.ngs;
        for (k, c) in std::mem::take(&mut self.complexes).into_iter().enumerate() {
            for (i, (x, f)) in c.x.into_iter().zip(c.f).enumerate() {
                self.x[i * ngs + k] = x;
                self.f[i * ngs + k] = f;
            }
        }
        let converged = !self.shuffle();
        self.history.push(self.f[0]);
        let stop = match self.variant {
            SceuaVariant::Duan => self.stagnated() || converged,
            SceuaVariant::Spotpy => converged || self.stagnated(),
        };
        if stop {
            self.phase = Phase::Stopped;
            return;
        }
        if self.ngs > self.mings {
            // Fortran `comp`: keep the first ngs − 1 complexes' ranks, in order (still sorted)
            let (old, new) = (self.ngs, self.ngs - 1);
            let keep: Vec<usize> = (0..self.npg).flat_map(|i| (0..new).map(move |k| i * old + k)).collect();
            self.x = keep.iter().map(|&r| std::mem::take(&mut self.x[r])).collect();
            self.f = keep.iter().map(|&r| self.f[r]).collect();
            self.ngs = new;
        }
        self.start_loop();
    }
}

/// The indices of `f` in ascending order of value (stable; `+inf` last).
fn sorted_order(f: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by(|&a, &b| f[a].total_cmp(&f[b]));
    order
}

impl Sampler for Sceua {
    fn name(&self) -> &'static str {
        "sceua"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        match self.phase {
            Phase::Start => {
                let npt = self.ngs * self.npg;
                self.x = (0..npt)
                    .map(|_| match self.variant {
                        SceuaVariant::Duan => self.space.sample_uniform(&mut self.rng),
                        SceuaVariant::Spotpy => self.space.sample(&mut self.rng),
                    })
                    .collect();
                self.phase = Phase::Initial;
                Some(self.x.iter().take(remaining).map(|x| Proposal::free(x.clone())).collect())
            }
            Phase::Evolve => {
                let stage = self.complexes.iter().map(|c| c.stage).find(|&s| s != Stage::Done)?;
                self.pending = (0..self.complexes.len()).filter(|&k| self.complexes[k].stage == stage).collect();
                // a batch cut by the budget ends the run (`tell` gets fewer values than `pending`)
                let batch = self.pending.iter().take(remaining);
                Some(batch.map(|&k| Proposal::of(k, self.complexes[k].trial.clone())).collect())
            }
            Phase::Initial | Phase::Stopped => None,
        }
    }

    fn tell(&mut self, values: &[f64]) {
        let values: Vec<f64> = values.iter().map(|&v| if v.is_nan() { f64::INFINITY } else { v }).collect();
        match self.phase {
            Phase::Initial => {
                if values.len() < self.x.len() {
                    self.phase = Phase::Stopped;
                    self.termination = "the budget ended within the initial population".into();
                    return;
                }
                self.f = values;
                if self.shuffle() {
                    self.phase = Phase::Evolve;
                    self.start_loop();
                } else {
                    self.phase = Phase::Stopped;
                }
            }
            Phase::Evolve => {
                if values.len() < self.pending.len() {
                    self.phase = Phase::Stopped;
                    self.termination = "the budget ended within a CCE step".into();
                    return;
                }
                for (&k, &v) in self.pending.clone().iter().zip(&values) {
                    self.advance(k, v);
                }
                if self.complexes.iter().all(|c| c.stage == Stage::Done) {
                    self.step += 1;
                    if self.step < self.nspl {
                        self.start_step();
                    } else {
                        self.end_loop();
                    }
                }
            }
            Phase::Start | Phase::Stopped => {}
        }
    }

    fn termination(&self) -> String {
        self.termination.clone()
    }
}

impl Sceua {
    /// Complex `k`'s trial point got value `v`: accept it, or move to the next stage.
    fn advance(&mut self, k: usize, v: f64) {
        let c = &self.complexes[k];
        let worst = c.lcs[c.lcs.len() - 1];
        let accept = c.stage == Stage::Random || v <= c.f[worst];
        if accept {
            let c = &mut self.complexes[k];
            c.x[worst] = std::mem::take(&mut c.trial);
            c.f[worst] = v;
            let order = sorted_order(&c.f);
            c.x = order.iter().map(|&i| std::mem::take(&mut c.x[i])).collect();
            c.f = order.iter().map(|&i| c.f[i]).collect();
            c.stage = Stage::Done;
        } else if c.stage == Stage::Reflection {
            let w = &c.x[worst];
            let trial = match self.variant {
                SceuaVariant::Duan => c.centroid.iter().zip(w).map(|(c, w)| c - 0.5 * (c - w)).collect(),
                SceuaVariant::Spotpy => c.centroid.iter().zip(w).map(|(c, w)| w + 0.5 * (c - w)).collect(),
            };
            let c = &mut self.complexes[k];
            (c.trial, c.stage) = (trial, Stage::Contraction);
        } else {
            let best = c.lcs[0];
            let trial = self.random_point(k, best);
            let c = &mut self.complexes[k];
            (c.trial, c.stage) = (trial, Stage::Random);
        }
    }
}

#[cfg(test)]
#[path = "sceua_tests.rs"]
mod tests;
