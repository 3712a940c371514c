//! Errors of the optimizers.

use super::ObjectiveError;

/// An optimizer failure. Objective errors are passed through with the evaluation that raised them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptimError {
    #[error("empty control vector: nothing to optimize")]
    Empty,
    #[error("bounds have {lower} lower and {upper} upper values for {n} controls")]
    BoundsLength { n: usize, lower: usize, upper: usize },
    #[error("control {index}: invalid bounds [{lower}, {upper}]")]
    InvalidBounds { index: usize, lower: f64, upper: f64 },
    #[error("first guess x0[{index}] = {value} is not finite")]
    NonFiniteStart { index: usize, value: f64 },
    #[error("first guess x0[{index}] = {value} lies outside its bounds [{lower}, {upper}]")]
    OutsideBounds { index: usize, value: f64, lower: f64, upper: f64 },
    #[error("objective returned a NaN cost at evaluation {evaluation} (iteration {iteration})")]
    NanCost { iteration: usize, evaluation: usize },
    #[error(
        "objective returned no gradient at evaluation {evaluation} (iteration {iteration}) although one was requested"
    )]
    MissingGradient { iteration: usize, evaluation: usize },
    #[error(
        "objective returned a gradient of length {len} for {n} controls at evaluation {evaluation} (iteration {iteration})"
    )]
    GradientLength { iteration: usize, evaluation: usize, len: usize, n: usize },
    #[error("objective returned gradient[{index}] = {value} at evaluation {evaluation} (iteration {iteration})")]
    NonFiniteGradient { iteration: usize, evaluation: usize, index: usize, value: f64 },
    #[error("objective failed at evaluation {evaluation} (iteration {iteration})")]
    Objective {
        iteration: usize,
        evaluation: usize,
        #[source]
        source: ObjectiveError,
    },
    #[error("invalid optimizer option `{key}` = {value}: {reason}")]
    InvalidOption { key: &'static str, value: String, reason: &'static str },
    #[error("L-BFGS-B: {0}")]
    Lbfgsb(String),
}
