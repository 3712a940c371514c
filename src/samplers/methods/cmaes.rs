//! CMA-ES, the covariance matrix adaptation evolution strategy (Hansen 2016, *The CMA Evolution Strategy: A
//! Tutorial*, arXiv:1604.00772, Table 1 and Fig. 6, with positive recombination weights only as in
//! `pycma/cma/purecma.py`).
//!
//! **Coordinates.** The search runs in the unit cube: `u = (x − l)/(u − l)` per parameter, so `sigma0 = 0.3`
//! means 0.3 of every range and the stopping tolerances are relative to the ranges.
//!
//! **Defaults** (n parameters): λ = `popsize` = 4 + ⌊3 ln n⌋, μ = ⌊λ/2⌋, `w_i ∝ ln(μ + ½) − ln i` (i ≤ μ,
//! normalised), μ_eff = 1/Σw², c_c = (4 + μ_eff/n)/(n + 4 + 2μ_eff/n), c_σ = (μ_eff + 2)/(n + μ_eff + 5),
//! c₁ = 2/((n + 1.3)² + μ_eff), c_μ = min(1 − c₁, 2(μ_eff − 2 + 1/μ_eff)/((n + 2)² + μ_eff)),
//! d_σ = 1 + 2 max(0, √((μ_eff − 1)/(n + 1)) − 1) + c_σ, E‖N(0, I)‖ ≈ √n (1 − 1/(4n) + 1/(21n²)).
//!
//! **One generation = one batch** of λ points (`chain` = the index in the generation):
//! `y_k = B D z_k`, `x_k = m + σ y_k` with `z_k ~ N(0, I)` (drawn point by point, coordinate by coordinate);
//! the μ best give `⟨y⟩_w = Σ w_i y_{i:λ}`, `m ← m + σ⟨y⟩_w`,
//! `p_σ ← (1 − c_σ) p_σ + √(c_σ(2 − c_σ) μ_eff) C^{−½}⟨y⟩_w`, `σ ← σ exp((c_σ/d_σ)(‖p_σ‖/E‖N‖ − 1))`,
//! `h_σ = [‖p_σ‖/√(1 − (1 − c_σ)^{2(g+1)}) < (1.4 + 2/(n + 1)) E‖N‖]`,
//! `p_c ← (1 − c_c) p_c + h_σ √(c_c(2 − c_c) μ_eff) ⟨y⟩_w`,
//! `C ← (1 − c₁ − c_μ + (1 − h_σ) c₁ c_c (2 − c_c)) C + c₁ p_c p_cᵀ + c_μ Σ w_i y_{i:λ} y_{i:λ}ᵀ`.
//! The eigendecomposition `C = B D² Bᵀ` ([`super::linalg::symmetric_eigen`]) is refreshed when more than
//! `λ/((c₁ + c_μ) n 10)` evaluations have passed since the last one (the tutorial's lazy update; purecma
//! waits `λ/(2 (c₁ + c_μ) n)`).
//! The step-size rule is the tutorial's (and pycma's); purecma's squared-norm variant is not used.
//!
//! **Bounds: repair and penalty.** A point outside the cube is evaluated at its projection (clipped); the
//! unclipped point drives the update, ranked by `f(clip(x)) + γ ‖x − clip(x)‖²` with
//! `γ = 2 δf / (σ² mean(diag C))` and `δf` the interquartile range of the generation's finite values (1 when
//! zero): a point one standard deviation outside ranks about two interquartile ranges worse (after pycma's
//! `BoundPenalty`, without its adaptation of γ). Resampling was not chosen: near a boundary in many dimensions
//! almost every draw is outside. Non-finite values rank last.
//!
//! **Stopping** (purecma): `maxfevals` (default `100λ + 150(n + 3)²√λ`), `tolfun` (the generation's value
//! range below 1e-12), `tolx` (σ √max eig(C) below 1e-11, unit-cube coordinates), `tolconditioncov`
//! (condition number of C above 1e14), and `ftarget` if given. The driver's budget wins.
//!
//! `x0` defaults to the priors' medians.

use super::linalg::symmetric_eigen;
use crate::samplers::random::LegacyRandom;
use crate::samplers::{Proposal, Sampler, Space};

