//! Exact discrete adjoint of the forward simulation (spec §9): ∂J/∂θ for every parameter and initial
//! state of every cell from one forward and one reverse sweep, with checkpointing.
//!
//! The forward sweep runs the simulation segment by segment (`K` steps each), keeping only the states at
//! segment starts. The cost then gives ∂J/∂Q at the outlets, and the reverse sweep takes the segments
//! from last to first: it replays the segment from its checkpoint (hydrology, then routing), runs the
//! routing adjoint cell by cell in reverse topological order, then the hydrology adjoint of every cell in
//! parallel. Peak memory is `N·(T/K·s + K·b)` values (`s` state values per cell, `b` segment buffers per
//! cell-step); with `K ≈ √T` it grows like `N·√T`. The forward sweep keeps the last segment's buffers,
//! so it is not replayed; when the whole run fits the segment budget, that is the only segment.

pub mod gr4;
mod hydrology;
mod interception;
pub mod ode;
pub mod routing;

pub use hydrology::AdjointKernel;

use crate::gr::production::percolation_beta;
use crate::routing::RoutingModule;
use crate::routing::kw::KwMemory;
use crate::simulation::{
    Batch, Forcing, Setup, SimulationError, check_sizes, hydrology_chunk, pack, route_sets, routing_memory, unpack,
};
use hydrology::PackSegment;
use rayon::prelude::*;

/// How the reverse sweep bounds its memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdjointOptions {
    /// Steps per checkpointed segment; `None` chooses: the whole run when it fits `max_segment_values`,
    /// else `⌈√T⌉`.
    pub segment_len: Option<usize>,
    /// Budget for the segment buffers, in values.
    pub max_segment_values: usize,
}

impl Default for AdjointOptions {
    fn default() -> Self {
        AdjointOptions { segment_len: None, max_segment_values: 48 << 20 }
    }
}

/// What the adjoint kept in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryUse {
    pub segment_len: usize,
    pub segments: usize,
    /// Values held by the checkpoints.
    pub checkpoint_values: usize,
    /// Values held by the segment buffers.
    pub segment_values: usize,
}

/// Cost, discharge and gradients of one parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient<T> {
    pub cost: T,
    /// Discharge at the outlets \[m³/s\], `[T, G]`.
    pub qsim: Vec<T>,
    /// ∂J/∂θ per cell, `[P, N]` in the order of [`crate::structure::Structure::parameters`].
    pub parameters: Vec<T>,
    /// ∂J/∂(initial state) per cell, `[K, N]` in the order of [`crate::structure::Structure::states`].
    pub states: Vec<T>,
    /// ∂J/∂(network weights) of the hybrid structures, `[W]` (empty for the others).
    pub weights: Vec<T>,
    /// Final states `[K, N]`.
    pub final_states: Vec<T>,
    pub memory: MemoryUse,
}

/// States at the start of a segment.
#[derive(Clone)]
struct Checkpoint<T> {
    /// Packed hydrology states `[NB, K, LANES]`.
    hydrology: Vec<T>,
    hlr: Vec<T>,
    kw: Vec<KwMemory<T>>,
}

/// One segment's forward values: routed discharge `Q` and own runoff `qt` (kw only) \[m³/s\], `[Npad, K]`,
/// and the hydrology states at the start of every step, `[NB, K, 3, LANES]`.
struct SegmentValues<T> {
    q: Vec<T>,
    qt: Vec<T>,
    tape: Vec<T>,
}

/// Runs the model forward, asks `cost` for `(J, ∂J/∂Q)` on the outlet discharge `[T, G]`, and returns J
/// with its gradient with respect to every parameter and initial state of every cell.
///
/// `parameters`: `[P, N]`; `states`: initial `[K, N]`; `weights`: `[W]` (one parameter set, the layout
/// of [`Batch`] with `S = 1`).
///
/// # Errors
/// When array sizes disagree with the setup or the network is not topologically ordered.
pub fn gradient<T: AdjointKernel>(
    setup: &Setup<'_>,
    forcing: &Forcing<'_, T>,
    parameters: &[T],
    states: &[T],
    weights: &[T],
    cost: impl FnOnce(&[T]) -> (T, Vec<T>),
    options: &AdjointOptions,
) -> Result<Gradient<T>, SimulationError> {
    let (parameters, states, weights) = (parameters.to_vec(), states.to_vec(), weights.to_vec());
    let batch = Batch { nset: 1, ncell: setup.network.len(), parameters, states, weights };
    check_sizes(setup, forcing, &batch)?;
    let sweep = Sweep::new(setup, forcing, &batch, options);
    let (qsim, checkpoints, kept, final_states) = sweep.forward();
    let (cost_value, lambda_out) = cost(&qsim);
    assert_eq!(lambda_out.len(), qsim.len(), "the cost's gradient must have the shape of the discharge [T, G]");
    let (grad_params, grad_states, grad_weights) = sweep.reverse(&checkpoints, kept, &lambda_out);
    let memory = MemoryUse {
        segment_len: sweep.seg,
        segments: checkpoints.len(),
        checkpoint_values: checkpoints.iter().map(|c| c.hydrology.len() + c.hlr.len() + 2 * c.kw.len()).sum(),
        segment_values: sweep.segment_values(),
    };
    Ok(Gradient {
        cost: cost_value,
        qsim,
        parameters: grad_params,
        states: grad_states,
        weights: grad_weights,
        final_states,
        memory,
    })
}

