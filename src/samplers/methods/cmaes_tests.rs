//! Tests of [`super::Cmaes`].

use super::*;
use crate::samplers::SearchOutcome;
use crate::samplers::driver::Termination;
use crate::samplers::functions::{ackley, griewank, rosenbrock};
use crate::samplers::methods::bayes::testing::{self, run_recorded};

/// Runs the search; returns the outcome and every batch asked (checked within the bounds).
fn run(
    space: Space,
    options: CmaesOptions,
    seed: u32,
    f: &dyn Fn(&[f64]) -> f64,
    budget: usize,
) -> (SearchOutcome, Vec<Vec<Proposal>>) {
    let mut method = Cmaes::new(space.clone(), options, seed, budget).unwrap();
    run_recorded(&mut method, &space, &f, budget)
}

/// A start drawn uniformly in the box (the medians are the optimum of Griewank and Ackley).
fn start(n: usize, half: f64, seed: u32) -> CmaesOptions {
    let mut rng = LegacyRandom::new(seed);
    CmaesOptions { x0: Some((0..n).map(|_| rng.uniform(-half, half)).collect()), ..Default::default() }
}

#[test]
fn reaches_the_minima() {
    // measured (seeds 1-5): Rosenbrock 2-D [-10, 10] 7e-15..1e-13 after ≈ 900 evaluations (tolfun);
    // Ackley 10-D 1.1e-9..1.7e-9 after ≈ 3300; Griewank 10-D 3e-13 or a local minimum 0.0099..0.032
    for seed in 1..=3 {
        let (out, _) = run(testing::boxed(2, -10.0, 10.0), start(2, 10.0, seed), seed, &rosenbrock, 5000);
        assert!(out.best_value < 1e-11 && out.evaluations < 2000, "seed {seed}: {out:?}");
        let (out, _) = run(testing::boxed(10, -32.768, 32.768), start(10, 32.768, seed), seed, &ackley, 5000);
        assert!(out.best_value < 1e-8 && out.evaluations < 5000, "seed {seed}: {out:?}");
        let (out, _) = run(testing::boxed(10, -20.0, 20.0), start(10, 20.0, seed), seed, &griewank, 5000);
        assert!(out.best_value < 0.05, "seed {seed}: {out:?}");
    }
}

#[test]
fn stops_on_its_own_criteria() {
    let (out, _) = run(testing::boxed(2, -10.0, 10.0), start(2, 10.0, 1), 1, &rosenbrock, 100_000);
    let Termination::Method(message) = &out.termination else { panic!("{:?}", out.termination) };
    assert!(message.starts_with("tolfun") || message.starts_with("tolx"), "{message}");
    let options = CmaesOptions { ftarget: Some(1e-3), ..start(2, 10.0, 1) };
    let (out, _) = run(testing::boxed(2, -10.0, 10.0), options, 1, &rosenbrock, 100_000);
    assert!(
        out.best_value <= 1e-3 && matches!(out.termination, Termination::Method(ref m) if m.starts_with("ftarget"))
    );
    // purecma's maxfevals: 100·6 + 150·25·√6 = 9785 in 2-D (λ = 6); here 60
    let options = CmaesOptions { maxfevals: Some(60), ..start(2, 10.0, 1) };
    let (out, _) = run(testing::boxed(2, -10.0, 10.0), options, 1, &rosenbrock, 100_000);
    assert_eq!(out.evaluations, 60);
    assert_eq!(out.termination, Termination::Method("maxfevals: 60 evaluations".into()));
    let m = Cmaes::new(testing::boxed(2, 0.0, 1.0), CmaesOptions::default(), 0, 1).unwrap();
    assert_eq!(m.maxfevals, 9785);
}

#[test]
fn an_optimum_outside_the_box_is_found_on_its_boundary() {
    // Σ (x − 3)² on [−1, 1]³ is least at the corner (1, 1, 1), value 12: the repair evaluates projections,
    // the penalty keeps the unclipped mean near the box
    let shifted = |x: &[f64]| x.iter().map(|v| (v - 3.0).powi(2)).sum::<f64>();
    let (out, batches) = run(testing::boxed(3, -1.0, 1.0), CmaesOptions::default(), 2, &shifted, 3000);
    assert!(out.best_value - 12.0 < 1e-9, "{out:?}");
    let last = batches.last().unwrap();
    assert!(last.iter().all(|p| p.x.iter().all(|&v| v > 0.999)), "{last:?}");
}

#[test]
fn defaults_follow_hansen() {
    let lambda = |n| Cmaes::new(testing::boxed(n, 0.0, 1.0), CmaesOptions::default(), 0, 1).unwrap().popsize();
    assert_eq!((lambda(1), lambda(2), lambda(10), lambda(30)), (4, 6, 10, 14));
    let m = Cmaes::new(testing::boxed(10, 0.0, 1.0), CmaesOptions::default(), 0, 1).unwrap();
    // μ = 5, weights ∝ ln 5.5 − ln i: μ_eff = 3.1672992814107017 (purecma)
    assert!((m.weights.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    assert!((m.mueff - 3.1672992814107017).abs() < 1e-14, "{}", m.mueff);
    assert!((m.cs - (m.mueff + 2.0) / (15.0 + m.mueff)).abs() < 1e-15);
    assert!((m.damps - (1.0 + m.cs)).abs() < 1e-15, "√((μ_eff − 1)/11) < 1");
    // the mean starts at the medians: the centre of [0, 1]
    assert_eq!(m.mean(), (vec![0.5; 10], 0.3));
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let trace = |seed| {
        let (_, b) = run(testing::boxed(4, -5.0, 5.0), CmaesOptions::default(), seed, &rosenbrock, 200);
        b.concat().into_iter().map(|p| p.x).collect::<Vec<_>>()
    };
    let a = trace(4);
    assert_eq!(a.len(), 200);
    assert_eq!(a, trace(4));
    assert_ne!(a, trace(5));
}

#[test]
fn budget_cuts_the_last_generation() {
    let (out, batches) = run(testing::boxed(2, -1.0, 1.0), CmaesOptions::default(), 1, &rosenbrock, 23);
    assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), [6, 6, 6, 5]);
    assert_eq!((out.evaluations, out.termination), (23, Termination::Budget));
    assert_eq!(batches[3][4].chain, Some(4));
}

#[test]
fn invalid_options_name_the_key() {
    let space = testing::boxed(2, -1.0, 1.0);
    let err = |o: CmaesOptions| Cmaes::new(space.clone(), o, 0, 10).unwrap_err();
    assert!(err(CmaesOptions { sigma0: 0.0, ..Default::default() }).starts_with("sigma0:"));
    assert!(err(CmaesOptions { popsize: Some(1), ..Default::default() }).starts_with("popsize:"));
    assert!(err(CmaesOptions { x0: Some(vec![0.0]), ..Default::default() }).starts_with("x0:"));
    assert!(err(CmaesOptions { x0: Some(vec![0.0, 2.0]), ..Default::default() }).starts_with("x0:"));
    assert!(err(CmaesOptions { tolx: -1.0, ..Default::default() }).starts_with("tolx:"));
    assert!(toml::from_str::<CmaesOptions>("sigma = 0.2").unwrap_err().to_string().contains("sigma"));
    let parsed: CmaesOptions = toml::from_str("sigma0 = 0.2\npopsize = 12").unwrap();
    assert_eq!((parsed.sigma0, parsed.popsize), (0.2, Some(12)));
}
