//! Adaptive first-order optimizers (Adam, SGD, Adagrad, RMSprop), as smash's `_adaptive_optimize` runs the
//! classes of `smash/factory/net/_optimizers.py`.
//!
//! Each iteration updates `x` from the gradient at the previous point, clips it to the bounds, and evaluates the
//! cost and gradient there. The update formulas follow smash's numpy expressions operation by operation, so the
//! iterates are bitwise those of smash for the same gradients.

use serde::Deserialize;

use super::evaluator::{Counter, inf_norm, validate};
use super::{AdaptiveOptions, Bounds, Flow, Iteration, Objective, Observer, OptimError, Outcome, Termination};

/// Which adaptive optimizer (smash's `optimizer` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adaptive {
    Adam,
    Sgd,
    Adagrad,
    Rmsprop,
}

impl Adaptive {
    /// smash's default learning rate: Adam 0.003, SGD 0.02, Adagrad 0.02, RMSprop 0.003.
    pub fn default_learning_rate(self) -> f64 {
        match self {
            Self::Adam | Self::Rmsprop => 0.003,
            Self::Sgd | Self::Adagrad => 0.02,
        }
    }
}

/// Adam's decay rates and the denominators' `eps` (smash's defaults).
const B1: f64 = 0.9;
const B2: f64 = 0.999;
const EPS: f64 = 1e-8;
/// SGD momentum (smash never changes the default 0).
const MOMENTUM: f64 = 0.0;
/// RMSprop decay of the squared-gradient average.
const RHO: f64 = 0.9;

/// Optimizer memory, `[n]` per vector, zero before the first update.
enum State {
    /// First and second moments.
    Adam { m: Vec<f64>, v: Vec<f64> },
    /// Smoothed gradient.
    Sgd { u: Vec<f64> },
    /// Sum of squared gradients.
    Adagrad { g2: Vec<f64> },
    /// Running mean of squared gradients.
    Rmsprop { eg: Vec<f64> },
}

impl State {
    fn new(kind: Adaptive, n: usize) -> Self {
        let zeros = vec![0.0; n];
        match kind {
            Adaptive::Adam => Self::Adam { m: zeros.clone(), v: zeros },
            Adaptive::Sgd => Self::Sgd { u: zeros },
            Adaptive::Adagrad => Self::Adagrad { g2: zeros },
            Adaptive::Rmsprop => Self::Rmsprop { eg: zeros },
        }
    }

    /// One update of `w` in place from the gradient `g`, with learning rate `lr`.
    fn update(&mut self, lr: f64, w: &mut [f64], g: &[f64]) {
        match self {
            Self::Adam { m, v } => {
                for i in 0..w.len() {
                    m[i] = B1 * m[i] + (1.0 - B1) * g[i];
                    v[i] = B2 * v[i] + (1.0 - B2) * (g[i] * g[i]);
                    // smash's bias correction divides by the constants (1 - b1), (1 - b2), not (1 - b^t).
                    let m_hat = m[i] / (1.0 - B1);
                    let v_hat = v[i] / (1.0 - B2);
                    w[i] -= lr * m_hat / (v_hat.sqrt() + EPS);
                }
            }
            Self::Sgd { u } => {
                for i in 0..w.len() {
                    u[i] = MOMENTUM * u[i] + (1.0 - MOMENTUM) * g[i];
                    w[i] -= lr * u[i];
                }
            }
            Self::Adagrad { g2 } => {
                for i in 0..w.len() {
                    g2[i] += g[i] * g[i];
                    w[i] -= lr * g[i] / (g2[i] + EPS).sqrt();
                }
            }
            Self::Rmsprop { eg } => {
                for i in 0..w.len() {
                    eg[i] = RHO * eg[i] + (1.0 - RHO) * (g[i] * g[i]);
                    w[i] -= lr * g[i] / (eg[i] + EPS).sqrt();
                }
            }
        }
    }
}

/// The best iterate seen, for early stopping and interrupts.
struct Best {
    iteration: usize,
    x: Vec<f64>,
    cost: f64,
}

