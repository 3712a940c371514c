//! One batch on the device and the launches of its kernels: hydrology, routing wavefront and their
//! adjoints.

use super::buffer::{Buffer, upload};
use super::{CUBE, GpuFloat, GpuModel};
use crate::hydrology::{self, Module};
use crate::routing;
use cubecl::prelude::*;
use hydrograd_models::Real;
use hydrograd_models::gr::production::percolation_beta;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::simulation::Batch;
use hydrograd_models::structure::HydrologicalModule;

/// The device buffers of one routing adjoint chunk.
pub(super) struct RoutingAdjoint<'b> {
    pub(super) q: &'b Buffer,
    pub(super) qt: &'b Buffer,
    pub(super) lam: &'b Buffer,
    pub(super) lam_qup: &'b Buffer,
    pub(super) memory0: &'b Buffer,
    /// The lr level at every block's start, `[blocks, S, N]`.
    pub(super) snapshots: &'b Buffer,
    pub(super) lam_memory: &'b Buffer,
}

/// One batch on the device: parameters, the evolving states and routing memory.
pub(super) struct Run<'m, 'a, T: GpuFloat> {
    pub(super) model: &'m GpuModel<'a, T>,
    pub(super) s: usize,
    pub(super) module: RoutingModule,
    /// The hydrological module as the kernels' comptime structure.
    pub(super) hydrology: Module,
    /// `[4, S, N]`
    pub(super) params: Buffer,
    /// Network weights `[S, W]` (one dummy value without a network)
    pub(super) weights: Buffer,
    /// `[R, S, N]` (one dummy value without routing parameters)
    pub(super) rparams: Buffer,
    /// `[3, S, N]`
    pub(super) states: Buffer,
    /// lr: `hlr` `[S, N]`; kw: `[2, S, N]`; otherwise one dummy value
    pub(super) memory: Buffer,
    /// Steps per chunk.
    pub(super) tc_max: usize,
    pub(super) beta: T,
    pub(super) to_m3s: T,
}

impl<'m, 'a, T: GpuFloat> Run<'m, 'a, T> {
    /// Uploads `batch`; chunks hold at most `per_step` buffers of `S·N` values per step in one buffer.
    pub(super) fn new(model: &'m GpuModel<'a, T>, batch: &Batch<T>, per_step: usize) -> Self {
        let client = &model.gpu.client;
        let (n, s) = (model.n(), batch.nset);
        let sn = s * n;
        let module = model.setup.structure.routing;
        let memory = match module {
            RoutingModule::Lr => upload(client, &batch.states[3 * sn..4 * sn]),
            RoutingModule::Kw => model.zeros(2 * sn),
            RoutingModule::Zero | RoutingModule::Lag0 => model.zeros(1),
        };
        let rparams = &batch.parameters[4 * sn..];
        let (dt, net) = (model.setup.dt, model.setup.network);
        let beta = percolation_beta(<T as Real>::from_f64(dt));
        let to_m3s = <T as Real>::from_f64(1e-3) * <T as Real>::from_f64(net.dx) * <T as Real>::from_f64(net.dy)
            / <T as Real>::from_f64(dt);
        Run {
            model,
            s,
            module,
            hydrology: module_of(model.setup.structure.hydrology),
            params: upload(client, &batch.parameters[..4 * sn]),
            weights: upload(client, &batch.weights),
            rparams: if rparams.is_empty() { model.zeros(1) } else { upload(client, rparams) },
            states: upload(client, &batch.states[..3 * sn]),
            memory,
            tc_max: (model.max_values / (per_step * sn).max(1)).clamp(1, model.forcing.ntime.max(1)),
            beta,
            to_m3s,
        }
    }

    pub(super) fn sn(&self) -> usize {
        self.s * self.model.n()
    }

