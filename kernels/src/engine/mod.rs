//! The GPU engine: forward runs and exact adjoints of a batch of parameter sets on one device.
//!
//! A run goes chunk by chunk over time (a chunk's buffers stay below the device's binding limit):
//! one hydrology launch for every (set × cell), then one routing launch per partition of the network,
//! then the outlets are gathered. The adjoint keeps the states at every chunk start (checkpoints),
//! and the reverse sweep takes the chunks from last to first: it replays the chunk from its
//! checkpoint with a tape of the hydrology states, runs the routing adjoint partition by partition
//! from the outlets up, then the hydrology adjoint of every unit. Forcing stays on the device between
//! calls when it fits the residency budget, and is streamed block by block otherwise.

mod buffer;
mod run;

use crate::gpu::Gpu;
use crate::{DeviceError, outlets};
use buffer::{Buffer, upload, upload_u32};
use cubecl::ir::{ElemType, FloatKind};
use cubecl::prelude::*;
use hydrograd_models::adjoint::AdjointKernel;
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::simulation::{Batch, Forcing, Setup, SimulationError, check_sizes};
use run::{RoutingAdjoint, Run};
use std::cell::RefCell;

/// Float types the kernels run in.
pub trait GpuFloat: AdjointKernel + Float + CubeElement {
    /// Single precision (the kernels' comptime `single`: see [`crate::math`]).
    const SINGLE: bool;
    /// The kernels' element type.
    const ELEM: ElemType;

    /// `self` as a kernel's scalar argument.
    fn scalar(self) -> InputScalar;
}

impl GpuFloat for f32 {
    const SINGLE: bool = true;
    const ELEM: ElemType = ElemType::Float(FloatKind::F32);

    fn scalar(self) -> InputScalar {
        InputScalar::new(self, Self::ELEM)
    }
}

impl GpuFloat for f64 {
    const SINGLE: bool = false;
    const ELEM: ElemType = ElemType::Float(FloatKind::F64);

    fn scalar(self) -> InputScalar {
        InputScalar::new(self, Self::ELEM)
    }
}

/// Tuning of the GPU engine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuOptions {
    /// Upper bound on one buffer \[bytes\]; `None`: the device's binding limit.
    pub max_buffer_bytes: Option<usize>,
    /// Forcing up to this size \[bytes\] is uploaded once and kept on the device.
    pub resident_forcing_bytes: usize,
    /// Steps per routing block of the forward wavefront (`usize::MAX`: one launch per partition).
    pub routing_block: usize,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions { max_buffer_bytes: None, resident_forcing_bytes: 4 << 30, routing_block: 32 }
    }
}

/// Discharge and gradients of a batch of parameter sets.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchGradient<T> {
    /// Discharge at the outlets \[m³/s\], `[S, T, G]`.
    pub qsim: Vec<T>,
    /// ∂J/∂θ, `[P, S, N]` in the order of the structure's parameters.
    pub parameters: Vec<T>,
    /// ∂J/∂(initial states), `[K, S, N]`.
    pub states: Vec<T>,
    /// ∂J/∂(network weights) of the hybrid structures, `[S, W]` (empty for the others).
    pub weights: Vec<T>,
    /// Final states, `[K, S, N]`.
    pub final_states: Vec<T>,
    /// What the device held: chunks (checkpointed segments) and their length in steps, and the values
    /// of the checkpoints and of the chunk buffers (tape, discharge, cotangents).
    pub chunks: usize,
    pub chunk_len: usize,
    pub checkpoint_values: usize,
    pub buffer_values: usize,
}

/// Units per cube of every launch.
const CUBE: usize = 256;

/// Forcing rows `t0..t0 + len` on the device, `[len, N]` each.
struct ForcingBlock {
    t0: usize,
    prcp: Buffer,
    pet: Buffer,
}

/// The network on the device.
struct NetworkBuffers {
    upstream_offsets: Buffer,
    upstream: Buffer,
    downstream: Buffer,
    upstream_area: Buffer,
    outlets: Buffer,
    /// Partition of every cell, `[N]`.
    partition_of: Buffer,
}

/// A model prepared on a GPU: network, outlets and (when it fits) forcing uploaded once, for any
/// number of forward and adjoint runs of batches of parameter sets.
pub struct GpuModel<'a, T: GpuFloat> {
    gpu: Gpu,
    setup: Setup<'a>,
    forcing: Forcing<'a, T>,
    network: NetworkBuffers,
    /// Steps per forcing block.
    block_len: usize,
    /// Every block when the forcing is resident; otherwise the last block streamed.
    blocks: RefCell<Vec<ForcingBlock>>,
    resident: bool,
    /// Values per buffer.
    max_values: usize,
    routing_block: usize,
}

