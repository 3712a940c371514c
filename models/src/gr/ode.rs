//! gr4_ode and gr4_ude: interception, then production and transfer solved together as a two-state ODE
//! by implicit Euler with a unit step and Newton iterations (spec §1.4, smash's
//! `gr_production_transfer_ode` / `gr_production_transfer_ude` and `gr4_ode_time_step`).
//!
//! With the corrections `a = 1 + o` of gr4_ude's network (`a = 1` for gr4_ode), the right-hand side is
//! `f_hp = ((1 − hp²)·pn·a₁ − hp(2 − hp)·en·a₂)/cp` and
//! `f_ht = (0.9·a₁·pn·hp² − 0.25·a₄·ct·ht⁵ + a₃·kexc·ht^3.5)/ct`; the step solves
//! `h − h₀ − f(h) = 0`, then `l = a₃·kexc·ht^3.5` and `q = 0.25·a₄·ct·ht⁵ + 0.1·a₁·pn·hp² + l`.
//! There is no percolation and no imperviousness (smash's default of 0 is the only value hydrograd reads).

use super::interception::interception_scaled;
use crate::Real;
use crate::lanes::Lane;
use crate::nn::{Activations, Mlp};

/// Newton iterations at most (smash's `maxiter`).
pub const MAX_ITERATIONS: usize = 10;
/// Convergence threshold on `√((δhp/hp)² + (δht/ht)²)`.
pub const TOLERANCE: f64 = 1e-6;
/// The clipping bounds of the levels after every Newton update.
pub const LEVEL_MIN: f64 = 1e-6;
pub const LEVEL_MAX: f64 = 1.0 - 1e-6;

/// The network's corrections of one step: `a = 1 + o`, and the derivatives of `o` with respect to the
/// levels at the start of the step, `[∂o/∂hp, ∂o/∂ht]`, which smash puts in the Newton Jacobian although
/// the network is evaluated once, at the start levels (so they shape the iterations, not the solution).
#[derive(Clone, Copy)]
pub struct Corrections<V> {
    pub a: [V; 4],
    pub jac: [[V; 4]; 2],
}

impl<V: Lane> Corrections<V> {
    /// gr4_ode: no network.
    #[inline(always)]
    pub fn none() -> Self {
        let (zero, one) = (V::splat(V::Scalar::ZERO), V::splat(V::Scalar::ONE));
        Corrections { a: [one; 4], jac: [[zero; 4]; 2] }
    }

    /// gr4_ude: `o = net([hp0, ht0, pn, en])` with its tangents (the activations are kept in `act`).
    #[inline(always)]
    pub fn of_network(net: &Mlp<'_, V::Scalar>, x: [V; 4], act: &mut Activations<V>) -> Self {
        let one = V::splat(V::Scalar::ONE);
        let (o, jac) = net.forward_with_tangents(x, act);
        Corrections { a: o.map(|o| one + o), jac }
    }
}

/// The end of the Newton solve for a lane of cells.
#[derive(Clone, Copy)]
pub struct Solution<V> {
    pub hp: V,
    pub ht: V,
    /// 1 where the level was set to a clipping bound by the last update of the lane, else 0.
    pub clipped_hp: V,
    pub clipped_ht: V,
}