/// Hydrology states per cell.
fn hk_of(setup: &Setup<'_>) -> usize {
    setup.structure.hydrology.states().len()
}

/// The fixed context of both sweeps.
struct Sweep<'a, T> {
    setup: &'a Setup<'a>,
    forcing: &'a Forcing<'a, T>,
    batch: &'a Batch<T>,
    n: usize,
    npad: usize,
    nt: usize,
    seg: usize,
    /// Hydrology parameters and states per cell.
    hp: usize,
    hk: usize,
    packed_params: Vec<T>,
}

impl<'a, T: AdjointKernel> Sweep<'a, T> {
    fn new(setup: &'a Setup<'a>, forcing: &'a Forcing<'a, T>, batch: &'a Batch<T>, options: &AdjointOptions) -> Self {
        let n = setup.network.len();
        let nt = forcing.ntime;
        let npad = n.div_ceil(T::LANES) * T::LANES;
        let per_step = npad * (hk_of(setup) + if setup.structure.routing == RoutingModule::Kw { 3 } else { 2 });
        let seg = options
            .segment_len
            .unwrap_or_else(|| {
                if per_step * nt <= options.max_segment_values { nt } else { (nt as f64).sqrt().ceil() as usize }
            })
            .clamp(1, nt.max(1));
        let hp = setup.structure.hydrology.parameters().len();
        let hk = setup.structure.hydrology.states().len();
        let packed_params = pack(&batch.parameters[..hp * n], hp, 1, n, T::LANES);
        Sweep { setup, forcing, batch, n, npad, nt, seg, hp, hk, packed_params }
    }

    fn segment_values(&self) -> usize {
        let kw = self.setup.structure.routing == RoutingModule::Kw;
        self.npad * self.seg * (self.hk + if kw { 3 } else { 2 })
    }

    fn routing_params(&self) -> &[T] {
        &self.batch.parameters[self.hp * self.n..]
    }

    /// Runs one segment from the states in `state`, leaving the states at its end there; with `taped`,
    /// keeps the hydrology states of every step (what the reverse sweep needs).
    fn run_segment(&self, t0: usize, tc: usize, state: &mut Checkpoint<T>, taped: bool) -> SegmentValues<T> {
        let mut q = vec![T::ZERO; self.npad * tc];
        let mut tape = if taped { vec![T::ZERO; self.npad * tc * self.hk] } else { Vec::new() };
        let (params, hydrology) = (&self.packed_params, &mut state.hydrology);
        let tape_slice = taped.then_some(tape.as_mut_slice());
        let weights = &self.batch.weights;
        hydrology_chunk(self.setup, self.forcing, t0, tc, params, hydrology, weights, &mut q, tape_slice);
        let qt = if self.setup.structure.routing == RoutingModule::Kw { q.clone() } else { Vec::new() };
        route_sets(self.setup, 1, self.routing_params(), &mut state.hlr, &mut state.kw, &mut q, tc);
        SegmentValues { q, qt, tape }
    }

