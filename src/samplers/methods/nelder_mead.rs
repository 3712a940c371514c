//! Nelder–Mead downhill simplex, as scipy 1.17's `minimize(method="Nelder-Mead", bounds=...)`
//! (`scipy/optimize/_optimize.py::_minimize_neldermead`).
//!
//! Given the same `x0`, options and values, the method evaluates the same points in the same order as scipy
//! (checked bit for bit on Rosenbrock by `tests/scipy_nelder_mead.rs`):
//! - coefficients ρ = 1 (reflection), χ = 2 (expansion), ψ = 0.5 (contraction), σ = 0.5 (shrink); with
//!   `adaptive` (Gao & Han 2012) χ = 1 + 2/n, ψ = 0.75 − 1/(2n), σ = 1 − 1/n;
//! - initial simplex: `x0` (clipped into the bounds), then `x0` with coordinate k scaled by 1.05 (0 → 0.00025);
//!   vertices above an upper bound are reflected below it (`2u − x`), then every vertex is clipped (scipy's
//!   `bounds=` handling);
//! - each iteration reflects the worst vertex through the centroid of the others, then expands, contracts
//!   outside or inside, or shrinks towards the best vertex; every trial point is clipped into the bounds;
//! - stops when `max |x_i − x_0| ≤ xatol` **and** `max |f_i − f_0| ≤ fatol` over the simplex, or after
//!   `maxiter` iterations or `maxfev` evaluations (both `200 n` when neither is given; when only one is given
//!   the other is unlimited, as in scipy). The driver's budget wins over both.
//!
//! `x0` defaults to the priors' medians. The n + 1 initial vertices and the n shrink points are asked as one
//! batch each (scipy evaluates them one at a time, in the same order, with nothing in between that depends on
//! their values, so the sequence is the same); reflection, expansion and contraction points are asked one at
//! a time. Vertices are sorted by value with a stable sort after each iteration (scipy's `np.argsort` is not
//! guaranteed stable: the order of exactly tied values may differ from scipy's).
//!
//! Not offered: scipy's `initial_simplex` and `return_all`. An `x0` outside the bounds is an error (scipy
//! clips it with a warning).

use crate::samplers::{Proposal, Sampler, Space};

/// Options of [`NelderMead`] (scipy's names and defaults).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NelderMeadOptions {
    /// Starting point `[n]`, within the bounds; default: the priors' medians.
    pub x0: Option<Vec<f64>>,
    /// Gao & Han's dimension-dependent coefficients (χ = 1 + 2/n, ψ = 0.75 − 1/(2n), σ = 1 − 1/n).
    pub adaptive: bool,
    /// Convergence: largest coordinate distance of a vertex to the best one (parameter units).
    pub xatol: f64,
    /// Convergence: largest value difference of a vertex to the best one.
    pub fatol: f64,
    /// Maximum iterations; default `200 n` if `maxfev` is unset too, else unlimited.
    pub maxiter: Option<usize>,
    /// Maximum evaluations; default `200 n` if `maxiter` is unset too, else unlimited.
    pub maxfev: Option<usize>,
}

impl Default for NelderMeadOptions {
    fn default() -> Self {
        NelderMeadOptions { x0: None, adaptive: false, xatol: 1e-4, fatol: 1e-4, maxiter: None, maxfev: None }
    }
}

/// What the last ask evaluates.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    /// The initial simplex.
    Initial,
    /// The reflected point.
    Reflect,
    /// The expanded point, after a reflection of value `fxr` better than the best.
    Expand { xr: Vec<f64>, fxr: f64 },
    /// The outside contraction, after a reflection of value `fxr`.
    Contract { fxr: f64 },
    /// The inside contraction.
    InsideContract,
    /// The shrunk vertices 1..=n.
    Shrink,
    /// Stopped on a criterion (the message).
    Done(String),
}

/// scipy's Nelder–Mead simplex (module docs).
#[derive(Clone, Debug)]
pub struct NelderMead {
    space: Space,
    options: NelderMeadOptions,
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// (ρ, χ, ψ, σ).
    coefficients: (f64, f64, f64, f64),
    maxiter: usize,
    maxfev: usize,
    /// Vertices `[n + 1][n]`, sorted by value after each iteration.
    simplex: Vec<Vec<f64>>,
    values: Vec<f64>,
    step: Step,
    /// The points of the pending batch (the last ask).
    pending: Vec<Vec<f64>>,
    /// How many of `pending` the last ask returned.
    asked: usize,
    fcalls: usize,
    iterations: usize,
}

