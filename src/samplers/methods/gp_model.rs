//! The Gaussian-process surrogate of [`gp`](super::gp): a Matérn-5/2 kernel with one length scale per
//! dimension (ARD), its log marginal likelihood with the analytic gradient, and the fit of the
//! hyperparameters by a projected L-BFGS in log space (Rasmussen & Williams 2006, *Gaussian Processes for
//! Machine Learning*, §4.2 and §5.4.1).
//!
//! Inputs are unit coordinates `[0, 1]ᵈ` and outputs standardised, so the hyperparameter box is fixed:
//! `θ = (ln ℓ₁ … ln ℓ_d, ln s², ln σ²)` with `ℓ ∈ [0.01, 20]`, `s² ∈ [0.05, 20]`, `σ² ∈ [1e-9, 1]`,
//!
//! `k(x, x') = s² (1 + √5 r + 5r²/3) exp(−√5 r)`, `r² = Σ_d (x_d − x'_d)² / ℓ_d²`,
//!
//! and `K = k(X, X) + (σ² + nugget) I`. Each evaluation of the likelihood costs a Cholesky factorisation
//! and the inverse of `K`: `O(N³)`.

use super::linalg::{cholesky, cholesky_solve};

const SQRT5: f64 = 2.236_067_977_499_79;

/// The box of `θ`, `[d + 2]` pairs (see the module doc).
pub fn theta_bounds(d: usize) -> Vec<(f64, f64)> {
    let mut b = vec![(0.01_f64.ln(), 20.0_f64.ln()); d];
    b.push((0.05_f64.ln(), 20.0_f64.ln()));
    b.push((1e-9_f64.ln(), 0.0));
    b
}

