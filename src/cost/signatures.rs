//! Hydrological signatures (`mwd_signatures.f90`, spec §7.4) with reverse-mode derivatives in `q`.
//!
//! `p` is the gauge's mean precipitation converted to m³/s and `q` the discharge \[m³/s\], both `[n]`;
//! negative values are missing. A signature that cannot be computed is −99 (as smash), and then has no
//! derivative. Runoff ratios and baseflow signatures use only the steps where both `p` and `q` are
//! observed (`q` alone for Cfp, Eff, Ebf); the baseflow filter runs on those values, compacted.

use super::baseflow::{Baseflow, sum};
use super::quantile::quantile;
use hydrograd_models::Real;
use std::cmp::Ordering;

/// smash's "not computed" value.
pub const MISSING: f64 = -99.0;

/// One signature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signature {
    /// Runoff coefficient `Σq/Σp` (Crc, Erc).
    Rc,
    /// Quickflow runoff coefficient `Σqf/Σp` (Crchf, Erchf).
    Rchf,
    /// Baseflow runoff coefficient `Σb/Σp` (Crclf, Erclf).
    Rclf,
    /// Quickflow ratio `Σqf/Σq` (Crch2r, Erch2r).
    Rch2r,
    /// Flow quantile at the given level (Cfp2, Cfp10, Cfp50, Cfp90).
    Fp(f64),
    /// Mean quickflow (Eff).
    Ff,
    /// Mean baseflow (Ebf).
    Bf,
    /// Peak flow `max q` (Epf).
    Pf,
    /// Lag time `argmax q − argmax p` in steps (Elt); piecewise constant.
    Lt,
}

impl Signature {
    /// smash's continuous signatures, in its order: Crc, Crchf, Crclf, Crch2r, Cfp2, Cfp10, Cfp50, Cfp90.
    pub const CONTINUOUS: [Signature; 8] = [
        Signature::Rc,
        Signature::Rchf,
        Signature::Rclf,
        Signature::Rch2r,
        Signature::Fp(0.02),
        Signature::Fp(0.1),
        Signature::Fp(0.5),
        Signature::Fp(0.9),
    ];

    /// smash's flood-event signatures, in its order: Eff, Ebf, Erc, Erchf, Erclf, Erch2r, Elt, Epf.
    pub const EVENT: [Signature; 8] = [
        Signature::Ff,
        Signature::Bf,
        Signature::Rc,
        Signature::Rchf,
        Signature::Rclf,
        Signature::Rch2r,
        Signature::Lt,
        Signature::Pf,
    ];

    /// The signature of `(p, q)`, −99 when it cannot be computed.
    pub fn value<T: Real>(self, p: &[T], q: &[T]) -> T {
        self.eval(p, q, None)
    }

    /// Adds `bar · ∂S/∂q` to `grad` (`[n]`, indexed as `q`) and returns `S`, along the branches the forward
    /// took (first maximum for Pf; zero for Lt and for −99).
    pub fn backward<T: Real>(self, p: &[T], q: &[T], bar: T, grad: &mut [T]) -> T {
        self.eval(p, q, Some((bar, grad)))
    }