impl<'a, T: GpuFloat> GpuModel<'a, T> {
    /// Prepares `setup` and `forcing` on `gpu`.
    ///
    /// # Errors
    /// [`DeviceError::Precision`] when the device has no kernels in `T`'s precision.
    pub fn new(
        gpu: &Gpu,
        setup: Setup<'a>,
        forcing: Forcing<'a, T>,
        options: &GpuOptions,
    ) -> Result<Self, DeviceError> {
        if core::mem::size_of::<T>() == 8 && !gpu.supports_f64() {
            return Err(DeviceError::Precision { device: gpu.kind, precision: "f64" });
        }
        let client = &gpu.client;
        let net = setup.network;
        let n = net.len();
        let mut downstream = vec![u32::MAX; n];
        for cell in 0..n {
            for &u in net.upstream_of(cell) {
                downstream[u as usize] = cell as u32;
            }
        }
        let offsets: Vec<u32> = net.upstream_offsets.iter().map(|&o| o as u32).collect();
        let area: Vec<T> = net.upstream_area.iter().map(|&a| T::from_f64(a)).collect();
        let outlets: Vec<u32> = setup.outlets.iter().map(|&o| o as u32).collect();
        let mut partition_of = vec![0u32; n];
        for (p, w) in net.partition_offsets.windows(2).enumerate() {
            partition_of[w[0]..w[1]].fill(p as u32);
        }
        let network = NetworkBuffers {
            upstream_offsets: upload_u32(client, &offsets),
            upstream: upload_u32(client, &net.upstream),
            downstream: upload_u32(client, &downstream),
            upstream_area: upload(client, &area),
            outlets: upload_u32(client, &outlets),
            partition_of: upload_u32(client, &partition_of),
        };
        let max_bytes = options.max_buffer_bytes.unwrap_or(usize::MAX).min(gpu.max_buffer_bytes());
        let max_values = (max_bytes / core::mem::size_of::<T>()).max(1);
        let nt = forcing.ntime;
        let block_len = (max_values / n.max(1)).clamp(1, nt.max(1));
        let resident = 2 * nt * n * core::mem::size_of::<T>() <= options.resident_forcing_bytes;
        let model = GpuModel {
            gpu: gpu.clone(),
            setup,
            forcing,
            network,
            block_len,
            blocks: RefCell::new(Vec::new()),
            resident,
            max_values,
            routing_block: options.routing_block.max(1),
        };
        if resident {
            let blocks = (0..nt).step_by(block_len).map(|t0| model.upload_block(t0)).collect();
            *model.blocks.borrow_mut() = blocks;
        }
        Ok(model)
    }

    /// The device this model runs on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Runs every parameter set of `batch` forward and updates its states to the final states.
    ///
    /// # Returns
    /// Discharge at the outlets \[m³/s\], `[S, T, G]`.
    ///
    /// # Errors
    /// When array sizes disagree with the setup.
    pub fn forward(&self, batch: &mut Batch<T>) -> Result<Vec<T>, SimulationError> {
        self.check(batch)?;
        let run = Run::new(self, batch, 1);
        let (nt, g) = (self.forcing.ntime, self.setup.outlets.len());
        let out = self.zeros(batch.nset * nt * g);
        let q = self.empty(batch.nset * run.tc_max * self.n());
        let tape = self.empty(1);
        for (t0, tc) in self.chunks(run.tc_max) {
            run.hydrology(t0, tc, &q, &tape, false);
            run.route(tc, &q, None);
            self.gather(&q, &out, batch.nset, t0, tc);
        }
        let out = self.read(&out);
        run.final_states(&mut batch.states);
        Ok(out)
    }

