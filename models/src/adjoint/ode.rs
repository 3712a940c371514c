//! Adjoint of one gr4_ode or gr4_ude step ([`crate::gr::ode::step`], spec §1.4), through the Newton
//! solve by the implicit-function theorem.
//!
//! The step is recomputed from its start states with the forward's own solver. At its solution `h*`,
//! `r(h*) = h* − h₀ − f(h*; θ) = 0` with `θ = (pn, en, cp, ct, kexc, a)`, so
//! `dh* = A⁻¹·(dh₀ + ∂f/∂θ·dθ)` with `A = I − ∂f/∂h`, lower triangular (`f_hp` does not depend on `ht`).
//! The reverse solves `Aᵀ·μ = h̄*` and returns `h̄₀ = μ`, `θ̄ = μᵀ·∂f/∂θ`. The network is evaluated at
//! the start levels, so `a` is a constant of the solve: its tangents, which smash puts in the Newton
//! matrix, change the iterations but not the solution, and do not enter `A`. A level left on a clipping
//! bound by its last update is a constant (zero derivative, as Tapenade's for smash's assignment).
//! Differentiating the iterations instead (Tapenade) gives the same derivative at convergence.

use super::gr4::{NetAdjoint, Params, States, c};
use super::interception::interception_reverse;
use crate::gr::interception::interception_scaled;
use crate::gr::ode::{Corrections, solve};
use crate::lanes::Lane;

/// Reverse sweep of one gr4_ode step, or gr4_ude's with `net`, for a lane of cells; the arguments are
/// [`super::gr4::step_adjoint`]'s (`ci, cp, ct, kexc`, `hi, hp, ht`; `lambda_q` per mm/dt).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn step_adjoint<V: Lane>(
    p: V,
    e: V,
    par: &Params<V>,
    st0: &States<V>,
    lambda_q: V,
    lambda_st: &mut States<V>,
    lambda_par: &mut Params<V>,
    mut net: NetAdjoint<'_, '_, V>,
) {
    let (zero, one) = (c::<V>(0.0), c::<V>(1.0));
    let [ci, cp, ct, kexc] = *par;
    let [hi0, hp0, ht0] = *st0;
    let missing = V::or(p.lt(zero), e.lt(zero));

    // ---- forward recomputation
    let mut hi = hi0;
    let inv_ci = one / ci;
    let int = interception_scaled(p, e, ci, |x| x * inv_ci, &mut hi);
    let (pn, en) = (int.pn, int.en);
    let corrections = match &mut net {
        Some((mlp, act, _)) => Corrections::of_network(mlp, [hp0, ht0, pn, en], act),
        None => Corrections::none(),
    };
    let s = solve(pn, en, cp, ct, kexc, (hp0, ht0), &corrections, missing);
    let [a1, a2, a3, a4] = corrections.a;
    let (hp, ht) = (s.hp, s.ht);
    let (inv_cp, inv_ct) = (one / cp, one / ct);
    let (hp2, hp_2) = (hp * hp, hp * (c::<V>(2.0) - hp));
    let ht2 = ht * ht;
    let (ht4, ht25) = (ht2 * ht2, ht2 * ht.sqrt());
    let (ht5, ht35) = (ht4 * ht, ht25 * ht);
    let f_hp = ((one - hp2) * pn * a1 - hp_2 * en * a2) * inv_cp;
    let f_ht = (c::<V>(0.9) * a1 * pn * hp2 - c::<V>(0.25) * a4 * ct * ht5 + a3 * kexc * ht35) * inv_ct;

    // ---- reverse: q = 0.25·a4·ct·ht⁵ + 0.1·a1·pn·hp² + a3·kexc·ht^3.5 and the end levels
    let [lam_hi1, lam_hp1, lam_ht1] = *lambda_st;
    let g_hp = lam_hp1 + lambda_q * c::<V>(0.2) * a1 * pn * hp;
    let g_ht = lam_ht1 + lambda_q * (c::<V>(1.25) * a4 * ct * ht4 + c::<V>(3.5) * a3 * kexc * ht25);
    // Aᵀ·μ = g, A = [[a11, 0], [a21, a22]]
    let a11 = one + (c::<V>(2.0) * hp * pn * a1 + (c::<V>(2.0) - hp - hp) * en * a2) * inv_cp;
    let a21 = zero - c::<V>(1.8) * a1 * pn * hp * inv_ct;
    let a22 = one + (c::<V>(1.25) * a4 * ct * ht4 - c::<V>(3.5) * a3 * kexc * ht25) * inv_ct;
    let mu_ht = V::select(s.clipped_ht.gt(zero), zero, g_ht / a22);
    let mu_hp = V::select(s.clipped_hp.gt(zero), zero, (g_hp - a21 * mu_ht) / a11);
    // θ̄ = explicit part of q + μᵀ·∂f/∂θ
    let mut lam_pn =
        lambda_q * c::<V>(0.1) * a1 * hp2 + mu_hp * (one - hp2) * a1 * inv_cp + mu_ht * c::<V>(0.9) * a1 * hp2 * inv_ct;
    let mut lam_en = zero - mu_hp * hp_2 * a2 * inv_cp;
    let lam_cp = zero - mu_hp * f_hp * inv_cp;
    let lam_ct = lambda_q * c::<V>(0.25) * a4 * ht5 - mu_ht * (f_ht + c::<V>(0.25) * a4 * ht5) * inv_ct;
    let lam_kexc = (lambda_q + mu_ht * inv_ct) * a3 * ht35;
    let mut lam_hp0 = mu_hp;
    let mut lam_ht0 = mu_ht;
    if let Some((mlp, act, grad)) = net {
        let lam_a = [
            lambda_q * c::<V>(0.1) * pn * hp2
                + mu_hp * (one - hp2) * pn * inv_cp
                + mu_ht * c::<V>(0.9) * pn * hp2 * inv_ct,
            zero - mu_hp * hp_2 * en * inv_cp,
            (lambda_q + mu_ht * inv_ct) * kexc * ht35,
            c::<V>(0.25) * ht5 * (lambda_q * ct - mu_ht),
        ];
        // the network's input is [hp0, ht0, pn, en]; nothing flows through it on missing forcing
        let lam_x = mlp.backward(act, lam_a.map(|l| V::select(missing, zero, l)), grad);
        lam_hp0 = lam_hp0 + lam_x[0];
        lam_ht0 = lam_ht0 + lam_x[1];
        lam_pn = lam_pn + lam_x[2];
        lam_en = lam_en + lam_x[3];
    }
    let (lam_hi0, lam_ci) = interception_reverse(p, e, ci, hi0, &int, lam_hi1, lam_pn, lam_en);

    // lanes with missing forcing: q = 0, states unchanged
    *lambda_st = [
        V::select(missing, lam_hi1, lam_hi0),
        V::select(missing, lam_hp1, lam_hp0),
        V::select(missing, lam_ht1, lam_ht0),
    ];
    let [a_ci, a_cp, a_ct, a_kexc] = *lambda_par;
    *lambda_par = [
        a_ci + V::select(missing, zero, lam_ci),
        a_cp + V::select(missing, zero, lam_cp),
        a_ct + V::select(missing, zero, lam_ct),
        a_kexc + V::select(missing, zero, lam_kexc),
    ];
}
