//! One gr4_ode / gr4_ude step (implicit Euler, Newton) and its adjoint by the implicit-function theorem
//! as cube functions, transcribing [`hydrograd_models::gr::ode`] and [`hydrograd_models::adjoint::ode`]
//! (spec §1.4) operation for operation. gr4_ode is gr4_ude with `a = 1` and zero tangents, as on the CPU.

use crate::gr4::{Gr4Params, Gr4States, intercept, intercept_reverse};
use crate::nn::{self, Activations, Cotangents};
use cubecl::prelude::*;
use hydrograd_models::gr::ode::{LEVEL_MAX, LEVEL_MIN, MAX_ITERATIONS, TOLERANCE};

/// The corrections `a = 1 + o` of gr4_ude's network at the start of the step (1 for gr4_ode), and
/// their tangents along `hp` (`j1`) and `ht` (`j2`), which enter smash's Newton matrix.
#[derive(CubeType, Clone, Copy)]
pub struct OdeCorrections<F: Float> {
    pub a1: F,
    pub a2: F,
    pub a3: F,
    pub a4: F,
    pub j10: F,
    pub j11: F,
    pub j12: F,
    pub j13: F,
    pub j20: F,
    pub j21: F,
    pub j22: F,
    pub j23: F,
}

/// `a = 1 + net([hp0, ht0, pn, en])` with its tangents (gr4_ude, `h1 > 0`; the activations stay in
/// `act` for the backward pass), or `a = 1` (gr4_ode).
#[cube]
#[allow(clippy::too_many_arguments)]
fn corrections<F: Float>(
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    hp0: F,
    ht0: F,
    pn: F,
    en: F,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] single: bool,
) -> OdeCorrections<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let mut c = OdeCorrections::<F> {
        a1: one,
        a2: one,
        a3: one,
        a4: one,
        j10: zero,
        j11: zero,
        j12: zero,
        j13: zero,
        j20: zero,
        j21: zero,
        j22: zero,
        j23: zero,
    };
    if h1 > 0 {
        act.x[0] = hp0;
        act.x[1] = ht0;
        act.x[2] = pn;
        act.x[3] = en;
        nn::forward::<F>(w, base, act, h1, h2, true, single);
        c.a1 = one + act.out[0];
        c.a2 = one + act.out[1];
        c.a3 = one + act.out[2];
        c.a4 = one + act.out[3];
        c.j10 = act.jac[0];
        c.j11 = act.jac[1];
        c.j12 = act.jac[2];
        c.j13 = act.jac[3];
        c.j20 = act.jac[4];
        c.j21 = act.jac[5];
        c.j22 = act.jac[6];
        c.j23 = act.jac[7];
    }
    c
}

/// The end of a Newton solve: the levels, and 1 where the last update set them to a clipping bound.
#[derive(CubeType, Clone, Copy)]
pub struct Solution<F: Float> {
    pub hp: F,
    pub ht: F,
    pub clipped_hp: F,
    pub clipped_ht: F,
}

/// A level after one Newton update, and 1 where it was clipped.
#[derive(CubeType, Clone, Copy)]
struct Clipped<F: Float> {
    level: F,
    clipped: F,
}

/// smash's clipping of a level into `[1e-6, 1 − 1e-6]` when it leaves `(0, 1)`.
#[cube]
fn clip<F: Float>(x: F) -> Clipped<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let low = F::cast_from(LEVEL_MIN);
    let high = F::cast_from(LEVEL_MAX);
    let y = select(x < one, select(x > zero, x, low), high);
    let clipped = select(x < one, select(x > zero, zero, one), one);
    Clipped::<F> { level: y, clipped }
}

