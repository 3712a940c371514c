//! L-BFGS-B, configured to reproduce smash's call to `scipy.optimize.minimize(method="L-BFGS-B", jac=True)`.
//!
//! The solver is `basin`'s port of the L-BFGS-B 3.0 Fortran code (BSD-3-Clause; its notice travels in basin's
//! `COPYRIGHT`), which takes the same iterates as scipy's. This module maps scipy's driver around it: the
//! stopping rules `maxiter` (checked after each new iterate, so 0 acts as 1), `factr`, `pgtol` and `maxfun`
//! (15000, scipy's default, which smash keeps), the line-search budget `maxls`, and scipy's memoisation of the
//! last evaluated point.

use std::cell::{Cell, RefCell};

use basin::{
    BoxBounds, ConstraintDescription, ConstraintSet, ConstraintSolveError, Constraints, CostFunction, Executor,
    FirstOrderState, Gradient, GradientState, Lbfgsb, LineSearch, LineSearchBounds, LineSearchOutcome,
    LineSearchResult, MoreThuente, Problem, State, StepOutcome, TerminationCode, TerminationReport,
};

use super::evaluator::{Counter, inf_norm, validate};
use super::{Bounds, Flow, Iteration, LbfgsbOptions, Objective, Observer, OptimError, Outcome, Termination};

/// scipy's default `maxfun`, which smash does not change.
const MAXFUN: usize = 15000;
/// The constant smash multiplies `factr` by to get scipy's `ftol`.
const SMASH_EPS: f64 = 2.22e-16;

/// Minimises `f` by L-BFGS-B from `x0` inside `bounds` (`±inf` sides are unbounded).
///
/// The objective is always called with `gradient = true`. A point equal to the last evaluated one is not
/// evaluated again (as scipy's memoisation).
///
/// # Returns
///
/// The last iterate and its cost; `iterations` is scipy's `nit`. The observer is called for `x0` and after every
/// new iterate, as scipy's callback, with the infinity norm of the gradient there.
///
/// # Errors
///
/// Invalid bounds, `x0` or options, a NaN cost or non-finite gradient, or an objective error.
pub fn lbfgsb(
    x0: &[f64],
    bounds: &Bounds,
    options: &LbfgsbOptions,
    f: &mut dyn Objective,
    obs: &mut dyn Observer,
) -> Result<Outcome, OptimError> {
    validate(x0, bounds)?;
    options.validate()?;
    let n = x0.len();
    let counter = RefCell::new(Counter::new(f, n));
    let iteration = Cell::new(0);
    let problem = Adapter {
        counter: &counter,
        iteration: &iteration,
        lower: bounds.lower.clone(),
        upper: bounds.upper.clone(),
        last: RefCell::new(None),
    };
    // scipy: ftol = 2.22e-16·factr, then factr' = ftol / eps, and the Fortran tests against factr'·eps.
    let tolerance = SMASH_EPS * options.factr / f64::EPSILON * f64::EPSILON;
    let maxls = u32::try_from(options.maxls).unwrap_or(u32::MAX);
    let solver = Lbfgsb::with_line_search(ScipyLineSearch { inner: MoreThuente::new().maxfev(maxls), maxls })
        .with_m_capacity(options.maxcor)
        .with_relative_cost_reduction_tolerance(tolerance)
        .with_absolute_projected_gradient_tolerance(options.pgtol);
    let mut stepper =
        Executor::new(problem, solver, FirstOrderState::new(x0.to_vec())).into_stepper().map_err(solve_error)?;

    let evaluations = || counter.borrow().evaluations;
    let report = |state: &FirstOrderState<Vec<f64>>, index: usize, obs: &mut dyn Observer| {
        let it = Iteration {
            index,
            x: state.param(),
            cost: state.cost(),
            gradient_norm: state.gradient().map(|g| inf_norm(g)),
            evaluations: evaluations(),
        };
        obs.iteration(&it)
    };

    let mut nit = 0;
    let termination = if report(stepper.state(), 0, obs) == Flow::Stop {
        Termination::Interrupted
    } else {
        loop {
            iteration.set(nit + 1);
            let outcome = stepper.step().map_err(solve_error)?;
            let state = stepper.state();
            if state.iter() as usize > nit {
                // scipy's NEW_X: callback, then maxiter and maxfun, before the convergence tests.
                nit = state.iter() as usize;
                if report(state, nit, obs) == Flow::Stop {
                    break Termination::Interrupted;
                }
                if nit >= options.maxiter {
                    break Termination::MaxIterations;
                }
                if evaluations() > MAXFUN {
                    break Termination::MaxEvaluations;
                }
            }
            if let StepOutcome::Stopped(report) = outcome {
                break termination(&report);
            }
        }
    };
    let state = stepper.state();
    Ok(Outcome {
        x: state.param().clone(),
        cost: state.cost(),
        iterations: nit,
        evaluations: evaluations(),
        termination,
    })
}

