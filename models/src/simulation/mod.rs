//! The batched forward simulation (spec §2.3, reordered).
//!
//! One call evaluates `S` parameter sets on the same forcing. The per-cell hydrology runs over a chunk
//! of steps for every cell independently (packs of cells, in parallel), then the routing sweeps the
//! cells in topological order over the same chunk. This equals smash's time-outer loop exactly
//! (spec §2.3, "Reordering is valid"). Chunks bound the memory to `S · N · chunk` values.

mod hydrology;
mod routing;

#[cfg(target_arch = "x86_64")]
pub(crate) use hydrology::avx512;
pub(crate) use hydrology::{F32_LANES, F64_LANES, load};
pub use hydrology::{HydrologyJob, Kernel};

use crate::Real;
use crate::network::{NetworkError, RoutingNetwork};
use crate::routing::{RoutingModule, kw::KwMemory};
use crate::structure::Structure;
use hydrology::MAX_VARS;
use rayon::prelude::*;
use routing::{RoutingState, route_chunk};

/// Forcing shared by every parameter set.
#[derive(Debug, Clone, Copy)]
pub struct Forcing<'a, T> {
    /// Number of steps `T`.
    pub ntime: usize,
    /// Rainfall \[mm/dt\], `[T, N]` time-major; negative = missing.
    pub prcp: &'a [T],
    /// Potential evapotranspiration \[mm/dt\], `[T, N]`; negative = missing.
    pub pet: &'a [T],
}

/// What the simulation runs on.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub structure: Structure,
    pub network: &'a RoutingNetwork,
    /// Time step \[s\].
    pub dt: f64,
    /// Cells whose discharge is returned (gauges), `[G]`.
    pub outlets: &'a [usize],
}

/// Parameters and states of `S` parameter sets on `N` cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T> {
    pub nset: usize,
    pub ncell: usize,
    /// `[P, S, N]`, in the order of [`Structure::parameters`].
    pub parameters: Vec<T>,
    /// `[K, S, N]`, in the order of [`Structure::states`]; initial states on entry, final on return.
    pub states: Vec<T>,
    /// Network weights of the hybrid structures, `[S, W]` (empty for the others).
    pub weights: Vec<T>,
}

/// Tuning of a run.
///
/// The steps are run in chunks whose runoff buffer, `S · N · chunk` values, the hydrology writes and the
/// routing then reads. A chunk is sized to stay in the cache (`cache_bytes`), but is never shorter than
/// [`MIN_CHUNK_STEPS`] (short chunks multiply the routing's per-partition overhead on large meshes) unless
/// `max_buffer_values` forces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunOptions {
    /// Upper bound on the runoff buffer, `S · N · chunk` values.
    pub max_buffer_values: usize,
    /// The runoff buffer's target size in bytes.
    pub cache_bytes: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        // 4 MiB: measured on Cance (383 cells, 20 sets, 1440 steps, 2 threads), 2–8 MiB chunks run the
        // forward 1.2–1.5× faster than one 44 MB chunk of the whole run; 1 MiB is slower again
        RunOptions { max_buffer_values: 16 << 20, cache_bytes: 4 << 20 }
    }
}

/// The shortest chunk chosen for the cache (see [`RunOptions`]).
pub const MIN_CHUNK_STEPS: usize = 16;

impl RunOptions {
    /// The chunk length for `values_per_step = S · Npad` runoff values per step, of `T`, over `nt` steps.
    pub fn chunk_steps<T>(&self, values_per_step: usize, nt: usize) -> usize {
        let per_step = values_per_step.max(1);
        let cached = (self.cache_bytes / core::mem::size_of::<T>().max(1) / per_step).max(MIN_CHUNK_STEPS);
        let bound = self.max_buffer_values / per_step;
        cached.min(bound).clamp(1, nt.max(1))
    }
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq)]
pub enum SimulationError {
    /// An array does not have the size the setup implies.
    Size {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    Network(NetworkError),
    /// An outlet index is not a cell.
    Outlet {
        index: usize,
        ncell: usize,
    },
}

impl core::fmt::Display for SimulationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SimulationError::Size { what, expected, got } => write!(f, "{what} has {got} values, expected {expected}"),
            SimulationError::Network(e) => write!(f, "inconsistent routing network: {e}"),
            SimulationError::Outlet { index, ncell } => {
                write!(f, "outlet cell {index} is not one of the {ncell} cells")
            }
        }
    }
}

impl std::error::Error for SimulationError {}

fn check(what: &'static str, expected: usize, got: usize) -> Result<(), SimulationError> {
    (expected == got).then_some(()).ok_or(SimulationError::Size { what, expected, got })
}