    fn eval<T: Real>(self, p: &[T], q: &[T], grad: Option<(T, &mut [T])>) -> T {
        let missing = T::from_f64(MISSING);
        match self {
            Signature::Rc => {
                let (mut numer, mut denom) = (T::ZERO, T::ZERO);
                for (&pi, &qi) in p.iter().zip(q) {
                    if pi < T::ZERO || qi < T::ZERO {
                        continue;
                    }
                    numer += qi;
                    denom += pi;
                }
                if denom.partial_cmp(&T::ZERO) != Some(Ordering::Greater) {
                    return missing;
                }
                if let Some((bar, g)) = grad {
                    for (i, (&pi, &qi)) in p.iter().zip(q).enumerate() {
                        if pi >= T::ZERO && qi >= T::ZERO {
                            g[i] += bar / denom;
                        }
                    }
                }
                numer / denom
            }
            Signature::Rchf | Signature::Rclf | Signature::Rch2r => {
                let idx: Vec<usize> = (0..p.len()).filter(|&i| !(p[i] < T::ZERO || q[i] < T::ZERO)).collect();
                if idx.len() <= 1 {
                    return missing;
                }
                let qc: Vec<T> = idx.iter().map(|&i| q[i]).collect();
                let bf = Baseflow::new(&qc);
                let numer = if self == Signature::Rclf { sum(&bf.bt) } else { sum(&bf.qft) };
                let denom = if self == Signature::Rch2r {
                    sum(&qc)
                } else {
                    sum(&idx.iter().map(|&i| p[i]).collect::<Vec<_>>())
                };
                if denom.partial_cmp(&T::ZERO) != Some(Ordering::Greater) {
                    return missing;
                }
                let res = numer / denom;
                if let Some((bar, g)) = grad {
                    let m = qc.len();
                    let ones = vec![bar / denom; m];
                    let mut gc = vec![T::ZERO; m];
                    if self == Signature::Rclf {
                        bf.backward(Some(&ones), None, &mut gc);
                    } else {
                        bf.backward(None, Some(&ones), &mut gc);
                    }
                    if self == Signature::Rch2r {
                        let d = bar * numer / (denom * denom);
                        gc.iter_mut().for_each(|v| *v -= d);
                    }
                    for (k, &i) in idx.iter().enumerate() {
                        g[i] += gc[k];
                    }
                }
                res
            }
            Signature::Fp(level) => {
                let idx: Vec<usize> = (0..q.len()).filter(|&i| q[i] >= T::ZERO).collect();
                if idx.len() <= 1 {
                    return missing;
                }
                let qc: Vec<T> = idx.iter().map(|&i| q[i]).collect();
                let pick = quantile(&qc, T::from_f64(level));
                if let Some((bar, g)) = grad {
                    g[idx[pick.lo]] += bar * (T::ONE - pick.w);
                    g[idx[pick.hi]] += bar * pick.w;
                }
                pick.value
            }
            Signature::Ff | Signature::Bf => {
                let idx: Vec<usize> = (0..q.len()).filter(|&i| q[i] >= T::ZERO).collect();
                if idx.len() <= 1 {
                    return missing;
                }
                let qc: Vec<T> = idx.iter().map(|&i| q[i]).collect();
                let bf = Baseflow::new(&qc);
                let m = T::from_f64(qc.len() as f64);
                let res = if self == Signature::Bf { sum(&bf.bt) / m } else { sum(&bf.qft) / m };
                if let Some((bar, g)) = grad {
                    let w = vec![bar / m; qc.len()];
                    let mut gc = vec![T::ZERO; qc.len()];
                    if self == Signature::Bf {
                        bf.backward(Some(&w), None, &mut gc);
                    } else {
                        bf.backward(None, Some(&w), &mut gc);
                    }
                    for (k, &i) in idx.iter().enumerate() {
                        g[i] += gc[k];
                    }
                }
                res
            }
            Signature::Pf => {
                let mut res = missing;
                let mut at = None;
                for (i, &qi) in q.iter().enumerate() {
                    if qi <= res {
                        continue;
                    }
                    res = qi;
                    at = Some(i);
                }
                if let (Some((bar, g)), Some(i)) = (grad, at) {
                    g[i] += bar;
                }
                res
            }
            Signature::Lt => {
                let (mut max_p, mut max_q) = (missing, missing);
                let (mut ip, mut iq) = (0usize, 0usize);
                for (i, (&pi, &qi)) in p.iter().zip(q).enumerate() {
                    if pi > max_p {
                        max_p = pi;
                        ip = i + 1;
                    }
                    if qi > max_q {
                        max_q = qi;
                        iq = i + 1;
                    }
                }
                if ip > 0 && iq > 0 { T::from_f64(iq as f64 - ip as f64) } else { missing }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A flood-like series with gaps (−99) in both `p` and `q`.
    fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut u = lcg(seed);
        let p: Vec<f64> = (0..n).map(|i| if i % 11 == 4 { -99.0 } else { 2.0 * u() * u() }).collect();
        let q: Vec<f64> =
            (0..n)
                .map(|i| {
                    if i % 13 == 7 { -99.0 } else { 1.0 + 8.0 * (-((i as f64 - 20.0) / 6.0).powi(2)).exp() + 0.3 * u() }
                })
                .collect();
        (p, q)
    }

    #[test]
    fn analytic_values() {
        let p = [1.0f64, -99.0, 3.0, 2.0];
        let q = [0.5f64, 7.0, -99.0, 1.5];
        // Rc over steps 0 and 3: (0.5 + 1.5)/(1 + 2)
        assert!((Signature::Rc.value(&p, &q) - 2.0 / 3.0).abs() < 1e-12);
        // Pf ignores the missing value; Lt = argmax q − argmax p = 1 − 2 (1-based steps 2 and 3)
        assert_eq!(Signature::Pf.value(&p, &q), 7.0);
        assert_eq!(Signature::Lt.value(&p, &q), -1.0);
        // Fp: numpy.quantile([0.5, 7, 1.5], 0.5) = 1.5
        assert_eq!(Signature::Fp(0.5).value(&p, &q), 1.5);
        // with a single common step no baseflow signature is computed
        assert_eq!(Signature::Rchf.value(&p[..3], &q[..3]), -99.0);
        assert_eq!(Signature::Rc.value(&[-1.0f64], &[1.0f64]), -99.0);
        // baseflow signatures filter the compacted observed values
        let (p, q) = data(40, 9);
        let both: Vec<f64> = p.iter().zip(&q).filter(|(a, b)| **a >= 0.0 && **b >= 0.0).map(|(_, b)| *b).collect();
        let sum_p: f64 = p.iter().zip(&q).filter(|(a, b)| **a >= 0.0 && **b >= 0.0).map(|(a, _)| *a).sum();
        let bf = Baseflow::new(&both);
        assert!((Signature::Rclf.value(&p, &q) - bf.bt.iter().sum::<f64>() / sum_p).abs() < 1e-12);
        assert!((Signature::Rch2r.value(&p, &q) - bf.qft.iter().sum::<f64>() / both.iter().sum::<f64>()).abs() < 1e-12);
        let observed: Vec<f64> = q.iter().copied().filter(|v| *v >= 0.0).collect();
        let bf = Baseflow::new(&observed);
        let m = observed.len() as f64;
        assert!((Signature::Bf.value(&p, &q) - bf.bt.iter().sum::<f64>() / m).abs() < 1e-12);
        assert!((Signature::Ff.value(&p, &q) - bf.qft.iter().sum::<f64>() / m).abs() < 1e-12);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for seed in 1..4 {
            let (p, q) = data(45, seed);
            for s in
                Signature::CONTINUOUS.into_iter().chain([Signature::Ff, Signature::Bf, Signature::Pf, Signature::Lt])
            {
                let mut g = vec![0.0; q.len()];
                let v = s.backward(&p, &q, 1.0, &mut g);
                assert_eq!(v, s.value(&p, &q));
                for i in 0..q.len() {
                    if q[i] < 0.0 {
                        assert_eq!(g[i], 0.0);
                        continue;
                    }
                    let h = 1e-7;
                    let (mut a, mut b) = (q.clone(), q.clone());
                    a[i] += h;
                    b[i] -= h;
                    let fd = (s.value(&p, &a) - s.value(&p, &b)) / (2.0 * h);
                    assert!(
                        (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                        "{s:?} seed {seed} i {i}: fd {fd} vs {}",
                        g[i]
                    );
                }
            }
        }
    }
}
