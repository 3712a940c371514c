//! Kinematic-wave routing (spec §2.2, kw): the linearised implicit Chow scheme, with
//! `w(·) = max(1e-6, ·)`, `d1 = dt/dx`, `d2 = akw·bkw·((w(Q_x^{t−1}) + w(Q_up^t))/2)^(bkw−1)` and
//! `Q_x^t = [d1·w(Q_up^t) + d2·w(Q_x^{t−1}) + d1·(w(qt_x^{t−1}) + w(qt_x^t))/2] / (d1 + d2)`.

use super::positive;
use crate::Real;
use crate::registry::{DefaultValue, VarInfo};

pub const PARAMETERS: &[VarInfo] = &[
    positive("akw", "-", "kinematic wave alpha", DefaultValue::Fixed(5.0), (1e-3, 50.0)),
    positive("bkw", "-", "kinematic wave beta", DefaultValue::Fixed(0.6), (1e-3, 1.0)),
];

/// What the scheme keeps from the previous step (zero before the first step).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KwMemory<T> {
    /// Routed discharge `Q_x^{t−1}` \[m³/s\].
    pub q: T,
    /// Own runoff `qt_x^{t−1}` \[m³/s\].
    pub qt: T,
}

/// Routes one cell over `[Tc]` steps; `dx` is the cell length \[m\], `dt` \[s\].
pub fn route<T: Real>(q: &mut [T], qup: &[T], memory: &mut KwMemory<T>, akw: T, bkw: T, dt: T, dx: T) {
    let w = |v: T| v.max(T::from_f64(1e-6));
    let half = T::from_f64(0.5);
    let d1 = dt / dx;
    let mut mem = *memory;
    for (q, &up) in q.iter_mut().zip(qup) {
        let qt = *q;
        let d2 = akw * bkw * ((w(mem.q) + w(up)) * half).powf(bkw - T::ONE);
        let routed = (d1 * w(up) + d2 * w(mem.q) + d1 * (w(mem.qt) + w(qt)) * half) / (d1 + d2);
        mem = KwMemory { q: routed, qt };
        *q = routed;
    }
    *memory = mem;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_state_passes_inflow_plus_lateral() {
        // With constant inflow and runoff, the scheme converges to Q = qup + qt·(d1/d1)… at steady state
        // Q = (d1·qup + d2·Q + d1·qt)/(d1 + d2) ⇒ Q = qup + qt.
        let mut mem = KwMemory::default();
        let mut q = vec![0.7f64; 400];
        let qup = vec![3.0f64; 400];
        route(&mut q, &qup, &mut mem, 5.0, 0.6, 3600.0, 1000.0);
        assert!((q[399] - 3.7).abs() < 1e-9, "{}", q[399]);
    }
}
