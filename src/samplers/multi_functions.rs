//! Standard multi-objective test problems (every objective minimised, the box `[0, 1]ⁿ`), with the
//! hypervolume of their true Pareto fronts, for the tests of NSGA-II and PADDS and the comparison with
//! SPOTPY (`tests/spotpy_multiobjective.rs`).
//!
//! References: Zitzler, Deb & Thiele (2000), *Comparison of multiobjective evolutionary algorithms:
//! empirical results*, Evol. Comput. 8(2) (ZDT1, ZDT2); Deb, Thiele, Laumanns & Zitzler (2005), *Scalable
//! test problems for evolutionary multiobjective optimization* (DTLZ2).

use std::f64::consts::FRAC_PI_2;

/// ZDT1 (`n ≥ 2`): `f₁ = x₁`, `g = 1 + 9 Σ_{i≥2} x_i/(n−1)`, `f₂ = g (1 − √(f₁/g))`. The front is
/// `f₂ = 1 − √f₁` (convex), at `x₂ = … = x_n = 0`.
pub fn zdt1(x: &[f64]) -> Vec<f64> {
    let g = zdt_g(x);
    vec![x[0], g * (1.0 - (x[0] / g).sqrt())]
}

/// ZDT2 (`n ≥ 2`): as ZDT1 with `f₂ = g (1 − (f₁/g)²)`. The front is `f₂ = 1 − f₁²` (concave).
pub fn zdt2(x: &[f64]) -> Vec<f64> {
    let g = zdt_g(x);
    vec![x[0], g * (1.0 - (x[0] / g).powi(2))]
}

fn zdt_g(x: &[f64]) -> f64 {
    1.0 + 9.0 * x[1..].iter().sum::<f64>() / (x.len() - 1) as f64
}

/// DTLZ2 with 3 objectives (`n ≥ 3`): `g = Σ_{i≥3} (x_i − ½)²`, `f₁ = (1+g) cos(x₁π/2) cos(x₂π/2)`,
/// `f₂ = (1+g) cos(x₁π/2) sin(x₂π/2)`, `f₃ = (1+g) sin(x₁π/2)`. The front is the unit sphere's positive
/// octant, at `x₃ = … = x_n = ½`.
pub fn dtlz2(x: &[f64]) -> Vec<f64> {
    let g: f64 = x[2..].iter().map(|v| (v - 0.5).powi(2)).sum();
    let (a, b) = (x[0] * FRAC_PI_2, x[1] * FRAC_PI_2);
    vec![(1.0 + g) * a.cos() * b.cos(), (1.0 + g) * a.cos() * b.sin(), (1.0 + g) * a.sin()]
}

/// A vector-valued test function of a point `[n]`: its objectives `[K]`.
pub type MultiFunction = fn(&[f64]) -> Vec<f64>;

/// A test problem on `[0, 1]^dim`.
#[derive(Clone, Copy, Debug)]
pub struct MultiProblem {
    pub name: &'static str,
    pub f: MultiFunction,
    /// The usual number of parameters (30 for ZDT, `K + 9` for DTLZ2).
    pub dim: usize,
    /// Objectives `K`.
    pub objectives: usize,
    /// The reference point of the hypervolume, `[K]`: 1.1 in every objective.
    pub reference: &'static [f64],
    /// The hypervolume of the true front against `reference`.
    pub optimal_hypervolume: f64,
}

/// ZDT1: `1.1² − ∫₀¹ (1 − √x) dx = 1.21 − 1/3`.
pub const ZDT1: MultiProblem = MultiProblem {
    name: "zdt1",
    f: zdt1,
    dim: 30,
    objectives: 2,
    reference: &[1.1, 1.1],
    optimal_hypervolume: 1.21 - 1.0 / 3.0,
};

/// ZDT2: `1.1² − ∫₀¹ (1 − x²) dx = 1.21 − 2/3`.
pub const ZDT2: MultiProblem = MultiProblem {
    name: "zdt2",
    f: zdt2,
    dim: 30,
    objectives: 2,
    reference: &[1.1, 1.1],
    optimal_hypervolume: 1.21 - 2.0 / 3.0,
};

/// DTLZ2 with 3 objectives: `1.1³ − π/6` (the cube minus the sphere's octant, which no point of the front
/// dominates).
pub const DTLZ2: MultiProblem = MultiProblem {
    name: "dtlz2",
    f: dtlz2,
    dim: 12,
    objectives: 3,
    reference: &[1.1, 1.1, 1.1],
    optimal_hypervolume: 1.331 - std::f64::consts::FRAC_PI_6,
};

/// Helpers of the multi-objective method tests.
#[cfg(test)]
pub mod testing {
    use super::MultiFunction;
    use crate::samplers::driver::{EvaluationError, assert_within};
    use crate::samplers::pareto::hypervolume;
    use crate::samplers::{Flow, Proposal, Sampler, SearchOutcome, Space, search};

    /// A run of a multi-objective method: its outcome, every batch asked and every value told (`[E, K]`).
    pub struct MultiRun {
        pub outcome: SearchOutcome,
        pub batches: Vec<Vec<Proposal>>,
        pub values: Vec<f64>,
    }

    impl MultiRun {
        /// The hypervolume of every point evaluated against `reference`.
        pub fn hypervolume(&self, reference: &[f64]) -> f64 {
            hypervolume(&self.values, reference.len(), reference)
        }

        /// Every point asked, in order.
        pub fn points(&self) -> Vec<Vec<f64>> {
            self.batches.iter().flatten().map(|p| p.x.clone()).collect()
        }
    }

    /// Runs `method` on `f` for at most `budget` evaluations, each batch checked within `space`.
    pub fn run_multi(method: &mut dyn Sampler, space: &Space, f: MultiFunction, budget: usize) -> MultiRun {
        let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            Ok(b.iter().flat_map(|p| f(&p.x)).collect())
        };
        let (mut batches, mut values) = (Vec::new(), Vec::new());
        let outcome = search(method, &mut objective, budget, &mut |r| {
            assert_within(space, r.proposals);
            batches.push(r.proposals.to_vec());
            values.extend_from_slice(r.values);
            Flow::Continue
        })
        .unwrap();
        MultiRun { outcome, batches, values }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fronts_are_where_the_formulas_say() {
        let mut x = vec![0.0; 30];
        x[0] = 0.25;
        assert_eq!(zdt1(&x), [0.25, 0.5]);
        assert_eq!(zdt2(&x), [0.25, 0.9375]);
        x[1..].fill(1.0);
        assert_eq!(zdt1(&x)[1], 10.0 * (1.0 - (0.025f64).sqrt()));
        let mut y = vec![0.5; 12];
        y[0] = 0.0;
        y[1] = 0.0;
        let f = dtlz2(&y);
        assert!((f[0] - 1.0).abs() < 1e-15 && f[1].abs() < 1e-15 && f[2].abs() < 1e-15, "{f:?}");
        y[0] = 0.3;
        y[1] = 0.8;
        let f = dtlz2(&y);
        assert!((f.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-15, "{f:?}");
        assert!((ZDT1.optimal_hypervolume - 0.876_666_666_666_666_7).abs() < 1e-15);
        assert!((DTLZ2.optimal_hypervolume - 0.807_401_224_401_701_1).abs() < 1e-15);
    }
}