/// Solves `h − h₀ − f(h) = 0` from `h = h₀` as `gr::ode::solve` (Cramer's rule, clipping, at most 10
/// iterations, relative tolerance 1e-6); `frozen` keeps `h₀`.
#[cube]
// `det < 0 || det > 0`, not `det != 0`: a NaN determinant is singular, as in the CPU's lane masks
#[allow(clippy::too_many_arguments, clippy::double_comparisons)]
pub fn solve<F: Float>(
    pn: F,
    en: F,
    cp: F,
    ct: F,
    kexc: F,
    hp0: F,
    ht0: F,
    c: &OdeCorrections<F>,
    frozen: bool,
) -> Solution<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let two = F::new(2.0);
    let c09 = F::cast_from(0.9f64);
    let c025 = F::cast_from(0.25f64);
    let inv_cp = one / cp;
    let inv_ct = one / ct;
    let tol = F::cast_from(TOLERANCE);
    let mut hp = hp0;
    let mut ht = ht0;
    let mut clipped_hp = zero;
    let mut clipped_ht = zero;
    let mut active = !frozen;
    for _ in 0..MAX_ITERATIONS {
        if active {
            let hp2 = hp * hp;
            let hp_2 = hp * (two - hp);
            let ht2 = ht * ht;
            let ht_sqrt = ht.sqrt();
            let ht4 = ht2 * ht2;
            let ht5 = ht4 * ht;
            let ht25 = ht2 * ht_sqrt;
            let ht35 = ht25 * ht;
            let f_hp = ((one - hp2) * pn * c.a1 - hp_2 * en * c.a2) * inv_cp;
            let r1 = hp - hp0 - f_hp;
            let f_ht = (c09 * c.a1 * pn * hp2 - c025 * c.a4 * ct * ht5 + kexc * ht35 * c.a3) * inv_ct;
            let r2 = ht - ht0 - f_ht;
            let m11 = one
                - (pn * (c.j10 * (one - hp2) - two * hp * c.a1) - en * (c.j11 * hp_2 + two * (one - hp) * c.a2))
                    * inv_cp;
            let m12 = zero - (pn * c.j20 * (one - hp2) - en * c.j21 * hp_2) * inv_cp;
            let m21 = zero
                - (c09 * pn * hp * (two * c.a1 + c.j10 * hp) - c025 * c.j13 * ct * ht5 + c.j12 * kexc * ht35) * inv_ct;
            let m22 = one
                - ((F::new(3.5) * c.a3 + c.j22 * ht) * kexc * ht25 + c09 * c.j20 * pn * hp2
                    - (F::new(1.25) * c.a4 + c025 * c.j23 * ht) * ct * ht4)
                    * inv_ct;
            let det = m11 * m22 - m12 * m21;
            let singular = det < zero || det > zero;
            let d1 = select(singular, (r2 * m12 - r1 * m22) / det, zero);
            let d2 = select(singular, (r1 * m21 - r2 * m11) / det, zero);
            let new_hp = clip::<F>(hp + d1);
            let new_ht = clip::<F>(ht + d2);
            let e1 = d1 / new_hp.level;
            let e2 = d2 / new_ht.level;
            hp = new_hp.level;
            ht = new_ht.level;
            clipped_hp = new_hp.clipped;
            clipped_ht = new_ht.clipped;
            if (e1 * e1 + e2 * e2).sqrt() < tol {
                active = false;
            }
        }
    }
    Solution::<F> { hp, ht, clipped_hp, clipped_ht }
}

/// One gr4_ode step, or gr4_ude's with a network (`h1 > 0`), as `gr::ode::step`: returns `qt`
/// \[mm/dt\] (0 with the states unchanged on missing forcing) and updates `st`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn ode_step<F: Float>(
    p: F,
    e: F,
    par: &Gr4Params<F>,
    st: &mut Gr4States<F>,
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] single: bool,
) -> F {
    let zero = F::new(0.0);
    let missing = p < zero || e < zero;
    let hi0 = st.hi;
    let hp0 = st.hp;
    let ht0 = st.ht;
    let int = intercept::<F>(p, e, par.ci, hi0);
    let c = corrections::<F>(w, base, act, hp0, ht0, int.pn, int.en, h1, h2, single);
    let s = solve::<F>(int.pn, int.en, par.cp, par.ct, par.kexc, hp0, ht0, &c, missing);
    st.hi = select(missing, hi0, int.hi);
    st.hp = s.hp;
    st.ht = s.ht;
    let hp = s.hp;
    let ht = s.ht;
    let ht2 = ht * ht;
    let l = c.a3 * par.kexc * ht2 * ht * ht.sqrt();
    let q = F::cast_from(0.25f64) * c.a4 * par.ct * ht2 * ht2 * ht + F::cast_from(0.1f64) * c.a1 * int.pn * hp * hp + l;
    select(missing, zero, q)
}

