//! The gr4 time loop as cubecl kernels: one unit per (parameter set × cell), states in registers,
//! forcing time-major. The step and its discrete adjoint transcribe
//! [`hydrograd_models::gr::gr4::step`] and [`hydrograd_models::adjoint::gr4::step_adjoint`] (spec §1.2)
//! operation for operation, with the same tie rules, so that GPU and CPU agree to round-off; the tests
//! hold them to that.
//!
//! Layouts (`SN = S·N`, unit `u = set·N + cell`): forcing block `[·, N]` read from row `f0`, parameters `[P, S, N]`,
//! states `[K, S, N]`, runoff `[S, tc, N]` \[m³/s\], tape `[tc, K, S, N]` (the states at the start of
//! every step).

use crate::math::tanh_ratio;
use cubecl::prelude::*;

/// gr4 states of one unit (levels over capacity).
#[derive(CubeType, Clone, Copy)]
pub struct Gr4States<F: Float> {
    pub hi: F,
    pub hp: F,
    pub ht: F,
}

/// One gr4 step (as `gr4::step`) with parameters `ci, cp, ct, kexc`: returns `qt` \[mm/dt\] and
/// updates `st`.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn gr4_step<F: Float>(
    p: F,
    e: F,
    ci: F,
    cp: F,
    ct: F,
    kexc: F,
    st: &mut Gr4States<F>,
    beta: F,
    #[comptime] single: bool,
) -> F {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let two = F::new(2.0);
    let missing_p = p < zero;
    let missing = missing_p || e < zero;
    let hi0 = st.hi;
    let hp0 = st.hp;
    let ht0 = st.ht;
    // interception (the products fused as smash's compiled Fortran has them)
    let ei = min(e, fma(hi0, ci, p));
    let pn = max(fma(zero - ci, one - hi0, p) - ei, zero);
    let en = e - ei;
    let hi = hi0 + (p - ei - pn) * (one / ci);
    // production
    let inv_cp = one / cp;
    let tp = tanh_ratio::<F>(pn * inv_cp, single);
    let te = tanh_ratio::<F>(en * inv_cp, single);
    let ps = min(cp * (one - hp0 * hp0) * tp.n / (tp.d + hp0 * tp.n), pn);
    let es = min(hp0 * cp * (two - hp0) * te.n / (te.d + (one - hp0) * te.n), en);
    let hs = hp0 + (ps - es) * inv_cp;
    let pr = select(pn > zero, pn - ps, zero);
    let r = hs * (one / beta);
    let r2 = r * r;
    let perc = hs * cp * (one - one / (one + r2 * r2).sqrt().sqrt());
    let hp = hs - perc * inv_cp;
    // exchange
    let l = select(missing, zero, kexc * ht0 * ht0 * ht0 * ht0.sqrt());
    let runoff = select(missing, zero, pr + perc);
    st.hi = select(missing, hi0, hi);
    st.hp = select(missing, hp0, hp);
    // transfer (n = 5), with the steady inflow when the rainfall is missing
    let mut prr = F::cast_from(0.9f64) * runoff + l;
    if missing_p {
        let h2 = ht0 * ht0;
        prr = ct * (ht0 / (one - h2 * h2).sqrt().sqrt() - ht0);
    }
    let prd = F::cast_from(0.1f64) * runoff;
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

/// The hydrology of every unit over a chunk of `tc` steps: `runoff` receives `qt·to_m3s` \[m³/s\] and
/// `states` the states at the end; with `taped`, `tape` receives the states at the start of every step.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn gr4_forward<F: Float>(
    prcp: &[F],
    pet: &[F],
    params: &[F],
    states: &mut [F],
    runoff: &mut [F],
    tape: &mut [F],
    n: usize,
    sn: usize,
    tc: usize,
    beta: InputScalar,
    to_m3s: InputScalar,
    f0: usize,
    #[comptime] taped: bool,
    #[comptime] single: bool,
) {
    let beta = beta.get::<F>();
    let to_m3s = to_m3s.get::<F>();
    let u = ABSOLUTE_POS;
    if u >= sn {
        terminate!();
    }
    let cell = u % n;
    let set = u / n;
    let ci = params[u];
    let cp = params[sn + u];
    let ct = params[2 * sn + u];
    let kexc = params[3 * sn + u];
    let mut st = Gr4States::<F> { hi: states[u], hp: states[sn + u], ht: states[2 * sn + u] };
    for t in 0..tc {
        if taped {
            let base = t * 3 * sn + u;
            tape[base] = st.hi;
            tape[base + sn] = st.hp;
            tape[base + 2 * sn] = st.ht;
        }
        let q =
            gr4_step::<F>(prcp[(f0 + t) * n + cell], pet[(f0 + t) * n + cell], ci, cp, ct, kexc, &mut st, beta, single);
        runoff[(set * tc + t) * n + cell] = q * to_m3s;
    }
    store_states::<F>(states, u, sn, st);
}