/// Minimises `f` with an adaptive optimizer from `x0` inside `bounds`.
///
/// The objective is called with `gradient = true` at `x0` and once per iteration. With
/// `early_stopping = N > 0` the best iterate is kept (strictly lower cost; iteration 1 always counts), the run
/// stops when `iteration − best > N`, and `x` reverts to the best iterate whenever it is not the last one, as in
/// smash.
///
/// # Returns
///
/// `iterations` is smash's `n_iter`: the best iteration when `early_stopping > 0`, else `maxiter`. The observer
/// is called for `x0` and after every iteration except the one that triggers early stopping (as smash's
/// callback). On [`Flow::Stop`] the best point so far is returned.
///
/// # Errors
///
/// Invalid bounds, `x0` or options, a NaN cost or non-finite gradient, or an objective error.
pub fn adaptive(
    kind: Adaptive,
    x0: &[f64],
    bounds: &Bounds,
    options: &AdaptiveOptions,
    f: &mut dyn Objective,
    obs: &mut dyn Observer,
) -> Result<Outcome, OptimError> {
    validate(x0, bounds)?;
    options.validate()?;
    let n = x0.len();
    let lr = options.learning_rate.unwrap_or(kind.default_learning_rate());
    let mut counter = Counter::new(f, n);
    let mut state = State::new(kind, n);

    let mut x = x0.to_vec();
    let (mut cost, mut grad) = counter.cost_gradient(&x, 0)?;
    // Best over all evaluated points, returned on an interrupt.
    let mut overall = Best { iteration: 0, x: x.clone(), cost };
    let first = Iteration { index: 0, x: &x, cost, gradient_norm: Some(inf_norm(&grad)), evaluations: 1 };
    if obs.iteration(&first) == Flow::Stop {
        return Ok(Outcome { x, cost, iterations: 0, evaluations: 1, termination: Termination::Interrupted });
    }

    let early_stopping = options.early_stopping;
    // smash's `opt_info`: the best iterate from iteration 1 on, tracked only with early stopping.
    let mut best: Option<Best> = None;
    let mut termination = Termination::MaxIterations;
    for ite in 1..=options.maxiter {
        state.update(lr, &mut x, &grad);
        bounds.clip(&mut x);
        (cost, grad) = counter.cost_gradient(&x, ite)?;
        if cost < overall.cost {
            overall = Best { iteration: ite, x: x.clone(), cost };
        }

        if early_stopping > 0 {
            match &best {
                Some(b) if cost >= b.cost || cost.is_nan() => {
                    if ite - b.iteration > early_stopping {
                        termination = Termination::EarlyStopping { best_iteration: b.iteration };
                        break;
                    }
                }
                _ => best = Some(Best { iteration: ite, x: x.clone(), cost }),
            }
        }

        let it = Iteration {
            index: ite,
            x: &x,
            cost,
            gradient_norm: Some(inf_norm(&grad)),
            evaluations: counter.evaluations,
        };
        if obs.iteration(&it) == Flow::Stop {
            let b = overall;
            return Ok(Outcome {
                x: b.x,
                cost: b.cost,
                iterations: ite,
                evaluations: counter.evaluations,
                termination: Termination::Interrupted,
            });
        }
    }

    let evaluations = counter.evaluations;
    match best {
        Some(b) => {
            let iterations = b.iteration;
            if b.iteration < options.maxiter {
                x = b.x;
                cost = b.cost;
            }
            Ok(Outcome { x, cost, iterations, evaluations, termination })
        }
        None => Ok(Outcome { x, cost, iterations: options.maxiter, evaluations, termination }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Evaluation, ObjectiveError, Silent};

    fn quadratic(x: &[f64], _: bool) -> Result<Evaluation, ObjectiveError> {
        let cost = x.iter().map(|v| (v - 2.0) * (v - 2.0)).sum();
        Ok(Evaluation { cost, gradient: Some(x.iter().map(|v| 2.0 * (v - 2.0)).collect()) })
    }

    #[test]
    fn first_adam_step_is_lr_times_sign() {
        // With smash's bias correction m̂ = g, v̂ = g² on the first step, so w moves by lr·g/(|g| + eps).
        let mut state = State::new(Adaptive::Adam, 2);
        let mut w = vec![1.0, -1.0];
        state.update(0.1, &mut w, &[4.0, -0.5]);
        assert!((w[0] - (1.0 - 0.1 * 4.0 / (4.0 + EPS))).abs() < 1e-15, "{w:?}");
        assert!((w[1] - (-1.0 + 0.1 * 0.5 / (0.5 + EPS))).abs() < 1e-15, "{w:?}");
    }

    #[test]
    fn sgd_clips_to_bounds_and_counts() {
        // x0 = 0: SGD steps by lr·|g| ≈ 0.08, 0.077, 0.074 towards 2 until the upper bound 0.2 holds it.
        let bounds = Bounds { lower: vec![-1.0], upper: vec![0.2] };
        let options = AdaptiveOptions { maxiter: 5, ..Default::default() };
        let out = adaptive(Adaptive::Sgd, &[0.0], &bounds, &options, &mut quadratic, &mut Silent).unwrap();
        assert_eq!((out.x, out.evaluations, out.iterations), (vec![0.2], 6, 5));
        assert_eq!(out.cost, (0.2f64 - 2.0) * (0.2 - 2.0));
    }

    #[test]
    fn interrupt_returns_best_so_far() {
        // Adagrad with a huge rate overshoots: x1 = 0 + 10·4/√16 = 10 is worse than x0 = 0 (cost 64 > 4).
        let options = AdaptiveOptions { learning_rate: Some(10.0), maxiter: 50, early_stopping: 0 };
        let mut obs = |it: &Iteration<'_>| if it.index == 1 { Flow::Stop } else { Flow::Continue };
        let out =
            adaptive(Adaptive::Adagrad, &[0.0], &Bounds::unbounded(1), &options, &mut quadratic, &mut obs).unwrap();
        assert_eq!((out.x, out.cost, out.termination), (vec![0.0], 4.0, Termination::Interrupted));
    }

    #[test]
    fn early_stopping_reverts_to_the_best_iterate() {
        // Costs by iteration (x0 first, x ignored): 5, 3, 4, 4, 4 → best at 2; stop at 5 (5 − 2 > 2).
        let costs = [9.0, 5.0, 3.0, 4.0, 4.0, 4.0, 4.0];
        let mut calls = 0;
        let mut f = |_: &[f64], _: bool| {
            calls += 1;
            Ok(Evaluation { cost: costs[calls - 1], gradient: Some(vec![1.0]) })
        };
        let options = AdaptiveOptions { learning_rate: Some(0.5), maxiter: 10, early_stopping: 2 };
        let out = adaptive(Adaptive::Sgd, &[0.0], &Bounds::unbounded(1), &options, &mut f, &mut Silent).unwrap();
        assert_eq!(out.termination, Termination::EarlyStopping { best_iteration: 2 });
        assert_eq!((out.x, out.cost, out.iterations, out.evaluations), (vec![-1.0], 3.0, 2, 6));
    }
}
