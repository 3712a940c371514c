//! The observation cost `J_obs` (`mwd_cost.f90::classical_compute_jobs`, spec §7.1–7.6) and its exact
//! reverse-mode gradient in the simulated discharge.
//!
//! Per selected gauge, on the steps after the warm-up: `qs := −99` where `qo < 0`; for each component `c`
//! (in order) the transform `c` is applied **in place** to both series (so transforms accumulate, as in
//! smash), then the component value `j_{g,c}` is computed. The gauges are combined by
//! `Σ_g Σ_c (w_g·w_c)·j_{g,c}`, or, when the gauge weights are a quantile alias, by the quantile of
//! `Σ_c w_c·j_{g,c}` over the selected gauges at level `|w_1|` (the weight of the mesh's first gauge,
//! as smash reads it). Arithmetic is in `T`, in smash's order.

use super::efficiency::Metric;
use super::options::{CostOptions, JobsComponent, Transform};
use super::quantile::quantile;
use super::segmentation::{event_mask, events};
use super::signatures::Signature;
use crate::time::TimeAxis;
use hydrograd_models::Real;
use std::cmp::Ordering;

/// The data a cost is built from. Series are time-major `[T, G]` over the mesh's gauges.
#[derive(Debug, Clone, Copy)]
pub struct CostSetup<'a> {
    /// Gauge codes `[G]`, mesh order.
    pub codes: &'a [String],
    /// Observed discharge \[m³/s\] `[T, G]`; negative = missing.
    pub qobs: &'a [f32],
    /// Gauge mean precipitation \[mm per step\] `[T, G]` (smash's `mean_prcp`, −99 = missing).
    pub mean_prcp: &'a [f32],
    /// Delineated drained area of each gauge \[m²\] `[G]` (smash's `area_dln`).
    pub gauge_area: &'a [f64],
    /// Whether each gauge's cell has `flwdst == 0` `[G]`.
    pub downstream: &'a [bool],
    pub time: &'a TimeAxis,
}

/// One selected gauge's fixed data on the cost window.
#[derive(Debug, Clone)]
struct GaugeData<T> {
    /// Index among the mesh's gauges.
    index: usize,
    /// Observed discharge on the window `[W]`.
    qo: Vec<T>,
    /// Mean precipitation converted to m³/s, `[W]`.
    mprcp: Vec<T>,
    /// Window ranges `start..=end` of events `1..=n_event`; `None` for an event outside the window.
    events: Vec<Option<(usize, usize)>>,
}

/// A result of [`ObservationCost::evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<T> {
    /// The weighted observation cost `J_obs`.
    pub jobs: T,
    /// Component values `j_{g,c}` `[G, C]` (0 for gauges not in the cost).
    pub components: Vec<T>,
    /// `Σ_c w_c·j_{g,c}` per gauge `[G]` (0 for gauges not in the cost).
    pub gauge_jobs: Vec<T>,
}

/// The observation cost of one set of options on one data set, ready to evaluate many simulations.
#[derive(Debug, Clone)]
pub struct ObservationCost<T> {
    options: CostOptions,
    ntime: usize,
    ngauge: usize,
    gauges: Vec<GaugeData<T>>,
    wjobs: Vec<T>,
    wgauge: Vec<T>,
    /// `Some(|w_1|)` when the gauges are combined by a quantile.
    gauge_quantile: Option<T>,
}

