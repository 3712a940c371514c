//! Calibration optimizers of smash, independent of the model.
//!
//! Every optimizer minimises an [`Objective`] over a control vector `x: [n]` that lives in the *transformed*
//! control space (smash's `control_tfm`, spec §5): the caller applies the transform, and gradients are with
//! respect to the transformed `x`. Bounds are given in that space too, `±inf` where a control is unbounded.
//!
//! | function | smash optimizer | evaluations |
//! |---|---|---|
//! | [`sbs`] | `sbs` (`_sbs_optimize`, Michel 1989) | cost only |
//! | [`lbfgsb`] | `lbfgsb` (scipy's L-BFGS-B, here the `basin` port of L-BFGS-B 3.0) | cost and gradient |
//! | [`adaptive`] | `adam`, `sgd`, `adagrad`, `rmsprop` (`factory/net/_optimizers.py`) | cost and gradient |
//!
//! All of them are deterministic: given the same sequence of objective values they request the same sequence of
//! points, with no randomness and no clock, so a run can be resumed by replaying a log of evaluations. A cost and
//! its gradient always come from one [`Objective::evaluate`] call.
//!
//! An [`Observer`] sees the first guess (index 0) and then every iteration as smash counts them; returning
//! [`Flow::Stop`] ends the run early with the best point so far ([`Termination::Interrupted`]). None of the
//! optimizers re-evaluates the final point: smash's closing forward run is the caller's job.

mod adaptive;
mod error;
mod evaluator;
mod lbfgsb;
mod options;
mod sbs;

pub use adaptive::{Adaptive, adaptive};
pub use error::OptimError;
pub use lbfgsb::lbfgsb;
pub use options::{AdaptiveOptions, AdaptiveTerminationCrit, LbfgsbOptions, Optimizer, SbsOptions, TerminationCrit};
pub use sbs::sbs;

/// Box bounds of the control vector, in the transformed space.
///
/// `lower[i] = -inf` / `upper[i] = +inf` mark a side as unbounded (smash's `nbd` 0, 1 or 3).
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    /// Lower bounds, `[n]`.
    pub lower: Vec<f64>,
    /// Upper bounds, `[n]`.
    pub upper: Vec<f64>,
}

impl Bounds {
    /// Bounds with every control unbounded on both sides.
    pub fn unbounded(n: usize) -> Self {
        Self { lower: vec![f64::NEG_INFINITY; n], upper: vec![f64::INFINITY; n] }
    }

    /// Clamps `x` into the box in place (a no-op on unbounded sides).
    pub fn clip(&self, x: &mut [f64]) {
        for ((xi, &l), &u) in x.iter_mut().zip(&self.lower).zip(&self.upper) {
            *xi = xi.max(l).min(u);
        }
    }
}

/// One objective evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The cost J(x) (dimensionless).
    pub cost: f64,
    /// dJ/dx, `[n]`, with respect to the transformed controls; `Some` whenever it was requested.
    pub gradient: Option<Vec<f64>>,
}

/// An error raised by the objective (the model), passed through the optimizers unchanged.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ObjectiveError(#[from] pub Box<dyn std::error::Error + Send + Sync>);

impl ObjectiveError {
    /// Wraps any error.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Box::new(error))
    }

    /// Wraps an error already boxed.
    pub fn from_boxed(error: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Self(error)
    }
}

/// The function to minimise.
pub trait Objective {
    /// Evaluates the cost at `x: [n]` and, when `gradient` is true, its gradient in the same call.
    fn evaluate(&mut self, x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError>;
}

impl<F> Objective for F
where
    F: FnMut(&[f64], bool) -> Result<Evaluation, ObjectiveError>,
{
    fn evaluate(&mut self, x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError> {
        self(x, gradient)
    }
}

/// The state reported after each iteration.
#[derive(Clone, Copy, Debug)]
pub struct Iteration<'a> {
    /// Iteration number as smash reports it; 0 is the first guess.
    pub index: usize,
    /// The current point, `[n]` (SBS: the best point so far).
    pub x: &'a [f64],
    /// The cost at `x`.
    pub cost: f64,
    /// Infinity norm of the (unprojected) gradient at `x`, which smash prints as `|proj g|`; `None` for SBS.
    pub gradient_norm: Option<f64>,
    /// Objective evaluations so far, the first guess included.
    pub evaluations: usize,
}

/// Whether an optimizer goes on after an [`Observer`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop now and return the best point so far (e.g. on Ctrl-C).
    Stop,
}

/// Receives every iteration.
pub trait Observer {
    /// Called once for the first guess (index 0) and then once per iteration.
    fn iteration(&mut self, it: &Iteration<'_>) -> Flow;
}

impl<F> Observer for F
where
    F: FnMut(&Iteration<'_>) -> Flow,
{
    fn iteration(&mut self, it: &Iteration<'_>) -> Flow {
        self(it)
    }
}

/// An observer that never stops the run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Observer for Silent {
    fn iteration(&mut self, _: &Iteration<'_>) -> Flow {
        Flow::Continue
    }
}

/// Why an optimizer stopped.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Termination {
    /// `maxiter` iterations were done.
    MaxIterations,
    /// SBS: the step `ddx` fell below 0.01 (smash's "CONVERGENCE: DDX < 0.01").
    StepSize,
    /// L-BFGS-B: the projected gradient's infinity norm fell to `pgtol` or below.
    ProjectedGradient,
    /// L-BFGS-B: the relative cost reduction fell to `factr·eps` or below.
    RelativeReduction,
    /// L-BFGS-B: more than scipy's 15000 evaluations.
    MaxEvaluations,
    /// L-BFGS-B: the line search failed with no curvature pairs left to drop ("ABNORMAL_TERMINATION_IN_LNSRCH").
    LineSearchFailed {
        /// The solver's explanation.
        message: String,
    },
    /// Adaptive optimizers: no improvement for `early_stopping` iterations; `x` is the best iterate.
    EarlyStopping {
        /// The iteration `x` comes from.
        best_iteration: usize,
    },
    /// The observer returned [`Flow::Stop`].
    Interrupted,
    /// A derivative-free method spent its `max_evaluations`.
    Budget,
    /// A derivative-free method stopped on its own criterion.
    Converged {
        /// The method's explanation.
        message: String,
    },
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The final control vector, `[n]` (transformed space).
    pub x: Vec<f64>,
    /// The cost at `x`, as evaluated during the run.
    pub cost: f64,
    /// Iterations as smash reports them in `n_iter` (see each optimizer).
    pub iterations: usize,
    /// Objective evaluations, the first guess included.
    pub evaluations: usize,
    /// Why the run stopped.
    pub termination: Termination,
}
