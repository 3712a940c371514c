//! The routing sweep over a chunk: partition by partition, cells of a partition in parallel.

use super::prefetch;
use crate::Real;
use crate::lanes::{Lane, Pack};
use crate::network::RoutingNetwork;
use crate::routing::{RoutingModule, kw, kw::KwMemory, lag0, lr};
use rayon::prelude::*;

/// Routing parameters and memory of one parameter set, per cell `[N]`.
pub(crate) enum RoutingState<'a, T> {
    Lag0,
    Lr { llr: &'a [T], hlr: &'a mut [T] },
    Kw { akw: &'a [T], bkw: &'a [T], memory: &'a mut [KwMemory<T>] },
}

/// Partitions smaller than this are routed on the calling thread.
const PARALLEL_PARTITION: usize = 256;

/// Routes one parameter set over a chunk of `tc` steps. `q`: `[Npad, tc]`, the cells' runoff `qt` on entry
/// and their routed discharge `Q` on return \[m³/s\].
pub(crate) fn route_chunk<T: Real>(
    network: &RoutingNetwork,
    module: RoutingModule,
    dt: T,
    q: &mut [T],
    tc: usize,
    mut state: RoutingState<'_, T>,
) {
    if module == RoutingModule::Zero {
        return;
    }
    let offsets = &network.partition_offsets;
    for w in offsets.windows(2).skip(1) {
        let (start, end) = (w[0], w[1]);
        let (done, rest) = q.split_at_mut(start * tc);
        let current = &mut rest[..(end - start) * tc];
        let route_cell = |i: usize, series: &mut [T], qup: &mut [T], st: CellState<'_, T>| {
            let cell = start + i;
            upstream_sum(network, done, cell, tc, qup);
            match st {
                CellState::Lag0 => lag0::route(series, qup),
                CellState::Kw { akw, bkw, memory } => {
                    kw::route(series, qup, memory, akw, bkw, dt, T::from_f64(network.dx))
                }
            }
        };
        let cells = current.chunks_mut(tc).len();
        let parallel = cells >= PARALLEL_PARTITION;
        match &mut state {
            RoutingState::Lag0 => {
                let it = current.par_chunks_mut(tc).with_min_len(if parallel { 64 } else { usize::MAX });
                it.enumerate()
                    .for_each_init(|| vec![T::ZERO; tc], |qup, (i, s)| route_cell(i, s, qup, CellState::Lag0));
            }
            RoutingState::Lr { llr, hlr } => {
                // groups of LR_LANES cells routed together, one cell per lane
                let llr = &llr[start..end];
                let it = current.par_chunks_mut(LR_LANES * tc).zip(hlr[start..end].par_chunks_mut(LR_LANES));
                it.with_min_len(if parallel { 8 } else { usize::MAX }).enumerate().for_each_init(
                    || vec![T::ZERO; 2 * LR_LANES * tc],
                    |qup, (group, (series, hlr))| {
                        let first = group * LR_LANES;
                        let group = LrGroup { network, done, end, first: start + first, tc, dt };
                        group.route(series, qup, hlr, &llr[first..first + hlr.len()]);
                    },
                );
            }
            RoutingState::Kw { akw, bkw, memory } => {
                let (akw, bkw) = (&akw[start..end], &bkw[start..end]);
                let it = current.par_chunks_mut(tc).zip(memory[start..end].par_iter_mut());
                it.with_min_len(if parallel { 64 } else { usize::MAX }).enumerate().for_each_init(
                    || vec![T::ZERO; tc],
                    |qup, (i, (s, memory))| route_cell(i, s, qup, CellState::Kw { akw: akw[i], bkw: bkw[i], memory }),
                );
            }
        }
    }
}

/// Cells per lr routing group.
const LR_LANES: usize = 8;

/// Sums the routed discharge of `cell`'s upstream cells into `qup` (`[tc]`), in D8 order.
#[inline(always)]
fn upstream_sum<T: Real>(network: &RoutingNetwork, done: &[T], cell: usize, tc: usize, qup: &mut [T]) {
    qup.fill(T::ZERO);
    for &u in network.upstream_of(cell) {
        let up = &done[u as usize * tc..(u as usize + 1) * tc];
        qup.iter_mut().zip(up).for_each(|(a, &b)| *a += b);
    }
}