/// Options of [`Cmaes`] (pycma's names).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CmaesOptions {
    /// Initial mean `[n]` in parameter units, within the bounds; default: the priors' medians.
    pub x0: Option<Vec<f64>>,
    /// Initial step size as a fraction of every parameter's range.
    pub sigma0: f64,
    /// λ, points per generation; default `4 + ⌊3 ln n⌋`.
    pub popsize: Option<usize>,
    /// Evaluation limit; default `100λ + 150(n + 3)²√λ` (purecma).
    pub maxfevals: Option<usize>,
    /// Stop when the value range of a generation is below this.
    pub tolfun: f64,
    /// Stop when `σ √max eig(C)` (unit-cube coordinates) is below this.
    pub tolx: f64,
    /// Stop when the condition number of C exceeds this.
    pub tolconditioncov: f64,
    /// Stop when a value ≤ `ftarget` is found.
    pub ftarget: Option<f64>,
}

impl Default for CmaesOptions {
    fn default() -> Self {
        CmaesOptions {
            x0: None,
            sigma0: 0.3,
            popsize: None,
            maxfevals: None,
            tolfun: 1e-12,
            tolx: 1e-11,
            tolconditioncov: 1e14,
            ftarget: None,
        }
    }
}

/// CMA-ES in the unit cube (module docs).
#[derive(Clone, Debug)]
pub struct Cmaes {
    space: Space,
    options: CmaesOptions,
    rng: LegacyRandom,
    lambda: usize,
    weights: Vec<f64>,
    mueff: f64,
    cc: f64,
    cs: f64,
    c1: f64,
    cmu: f64,
    damps: f64,
    chi_n: f64,
    maxfevals: usize,
    /// Mean `[n]` (unit cube).
    mean: Vec<f64>,
    sigma: f64,
    pc: Vec<f64>,
    ps: Vec<f64>,
    /// `C` `[n, n]` row-major.
    c: Vec<f64>,
    /// Eigenvectors of C (columns) `[n, n]` and the square roots of its eigenvalues `[n]`.
    b: Vec<f64>,
    d: Vec<f64>,
    eigen_eval: usize,
    counteval: usize,
    generation: usize,
    /// The unclipped points of the last ask, `[λ][n]` (unit cube).
    points: Vec<Vec<f64>>,
    done: Option<String>,
}