    /// Runs every parameter set of `batch` forward, asks `cost` for ∂J/∂Q at the outlets (`[S, T, G]`,
    /// given the discharge `[S, T, G]`), and returns the gradient of J with respect to every parameter
    /// and initial state of every cell of every set.
    ///
    /// # Errors
    /// When array sizes disagree with the setup.
    pub fn gradient(
        &self,
        batch: &Batch<T>,
        cost: impl FnOnce(&[T]) -> Vec<T>,
    ) -> Result<BatchGradient<T>, SimulationError> {
        self.check(batch)?;
        let (n, nt, g, s) = (self.n(), self.forcing.ntime, self.setup.outlets.len(), batch.nset);
        let sn = s * n;
        let mut run = Run::new(self, batch, 3);
        let chunks = self.chunks(run.tc_max);
        let out = self.zeros(s * nt * g);
        let q = self.empty(s * run.tc_max * n);
        let qt = self.empty(if run.module == RoutingModule::Kw { s * run.tc_max * n } else { 1 });
        let tape = self.empty(3 * s * run.tc_max * n);
        let snapshots = self.empty(run.tc_max.div_ceil(self.routing_block.min(run.tc_max)) * sn);
        // forward sweep: checkpoints at chunk starts; the last chunk's values are kept
        let mut checkpoints = Vec::with_capacity(chunks.len());
        for (i, &(t0, tc)) in chunks.iter().enumerate() {
            checkpoints.push((self.duplicate(&run.states), self.duplicate(&run.memory)));
            let last = i + 1 == chunks.len();
            run.hydrology(t0, tc, &q, &tape, last);
            if run.module == RoutingModule::Kw {
                self.copy(&q, &qt, s * tc * n);
            }
            run.route(tc, &q, last.then_some(&snapshots));
            self.gather(&q, &out, s, t0, tc);
        }
        let qsim = self.read(&out);
        let mut final_states = batch.states.clone();
        run.final_states(&mut final_states);
        let lambda_out = cost(&qsim);
        assert_eq!(lambda_out.len(), qsim.len(), "the cost's gradient must have the shape of the discharge [S, T, G]");
        let lambda_out = upload(&self.gpu.client, &lambda_out);

        // reverse sweep
        let (np, nk) = (self.setup.structure.parameters().len(), self.setup.structure.states().len());
        let lam_states = self.zeros(3 * sn);
        let lam_params = self.zeros(4 * sn);
        let lam_rparams = self.zeros(((np - 4) * sn).max(1));
        let lam_memory = self.zeros(run.memory.len);
        let nw = run.hydrology.weights();
        let lam_weights = self.zeros(s * nw * run.weight_blocks());
        let lam = self.empty(s * run.tc_max * n);
        let lam_qup = self.empty(s * run.tc_max * n);
        for (i, &(t0, tc)) in chunks.iter().enumerate().rev() {
            let (states0, memory0) = &checkpoints[i];
            if i + 1 != chunks.len() {
                run.states = self.duplicate(states0);
                run.memory = self.duplicate(memory0);
                run.hydrology(t0, tc, &q, &tape, true);
                if run.module == RoutingModule::Kw {
                    self.copy(&q, &qt, s * tc * n);
                }
                run.route(tc, &q, Some(&snapshots));
            }
            self.fill(&lam, T::ZERO, s * tc * n);
            self.scatter(&lambda_out, &lam, s, t0, tc);
            let adjoint = RoutingAdjoint {
                q: &q,
                qt: &qt,
                lam: &lam,
                lam_qup: &lam_qup,
                memory0,
                snapshots: &snapshots,
                lam_memory: &lam_memory,
            };
            run.route_adjoint(tc, &adjoint, &lam_rparams);
            run.hydrology_adjoint(t0, tc, &tape, &lam, &lam_states, &lam_params, &lam_weights);
        }
        let mut parameters = self.read(&lam_params);
        if np > 4 {
            parameters.extend(self.read(&lam_rparams));
        }
        let mut states = self.read(&lam_states);
        if nk > 3 {
            states.extend_from_slice(&self.read(&lam_memory)[..sn]);
        }
        // the cubes' partial sums `[S, W, blocks]`, summed in f64
        let weights = match nw {
            0 => Vec::new(),
            _ => self
                .read(&lam_weights)
                .chunks(run.weight_blocks())
                .map(|blocks| T::from_f64(blocks.iter().map(|&v| hydrograd_models::Real::to_f64(v)).sum()))
                .collect(),
        };
        let checkpoint_values = checkpoints.iter().map(|(h, m)| h.len + m.len).sum();
        let buffer_values = [&q, &qt, &tape, &snapshots, &lam, &lam_qup].iter().map(|b| b.len).sum();
        Ok(BatchGradient {
            qsim,
            parameters,
            states,
            weights,
            final_states,
            chunks: chunks.len(),
            chunk_len: run.tc_max,
            checkpoint_values,
            buffer_values,
        })
    }

    fn n(&self) -> usize {
        self.setup.network.len()
    }

    fn check(&self, batch: &Batch<T>) -> Result<(), SimulationError> {
        check_sizes(&self.setup, &self.forcing, batch)
    }

