//! The derivative-free methods, one module each (`shared/spec/samplers.md`).

pub mod bayes;
pub mod cmaes;
pub mod dds;
pub mod de;
pub mod demcz;
pub mod dream;
pub mod ga;
pub mod gp;
pub mod gp_model;
pub mod grid;
pub mod lhs;
pub mod linalg;
pub mod mc;
pub mod mcmc;
pub mod mle;
pub mod nelder_mead;
pub mod nsgaii;
pub mod padds;
pub mod pso;
pub mod rope;
pub mod sa;
pub mod sceua;
pub mod tpe;
mod unit_history;
