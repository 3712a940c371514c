//! Routing as cubecl kernels, one launch per partition of the network (cells of a partition drain only
//! into later partitions, so they route in parallel), one unit per (parameter set × cell of the
//! partition) looping over the chunk's steps. The operators transcribe `hydrograd_models::routing`
//! (spec §2.2) and their adjoints `hydrograd_models::adjoint::routing`.
//!
//! Layouts: discharge `[S, tc, N]` \[m³/s\]; routing parameters `[R, S, N]`; routing memory `[M, S, N]`
//! (lr: `hlr` \[mm\]; kw: `Q^{t−1}`, `qt^{t−1}` \[m³/s\]); the network as CSR arrays `upstream_offsets`
//! `[N + 1]`, `upstream` `[E]` and `downstream` `[N]` (`u32::MAX` at outlets).

use crate::math::{exp, ln, powf};
use cubecl::prelude::*;

/// Module codes of the kernels (comptime).
pub const LAG0: u32 = 0;
pub const LR: u32 = 1;
pub const KW: u32 = 2;

/// Sum of the routed discharge of `cell`'s upstream cells at step `t` of set `set`, in D8 order.
#[cube]
pub fn upstream_sum<F: Float>(q: &[F], upstream_offsets: &[u32], upstream: &[u32], row: usize, cell: usize) -> F {
    let mut sum = F::new(0.0);
    let start = upstream_offsets[cell] as usize;
    let end = upstream_offsets[cell + 1] as usize;
    for k in start..end {
        sum += q[row + upstream[k] as usize];
    }
    sum
}

/// [`upstream_sum`] over a buffer the kernel also writes.
#[cube]
pub fn upstream_sum_mut<F: Float>(
    q: &mut [F],
    upstream_offsets: &[u32],
    upstream: &[u32],
    row: usize,
    cell: usize,
) -> F {
    let mut sum = F::new(0.0);
    let start = upstream_offsets[cell] as usize;
    let end = upstream_offsets[cell + 1] as usize;
    for k in start..end {
        sum += q[row + upstream[k] as usize];
    }
    sum
}

/// `max(1e-6, v)`, the kw scheme's floor.
#[cube]
fn floor<F: Float>(v: F) -> F {
    max(v, F::cast_from(1e-6f64))
}

/// Routes the cells `first..first + count` of every set over one block of the chunk's steps: `q` holds
/// the cells' runoff on entry and their routed discharge on return. Launches go by diagonals of
/// (partition, block): a launch routes block `b` of partition `p` for every `p + b = diag + 1`, when the
/// upstream partitions have routed that block and the cell its previous one (a wavefront: the critical
/// path is `partitions + blocks` launches of `block` steps, not `partitions` launches of `tc` steps).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn route_forward<F: Float>(
    q: &mut [F],
    upstream_offsets: &[u32],
    upstream: &[u32],
    upstream_area: &[F],
    rparams: &[F],
    memory: &mut [F],
    snapshots: &mut [F],
    partition_of: &[u32],
    first: usize,
    count: usize,
    diag: usize,
    block: usize,
    n: usize,
    sn: usize,
    tc: usize,
    dt: InputScalar,
    dx: InputScalar,
    #[comptime] module: u32,
    #[comptime] snap: bool,
    #[comptime] single: bool,
) {
    let dt = dt.get::<F>();
    let dx = dx.get::<F>();
    let unit = ABSOLUTE_POS;
    if unit >= count * (sn / n) {
        terminate!();
    }
    let set = unit / count;
    let cell = first + unit % count;
    let u = set * n + cell;
    // the cell's block of steps on this diagonal: partition p (≥ 1) routes block diag + 1 − p
    let b = diag + 1 - partition_of[cell] as usize;
    let t_start = b * block;
    let t_end = min(t_start + block, tc);
    if module == LAG0 {
        for t in t_start..t_end {
            let row = (set * tc + t) * n;
            let up = upstream_sum_mut::<F>(q, upstream_offsets, upstream, row, cell);
            q[row + cell] += up;
        }
    } else if module == LR {
        // lr::step: h* = h + qup·dt/(1e-3·A), h = h*·k, Q = qt + (h* − h)·1e-3·A/dt
        let milli = F::cast_from(1e-3f64);
        let a_up = upstream_area[cell];
        let decay = exp::<F>(F::new(0.0) - dt / (F::new(60.0) * rparams[u]), single);
        let mut h = memory[u];
        if snap {
            // the level at the block's start, for the adjoint's replay of the block
            snapshots[b * sn + u] = h;
        }
        for t in t_start..t_end {
            let row = (set * tc + t) * n;
            let up = upstream_sum_mut::<F>(q, upstream_offsets, upstream, row, cell);
            let h_star = h + up * dt / (milli * a_up);
            h = h_star * decay;
            q[row + cell] += (h_star - h) * milli * a_up / dt;
        }
        memory[u] = h;
    } else {
        // kw::route, the linearised implicit Chow scheme
        let akw = rparams[u];
        let bkw = rparams[sn + u];
        let half = F::new(0.5);
        let d1 = dt / dx;
        let mut q_prev = memory[u];
        let mut qt_prev = memory[sn + u];
        for t in t_start..t_end {
            let row = (set * tc + t) * n;
            let up = upstream_sum_mut::<F>(q, upstream_offsets, upstream, row, cell);
            let qt = q[row + cell];
            let d2 = akw * bkw * powf::<F>((floor::<F>(q_prev) + floor::<F>(up)) * half, bkw - F::new(1.0), single);
            let routed =
                (d1 * floor::<F>(up) + d2 * floor::<F>(q_prev) + d1 * (floor::<F>(qt_prev) + floor::<F>(qt)) * half)
                    / (d1 + d2);
            q_prev = routed;
            qt_prev = qt;
            q[row + cell] = routed;
        }
        memory[u] = q_prev;
        memory[sn + u] = qt_prev;
    }
}