    /// The forward sweep: discharge at the outlets `[T, G]`, the checkpoints, the last segment's values
    /// when there is a single segment, and the final states `[K, N]`.
    #[allow(clippy::type_complexity)]
    fn forward(&self) -> (Vec<T>, Vec<Checkpoint<T>>, Option<SegmentValues<T>>, Vec<T>) {
        let (n, hk) = (self.n, self.hk);
        let states = &self.batch.states;
        let (hlr, kw) = routing_memory(self.setup.structure.routing, &states[hk * n..], n);
        let mut state = Checkpoint { hydrology: pack(&states[..hk * n], hk, 1, n, T::LANES), hlr, kw };
        let outlets = self.setup.outlets;
        let g = outlets.len();
        let mut qsim = vec![T::ZERO; self.nt * g];
        let mut checkpoints = Vec::new();
        let mut kept = None;
        let mut t0 = 0;
        while t0 < self.nt {
            let tc = self.seg.min(self.nt - t0);
            checkpoints.push(state.clone());
            // the last segment is kept for the reverse sweep, which starts with it; the others are replayed
            let last = t0 + tc == self.nt;
            let values = self.run_segment(t0, tc, &mut state, last);
            for (j, &cell) in outlets.iter().enumerate() {
                for (t, &v) in values.q[cell * tc..(cell + 1) * tc].iter().enumerate() {
                    qsim[(t0 + t) * g + j] = v;
                }
            }
            if last {
                kept = Some(values);
            }
            t0 += tc;
        }
        let mut final_states = states.clone();
        unpack(&state.hydrology, &mut final_states[..hk * n], hk, 1, n, T::LANES);
        if self.setup.structure.routing == RoutingModule::Lr {
            final_states[hk * n..].copy_from_slice(&state.hlr);
        }
        (qsim, checkpoints, kept, final_states)
    }

    /// The reverse sweep: `(∂J/∂θ [P, N], ∂J/∂states₀ [K, N], ∂J/∂weights [W])` from `lambda_out` =
    /// ∂J/∂Q at the outlets.
    fn reverse(
        &self,
        checkpoints: &[Checkpoint<T>],
        mut kept: Option<SegmentValues<T>>,
        lambda_out: &[T],
    ) -> (Vec<T>, Vec<T>, Vec<T>) {
        let (n, hk, nt) = (self.n, self.hk, self.nt);
        let nparams = self.batch.parameters.len() / n.max(1);
        let (lanes, nb) = (T::LANES, n.div_ceil(T::LANES));
        // packed like the forward's states: [NB, 3 or 4, LANES]
        let mut lam_hydro_states = vec![T::ZERO; nb * 3 * lanes];
        let mut lam_hydro_params = vec![T::ZERO; nb * 4 * lanes];
        let mut lam_routing_params = vec![T::ZERO; (nparams - self.hp) * n];
        let mut lam_hlr = vec![T::ZERO; n];
        let mut lam_kw = vec![KwMemory::default(); n];
        // per pack, summed over its lanes: [NB, W]
        let nw = self.setup.structure.hydrology.nweights();
        let mut lam_weights = vec![T::ZERO; nb * nw.max(1)];
        let g = self.setup.outlets.len();
        for (s, checkpoint) in checkpoints.iter().enumerate().rev() {
            let t0 = s * self.seg;
            let tc = self.seg.min(nt - t0);
            let values = kept.take().unwrap_or_else(|| self.run_segment(t0, tc, &mut checkpoint.clone(), true));
            let mut lam = vec![T::ZERO; n * tc];
            for (j, &cell) in self.setup.outlets.iter().enumerate() {
                for t in 0..tc {
                    lam[cell * tc + t] += lambda_out[(t0 + t) * g + j];
                }
            }
            self.routing_adjoint(&values, checkpoint, tc, &mut lam, &mut lam_hlr, &mut lam_kw, &mut lam_routing_params);
            let (lam_st, lam_par) = (&mut lam_hydro_states, &mut lam_hydro_params);
            self.hydrology_adjoint(&values.tape, t0, tc, &lam, lam_st, lam_par, &mut lam_weights);
        }
        let mut grad_params = vec![T::ZERO; nparams * n];
        unpack(&lam_hydro_params, &mut grad_params[..self.hp * n], self.hp, 1, n, lanes);
        grad_params[self.hp * n..].copy_from_slice(&lam_routing_params);
        let mut grad_states = vec![T::ZERO; self.batch.states.len()];
        unpack(&lam_hydro_states, &mut grad_states[..hk * n], hk, 1, n, lanes);
        if self.setup.structure.routing == RoutingModule::Lr {
            grad_states[hk * n..].copy_from_slice(&lam_hlr);
        }
        // packs in order, so the sum does not depend on the thread count
        let mut grad_weights = vec![T::ZERO; nw];
        for pack in lam_weights.chunks(nw.max(1)).map(|p| &p[..nw]) {
            grad_weights.iter_mut().zip(pack).for_each(|(a, &b)| *a += b);
        }
        (grad_params, grad_states, grad_weights)
    }

