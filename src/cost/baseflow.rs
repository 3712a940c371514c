//! smash's baseflow filter (`mwd_signatures.f90::baseflow_separation`, spec §7.4) with its reverse-mode
//! derivative.
//!
//! Three passes of `b_i = min(q_i, α·b_{i∓1} + (1 − α)/2·(q_i + q_{i∓1}))` (forward, backward, forward; each
//! pass filters the previous pass's baseflow), `α = 0.925`. The first value is `q_1` if `q_1` is below the
//! 25% quantile, else `mean(q)/1.5`; between passes the start value of the next pass is reset to
//! `q_end/1.2` if `q_end < mean(b)`, else to `mean(b)`. Quirks kept: the final `b_1` is the value reset
//! after pass 2 while the final quickflow `qf_1 = q_1 − b_1` used pass 2's `b_1`; with one value, `qf = 0`.
//! The update `α·b + c·(q_i + q_{i∓1})` is one fused multiply-add `fma(α, b, c·(q_i + q_{i∓1}))`, as smash's
//! compiled Fortran contracts it: with it the signatures of `tests/reference_cost.rs` equal smash's bit for bit.

use super::quantile::quantile;
use hydrograd_models::Real;

/// Filter parameter α.
pub const FILTER_PARAMETER: f64 = 0.925;

/// Baseflow and quickflow of a series, with what the reverse pass needs.
#[derive(Debug, Clone)]
pub struct Baseflow<T> {
    /// Baseflow `b`, same length as the input.
    pub bt: Vec<T>,
    /// Quickflow `q − b` (with smash's first-value quirk).
    pub qft: Vec<T>,
    /// Whether `b_i` was clipped to its input, per pass.
    clipped: [Vec<bool>; 3],
    /// First guess is `q_1` (else `mean/1.5`).
    init_is_q: bool,
    /// The resets after passes 1 and 2 took `q_end/1.2` (else the mean).
    reset_is_q: [bool; 2],
}

impl<T: Real> Baseflow<T> {
    /// Runs the filter on `q` (all values used; the caller drops missing ones).
    ///
    /// # Panics
    /// When `q` is empty.
    pub fn new(q: &[T]) -> Self {
        let n = q.len();
        assert!(n > 0, "baseflow separation of an empty series");
        let a = T::from_f64(FILTER_PARAMETER);
        let c = (T::ONE - a) / T::from_f64(2.0);
        let nf = T::from_f64(n as f64);
        let mean = |v: &[T]| sum(v) / nf;

        let q25 = quantile(q, T::from_f64(0.25)).value;
        let init_is_q = q[0] < q25;
        let b0 = if init_is_q { q[0] } else { mean(q) / T::from_f64(1.5) };

        let mut clipped = [vec![false; n], vec![false; n], vec![false; n]];
        // pass 1: forward over q
        let mut p1 = vec![T::ZERO; n];
        p1[0] = b0;
        for i in 1..n {
            let cand = a.mul_add(p1[i - 1], c * (q[i] + q[i - 1]));
            clipped[0][i] = cand > q[i];
            p1[i] = if clipped[0][i] { q[i] } else { cand };
        }
        let m1 = mean(&p1);
        let reset1 = q[n - 1] < m1;
        // pass 2: backward over p1
        let mut p2 = p1.clone();
        p2[n - 1] = if reset1 { q[n - 1] / T::from_f64(1.2) } else { m1 };
        for i in (0..n.saturating_sub(1)).rev() {
            let cand = a.mul_add(p2[i + 1], c * (p1[i] + p1[i + 1]));
            clipped[1][i] = cand > p1[i];
            p2[i] = if clipped[1][i] { p1[i] } else { cand };
        }
        let m2 = mean(&p2);
        let reset2 = q[0] < m2;
        // pass 3: forward over p2
        let mut p3 = p2.clone();
        p3[0] = if reset2 { q[0] / T::from_f64(1.2) } else { m2 };
        for i in 1..n {
            let cand = a.mul_add(p3[i - 1], c * (p2[i] + p2[i - 1]));
            clipped[2][i] = cand > p2[i];
            p3[i] = if clipped[2][i] { p2[i] } else { cand };
        }
        let mut qft: Vec<T> = q.iter().zip(&p3).map(|(&qi, &bi)| qi - bi).collect();
        qft[0] = if n > 1 { q[0] - p2[0] } else { T::ZERO };
        Baseflow { bt: p3, qft, clipped, init_is_q, reset_is_q: [reset1, reset2] }
    }

