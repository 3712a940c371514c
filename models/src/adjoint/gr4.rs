//! Discrete adjoint of one gr4 step ([`crate::gr::gr4::step`], spec §1.2).
//!
//! The step is recomputed from its start states with the forward operators themselves, so the branch
//! taken at every `min`/`max` and at missing data is the forward's; then the cotangents flow back
//! through the same formulas in reverse order. At a tie of `min`/`max` (both arguments equal) the
//! derivative is the second argument's for `min(e, ·)` in production, and zero for `max(0, x)` at
//! `x = 0`; these are the choices that reproduce smash's Tapenade gradients (Cance, Lez).

use super::interception::interception_reverse;
use crate::Real;
use crate::gr::interception::interception_scaled;
use crate::lanes::Lane;
use crate::nn::{Activations, Mlp};

/// Cotangents of one gr4 step: `[ci, cp, ct, kexc]` and `[hi, hp, ht]`.
pub type Params<V> = [V; 4];
pub type States<V> = [V; 3];

/// The network of gr4_mlp in a reverse step: its weights, scratch for its activations, and the
/// per-lane accumulators of ∂J/∂weights (`[W]` lane vectors).
pub type NetAdjoint<'a, 'w, V> = Option<(&'a Mlp<'w, <V as Lane>::Scalar>, &'a mut Activations<V>, &'a mut [V])>;

