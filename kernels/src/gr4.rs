//! One gr4 / gr4_mlp step and its discrete adjoint as cube functions. They transcribe
//! [`hydrograd_models::gr::gr4::step_with`] and [`hydrograd_models::adjoint::gr4::step_adjoint`]
//! (spec §1.2, §1.3) operation for operation, with the same tie rules, so that GPU and CPU agree to
//! round-off; the tests hold them to that. gr4 is gr4_mlp with zero corrections, as on the CPU.
//!
//! The kernels that loop them over time are in [`crate::hydrology`].

use crate::math::tanh_ratio;
use crate::nn::{self, Activations, Cotangents};
use cubecl::prelude::*;

/// gr4 states of one unit (levels over capacity).
#[derive(CubeType, Clone, Copy)]
pub struct Gr4States<F: Float> {
    pub hi: F,
    pub hp: F,
    pub ht: F,
}

/// gr4 parameters of one unit, or their cotangents.
#[derive(CubeType, Clone, Copy)]
pub struct Gr4Params<F: Float> {
    pub ci: F,
    pub cp: F,
    pub ct: F,
    pub kexc: F,
}

/// gr4_mlp's corrections of one step (0 for gr4): of `ps`, `es`, the routed / direct split, the exchange.
#[derive(CubeType, Clone, Copy)]
pub struct Corrections<F: Float> {
    pub ps: F,
    pub es: F,
    pub split: F,
    pub exchange: F,
}

/// Cotangents of the interception store's inputs.
#[derive(CubeType, Clone, Copy)]
pub struct InterceptCotangent<F: Float> {
    pub hi0: F,
    pub ci: F,
}

/// The interception store of one step (as `interception_scaled`): `(ei, pn, en)` and the new level.
#[derive(CubeType, Clone, Copy)]
pub struct Intercepted<F: Float> {
    pub ei: F,
    pub pn: F,
    pub en: F,
    pub hi: F,
}

/// `ei = min(e, hi0·ci + p)`, `pn = max(0, p − ci(1 − hi0) − ei)`, `en = e − ei`, the products fused
/// as smash's compiled Fortran has them.
#[cube]
pub fn intercept<F: Float>(p: F, e: F, ci: F, hi0: F) -> Intercepted<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let ei = min(e, fma(hi0, ci, p));
    let pn = max(fma(zero - ci, one - hi0, p) - ei, zero);
    let en = e - ei;
    let hi = hi0 + (p - ei - pn) * (one / ci);
    Intercepted::<F> { ei, pn, en, hi }
}

/// Reverse of [`intercept`] from the cotangents of the new level and of `pn`, `en`:
/// `(∂/∂hi0, ∂/∂ci)` (as `adjoint::interception::interception_reverse`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn intercept_reverse<F: Float>(
    p: F,
    e: F,
    ci: F,
    hi0: F,
    int: &Intercepted<F>,
    lam_hi1: F,
    lam_pn: F,
    lam_en: F,
) -> InterceptCotangent<F> {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let inv_ci = one / ci;
    let mut lam_hi0 = lam_hi1;
    let mut lam_ei = zero - lam_hi1 * inv_ci - lam_en;
    let lam_pn = lam_pn - lam_hi1 * inv_ci;
    let mut lam_ci = zero - lam_hi1 * (p - int.ei - int.pn) * inv_ci * inv_ci;
    let spills = fma(zero - ci, one - hi0, p) - int.ei > zero;
    lam_ci -= select(spills, lam_pn * (one - hi0), zero);
    lam_hi0 += select(spills, lam_pn * ci, zero);
    lam_ei -= select(spills, lam_pn, zero);
    let from_store = fma(hi0, ci, p) < e;
    lam_hi0 += select(from_store, lam_ei * ci, zero);
    lam_ci += select(from_store, lam_ei * hi0, zero);
    InterceptCotangent::<F> { hi0: lam_hi0, ci: lam_ci }
}

/// The network's corrections `o = net([hp0, ht0, pn, en])` of gr4_mlp, 0 on missing forcing; all 0 for
/// gr4 (`h1 = 0`). `w` is the weights buffer `[S, W]`, `base` where the unit's set starts.
#[cube]
#[allow(clippy::too_many_arguments)]
fn corrections<F: Float>(
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    hp0: F,
    ht0: F,
    int: &Intercepted<F>,
    missing: bool,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] single: bool,
) -> Corrections<F> {
    let zero = F::new(0.0);
    let mut o = Corrections::<F> { ps: zero, es: zero, split: zero, exchange: zero };
    if h1 > 0 {
        act.x[0] = hp0;
        act.x[1] = ht0;
        act.x[2] = int.pn;
        act.x[3] = int.en;
        nn::forward::<F>(w, base, act, h1, h2, false, single);
        o.ps = select(missing, zero, act.out[0]);
        o.es = select(missing, zero, act.out[1]);
        o.split = select(missing, zero, act.out[2]);
        o.exchange = select(missing, zero, act.out[3]);
    }
    o
}

