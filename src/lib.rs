//! # hydrograd
//!
//! GPU-accelerated, differentiable distributed hydrology, numerically equivalent to smash.
//! The data flow is config → inputs (`io`) and `mesh` → parameters and simulation (`model`, over the
//! operators of `hydrograd-models`) → `cost` metrics → `output`. See `docs/architecture.md`.

pub mod bench;
pub mod calibration;
pub mod cluster;
pub mod config;
pub mod cost;
mod error;
pub mod grid;
pub mod io;
pub mod mesh;
pub mod model;
pub mod optim;
pub mod output;
pub mod report;
pub mod samplers;
pub mod time;
pub mod twin;

pub use error::Error;
