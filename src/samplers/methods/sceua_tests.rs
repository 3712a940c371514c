//! Tests of [`super::Sceua`].

use super::*;
use crate::samplers::driver::{EvaluationError, SearchOutcome, Termination, assert_within};
use crate::samplers::functions::{ackley, griewank, rosenbrock};
use crate::samplers::{Flow, search};

fn cube(n: usize, b: f64) -> Space {
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Space::uniform(&names, &vec![(-b, b); n])
}

/// Runs SCE-UA on `f`; returns the outcome, the batches asked and the sampler.
fn run(
    f: fn(&[f64]) -> f64,
    space: &Space,
    options: SceuaOptions,
    seed: u32,
    budget: usize,
) -> (SearchOutcome, Vec<Vec<Proposal>>, Sceua) {
    let mut sceua = Sceua::new(space.clone(), options, seed, budget).unwrap();
    let mut batches = Vec::new();
    let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
        assert_within(space, b);
        batches.push(b.to_vec());
        Ok(b.iter().map(|p| f(&p.x)).collect())
    };
    let outcome = search(&mut sceua, &mut objective, budget, &mut |_| Flow::Continue).unwrap();
    (outcome, batches, sceua)
}

fn median_best(f: fn(&[f64]) -> f64, n: usize, b: f64, options: &SceuaOptions, budget: usize) -> f64 {
    let mut bests: Vec<f64> = (1..=5).map(|s| run(f, &cube(n, b), options.clone(), s, budget).0.best_value).collect();
    bests.sort_by(f64::total_cmp);
    bests[2]
}

fn spotpy() -> SceuaOptions {
    SceuaOptions { variant: SceuaVariant::Spotpy, ..SceuaOptions::default() }
}

#[test]
fn reaches_the_measured_thresholds() {
    // medians over seeds 1..=5 (measured: 2.4e-11, 1.7e-8, 3.3e-4, 3.0e-6, 0.060)
    let duan = SceuaOptions::default();
    assert!(median_best(rosenbrock, 2, 10.0, &duan, 5000) < 1e-6);
    assert!(median_best(ackley, 2, 32.768, &duan, 5000) < 1e-4);
    assert!(median_best(griewank, 10, 20.0, &SceuaOptions { ngs: 10, ..duan }, 5000) < 0.01);
    assert!(median_best(rosenbrock, 2, 10.0, &spotpy(), 5000) < 1e-3);
    assert!(median_best(ackley, 10, 32.768, &SceuaOptions { ngs: 10, ..spotpy() }, 5000) < 0.5);
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    for options in [SceuaOptions::default(), spotpy()] {
        let space = cube(3, 10.0);
        let (a, ta, _) = run(rosenbrock, &space, options.clone(), 4, 1500);
        let (b, tb, _) = run(rosenbrock, &space, options.clone(), 4, 1500);
        let (_, tc, _) = run(rosenbrock, &space, options, 5, 1500);
        assert_eq!(ta, tb);
        assert_eq!(a, b);
        assert_ne!(ta, tc);
    }
}

#[test]
fn a_smaller_budget_asks_a_prefix_of_the_same_points() {
    let space = cube(4, 32.768);
    let (_, long, _) = run(ackley, &space, SceuaOptions::default(), 8, 2000);
    let (_, short, _) = run(ackley, &space, SceuaOptions::default(), 8, 1234);
    let long: Vec<&Proposal> = long.iter().flatten().collect();
    let short: Vec<&Proposal> = short.iter().flatten().collect();
    assert_eq!(short.len(), 1234);
    assert_eq!(short[..], long[..1234]);
}

#[test]
fn batches_are_the_population_then_one_stage_of_the_complexes() {
    let options = SceuaOptions { ngs: 6, ..SceuaOptions::default() };
    let (outcome, batches, _) = run(griewank, &cube(3, 20.0), options, 2, 1000);
    assert_eq!((outcome.evaluations, outcome.termination), (1000, Termination::Budget));
    // the initial population: ngs·(2n+1) = 42 free points
    assert_eq!(batches[0].len(), 42);
    assert!(batches[0].iter().all(|p| p.chain.is_none()));
    // then the reflections of all 6 complexes, in complex order
    let chains: Vec<Option<usize>> = batches[1].iter().map(|p| p.chain).collect();
    assert_eq!(chains, (0..6).map(Some).collect::<Vec<_>>());
    for batch in &batches[1..] {
        let chains: Vec<usize> = batch.iter().map(|p| p.chain.unwrap()).collect();
        assert!(chains.windows(2).all(|w| w[0] < w[1]), "each complex once per batch, in order: {chains:?}");
    }
    // a CCE step takes 1–3 batches: more batches than steps, fewer than three times as many
    let steps = batches.iter().filter(|b| b.len() == 6).count();
    assert!(batches.len() > steps && batches.len() < 3 * (steps + 1), "{} batches", batches.len());
}

#[test]
fn stops_on_the_population_range() {
    // 2 complexes on 2-D Rosenbrock shrink onto the optimum: gnrng ≤ peps = 1e-7 long before the budget
    let options = SceuaOptions { ngs: 2, ..SceuaOptions::default() };
    let (outcome, _, _) = run(rosenbrock, &cube(2, 10.0), options, 1, 5000);
    let Termination::Method(message) = outcome.termination.clone() else { panic!("{:?}", outcome.termination) };
    assert!(message.contains("peps"), "{message}");
    assert!(outcome.evaluations < 2000 && outcome.best_value < 1e-10, "{outcome:?}");
}

