//! Input checks and a counting wrapper around the objective that rejects unusable values.

use super::{Bounds, Objective, OptimError};

/// Checks the bounds and the first guess: same lengths, `lower ≤ upper`, no NaN, `x0` finite and inside.
pub(crate) fn validate(x0: &[f64], bounds: &Bounds) -> Result<(), OptimError> {
    let n = x0.len();
    if n == 0 {
        return Err(OptimError::Empty);
    }
    if bounds.lower.len() != n || bounds.upper.len() != n {
        return Err(OptimError::BoundsLength { n, lower: bounds.lower.len(), upper: bounds.upper.len() });
    }
    for (index, ((&value, &lower), &upper)) in x0.iter().zip(&bounds.lower).zip(&bounds.upper).enumerate() {
        // NaN bounds, inverted ones, and a lower bound of +inf or an upper bound of -inf leave no feasible point.
        if lower.is_nan() || upper.is_nan() || lower > upper || lower == f64::INFINITY || upper == f64::NEG_INFINITY {
            return Err(OptimError::InvalidBounds { index, lower, upper });
        }
        if !value.is_finite() {
            return Err(OptimError::NonFiniteStart { index, value });
        }
        if value < lower || value > upper {
            return Err(OptimError::OutsideBounds { index, value, lower, upper });
        }
    }
    Ok(())
}

/// Infinity norm of a gradient (smash's `_inf_norm`).
pub(crate) fn inf_norm(g: &[f64]) -> f64 {
    g.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Counts evaluations and turns bad objective output into [`OptimError`]s that name the evaluation.
pub(crate) struct Counter<'f> {
    objective: &'f mut dyn Objective,
    n: usize,
    /// Evaluations so far.
    pub evaluations: usize,
}

impl<'f> Counter<'f> {
    pub fn new(objective: &'f mut dyn Objective, n: usize) -> Self {
        Self { objective, n, evaluations: 0 }
    }

    /// The cost alone (`gradient = false`). `iteration` only labels errors.
    pub fn cost(&mut self, x: &[f64], iteration: usize) -> Result<f64, OptimError> {
        let evaluation = self.evaluations + 1;
        let result = self.objective.evaluate(x, false);
        self.evaluations = evaluation;
        let e = result.map_err(|source| OptimError::Objective { iteration, evaluation, source })?;
        if e.cost.is_nan() {
            return Err(OptimError::NanCost { iteration, evaluation });
        }
        Ok(e.cost)
    }

    /// Cost and gradient from one call (`gradient = true`). `iteration` only labels errors.
    pub fn cost_gradient(&mut self, x: &[f64], iteration: usize) -> Result<(f64, Vec<f64>), OptimError> {
        let evaluation = self.evaluations + 1;
        let result = self.objective.evaluate(x, true);
        self.evaluations = evaluation;
        let e = result.map_err(|source| OptimError::Objective { iteration, evaluation, source })?;
        if e.cost.is_nan() {
            return Err(OptimError::NanCost { iteration, evaluation });
        }
        let g = e.gradient.ok_or(OptimError::MissingGradient { iteration, evaluation })?;
        if g.len() != self.n {
            return Err(OptimError::GradientLength { iteration, evaluation, len: g.len(), n: self.n });
        }
        if let Some((index, &value)) = g.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(OptimError::NonFiniteGradient { iteration, evaluation, index, value });
        }
        Ok((e.cost, g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Evaluation, ObjectiveError};

    #[test]
    fn validate_names_the_offending_control() {
        let b = Bounds { lower: vec![0.0, f64::NEG_INFINITY], upper: vec![1.0, 2.0] };
        assert!(validate(&[0.5, -1e300], &b).is_ok());
        let e = validate(&[0.5, 3.0], &b).unwrap_err();
        assert!(matches!(e, OptimError::OutsideBounds { index: 1, .. }), "{e}");
        assert!(e.to_string().contains("x0[1] = 3"), "{e}");
        let e = validate(&[f64::NAN, 0.0], &b).unwrap_err();
        assert!(matches!(e, OptimError::NonFiniteStart { index: 0, .. }));
        let bad = Bounds { lower: vec![1.0, 0.0], upper: vec![0.0, 1.0] };
        assert!(matches!(validate(&[0.5, 0.5], &bad), Err(OptimError::InvalidBounds { index: 0, .. })));
        assert!(matches!(validate(&[0.5], &b), Err(OptimError::BoundsLength { n: 1, lower: 2, upper: 2 })));
        assert!(matches!(validate(&[], &Bounds::unbounded(0)), Err(OptimError::Empty)));
    }

    #[test]
    fn counter_rejects_nan_and_bad_gradients() {
        let mut f = |x: &[f64], _g: bool| -> Result<Evaluation, ObjectiveError> {
            match x[0] as i32 {
                0 => Ok(Evaluation { cost: f64::NAN, gradient: None }),
                1 => Ok(Evaluation { cost: 1.0, gradient: None }),
                2 => Ok(Evaluation { cost: 1.0, gradient: Some(vec![1.0, 2.0]) }),
                3 => Ok(Evaluation { cost: 1.0, gradient: Some(vec![f64::INFINITY]) }),
                _ => Err(ObjectiveError::new(std::io::Error::other("model exploded"))),
            }
        };
        let mut c = Counter::new(&mut f, 1);
        assert!(matches!(c.cost(&[0.0], 7), Err(OptimError::NanCost { iteration: 7, evaluation: 1 })));
        assert!(matches!(c.cost_gradient(&[1.0], 7), Err(OptimError::MissingGradient { evaluation: 2, .. })));
        assert!(matches!(c.cost_gradient(&[2.0], 7), Err(OptimError::GradientLength { len: 2, n: 1, .. })));
        assert!(matches!(c.cost_gradient(&[3.0], 7), Err(OptimError::NonFiniteGradient { index: 0, .. })));
        let e = c.cost(&[4.0], 8).unwrap_err();
        assert_eq!(e.to_string(), "objective failed at evaluation 5 (iteration 8)");
        assert_eq!(std::error::Error::source(&e).unwrap().to_string(), "model exploded");
        assert_eq!(c.evaluations, 5);
    }
}
