//! Tests of [`super::NelderMead`].

use super::*;
use crate::samplers::driver::{EvaluationError, Termination};
use crate::samplers::functions::{ackley, griewank, rosenbrock};
use crate::samplers::methods::bayes::testing::{self, run_recorded};
use crate::samplers::{Flow, SearchOutcome, search};

/// Runs the search; returns the outcome and every batch asked (checked within the bounds).
fn run(
    space: Space,
    options: NelderMeadOptions,
    f: fn(&[f64]) -> f64,
    budget: usize,
) -> (SearchOutcome, Vec<Vec<Proposal>>) {
    let mut method = NelderMead::new(space.clone(), options, 0, budget).unwrap();
    run_recorded(&mut method, &space, &f, budget)
}

fn x0(v: &[f64]) -> NelderMeadOptions {
    NelderMeadOptions { x0: Some(v.to_vec()), ..Default::default() }
}

#[test]
fn follows_scipy_on_rosenbrock() {
    // scipy 1.17: minimize(rosen, [-1.2, 1], method="Nelder-Mead", bounds=[(-10, 10)] * 2)
    // evaluates 159 points (85 iterations) and ends at f = 8.177661197416674e-10
    let (out, batches) = run(testing::boxed(2, -10.0, 10.0), x0(&[-1.2, 1.0]), rosenbrock, 10_000);
    let points: Vec<Vec<f64>> = batches.iter().flatten().map(|p| p.x.clone()).collect();
    let scipy = [
        [-1.2, 1.0],
        [-1.26, 1.0],
        [-1.2, 1.05],
        [-1.14, 1.0499999999999998],
        [-1.0799999999999996, 1.0749999999999997],
        [-1.0799999999999994, 1.125],
        [-1.0199999999999991, 1.1875],
        [-0.9599999999999993, 1.1499999999999997],
    ];
    for (k, expected) in scipy.iter().enumerate() {
        assert_eq!(points[k], expected, "evaluation {k}");
    }
    assert_eq!(out.evaluations, 159);
    assert_eq!(out.best_value, 8.177661197416674e-10);
    assert_eq!(out.best_x, [1.0000220217835696, 1.0000422197517715]);
    assert!(matches!(out.termination, Termination::Method(ref m) if m.starts_with("converged")));
    // the initial simplex is one batch, then one point at a time except shrinks
    assert_eq!(batches[0].len(), 3);
    assert!(batches[1..].iter().all(|b| b.len() == 1 || b.len() == 2));
}

#[test]
fn clips_and_reflects_at_the_bounds_as_scipy() {
    // scipy: x0 = [0, 0.79] in [-2, 0.8]²: the zero coordinate becomes 0.00025, 0.79·1.05 is reflected
    // below 0.8 to 0.7705; 300 evaluations, best f = 0.040000094818405454 at x = (0.8, 0.6399692074025984)
    let (out, batches) = run(testing::boxed(2, -2.0, 0.8), x0(&[0.0, 0.79]), rosenbrock, 10_000);
    let first: Vec<Vec<f64>> = batches[0].iter().map(|p| p.x.clone()).collect();
    assert_eq!(first, [vec![0.0, 0.79], vec![0.00025, 0.79], vec![0.0, 0.7705]]);
    assert_eq!(batches[1][0].x, [0.00025, 0.7705]);
    assert_eq!(out.evaluations, 300);
    assert_eq!(out.best_value, 0.040000094818405454);
    assert_eq!(out.best_x, [0.8, 0.6399692074025984]);
}

#[test]
fn reaches_the_minimum_from_the_prior_medians() {
    // default x0 = the medians (0, 0, 0) of [-2, 2]³; scipy's default maxfev 600
    let (out, _) = run(testing::boxed(3, -2.0, 2.0), NelderMeadOptions::default(), rosenbrock, 10_000);
    assert!(out.best_value < 1e-8, "{}", out.best_value);
    assert!(out.evaluations <= 600);
    // Griewank from near its optimum, Ackley inside its central basin
    let (out, _) = run(testing::boxed(2, -20.0, 20.0), x0(&[1.5, -1.0]), griewank, 10_000);
    assert!(out.best_value < 1e-7, "{}", out.best_value);
    let (out, _) = run(testing::boxed(2, -32.768, 32.768), x0(&[0.2, -0.3]), ackley, 10_000);
    assert!(out.best_value < 1e-3, "{}", out.best_value);
}

