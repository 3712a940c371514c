//! Interception store (spec §1.2, `gr_interception`).

use crate::lanes::Lane;

/// Net rainfall and remaining evaporation demand after the interception store.
#[derive(Clone, Copy)]
pub struct Interception<V> {
    /// Intercepted evaporation `ei` \[mm/dt\].
    pub ei: V,
    /// Net rainfall `pn` \[mm/dt\].
    pub pn: V,
    /// Remaining evaporation demand `en` \[mm/dt\].
    pub en: V,
}

/// Runs the interception store of capacity `ci` \[mm\] on rainfall `p` and PET `e` \[mm/dt\], updating the
/// normalised level `hi` (∈ (0, 1)).
///
/// `ei = min(E, P + hi·ci)`, `pn = max(0, P − ci(1 − hi) − ei)`, `en = E − ei`,
/// `hi ← hi + (P − ei − pn)/ci` (the products fused with their sums).
///
/// The division by `ci` is exact here: the interception-capacity adjustment must pick smash's candidate
/// bit for bit. Time loops use [`interception_scaled`] with `1/ci` hoisted.
#[inline(always)]
pub fn interception<V: Lane>(p: V, e: V, ci: V, hi: &mut V) -> Interception<V> {
    interception_scaled(p, e, ci, |x| x / ci, hi)
}

/// [`interception`] with the division by `ci` given as `per_ci` (e.g. a product by a hoisted `1/ci`).
#[inline(always)]
pub fn interception_scaled<V: Lane>(p: V, e: V, ci: V, per_ci: impl Fn(V) -> V, hi: &mut V) -> Interception<V> {
    let zero = V::splat(crate::Real::ZERO);
    let one = V::splat(crate::Real::ONE);
    // `P + hi·ci` and `P − ci(1 − hi)` as fused multiply-adds, as smash's compiled Fortran has them:
    // the interception-capacity adjustment of smash picks its candidate on these roundings
    let ei = e.min(hi.mul_add(ci, p));
    let pn = ((zero - ci).mul_add(one - *hi, p) - ei).max(zero);
    let en = e - ei;
    *hi = *hi + per_ci(p - ei - pn);
    Interception { ei, pn, en }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storm_fills_the_store_and_spills_the_rest() {
        let mut hi = 0.5f64;
        let out = interception(10.0, 1.0, 2.0, &mut hi);
        // ei = min(1, 10 + 1) = 1; pn = 10 − 2·0.5 − 1 = 8; store full.
        assert_eq!((out.ei, out.pn, out.en), (1.0, 8.0, 0.0));
        assert!((hi - 1.0).abs() < 1e-15);
    }

    #[test]
    fn dry_step_evaporates_from_the_store() {
        let mut hi = 0.5f64;
        let out = interception(0.0, 3.0, 2.0, &mut hi);
        assert_eq!((out.ei, out.pn, out.en), (1.0, 0.0, 2.0));
        assert!(hi.abs() < 1e-15);
    }
}