impl Cmaes {
    pub fn new(
        space: Space,
        options: CmaesOptions,
        random_state: u32,
        _max_evaluations: usize,
    ) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        if !(options.sigma0 > 0.0 && options.sigma0.is_finite()) {
            return Err(format!("sigma0: must be > 0 (got {})", options.sigma0));
        }
        let lambda = options.popsize.unwrap_or(4 + (3.0 * (n as f64).ln()).floor() as usize);
        if lambda < 2 {
            return Err(format!("popsize: must be ≥ 2 (got {lambda})"));
        }
        for (key, v) in
            [("tolfun", options.tolfun), ("tolx", options.tolx), ("tolconditioncov", options.tolconditioncov)]
        {
            if v.is_nan() || v < 0.0 {
                return Err(format!("{key}: must be ≥ 0 (got {v})"));
            }
        }
        let mean = match &options.x0 {
            Some(x0) => {
                if x0.len() != n {
                    return Err(format!("x0: {} values for {n} parameters", x0.len()));
                }
                if !space.contains(x0) {
                    return Err(format!("x0: {x0:?} is outside the bounds"));
                }
                space.to_unit(x0)
            }
            None => space.to_unit(&space.parameters.iter().map(|p| p.prior.quantile(0.5)).collect::<Vec<_>>()),
        };
        let nf = n as f64;
        let mu = lambda / 2;
        let raw: Vec<f64> = (0..mu).map(|i| (mu as f64 + 0.5).ln() - ((i + 1) as f64).ln()).collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let cc = (4.0 + mueff / nf) / (nf + 4.0 + 2.0 * mueff / nf);
        let cs = (mueff + 2.0) / (nf + mueff + 5.0);
        let c1 = 2.0 / ((nf + 1.3).powi(2) + mueff);
        let cmu = (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((nf + 2.0).powi(2) + mueff));
        let damps = 1.0 + 2.0 * (((mueff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + cs;
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        let maxfevals = options.maxfevals.unwrap_or_else(|| {
            let l = lambda as f64;
            (100.0 * l + 150.0 * (nf + 3.0).powi(2) * l.sqrt()) as usize
        });
        let mut identity = vec![0.0; n * n];
        for i in 0..n {
            identity[i * n + i] = 1.0;
        }
        Ok(Cmaes {
            sigma: options.sigma0,
            space,
            options,
            rng: LegacyRandom::new(random_state),
            lambda,
            weights,
            mueff,
            cc,
            cs,
            c1,
            cmu,
            damps,
            chi_n,
            maxfevals,
            mean,
            pc: vec![0.0; n],
            ps: vec![0.0; n],
            c: identity.clone(),
            b: identity,
            d: vec![1.0; n],
            eigen_eval: 0,
            counteval: 0,
            generation: 0,
            points: Vec::new(),
            done: None,
        })
    }

    /// λ, the points per generation.
    pub fn popsize(&self) -> usize {
        self.lambda
    }

    /// The current mean in parameter units (clipped into the bounds) and step size (unit cube).
    pub fn mean(&self) -> (Vec<f64>, f64) {
        let mut m = self.mean.clone();
        clip_unit(&mut m);
        (self.space.from_unit(&m), self.sigma)
    }

    fn update_eigen(&mut self) {
        let n = self.space.dim();
        let (values, vectors) = symmetric_eigen(&self.c, n);
        self.d = values.iter().map(|v| v.max(0.0).sqrt()).collect();
        self.b = vectors;
        self.eigen_eval = self.counteval;
    }

    /// The stopping criterion met after a generation with sorted values `sorted`, if any.
    fn stop(&self, sorted: &[f64]) -> Option<String> {
        let o = &self.options;
        if !(self.sigma.is_finite() && self.sigma > 0.0 && self.mean.iter().all(|m| m.is_finite())) {
            return Some(format!("numerical: step size {} or mean not finite", self.sigma));
        }
        if self.counteval >= self.maxfevals {
            return Some(format!("maxfevals: {} evaluations", self.maxfevals));
        }
        if let Some(target) = o.ftarget
            && sorted[0] <= target
        {
            return Some(format!("ftarget: {} ≤ {target}", sorted[0]));
        }
        let (dmin, dmax) = self.d.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let condition = (dmax / dmin).powi(2);
        if condition.is_nan() || condition > o.tolconditioncov {
            return Some(format!("tolconditioncov: condition number of C {condition:e} > {:e}", o.tolconditioncov));
        }
        let range = sorted[sorted.len() - 1] - sorted[0];
        if range < o.tolfun {
            return Some(format!("tolfun: values of a generation within {range:e} < {:e}", o.tolfun));
        }
        let spread = self.sigma * dmax;
        if spread < o.tolx {
            return Some(format!("tolx: σ √max eig(C) = {spread:e} < {:e}", o.tolx));
        }
        None
    }
}

fn clip_unit(u: &mut [f64]) {
    for v in u {
        *v = v.clamp(0.0, 1.0);
    }
}

/// The interquartile range of the finite `values` (linear interpolation), 1 when it is zero or undefined.
fn interquartile(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return 1.0;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (i, t) = (h.floor() as usize, h - h.floor());
        if i + 1 < v.len() { v[i] + t * (v[i + 1] - v[i]) } else { v[i] }
    };
    let r = q(0.75) - q(0.25);
    if r > 0.0 { r } else { 1.0 }
}

impl Sampler for Cmaes {
    fn name(&self) -> &'static str {
        "cmaes"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if self.done.is_some() {
            return None;
        }
        let n = self.space.dim();
        let count = self.lambda.min(remaining);
        self.points = (0..count)
            .map(|_| {
                let z: Vec<f64> = (0..n).map(|_| self.rng.standard_normal()).collect();
                (0..n)
                    .map(|i| {
                        let y: f64 = (0..n).map(|j| self.b[i * n + j] * self.d[j] * z[j]).sum();
                        self.mean[i] + self.sigma * y
                    })
                    .collect()
            })
            .collect();
        Some(
            self.points
                .iter()
                .enumerate()
                .map(|(k, u)| {
                    let mut v = u.clone();
                    clip_unit(&mut v);
                    let mut x = self.space.from_unit(&v);
                    self.space.clip(&mut x);
                    Proposal::of(k, x)
                })
                .collect(),
        )
    }

