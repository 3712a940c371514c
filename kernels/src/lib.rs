//! # hydrograd-kernels
//!
//! The GPU engine of hydrograd: the time loops of the gr4 family (gr4, gr4_mlp, gr4_ode, gr4_ude) and
//! the routing of `hydrograd-models` written as cubecl kernels, forward and adjoint, batched over
//! parameter sets, and run on any cubecl runtime (wgpu: Vulkan / Metal / WebGPU; CUDA behind the
//! `cuda` feature).
//!
//! The kernels keep the batch contract of the CPU engine (`hydrograd_models::simulation`): parameters
//! and states `[P or K, S, N]`, forcing `[T, N]` shared by the S parameter sets, discharge at the
//! outlets `[S, T, G]`. One unit of work is one (parameter set × cell), so a population of parameter
//! sets is one launch and small catchments still fill the device. The CPU engine is the oracle: the
//! tests hold every kernel to it.
//!
//! Without a GPU feature only [`device`] is built (device names and errors), so that `--device cpu`
//! works in a build with no GPU crate.

pub mod device;

#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod burn_ops;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod engine;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod gpu;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod gr4;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod hydrology;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod math;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod nn;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod ode;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
mod outlets;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub mod routing;

pub use device::{DeviceError, DeviceKind};
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub use engine::{BatchGradient, GpuFloat, GpuModel, GpuOptions};
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub use gpu::Gpu;