/// Runs the forward model for every parameter set of `batch` and updates its states to the final states.
///
/// # Returns
/// Discharge at the outlets \[m³/s\], `[S, T, G]`.
///
/// # Errors
/// When array sizes disagree with the setup or the network is not topologically ordered.
pub fn forward<T: Kernel>(
    setup: &Setup<'_>,
    forcing: &Forcing<'_, T>,
    batch: &mut Batch<T>,
    options: &RunOptions,
) -> Result<Vec<T>, SimulationError> {
    check_sizes(setup, forcing, batch)?;
    let network = setup.network;
    let (n, s, nt, g) = (network.len(), batch.nset, forcing.ntime, setup.outlets.len());
    let hydro_p = setup.structure.hydrology.parameters().len();
    let hydro_k = setup.structure.hydrology.states().len();
    let lanes = T::LANES;
    let npad = n.div_ceil(lanes) * lanes;
    let packed_params = pack(&batch.parameters[..hydro_p * s * n], hydro_p, s, n, lanes);
    let mut packed_states = pack(&batch.states[..hydro_k * s * n], hydro_k, s, n, lanes);
    let routing_params = &batch.parameters[hydro_p * s * n..];
    let (mut hlr, mut kw_memory) = routing_memory(setup.structure.routing, &batch.states[hydro_k * s * n..], s * n);

    let chunk = options.chunk_steps::<T>(s * npad, nt);
    let mut q = vec![T::ZERO; s * npad * chunk];
    let mut out = vec![T::ZERO; s * nt * g];
    let mut t0 = 0;
    while t0 < nt {
        let tc = chunk.min(nt - t0);
        let q = &mut q[..s * npad * tc];
        hydrology_chunk(setup, forcing, t0, tc, &packed_params, &mut packed_states, &batch.weights, q, None);
        route_sets(setup, s, routing_params, &mut hlr, &mut kw_memory, q, tc);
        for set in 0..s {
            for (j, &cell) in setup.outlets.iter().enumerate() {
                let series = &q[(set * npad + cell) * tc..][..tc];
                for (t, &v) in series.iter().enumerate() {
                    out[(set * nt + t0 + t) * g + j] = v;
                }
            }
        }
        t0 += tc;
    }

    unpack(&packed_states, &mut batch.states[..hydro_k * s * n], hydro_k, s, n, lanes);
    if setup.structure.routing == RoutingModule::Lr {
        batch.states[hydro_k * s * n..].copy_from_slice(&hlr);
    }
    Ok(out)
}

/// Checks the network and that every array has the size the setup implies.
pub fn check_sizes<T: Real>(
    setup: &Setup<'_>,
    forcing: &Forcing<'_, T>,
    batch: &Batch<T>,
) -> Result<(), SimulationError> {
    let network = setup.network;
    network.validate().map_err(SimulationError::Network)?;
    let (n, s, nt) = (network.len(), batch.nset, forcing.ntime);
    check("batch cells", n, batch.ncell)?;
    check("prcp", nt * n, forcing.prcp.len())?;
    check("pet", nt * n, forcing.pet.len())?;
    check("parameters", setup.structure.parameters().len() * s * n, batch.parameters.len())?;
    check("states", setup.structure.states().len() * s * n, batch.states.len())?;
    check("weights", setup.structure.hydrology.nweights() * s, batch.weights.len())?;
    if let Some(&index) = setup.outlets.iter().find(|&&i| i >= n) {
        return Err(SimulationError::Outlet { index, ncell: n });
    }
    let hydrology = setup.structure.hydrology;
    assert!(hydrology.parameters().len() <= MAX_VARS && hydrology.states().len() <= MAX_VARS);
    Ok(())
}

/// The hydrology of every pack of every set over steps `t0..t0 + tc`, in parallel: `q` receives the
/// runoff `[S, Npad, tc]` [m³/s]; packed parameters and states are `[S, NB, P or K, LANES]`, network
/// weights `[S, W]`. With a
/// `tape` (`[S, NB, tc, K, LANES]`), the states at the start of every step are kept for the adjoint.
#[allow(clippy::too_many_arguments)]
pub(crate) fn hydrology_chunk<T: Kernel>(
    setup: &Setup<'_>,
    forcing: &Forcing<'_, T>,
    t0: usize,
    tc: usize,
    packed_params: &[T],
    packed_states: &mut [T],
    weights: &[T],
    q: &mut [T],
    tape: Option<&mut [T]>,
) {
    let (n, lanes) = (setup.network.len(), T::LANES);
    let module = setup.structure.hydrology;
    let nw = module.nweights();
    let nb = n.div_ceil(lanes);
    let (hydro_p, hydro_k) = (setup.structure.hydrology.parameters().len(), setup.structure.hydrology.states().len());
    let (dt, dx, dy) = (T::from_f64(setup.dt), T::from_f64(setup.network.dx), T::from_f64(setup.network.dy));
    let run = |item: usize, q: &mut [T], states: &mut [T], params: &[T], tape: Option<&mut [T]>| {
        let (set, c0) = (item / nb, (item % nb) * lanes);
        let weights = &weights[set * nw..(set + 1) * nw];
        let width = lanes.min(n - c0);
        let job =
            HydrologyJob { prcp: forcing.prcp, pet: forcing.pet, n, t0, tc, c0, width, dt, dx, dy, module, weights };
        T::hydrology_pack(&job, params, states, q, tape);
    };
    let packs = q
        .par_chunks_mut(lanes * tc)
        .zip(packed_states.par_chunks_mut(hydro_k * lanes))
        .zip(packed_params.par_chunks(hydro_p * lanes));
    match tape {
        Some(tape) => packs
            .zip(tape.par_chunks_mut(tc * hydro_k * lanes))
            .enumerate()
            .for_each(|(item, (((q, states), params), tape))| run(item, q, states, params, Some(tape))),
        None => packs.enumerate().for_each(|(item, ((q, states), params))| run(item, q, states, params, None)),
    }
}

