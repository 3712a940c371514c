//! The engine a run goes through: the CPU engine of `hydrograd-models`, or the GPU engine of
//! `hydrograd-kernels` on the configured device (cargo features `wgpu`, `cuda`). Both take the same
//! setup, forcing and batch and return the same arrays.

use crate::Error;
use crate::config::DeviceKind;
use hydrograd_models::adjoint::{self, AdjointKernel, AdjointOptions, Gradient};
use hydrograd_models::simulation::{self, Batch, Forcing, RunOptions, Setup};

/// Float types both engines compute in.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub trait EngineFloat: AdjointKernel + hydrograd_kernels::GpuFloat {}
#[cfg(any(feature = "wgpu", feature = "cuda"))]
impl<T: AdjointKernel + hydrograd_kernels::GpuFloat> EngineFloat for T {}

/// Float types both engines compute in.
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
pub trait EngineFloat: AdjointKernel {}
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
impl<T: AdjointKernel> EngineFloat for T {}

/// Runs every parameter set of `batch` forward on `device` (see `simulation::forward`).
pub fn forward<T: EngineFloat>(
    device: DeviceKind,
    setup: &Setup<'_>,
    forcing: &Forcing<'_, T>,
    batch: &mut Batch<T>,
) -> Result<Vec<T>, Error> {
    match device {
        DeviceKind::Cpu => Ok(simulation::forward(setup, forcing, batch, &RunOptions::default())?),
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        _ => gpu::forward(device, setup, forcing, batch),
        #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
        _ => Err(not_compiled(device)),
    }
}

/// The gradient of one parameter set on `device` (see `adjoint::gradient`, whose arguments it forwards).
#[allow(clippy::too_many_arguments)]
pub fn gradient<T: EngineFloat>(
    device: DeviceKind,
    setup: &Setup<'_>,
    forcing: &Forcing<'_, T>,
    parameters: &[T],
    states: &[T],
    weights: &[T],
    cost: impl FnOnce(&[T]) -> (T, Vec<T>),
    options: &AdjointOptions,
) -> Result<Gradient<T>, Error> {
    match device {
        DeviceKind::Cpu => Ok(adjoint::gradient(setup, forcing, parameters, states, weights, cost, options)?),
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        _ => gpu::gradient(device, setup, forcing, parameters, states, weights, cost),
        #[cfg(not(any(feature = "wgpu", feature = "cuda")))]
        _ => Err(not_compiled(device)),
    }
}

/// The error for a GPU device in a build without GPU features.
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
pub(crate) fn not_compiled(device: DeviceKind) -> Error {
    let feature = device.feature().unwrap_or("wgpu");
    Error::Device(hydrograd_kernels::DeviceError::NotCompiled { device, feature })
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod gpu {
    use super::*;
    use hydrograd_kernels::{Gpu, GpuModel, GpuOptions};
    use hydrograd_models::adjoint::MemoryUse;

    fn model<'a, T: EngineFloat>(
        device: DeviceKind,
        setup: &Setup<'a>,
        forcing: &Forcing<'a, T>,
    ) -> Result<GpuModel<'a, T>, Error> {
        let gpu = Gpu::open(device)?;
        Ok(GpuModel::new(&gpu, *setup, *forcing, &GpuOptions::default())?)
    }

    pub(super) fn forward<T: EngineFloat>(
        device: DeviceKind,
        setup: &Setup<'_>,
        forcing: &Forcing<'_, T>,
        batch: &mut Batch<T>,
    ) -> Result<Vec<T>, Error> {
        Ok(model(device, setup, forcing)?.forward(batch)?)
    }

    pub(super) fn gradient<T: EngineFloat>(
        device: DeviceKind,
        setup: &Setup<'_>,
        forcing: &Forcing<'_, T>,
        parameters: &[T],
        states: &[T],
        weights: &[T],
        cost: impl FnOnce(&[T]) -> (T, Vec<T>),
    ) -> Result<Gradient<T>, Error> {
        let n = setup.network.len();
        let (parameters, states, weights) = (parameters.to_vec(), states.to_vec(), weights.to_vec());
        let batch = Batch { nset: 1, ncell: n, parameters, states, weights };
        let mut value = T::ZERO;
        let g = model(device, setup, forcing)?.gradient(&batch, |q| {
            let (j, lambda) = cost(q);
            value = j;
            lambda
        })?;
        // the GPU engine's segments are its chunks
        let memory = MemoryUse {
            segment_len: g.chunk_len,
            segments: g.chunks,
            checkpoint_values: g.checkpoint_values,
            segment_values: g.buffer_values,
        };
        Ok(Gradient {
            cost: value,
            qsim: g.qsim,
            parameters: g.parameters,
            states: g.states,
            weights: g.weights,
            final_states: g.final_states,
            memory,
        })
    }
}