    fn tell(&mut self, values: &[f64]) {
        let n = self.space.dim();
        self.counteval += values.len();
        if values.len() < self.lambda {
            // cut short by the budget: the driver stops after this batch
            self.done = Some("budget: generation cut short".into());
            return;
        }
        // rank by value plus the repair penalty
        let c_mean = (0..n).map(|i| self.c[i * n + i]).sum::<f64>() / n as f64;
        let gamma = 2.0 * interquartile(values) / (self.sigma * self.sigma * c_mean);
        let ranked: Vec<f64> = self
            .points
            .iter()
            .zip(values)
            .map(|(u, &f)| {
                if !f.is_finite() {
                    return f64::INFINITY;
                }
                let outside: f64 = u.iter().map(|v| (v - v.clamp(0.0, 1.0)).powi(2)).sum();
                f + gamma * outside
            })
            .collect();
        let mut order: Vec<usize> = (0..self.lambda).collect();
        order.sort_by(|&a, &b| ranked[a].total_cmp(&ranked[b]));
        let ys: Vec<Vec<f64>> = order[..self.weights.len()]
            .iter()
            .map(|&k| self.points[k].iter().zip(&self.mean).map(|(x, m)| (x - m) / self.sigma).collect())
            .collect();
        let yw: Vec<f64> = (0..n).map(|i| self.weights.iter().zip(&ys).map(|(w, y)| w * y[i]).sum()).collect();
        for (m, y) in self.mean.iter_mut().zip(&yw) {
            *m += self.sigma * y;
        }
        // C^{-1/2} ⟨y⟩_w = B D^{-1} Bᵀ ⟨y⟩_w
        let bty: Vec<f64> =
            (0..n).map(|j| (0..n).map(|i| self.b[i * n + j] * yw[i]).sum::<f64>() / self.d[j]).collect();
        let invsqrt_y: Vec<f64> = (0..n).map(|i| (0..n).map(|j| self.b[i * n + j] * bty[j]).sum()).collect();
        let ks = (self.cs * (2.0 - self.cs) * self.mueff).sqrt();
        for (p, v) in self.ps.iter_mut().zip(&invsqrt_y) {
            *p = (1.0 - self.cs) * *p + ks * v;
        }
        let ps_norm = self.ps.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.generation += 1;
        let correction = (1.0 - (1.0 - self.cs).powi(2 * self.generation as i32)).sqrt();
        let hsig = ps_norm / correction < (1.4 + 2.0 / (n as f64 + 1.0)) * self.chi_n;
        let kc = (self.cc * (2.0 - self.cc) * self.mueff).sqrt();
        for (p, y) in self.pc.iter_mut().zip(&yw) {
            *p = (1.0 - self.cc) * *p + if hsig { kc * y } else { 0.0 };
        }
        let decay = 1.0 - self.c1 - self.cmu + if hsig { 0.0 } else { self.c1 * self.cc * (2.0 - self.cc) };
        for i in 0..n {
            for j in 0..=i {
                let rank_mu: f64 = self.weights.iter().zip(&ys).map(|(w, y)| w * y[i] * y[j]).sum();
                let v = decay * self.c[i * n + j] + self.c1 * self.pc[i] * self.pc[j] + self.cmu * rank_mu;
                self.c[i * n + j] = v;
                self.c[j * n + i] = v;
            }
        }
        self.sigma *= ((self.cs / self.damps) * (ps_norm / self.chi_n - 1.0)).exp();
        let lazy = self.lambda as f64 / ((self.c1 + self.cmu) * n as f64 * 10.0);
        if (self.counteval - self.eigen_eval) as f64 > lazy {
            self.update_eigen();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        self.done = self.stop(&sorted);
    }

    fn termination(&self) -> String {
        self.done.clone().unwrap_or_else(|| "running".into())
    }
}

#[cfg(test)]
#[path = "cmaes_tests.rs"]
mod tests;