/// Reverse sweep of one gr4_ode / gr4_ude step (as `adjoint::ode::step_adjoint`); the arguments are
/// [`crate::gr4::gr4_step_adjoint`]'s.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn ode_step_adjoint<F: Float>(
    p: F,
    e: F,
    par: &Gr4Params<F>,
    st0: Gr4States<F>,
    lambda_q: F,
    lam_st: &mut Gr4States<F>,
    lam_par: &mut Gr4Params<F>,
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    cot: &mut Cotangents<F>,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] single: bool,
) {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let two = F::new(2.0);
    let c01 = F::cast_from(0.1f64);
    let c09 = F::cast_from(0.9f64);
    let c025 = F::cast_from(0.25f64);
    let c125 = F::new(1.25);
    let c35 = F::new(3.5);
    let cp = par.cp;
    let ct = par.ct;
    let kexc = par.kexc;
    let hi0 = st0.hi;
    let hp0 = st0.hp;
    let ht0 = st0.ht;
    let missing = p < zero || e < zero;

    // ---- forward recomputation
    let int = intercept::<F>(p, e, par.ci, hi0);
    let pn = int.pn;
    let en = int.en;
    let c = corrections::<F>(w, base, act, hp0, ht0, pn, en, h1, h2, single);
    let s = solve::<F>(pn, en, cp, ct, kexc, hp0, ht0, &c, missing);
    let hp = s.hp;
    let ht = s.ht;
    let inv_cp = one / cp;
    let inv_ct = one / ct;
    let hp2 = hp * hp;
    let hp_2 = hp * (two - hp);
    let ht2 = ht * ht;
    let ht4 = ht2 * ht2;
    let ht25 = ht2 * ht.sqrt();
    let ht5 = ht4 * ht;
    let ht35 = ht25 * ht;
    let f_hp = ((one - hp2) * pn * c.a1 - hp_2 * en * c.a2) * inv_cp;
    let f_ht = (c09 * c.a1 * pn * hp2 - c025 * c.a4 * ct * ht5 + c.a3 * kexc * ht35) * inv_ct;

    // ---- reverse: q and the end levels, then Aᵀ·μ = g with A = [[a11, 0], [a21, a22]]
    let lam_hi1 = lam_st.hi;
    let lam_hp1 = lam_st.hp;
    let lam_ht1 = lam_st.ht;
    let g_hp = lam_hp1 + lambda_q * F::cast_from(0.2f64) * c.a1 * pn * hp;
    let g_ht = lam_ht1 + lambda_q * (c125 * c.a4 * ct * ht4 + c35 * c.a3 * kexc * ht25);
    let a11 = one + (two * hp * pn * c.a1 + (two - hp - hp) * en * c.a2) * inv_cp;
    let a21 = zero - F::cast_from(1.8f64) * c.a1 * pn * hp * inv_ct;
    let a22 = one + (c125 * c.a4 * ct * ht4 - c35 * c.a3 * kexc * ht25) * inv_ct;
    let mu_ht = select(s.clipped_ht > zero, zero, g_ht / a22);
    let mu_hp = select(s.clipped_hp > zero, zero, (g_hp - a21 * mu_ht) / a11);
    let mut lam_pn =
        lambda_q * c01 * c.a1 * hp2 + mu_hp * (one - hp2) * c.a1 * inv_cp + mu_ht * c09 * c.a1 * hp2 * inv_ct;
    let mut lam_en = zero - mu_hp * hp_2 * c.a2 * inv_cp;
    let lam_cp = zero - mu_hp * f_hp * inv_cp;
    let lam_ct = lambda_q * c025 * c.a4 * ht5 - mu_ht * (f_ht + c025 * c.a4 * ht5) * inv_ct;
    let lam_kexc = (lambda_q + mu_ht * inv_ct) * c.a3 * ht35;
    let mut lam_hp0 = mu_hp;
    let mut lam_ht0 = mu_ht;
    if h1 > 0 {
        // the network's input is [hp0, ht0, pn, en]; nothing flows through it on missing forcing
        let mut lam_a = Array::<F>::new(4usize);
        lam_a[0] = select(
            missing,
            zero,
            lambda_q * c01 * pn * hp2 + mu_hp * (one - hp2) * pn * inv_cp + mu_ht * c09 * pn * hp2 * inv_ct,
        );
        lam_a[1] = select(missing, zero, zero - mu_hp * hp_2 * en * inv_cp);
        lam_a[2] = select(missing, zero, (lambda_q + mu_ht * inv_ct) * kexc * ht35);
        lam_a[3] = select(missing, zero, c025 * ht5 * (lambda_q * ct - mu_ht));
        nn::backward::<F>(w, base, act, &lam_a, cot, h1, h2, single);
        lam_hp0 += cot.lam_x[0];
        lam_ht0 += cot.lam_x[1];
        lam_pn += cot.lam_x[2];
        lam_en += cot.lam_x[3];
    }
    let lam_int = intercept_reverse::<F>(p, e, par.ci, hi0, &int, lam_hi1, lam_pn, lam_en);

    // units with missing forcing: q = 0, states unchanged
    lam_st.hi = select(missing, lam_hi1, lam_int.hi0);
    lam_st.hp = select(missing, lam_hp1, lam_hp0);
    lam_st.ht = select(missing, lam_ht1, lam_ht0);
    lam_par.ci += select(missing, zero, lam_int.ci);
    lam_par.cp += select(missing, zero, lam_cp);
    lam_par.ct += select(missing, zero, lam_ct);
    lam_par.kexc += select(missing, zero, lam_kexc);
}
