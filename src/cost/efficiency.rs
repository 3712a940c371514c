//! Efficiency metrics (`mwd_metrics.f90`, spec §7.2) generic over the float type, in smash's operation
//! order, with reverse-mode derivatives in the simulated series.
//!
//! `x` = observed, `y` = simulated, both `[n]`; steps with `x < 0` are skipped (lgrm also skips `x = 0`
//! and `y ≤ 0`). No guard against an empty series or a zero denominator: smash returns NaN/±∞ there too.

use hydrograd_models::Real;

/// An efficiency metric, as smash names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Nse,
    Nnse,
    Kge,
    Mae,
    Mape,
    Mse,
    Rmse,
    Lgrm,
}

impl Metric {
    pub const ALL: [Metric; 8] =
        [Metric::Nse, Metric::Nnse, Metric::Kge, Metric::Mae, Metric::Mape, Metric::Mse, Metric::Rmse, Metric::Lgrm];

    /// smash's name (`"nse"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Nse => "nse",
            Metric::Nnse => "nnse",
            Metric::Kge => "kge",
            Metric::Mae => "mae",
            Metric::Mape => "mape",
            Metric::Mse => "mse",
            Metric::Rmse => "rmse",
            Metric::Lgrm => "lgrm",
        }
    }

    /// The metric of `y` against `x`.
    pub fn value<T: Real>(self, x: &[T], y: &[T]) -> T {
        self.eval(x, y, None)
    }

    /// Adds `bar · ∂metric/∂y` to `grad` (`[n]`) and returns the metric. `|u|` differentiates as `+1` at
    /// `u = 0` (Tapenade's convention).
    pub fn backward<T: Real>(self, x: &[T], y: &[T], bar: T, grad: &mut [T]) -> T {
        self.eval(x, y, Some((bar, grad)))
    }

    fn eval<T: Real>(self, x: &[T], y: &[T], grad: Option<(T, &mut [T])>) -> T {
        assert_eq!(x.len(), y.len(), "observed and simulated series differ in length");
        let two = T::from_f64(2.0);
        match self {
            Metric::Nse => {
                let s = Sums::of(x, y);
                let (num, den) = s.nse_terms();
                if let Some((bar, g)) = grad {
                    // ∂/∂y_i (1 − num/den) = −(2y_i − 2x_i)/den
                    each_observed(x, |i| g[i] += bar * two * (x[i] - y[i]) / den);
                }
                T::ONE - num / den
            }
            Metric::Nnse => {
                let nse = Metric::Nse.value(x, y);
                let d = two - nse;
                if let Some((bar, g)) = grad {
                    Metric::Nse.backward(x, y, bar / (d * d), g);
                }
                T::ONE / d
            }
            Metric::Kge => {
                let k = Kge::of(x, y);
                let value = T::ONE - k.ed.sqrt();
                if let Some((bar, g)) = grad {
                    k.backward(x, y, bar, g);
                }
                value
            }
            Metric::Mae | Metric::Mape => {
                let (mut n, mut res) = (T::ZERO, T::ZERO);
                each_observed(x, |i| {
                    n += T::ONE;
                    let u = if self == Metric::Mae { x[i] - y[i] } else { (x[i] - y[i]) / x[i] };
                    res += u.abs();
                });
                if let Some((bar, g)) = grad {
                    each_observed(x, |i| {
                        let (u, du_dy) = if self == Metric::Mae {
                            (x[i] - y[i], -T::ONE)
                        } else {
                            ((x[i] - y[i]) / x[i], -T::ONE / x[i])
                        };
                        let sign = if u >= T::ZERO { T::ONE } else { -T::ONE };
                        g[i] += bar * sign * du_dy / n;
                    });
                }
                res / n
            }
            Metric::Mse | Metric::Rmse => {
                let (mut n, mut se) = (T::ZERO, T::ZERO);
                each_observed(x, |i| {
                    n += T::ONE;
                    se += (x[i] - y[i]) * (x[i] - y[i]);
                });
                let mse = se / n;
                let value = if self == Metric::Mse { mse } else { mse.sqrt() };
                if let Some((bar, g)) = grad {
                    let bar_mse = if self == Metric::Mse { bar } else { bar / (two * value) };
                    each_observed(x, |i| g[i] -= bar_mse * two * (x[i] - y[i]) / n);
                }
                value
            }
            Metric::Lgrm => {
                let mut res = T::ZERO;
                let valid = |i: usize| !(x[i] <= T::ZERO || y[i] <= T::ZERO);
                for i in (0..x.len()).filter(|&i| valid(i)) {
                    let l = (y[i] / x[i]).ln();
                    res += x[i] * l * l;
                }
                if let Some((bar, g)) = grad {
                    for i in (0..x.len()).filter(|&i| valid(i)) {
                        g[i] += bar * two * x[i] * (y[i] / x[i]).ln() / y[i];
                    }
                }
                res
            }
        }
    }
}

