//! Discrete adjoints of the routing operators over a segment of steps, for one cell (spec §2.2).
//!
//! Each takes the cotangent of the cell's routed discharge `Q` \[m³/s\] over the segment and returns the
//! cotangents of its upstream inflow `qup` and of its own runoff `qt`, of the routing parameters, and of
//! the routing memory at the start of the segment (given the one at its end).

use crate::Real;
use crate::routing::kw::KwMemory;
use crate::routing::lr;

/// Reverse of [`lr::route`] over `[K]` steps.
///
/// * `qup`: the inflow of the segment; `hlr0`: the level at its start \[mm\]; `llr` \[min\], `dt` \[s\],
///   `a_up` \[m²\].
/// * `lambda`: on entry ∂J/∂Q, on return ∂J/∂qt (the own runoff bypasses the store: unchanged).
/// * `lambda_qup`: receives ∂J/∂qup; `lambda_h`: ∂J/∂hlr at the end on entry, at the start on return;
///   `lambda_llr`: the segment's contribution is added. `scratch`: `[K]`.
#[allow(clippy::too_many_arguments)]
pub fn lr_adjoint<T: Real>(
    qup: &[T],
    hlr0: T,
    llr: T,
    dt: T,
    a_up: T,
    lambda: &[T],
    lambda_qup: &mut [T],
    lambda_h: &mut T,
    lambda_llr: &mut T,
    scratch: &mut [T],
) {
    let decay = lr::decay(llr, dt);
    let milli = T::from_f64(1e-3);
    let c = milli * a_up;
    // inflow per m³/s in mm over the upstream area, and release per mm in m³/s (products, not divisions:
    // these values only weigh the derivatives)
    let (to_mm, release) = (dt / c, c / dt);
    // forward: the level after the inflow, h*, at every step
    let mut h = hlr0;
    for (hs, &up) in scratch.iter_mut().zip(qup) {
        *hs = h + up * to_mm;
        h = *hs * decay;
    }
    let (mut lam_h, mut lam_decay) = (*lambda_h, T::ZERO);
    let keep = (T::ONE - decay) * release;
    for t in (0..qup.len()).rev() {
        let hs = scratch[t];
        // Q = qt + (h* − h*·k)·c/dt, h = h*·k
        let lam_hs = lambda[t] * keep + lam_h * decay;
        lam_decay += (lam_h - lambda[t] * release) * hs;
        lambda_qup[t] = lam_hs * to_mm;
        lam_h = lam_hs;
    }
    *lambda_h = lam_h;
    // k = exp(−dt/(60·llr)): dk/dllr = k·dt/(60·llr²)
    *lambda_llr += lam_decay * decay * dt / (T::from_f64(60.0) * llr * llr);
}

/// Cotangent of the kw memory `(Q^{t−1}, qt^{t−1})`.
pub type KwMemoryCotangent<T> = KwMemory<T>;

/// Reverse of [`crate::routing::kw::route`] over `[K]` steps.
///
/// * `q`: the routed discharge of the segment, `qt` the own runoff, `qup` the inflow; `memory0`: the
///   memory at its start.
/// * `lambda`: on entry ∂J/∂Q, on return ∂J/∂qt. `lambda_qup` receives ∂J/∂qup.
/// * `lambda_memory`: ∂J/∂memory at the end on entry, at the start on return.
/// * `lambda_akw`, `lambda_bkw`: the segment's contributions are added.
#[allow(clippy::too_many_arguments)]
pub fn kw_adjoint<T: Real>(
    q: &[T],
    qt: &[T],
    qup: &[T],
    memory0: KwMemory<T>,
    akw: T,
    bkw: T,
    dt: T,
    dx: T,
    lambda: &mut [T],
    lambda_qup: &mut [T],
    lambda_memory: &mut KwMemoryCotangent<T>,
    lambda_akw: &mut T,
    lambda_bkw: &mut T,
) {
    let floor = T::from_f64(1e-6);
    let w = |v: T| v.max(floor);
    // dw/dv: 1 above the floor
    let dw = |v: T| if v > floor { T::ONE } else { T::ZERO };
    let half = T::from_f64(0.5);
    let d1 = dt / dx;
    let (mut lam_qprev, mut lam_qtprev) = (lambda_memory.q, lambda_memory.qt);
    for t in (0..q.len()).rev() {
        let (qp, qtp) = if t == 0 { (memory0.q, memory0.qt) } else { (q[t - 1], qt[t - 1]) };
        let (up, own) = (qup[t], qt[t]);
        let m = (w(qp) + w(up)) * half;
        let mp = m.powf(bkw - T::ONE);
        let d2 = akw * bkw * mp;
        let den = d1 + d2;
        let routed = q[t];
        // Q_t is read by step t + 1 as Q^{t−1}: its cotangent adds to the cost's
        let lam_q = lambda[t] + lam_qprev;
        let lam_num = lam_q / den;
        let lam_d2 = lam_num * w(qp) - lam_q * routed / den;
        let lam_m = lam_d2 * akw * bkw * (bkw - T::ONE) * mp / m;
        *lambda_akw += lam_d2 * bkw * mp;
        *lambda_bkw += lam_d2 * (akw * mp + d2 * m.ln());
        let lam_wq = lam_num * d2 + lam_m * half;
        let lam_wu = lam_num * d1 + lam_m * half;
        let lam_wqt = lam_num * d1 * half;
        // qt_t is read by step t + 1 as qt^{t−1}
        let lam_own = lam_wqt * dw(own) + lam_qtprev;
        lambda_qup[t] = lam_wu * dw(up);
        lam_qprev = lam_wq * dw(qp);
        lam_qtprev = lam_wqt * dw(qtp);
        lambda[t] = lam_own;
    }
    *lambda_memory = KwMemory { q: lam_qprev, qt: lam_qtprev };
}
