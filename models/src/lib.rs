//! # hydrograd-models
//!
//! The hydrological operators of hydrograd, the single source of truth for the equations: GR
//! operators (`gr`), routing (`routing`), model structures (`structure`) and the batched simulation
//! driver (`simulation`). No I/O. Generic over the float type ([`Real`]: `f32`, smash's precision, or
//! `f64`). Equations cite `shared/spec/smash.md` ("the spec") by section.
//!
//! Layouts: forcing is `[T, N]` time-major (N cells in routing order), parameters and states of a
//! batch `[P, S, N]`, discharge at outlets `[S, T, G]`. Fluxes of the operators are in mm per step;
//! discharge in m³/s.

pub mod adjoint;
pub mod gr;
pub mod lanes;
pub mod network;
pub mod nn;
pub mod real;
pub mod registry;
pub mod routing;
pub mod simulation;
pub mod structure;

pub use real::Real;
