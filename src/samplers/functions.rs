//! Standard test functions of derivative-free methods (minimum 0), for the method tests and the
//! comparison with SPOTPY (`shared/spec/samplers.md` §4, with Ackley's standard formula).

use std::f64::consts::{E, PI};

/// Rosenbrock: `Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)²`, minimum 0 at `(1, …, 1)`.
pub fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum()
}

/// Griewank: `Σ x²/4000 − Π cos(x_j/√j) + 1`, minimum 0 at the origin.
pub fn griewank(x: &[f64]) -> f64 {
    let sum: f64 = x.iter().map(|v| v * v / 4000.0).sum();
    let product: f64 = x.iter().enumerate().map(|(j, v)| (v / ((j + 1) as f64).sqrt()).cos()).product();
    sum - product + 1.0
}

/// Ackley: `−20 exp(−0.2 √(Σx²/n)) − exp(Σ cos(2πx)/n) + 20 + e`, minimum 0 at the origin.
pub fn ackley(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let squares: f64 = x.iter().map(|v| v * v).sum();
    let cosines: f64 = x.iter().map(|v| (2.0 * PI * v).cos()).sum();
    (-20.0 * (-0.2 * (squares / n).sqrt()).exp() - (cosines / n).exp() + 20.0 + E).max(0.0)
}

/// A test function of a point `[n]`.
pub type TestFunction = fn(&[f64]) -> f64;

/// The usual search box of each function: Rosenbrock [−10, 10], Griewank [−20, 20] (SPOTPY's examples),
/// Ackley [−32.768, 32.768].
pub const BOXES: [(&str, TestFunction, f64); 3] =
    [("rosenbrock", rosenbrock, 10.0), ("griewank", griewank, 20.0), ("ackley", ackley, 32.768)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minima_are_zero() {
        assert_eq!(rosenbrock(&[1.0; 5]), 0.0);
        assert!(griewank(&[0.0; 10]).abs() < 1e-15);
        assert!(ackley(&[0.0; 30]).abs() < 1e-14);
        assert!((rosenbrock(&[0.0, 0.0]) - 1.0).abs() < 1e-15);
        assert!(ackley(&[1.0, 1.0]) > 3.6);
    }
}
