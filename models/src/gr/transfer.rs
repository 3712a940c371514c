//! GR transfer store with exponent `n = 5` (spec §1.2, `gr_transfer`), as gr4 uses it.

use crate::Real;
use crate::lanes::Lane;

/// Routes `pr_in` \[mm/dt\] through the transfer store of capacity `ct` \[mm\], updating the normalised
/// level `ht`; returns the outflow `q` \[mm/dt\].
///
/// When the step's rainfall is missing (`missing_p`), the inflow is replaced by the one that keeps
/// `ht` unchanged, so the store emits its steady outflow:
/// `pr_in = ((ht·ct)^−4 − ct^−4)^(−1/4) − ht·ct`. Then
/// `ht* = max(1e-6, ht + pr_in/ct)`, `ht = ((ht*·ct)^−4 + ct^−4)^(−1/4)/ct`, `q = (ht* − ht)·ct`.
///
/// Both powers are evaluated in the equivalent form without `ct`, which needs no `powf` and fewer
/// divisions: `((h·ct)^−4 ± ct^−4)^(−1/4) = ct·h/(1 ± h⁴)^(1/4)`.
#[inline(always)]
pub fn transfer_n5<V: Lane>(missing_p: V::Mask, pr_in: V, ct: V, ht: &mut V) -> V {
    let one = V::splat(V::Scalar::ONE);
    let fourth_root = |x: V| x.sqrt().sqrt();
    let h = *ht;
    // the steady inflow costs a division and two roots: only when some lane misses its rainfall
    let pr_in = if V::any(missing_p) {
        let h2 = h * h;
        V::select(missing_p, ct * (h / fourth_root(one - h2 * h2) - h), pr_in)
    } else {
        pr_in
    };
    let ht_star = (h + pr_in * (one / ct)).max(V::splat(V::Scalar::from_f64(1e-6)));
    let s2 = ht_star * ht_star;
    let ht_new = ht_star / fourth_root(one + s2 * s2);
    *ht = ht_new;
    (ht_star - ht_new) * ct
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outflow_matches_the_power_law() {
        let (ct, h0, pr) = (500.0f64, 0.3, 4.0);
        let mut ht = h0;
        let q = transfer_n5(false, pr, ct, &mut ht);
        let hs: f64 = h0 + pr / ct;
        let expected_h = ((hs * ct).powi(-4) + ct.powi(-4)).powf(-0.25) / ct;
        assert!((ht - expected_h).abs() < 1e-14);
        assert!((q - (hs - expected_h) * ct).abs() < 1e-11);
        assert!((hs * ct - ht * ct - q).abs() < 1e-11, "mass balance");
    }

    #[test]
    fn missing_rain_keeps_the_level_and_emits_steady_outflow() {
        let mut ht = 0.4f64;
        let q = transfer_n5(true, 123.0, 300.0, &mut ht);
        assert!((ht - 0.4).abs() < 1e-12);
        assert!(q > 0.0);
    }
}