/// Cotangents of the gr4 parameters of one unit.
#[derive(CubeType, Clone, Copy)]
pub struct Gr4ParamsCotangent<F: Float> {
    pub ci: F,
    pub cp: F,
    pub ct: F,
    pub kexc: F,
}

/// Reverse sweep of one gr4 step (as `adjoint::gr4::step_adjoint`) with parameters `ci, cp, ct, kexc`: `lam_st` holds the cotangent of the
/// states at the end of the step on entry and at its start on return; the step's parameter cotangents
/// are added to `lam_par`. `lambda_q` is the cotangent of the step's runoff in mm/dt.
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn gr4_step_adjoint<F: Float>(
    p: F,
    e: F,
    ci: F,
    cp: F,
    ct: F,
    kexc: F,
    st0: Gr4States<F>,
    beta: F,
    lambda_q: F,
    lam_st: &mut Gr4States<F>,
    lam_par: &mut Gr4ParamsCotangent<F>,
    #[comptime] single: bool,
) {
    let zero = F::new(0.0);
    let one = F::new(1.0);
    let two = F::new(2.0);
    let hi0 = st0.hi;
    let h = st0.hp;
    let ht0 = st0.ht;
    let missing_p = p < zero;
    let missing = missing_p || e < zero;

    // ---- forward recomputation
    let inv_ci = one / ci;
    let ei = min(e, fma(hi0, ci, p));
    let pn = max(fma(zero - ci, one - hi0, p) - ei, zero);
    let en = e - ei;
    // production (Production::recompute)
    let inv_cp = one / cp;
    let tp = tanh_ratio::<F>(pn * inv_cp, single);
    let te = tanh_ratio::<F>(en * inv_cp, single);
    let q_p = one / (tp.d + h * tp.n);
    let q_e = one / (te.d + (one - h) * te.n);
    let ps_raw = cp * (one - h * h) * tp.n * q_p;
    let es_raw = h * cp * (two - h) * te.n * q_e;
    let ps = min(ps_raw, pn);
    let es = min(es_raw, en);
    let hs = h + (ps - es) * inv_cp;
    let pr = select(pn > zero, pn - ps, zero);
    let inv_beta = one / beta;
    let r = hs * inv_beta;
    let r2 = r * r;
    let g = one / (one + r2 * r2).sqrt().sqrt();
    let perc = hs * cp * (one - g);
    let runoff = select(missing, zero, pr + perc);
    let ht_sqrt = ht0.sqrt();
    let l = select(missing, zero, kexc * ht0 * ht0 * ht0 * ht_sqrt);
    let prd = F::cast_from(0.1f64) * runoff;
    let mut inv_r4 = one;
    let mut prr = F::cast_from(0.9f64) * runoff + l;
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
    let lam_runoff = F::cast_from(0.1f64) * lam_prd + select(missing_p, zero, F::cast_from(0.9f64) * lam_prr);
    let lam_l = lam_prd + select(missing_p, zero, lam_prr);

    // ---- reverse: exchange
    let ht25 = ht0 * ht0 * ht_sqrt;
    let lam_kexc = lam_l * ht25 * ht0;
    let lam_ht0_exchange = lam_l * kexc * F::new(3.5) * ht25;

    // ---- reverse: production (Production::reverse)
    let g2 = g * g;
    let dg = zero - r * r * r * g2 * g2 * g * inv_beta;
    let lam_hs = lam_hp1 * (g + hs * dg) + lam_runoff * cp * (one - g - hs * dg);
    let mut lam_cp = lam_runoff * hs * (one - g);
    let mut lam_pn = select(pn > zero, lam_runoff, zero);
    let lam_ps = lam_hs * inv_cp - lam_pn;
    let lam_es = zero - lam_hs * inv_cp;
    let mut lam_hp0 = lam_hs;
    lam_cp -= lam_hs * (ps - es) * inv_cp * inv_cp;
    let es_capped = es_raw > en;
    let te_q = te.n * q_e;
    let de_h = cp * te_q * ((two - h - h) + h * (two - h) * te_q);
    let lam_x = lam_es * h * (two - h) * cp * q_e * q_e * (te.d * te.d - te.n * te.n);
    lam_hp0 += select(es_capped, zero, lam_es * de_h);
    lam_cp += select(es_capped, zero, lam_es * es_raw * inv_cp - lam_x * en * inv_cp * inv_cp);
    let lam_en = select(es_capped, lam_es, lam_x * inv_cp);
    let ps_capped = ps_raw > pn;
    let tp_q = tp.n * q_p;
    let dp_h = cp * tp_q * ((zero - h - h) - (one - h * h) * tp_q);
    let lam_xp = lam_ps * cp * (one - h * h) * q_p * q_p * (tp.d * tp.d - tp.n * tp.n);
    lam_hp0 += select(ps_capped, zero, lam_ps * dp_h);
    lam_pn += select(ps_capped, lam_ps, lam_xp * inv_cp);
    lam_cp += select(ps_capped, zero, lam_ps * ps_raw * inv_cp - lam_xp * pn * inv_cp * inv_cp);

    // ---- reverse: interception
    let mut lam_hi0 = lam_hi1;
    let mut lam_ei = zero - lam_hi1 * inv_ci - lam_en;
    lam_pn -= lam_hi1 * inv_ci;
    let mut lam_ci = zero - lam_hi1 * (p - ei - pn) * inv_ci * inv_ci;
    let spills = fma(zero - ci, one - hi0, p) - ei > zero;
    lam_ci -= select(spills, lam_pn * (one - hi0), zero);
    lam_hi0 += select(spills, lam_pn * ci, zero);
    lam_ei -= select(spills, lam_pn, zero);
    let from_store = fma(hi0, ci, p) < e;
    lam_hi0 += select(from_store, lam_ei * ci, zero);
    lam_ci += select(from_store, lam_ei * hi0, zero);

    // units with missing forcing skipped interception, production and exchange
    lam_st.hi = select(missing, lam_hi1, lam_hi0);
    lam_st.hp = select(missing, lam_hp1, lam_hp0);
    lam_st.ht = select(missing, lam_ht0, lam_ht0 + lam_ht0_exchange);
    lam_par.ci += select(missing, zero, lam_ci);
    lam_par.cp += select(missing, zero, lam_cp);
    lam_par.ct += lam_ct;
    lam_par.kexc += select(missing, zero, lam_kexc);
}