/// Reverse sweep of one gr4 or gr4_mlp step for a lane of cells.
///
/// # Arguments
/// * `p`, `e`: rainfall and PET of the step \[mm/dt\]; `par`: `[ci, cp, ct, kexc]`; `st0`: `[hi, hp, ht]` at
///   the start of the step; `beta`: percolation constant.
/// * `lambda_q`: cotangent of the step's runoff `qt` in mm/dt.
/// * `lambda_st`: on entry the cotangent of the states at the end of the step, on return at its start.
/// * `lambda_par`: the step's contribution is added.
/// * `net`: gr4_mlp's network; the cotangents of its weights are added to its accumulators.
///
/// Branches are lane masks: every lane evaluates both sides and keeps its own (as the forward does).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn step_adjoint<V: Lane>(
    p: V,
    e: V,
    par: &Params<V>,
    st0: &States<V>,
    beta: V,
    lambda_q: V,
    lambda_st: &mut States<V>,
    lambda_par: &mut Params<V>,
    mut net: NetAdjoint<'_, '_, V>,
) {
    let (zero, one) = (c::<V>(0.0), c::<V>(1.0));
    let [ci, cp, ct, kexc] = *par;
    let [hi0, hp0, ht0] = *st0;
    let missing_p = p.lt(zero);
    let missing = V::or(missing_p, e.lt(zero));

    // ---- forward recomputation (the same operators as the forward step)
    let mut hi = hi0;
    let inv_ci = one / ci;
    let int = interception_scaled(p, e, ci, |x| x * inv_ci, &mut hi);
    let (pn, en) = (int.pn, int.en);
    let o = match &mut net {
        Some((mlp, act, _)) => mlp.forward([hp0, ht0, pn, en], act).map(|o| V::select(missing, zero, o)),
        None => [zero; 4],
    };
    let prod = Production::recompute(pn, en, hp0, cp, beta, (one + o[0], one + o[1]));
    let runoff = V::select(missing, zero, prod.pr + prod.perc);
    // exchange (as `exchange`): l = (1 + o4)·kexc·ht0³·√ht0
    let ht_sqrt = ht0.sqrt();
    let k_l = one + o[3];
    let l = V::select(missing, zero, k_l * (kexc * ht0 * ht0 * ht0 * ht_sqrt));
    // split of pr + perc: 0.9(1 − o3²) routed, 0.1 + 0.9·o3² direct
    let o3_2 = o[2] * o[2];
    let (split_r, split_d) = (c::<V>(0.9) * (one - o3_2), c::<V>(0.1) + c::<V>(0.9) * o3_2);
    let prd = split_d * runoff;
    // the steady inflow of a step with missing rainfall (spec §1.2, gr_transfer), (1 − ht0⁴)^(−1/4)
    // computed only when a lane misses its rainfall (as in the forward)
    let any_missing_p = V::any(missing_p);
    let inv_r4 = if any_missing_p {
        let h2 = ht0 * ht0;
        one / (one - h2 * h2).sqrt().sqrt()
    } else {
        one
    };
    let prr = V::select(missing_p, ct * (ht0 * inv_r4 - ht0), split_r * runoff + l);
    let inv_ct = one / ct;
    let ht_unclipped = ht0 + prr * inv_ct;
    let ht_star = ht_unclipped.max(c::<V>(1e-6));
    let s2 = ht_star * ht_star;
    let inv_root = one / (one + s2 * s2).sqrt().sqrt();
    let ht1 = ht_star * inv_root;

    // ---- reverse: transfer and direct branch
    let [lam_hi1, lam_hp1, lam_ht1] = *lambda_st;
    // qt = qr + qd, qd = max(0, prd + l)
    let lam_prd = V::select((prd + l).gt(zero), lambda_q, zero);
    // qr = (ht* − ht1)·ct; ht1 = ht*·(1 + ht*⁴)^(−1/4): dht1/dht* = (1 + ht*⁴)^(−5/4) = inv_root⁵
    let mut lam_ct = lambda_q * (ht_star - ht1);
    let lam_ht1_total = lam_ht1 - lambda_q * ct;
    let inv_root2 = inv_root * inv_root;
    let lam_ht_star = lambda_q * ct + lam_ht1_total * (inv_root2 * inv_root2 * inv_root);
    // ht* = max(1e-6, ht0 + prr/ct)
    let unclipped = ht_unclipped.gt(c::<V>(1e-6));
    let mut lam_ht0 = V::select(unclipped, lam_ht_star, zero);
    let lam_prr = V::select(unclipped, lam_ht_star * inv_ct, zero);
    lam_ct = lam_ct - V::select(unclipped, lam_ht_star * prr * inv_ct * inv_ct, zero);
    // missing rainfall: prr = ct·(ht0·(1 − ht0⁴)^(−1/4) − ht0), dprr/dht0 = ct·((1 − ht0⁴)^(−5/4) − 1)
    if any_missing_p {
        let inv_r4_2 = inv_r4 * inv_r4;
        lam_ht0 = lam_ht0 + V::select(missing_p, lam_prr * ct * (inv_r4_2 * inv_r4_2 * inv_r4 - one), zero);
        lam_ct = lam_ct + V::select(missing_p, lam_prr * prr * inv_ct, zero);
    }
    // otherwise prr = split_r·runoff + l, prd = split_d·runoff
    let lam_prr_split = V::select(missing_p, zero, lam_prr);
    let lam_runoff = split_d * lam_prd + split_r * lam_prr_split;
    let lam_l = lam_prd + lam_prr_split;
    let lam_o3 = runoff * c::<V>(1.8) * o[2] * (lam_prd - lam_prr_split);

    // ---- reverse: exchange, production, interception (lanes with forcing)
    // l = (1 + o4)·kexc·ht0^3.5
    let ht25 = ht0 * ht0 * ht_sqrt;
    let lam_kexc = lam_l * k_l * ht25 * ht0;
    let mut lam_ht0_exchange = lam_l * k_l * kexc * c::<V>(3.5) * ht25;
    let lam_o4 = lam_l * kexc * ht25 * ht0;
    let (mut lam_hp0, lam_cp, mut lam_pn, mut lam_en, (lam_o1, lam_o2)) = prod.reverse(lam_runoff, lam_hp1);
    if let Some((mlp, act, grad)) = net {
        // the network's input is [hp0, ht0, pn, en]; its outputs are constant (0) on missing forcing
        let lam_o = [lam_o1, lam_o2, lam_o3, lam_o4].map(|l| V::select(missing, zero, l));
        let lam_x = mlp.backward(act, lam_o, grad);
        lam_hp0 = lam_hp0 + lam_x[0];
        lam_ht0_exchange = lam_ht0_exchange + lam_x[1];
        lam_pn = lam_pn + lam_x[2];
        lam_en = lam_en + lam_x[3];
    }
    let (lam_hi0, lam_ci) = interception_reverse(p, e, ci, hi0, &int, lam_hi1, lam_pn, lam_en);

    // lanes with missing forcing skipped interception, production and exchange
    *lambda_st = [
        V::select(missing, lam_hi1, lam_hi0),
        V::select(missing, lam_hp1, lam_hp0),
        V::select(missing, lam_ht0, lam_ht0 + lam_ht0_exchange),
    ];
    let [a_ci, a_cp, a_ct, a_kexc] = *lambda_par;
    *lambda_par = [
        a_ci + V::select(missing, zero, lam_ci),
        a_cp + V::select(missing, zero, lam_cp),
        a_ct + lam_ct,
        a_kexc + V::select(missing, zero, lam_kexc),
    ];
}