    /// The hydrology of every unit over steps `t0..t0 + tc`: runoff into `q`, and with `taped` the
    /// states at every step into `tape`.
    pub(super) fn hydrology(&self, t0: usize, tc: usize, q: &Buffer, tape: &Buffer, taped: bool) {
        let (n, sn) = (self.model.n(), self.sn());
        let (count, dim) = self.model.count(sn);
        self.model.with_block(t0, |block| {
            // SAFETY: units below S·N read rows f0..f0 + tc of the block (chunks never cross blocks) and
            // write `[S, tc, N]` / `[tc, 3, S, N]` inside buffers sized for `tc_max ≥ tc`.
            unsafe {
                hydrology::hydrology_forward::launch_unchecked::<T>(
                    &self.model.gpu.client,
                    count,
                    dim,
                    block.prcp.arg(),
                    block.pet.arg(),
                    self.params.arg(),
                    self.weights.arg(),
                    self.states.arg(),
                    q.arg(),
                    tape.arg(),
                    n,
                    sn,
                    tc,
                    self.hydrology.weights(),
                    self.beta.scalar(),
                    self.to_m3s.scalar(),
                    t0 - block.t0,
                    self.hydrology.ode,
                    self.hydrology.h1,
                    self.hydrology.h2,
                    taped,
                    T::SINGLE,
                )
            }
        });
    }