/// The routing adjoint of the cells `first..first + count` of every set over the chunk, after every
/// later partition. `lam` holds the cost's ∂J/∂Q `[S, tc, N]` on entry; a cell adds the cotangent of
/// its downstream cell's inflow (`lam_qup`, already computed) and leaves ∂J/∂qt in `lam`, and its own
/// ∂J/∂qup in `lam_qup`. `q` is the routed discharge and `qt` the runoff of the chunk (kw); `memory0`
/// the memory at the chunk's start, `lam_memory` its cotangent (at the end on entry, at the start on
/// return); `lam_rparams` (`[R, S, N]`) accumulates. Partition 0 (no inflow) only gathers its cotangent.
/// Launches go by reverse diagonals of (partition, block), last partition and last block first, so a
/// cell's downstream cell has done the block and the cell its next block; `block_memory` holds the lr
/// level at every block's start (`[blocks, S, N]`, from the forward's snapshots).
#[cube(launch_unchecked)]
#[allow(clippy::too_many_arguments)]
pub fn route_adjoint<F: Float>(
    q: &[F],
    qt: &[F],
    lam: &mut [F],
    lam_qup: &mut [F],
    downstream: &[u32],
    upstream_offsets: &[u32],
    upstream: &[u32],
    upstream_area: &[F],
    rparams: &[F],
    memory0: &[F],
    block_memory: &[F],
    partition_of: &[u32],
    lam_memory: &mut [F],
    lam_rparams: &mut [F],
    first: usize,
    count: usize,
    diag: usize,
    block: usize,
    npar: usize,
    nblocks: usize,
    n: usize,
    sn: usize,
    tc: usize,
    dt: InputScalar,
    dx: InputScalar,
    #[comptime] module: u32,
    #[comptime] single: bool,
) {
    let dt = dt.get::<F>();
    let dx = dx.get::<F>();
    let unit = ABSOLUTE_POS;
    if unit >= count * (sn / n) {
        terminate!();
    }
    let set = unit / count;
    let cell = first + unit % count;
    let u = set * n + cell;
    let down = downstream[cell];
    let has_down = down != u32::MAX;
    let down_cell = select(has_down, down as usize, cell);
    let zero = F::new(0.0);
    // the cell's block on this (reverse) diagonal: partitions from the last, blocks from the last
    let p = partition_of[cell] as usize;
    let b = nblocks - 1 - (diag - (npar - 1 - p));
    let t_start = b * block;
    let t_end = min(t_start + block, tc);
    let len = t_end - t_start;
    let routed = p > 0;
    // ∂J/∂Q of the cell at step t: the cost's, plus what its downstream cell's inflow passes back
    let pull_only = !routed || module == LAG0;
    if pull_only {
        for t in t_start..t_end {
            let row = (set * tc + t) * n;
            let total = lam[row + cell] + select(has_down, lam_qup[row + down_cell], zero);
            lam[row + cell] = total;
            if routed {
                lam_qup[row + cell] = total;
            }
        }
    } else if module == LR {
        let milli = F::cast_from(1e-3f64);
        let c = milli * upstream_area[cell];
        let llr = rparams[u];
        let decay = exp::<F>(zero - dt / (F::new(60.0) * llr), single);
        let to_mm = dt / c;
        let release = c / dt;
        // forward from the block's start: h* of every step, kept in the cell's own lam_qup slots until
        // the reverse reads them
        let mut h = block_memory[b * sn + u];
        for t in t_start..t_end {
            let row = (set * tc + t) * n;
            let hs = h + upstream_sum::<F>(q, upstream_offsets, upstream, row, cell) * to_mm;
            lam_qup[row + cell] = hs;
            h = hs * decay;
        }
        let mut lam_h = lam_memory[u];
        let mut lam_decay = zero;
        let keep = (F::new(1.0) - decay) * release;
        for i in 0..len {
            let t = t_end - 1 - i;
            let row = (set * tc + t) * n;
            let lam_q = lam[row + cell] + select(has_down, lam_qup[row + down_cell], zero);
            let hs = lam_qup[row + cell];
            let lam_hs = lam_q * keep + lam_h * decay;
            lam_decay += (lam_h - lam_q * release) * hs;
            lam_qup[row + cell] = lam_hs * to_mm;
            lam[row + cell] = lam_q;
            lam_h = lam_hs;
        }
        lam_memory[u] = lam_h;
        lam_rparams[u] += lam_decay * decay * dt / (F::new(60.0) * llr * llr);
    } else {
        let akw = rparams[u];
        let bkw = rparams[sn + u];
        let half = F::new(0.5);
        let one = F::new(1.0);
        let floor_v = F::cast_from(1e-6f64);
        let d1 = dt / dx;
        let mut lam_qprev = lam_memory[u];
        let mut lam_qtprev = lam_memory[sn + u];
        let mut lam_akw = zero;
        let mut lam_bkw = zero;
        for i in 0..len {
            let t = t_end - 1 - i;
            let row = (set * tc + t) * n;
            let mut qp = memory0[u];
            let mut qtp = memory0[sn + u];
            if t > 0 {
                let prev = row - n;
                qp = q[prev + cell];
                qtp = qt[prev + cell];
            }
            let up = upstream_sum::<F>(q, upstream_offsets, upstream, row, cell);
            let own = qt[row + cell];
            let m = (floor::<F>(qp) + floor::<F>(up)) * half;
            let mp = powf::<F>(m, bkw - one, single);
            let d2 = akw * bkw * mp;
            let den = d1 + d2;
            let lam_q = lam[row + cell] + select(has_down, lam_qup[row + down_cell], zero) + lam_qprev;
            let lam_num = lam_q / den;
            let lam_d2 = lam_num * floor::<F>(qp) - lam_q * q[row + cell] / den;
            let lam_m = lam_d2 * akw * bkw * (bkw - one) * mp / m;
            lam_akw += lam_d2 * bkw * mp;
            lam_bkw += lam_d2 * (akw * mp + d2 * ln::<F>(m, single));
            let lam_wq = lam_num * d2 + lam_m * half;
            let lam_wu = lam_num * d1 + lam_m * half;
            let lam_wqt = lam_num * d1 * half;
            let lam_own = select(own > floor_v, lam_wqt, zero) + lam_qtprev;
            lam_qup[row + cell] = select(up > floor_v, lam_wu, zero);
            lam_qprev = select(qp > floor_v, lam_wq, zero);
            lam_qtprev = select(qtp > floor_v, lam_wqt, zero);
            lam[row + cell] = lam_own;
        }
        lam_memory[u] = lam_qprev;
        lam_memory[sn + u] = lam_qtprev;
        lam_rparams[u] += lam_akw;
        lam_rparams[sn + u] += lam_bkw;
    }
}