fn each_observed<T: Real>(x: &[T], mut f: impl FnMut(usize)) {
    for (i, &xi) in x.iter().enumerate() {
        if xi < T::ZERO {
            continue;
        }
        f(i);
    }
}

/// Sums over the observed steps, accumulated in smash's order.
struct Sums<T> {
    n: T,
    x: T,
    y: T,
    xx: T,
    yy: T,
    xy: T,
}

impl<T: Real> Sums<T> {
    fn of(x: &[T], y: &[T]) -> Self {
        let mut s = Sums { n: T::ZERO, x: T::ZERO, y: T::ZERO, xx: T::ZERO, yy: T::ZERO, xy: T::ZERO };
        each_observed(x, |i| {
            s.n += T::ONE;
            s.x += x[i];
            s.y += y[i];
            s.xx += x[i] * x[i];
            s.yy += y[i] * y[i];
            s.xy += x[i] * y[i];
        });
        s
    }

    /// NSE numerator `Σx² − 2Σxy + Σy²` and denominator `Σx² − n·x̄·x̄`.
    fn nse_terms(&self) -> (T, T) {
        let two = T::from_f64(2.0);
        let mean_x = self.x / self.n;
        (self.xx - two * self.xy + self.yy, self.xx - self.n * mean_x * mean_x)
    }
}

/// KGE components with population moments.
struct Kge<T> {
    n: T,
    mean_x: T,
    mean_y: T,
    var_y: T,
    sd_x: T,
    r: T,
    a: T,
    b: T,
    /// `(r − 1)² + (b − 1)² + (a − 1)²`
    ed: T,
}

impl<T: Real> Kge<T> {
    fn of(x: &[T], y: &[T]) -> Self {
        let s = Sums::of(x, y);
        let n = s.n;
        let mean_x = s.x / n;
        let mean_y = s.y / n;
        let var_x = (s.xx / n) - (mean_x * mean_x);
        let var_y = (s.yy / n) - (mean_y * mean_y);
        let cov = (s.xy / n) - (mean_x * mean_y);
        let r = (cov / var_x.sqrt()) / var_y.sqrt();
        let a = var_y.sqrt() / var_x.sqrt();
        let b = mean_y / mean_x;
        let one = T::ONE;
        let ed = (r - one) * (r - one) + (b - one) * (b - one) + (a - one) * (a - one);
        Kge { n, mean_x, mean_y, var_y, sd_x: var_x.sqrt(), r, a, b, ed }
    }