impl<T: Real> ObservationCost<T> {
    /// Prepares the cost: windows of the observations, precipitation in m³/s and, when an event
    /// signature is used, the flood events (segmented on the whole period, on observed discharge and
    /// mean precipitation, as smash).
    pub fn new(options: &CostOptions, setup: &CostSetup) -> Self {
        let (nt, ng) = (setup.time.ntime, setup.codes.len());
        assert_eq!(setup.qobs.len(), nt * ng, "qobs is [T, G]");
        assert_eq!(setup.mean_prcp.len(), nt * ng, "mean_prcp is [T, G]");
        assert_eq!(options.gauge.len(), ng, "options are for another gauge list");
        let start = options.end_warmup.min(nt);
        let dt = setup.time.dt as f64;
        let column = |v: &[f32], g: usize| -> Vec<f32> { (0..nt).map(|t| v[t * ng + g]).collect() };
        let gauges = (0..ng)
            .filter(|&g| options.gauge[g])
            .map(|g| {
                let (qobs, prcp) = (column(setup.qobs, g), column(setup.mean_prcp, g));
                let area = T::from_f64(setup.gauge_area[g]);
                let (milli, tdt) = (T::from_f64(1e-3), T::from_f64(dt));
                let mprcp = prcp[start..].iter().map(|&p| T::from_f64(p as f64) * area * milli / tdt).collect();
                let events = if options.needs_events() {
                    let ev = events(&prcp, &qobs, &options.event_seg, dt);
                    let mask = event_mask(&ev, nt);
                    (1..=ev.len() as u32)
                        .map(|k| {
                            let first = mask[start..].iter().position(|&m| m == k)?;
                            let last = mask[start..].iter().rposition(|&m| m == k)?;
                            Some((first, last))
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                GaugeData {
                    index: g,
                    qo: qobs[start..].iter().map(|&q| T::from_f64(q as f64)).collect(),
                    mprcp,
                    events,
                }
            })
            .collect();
        let any_negative = options.wgauge.iter().any(|&w| w < 0.0);
        ObservationCost {
            options: options.clone(),
            ntime: nt,
            ngauge: ng,
            gauges,
            wjobs: options.wjobs_cmpt.iter().map(|&w| T::from_f64(w)).collect(),
            wgauge: options.wgauge.iter().map(|&w| T::from_f64(w)).collect(),
            gauge_quantile: any_negative.then(|| T::from_f64(options.wgauge.first().copied().unwrap_or(0.0).abs())),
        }
    }

    pub fn options(&self) -> &CostOptions {
        &self.options
    }

    /// Codes-free list of the selected gauges (mesh indices) with no observation in the cost window;
    /// smash's `optimize` refuses those.
    pub fn unobserved_gauges(&self) -> Vec<usize> {
        self.gauges.iter().filter(|g| g.qo.iter().all(|&q| q < T::ZERO)).map(|g| g.index).collect()
    }

    /// Evaluates `J_obs` for `qsim` (`[T, G]` m³/s) and, with `gradient` (`[T, G]`, overwritten),
    /// `∂J_obs/∂qsim`: exact where the cost is differentiable, along the branch taken at the min/max,
    /// quantile and argmax points; zero for Elt, before the warm-up end, where `qobs < 0` and at gauges
    /// not in the cost.
    pub fn evaluate(&self, qsim: &[T], gradient: Option<&mut [T]>) -> Evaluation<T> {
        let (nt, ng, nc) = (self.ntime, self.ngauge, self.options.jobs_cmpt.len());
        assert_eq!(qsim.len(), nt * ng, "qsim is [T, G]");
        let start = self.options.end_warmup.min(nt);
        let window = |g: usize| -> Vec<T> { (start..nt).map(|t| qsim[t * ng + g]).collect() };

        let mut components = vec![T::ZERO; ng * nc];
        let mut gauge_jobs = vec![T::ZERO; ng];
        for gd in &self.gauges {
            let values = self.gauge_pass(gd, &window(gd.index), None);
            let mut s = T::ZERO;
            for (c, &v) in values.iter().enumerate() {
                components[gd.index * nc + c] = v;
                s += self.wjobs[c] * v;
            }
            gauge_jobs[gd.index] = s;
        }

        // combine gauges, and the weight of each j_{g,c} in J
        let mut bars = vec![T::ZERO; ng * nc];
        let jobs = if let Some(level) = self.gauge_quantile {
            let selected: Vec<T> = self.gauges.iter().map(|gd| gauge_jobs[gd.index]).collect();
            let pick = quantile(&selected, level);
            let mut bar_g = vec![T::ZERO; selected.len()];
            pick.backward(T::ONE, &mut bar_g);
            for (gd, &b) in self.gauges.iter().zip(&bar_g) {
                for c in 0..nc {
                    bars[gd.index * nc + c] = b * self.wjobs[c];
                }
            }
            pick.value
        } else {
            let mut jobs = T::ZERO;
            for gd in &self.gauges {
                for c in 0..nc {
                    let w = self.wgauge[gd.index] * self.wjobs[c];
                    jobs += w * components[gd.index * nc + c];
                    bars[gd.index * nc + c] = w;
                }
            }
            jobs
        };

        if let Some(grad) = gradient {
            assert_eq!(grad.len(), nt * ng, "gradient is [T, G]");
            grad.iter_mut().for_each(|v| *v = T::ZERO);
            for gd in &self.gauges {
                let mut gw = vec![T::ZERO; nt - start];
                self.gauge_pass(gd, &window(gd.index), Some((&bars[gd.index * nc..(gd.index + 1) * nc], &mut gw)));
                for (k, v) in gw.into_iter().enumerate() {
                    grad[(start + k) * ng + gd.index] = v;
                }
            }
        }
        Evaluation { jobs, components, gauge_jobs }
    }

    /// Component values of one gauge on simulated window `qsim`; with `back = (bars, grad)` also adds
    /// `Σ_c bars_c·∂j_c/∂qsim` to `grad` (`[W]`).
    fn gauge_pass(&self, gd: &GaugeData<T>, qsim: &[T], back: Option<(&[T], &mut [T])>) -> Vec<T> {
        let missing = T::from_f64(-99.0);
        let mut qo = gd.qo.clone();
        let mut qs: Vec<T> = qsim.iter().zip(&qo).map(|(&s, &o)| if o < T::ZERO { missing } else { s }).collect();
        let nc = self.options.jobs_cmpt.len();
        let keep_stages = back.is_some();
        let mut stages: Vec<Stage<T>> = Vec::new();
        let mut values = Vec::with_capacity(nc);
        for c in 0..nc {
            let tfm = self.options.jobs_cmpt_tfm[c];
            let before = transform(tfm, &mut qo, &mut qs);
            values.push(component(self.options.jobs_cmpt[c], &qo, &qs, &gd.mprcp, &gd.events, None));
            if keep_stages {
                stages.push(Stage { qo: qo.clone(), qs: qs.clone(), before });
            }
        }
        if let Some((bars, grad)) = back {
            let mut adj = vec![T::ZERO; qs.len()];
            for c in (0..nc).rev() {
                let Stage { qo: qo_c, qs: qs_c, before } = &stages[c];
                component(self.options.jobs_cmpt[c], qo_c, qs_c, &gd.mprcp, &gd.events, Some((bars[c], &mut adj)));
                if let Some((qs_prev, e)) = before {
                    let tfm = self.options.jobs_cmpt_tfm[c];
                    for (a, &q) in adj.iter_mut().zip(qs_prev) {
                        if q >= T::ZERO {
                            *a *= match tfm {
                                Transform::Sqrt => T::ONE / (T::from_f64(2.0) * (q + *e).sqrt()),
                                Transform::Inv => -T::ONE / ((q + *e) * (q + *e)),
                                Transform::Keep => T::ONE,
                            };
                        }
                    }
                }
            }
            // qs = −99 where qo < 0: no dependence there
            for ((g, a), &o) in grad.iter_mut().zip(adj).zip(&gd.qo) {
                if o < T::ZERO {
                    continue;
                }
                *g += a;
            }
        }
        values
    }
}

/// The series a component saw, and the simulated series before its transform with `ε` (when it had one).
struct Stage<T> {
    qo: Vec<T>,
    qs: Vec<T>,
    before: Option<(Vec<T>, T)>,
}

/// smash's `discharge_tranformation`, in place; returns the simulated series before it and `ε` when it
/// changed anything. `ε = 0.01·mean(qo ≥ 0)`.
fn transform<T: Real>(tfm: Transform, qo: &mut [T], qs: &mut [T]) -> Option<(Vec<T>, T)> {
    if tfm == Transform::Keep {
        return None;
    }
    let (mut n, mut s) = (0usize, T::ZERO);
    for &q in qo.iter().filter(|&&q| q >= T::ZERO) {
        s += q;
        n += 1;
    }
    let e = T::from_f64(1e-2) * (s / T::from_f64(n as f64));
    let before = qs.to_vec();
    let f = |q: T| if tfm == Transform::Sqrt { (q + e).sqrt() } else { T::ONE / (q + e) };
    for q in qo.iter_mut().chain(qs.iter_mut()) {
        if *q >= T::ZERO {
            *q = f(*q);
        }
    }
    Some((before, e))
}

/// Value of one component on (transformed) series; with `back = (bar, grad)` adds `bar·∂j/∂qs` to `grad`.
fn component<T: Real>(
    c: JobsComponent,
    qo: &[T],
    qs: &[T],
    p: &[T],
    events: &[Option<(usize, usize)>],
    back: Option<(T, &mut [T])>,
) -> T {
    match c {
        JobsComponent::Metric(m) => {
            let complement = matches!(m, Metric::Nse | Metric::Nnse | Metric::Kge);
            match back {
                Some((bar, g)) => {
                    let v = m.backward(qo, qs, if complement { -bar } else { bar }, g);
                    if complement { T::ONE - v } else { v }
                }
                None => {
                    let v = m.value(qo, qs);
                    if complement { T::ONE - v } else { v }
                }
            }
        }
        JobsComponent::Continuous(s) => ratio_term(s, p, qo, qs, T::ONE, back).unwrap_or(T::ZERO),
        JobsComponent::Event(s) => {
            let (mut sum, mut n) = (T::ZERO, 0usize);
            // forward: which events count (S_obs > 0)
            for &(a, b) in events.iter().flatten() {
                if let Some(v) = ratio_term(s, &p[a..=b], &qo[a..=b], &qs[a..=b], T::ONE, None) {
                    sum += v;
                    n += 1;
                }
            }
            let nf = T::from_f64(n as f64);
            if let Some((bar, g)) = back {
                for &(a, b) in events.iter().flatten() {
                    ratio_term(s, &p[a..=b], &qo[a..=b], &qs[a..=b], T::ONE / nf, Some((bar, &mut g[a..=b])));
                }
            }
            sum / nf
        }
    }
}

/// `(S(qs)/S(qo) − 1)²` when `S(qo) > 0`, else `None`; with `back`, adds `bar·scale·∂/∂qs` to `grad`.
fn ratio_term<T: Real>(s: Signature, p: &[T], qo: &[T], qs: &[T], scale: T, back: Option<(T, &mut [T])>) -> Option<T> {
    let s_obs = s.value(p, qo);
    if s_obs.partial_cmp(&T::ZERO) != Some(Ordering::Greater) {
        return None;
    }
    let s_sim = s.value(p, qs);
    let d = s_sim / s_obs - T::ONE;
    if let Some((bar, g)) = back
        && s != Signature::Lt
    {
        s.backward(p, qs, bar * scale * T::from_f64(2.0) * d / s_obs, g);
    }
    Some(d * d)
}

#[cfg(test)]
mod tests;