/// A group of up to [`LR_LANES`] consecutive cells of a partition, routed through their linear reservoirs.
struct LrGroup<'a, T> {
    network: &'a RoutingNetwork,
    /// Routed discharge of the cells before the partition, `[start, tc]`.
    done: &'a [T],
    /// End of the partition, first cell of the group.
    end: usize,
    first: usize,
    tc: usize,
    dt: T,
}

impl<T: Real> LrGroup<'_, T> {
    /// Routes the group: `series` `[w, tc]` runoff in, discharge out; `scratch` `2 · LR_LANES · tc` values;
    /// `hlr`, `llr` `[w]`. Compiled for AVX2 when the CPU has it (the loops are long and simple).
    fn route(&self, series: &mut [T], scratch: &mut [T], hlr: &mut [T], llr: &[T]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features `route_avx2` is compiled for.
            return unsafe { self.route_avx2(series, scratch, hlr, llr) };
        }
        self.route_body(series, scratch, hlr, llr)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn route_avx2(&self, series: &mut [T], scratch: &mut [T], hlr: &mut [T], llr: &[T]) {
        self.route_body(series, scratch, hlr, llr)
    }

    #[inline(always)]
    fn route_body(&self, series: &mut [T], scratch: &mut [T], hlr: &mut [T], llr: &[T]) {
        let (network, tc) = (self.network, self.tc);
        // the next group's upstream series are scattered in memory: ask for them now
        for cell in (self.first + LR_LANES..self.end).take(LR_LANES) {
            for &u in network.upstream_of(cell) {
                prefetch(self.done, u as usize * tc, tc);
            }
        }
        for l in 0..hlr.len() {
            upstream_sum(network, self.done, self.first + l, tc, &mut scratch[l * tc..(l + 1) * tc]);
        }
        route_lr_group(series, scratch, hlr, llr, self.dt, &network.upstream_area[self.first..], tc);
    }
}

/// Routes up to [`LR_LANES`] cells through their linear reservoirs, one cell per lane.
/// `series`: `[w, tc]` runoff in, discharge out; `scratch`: `2 · LR_LANES · tc` values, the first half
/// holding the inflow `qup` `[LR_LANES, tc]`; `hlr`, `llr`: `[w]`.
#[inline(always)]
fn route_lr_group<T: Real>(
    series: &mut [T],
    scratch: &mut [T],
    hlr: &mut [T],
    llr: &[T],
    dt: T,
    a_up: &[f64],
    tc: usize,
) {
    type V<T> = Pack<T, LR_LANES>;
    let w = hlr.len();
    // qup as filled by the caller, and the runoff time-major `[tc, LR_LANES]` (padding lanes are discarded)
    let (qup, qt_t) = scratch.split_at_mut(LR_LANES * tc);
    let mut decay = [T::ONE; LR_LANES];
    let mut area = [T::ONE; LR_LANES];
    let mut h = [T::ZERO; LR_LANES];
    for l in 0..w {
        decay[l] = lr::decay(llr[l], dt);
        area[l] = T::from_f64(a_up[l]);
        h[l] = hlr[l];
    }
    for t in 0..tc {
        for l in 0..LR_LANES {
            qt_t[t * LR_LANES + l] = if l < w { series[l * tc + t] } else { T::ZERO };
        }
    }
    let (decay, area, dtv) = (Pack(decay), Pack(area), V::<T>::splat(dt));
    let mut h = Pack(h);
    for t in 0..tc {
        let mut up = [T::ZERO; LR_LANES];
        for l in 0..LR_LANES {
            up[l] = qup[l * tc + t];
        }
        let q = lr::step(V::<T>::from_slice(&qt_t[t * LR_LANES..]), Pack(up), &mut h, decay, dtv, area);
        q.write_to(&mut qt_t[t * LR_LANES..]);
    }
    for l in 0..w {
        for t in 0..tc {
            series[l * tc + t] = qt_t[t * LR_LANES + l];
        }
    }
    hlr.copy_from_slice(&h.0[..w]);
}

/// One cell's routing parameters and memory.
enum CellState<'a, T> {
    Lag0,
    Kw { akw: T, bkw: T, memory: &'a mut KwMemory<T> },
}
