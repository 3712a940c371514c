//! Moving values between the cell grid and the outlets, and filling buffers.
//!
//! Layouts: discharge of a chunk `[S, tc, N]`; discharge at the outlets over the run `[S, T, G]`.

use cubecl::prelude::*;

/// `out[set, t0 + t, j] = q[set, t, outlets[j]]` for every unit `(set, t, j)` of the chunk.
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn gather_outlets<F: Float>(
    q: &[F],
    outlets: &[u32],
    out: &mut [F],
    n: usize,
    tc: usize,
    nt: usize,
    t0: usize,
    g: usize,
    units: usize,
) {
    let u = ABSOLUTE_POS;
    if u >= units {
        terminate!();
    }
    let j = u % g;
    let t = (u / g) % tc;
    let set = u / (g * tc);
    out[(set * nt + t0 + t) * g + j] = q[(set * tc + t) * n + outlets[j] as usize];
}

/// `lam[set, t, outlets[j]] += lam_out[set, t0 + t, j]`, one unit per `(set, t)` summing its outlets in
/// order (two gauges on one cell add up, as on the CPU).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn scatter_outlets<F: Float>(
    lam_out: &[F],
    outlets: &[u32],
    lam: &mut [F],
    n: usize,
    tc: usize,
    nt: usize,
    t0: usize,
    g: usize,
    units: usize,
) {
    let u = ABSOLUTE_POS;
    if u >= units {
        terminate!();
    }
    let t = u % tc;
    let set = u / tc;
    for j in 0..g {
        let cell = outlets[j] as usize;
        lam[(set * tc + t) * n + cell] += lam_out[(set * nt + t0 + t) * g + j];
    }
}

/// `buffer[i] = value` for `i < len`.
#[cube(launch_unchecked)]
pub fn fill<F: Float>(buffer: &mut [F], value: InputScalar, len: usize) {
    let value = value.get::<F>();
    let u = ABSOLUTE_POS;
    if u < len {
        buffer[u] = value;
    }
}

/// `dst[i] = src[i]` for `i < len`.
#[cube(launch_unchecked)]
pub fn copy<F: Float>(src: &[F], dst: &mut [F], len: usize) {
    let u = ABSOLUTE_POS;
    if u < len {
        dst[u] = src[u];
    }
}
