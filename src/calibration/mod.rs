//! Calibration: the control vector (mapping, transform, bounds), the objective the optimizers minimise,
//! and the stages of `hydrograd train`.

pub mod control;
