//! The routing sweep over a chunk: partition by partition, cells of a partition in parallel.

use crate::network::RoutingNetwork;
use crate::routing::{kw, kw::KwMemory, lag0, lr, RoutingModule};
use crate::Real;
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
/// and their routed discharge `Q` on return [m³/s].
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
            qup.fill(T::ZERO);
            for &u in network.upstream_of(cell) {
                let up = &done[u as usize * tc..(u as usize + 1) * tc];
                qup.iter_mut().zip(up).for_each(|(a, &b)| *a += b);
            }
            match st {
                CellState::Lag0 => lag0::route(series, qup),
                CellState::Lr { llr, hlr } => {
                    let a_up = T::from_f64(network.upstream_area[cell]);
                    lr::route(series, qup, hlr, llr, dt, a_up)
                }
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
                it.enumerate().for_each_init(|| vec![T::ZERO; tc], |qup, (i, s)| route_cell(i, s, qup, CellState::Lag0));
            }
            RoutingState::Lr { llr, hlr } => {
                let llr = &llr[start..end];
                let it = current.par_chunks_mut(tc).zip(hlr[start..end].par_iter_mut());
                it.with_min_len(if parallel { 64 } else { usize::MAX }).enumerate().for_each_init(
                    || vec![T::ZERO; tc],
                    |qup, (i, (s, hlr))| route_cell(i, s, qup, CellState::Lr { llr: llr[i], hlr }),
                );
            }
            RoutingState::Kw { akw, bkw, memory } => {
                let (akw, bkw) = (&akw[start..end], &bkw[start..end]);
                let it = current.par_chunks_mut(tc).zip(memory[start..end].par_iter_mut());
                it.with_min_len(if parallel { 64 } else { usize::MAX }).enumerate().for_each_init(
                    || vec![T::ZERO; tc],
                    |qup, (i, (s, memory))| {
                        route_cell(i, s, qup, CellState::Kw { akw: akw[i], bkw: bkw[i], memory })
                    },
                );
            }
        }
    }
}

/// One cell's routing parameters and memory.
enum CellState<'a, T> {
    Lag0,
    Lr { llr: T, hlr: &'a mut T },
    Kw { akw: T, bkw: T, memory: &'a mut KwMemory<T> },
}