#[test]
fn evaluation_limits_follow_scipy_defaults_and_the_budget() {
    // default maxfev = maxiter = 200 n: 400 in 2-D on Ackley from far away
    let (out, _) = run(testing::boxed(2, -32.768, 32.768), x0(&[20.0, -13.0]), ackley, 10_000);
    assert!(out.evaluations <= 400);
    let options = NelderMeadOptions { maxfev: Some(50), ..x0(&[-1.2, 1.0]) };
    let (out, _) = run(testing::boxed(2, -10.0, 10.0), options, rosenbrock, 10_000);
    assert_eq!(out.evaluations, 50);
    assert_eq!(out.termination, Termination::Method("maxfev: 50 evaluations".into()));
    let options = NelderMeadOptions { maxiter: Some(10), ..x0(&[-1.2, 1.0]) };
    let (out, _) = run(testing::boxed(2, -10.0, 10.0), options, rosenbrock, 10_000);
    assert_eq!(out.termination, Termination::Method("maxiter: 10 iterations".into()));
    // the budget cuts the initial simplex (5 of 6 points) and later steps exactly
    for budget in [5, 6, 7, 37] {
        let (out, _) = run(testing::boxed(5, -10.0, 10.0), x0(&[1.0; 5]), rosenbrock, budget);
        assert_eq!(out.evaluations, budget);
        assert_eq!(out.termination, Termination::Budget);
    }
}

#[test]
fn shrink_points_are_one_batch() {
    // on a function made of plateaus the reflections and contractions fail, so the simplex shrinks
    let steps = |x: &[f64]| x.iter().map(|v| (v * 3.0).floor().abs()).sum::<f64>();
    let (_, batches) = run(testing::boxed(4, -5.0, 5.0), x0(&[2.0, -2.0, 1.0, 3.0]), steps, 300);
    assert!(batches.iter().any(|b| b.len() == 4), "no shrink batch");
    assert!(batches[1..].iter().all(|b| b.len() == 1 || b.len() == 4));
}

#[test]
fn is_deterministic() {
    // the method draws nothing at random: every seed gives the same trace
    let space = testing::boxed(3, -10.0, 10.0);
    let trace = |seed: u32| {
        let mut m = NelderMead::new(space.clone(), x0(&[3.0, -2.0, 5.0]), seed, 500).unwrap();
        let mut all = Vec::new();
        let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            all.extend(b.iter().map(|p| p.x.clone()));
            Ok(b.iter().map(|p| rosenbrock(&p.x)).collect())
        };
        search(&mut m, &mut objective, 500, &mut |_| Flow::Continue).unwrap();
        all
    };
    let a = trace(1);
    assert!(a.len() > 100, "{} evaluations", a.len());
    assert_eq!(a, trace(1));
    assert_eq!(a, trace(2));
}

#[test]
fn adaptive_coefficients_depend_on_the_dimension() {
    let m = NelderMead::new(
        testing::boxed(4, -1.0, 1.0),
        NelderMeadOptions { adaptive: true, ..Default::default() },
        0,
        10,
    )
    .unwrap();
    assert_eq!(m.coefficients, (1.0, 1.5, 0.625, 0.75));
    let m = NelderMead::new(testing::boxed(4, -1.0, 1.0), NelderMeadOptions::default(), 0, 10).unwrap();
    assert_eq!(m.coefficients, (1.0, 2.0, 0.5, 0.5));
}

#[test]
fn invalid_options_name_the_key() {
    let space = testing::boxed(2, -1.0, 1.0);
    let err = |o: NelderMeadOptions| NelderMead::new(space.clone(), o, 0, 10).unwrap_err();
    assert!(err(x0(&[0.0])).starts_with("x0:"));
    assert!(err(x0(&[0.0, 3.0])).starts_with("x0: x1 = 3"));
    assert!(err(NelderMeadOptions { xatol: -1.0, ..Default::default() }).starts_with("xatol:"));
    assert!(err(NelderMeadOptions { fatol: f64::NAN, ..Default::default() }).starts_with("fatol:"));
    let parsed: Result<NelderMeadOptions, _> = toml::from_str("xtol = 1e-3");
    assert!(parsed.unwrap_err().to_string().contains("xtol"));
    let parsed: NelderMeadOptions = toml::from_str("adaptive = true\nmaxfev = 20").unwrap();
    assert_eq!(parsed, NelderMeadOptions { adaptive: true, maxfev: Some(20), ..Default::default() });
}
