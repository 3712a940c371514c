//! The gr4 structure: interception → production → exchange → transfer (spec §1.2, `gr4_time_step`).

use super::{
    exchange::exchange, interception::interception_scaled, production::production_corrected, transfer::transfer_n5,
};
use crate::Real;
use crate::lanes::Lane;
use crate::nn::{Activations, Mlp};
use crate::registry::{DefaultValue, VarInfo};

/// gr4 parameters, in smash's order: `ci, cp, ct, kexc`.
pub const PARAMETERS: &[VarInfo] = &[
    VarInfo {
        name: "ci",
        unit: "mm",
        description: "interception capacity (adjusted from the forcing at sub-daily dt)",
        default: DefaultValue::Fixed(1e-6),
        bounds: (1e-6, 100.0),
        feasible: (0.0, f64::INFINITY),
        optimizable: false,
    },
    VarInfo {
        name: "cp",
        unit: "mm",
        description: "production store capacity",
        default: DefaultValue::Fixed(200.0),
        bounds: (1e-6, 1000.0),
        feasible: (0.0, f64::INFINITY),
        optimizable: true,
    },
    VarInfo {
        name: "ct",
        unit: "mm",
        description: "transfer store capacity",
        default: DefaultValue::Fixed(500.0),
        bounds: (1e-6, 1000.0),
        feasible: (0.0, f64::INFINITY),
        optimizable: true,
    },
    VarInfo {
        name: "kexc",
        unit: "mm/dt",
        description: "groundwater exchange coefficient",
        default: DefaultValue::Fixed(0.0),
        bounds: (-50.0, 50.0),
        feasible: (f64::NEG_INFINITY, f64::INFINITY),
        optimizable: true,
    },
];

/// gr4 states, in smash's order: `hi, hp, ht` (levels normalised by their capacity).
pub const STATES: &[VarInfo] = &[
    state("hi", "interception store level / ci"),
    state("hp", "production store level / cp"),
    state("ht", "transfer store level / ct"),
];

const fn state(name: &'static str, description: &'static str) -> VarInfo {
    VarInfo {
        name,
        unit: "-",
        description,
        default: DefaultValue::Fixed(0.01),
        bounds: (1e-6, 0.999999),
        feasible: (0.0, 1.0),
        optimizable: true,
    }
}

/// One gr4 step for a lane of cells. `params = [ci, cp, ct, kexc]`, `states = [hi, hp, ht]` (updated);
/// `p`, `e` are rainfall and PET \[mm/dt\]; `beta` the percolation constant. Returns `qt` \[mm/dt\].
///
/// Missing forcing (`p < 0` or `e < 0`) skips interception, production and exchange (states unchanged,
/// `pr = perc = l = 0`); the transfer store still runs, with its steady inflow when `p < 0` (spec §1.1).
#[inline(always)]
pub fn step<V: Lane>(p: V, e: V, params: &[V], states: &mut [V], beta: V) -> V {
    step_with(p, e, params, states, beta, None)
}

/// The corrections of one step and what the network's backward pass needs.
pub(crate) type NetPass<'a, 'w, V> = Option<(&'a Mlp<'w, <V as Lane>::Scalar>, &'a mut Activations<V>)>;

/// gr4 with the optional network of gr4_mlp (spec §1.3), whose corrections `o = net([hp, ht, pn, en])`
/// are 0 on missing forcing: `ps` and `es` scaled by `(1 + o1, 1 + o2)`, the split
/// `prr = 0.9(1 − o3²)(pr + perc) + l`, `prd = (0.1 + 0.9·o3²)(pr + perc)`, the exchange by `(1 + o4)`.
#[inline(always)]
pub(crate) fn step_with<V: Lane>(p: V, e: V, params: &[V], states: &mut [V], beta: V, net: NetPass<'_, '_, V>) -> V {
    let zero = V::splat(V::Scalar::ZERO);
    let one = V::splat(V::Scalar::ONE);
    let [ci, cp, ct, kexc] = [params[0], params[1], params[2], params[3]];
    let (hi0, hp0, ht0) = (states[0], states[1], states[2]);
    let missing_p = p.lt(zero);
    let missing = V::or(missing_p, e.lt(zero));

    let mut hi = hi0;
    let inv_ci = one / ci; // hoisted out of the time loop by the compiler
    let int = interception_scaled(p, e, ci, |x| x * inv_ci, &mut hi);
    let o = match net {
        Some((net, act)) => net.forward([hp0, ht0, int.pn, int.en], act).map(|o| V::select(missing, zero, o)),
        None => [zero; 4],
    };
    let mut hp = hp0;
    let prod = production_corrected(int.pn, int.en, cp, beta, (one + o[0], one + o[1]), &mut hp);
    let l = (one + o[3]) * exchange(kexc, ht0);

    let runoff = V::select(missing, zero, prod.pr + prod.perc);
    let l = V::select(missing, zero, l);
    states[0] = V::select(missing, hi0, hi);
    states[1] = V::select(missing, hp0, hp);

    let (c01, c09) = (V::splat(V::Scalar::from_f64(0.1)), V::splat(V::Scalar::from_f64(0.9)));
    let o3_2 = o[2] * o[2];
    let prr = c09 * (one - o3_2) * runoff + l;
    let prd = (c01 + c09 * o3_2) * runoff;
    let mut ht = ht0;
    let qr = transfer_n5(missing_p, prr, ct, &mut ht);
    states[2] = ht;
    let qd = (prd + l).max(zero);
    qr + qd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gr::production::percolation_beta;

    const PARAMS: [f64; 4] = [1.2, 200.0, 500.0, -1.0];

    #[test]
    fn water_balance_closes_over_a_storm() {
        // With kexc = 0 the balance is exact: storage gain + outflow = rain − actual evaporation,
        // and 0 ≤ actual evaporation ≤ PET.
        let params = [1.2, 200.0, 500.0, 0.0];
        let beta = percolation_beta(3600.0);
        let mut s = [0.01, 0.3, 0.2];
        let level = |s: &[f64; 3]| s[0] * params[0] + s[1] * params[1] + s[2] * params[2];
        let start = level(&s);
        let (mut rain, mut out, mut pet) = (0.0, 0.0, 0.0);
        for t in 0..500 {
            let p = if (20..40).contains(&t) { 8.0 } else { 0.0 };
            let e = 0.2;
            out += step(p, e, &params, &mut s, beta);
            rain += p;
            pet += e;
        }
        let aet = rain - (level(&s) - start) - out;
        assert!(aet >= -1e-9 && aet <= pet + 1e-9, "actual evaporation {aet}, pet {pet}");
        assert!(out > 0.5 * rain * 0.1, "the storm produces runoff: {out}");
    }

    #[test]
    fn missing_step_keeps_hi_hp_and_runs_transfer() {
        let beta = percolation_beta(3600.0);
        let mut s = [0.3, 0.4, 0.5];
        let q = step(-99.0, 0.1, &PARAMS, &mut s, beta);
        assert_eq!(&s[..2], &[0.3, 0.4]);
        assert!((s[2] - 0.5).abs() < 1e-12);
        assert!(q > 0.0);
        let mut s2 = [0.3, 0.4, 0.5];
        let q2 = step(1.0, -99.0, &PARAMS, &mut s2, beta);
        assert_eq!(&s2[..2], &[0.3, 0.4]);
        assert!(s2[2] < 0.5, "transfer drains with no inflow");
        assert!(q2 > 0.0);
    }
}