/// The production store of one step recomputed (spec §1.2, as [`crate::gr::production::production`]),
/// keeping what its reverse needs. The fractions' divisions are shared with the derivatives:
/// `ps = cp(1 − h²)·tp_n·q_p`, `es = h·cp(2 − h)·te_n·q_e`, with `tanh = n/d`.
struct Production<V> {
    pn: V,
    en: V,
    /// The hybrid corrections `(1 + o1, 1 + o2)` of `ps` and `es` (1 for gr4).
    k: (V, V),
    h: V,
    cp: V,
    inv_cp: V,
    inv_beta: V,
    tp: (V, V),
    te: (V, V),
    q_p: V,
    q_e: V,
    ps_raw: V,
    es_raw: V,
    ps: V,
    es: V,
    hs: V,
    r: V,
    g: V,
    pr: V,
    perc: V,
}

impl<V: Lane> Production<V> {
    #[inline(always)]
    fn recompute(pn: V, en: V, h: V, cp: V, beta: V, k: (V, V)) -> Self {
        let (zero, one, two) = (c::<V>(0.0), c::<V>(1.0), c::<V>(2.0));
        let inv_cp = one / cp;
        let (tp_n, tp_d) = (pn * inv_cp).tanh_ratio();
        let (te_n, te_d) = (en * inv_cp).tanh_ratio();
        let q_p = one / (tp_d + h * tp_n);
        let q_e = one / (te_d + (one - h) * te_n);
        let ps_raw = cp * (one - h * h) * tp_n * q_p;
        let es_raw = h * cp * (two - h) * te_n * q_e;
        let (ps, es) = ((k.0 * ps_raw).min(pn), (k.1 * es_raw).min(en));
        let hs = h + (ps - es) * inv_cp;
        let pr = V::select(pn.gt(zero), pn - ps, zero);
        let inv_beta = one / beta;
        let r = hs * inv_beta;
        let r2 = r * r;
        let g = one / (one + r2 * r2).sqrt().sqrt();
        let perc = hs * cp * (one - g);
        Production {
            pn,
            en,
            k,
            h,
            cp,
            inv_cp,
            inv_beta,
            tp: (tp_n, tp_d),
            te: (te_n, te_d),
            q_p,
            q_e,
            ps_raw,
            es_raw,
            ps,
            es,
            hs,
            r,
            g,
            pr,
            perc,
        }
    }