/// Solves `h − h₀ − f(h) = 0` from `h = h₀` (lanes where `frozen` is set keep `h₀`), as smash does:
/// the 2×2 system `J·δ = −r` by Cramer's rule (`δ = 0` when `det J = 0`), `h += δ` clipped to
/// `[1e-6, 1 − 1e-6]` when it leaves `(0, 1)`, until the relative step is below [`TOLERANCE`] or after
/// [`MAX_ITERATIONS`]. Each lane stops on its own criterion.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn solve<V: Lane>(
    pn: V,
    en: V,
    cp: V,
    ct: V,
    kexc: V,
    (hp0, ht0): (V, V),
    c: &Corrections<V>,
    frozen: <V as Lane>::Mask,
) -> Solution<V> {
    let (zero, one, two) = (k::<V>(0.0), k::<V>(1.0), k::<V>(2.0));
    let (inv_cp, inv_ct) = (one / cp, one / ct);
    let [a1, a2, a3, a4] = c.a;
    let [j1, j2] = c.jac;
    let (low, high, tol) = (k::<V>(LEVEL_MIN), k::<V>(LEVEL_MAX), k::<V>(TOLERANCE));
    let (mut hp, mut ht) = (hp0, ht0);
    let (mut clipped_hp, mut clipped_ht) = (zero, zero);
    // 1 in the lanes still iterating
    let mut active = V::select(frozen, zero, one);
    for _ in 0..MAX_ITERATIONS {
        let iterating = active.gt(zero);
        if !V::any(iterating) {
            break;
        }
        let hp2 = hp * hp;
        let hp_2 = hp * (two - hp);
        let (ht2, ht_sqrt) = (ht * ht, ht.sqrt());
        let ht4 = ht2 * ht2;
        let ht5 = ht4 * ht;
        let ht25 = ht2 * ht_sqrt;
        let ht35 = ht25 * ht;
        let f_hp = ((one - hp2) * pn * a1 - hp_2 * en * a2) * inv_cp;
        let r1 = hp - hp0 - f_hp;
        let f_ht = (k::<V>(0.9) * a1 * pn * hp2 - k::<V>(0.25) * a4 * ct * ht5 + kexc * ht35 * a3) * inv_ct;
        let r2 = ht - ht0 - f_ht;
        // smash's Jacobian, with the network's tangents
        let m11 =
            one - (pn * (j1[0] * (one - hp2) - two * hp * a1) - en * (j1[1] * hp_2 + two * (one - hp) * a2)) * inv_cp;
        let m12 = zero - (pn * j2[0] * (one - hp2) - en * j2[1] * hp_2) * inv_cp;
        let m21 = zero
            - (k::<V>(0.9) * pn * hp * (two * a1 + j1[0] * hp) - k::<V>(0.25) * j1[3] * ct * ht5 + j1[2] * kexc * ht35)
                * inv_ct;
        let m22 = one
            - ((k::<V>(3.5) * a3 + j2[2] * ht) * kexc * ht25 + k::<V>(0.9) * j2[0] * pn * hp2
                - (k::<V>(1.25) * a4 + k::<V>(0.25) * j2[3] * ht) * ct * ht4)
                * inv_ct;
        let det = m11 * m22 - m12 * m21;
        let singular = V::or(det.lt(zero), det.gt(zero));
        let d1 = V::select(singular, (r2 * m12 - r1 * m22) / det, zero);
        let d2 = V::select(singular, (r1 * m21 - r2 * m11) / det, zero);
        let (hp_new, hp_clip) = clip(hp + d1, low, high);
        let (ht_new, ht_clip) = clip(ht + d2, low, high);
        let (e1, e2) = (d1 / hp_new, d2 / ht_new);
        let converged = (e1 * e1 + e2 * e2).sqrt().lt(tol);
        hp = V::select(iterating, hp_new, hp);
        ht = V::select(iterating, ht_new, ht);
        clipped_hp = V::select(iterating, hp_clip, clipped_hp);
        clipped_ht = V::select(iterating, ht_clip, clipped_ht);
        active = V::select(converged, zero, active);
    }
    Solution { hp, ht, clipped_hp, clipped_ht }
}

/// smash's clipping of a level: `1e-6` if `x ≤ 0`, `1 − 1e-6` if `x ≥ 1`; with 1 where it clipped.
#[inline(always)]
fn clip<V: Lane>(x: V, low: V, high: V) -> (V, V) {
    let (zero, one) = (k::<V>(0.0), k::<V>(1.0));
    let above_zero = x.gt(zero);
    let below_one = x.lt(one);
    let y = V::select(below_one, V::select(above_zero, x, low), high);
    let clipped = V::select(below_one, V::select(above_zero, zero, one), one);
    (y, clipped)
}

/// The outflow of a solved step \[mm/dt\]: `0.25·a₄·ct·ht⁵ + 0.1·a₁·pn·hp² + a₃·kexc·ht^3.5`.
#[inline(always)]
pub fn outflow<V: Lane>(pn: V, ct: V, kexc: V, s: &Solution<V>, a: &[V; 4]) -> V {
    let (hp, ht) = (s.hp, s.ht);
    let ht2 = ht * ht;
    let l = a[2] * kexc * ht2 * ht * ht.sqrt();
    k::<V>(0.25) * a[3] * ct * ht2 * ht2 * ht + k::<V>(0.1) * a[0] * pn * hp * hp + l
}