impl NelderMead {
    /// A simplex search over `space`; `random_state` and `max_evaluations` are unused (the method is
    /// deterministic and the driver enforces the budget).
    pub fn new(
        space: Space,
        options: NelderMeadOptions,
        _random_state: u32,
        _max_evaluations: usize,
    ) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: the space has no parameter".into());
        }
        if options.xatol.is_nan() || options.xatol < 0.0 {
            return Err(format!("xatol: must be ≥ 0 (got {})", options.xatol));
        }
        if options.fatol.is_nan() || options.fatol < 0.0 {
            return Err(format!("fatol: must be ≥ 0 (got {})", options.fatol));
        }
        let lower: Vec<f64> = (0..n).map(|i| space.lower(i)).collect();
        let upper: Vec<f64> = (0..n).map(|i| space.upper(i)).collect();
        let x0 = match &options.x0 {
            Some(x0) => {
                if x0.len() != n {
                    return Err(format!("x0: {} values for {n} parameters", x0.len()));
                }
                if let Some(i) = (0..n).find(|&i| !(lower[i]..=upper[i]).contains(&x0[i])) {
                    return Err(format!(
                        "x0: {} = {} is outside [{}, {}]",
                        space.parameters[i].name, x0[i], lower[i], upper[i]
                    ));
                }
                x0.clone()
            }
            None => space.parameters.iter().map(|p| p.prior.quantile(0.5)).collect(),
        };
        let (maxiter, maxfev) = match (options.maxiter, options.maxfev) {
            (None, None) => (200 * n, 200 * n),
            (Some(i), None) => (i, usize::MAX),
            (None, Some(f)) => (usize::MAX, f),
            (Some(i), Some(f)) => (i, f),
        };
        let coefficients = if options.adaptive {
            let dim = n as f64;
            (1.0, 1.0 + 2.0 / dim, 0.75 - 1.0 / (2.0 * dim), 1.0 - 1.0 / dim)
        } else {
            (1.0, 2.0, 0.5, 0.5)
        };
        // scipy: clip x0, scale each coordinate in turn, reflect below the upper bounds, clip
        let x0: Vec<f64> = x0.iter().enumerate().map(|(i, v)| v.clamp(lower[i], upper[i])).collect();
        let mut simplex = vec![x0.clone()];
        for k in 0..n {
            let mut y = x0.clone();
            y[k] = if y[k] != 0.0 { (1.0 + 0.05) * y[k] } else { 0.00025 };
            simplex.push(y);
        }
        for vertex in &mut simplex {
            for (i, v) in vertex.iter_mut().enumerate() {
                if *v > upper[i] {
                    *v = 2.0 * upper[i] - *v;
                }
                *v = v.clamp(lower[i], upper[i]);
            }
        }
        Ok(NelderMead {
            space,
            options,
            lower,
            upper,
            coefficients,
            maxiter,
            maxfev,
            values: vec![f64::INFINITY; n + 1],
            pending: simplex.clone(),
            simplex,
            step: Step::Initial,
            asked: 0,
            fcalls: 0,
            iterations: 1,
        })
    }

    /// The best vertex and its value (the first of the sorted simplex).
    pub fn best(&self) -> (&[f64], f64) {
        (&self.simplex[0], self.values[0])
    }

    fn clip(&self, x: &mut [f64]) {
        for (i, v) in x.iter_mut().enumerate() {
            *v = v.clamp(self.lower[i], self.upper[i]);
        }
    }

    /// `a·xbar − b·worst`, clipped (scipy's operation order).
    fn combine(&self, xbar: &[f64], a: f64, b: f64) -> Vec<f64> {
        let worst = self.simplex.last().expect("n + 1 vertices");
        let mut x: Vec<f64> = xbar.iter().zip(worst).map(|(m, w)| a * m - b * w).collect();
        self.clip(&mut x);
        x
    }

    /// The centroid of all vertices but the worst: `Σ sim[:-1] / n`, summed in vertex order.
    fn centroid(&self) -> Vec<f64> {
        let n = self.space.dim();
        let mut sum = self.simplex[0].clone();
        for vertex in &self.simplex[1..n] {
            for (s, v) in sum.iter_mut().zip(vertex) {
                *s += v;
            }
        }
        sum.iter().map(|s| s / n as f64).collect()
    }

    /// Sorts the simplex by value (stable).
    fn sort(&mut self) {
        let mut order: Vec<usize> = (0..self.values.len()).collect();
        order.sort_by(|&a, &b| self.values[a].total_cmp(&self.values[b]));
        self.simplex = order.iter().map(|&i| self.simplex[i].clone()).collect();
        self.values = order.iter().map(|&i| self.values[i]).collect();
    }

    /// Checks the stopping criteria and prepares the next reflection (the top of scipy's loop).
    fn start_iteration(&mut self) {
        if self.fcalls >= self.maxfev {
            self.step = Step::Done(format!("maxfev: {} evaluations", self.maxfev));
            return;
        }
        if self.iterations >= self.maxiter {
            self.step = Step::Done(format!("maxiter: {} iterations", self.maxiter));
            return;
        }
        let (x0, f0) = (&self.simplex[0], self.values[0]);
        let dx =
            self.simplex[1..].iter().flat_map(|v| v.iter().zip(x0).map(|(a, b)| (a - b).abs())).fold(0.0, f64::max);
        let df = self.values[1..].iter().map(|f| (f0 - f).abs()).fold(0.0, f64::max);
        if dx <= self.options.xatol && df <= self.options.fatol {
            self.step = Step::Done(format!(
                "converged: simplex within xatol = {} and fatol = {}",
                self.options.xatol, self.options.fatol
            ));
            return;
        }
        let rho = self.coefficients.0;
        let xr = self.combine(&self.centroid(), 1.0 + rho, rho);
        self.pending = vec![xr];
        self.step = Step::Reflect;
    }

    /// Ends an iteration: count it, sort, start the next one.
    fn end_iteration(&mut self) {
        self.iterations += 1;
        self.sort();
        self.start_iteration();
    }

    fn replace_worst(&mut self, x: Vec<f64>, f: f64) {
        let n = self.space.dim();
        self.simplex[n] = x;
        self.values[n] = f;
    }

    fn shrink(&mut self) {
        let sigma = self.coefficients.3;
        let best = self.simplex[0].clone();
        self.pending = self.simplex[1..]
            .iter()
            .map(|v| {
                let mut x: Vec<f64> = best.iter().zip(v).map(|(b, x)| b + sigma * (x - b)).collect();
                self.clip(&mut x);
                x
            })
            .collect();
        self.step = Step::Shrink;
    }
}