fn termination(report: &TerminationReport) -> Termination {
    match report.code() {
        TerminationCode::ProjectedGradientTolerance => Termination::ProjectedGradient,
        TerminationCode::RelativeCostTolerance => Termination::RelativeReduction,
        _ => Termination::LineSearchFailed { message: format!("{:?}", report.termination) },
    }
}

fn solve_error(e: ConstraintSolveError<OptimError>) -> OptimError {
    match e {
        ConstraintSolveError::Evaluation(e) => e,
        other => OptimError::Lbfgsb(other.to_string()),
    }
}

/// The objective as basin sees it, memoising the last point like scipy's `MemoizeJac`.
struct Adapter<'a, 'f> {
    counter: &'a RefCell<Counter<'f>>,
    /// The iteration in progress, for error messages.
    iteration: &'a Cell<usize>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    last: RefCell<Option<Memo>>,
}

/// The last evaluated point, its cost and gradient.
type Memo = (Vec<f64>, f64, Vec<f64>);

impl Adapter<'_, '_> {
    fn evaluate(&self, x: &[f64]) -> Result<(f64, Vec<f64>), OptimError> {
        if let Some((last, cost, g)) = &*self.last.borrow()
            && last.as_slice() == x
        {
            return Ok((*cost, g.clone()));
        }
        let (cost, g) = self.counter.borrow_mut().cost_gradient(x, self.iteration.get())?;
        *self.last.borrow_mut() = Some((x.to_vec(), cost, g.clone()));
        Ok((cost, g))
    }
}

impl Constraints for Adapter<'_, '_> {
    type Set = ConstraintSet<BoxBounds<Vec<f64>>>;
    fn constraints(&self) -> <Self::Set as ConstraintDescription>::Borrowed<'_> {
        ConstraintSet::new().with_bounds(BoxBounds::new(Some(&self.lower), Some(&self.upper)))
    }
}

impl CostFunction for Adapter<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    type Error = OptimError;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, OptimError> {
        self.evaluate(x).map(|(cost, _)| cost)
    }
}

impl Gradient for Adapter<'_, '_> {
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, OptimError> {
        self.evaluate(x).map(|(_, g)| g)
    }
    fn cost_and_gradient(&self, x: &Vec<f64>) -> Result<(f64, Vec<f64>), OptimError> {
        self.evaluate(x)
    }
}

/// Moré–Thuente as L-BFGS-B's `lnsrlb` drives it: when `maxls` trials pass without an acceptable step the search
/// fails (L-BFGS-B then drops its curvature pairs and restarts), instead of settling for the best trial.
struct ScipyLineSearch {
    inner: MoreThuente<f64>,
    maxls: u32,
}