/// Routes every set over the chunk (sets in parallel); `q`: `[S, Npad, tc]`, runoff in, discharge out.
pub(crate) fn route_sets<T: Real>(
    setup: &Setup<'_>,
    s: usize,
    routing_params: &[T],
    hlr: &mut [T],
    kw_memory: &mut [KwMemory<T>],
    q: &mut [T],
    tc: usize,
) {
    let n = setup.network.len();
    let npad = q.len() / (s * tc).max(1);
    let (module, dt, network) = (setup.structure.routing, T::from_f64(setup.dt), setup.network);
    let param = move |k: usize, set: usize| &routing_params[(k * s + set) * n..(k * s + set + 1) * n];
    let sets = q.par_chunks_mut((npad * tc).max(1)).enumerate();
    match module {
        RoutingModule::Zero | RoutingModule::Lag0 => {
            sets.for_each(|(_, q)| route_chunk(network, module, dt, q, tc, RoutingState::Lag0))
        }
        RoutingModule::Lr => sets.zip(hlr.par_chunks_mut(n.max(1))).for_each(|((set, q), hlr)| {
            route_chunk(network, module, dt, q, tc, RoutingState::Lr { llr: param(0, set), hlr })
        }),
        RoutingModule::Kw => sets.zip(kw_memory.par_chunks_mut(n.max(1))).for_each(|((set, q), memory)| {
            let state = RoutingState::Kw { akw: param(0, set), bkw: param(1, set), memory };
            route_chunk(network, module, dt, q, tc, state)
        }),
    }
}

/// `[K, S, N]` → `[S, NB, K, LANES]`, padding the last pack with its first cell.
pub(crate) fn pack<T: Real>(values: &[T], k: usize, s: usize, n: usize, lanes: usize) -> Vec<T> {
    let nb = n.div_ceil(lanes);
    let mut out = vec![T::ZERO; s * nb * k * lanes];
    out.par_chunks_mut((k * lanes).max(1)).enumerate().for_each(|(item, dst)| {
        let (set, b) = (item / nb, item % nb);
        for (var, dst) in dst.chunks_mut(lanes).enumerate() {
            let src = &values[(var * s + set) * n..][..n];
            for (l, d) in dst.iter_mut().enumerate() {
                let cell = b * lanes + l;
                *d = src[if cell < n { cell } else { b * lanes }];
            }
        }
    });
    out
}

/// Inverse of [`pack`], dropping the padding.
pub(crate) fn unpack<T: Real>(packed: &[T], values: &mut [T], k: usize, s: usize, n: usize, lanes: usize) {
    let nb = n.div_ceil(lanes);
    values.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, dst)| {
        let (var, set) = (i / s, i % s);
        for (cell, d) in dst.iter_mut().enumerate() {
            let (b, l) = (cell / lanes, cell % lanes);
            *d = packed[((set * nb + b) * k + var) * lanes + l];
        }
    });
}

/// The routing memory of every set: `hlr` `[S, N]` for lr, the kw memory `[S, N]` for kw (empty otherwise).
pub(crate) fn routing_memory<T: Real>(module: RoutingModule, states: &[T], sn: usize) -> (Vec<T>, Vec<KwMemory<T>>) {
    match module {
        RoutingModule::Lr => (states[..sn].to_vec(), Vec::new()),
        RoutingModule::Kw => (Vec::new(), vec![KwMemory::default(); sn]),
        RoutingModule::Zero | RoutingModule::Lag0 => (Vec::new(), Vec::new()),
    }
}

/// Asks the CPU to bring `values[start..start + len]` into the cache (a no-op off x86-64).
#[inline(always)]
pub(crate) fn prefetch<T>(values: &[T], start: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let end = (start + len).min(values.len());
        let line = 64 / core::mem::size_of::<T>().max(1);
        let mut i = start;
        while i < end {
            // SAFETY: prefetching never faults, and the address lies inside `values`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(values[i..].as_ptr().cast()) };
            i += line;
        }
        if end > start {
            unsafe { _mm_prefetch::<_MM_HINT_T0>(values[end - 1..].as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (values, start, len);
}

#[cfg(test)]
pub(crate) mod tests;