    /// Adds `∂(Σ bar_bt·bt + Σ bar_qft·qft)/∂q` to `grad_q`.
    pub fn backward(&self, bar_bt: Option<&[T]>, bar_qft: Option<&[T]>, grad_q: &mut [T]) {
        let n = self.bt.len();
        let a = T::from_f64(FILTER_PARAMETER);
        let c = (T::ONE - a) / T::from_f64(2.0);
        let nf = T::from_f64(n as f64);
        let [p1bar, p2bar, p3bar] = &mut [vec![T::ZERO; n], vec![T::ZERO; n], vec![T::ZERO; n]];
        if let Some(bb) = bar_bt {
            for i in 0..n {
                p3bar[i] += bb[i];
            }
        }
        // with one value qft = 0: no dependence
        if let Some(bq) = bar_qft.filter(|_| n > 1) {
            for i in 0..n {
                grad_q[i] += bq[i];
            }
            p2bar[0] -= bq[0];
            for i in 1..n {
                p3bar[i] -= bq[i];
            }
        }
        // pass 3
        for i in (1..n).rev() {
            let g = p3bar[i];
            if self.clipped[2][i] {
                p2bar[i] += g;
            } else {
                p3bar[i - 1] += a * g;
                p2bar[i] += c * g;
                p2bar[i - 1] += c * g;
            }
        }
        // reset 2 (p3[0]); p3 = p2 elsewhere only through the recursion above
        let r2 = p3bar[0];
        if self.reset_is_q[1] {
            grad_q[0] += r2 / T::from_f64(1.2);
        } else {
            for v in p2bar.iter_mut() {
                *v += r2 / nf;
            }
        }
        // pass 2
        for i in 0..n.saturating_sub(1) {
            let g = p2bar[i];
            if self.clipped[1][i] {
                p1bar[i] += g;
            } else {
                p2bar[i + 1] += a * g;
                p1bar[i] += c * g;
                p1bar[i + 1] += c * g;
            }
        }
        let r1 = p2bar[n - 1];
        if self.reset_is_q[0] {
            grad_q[n - 1] += r1 / T::from_f64(1.2);
        } else {
            for v in p1bar.iter_mut() {
                *v += r1 / nf;
            }
        }
        // pass 1
        for i in (1..n).rev() {
            let g = p1bar[i];
            if self.clipped[0][i] {
                grad_q[i] += g;
            } else {
                p1bar[i - 1] += a * g;
                grad_q[i] += c * g;
                grad_q[i - 1] += c * g;
            }
        }
        let b0 = p1bar[0];
        if self.init_is_q {
            grad_q[0] += b0;
        } else {
            let s = b0 / T::from_f64(1.5) / nf;
            for v in grad_q.iter_mut() {
                *v += s;
            }
        }
    }
}

/// Sequential sum (smash's f32 `sum` order).
pub(crate) fn sum<T: Real>(v: &[T]) -> T {
    v.iter().fold(T::ZERO, |s, &x| s + x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                1.0 + 5.0 * (-((i as f64 - 12.0) / 4.0).powi(2)).exp() + u
            })
            .collect()
    }

    #[test]
    fn filter_follows_its_definition_on_a_short_series() {
        // n = 3 by hand: q = [1, 3, 2], q25 = 1.5 → b1 = 1
        let q = [1.0f64, 3.0, 2.0];
        let (a, c) = (0.925, 0.0375);
        let p1 = [1.0, (a * 1.0 + c * 4.0f64).min(3.0), 0.0];
        let p1_2 = (a * p1[1] + c * 5.0f64).min(2.0);
        let p1 = [p1[0], p1[1], p1_2];
        let m1 = (p1[0] + p1[1] + p1[2]) / 3.0;
        let r1 = if 2.0 < m1 { 2.0 / 1.2 } else { m1 };
        let p2_1 = (a * r1 + c * (p1[1] + p1[2])).min(p1[1]);
        let p2_0 = (a * p2_1 + c * (p1[0] + p1[1])).min(p1[0]);
        let p2 = [p2_0, p2_1, r1];
        let m2 = (p2[0] + p2[1] + p2[2]) / 3.0;
        let r2 = if 1.0 < m2 { 1.0 / 1.2 } else { m2 };
        let p3_1 = (a * r2 + c * (p2[1] + p2[0])).min(p2[1]);
        let p3_2 = (a * p3_1 + c * (p2[2] + p2[1])).min(p2[2]);
        let bf = Baseflow::new(&q);
        let expected = [r2, p3_1, p3_2];
        for i in 0..3 {
            assert!((bf.bt[i] - expected[i]).abs() < 1e-12, "{i}: {:?} vs {expected:?}", bf.bt);
        }
        assert!((bf.qft[0] - (1.0 - p2_0)).abs() < 1e-12);
        assert!((bf.qft[2] - (2.0 - p3_2)).abs() < 1e-12);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (n, seed) in [(30, 1), (7, 2), (2, 3), (1, 4)] {
            let q = series(n, seed);
            let wb: Vec<f64> = (0..n).map(|i| 0.3 + (i % 5) as f64 * 0.1).collect();
            let wq: Vec<f64> = (0..n).map(|i| 1.0 - (i % 3) as f64 * 0.4).collect();
            let f = |q: &[f64]| {
                let b = Baseflow::new(q);
                b.bt.iter().zip(&wb).map(|(x, w)| x * w).sum::<f64>()
                    + b.qft.iter().zip(&wq).map(|(x, w)| x * w).sum::<f64>()
            };
            let mut g = vec![0.0; n];
            Baseflow::new(&q).backward(Some(&wb), Some(&wq), &mut g);
            for i in 0..n {
                let h = 1e-7;
                let (mut a, mut b) = (q.clone(), q.clone());
                a[i] += h;
                b[i] -= h;
                let fd = (f(&a) - f(&b)) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-6 * (1.0 + fd.abs()), "n {n} i {i}: fd {fd} vs {}", g[i]);
            }
        }
    }
}