/// The hydrology adjoint of every unit over a chunk, steps in reverse: `lambda` holds ∂J/∂qt
/// `[S, tc, N]` \[per m³/s\]; `lam_states` (`[K, S, N]`) the state cotangents at the chunk's end on entry
/// and at its start on return; `lam_params` (`[4, S, N]`) accumulates.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn gr4_adjoint<F: Float>(
    prcp: &[F],
    pet: &[F],
    params: &[F],
    tape: &[F],
    lambda: &[F],
    lam_states: &mut [F],
    lam_params: &mut [F],
    n: usize,
    sn: usize,
    tc: usize,
    beta: InputScalar,
    to_m3s: InputScalar,
    f0: usize,
    #[comptime] single: bool,
) {
    let beta = beta.get::<F>();
    let to_m3s = to_m3s.get::<F>();
    let u = ABSOLUTE_POS;
    if u >= sn {
        terminate!();
    }
    let cell = u % n;
    let set = u / n;
    let ci = params[u];
    let cp = params[sn + u];
    let ct = params[2 * sn + u];
    let kexc = params[3 * sn + u];
    let mut lam_st = Gr4States::<F> { hi: lam_states[u], hp: lam_states[sn + u], ht: lam_states[2 * sn + u] };
    let mut lam_par = Gr4ParamsCotangent::<F> {
        ci: lam_params[u],
        cp: lam_params[sn + u],
        ct: lam_params[2 * sn + u],
        kexc: lam_params[3 * sn + u],
    };
    for i in 0..tc {
        let t = tc - 1 - i;
        let st0 = load_states::<F>(tape, t * 3 * sn + u, sn);
        let lambda_q = lambda[(set * tc + t) * n + cell] * to_m3s;
        gr4_step_adjoint::<F>(
            prcp[(f0 + t) * n + cell],
            pet[(f0 + t) * n + cell],
            ci,
            cp,
            ct,
            kexc,
            st0,
            beta,
            lambda_q,
            &mut lam_st,
            &mut lam_par,
            single,
        );
    }
    store_states::<F>(lam_states, u, sn, lam_st);
    lam_params[u] = lam_par.ci;
    lam_params[sn + u] = lam_par.cp;
    lam_params[2 * sn + u] = lam_par.ct;
    lam_params[3 * sn + u] = lam_par.kexc;
}
