//! Tests of [`super::DifferentialEvolution`].

use super::*;
use crate::samplers::SearchOutcome;
use crate::samplers::driver::Termination;
use crate::samplers::functions::{ackley, griewank, rosenbrock};
use crate::samplers::methods::bayes::testing::{self, run_recorded};

fn square(n: usize, half: f64) -> Space {
    testing::cube(n, half)
}

/// Runs the search; returns the outcome and every point asked (checked within the bounds).
fn run(
    space: Space,
    options: DeOptions,
    seed: u32,
    f: fn(&[f64]) -> f64,
    budget: usize,
) -> (SearchOutcome, Vec<Vec<Proposal>>) {
    let mut method = DifferentialEvolution::new(space.clone(), options, seed, budget).unwrap();
    run_recorded(&mut method, &space, &f, budget)
}

#[test]
fn follows_scipy_differential_evolution() {
    // scipy 1.17: differential_evolution(rosen, [(-10, 10)] * 2, updating="deferred", polish=False, seed=1):
    // 5010 evaluations (166 generations of 30), f = 7.967495142732219e-29 at x = 1.0000000000000009 (both)
    let (out, batches) = run(square(2, 10.0), DeOptions::default(), 1, rosenbrock, 100_000);
    assert_eq!(batches[0].len(), 30);
    assert_eq!(batches[0][0].x, [2.678858851562793, -6.974122177331095]);
    assert_eq!(batches[0][2].x, [8.327715439520226, 7.119223688626595]);
    assert_eq!(batches[1][0].x, [6.480374906869604, -2.3786810186601084]);
    assert_eq!(batches[1][1].x, [-0.8195137713562894, -2.308533836469473]);
    assert_eq!(batches[1][1].chain, Some(1));
    assert_eq!(out.evaluations, 5010);
    assert_eq!(out.best_value, 7.967495142732219e-29);
    assert_eq!(out.best_x, [1.0000000000000009, 1.0000000000000009]);
    assert!(matches!(out.termination, Termination::Method(ref m) if m.contains("after 166 generations")));
    // currenttobest1bin, constant F, maxiter 20, [-5, 5]³, seed 7: 945 evaluations, f = 1.1797777950664612
    let options = DeOptions {
        strategy: DeStrategy::Currenttobest1bin,
        mutation: DeMutation::Constant(0.6),
        maxiter: 20,
        ..Default::default()
    };
    let (out, batches) = run(square(3, 5.0), options, 7, rosenbrock, 100_000);
    assert_eq!(out.evaluations, 945);
    assert_eq!(out.best_value, 1.1797777950664612);
    assert_eq!(
        batches.last().unwrap().last().unwrap().x,
        [0.1786406301115706, 0.27478302256441767, -0.05682067560240589]
    );
    assert_eq!(out.termination, Termination::Method("maxiter: 20 generations".into()));
}

#[test]
fn reaches_the_minima_at_5000_evaluations() {
    // measured: Rosenbrock 2-D 8e-29 and Ackley 2-D 4.4e-16 for seeds 1-5; Griewank 2-D 0 or 0.0074 (a
    // local minimum next to the global one); Griewank 5-D 0.09-0.15 (seeds 1-5)
    for seed in 1..=3 {
        assert!(run(square(2, 10.0), DeOptions::default(), seed, rosenbrock, 5000).0.best_value < 1e-20);
        assert!(run(square(2, 32.768), DeOptions::default(), seed, ackley, 5000).0.best_value < 1e-12);
        assert!(run(square(2, 20.0), DeOptions::default(), seed, griewank, 5000).0.best_value < 0.01);
        let (out, _) = run(square(5, 20.0), DeOptions::default(), seed, griewank, 5000);
        assert!(out.best_value < 0.2, "seed {seed}: {}", out.best_value);
    }
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let trace = |seed| {
        let (_, b) = run(square(3, 5.0), DeOptions::default(), seed, ackley, 700);
        b.concat().into_iter().map(|p| p.x).collect::<Vec<_>>()
    };
    let a = trace(4);
    assert_eq!(a.len(), 700);
    assert_eq!(a, trace(4));
    assert_ne!(a, trace(5));
}

#[test]
fn budget_cuts_the_last_generation() {
    let (out, batches) = run(square(2, 1.0), DeOptions::default(), 1, rosenbrock, 100);
    assert_eq!(out.evaluations, 100);
    assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), [30, 30, 30, 10]);
    assert_eq!(out.termination, Termination::Budget);
    // popsize 1 in 2-D: scipy's minimum of 5 members
    let options = DeOptions { popsize: 1, ..Default::default() };
    let (_, batches) = run(square(2, 1.0), options, 1, rosenbrock, 12);
    assert_eq!(batches[0].len(), 5);
}

#[test]
fn latin_hypercube_has_one_point_per_stratum_and_column() {
    let mut rng = LegacyRandom::new(3);
    let population = latin_hypercube(&mut rng, 20, 4);
    for j in 0..4 {
        let mut strata: Vec<usize> = population.iter().map(|x| (x[j] * 20.0).floor() as usize).collect();
        strata.sort();
        assert_eq!(strata, (0..20).collect::<Vec<_>>(), "column {j}");
    }
}

#[test]
fn sums_like_numpy() {
    // np.sum: 2.2 here, where a left-to-right sum gives 2.1
    let mut a = vec![0.1; 9];
    a.extend([1e16, -1e16]);
    a.extend([0.3; 7]);
    assert_eq!(numpy_sum(&a), 2.2);
    // np.sum(np.arange(1, 200) * 0.1) = 1990.0 (more than 128 values: recursive halves)
    let b: Vec<f64> = (1..200).map(|i| i as f64 * 0.1).collect();
    assert_eq!(numpy_sum(&b), 1990.0);
    assert_eq!(numpy_sum(&[]), 0.0);
}

#[test]
fn invalid_options_name_the_key() {
    let space = square(2, 1.0);
    let err = |o: DeOptions| DifferentialEvolution::new(space.clone(), o, 0, 10).unwrap_err();
    assert!(err(DeOptions { popsize: 0, ..Default::default() }).starts_with("popsize:"));
    assert!(err(DeOptions { mutation: DeMutation::Constant(2.0), ..Default::default() }).starts_with("mutation:"));
    assert!(
        err(DeOptions { mutation: DeMutation::Dither([-0.1, 1.0]), ..Default::default() }).starts_with("mutation:")
    );
    assert!(err(DeOptions { recombination: 1.5, ..Default::default() }).starts_with("recombination:"));
    assert!(err(DeOptions { tol: -1.0, ..Default::default() }).starts_with("tol:"));
    assert!(err(DeOptions { atol: f64::NAN, ..Default::default() }).starts_with("atol:"));
    assert!(err(DeOptions { updating: "immediate".into(), ..Default::default() }).starts_with("updating:"));
    let parsed: DeOptions =
        toml::from_str("strategy = \"rand1bin\"\nmutation = [1.0, 0.5]\ninit = \"random\"").unwrap();
    assert_eq!(parsed.strategy, DeStrategy::Rand1bin);
    assert_eq!(parsed.mutation, DeMutation::Dither([1.0, 0.5]));
    assert_eq!(toml::from_str::<DeOptions>("mutation = 0.8").unwrap().mutation, DeMutation::Constant(0.8));
    assert!(toml::from_str::<DeOptions>("polish = true").unwrap_err().to_string().contains("polish"));
    assert!(toml::from_str::<DeOptions>("strategy = \"best2bin\"").unwrap_err().to_string().contains("best2bin"));
}