/// `aᵀb` with four partial sums (vectorisable; the `O(N³)` loops of the fit are made of it).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(p, q)| p * q).sum();
    let mut acc = [0.0; 4];
    for (p, q) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += p[k] * q[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The Matérn-5/2 value and `−(1/r) dk/dr / s² = (5/3)(1 + √5 r) e^{−√5 r}` at `r² = r2` (unit variance).
fn matern(r2: f64) -> (f64, f64) {
    let r = r2.sqrt();
    let e = (-SQRT5 * r).exp();
    ((1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e, 5.0 / 3.0 * (1.0 + SQRT5 * r) * e)
}

fn scaled_r2(a: &[f64], b: &[f64], inv_ls2: &[f64]) -> f64 {
    a.iter().zip(b).zip(inv_ls2).map(|((p, q), w)| (p - q) * (p - q) * w).sum()
}

/// `K` `[N, N]` row-major for the points `x` `[N][d]`.
fn covariance(x: &[Vec<f64>], theta: &[f64], nugget: f64) -> Vec<f64> {
    let (n, d) = (x.len(), theta.len() - 2);
    let inv_ls2: Vec<f64> = theta[..d].iter().map(|t| (-2.0 * t).exp()).collect();
    let (s2, noise) = (theta[d].exp(), theta[d + 1].exp());
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        k[i * n + i] = s2 + noise + nugget;
        for j in 0..i {
            let v = s2 * matern(scaled_r2(&x[i], &x[j], &inv_ls2)).0;
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
    }
    k
}

/// The negative log marginal likelihood `½ yᵀK⁻¹y + ½ ln|K| + (N/2) ln 2π` and, if `gradient`, its
/// gradient in `θ` (else an empty vector); `None` where `K` is not numerically positive definite.
pub fn neg_log_likelihood(
    x: &[Vec<f64>],
    y: &[f64],
    theta: &[f64],
    nugget: f64,
    gradient: bool,
) -> Option<(f64, Vec<f64>)> {
    let (n, d) = (x.len(), theta.len() - 2);
    let mut l = covariance(x, theta, nugget);
    cholesky(&mut l, n).ok()?;
    let mut alpha = y.to_vec();
    cholesky_solve(&l, n, &mut alpha);
    let log_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
    let value = 0.5 * y.iter().zip(&alpha).map(|(a, b)| a * b).sum::<f64>()
        + log_det
        + 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    if !gradient {
        return Some((value, Vec::new()));
    }
    // m[j][k] = (L⁻¹)_kj, so that (K⁻¹)_ij = Σ_k≥max(i,j) m[i][k] m[j][k]
    let mut m = vec![0.0; n * n];
    for j in 0..n {
        m[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let s = dot(&l[i * n + j..i * n + i], &m[j * n + j..j * n + i]);
            m[j * n + i] = -s / l[i * n + i];
        }
    }
    let inv_ls2: Vec<f64> = theta[..d].iter().map(|t| (-2.0 * t).exp()).collect();
    let (s2, noise) = (theta[d].exp(), theta[d + 1].exp());
    let mut grad = vec![0.0; d + 2];
    for i in 0..n {
        // W = ααᵀ − K⁻¹; dNLL/dθ = −½ Σ_ij W_ij ∂K_ij/∂θ
        let row_i = &m[i * n + i..i * n + n];
        let k_inv_ii = dot(row_i, row_i);
        let w_ii = alpha[i] * alpha[i] - k_inv_ii;
        grad[d] -= 0.5 * w_ii * s2;
        grad[d + 1] -= 0.5 * w_ii * noise;
        for j in 0..i {
            let k_inv_ij = dot(row_i, &m[j * n + i..j * n + n]);
            let w_ij = alpha[i] * alpha[j] - k_inv_ij;
            let (kv, dk) = matern(scaled_r2(&x[i], &x[j], &inv_ls2));
            grad[d] -= w_ij * s2 * kv; // twice ½: the pair (j, i) too
            let g = w_ij * s2 * dk;
            for c in 0..d {
                let delta = x[i][c] - x[j][c];
                grad[c] -= g * delta * delta * inv_ls2[c];
            }
        }
    }
    Some((value, grad))
}

/// The hyperparameters of least [`neg_log_likelihood`] over the L-BFGS runs from each of `starts`
/// (the first start wins ties).
pub fn fit(x: &[Vec<f64>], y: &[f64], starts: &[Vec<f64>], nugget: f64) -> Vec<f64> {
    let bounds = theta_bounds(x[0].len());
    let mut best: Option<(f64, Vec<f64>)> = None;
    for start in starts {
        let (theta, value) = minimize_box(|t, g| neg_log_likelihood(x, y, t, nugget, g), start, &bounds, 100);
        if best.as_ref().is_none_or(|(v, _)| value < *v) {
            best = Some((value, theta));
        }
    }
    best.expect("at least one start").1
}

/// Projected L-BFGS (memory 6) with Armijo backtracking along the projected path: a compact stand-in for
/// scipy's L-BFGS-B, enough for a smooth likelihood in a box. The quasi-Newton step works on the free
/// variables (those not held on a bound by their gradient); when that set changes, the curvature pairs
/// are restricted to the variables still free.
/// Stops as L-BFGS-B's defaults: relative decrease below `2.2e-9` or projected gradient below `1e-5`.
///
/// # Arguments
/// * `f(x, gradient)` — the value and, if `gradient`, the gradient at `x`; `None` where undefined.
///
/// # Returns
/// The last accepted point and its value (`+inf` if `f` is undefined at the projected start).
pub fn minimize_box(
    mut f: impl FnMut(&[f64], bool) -> Option<(f64, Vec<f64>)>,
    start: &[f64],
    bounds: &[(f64, f64)],
    max_iter: usize,
) -> (Vec<f64>, f64) {
    let project = |x: &mut [f64]| x.iter_mut().zip(bounds).for_each(|(v, &(lo, hi))| *v = v.clamp(lo, hi));
    let mut x = start.to_vec();
    project(&mut x);
    let Some((mut fx, mut g)) = f(&x, true) else { return (x, f64::INFINITY) };
    let mut memory: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new(); // (s, y, 1/sᵀy) on the free variables
    let mut active = vec![false; x.len()];
    for _ in 0..max_iter {
        let now: Vec<bool> =
            (0..x.len()).map(|i| (x[i] <= bounds[i].0 && g[i] > 0.0) || (x[i] >= bounds[i].1 && g[i] < 0.0)).collect();
        let mask =
            |v: &mut [f64], active: &[bool]| v.iter_mut().zip(active).filter(|(_, a)| **a).for_each(|(v, _)| *v = 0.0);
        if now != active {
            // keep the curvature pairs on the variables still free, as long as they stay positive
            for (s, y, rho) in memory.iter_mut() {
                mask(s, &now);
                mask(y, &now);
                *rho = 1.0 / dot(s, y);
            }
            memory.retain(|(s, y, _)| dot(s, y) > 1e-12);
            active = now;
        }
        let mask = |v: &mut [f64]| mask(v, &active);
        let mut q = g.clone();
        mask(&mut q);
        if q.iter().all(|v| v.abs() < 1e-5) {
            break;
        }
        // two-loop recursion: q ← H q
        let mut alphas = Vec::with_capacity(memory.len());
        for (s, y, rho) in memory.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(v, yv)| *v -= a * yv);
            alphas.push(a);
        }
        if let Some((s, y, _)) = memory.last() {
            let scale = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= scale);
        }
        for ((s, y, rho), a) in memory.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(v, sv)| *v += (a - b) * sv);
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        mask(&mut dir);
        if dot(&dir, &g) >= 0.0 {
            memory.clear();
            dir = g.iter().map(|v| -v).collect();
            mask(&mut dir);
        }
        let mut t = if memory.is_empty() { (1.0 / dot(&dir, &dir).sqrt()).min(1.0) } else { 1.0 };
        let mut accepted = None;
        for _ in 0..30 {
            let mut trial: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + t * b).collect();
            project(&mut trial);
            let step: Vec<f64> = trial.iter().zip(&x).map(|(a, b)| a - b).collect();
            if let Some((ft, _)) = f(&trial, false)
                && ft <= fx + 1e-4 * dot(&g, &step)
            {
                accepted = Some((trial, ft, step));
                break;
            }
            t *= 0.5;
        }
        let Some((trial, ft, mut s)) = accepted else { break };
        let Some((_, gt)) = f(&trial, true) else { break };
        let mut y: Vec<f64> = gt.iter().zip(&g).map(|(a, b)| a - b).collect();
        mask(&mut s);
        mask(&mut y);
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            memory.push((s, y, 1.0 / sy));
            if memory.len() > 6 {
                memory.remove(0);
            }
        }
        let decrease = fx - ft;
        let scale = fx.abs().max(ft.abs()).max(1.0);
        (x, fx, g) = (trial, ft, gt);
        if decrease <= 2.2e-9 * scale {
            break;
        }
    }
    (x, fx)
}

