//! Discrete adjoint of one gr4 step ([`crate::gr::gr4::step`], spec §1.2).
//!
//! The step is recomputed from its start states with the forward operators themselves, so the branch
//! taken at every `min`/`max` and at missing data is the forward's; then the cotangents flow back
//! through the same formulas in reverse order. At a tie of `min`/`max` (both arguments equal) the
//! derivative is the second argument's for `min(e, ·)` in production, and zero for `max(0, x)` at
//! `x = 0`; these are the choices that reproduce smash's Tapenade gradients (Cance, Lez).

use crate::Real;
use crate::gr::{exchange::exchange, interception::interception_scaled, production::production};

/// Cotangents of one gr4 step: `[ci, cp, ct, kexc]` and `[hi, hp, ht]`.
pub type Params<T> = [T; 4];
pub type States<T> = [T; 3];

/// Reverse sweep of one gr4 step.
///
/// # Arguments
/// * `p`, `e`: rainfall and PET of the step \[mm/dt\]; `par`: `[ci, cp, ct, kexc]`; `st0`: `[hi, hp, ht]` at
///   the start of the step; `beta`: percolation constant.
/// * `lambda_q`: cotangent of the step's runoff `qt` in mm/dt.
/// * `lambda_st`: on entry the cotangent of the states at the end of the step, on return at its start.
/// * `lambda_par`: the step's contribution is added.
#[inline(always)]
pub fn step_adjoint<T: Real>(
    p: T,
    e: T,
    par: &Params<T>,
    st0: &States<T>,
    beta: T,
    lambda_q: T,
    lambda_st: &mut States<T>,
    lambda_par: &mut Params<T>,
) {
    let (zero, one) = (T::ZERO, T::ONE);
    let [ci, cp, ct, kexc] = *par;
    let [hi0, hp0, ht0] = *st0;
    let missing_p = p < zero;
    let missing = missing_p || e < zero;

    // ---- forward recomputation (the same operators as the forward step)
    let mut hi = hi0;
    let inv_ci = one / ci;
    let int = interception_scaled(p, e, ci, |x| x * inv_ci, &mut hi);
    let mut hp1 = hp0;
    let prod = production(int.pn, int.en, cp, beta, &mut hp1);
    let l_raw = exchange(kexc, ht0);
    let (runoff, l) = if missing { (zero, zero) } else { (prod.pr + prod.perc, l_raw) };
    let prd = T::from_f64(0.1) * runoff;
    let prr = if missing_p {
        let h2 = ht0 * ht0;
        ct * (ht0 / (one - h2 * h2).sqrt().sqrt() - ht0)
    } else {
        T::from_f64(0.9) * runoff + l
    };
    let ht_unclipped = ht0 + prr * (one / ct);
    let ht_star = ht_unclipped.max(T::from_f64(1e-6));
    let s2 = ht_star * ht_star;
    let s4 = s2 * s2;
    let ht1 = ht_star / (one + s4).sqrt().sqrt();

    // ---- reverse
    let [lam_hi1, lam_hp1, lam_ht1] = *lambda_st;
    let (mut lam_ci, mut lam_cp, mut lam_ct, mut lam_kexc) = (zero, zero, zero, zero);
    let (mut lam_hi0, mut lam_hp0, mut lam_ht0) = (zero, zero, zero);
    // qt = qr + qd; qd = max(0, prd + l)
    let (mut lam_prd, mut lam_l) = (zero, zero);
    if prd + l > zero {
        lam_prd = lambda_q;
        lam_l = lambda_q;
    }
    // qr = (ht* − ht1)·ct
    lam_ct += lambda_q * (ht_star - ht1);
    let lam_ht1_total = lam_ht1 - lambda_q * ct;
    // ht1 = ht*·(1 + ht*⁴)^(−1/4): dht1/dht* = (1 + ht*⁴)^(−5/4)
    let root = (one + s4).sqrt().sqrt();
    let lam_ht_star = lambda_q * ct + lam_ht1_total / ((one + s4) * root);
    // ht* = max(1e-6, ht0 + prr/ct)
    let mut lam_prr = zero;
    if ht_unclipped > T::from_f64(1e-6) {
        lam_ht0 += lam_ht_star;
        lam_prr = lam_ht_star / ct;
        lam_ct -= lam_ht_star * prr / (ct * ct);
    }
    let mut lam_runoff = T::from_f64(0.1) * lam_prd;
    if missing_p {
        // prr = ct·(ht0·(1 − ht0⁴)^(−1/4) − ht0): dprr/dht0 = ct·((1 − ht0⁴)^(−5/4) − 1)
        let h2 = ht0 * ht0;
        let q = one - h2 * h2;
        let r = q.sqrt().sqrt();
        lam_ht0 += lam_prr * ct * (one / (q * r) - one);
        lam_ct += lam_prr * prr / ct;
    } else {
        lam_runoff += T::from_f64(0.9) * lam_prr;
        lam_l += lam_prr;
    }

    if missing {
        // interception, production and exchange skipped: hi and hp pass through
        *lambda_st = [lam_hi1, lam_hp1, lam_ht0];
        add(lambda_par, [zero, zero, lam_ct, zero]);
        return;
    }

    // l = kexc·ht0^3.5
    let ht_sqrt = ht0.sqrt();
    let ht25 = ht0 * ht0 * ht_sqrt;
    lam_kexc += lam_l * ht25 * ht0;
    lam_ht0 += lam_l * kexc * T::from_f64(3.5) * ht25;

    // production: runoff = pr + perc; hp1 = hs·g, perc = cp·hs·(1 − g), g = (1 + (hs/β)⁴)^(−1/4)
    let (pn, en) = (int.pn, int.en);
    let h = hp0;
    let inv_cp = one / cp;
    // the forward's expressions, so the values and the branches are the forward's
    let (tp_n, tp_d) = (pn * inv_cp).tanh_ratio();
    let (te_n, te_d) = (en * inv_cp).tanh_ratio();
    let ps_raw = cp * (one - h * h) * tp_n / (tp_d + h * tp_n);
    let es_raw = h * cp * (T::from_f64(2.0) - h) * te_n / (te_d + (one - h) * te_n);
    let (tp, te) = (tp_n / tp_d, te_n / te_d);
    let dp = one + h * tp;
    let de = one + (one - h) * te;
    let ps = ps_raw.min(pn);
    let es = es_raw.min(en);
    let hs = h + (ps - es) * inv_cp;
    let r = hs / beta;
    let r2 = r * r;
    let u = one + r2 * r2;
    let g = one / u.sqrt().sqrt();
    // dg/dhs = −r³·u^(−5/4)/β
    let dg = zero - r2 * r * g / (u * beta);
    let lam_pr = lam_runoff;
    let lam_perc = lam_runoff;
    let lam_hs = lam_hp1 * (g + hs * dg) + lam_perc * cp * (one - g - hs * dg);
    lam_cp += lam_perc * hs * (one - g);
    // pr = pn − ps when pn > 0
    let (mut lam_pn, mut lam_ps, mut lam_en) = (zero, zero, zero);
    if pn > zero {
        lam_pn += lam_pr;
        lam_ps -= lam_pr;
    }
    // hs = h + (ps − es)/cp
    lam_hp0 += lam_hs;
    lam_ps += lam_hs * inv_cp;
    let lam_es = zero - lam_hs * inv_cp;
    lam_cp -= lam_hs * (ps - es) * inv_cp * inv_cp;
    // es = min(es_raw, en)
    if es_raw <= en {
        // es_raw = h·cp·(2 − h)·te/de, te = tanh(en/cp)
        let dte = one - te * te;
        let d_h = cp * te * ((T::from_f64(2.0) - h - h) * de + h * (T::from_f64(2.0) - h) * te) / (de * de);
        let d_te = h * (T::from_f64(2.0) - h) * cp / (de * de);
        lam_hp0 += lam_es * d_h;
        let lam_x = lam_es * d_te * dte; // x = en/cp
        lam_en += lam_x * inv_cp;
        lam_cp += lam_es * es_raw * inv_cp - lam_x * en * inv_cp * inv_cp;
    } else {
        lam_en += lam_es;
    }
    // ps = min(ps_raw, pn)
    if ps_raw <= pn {
        let dtp = one - tp * tp;
        let d_h = cp * tp * ((zero - h - h) * dp - (one - h * h) * tp) / (dp * dp);
        let d_tp = cp * (one - h * h) / (dp * dp);
        lam_hp0 += lam_ps * d_h;
        let lam_x = lam_ps * d_tp * dtp; // x = pn/cp
        lam_pn += lam_x * inv_cp;
        lam_cp += lam_ps * ps_raw * inv_cp - lam_x * pn * inv_cp * inv_cp;
    } else {
        lam_pn += lam_ps;
    }

    // interception: hi1 = hi0 + (p − ei − pn)/ci; en = e − ei; pn = max(0, p − ci(1 − hi0) − ei);
    // ei = min(e, hi0·ci + p)
    let ei = int.ei;
    lam_hi0 += lam_hi1;
    let mut lam_ei = zero - lam_hi1 * inv_ci;
    lam_pn -= lam_hi1 * inv_ci;
    lam_ci -= lam_hi1 * (p - ei - pn) * inv_ci * inv_ci;
    lam_ei -= lam_en;
    if (zero - ci).mul_add(one - hi0, p) - ei > zero {
        lam_ci -= lam_pn * (one - hi0);
        lam_hi0 += lam_pn * ci;
        lam_ei -= lam_pn;
    }
    if hi0.mul_add(ci, p) < e {
        lam_hi0 += lam_ei * ci;
        lam_ci += lam_ei * hi0;
    }

    *lambda_st = [lam_hi0, lam_hp0, lam_ht0];
    add(lambda_par, [lam_ci, lam_cp, lam_ct, lam_kexc]);
}

#[inline(always)]
fn add<T: Real>(acc: &mut Params<T>, v: Params<T>) {
    for (a, b) in acc.iter_mut().zip(v) {
        *a += b;
    }
}