    /// Adds `bar · ∂KGE/∂y` to `g`.
    fn backward(&self, x: &[T], y: &[T], bar: T, g: &mut [T]) {
        let one = T::ONE;
        let two = T::from_f64(2.0);
        let sd_y = self.var_y.sqrt();
        // KGE = 1 − √ed
        let bar_ed = -bar / (two * self.ed.sqrt());
        let (bar_r, bar_a, bar_b) =
            (bar_ed * two * (self.r - one), bar_ed * two * (self.a - one), bar_ed * two * (self.b - one));
        // r = cov/(σx σy), a = σy/σx, b = ȳ/x̄
        let bar_cov = bar_r / (self.sd_x * sd_y);
        let bar_var_y = (-bar_r * self.r + bar_a * self.a) / (two * self.var_y);
        let bar_mean_y = bar_b / self.mean_x;
        // cov = Σxy/n − x̄ȳ, var_y = Σy²/n − ȳ², ȳ = Σy/n
        let bar_mean_y = bar_mean_y - bar_cov * self.mean_x - bar_var_y * two * self.mean_y;
        each_observed(x, |i| {
            g[i] += (bar_cov * x[i] + bar_var_y * two * y[i] + bar_mean_y) / self.n;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut s = seed;
        let mut u = move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let x: Vec<f64> = (0..n).map(|i| if i % 7 == 3 { -99.0 } else { 0.5 + 3.0 * u() }).collect();
        let y: Vec<f64> = x.iter().map(|&v| if v < 0.0 { 2.0 } else { v * (0.7 + 0.6 * u()) + 0.2 * u() }).collect();
        (x, y)
    }

    #[test]
    fn analytic_values() {
        let x = [1.0f64, 3.0, -99.0, 2.0];
        let y = [2.0f64, 2.0, 50.0, 4.0];
        // x̄ = 2, Σ(x − y)² = 1 + 1 + 4 = 6, Σ(x − x̄)² = 2
        assert!((Metric::Nse.value(&x, &y) - (1.0 - 6.0 / 2.0)).abs() < 1e-12);
        assert!((Metric::Nnse.value(&x, &y) - 1.0 / (2.0 - (1.0 - 3.0))).abs() < 1e-12);
        assert!((Metric::Mae.value(&x, &y) - 4.0 / 3.0).abs() < 1e-12);
        assert!((Metric::Mape.value(&x, &y) - (1.0 + 1.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        assert!((Metric::Mse.value(&x, &y) - 2.0).abs() < 1e-12);
        assert!((Metric::Rmse.value(&x, &y) - 2f64.sqrt()).abs() < 1e-12);
        let lgrm = 1.0 * 2f64.ln().powi(2) + 3.0 * (2.0f64 / 3.0).ln().powi(2) + 2.0 * 2f64.ln().powi(2);
        assert!((Metric::Lgrm.value(&x, &y) - lgrm).abs() < 1e-12);
        // KGE with population moments: σx² = 2/3, σy² = 8/9, cov = 1/3 − … computed by definition
        let (xo, yo) = ([1.0, 3.0, 2.0], [2.0, 2.0, 4.0]);
        let m = |v: &[f64]| v.iter().sum::<f64>() / 3.0;
        let (mx, my) = (m(&xo), m(&yo));
        let var = |v: &[f64], mu: f64| v.iter().map(|a| (a - mu).powi(2)).sum::<f64>() / 3.0;
        let cov = xo.iter().zip(&yo).map(|(a, b)| (a - mx) * (b - my)).sum::<f64>() / 3.0;
        let (sx, sy) = (var(&xo, mx).sqrt(), var(&yo, my).sqrt());
        let kge = 1.0 - ((cov / sx / sy - 1.0).powi(2) + (my / mx - 1.0).powi(2) + (sy / sx - 1.0).powi(2)).sqrt();
        assert!((Metric::Kge.value(&x, &y) - kge).abs() < 1e-12);
        // f32 agrees with the existing f32 implementation
        let (x32, y32): (Vec<f32>, Vec<f32>) =
            (x.iter().map(|&v| v as f32).collect(), y.iter().map(|&v| v as f32).collect());
        assert_eq!(Some(Metric::Nse.value(&x32, &y32)), super::super::metrics::nse(&x32, &y32));
    }

    #[test]
    fn gradients_match_finite_differences() {
        for seed in 1..4 {
            let (x, y) = series(40, seed);
            for m in Metric::ALL {
                let mut g = vec![0.0; y.len()];
                let v = m.backward(&x, &y, 1.0, &mut g);
                assert_eq!(v, m.value(&x, &y));
                for i in 0..y.len() {
                    let h = 1e-6;
                    let (mut a, mut b) = (y.clone(), y.clone());
                    a[i] += h;
                    b[i] -= h;
                    let fd = (m.value(&x, &a) - m.value(&x, &b)) / (2.0 * h);
                    assert!(
                        (fd - g[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "{m:?} seed {seed} i {i}: fd {fd} vs {}",
                        g[i]
                    );
                }
            }
        }
    }
}