/// A fitted surrogate: the factor of `K` and `α = K⁻¹ y`.
#[derive(Clone, Debug)]
pub struct Surrogate {
    x: Vec<Vec<f64>>,
    inv_ls2: Vec<f64>,
    s2: f64,
    chol: Vec<f64>,
    alpha: Vec<f64>,
}

impl Surrogate {
    /// Conditions the process of hyperparameters `theta` on `(x, y)`. Where `K` is not numerically positive
    /// definite, the nugget grows tenfold (at most to 1e-2) until it is.
    ///
    /// # Errors
    /// The nugget reached 1e-2 and `K` is still not positive definite.
    pub fn new(x: &[Vec<f64>], y: &[f64], theta: &[f64], nugget: f64) -> Result<Surrogate, String> {
        let (n, d) = (x.len(), theta.len() - 2);
        let mut nugget = nugget;
        let chol = loop {
            let mut k = covariance(x, theta, nugget);
            if cholesky(&mut k, n).is_ok() {
                break k;
            }
            nugget *= 10.0;
            if nugget > 1e-2 {
                return Err(format!("covariance of {n} points not positive definite"));
            }
        };
        let mut alpha = y.to_vec();
        cholesky_solve(&chol, n, &mut alpha);
        let inv_ls2 = theta[..d].iter().map(|t| (-2.0 * t).exp()).collect();
        Ok(Surrogate { x: x.to_vec(), inv_ls2, s2: theta[d].exp(), chol, alpha })
    }

