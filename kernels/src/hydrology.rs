//! The hydrology time loop as cubecl kernels, for every gr4 variant: one unit per (parameter set ×
//! cell), states in registers, forcing time-major. The structure is comptime: `ode` picks gr4_ode /
//! gr4_ude's step over gr4 / gr4_mlp's, `h1 > 0` adds the network of `(h1, h2)` hidden neurons.
//!
//! Layouts (`SN = S·N`, unit `u = set·N + cell`): forcing block `[·, N]` read from row `f0`, parameters
//! `[P, S, N]`, states `[K, S, N]`, network weights `[S, W]`, runoff `[S, tc, N]` \[m³/s\], tape
//! `[tc, K, S, N]` (the states at the start of every step).

use crate::gr4::{
    Gr4Params, Gr4States, gr4_step, gr4_step_adjoint, load_params, load_states, store_params, store_states,
};
use crate::nn::{new_activations, new_cotangents, weights_len};
use crate::ode::{ode_step, ode_step_adjoint};
use cubecl::prelude::*;

/// The comptime structure of the hydrology kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Module {
    /// gr4_ode / gr4_ude (implicit Euler) rather than gr4 / gr4_mlp.
    pub ode: bool,
    /// Hidden neurons of the network's layers (`h1 = 0`: no network; `h2 = 0`: one hidden layer).
    pub h1: usize,
    pub h2: usize,
}

impl Module {
    /// Number of network weights `W` (0 without a network).
    pub fn weights(self) -> usize {
        weights_len(self.h1, self.h2)
    }
}

/// The hydrology of every unit over a chunk of `tc` steps: `runoff` receives `qt·to_m3s` \[m³/s\] and
/// `states` the states at the end; with `taped`, `tape` receives the states at the start of every step.
/// `nw` is the number of weights per set.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn hydrology_forward<F: Float>(
    prcp: &[F],
    pet: &[F],
    params: &[F],
    weights: &[F],
    states: &mut [F],
    runoff: &mut [F],
    tape: &mut [F],
    n: usize,
    sn: usize,
    tc: usize,
    nw: usize,
    beta: InputScalar,
    to_m3s: InputScalar,
    f0: usize,
    #[comptime] ode: bool,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
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
    let base = set * nw;
    let par = load_params::<F>(params, u, sn);
    let mut act = new_activations::<F>(h1, h2);
    let mut st = Gr4States::<F> { hi: states[u], hp: states[sn + u], ht: states[2 * sn + u] };
    for t in 0..tc {
        if taped {
            let at = t * 3 * sn + u;
            tape[at] = st.hi;
            tape[at + sn] = st.hp;
            tape[at + 2 * sn] = st.ht;
        }
        let p = prcp[(f0 + t) * n + cell];
        let e = pet[(f0 + t) * n + cell];
        let q = if ode {
            ode_step::<F>(p, e, &par, &mut st, weights, base, &mut act, h1, h2, single)
        } else {
            gr4_step::<F>(p, e, &par, &mut st, beta, weights, base, &mut act, h1, h2, single)
        };
        runoff[(set * tc + t) * n + cell] = q * to_m3s;
    }
    store_states::<F>(states, u, sn, st);
}

/// The hydrology adjoint of every unit over a chunk, steps in reverse: `lambda` holds ∂J/∂qt
/// `[S, tc, N]` \[per m³/s\]; `lam_states` (`[K, S, N]`) the state cotangents at the chunk's end on
/// entry and at its start on return; `lam_params` (`[4, S, N]`) accumulates.
///
/// Every cube holds `cube` cells of one set (`blocks` cubes per set). With a network, each unit sums
/// its ∂J/∂weights over the chunk, the cube reduces them in shared memory, and `lam_weights`
/// (`[S, W, blocks]`) accumulates one value per (set, weight, cube).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn hydrology_adjoint<F: Float>(
    prcp: &[F],
    pet: &[F],
    params: &[F],
    weights: &[F],
    tape: &[F],
    lambda: &[F],
    lam_states: &mut [F],
    lam_params: &mut [F],
    lam_weights: &mut [F],
    n: usize,
    s: usize,
    tc: usize,
    blocks: usize,
    beta: InputScalar,
    to_m3s: InputScalar,
    f0: usize,
    #[comptime] ode: bool,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] cube: usize,
    #[comptime] single: bool,
) {
    let beta = beta.get::<F>();
    let to_m3s = to_m3s.get::<F>();
    let set = CUBE_POS / blocks;
    if set >= s {
        terminate!(); // whole cubes past the last set
    }
    let block = CUBE_POS % blocks;
    let unit = UNIT_POS as usize;
    let cell = block * cube + unit;
    let sn = s * n;
    let u = set * n + cell;
    let nw = comptime!(weights_len(h1, h2));
    let base = set * nw;
    let mut act = new_activations::<F>(h1, h2);
    let mut cot = new_cotangents::<F>(h1, h2);
    if cell < n {
        let par = load_params::<F>(params, u, sn);
        let mut lam_st = Gr4States::<F> { hi: lam_states[u], hp: lam_states[sn + u], ht: lam_states[2 * sn + u] };
        let mut lam_par = Gr4Params::<F> {
            ci: lam_params[u],
            cp: lam_params[sn + u],
            ct: lam_params[2 * sn + u],
            kexc: lam_params[3 * sn + u],
        };
        for i in 0..tc {
            let t = tc - 1 - i;
            let st0 = load_states::<F>(tape, t * 3 * sn + u, sn);
            let lambda_q = lambda[(set * tc + t) * n + cell] * to_m3s;
            let p = prcp[(f0 + t) * n + cell];
            let e = pet[(f0 + t) * n + cell];
            if ode {
                ode_step_adjoint::<F>(
                    p,
                    e,
                    &par,
                    st0,
                    lambda_q,
                    &mut lam_st,
                    &mut lam_par,
                    weights,
                    base,
                    &mut act,
                    &mut cot,
                    h1,
                    h2,
                    single,
                );
            } else {
                gr4_step_adjoint::<F>(
                    p,
                    e,
                    &par,
                    st0,
                    beta,
                    lambda_q,
                    &mut lam_st,
                    &mut lam_par,
                    weights,
                    base,
                    &mut act,
                    &mut cot,
                    h1,
                    h2,
                    single,
                );
            }
        }
        store_states::<F>(lam_states, u, sn, lam_st);
        store_params::<F>(lam_params, u, sn, lam_par);
    }
    if h1 > 0 {
        reduce_weights::<F>(&cot.grad, lam_weights, (set * nw) * blocks + block, blocks, nw, cube);
    }
}

/// Sums every unit's `grad[k]` over the cube (a tree in shared memory) and adds the sum to
/// `out[first + k·stride]`, for every weight `k < nw`. Every unit of the cube must call it.
#[cube]
fn reduce_weights<F: Float>(
    grad: &Array<F>,
    out: &mut [F],
    first: usize,
    stride: usize,
    #[comptime] nw: usize,
    #[comptime] cube: usize,
) {
    let unit = UNIT_POS as usize;
    let mut shared = Shared::<[F]>::new_slice(cube);
    for k in 0..nw {
        shared[unit] = grad[k];
        sync_cube();
        for level in 0..comptime!(cube.trailing_zeros() as usize) {
            let half = cube >> (level + 1);
            if unit < half {
                let sum = shared[unit] + shared[unit + half];
                shared[unit] = sum;
            }
            sync_cube();
        }
        if unit == 0 {
            out[first + k * stride] += shared[0];
        }
        sync_cube();
    }
}