impl<P> LineSearch<P, Vec<f64>, f64> for ScipyLineSearch
where
    P: CostFunction<Param = Vec<f64>, Output = f64> + Gradient<Gradient = Vec<f64>>,
{
    type Error = P::Error;

    fn reset(&mut self) {
        LineSearch::<P, Vec<f64>, f64>::reset(&mut self.inner);
    }

    fn next(
        &mut self,
        problem: &mut Problem<P>,
        param: &Vec<f64>,
        cost: f64,
        gradient: &Vec<f64>,
        direction: &Vec<f64>,
    ) -> Result<f64, Self::Error> {
        self.inner.next(problem, param, cost, gradient, direction)
    }

    fn next_with_bounds(
        &mut self,
        problem: &mut Problem<P>,
        param: &Vec<f64>,
        cost: f64,
        gradient: &Vec<f64>,
        direction: &Vec<f64>,
        bounds: LineSearchBounds<f64>,
    ) -> Result<LineSearchResult<Vec<f64>, f64>, Self::Error> {
        let before = problem.counts().cost_evals;
        let result = self.inner.next_with_bounds(problem, param, cost, gradient, direction, bounds)?;
        let trials = problem.counts().cost_evals - before;
        // A search that ends with a Wolfe point or a warning returns the evaluation of its last trial; one that
        // ran out of trials returns a bare step.
        if result.evaluation.is_none() && trials >= u64::from(self.maxls) {
            return Ok(LineSearchResult::new(LineSearchOutcome::Failed));
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Evaluation, ObjectiveError, Silent};

    fn rosenbrock(x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError> {
        assert!(gradient, "L-BFGS-B always asks for the gradient");
        let (t, s) = (x[1] - x[0] * x[0], 1.0 - x[0]);
        let g = vec![-400.0 * x[0] * t - 2.0 * s, 200.0 * t];
        Ok(Evaluation { cost: 100.0 * t * t + s * s, gradient: Some(g) })
    }

    #[test]
    fn converges_on_rosenbrock_inside_bounds() {
        let bounds = Bounds { lower: vec![-2.0, -2.0], upper: vec![2.0, 2.0] };
        let out = lbfgsb(&[-1.2, 1.0], &bounds, &LbfgsbOptions::default(), &mut rosenbrock, &mut Silent).unwrap();
        assert!(out.cost < 1e-12, "{out:?}");
        assert!(matches!(out.termination, Termination::RelativeReduction | Termination::ProjectedGradient));
    }

    #[test]
    fn observer_sees_each_iterate_and_can_stop() {
        let mut seen = Vec::new();
        let mut obs = |it: &Iteration<'_>| {
            seen.push((it.index, it.x.to_vec(), it.cost));
            if it.index == 3 { Flow::Stop } else { Flow::Continue }
        };
        let bounds = Bounds::unbounded(2);
        let out = lbfgsb(&[-1.2, 1.0], &bounds, &LbfgsbOptions::default(), &mut rosenbrock, &mut obs).unwrap();
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
        assert_eq!((out.termination, out.iterations), (Termination::Interrupted, 3));
        assert_eq!((&out.x, out.cost), (&seen[3].1, seen[3].2));
    }

    #[test]
    fn objective_errors_pass_through() {
        let mut calls = 0;
        let mut f = |x: &[f64], g: bool| {
            calls += 1;
            if calls == 3 {
                Err(ObjectiveError::new(std::io::Error::other("adjoint diverged")))
            } else {
                rosenbrock(x, g)
            }
        };
        let e =
            lbfgsb(&[-1.2, 1.0], &Bounds::unbounded(2), &LbfgsbOptions::default(), &mut f, &mut Silent).unwrap_err();
        assert!(matches!(e, OptimError::Objective { evaluation: 3, .. }), "{e}");
        assert_eq!(std::error::Error::source(&e).unwrap().to_string(), "adjoint diverged");
    }

    #[test]
    fn rejects_start_outside_bounds() {
        let bounds = Bounds { lower: vec![-1.0, -1.0], upper: vec![1.0, 1.0] };
        let e = lbfgsb(&[-1.2, 1.0], &bounds, &LbfgsbOptions::default(), &mut rosenbrock, &mut Silent).unwrap_err();
        assert!(matches!(e, OptimError::OutsideBounds { index: 0, .. }), "{e}");
    }
}