/// One gr4 or gr4_mlp step (as `gr4::step_with`): returns `qt` \[mm/dt\] and updates `st`. The
/// corrections `o` scale `ps`, `es` by `(1 + o1, 1 + o2)`, split `pr + perc` into `0.9(1 − o3²)` routed
/// and `0.1 + 0.9·o3²` direct, and scale the exchange by `1 + o4`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn gr4_step<F: Float>(
    p: F,
    e: F,
    par: &Gr4Params<F>,
    st: &mut Gr4States<F>,
    beta: F,
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] single: bool,
) -> F {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let two = F::new(2.0);
    let ci = par.ci;
    let cp = par.cp;
    let ct = par.ct;
    let kexc = par.kexc;
    let missing_p = p < zero;
    let missing = missing_p || e < zero;
    let hi0 = st.hi;
    let hp0 = st.hp;
    let ht0 = st.ht;
    let int = intercept::<F>(p, e, ci, hi0);
    let pn = int.pn;
    let en = int.en;
    let o = corrections::<F>(w, base, act, hp0, ht0, &int, missing, h1, h2, single);
    // production
    let inv_cp = one / cp;
    let tp = tanh_ratio::<F>(pn * inv_cp, single);
    let te = tanh_ratio::<F>(en * inv_cp, single);
    let ps = min((one + o.ps) * (cp * (one - hp0 * hp0) * tp.n / (tp.d + hp0 * tp.n)), pn);
    let es = min((one + o.es) * (hp0 * cp * (two - hp0) * te.n / (te.d + (one - hp0) * te.n)), en);
    let hs = hp0 + (ps - es) * inv_cp;
    let pr = select(pn > zero, pn - ps, zero);
    let r = hs * (one / beta);
    let r2 = r * r;
    let perc = hs * cp * (one - one / (one + r2 * r2).sqrt().sqrt());
    let hp = hs - perc * inv_cp;
    // exchange
    let l = select(missing, zero, (one + o.exchange) * (kexc * ht0 * ht0 * ht0 * ht0.sqrt()));
    let runoff = select(missing, zero, pr + perc);
    st.hi = select(missing, hi0, int.hi);
    st.hp = select(missing, hp0, hp);
    // split, then transfer (n = 5), with the steady inflow when the rainfall is missing
    let o3_2 = o.split * o.split;
    let c09 = F::cast_from(0.9f64);
    let mut prr = c09 * (one - o3_2) * runoff + l;
    if missing_p {
        let h2 = ht0 * ht0;
        prr = ct * (ht0 / (one - h2 * h2).sqrt().sqrt() - ht0);
    }
    let prd = (F::cast_from(0.1f64) + c09 * o3_2) * runoff;
    let ht_star = max(ht0 + prr * (one / ct), F::cast_from(1e-6f64));
    let s2 = ht_star * ht_star;
    let ht1 = ht_star / (one + s2 * s2).sqrt().sqrt();
    st.ht = ht1;
    (ht_star - ht1) * ct + max(prd + l, zero)
}

/// The gr4 states of unit `u` from a `[K, S, N]` array.
#[cube]
pub fn load_states<F: Float>(states: &[F], u: usize, sn: usize) -> Gr4States<F> {
    Gr4States::<F> { hi: states[u], hp: states[sn + u], ht: states[2 * sn + u] }
}

#[cube]
pub fn store_states<F: Float>(states: &mut [F], u: usize, sn: usize, st: Gr4States<F>) {
    states[u] = st.hi;
    states[sn + u] = st.hp;
    states[2 * sn + u] = st.ht;
}

/// The gr4 parameters of unit `u` from a `[P, S, N]` array.
#[cube]
pub fn load_params<F: Float>(params: &[F], u: usize, sn: usize) -> Gr4Params<F> {
    Gr4Params::<F> { ci: params[u], cp: params[sn + u], ct: params[2 * sn + u], kexc: params[3 * sn + u] }
}