impl Sampler for NelderMead {
    fn name(&self) -> &'static str {
        "nelder_mead"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if let Step::Done(_) = self.step {
            return None;
        }
        let left = self.maxfev.saturating_sub(self.fcalls);
        if left == 0 {
            self.step = Step::Done(format!("maxfev: {} evaluations", self.maxfev));
            return None;
        }
        self.asked = self.pending.len().min(remaining).min(left);
        Some(self.pending[..self.asked].iter().map(|x| Proposal::free(x.clone())).collect())
    }

    fn tell(&mut self, values: &[f64]) {
        assert!(values.len() <= self.asked, "nelder_mead: told {} values for {} points", values.len(), self.asked);
        self.fcalls += values.len();
        if values.len() < self.pending.len() {
            // cut short by the budget: keep what was evaluated, then stop
            if self.step == Step::Initial || self.step == Step::Shrink {
                let offset = usize::from(self.step == Step::Shrink);
                for (k, &f) in values.iter().enumerate() {
                    self.simplex[offset + k] = self.pending[k].clone();
                    self.values[offset + k] = f;
                }
                self.sort();
            }
            self.step = Step::Done(format!("maxfev: {} evaluations", self.fcalls));
            return;
        }
        let n = self.space.dim();
        let (rho, chi, psi, _) = self.coefficients;
        match std::mem::replace(&mut self.step, Step::Reflect) {
            Step::Initial => {
                self.values.copy_from_slice(values);
                self.sort();
                self.start_iteration();
            }
            Step::Reflect => {
                let (xr, fxr) = (self.pending.pop().expect("one point"), values[0]);
                if fxr < self.values[0] {
                    let xe = self.combine(&self.centroid(), 1.0 + rho * chi, rho * chi);
                    self.pending = vec![xe];
                    self.step = Step::Expand { xr, fxr };
                } else if fxr < self.values[n - 1] {
                    self.replace_worst(xr, fxr);
                    self.end_iteration();
                } else if fxr < self.values[n] {
                    let xc = self.combine(&self.centroid(), 1.0 + psi * rho, psi * rho);
                    self.pending = vec![xc];
                    self.step = Step::Contract { fxr };
                } else {
                    // inside contraction: (1 − ψ) x̄ + ψ x_worst
                    let xbar = self.centroid();
                    let worst = &self.simplex[n];
                    let mut xcc: Vec<f64> = xbar.iter().zip(worst).map(|(m, w)| (1.0 - psi) * m + psi * w).collect();
                    self.clip(&mut xcc);
                    self.pending = vec![xcc];
                    self.step = Step::InsideContract;
                }
            }
            Step::Expand { xr, fxr } => {
                let (xe, fxe) = (self.pending.pop().expect("one point"), values[0]);
                if fxe < fxr {
                    self.replace_worst(xe, fxe);
                } else {
                    self.replace_worst(xr, fxr);
                }
                self.end_iteration();
            }
            Step::Contract { fxr } => {
                let (xc, fxc) = (self.pending.pop().expect("one point"), values[0]);
                if fxc <= fxr {
                    self.replace_worst(xc, fxc);
                    self.end_iteration();
                } else {
                    self.shrink();
                }
            }
            Step::InsideContract => {
                let (xcc, fxcc) = (self.pending.pop().expect("one point"), values[0]);
                if fxcc < self.values[n] {
                    self.replace_worst(xcc, fxcc);
                    self.end_iteration();
                } else {
                    self.shrink();
                }
            }
            Step::Shrink => {
                let points = std::mem::take(&mut self.pending);
                for (k, (x, &f)) in points.into_iter().zip(values).enumerate() {
                    self.simplex[k + 1] = x;
                    self.values[k + 1] = f;
                }
                self.end_iteration();
            }
            Step::Done(message) => self.step = Step::Done(message),
        }
    }

    fn termination(&self) -> String {
        match &self.step {
            Step::Done(message) => message.clone(),
            _ => "running".into(),
        }
    }
}

#[cfg(test)]
#[path = "nelder_mead_tests.rs"]
mod tests;