    /// The posterior mean and variance (of the latent function, without the noise) at `u`.
    pub fn predict(&self, u: &[f64]) -> (f64, f64) {
        let n = self.x.len();
        let mut v: Vec<f64> = self.x.iter().map(|xi| self.s2 * matern(scaled_r2(u, xi, &self.inv_ls2)).0).collect();
        let mean = v.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        for i in 0..n {
            let s = dot(&self.chol[i * n..i * n + i], &v[..i]);
            v[i] = (v[i] - s) / self.chol[i * n + i];
        }
        let var = self.s2 - v.iter().map(|a| a * a).sum::<f64>();
        (mean, var.max(1e-12 * self.s2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::random::LegacyRandom;

    fn design(n: usize, d: usize, seed: u32) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut rng = LegacyRandom::new(seed);
        let x: Vec<Vec<f64>> = (0..n).map(|_| (0..d).map(|_| rng.random_sample()).collect()).collect();
        let y = x.iter().map(|p| (4.0 * p[0]).sin() + p[1] * p[1] - 0.5).collect();
        (x, y)
    }

    #[test]
    fn likelihood_gradient_matches_central_differences() {
        let (x, y) = design(15, 3, 1);
        let theta = [-1.2, 0.3, -0.5, 0.2, -4.0];
        let (_, grad) = neg_log_likelihood(&x, &y, &theta, 1e-6, true).unwrap();
        for c in 0..theta.len() {
            let h = 1e-5;
            let (mut up, mut down) = (theta.to_vec(), theta.to_vec());
            up[c] += h;
            down[c] -= h;
            let fd = (neg_log_likelihood(&x, &y, &up, 1e-6, false).unwrap().0
                - neg_log_likelihood(&x, &y, &down, 1e-6, false).unwrap().0)
                / (2.0 * h);
            assert!((fd - grad[c]).abs() < 1e-5 * (1.0 + fd.abs()), "θ_{c}: analytic {} vs {fd}", grad[c]);
        }
    }

    #[test]
    fn fit_finds_the_relevant_dimensions_and_interpolates() {
        // y depends on x₀ and x₁ only: the third length scale must grow, and the fit beat its start
        let (x, y) = design(40, 3, 2);
        let start = vec![0.3_f64.ln(), 0.3_f64.ln(), 0.3_f64.ln(), 0.0, 1e-3_f64.ln()];
        let theta = fit(&x, &y, std::slice::from_ref(&start), 1e-6);
        let nll = |t: &[f64]| neg_log_likelihood(&x, &y, t, 1e-6, false).unwrap().0;
        assert!(nll(&theta) < nll(&start) - 10.0, "{} vs {}", nll(&theta), nll(&start));
        assert!(theta[2] > theta[0] + 1.0 && theta[2] > theta[1] + 1.0, "θ = {theta:?}");
        let model = Surrogate::new(&x, &y, &theta, 1e-6).unwrap();
        let (m, v) = model.predict(&x[5]);
        assert!((m - y[5]).abs() < 1e-2 && v < 1e-3, "mean {m} vs {}, var {v}", y[5]);
        let probe = [0.37, 0.61, 0.9];
        let (m, v) = model.predict(&probe);
        let truth = (4.0 * 0.37_f64).sin() + 0.61 * 0.61 - 0.5;
        assert!((m - truth).abs() < 0.05 && v > 0.0, "mean {m} vs {truth}, var {v}");
    }

    #[test]
    fn projected_lbfgs_stops_on_an_active_bound() {
        // min (a − 2)² + (b + 1)² in [−1, 1]²: the optimum is the corner (1, −1)
        let f = |v: &[f64], _: bool| {
            Some(((v[0] - 2.0).powi(2) + (v[1] + 1.0).powi(2), vec![2.0 * (v[0] - 2.0), 2.0 * (v[1] + 1.0)]))
        };
        let (x, value) = minimize_box(f, &[0.0, 0.5], &[(-1.0, 1.0), (-1.0, 1.0)], 50);
        assert!((x[0] - 1.0).abs() < 1e-9 && (x[1] + 1.0).abs() < 1e-6 && (value - 1.0).abs() < 1e-9, "{x:?}");
    }
}