    /// From the cotangents of `pr + perc` and of the level at the end,
    /// `(∂/∂hp0, ∂/∂cp, ∂/∂pn, ∂/∂en, (∂/∂o1, ∂/∂o2))`.
    #[inline(always)]
    fn reverse(&self, lam_runoff: V, lam_hp1: V) -> (V, V, V, V, (V, V)) {
        let (zero, one, two) = (c::<V>(0.0), c::<V>(1.0), c::<V>(2.0));
        let Production { pn, en, k, h, cp, inv_cp, inv_beta, q_p, q_e, ps_raw, es_raw, ps, es, hs, r, g, .. } = *self;
        let ((tp_n, tp_d), (te_n, te_d)) = (self.tp, self.te);
        // hp1 = hs·g, perc = cp·hs·(1 − g), g = (1 + (hs/β)⁴)^(−1/4), dg/dhs = −r³·(1 + r⁴)^(−5/4)/β = −r³·g⁵/β
        let g2 = g * g;
        let dg = zero - r * r * r * g2 * g2 * g * inv_beta;
        let lam_hs = lam_hp1 * (g + hs * dg) + lam_runoff * cp * (one - g - hs * dg);
        let mut lam_cp = lam_runoff * hs * (one - g);
        // pr = pn − ps when pn > 0
        let mut lam_pn = V::select(pn.gt(zero), lam_runoff, zero);
        // hs = h + (ps − es)/cp
        let lam_ps = lam_hs * inv_cp - lam_pn;
        let lam_es = zero - lam_hs * inv_cp;
        let mut lam_hp0 = lam_hs;
        lam_cp = lam_cp - lam_hs * (ps - es) * inv_cp * inv_cp;
        // es = min(es_raw, en): the formula's derivative unless en < es_raw; with te = te_n/te_d,
        // ∂es/∂h = cp·te_n·q_e·((2 − 2h) + h(2 − h)·te_n·q_e), ∂es/∂te · dte/dx = h(2 − h)·cp·q_e²·(te_d² − te_n²)
        let es_capped = (k.1 * es_raw).gt(en);
        let lam_k_es = V::select(es_capped, zero, lam_es * es_raw);
        let lam_es_cap = lam_es;
        let lam_es = lam_es * k.1; // ∂/∂es_raw where uncapped
        let te_q = te_n * q_e;
        let d_h = cp * te_q * ((two - h - h) + h * (two - h) * te_q);
        let lam_x = lam_es * h * (two - h) * cp * q_e * q_e * (te_d * te_d - te_n * te_n); // x = en/cp
        lam_hp0 = lam_hp0 + V::select(es_capped, zero, lam_es * d_h);
        lam_cp = lam_cp + V::select(es_capped, zero, lam_es * es_raw * inv_cp - lam_x * en * inv_cp * inv_cp);
        let lam_en = V::select(es_capped, lam_es_cap, lam_x * inv_cp);
        // ps = min(ps_raw, pn): the formula's derivative unless pn < ps_raw;
        // ∂ps/∂h = cp·tp_n·q_p·(−2h − (1 − h²)·tp_n·q_p), ∂ps/∂tp · dtp/dx = cp(1 − h²)·q_p²·(tp_d² − tp_n²)
        let ps_capped = (k.0 * ps_raw).gt(pn);
        let lam_k_ps = V::select(ps_capped, zero, lam_ps * ps_raw);
        let lam_ps_cap = lam_ps;
        let lam_ps = lam_ps * k.0; // ∂/∂ps_raw where uncapped
        let tp_q = tp_n * q_p;
        let d_h = cp * tp_q * ((zero - h - h) - (one - h * h) * tp_q);
        let lam_xp = lam_ps * cp * (one - h * h) * q_p * q_p * (tp_d * tp_d - tp_n * tp_n); // x = pn/cp
        lam_hp0 = lam_hp0 + V::select(ps_capped, zero, lam_ps * d_h);
        lam_pn = lam_pn + V::select(ps_capped, lam_ps_cap, lam_xp * inv_cp);
        lam_cp = lam_cp + V::select(ps_capped, zero, lam_ps * ps_raw * inv_cp - lam_xp * pn * inv_cp * inv_cp);
        (lam_hp0, lam_cp, lam_pn, lam_en, (lam_k_ps, lam_k_es))
    }
}

/// A constant in every lane (a function, not a closure: closures do not inherit the caller's target
/// features, so they would not inline into the vectorised kernels).
#[inline(always)]
pub(super) fn c<V: Lane>(x: f64) -> V {
    V::splat(V::Scalar::from_f64(x))
}
