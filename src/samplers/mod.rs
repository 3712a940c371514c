//! Derivative-free search and sampling behind one ask/tell interface (`shared/spec/samplers.md`).
//!
//! A [`Sampler`] never calls the model: it *asks* for a batch of parameter sets and is *told* their
//! objective values, so the caller evaluates a whole batch at once (rayon on the CPU engine, one batched
//! launch on the GPU engine) and may replay stored values to resume a run. Every method minimises its
//! value; the Bayesian samplers read `−value` as the log-likelihood (pass `−ln L`, or a cost `J` to sample
//! `exp(−J)`). Non-finite values are worst.
//!
//! Given the same seed (`random_state`), options and told values, a sampler asks the same points: it draws
//! all its randomness from its own [`random::LegacyRandom`] (numpy's legacy stream) and never reads a clock
//! or the thread count.
//!
//! The module depends only on `std`, `serde`, `toml`, `thiserror` and `rand_mt`: no model types.

pub mod diagnostics;
pub mod driver;
pub mod functions;
pub mod likelihoods;
pub mod methods;
pub mod multi_functions;
pub mod objectives;
pub mod pareto;
pub mod prior;
pub mod random;
pub mod registry;
mod sampler;
pub mod space;

pub use driver::{BatchObjective, BatchRecord, Flow, SearchOutcome, search};
pub use prior::{Distribution, Prior};
pub use registry::Method;
pub use sampler::{Proposal, Sampler};
pub use space::{Parameter, Space};
