//! Reverse of the interception store ([`crate::gr::interception::interception_scaled`], spec §1.2),
//! shared by every gr4 variant.

use super::gr4::c;
use crate::gr::interception::Interception;
use crate::lanes::Lane;

/// From the cotangents of the level at the end of the step and of `pn`, `en`, the cotangents
/// `(∂/∂hi0, ∂/∂ci)`. `int` is the forward's output for rainfall `p`, PET `e`, capacity `ci` and start
/// level `hi0`.
///
/// `hi1 = hi0 + (p − ei − pn)/ci`, `en = e − ei`, `pn = max(0, p − ci(1 − hi0) − ei)`,
/// `ei = min(e, hi0·ci + p)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn interception_reverse<V: Lane>(
    p: V,
    e: V,
    ci: V,
    hi0: V,
    int: &Interception<V>,
    lam_hi1: V,
    lam_pn: V,
    lam_en: V,
) -> (V, V) {
    let (zero, one) = (c::<V>(0.0), c::<V>(1.0));
    let Interception { ei, pn, .. } = *int;
    let inv_ci = one / ci;
    let mut lam_hi0 = lam_hi1;
    let mut lam_ei = zero - lam_hi1 * inv_ci - lam_en;
    let lam_pn = lam_pn - lam_hi1 * inv_ci;
    let mut lam_ci = zero - lam_hi1 * (p - ei - pn) * inv_ci * inv_ci;
    let spills = ((zero - ci).mul_add(one - hi0, p) - ei).gt(zero);
    lam_ci = lam_ci - V::select(spills, lam_pn * (one - hi0), zero);
    lam_hi0 = lam_hi0 + V::select(spills, lam_pn * ci, zero);
    lam_ei = lam_ei - V::select(spills, lam_pn, zero);
    let from_store = hi0.mul_add(ci, p).lt(e);
    lam_hi0 = lam_hi0 + V::select(from_store, lam_ei * ci, zero);
    lam_ci = lam_ci + V::select(from_store, lam_ei * hi0, zero);
    (lam_hi0, lam_ci)
}
