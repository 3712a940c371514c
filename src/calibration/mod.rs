//! Calibration: the control vector (mapping, transform, bounds), the objective the optimizers minimise,
//! and the stages of `hydrograd train`.

pub mod checkpoint;
pub mod control;
pub mod cost;
pub mod descriptors;
pub mod objective;
pub mod search;
pub mod train;
