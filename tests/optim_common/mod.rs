//! Shared helpers of the optimizer tests: the analytic objectives of `tests/reference/optim/functions.py`
//! (same operations in the same order, so costs and gradients are bitwise equal) and a runner for the reference
//! scripts. Floats cross the process boundary as IEEE-754 bit patterns, so nothing is lost in JSON.

#![allow(dead_code)]

#[path = "../support/python.rs"]
mod python_ref;

use hydrograd::optim::{Evaluation, ObjectiveError};
use serde_json::{Value, json};

/// The test objective: Rosenbrock, or `Σ c_i (x_i − a_i)²`.
#[derive(Clone, Debug)]
pub enum Function {
    Rosenbrock,
    Quadratic { a: Vec<f64>, c: Vec<f64> },
}

impl Function {
    /// Cost and gradient, in the operation order of functions.py.
    pub fn eval(&self, x: &[f64]) -> (f64, Vec<f64>) {
        match self {
            Self::Rosenbrock => {
                let n = x.len();
                let mut f = 0.0;
                let mut g = vec![0.0; n];
                for i in 0..n - 1 {
                    let t = x[i + 1] - x[i] * x[i];
                    let s = 1.0 - x[i];
                    f += 100.0 * (t * t) + s * s;
                    g[i] += -400.0 * x[i] * t - 2.0 * s;
                    g[i + 1] += 200.0 * t;
                }
                (f, g)
            }
            Self::Quadratic { a, c } => {
                let mut f = 0.0;
                let mut g = Vec::with_capacity(x.len());
                for ((xi, ai), ci) in x.iter().zip(a).zip(c) {
                    let d = xi - ai;
                    f += ci * (d * d);
                    g.push(2.0 * ci * d);
                }
                (f, g)
            }
        }
    }

    /// The function's fields of a reference-script request.
    pub fn spec(&self) -> Value {
        match self {
            Self::Rosenbrock => json!({ "function": "rosenbrock" }),
            Self::Quadratic { a, c } => json!({ "function": "quadratic", "a": bits(a), "c": bits(c) }),
        }
    }
}

/// An objective that evaluates `function` and logs every call as `(x, cost, gradient requested)`.
pub struct Logged {
    pub function: Function,
    pub log: Vec<(Vec<f64>, f64, bool)>,
}

impl Logged {
    pub fn new(function: Function) -> Self {
        Self { function, log: Vec::new() }
    }
}

impl hydrograd::optim::Objective for Logged {
    fn evaluate(&mut self, x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError> {
        let (cost, g) = self.function.eval(x);
        self.log.push((x.to_vec(), cost, gradient));
        Ok(Evaluation { cost, gradient: gradient.then_some(g) })
    }
}

pub use python_ref::{bits, float, floats};

/// Runs `tests/reference/optim/<script>` (see `support/python.rs`).
pub fn python(script: &str, request: &Value) -> Value {
    python_ref::run_json(&python_ref::reference_script("optim", script), request, "scipy and smash 1.3.0")
}
