//! # hydrograd-kernels
//!
//! GPU kernels of hydrograd: the operators of `hydrograd-models` written as cubecl kernels and exposed
//! to burn as a backend extension. The kernels keep the batch contract of the CPU engine
//! (`hydrograd_models::simulation`): parameters and states `[S, N]`, forcing `[T, N]` shared by the S
//! parameter sets, discharge at gauges `[S, T, G]`.
//!
//! This crate is part of the workspace layout; its kernels land with the GPU issue and are tested
//! against the CPU engine re-exported here.

pub use hydrograd_models as cpu_reference;