    /// The chunks `(t0, tc)` of the run: at most `tc_max` steps, never across a forcing block.
    fn chunks(&self, tc_max: usize) -> Vec<(usize, usize)> {
        let nt = self.forcing.ntime;
        let mut chunks = Vec::new();
        let mut t0 = 0;
        while t0 < nt {
            let block_end = (t0 / self.block_len + 1) * self.block_len;
            let tc = tc_max.min(nt - t0).min(block_end - t0);
            chunks.push((t0, tc));
            t0 += tc;
        }
        chunks
    }

    fn upload_block(&self, t0: usize) -> ForcingBlock {
        let n = self.n();
        let rows = t0 * n..((t0 + self.block_len).min(self.forcing.ntime)) * n;
        let client = &self.gpu.client;
        ForcingBlock {
            t0,
            prcp: upload(client, &self.forcing.prcp[rows.clone()]),
            pet: upload(client, &self.forcing.pet[rows]),
        }
    }

    /// The forcing block holding step `t0`, uploaded now when the forcing is streamed.
    fn with_block<R>(&self, t0: usize, f: impl FnOnce(&ForcingBlock) -> R) -> R {
        let start = t0 / self.block_len * self.block_len;
        if self.resident {
            return f(&self.blocks.borrow()[t0 / self.block_len]);
        }
        let mut blocks = self.blocks.borrow_mut();
        if blocks.first().is_none_or(|b| b.t0 != start) {
            *blocks = vec![self.upload_block(start)];
        }
        f(&blocks[0])
    }

    fn empty(&self, len: usize) -> Buffer {
        let len = len.max(1);
        Buffer { handle: self.gpu.client.empty(len * core::mem::size_of::<T>()), len }
    }

    fn zeros(&self, len: usize) -> Buffer {
        let buffer = self.empty(len);
        self.fill(&buffer, T::ZERO, buffer.len);
        buffer
    }

    fn duplicate(&self, src: &Buffer) -> Buffer {
        let dst = self.empty(src.len);
        self.copy(src, &dst, src.len);
        dst
    }

    fn read(&self, buffer: &Buffer) -> Vec<T> {
        let bytes = self.gpu.client.read_one_unchecked(buffer.handle.clone());
        T::from_bytes(&bytes)[..buffer.len].to_vec()
    }

    fn count(&self, units: usize) -> (CubeCount, CubeDim) {
        let dim = CubeDim::new_1d(CUBE as u32);
        (cubecl::calculate_cube_count_elemwise(&self.gpu.client, units, dim), dim)
    }

    fn fill(&self, buffer: &Buffer, value: T, len: usize) {
        let (count, dim) = self.count(len);
        // SAFETY: the kernel writes below `len` ≤ the buffer's length.
        unsafe {
            outlets::fill::launch_unchecked::<T>(&self.gpu.client, count, dim, buffer.arg(), value.scalar(), len)
        };
    }

    fn copy(&self, src: &Buffer, dst: &Buffer, len: usize) {
        let (count, dim) = self.count(len);
        // SAFETY: both buffers hold at least `len` values.
        unsafe { outlets::copy::launch_unchecked::<T>(&self.gpu.client, count, dim, src.arg(), dst.arg(), len) };
    }

    fn gather(&self, q: &Buffer, out: &Buffer, s: usize, t0: usize, tc: usize) {
        let (n, nt, g) = (self.n(), self.forcing.ntime, self.setup.outlets.len());
        let units = s * tc * g;
        if units == 0 {
            return;
        }
        let (count, dim) = self.count(units);
        // SAFETY: indices stay inside `[S, tc, N]` and `[S, T, G]` (outlets were checked against N).
        unsafe {
            outlets::gather_outlets::launch_unchecked::<T>(
                &self.gpu.client,
                count,
                dim,
                q.arg(),
                self.network.outlets.arg(),
                out.arg(),
                n,
                tc,
                nt,
                t0,
                g,
                units,
            )
        };
    }

    fn scatter(&self, lam_out: &Buffer, lam: &Buffer, s: usize, t0: usize, tc: usize) {
        let (n, nt, g) = (self.n(), self.forcing.ntime, self.setup.outlets.len());
        if g == 0 {
            return;
        }
        let (count, dim) = self.count(s * tc);
        // SAFETY: as in `gather`.
        unsafe {
            outlets::scatter_outlets::launch_unchecked::<T>(
                &self.gpu.client,
                count,
                dim,
                lam_out.arg(),
                self.network.outlets.arg(),
                lam.arg(),
                n,
                tc,
                nt,
                t0,
                g,
                s * tc,
            )
        };
    }
}