    /// The hydrology adjoint of the chunk (see `hydrology::hydrology_adjoint`); with a network,
    /// `lam_weights` (`[S, W, blocks]`, see [`Run::weight_blocks`]) accumulates ∂J/∂weights.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn hydrology_adjoint(
        &self,
        t0: usize,
        tc: usize,
        tape: &Buffer,
        lam: &Buffer,
        lam_states: &Buffer,
        lam_params: &Buffer,
        lam_weights: &Buffer,
    ) {
        let n = self.model.n();
        let blocks = self.weight_blocks();
        let dim = CubeDim::new_1d(CUBE as u32);
        let count = cubecl::calculate_cube_count_elemwise(&self.model.gpu.client, self.s * blocks * CUBE, dim);
        self.model.with_block(t0, |block| {
            // SAFETY: cubes past S·blocks stop at once; units read rows f0..f0 + tc of the block and
            // `[tc, 3, S, N]` / `[S, tc, N]` below `tc_max ≥ tc`, write `[K or P, S, N]` for cells below N
            // and `[S, W, blocks]`.
            unsafe {
                hydrology::hydrology_adjoint::launch_unchecked::<T>(
                    &self.model.gpu.client,
                    count,
                    dim,
                    block.prcp.arg(),
                    block.pet.arg(),
                    self.params.arg(),
                    self.weights.arg(),
                    tape.arg(),
                    lam.arg(),
                    lam_states.arg(),
                    lam_params.arg(),
                    lam_weights.arg(),
                    n,
                    self.s,
                    tc,
                    blocks,
                    self.beta.scalar(),
                    self.to_m3s.scalar(),
                    t0 - block.t0,
                    self.hydrology.ode,
                    self.hydrology.h1,
                    self.hydrology.h2,
                    CUBE,
                    T::SINGLE,
                )
            }
        });
    }

    /// Cubes per parameter set in the hydrology adjoint (each holds `CUBE` cells of one set).
    pub(super) fn weight_blocks(&self) -> usize {
        self.model.n().div_ceil(CUBE).max(1)
    }

    /// The comptime module code of the routing kernels.
    pub(super) fn code(&self) -> u32 {
        match self.module {
            RoutingModule::Lr => routing::LR,
            RoutingModule::Kw => routing::KW,
            RoutingModule::Zero | RoutingModule::Lag0 => routing::LAG0,
        }
    }

    /// Routes the chunk in `q` (runoff in, discharge out): a wavefront over (partition, block of
    /// steps), one launch per diagonal (see `routing::route_forward`).
    /// With `snapshots` (`[blocks, S, N]`), the lr level at every block's start is kept for the adjoint.
    pub(super) fn route(&self, tc: usize, q: &Buffer, snapshots: Option<&Buffer>) {
        let offsets = &self.model.setup.network.partition_offsets;
        let routed = offsets.len().saturating_sub(2); // partitions after the first
        if self.module == RoutingModule::Zero || routed == 0 || tc == 0 {
            return;
        }
        let model = self.model;
        let net = &model.network;
        let block = model.routing_block.min(tc);
        let blocks = tc.div_ceil(block);
        let dummy = model.empty(1);
        let (snapshots, snap) = match snapshots {
            Some(buffer) => (buffer, true),
            None => (&dummy, false),
        };
        for diag in 0..routed + blocks - 1 {
            // routed partitions r = p − 1 in r_lo..=r_hi take block diag − r
            let (r_lo, r_hi) = (diag.saturating_sub(blocks - 1), diag.min(routed - 1));
            let (first, end) = (offsets[r_lo + 1], offsets[r_hi + 2]);
            let (count, dim) = model.count(self.s * (end - first));
            // SAFETY: units below S·(end − first) route cells first..end, steps inside 0..tc.
            unsafe {
                routing::route_forward::launch_unchecked::<T>(
                    &model.gpu.client,
                    count,
                    dim,
                    q.arg(),
                    net.upstream_offsets.arg(),
                    net.upstream.arg(),
                    net.upstream_area.arg(),
                    self.rparams.arg(),
                    self.memory.arg(),
                    snapshots.arg(),
                    net.partition_of.arg(),
                    first,
                    end - first,
                    diag,
                    block,
                    model.n(),
                    self.sn(),
                    tc,
                    <T as Real>::from_f64(model.setup.dt).scalar(),
                    <T as Real>::from_f64(model.setup.network.dx).scalar(),
                    self.code(),
                    snap,
                    T::SINGLE,
                )
            };
        }
    }

    /// The routing adjoint of the chunk: a reverse wavefront over (partition, block), from the last
    /// partition and the last block (see `routing::route_adjoint`).
    pub(super) fn route_adjoint(&self, tc: usize, b: &RoutingAdjoint<'_>, lam_rparams: &Buffer) {
        let offsets = &self.model.setup.network.partition_offsets;
        let npar = offsets.len() - 1;
        if self.module == RoutingModule::Zero || npar == 0 || tc == 0 {
            return;
        }
        let model = self.model;
        let net = &model.network;
        let block = model.routing_block.min(tc);
        let blocks = tc.div_ceil(block);
        for diag in 0..npar + blocks - 1 {
            // partitions p with npar − 1 − p in rev_lo..=rev_hi take block blocks − 1 − (diag − (npar − 1 − p))
            let (rev_lo, rev_hi) = (diag.saturating_sub(blocks - 1), diag.min(npar - 1));
            let (p_lo, p_hi) = (npar - 1 - rev_hi, npar - 1 - rev_lo);
            let (first, end) = (offsets[p_lo], offsets[p_hi + 1]);
            let (count, dim) = model.count(self.s * (end - first));
            // SAFETY: as in `route`; `downstream` cells lie in later partitions, done on earlier diagonals.
            unsafe {
                routing::route_adjoint::launch_unchecked::<T>(
                    &model.gpu.client,
                    count,
                    dim,
                    b.q.arg(),
                    b.qt.arg(),
                    b.lam.arg(),
                    b.lam_qup.arg(),
                    net.downstream.arg(),
                    net.upstream_offsets.arg(),
                    net.upstream.arg(),
                    net.upstream_area.arg(),
                    self.rparams.arg(),
                    b.memory0.arg(),
                    b.snapshots.arg(),
                    net.partition_of.arg(),
                    b.lam_memory.arg(),
                    lam_rparams.arg(),
                    first,
                    end - first,
                    diag,
                    block,
                    npar,
                    blocks,
                    model.n(),
                    self.sn(),
                    tc,
                    <T as Real>::from_f64(model.setup.dt).scalar(),
                    <T as Real>::from_f64(model.setup.network.dx).scalar(),
                    self.code(),
                    T::SINGLE,
                )
            };
        }
    }

    /// Writes the final states `[K, S, N]` into `states`.
    pub(super) fn final_states(&self, states: &mut [T]) {
        let sn = self.sn();
        states[..3 * sn].copy_from_slice(&self.model.read(&self.states));
        if self.module == RoutingModule::Lr {
            states[3 * sn..4 * sn].copy_from_slice(&self.model.read(&self.memory));
        }
    }
}

/// The kernels' comptime structure of a hydrological module.
fn module_of(module: HydrologicalModule) -> Module {
    let (ode, net) = match module {
        HydrologicalModule::Gr4 => (false, None),
        HydrologicalModule::Gr4Mlp(shape) => (false, Some(shape)),
        HydrologicalModule::Gr4Ode => (true, None),
        HydrologicalModule::Gr4Ude(shape) => (true, Some(shape)),
    };
    let [h1, h2] = net.map_or([0, 0], |shape| shape.hidden);
    let kernels = Module { ode, h1, h2 };
    debug_assert_eq!(kernels.weights(), module.nweights(), "the kernels' weight layout is the CPU's");
    kernels
}
