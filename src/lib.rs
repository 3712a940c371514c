//! # hydrograd
//!
//! GPU-accelerated, differentiable distributed hydrology, numerically equivalent to smash.
//! The data flow is config → inputs (`io`) and mesh → parameters → model (`hydrograd-models`) → outputs.

pub mod grid;
pub mod io;
pub mod mesh;
pub mod time;