/// One gr4_ode step, or gr4_ude's with `net` (spec §1.4), for a lane of cells. `params = [ci, cp, ct,
/// kexc]`, `states = [hi, hp, ht]` (updated). Returns `qt` \[mm/dt\]; 0 with the states unchanged on
/// missing forcing (`p < 0` or `e < 0`).
#[inline(always)]
pub fn step<V: Lane>(
    p: V,
    e: V,
    params: &[V],
    states: &mut [V],
    net: Option<(&Mlp<'_, V::Scalar>, &mut Activations<V>)>,
) -> V {
    let zero = k::<V>(0.0);
    let [ci, cp, ct, kexc] = [params[0], params[1], params[2], params[3]];
    let (hi0, hp0, ht0) = (states[0], states[1], states[2]);
    let missing = V::or(p.lt(zero), e.lt(zero));
    let mut hi = hi0;
    let inv_ci = k::<V>(1.0) / ci;
    let int = interception_scaled(p, e, ci, |x| x * inv_ci, &mut hi);
    let corrections = match net {
        Some((net, act)) => Corrections::of_network(net, [hp0, ht0, int.pn, int.en], act),
        None => Corrections::none(),
    };
    let s = solve(int.pn, int.en, cp, ct, kexc, (hp0, ht0), &corrections, missing);
    states[0] = V::select(missing, hi0, hi);
    states[1] = s.hp;
    states[2] = s.ht;
    V::select(missing, zero, outflow(int.pn, ct, kexc, &s, &corrections.a))
}

#[inline(always)]
fn k<V: Lane>(x: f64) -> V {
    V::splat(V::Scalar::from_f64(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: [f64; 4] = [1.2, 200.0, 500.0, -1.0];

    /// The residual of the implicit step at the solution.
    fn residual(pn: f64, en: f64, par: [f64; 4], h0: (f64, f64), s: &Solution<f64>) -> (f64, f64) {
        let [_, cp, ct, kexc] = par;
        let (hp, ht) = (s.hp, s.ht);
        let f_hp = ((1.0 - hp * hp) * pn - hp * (2.0 - hp) * en) / cp;
        let f_ht = (0.9 * pn * hp * hp - 0.25 * ct * ht.powi(5) + kexc * ht.powf(3.5)) / ct;
        (hp - h0.0 - f_hp, ht - h0.1 - f_ht)
    }

    #[test]
    fn newton_solves_the_implicit_step() {
        for (pn, en, h0) in [(30.0, 0.0, (0.3, 0.2)), (0.0, 4.0, (0.8, 0.6)), (120.0, 1.0, (0.05, 0.01))] {
            let s = solve(pn, en, PARAMS[1], PARAMS[2], PARAMS[3], h0, &Corrections::none(), false);
            let (r1, r2) = residual(pn, en, PARAMS, h0, &s);
            assert!(r1.abs() < 1e-12 && r2.abs() < 1e-12, "pn {pn} en {en}: residual {r1:e} {r2:e}");
            assert_eq!((s.clipped_hp, s.clipped_ht), (0.0, 0.0));
        }
    }

    #[test]
    fn levels_are_clipped_inside_the_unit_interval() {
        let (low, high) = (LEVEL_MIN, LEVEL_MAX);
        assert_eq!(clip(1.5, low, high), (high, 1.0));
        assert_eq!(clip(1.0, low, high), (high, 1.0));
        assert_eq!(clip(-0.2, low, high), (low, 1.0));
        assert_eq!(clip(0.0, low, high), (low, 1.0));
        assert_eq!(clip(0.3, low, high), (0.3, 0.0));
        // an exchange gain far beyond the transfer capacity pushes the iterations out of (0, 1)
        let s = solve(50.0, 0.0, 200.0, 10.0, 50.0, (0.5, 0.9), &Corrections::none(), false);
        assert!(s.ht >= low && s.ht <= high && s.hp > 0.0 && s.hp < 1.0, "{} {}", s.hp, s.ht);
    }

    #[test]
    fn water_balance_closes_without_exchange() {
        // With kexc = 0: storage gain + outflow = rain − (ei + es), with 0 ≤ ei + es ≤ PET.
        let par = [1.2, 200.0, 500.0, 0.0];
        let mut s = [0.01, 0.3, 0.2];
        let level = |s: &[f64; 3]| s[0] * par[0] + s[1] * par[1] + s[2] * par[2];
        let start = level(&s);
        let (mut rain, mut out, mut pet) = (0.0, 0.0, 0.0);
        for t in 0..300 {
            let p = if (20..40).contains(&t) { 8.0 } else { 0.0 };
            out += step(p, 0.2, &par, &mut s, None);
            rain += p;
            pet += 0.2;
        }
        // per step, cp·Δhp + ct·Δht + q = pn − hp(2 − hp)·en exactly at the solution of the implicit step
        let aet = rain - (level(&s) - start) - out;
        assert!(aet >= -1e-6 && aet <= pet + 1e-6, "actual evaporation {aet}, pet {pet}");
        assert!(out > 0.1 * rain, "the storm produces runoff: {out}");
    }

    #[test]
    fn missing_forcing_outputs_zero_and_keeps_the_states() {
        let mut s = [0.3, 0.4, 0.5];
        assert_eq!(step(-99.0, 0.1, &PARAMS, &mut s, None), 0.0);
        assert_eq!(s, [0.3, 0.4, 0.5]);
        assert_eq!(step(1.0, -99.0, &PARAMS, &mut s, None), 0.0);
        assert_eq!(s, [0.3, 0.4, 0.5]);
    }
}