    /// Routing adjoint of one segment, cells in reverse topological order: `lam` holds ∂J/∂Q `[N, K]` on
    /// entry and ∂J/∂qt on return.
    #[allow(clippy::too_many_arguments)]
    fn routing_adjoint(
        &self,
        values: &SegmentValues<T>,
        start: &Checkpoint<T>,
        tc: usize,
        lam: &mut [T],
        lam_hlr: &mut [T],
        lam_kw: &mut [KwMemory<T>],
        lam_params: &mut [T],
    ) {
        let module = self.setup.structure.routing;
        let network = self.setup.network;
        let Some(&first_routed) = network.partition_offsets.get(1) else { return };
        if module == RoutingModule::Zero {
            return;
        }
        let n = self.n;
        let params = self.routing_params();
        let dt = T::from_f64(self.setup.dt);
        let dx = T::from_f64(network.dx);
        let (mut qup, mut lam_qup, mut scratch) = (vec![T::ZERO; tc], vec![T::ZERO; tc], vec![T::ZERO; tc]);
        for cell in (first_routed..n).rev() {
            qup.fill(T::ZERO);
            for &u in network.upstream_of(cell) {
                let up = &values.q[u as usize * tc..(u as usize + 1) * tc];
                qup.iter_mut().zip(up).for_each(|(a, &b)| *a += b);
            }
            let (before, rest) = lam.split_at_mut(cell * tc);
            let own = &mut rest[..tc];
            match module {
                RoutingModule::Zero => unreachable!("no routing"),
                RoutingModule::Lag0 => lam_qup.copy_from_slice(own),
                RoutingModule::Lr => routing::lr_adjoint(
                    &qup,
                    start.hlr[cell],
                    params[cell],
                    dt,
                    T::from_f64(network.upstream_area[cell]),
                    own,
                    &mut lam_qup,
                    &mut lam_hlr[cell],
                    &mut lam_params[cell],
                    &mut scratch,
                ),
                RoutingModule::Kw => {
                    let (lam_akw, lam_bkw) = lam_params.split_at_mut(n);
                    routing::kw_adjoint(
                        &values.q[cell * tc..(cell + 1) * tc],
                        &values.qt[cell * tc..(cell + 1) * tc],
                        &qup,
                        start.kw[cell],
                        params[cell],
                        params[n + cell],
                        dt,
                        dx,
                        own,
                        &mut lam_qup,
                        &mut lam_kw[cell],
                        &mut lam_akw[cell],
                        &mut lam_bkw[cell],
                    )
                }
            }
            for &u in network.upstream_of(cell) {
                let dst = &mut before[u as usize * tc..(u as usize + 1) * tc];
                dst.iter_mut().zip(&lam_qup).for_each(|(a, &b)| *a += b);
            }
        }
    }

    /// Hydrology adjoint of one segment for every pack of cells in parallel; `lam`: ∂J/∂qt `[N, K]`
    /// \[per m³/s\]; `lam_states` `[NB, 3, LANES]` and `lam_params` `[NB, 4, LANES]`, packed;
    /// `lam_weights` `[NB, W]`.
    #[allow(clippy::too_many_arguments)]
    fn hydrology_adjoint(
        &self,
        tape: &[T],
        t0: usize,
        tc: usize,
        lam: &[T],
        lam_states: &mut [T],
        lam_params: &mut [T],
        lam_weights: &mut [T],
    ) {
        let (n, lanes, hk, hp) = (self.n, T::LANES, self.hk, self.hp);
        let (module, weights) = (self.setup.structure.hydrology, &self.batch.weights);
        let nw = module.nweights();
        let dt = T::from_f64(self.setup.dt);
        let network = self.setup.network;
        let beta = percolation_beta(dt);
        let to_m3s = T::from_f64(1e-3) * T::from_f64(network.dx) * T::from_f64(network.dy) / dt;
        lam.par_chunks(lanes * tc)
            .zip(lam_states.par_chunks_mut(hk * lanes))
            .zip(lam_params.par_chunks_mut(hp * lanes))
            .zip(tape.par_chunks(tc * hk * lanes))
            .zip(self.packed_params.par_chunks(hp * lanes))
            .zip(lam_weights.par_chunks_mut(nw.max(1)))
            .enumerate()
            .for_each_init(
                || vec![T::ZERO; tc * lanes],
                |scratch, (b, (((((lq, ls), lp), tape), par), lw))| {
                    let c0 = b * lanes;
                    let job = PackSegment {
                        prcp: self.forcing.prcp,
                        pet: self.forcing.pet,
                        n,
                        c0,
                        width: lanes.min(n - c0),
                        t0,
                        tc,
                        beta,
                        to_m3s,
                        module,
                        weights,
                    };
                    T::hydrology_segment_adjoint(&job, par, tape, lq, ls, lp, &mut lw[..nw], scratch);
                },
            );
    }
}

#[cfg(test)]
mod tests;
