//! GR production store with percolation (spec §1.2, `gr_production`).

use crate::Real;
use crate::lanes::Lane;

/// Percolation constant `beta = (9/4)·(86400/dt)^(1/4)` for a step of `dt` seconds (spec §1.1).
pub fn percolation_beta<T: Real>(dt: T) -> T {
    T::from_f64(2.25) * (T::from_f64(86400.0) / dt).powf(T::from_f64(0.25))
}

/// Fluxes of the production store \[mm/dt\].
#[derive(Clone, Copy)]
pub struct Production<V> {
    /// Effective rainfall leaving the store, `pn − ps` when it rains.
    pub pr: V,
    /// Percolation.
    pub perc: V,
}

/// Runs the production store of capacity `cp` \[mm\] on net rainfall `pn` and demand `en` \[mm/dt\], updating
/// the normalised level `hp`. Plain GR: no flux corrections, no imperviousness.
///
/// `ps = cp(1 − hp²)tanh(pn/cp) / (1 + hp·tanh(pn/cp))` capped by `pn`,
/// `es = hp·cp(2 − hp)tanh(en/cp) / (1 + (1 − hp)tanh(en/cp))` capped by `en`,
/// `hp* = hp + (ps − es)/cp`, `perc = hp*·cp(1 − (1 + (hp*/beta)⁴)^(−1/4))`, `hp = hp* − perc/cp`.
/// The power `(·)^(−1/4)` is computed as `1/√√(·)`.
#[inline(always)]
pub fn production<V: Lane>(pn: V, en: V, cp: V, beta: V, hp: &mut V) -> Production<V> {
    let one = V::splat(V::Scalar::ONE);
    production_corrected(pn, en, cp, beta, (one, one), hp)
}

/// [`production`] with the hybrid structures' flux corrections (spec §1.3): `ps` and `es` multiplied by
/// `(1 + fq_ps, 1 + fq_es)` before their caps (`ps = min(pn, (1 + fq_ps)·ps)`).
#[inline(always)]
pub fn production_corrected<V: Lane>(pn: V, en: V, cp: V, beta: V, (k_ps, k_es): (V, V), hp: &mut V) -> Production<V> {
    let zero = V::splat(V::Scalar::ZERO);
    let one = V::splat(V::Scalar::ONE);
    let two = V::splat(V::Scalar::from_f64(2.0));
    // Divisions by the per-cell constants cp and beta become products by their inverses, which the
    // compiler hoists out of the time loop, and tanh's own division folds into the fraction it is in:
    // with tanh = n/d, `t/(1 + a·t) = n/(d + a·n)`. The division unit bounds the kernel's speed.
    let (inv_cp, inv_beta) = (one / cp, one / beta);
    let h = *hp;
    let (tp_n, tp_d) = (pn * inv_cp).tanh_ratio();
    let (te_n, te_d) = (en * inv_cp).tanh_ratio();
    let ps = (k_ps * (cp * (one - h * h) * tp_n / (tp_d + h * tp_n))).min(pn);
    let es = (k_es * (h * cp * (two - h) * te_n / (te_d + (one - h) * te_n))).min(en);
    let hp_star = h + (ps - es) * inv_cp;
    let pr = V::select(pn.gt(zero), pn - ps, zero);
    let r = hp_star * inv_beta;
    let r2 = r * r;
    let perc = hp_star * cp * (one - one / (one + r2 * r2).sqrt().sqrt());
    *hp = hp_star - perc * inv_cp;
    Production { pr, perc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_matches_the_daily_and_hourly_constants() {
        assert!((percolation_beta(86400.0f64) - 2.25).abs() < 1e-15);
        assert!((percolation_beta(3600.0f64) - 2.25 * 24f64.powf(0.25)).abs() < 1e-12);
    }

    #[test]
    fn mass_balance_holds() {
        let (cp, beta) = (200.0f64, percolation_beta(3600.0f64));
        for (pn, en, h0) in [(12.0, 0.0, 0.3), (0.0, 0.4, 0.6), (0.0, 0.0, 0.9), (50.0, 0.0, 0.99)] {
            let mut hp = h0;
            let f = production(pn, en, cp, beta, &mut hp);
            // storage change = pn − pr − es − perc, with es = en·(…) recovered from the balance
            let es = (h0 - hp) * cp + pn - f.pr - f.perc;
            assert!(es >= -1e-12 && es <= en + 1e-12, "es = {es}");
            assert!(hp > 0.0 && hp < 1.0);
            if pn > 0.0 {
                assert!(f.pr >= 0.0 && f.pr <= pn);
            }
        }
    }

    #[test]
    fn percolation_follows_the_closed_form() {
        let (cp, beta) = (100.0f64, 2.25);
        let mut hp = 0.5;
        let f = production(0.0, 0.0, cp, beta, &mut hp);
        let expected = 50.0 * (1.0 - (1.0 + (0.5f64 / 2.25).powi(4)).powf(-0.25));
        assert!((f.perc - expected).abs() < 1e-12);
        assert_eq!(f.pr, 0.0);
    }
}
