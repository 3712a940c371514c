//! Linear-reservoir routing (spec §2.2, lr).
//!
//! Only the upstream inflow passes through the reservoir; the cell's own runoff bypasses it:
//! `qup_mm = qup·dt/(1e-3·A_up)`, `hlr* = hlr + qup_mm`, `hlr = hlr*·exp(−dt/(60·llr))`,
//! `Q = qt + (hlr* − hlr)·1e-3·A_up/dt`, with `A_up = flwacc − dx·dy` the upstream area \[m²\].

use super::positive;
use crate::Real;
use crate::lanes::Lane;
use crate::registry::{DefaultValue, VarInfo};

pub const PARAMETERS: &[VarInfo] =
    &[positive("llr", "min", "linear routing reservoir time constant", DefaultValue::PerHour(5.0), (1e-6, 1000.0))];

pub const STATES: &[VarInfo] = &[positive(
    "hlr",
    "mm",
    "linear routing reservoir level (over the upstream area)",
    DefaultValue::Fixed(1e-6),
    (1e-6, 1000.0),
)];

/// Routes one cell over `[Tc]` steps.
///
/// # Arguments
/// * `q`: on entry the cell's runoff `qt`, on return the routed discharge `Q` \[m³/s\], `[Tc]`.
/// * `qup`: routed discharge entering from upstream \[m³/s\], `[Tc]`.
/// * `hlr`: reservoir level \[mm\], updated.
/// * `llr`: time constant \[min\]; `dt` \[s\]; `a_up`: upstream area \[m²\].
pub fn route<T: Real>(q: &mut [T], qup: &[T], hlr: &mut T, llr: T, dt: T, a_up: T) {
    let decay = decay(llr, dt);
    let mut h = *hlr;
    for (q, &up) in q.iter_mut().zip(qup) {
        *q = step(*q, up, &mut h, decay, dt, a_up);
    }
    *hlr = h;
}

/// The store's decay over one step, `exp(−dt/(60·llr))`.
pub fn decay<T: Real>(llr: T, dt: T) -> T {
    (-dt / (T::from_f64(60.0) * llr)).exp()
}

/// One step for a lane of cells: returns `Q` from the runoff `qt` and the inflow `qup` \[m³/s\], updating
/// the level `hlr` \[mm\].
#[inline(always)]
pub fn step<V: Lane>(qt: V, qup: V, hlr: &mut V, decay: V, dt: V, a_up: V) -> V {
    let milli = V::splat(V::Scalar::from_f64(1e-3));
    let h_star = *hlr + qup * dt / (milli * a_up);
    *hlr = h_star * decay;
    qt + (h_star - *hlr) * milli * a_up / dt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_volume_is_the_exponential_decay_of_the_store() {
        let (dt, llr, a_up) = (3600.0f64, 300.0, 4e6);
        let qup = [2.0, 0.0, 0.0, 0.0];
        let mut q = [0.5; 4];
        let mut h = 0.0;
        route(&mut q, &qup, &mut h, llr, dt, a_up);
        let k = (-dt / (60.0 * llr)).exp();
        let inflow_mm = 2.0 * dt / (1e-3 * a_up);
        assert!((q[0] - 0.5 - inflow_mm * (1.0 - k) * 1e-3 * a_up / dt).abs() < 1e-12);
        assert!((h - inflow_mm * k.powi(4)).abs() < 1e-12);
        // volume conservation: what left + what remains = what entered
        let out: f64 = q.iter().map(|q| (q - 0.5) * dt).sum();
        assert!((out + h * 1e-3 * a_up - 2.0 * dt).abs() < 1e-6);
    }
}