#[test]
fn stops_on_stagnation_after_kstop_loops() {
    // a huge pcento stops at the first check: loop kstop + 1 for Duan, loop kstop for SPOTPY
    let duan = SceuaOptions { kstop: 3, pcento: 1e12, ..SceuaOptions::default() };
    let spot = SceuaOptions { kstop: 3, pcento: 1e12, ..spotpy() };
    for (options, loops) in [(duan, 4), (spot, 3)] {
        let (outcome, _, sceua) = run(griewank, &cube(2, 20.0), options, 3, 100_000);
        let Termination::Method(message) = outcome.termination.clone() else { panic!("{:?}", outcome.termination) };
        assert!(message.contains("pcento"), "{message}");
        assert_eq!(sceua.history.len(), loops);
    }
    // a constant function: no change at all (0/0 counts as no change) stops the smallest pcento
    let options = SceuaOptions { kstop: 2, pcento: 1e-300, peps: 0.0, ..SceuaOptions::default() };
    let (outcome, _, sceua) = run(|_| 0.0, &cube(2, 1.0), options, 3, 100_000);
    assert!(matches!(outcome.termination, Termination::Method(_)));
    assert_eq!(sceua.history.len(), 3);
}

#[test]
fn drops_complexes_down_to_mings() {
    let options = SceuaOptions { ngs: 5, mings: Some(2), ..SceuaOptions::default() };
    let (_, batches, sceua) = run(ackley, &cube(2, 32.768), options, 6, 2000);
    assert_eq!(sceua.ngs, 2);
    assert_eq!(sceua.x.len(), 2 * 5);
    let last = batches.last().unwrap();
    assert!(last.iter().all(|p| p.chain.unwrap() < 2));
}

#[test]
fn subcomplexes_follow_the_trapezoidal_law() {
    let options = SceuaOptions { npg: Some(5), nps: Some(2), ..SceuaOptions::default() };
    for variant in [SceuaVariant::Duan, SceuaVariant::Spotpy] {
        let mut sceua = Sceua::new(cube(2, 1.0), SceuaOptions { variant, ..options.clone() }, 9, 100).unwrap();
        let mut counts = [0usize; 5];
        let draws = 40_000;
        for _ in 0..draws {
            let lcs = sceua.pick_subcomplex();
            assert_eq!(lcs.len(), 2);
            assert!(lcs[0] < lcs[1]);
            if variant == SceuaVariant::Spotpy {
                assert!(lcs.contains(&1), "SPOTPY always takes position 1: {lcs:?}");
            }
            lcs.iter().for_each(|&i| counts[i] += 1);
        }
        if variant == SceuaVariant::Duan {
            // P(first pick = i) = 2(5 − i)/30; the second is that law without the first: position 0 is
            // picked in 1/3 + Σ_{i>0} P(i)·(1/3)/(1 − P(i)) = 0.6130 of the draws
            let share = counts[0] as f64 / draws as f64;
            assert!((share - 0.6130).abs() < 0.01, "{counts:?}");
            assert!(counts.windows(2).all(|w| w[0] > w[1]), "{counts:?}");
        } else {
            assert_eq!(counts[1], draws);
        }
    }
    // nps = npg takes the whole complex (Duan)
    let all = SceuaOptions { npg: Some(4), nps: Some(4), ..SceuaOptions::default() };
    let mut sceua = Sceua::new(cube(2, 1.0), all, 9, 100).unwrap();
    assert_eq!(sceua.pick_subcomplex(), [0, 1, 2, 3]);
}

#[test]
fn budget_smaller_than_the_population() {
    let (outcome, batches, _) = run(rosenbrock, &cube(3, 10.0), SceuaOptions::default(), 1, 50);
    assert_eq!((outcome.evaluations, batches.len()), (50, 1));
    assert_eq!(outcome.termination, Termination::Budget);
}

#[test]
fn options_are_validated() {
    let space = cube(2, 1.0);
    let err = |o: SceuaOptions| Sceua::new(space.clone(), o, 0, 100).unwrap_err();
    let d = SceuaOptions::default;
    assert!(err(SceuaOptions { ngs: 0, ..d() }).starts_with("ngs:"));
    assert!(err(SceuaOptions { npg: Some(1), ..d() }).starts_with("npg:"));
    assert!(err(SceuaOptions { nps: Some(1), ..d() }).starts_with("nps:"));
    assert!(err(SceuaOptions { nps: Some(6), ..d() }).starts_with("nps:"));
    assert!(err(SceuaOptions { nspl: Some(0), ..d() }).starts_with("nspl:"));
    assert!(err(SceuaOptions { mings: Some(21), ..d() }).starts_with("mings:"));
    assert!(err(SceuaOptions { kstop: 0, ..d() }).starts_with("kstop:"));
    assert!(err(SceuaOptions { pcento: -1.0, ..d() }).starts_with("pcento:"));
    assert!(err(SceuaOptions { peps: f64::NAN, ..d() }).starts_with("peps:"));
    let options: SceuaOptions = toml::from_str("ngs = 7\nkstop = 3\npcento = 0.1\nvariant = \"spotpy\"").unwrap();
    assert_eq!(options, SceuaOptions { ngs: 7, kstop: 3, pcento: 0.1, variant: SceuaVariant::Spotpy, ..d() });
    assert!(toml::from_str::<SceuaOptions>("complexes = 3").is_err());
    assert!(toml::from_str::<SceuaOptions>("variant = \"matlab\"").is_err());
}