#[cube]
pub fn store_params<F: Float>(params: &mut [F], u: usize, sn: usize, par: Gr4Params<F>) {
    params[u] = par.ci;
    params[sn + u] = par.cp;
    params[2 * sn + u] = par.ct;
    params[3 * sn + u] = par.kexc;
}

/// Reverse sweep of one gr4 or gr4_mlp step (as `adjoint::gr4::step_adjoint`): `lam_st` holds the
/// cotangent of the states at the end of the step on entry and at its start on return; the step's
/// parameter cotangents are added to `lam_par`, the network's weight cotangents to `cot.grad`.
/// `lambda_q` is the cotangent of the step's runoff in mm/dt.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn gr4_step_adjoint<F: Float>(
    p: F,
    e: F,
    par: &Gr4Params<F>,
    st0: Gr4States<F>,
    beta: F,
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
    let ci = par.ci;
    let cp = par.cp;
    let ct = par.ct;
    let kexc = par.kexc;
    let hi0 = st0.hi;
    let h = st0.hp;
    let ht0 = st0.ht;
    let missing_p = p < zero;
    let missing = missing_p || e < zero;

    // ---- forward recomputation
    let int = intercept::<F>(p, e, ci, hi0);
    let pn = int.pn;
    let en = int.en;
    let o = corrections::<F>(w, base, act, h, ht0, &int, missing, h1, h2, single);
    let k_ps = one + o.ps;
    let k_es = one + o.es;
    // production (Production::recompute)
    let inv_cp = one / cp;
    let tp = tanh_ratio::<F>(pn * inv_cp, single);
    let te = tanh_ratio::<F>(en * inv_cp, single);
    let q_p = one / (tp.d + h * tp.n);
    let q_e = one / (te.d + (one - h) * te.n);
    let ps_raw = cp * (one - h * h) * tp.n * q_p;
    let es_raw = h * cp * (two - h) * te.n * q_e;
    let ps = min(k_ps * ps_raw, pn);
    let es = min(k_es * es_raw, en);
    let hs = h + (ps - es) * inv_cp;
    let pr = select(pn > zero, pn - ps, zero);
    let inv_beta = one / beta;
    let r = hs * inv_beta;
    let r2 = r * r;
    let g = one / (one + r2 * r2).sqrt().sqrt();
    let perc = hs * cp * (one - g);
    let runoff = select(missing, zero, pr + perc);
    let ht_sqrt = ht0.sqrt();
    let k_l = one + o.exchange;
    let l = select(missing, zero, k_l * (kexc * ht0 * ht0 * ht0 * ht_sqrt));
    let o3_2 = o.split * o.split;
    let split_r = F::cast_from(0.9f64) * (one - o3_2);
    let split_d = F::cast_from(0.1f64) + F::cast_from(0.9f64) * o3_2;
    let prd = split_d * runoff;
    let mut inv_r4 = one;
    let mut prr = split_r * runoff + l;
    if missing_p {
        let h2 = ht0 * ht0;
        inv_r4 = one / (one - h2 * h2).sqrt().sqrt();
        prr = ct * (ht0 * inv_r4 - ht0);
    }
    let inv_ct = one / ct;
    let ht_unclipped = ht0 + prr * inv_ct;
    let ht_star = max(ht_unclipped, F::cast_from(1e-6f64));
    let s2 = ht_star * ht_star;
    let inv_root = one / (one + s2 * s2).sqrt().sqrt();
    let ht1 = ht_star * inv_root;

    // ---- reverse: transfer and direct branch
    let lam_hi1 = lam_st.hi;
    let lam_hp1 = lam_st.hp;
    let lam_ht1 = lam_st.ht;
    let lam_prd = select(prd + l > zero, lambda_q, zero);
    let mut lam_ct = lambda_q * (ht_star - ht1);
    let lam_ht1_total = lam_ht1 - lambda_q * ct;
    let inv_root2 = inv_root * inv_root;
    let lam_ht_star = lambda_q * ct + lam_ht1_total * (inv_root2 * inv_root2 * inv_root);
    let unclipped = ht_unclipped > F::cast_from(1e-6f64);
    let mut lam_ht0 = select(unclipped, lam_ht_star, zero);
    let lam_prr = select(unclipped, lam_ht_star * inv_ct, zero);
    lam_ct -= select(unclipped, lam_ht_star * prr * inv_ct * inv_ct, zero);
    if missing_p {
        let inv_r4_2 = inv_r4 * inv_r4;
        lam_ht0 += lam_prr * ct * (inv_r4_2 * inv_r4_2 * inv_r4 - one);
        lam_ct += lam_prr * prr * inv_ct;
    }
    let lam_prr_split = select(missing_p, zero, lam_prr);
    let lam_runoff = split_d * lam_prd + split_r * lam_prr_split;
    let lam_l = lam_prd + lam_prr_split;
    let lam_o3 = runoff * F::cast_from(1.8f64) * o.split * (lam_prd - lam_prr_split);

    // ---- reverse: exchange
    let ht25 = ht0 * ht0 * ht_sqrt;
    let lam_kexc = lam_l * k_l * ht25 * ht0;
    let mut lam_ht0_exchange = lam_l * k_l * kexc * F::new(3.5) * ht25;
    let lam_o4 = lam_l * kexc * ht25 * ht0;

    // ---- reverse: production (Production::reverse)
    let g2 = g * g;
    let dg = zero - r * r * r * g2 * g2 * g * inv_beta;
    let lam_hs = lam_hp1 * (g + hs * dg) + lam_runoff * cp * (one - g - hs * dg);
    let mut lam_cp = lam_runoff * hs * (one - g);
    let mut lam_pn = select(pn > zero, lam_runoff, zero);
    let lam_ps_cap = lam_hs * inv_cp - lam_pn;
    let lam_es_cap = zero - lam_hs * inv_cp;
    let mut lam_hp0 = lam_hs;
    lam_cp -= lam_hs * (ps - es) * inv_cp * inv_cp;
    let es_capped = k_es * es_raw > en;
    let lam_o2 = select(es_capped, zero, lam_es_cap * es_raw);
    let lam_es = lam_es_cap * k_es;
    let te_q = te.n * q_e;
    let de_h = cp * te_q * ((two - h - h) + h * (two - h) * te_q);
    let lam_x = lam_es * h * (two - h) * cp * q_e * q_e * (te.d * te.d - te.n * te.n);
    lam_hp0 += select(es_capped, zero, lam_es * de_h);
    lam_cp += select(es_capped, zero, lam_es * es_raw * inv_cp - lam_x * en * inv_cp * inv_cp);
    let mut lam_en = select(es_capped, lam_es_cap, lam_x * inv_cp);
    let ps_capped = k_ps * ps_raw > pn;
    let lam_o1 = select(ps_capped, zero, lam_ps_cap * ps_raw);
    let lam_ps = lam_ps_cap * k_ps;
    let tp_q = tp.n * q_p;
    let dp_h = cp * tp_q * ((zero - h - h) - (one - h * h) * tp_q);
    let lam_xp = lam_ps * cp * (one - h * h) * q_p * q_p * (tp.d * tp.d - tp.n * tp.n);
    lam_hp0 += select(ps_capped, zero, lam_ps * dp_h);
    lam_pn += select(ps_capped, lam_ps_cap, lam_xp * inv_cp);
    lam_cp += select(ps_capped, zero, lam_ps * ps_raw * inv_cp - lam_xp * pn * inv_cp * inv_cp);

    // ---- reverse: the network (its input is [hp0, ht0, pn, en]; its outputs are 0 on missing forcing)
    if h1 > 0 {
        let mut lam_o = Array::<F>::new(4usize);
        lam_o[0] = select(missing, zero, lam_o1);
        lam_o[1] = select(missing, zero, lam_o2);
        lam_o[2] = select(missing, zero, lam_o3);
        lam_o[3] = select(missing, zero, lam_o4);
        nn::backward::<F>(w, base, act, &lam_o, cot, h1, h2, single);
        lam_hp0 += cot.lam_x[0];
        lam_ht0_exchange += cot.lam_x[1];
        lam_pn += cot.lam_x[2];
        lam_en += cot.lam_x[3];
    }

    // ---- reverse: interception
    let lam_int = intercept_reverse::<F>(p, e, ci, hi0, &int, lam_hi1, lam_pn, lam_en);

    // units with missing forcing skipped interception, production and exchange
    lam_st.hi = select(missing, lam_hi1, lam_int.hi0);
    lam_st.hp = select(missing, lam_hp1, lam_hp0);
    lam_st.ht = select(missing, lam_ht0, lam_ht0 + lam_ht0_exchange);
    lam_par.ci += select(missing, zero, lam_int.ci);
    lam_par.cp += select(missing, zero, lam_cp);
    lam_par.ct += lam_ct;
    lam_par.kexc += select(missing, zero, lam_kexc);
}
