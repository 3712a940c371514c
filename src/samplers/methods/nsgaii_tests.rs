//! Tests of [`super::Nsgaii`].

use super::*;
use crate::samplers::driver::Termination;
use crate::samplers::methods::bayes::testing::boxed;
use crate::samplers::multi_functions::testing::{MultiRun, run_multi};
use crate::samplers::multi_functions::{DTLZ2, MultiProblem, ZDT1, ZDT2, dtlz2, zdt1};

fn run(problem: &MultiProblem, dim: usize, options: NsgaiiOptions, seed: u32, budget: usize) -> MultiRun {
    let space = boxed(dim, 0.0, 1.0);
    let mut method = Nsgaii::new(space.clone(), options, seed, budget, problem.objectives).unwrap();
    run_multi(&mut method, &space, problem.f, budget)
}

#[test]
fn approaches_the_true_fronts() {
    // hypervolume of every point evaluated against 1.1 per objective, default options, seeds 1-5 (measured):
    // ZDT1 30-D, 10 000 evaluations: 0.865..0.868 (optimum 0.8767); ZDT2 30-D, 20 000: 0.542 (0.5433);
    // DTLZ2 12-D, 10 000: 0.778..0.784 (0.8074; a finite set on the sphere stays below it)
    let cases = [(&ZDT1, 30, 10_000, 0.86), (&ZDT2, 30, 20_000, 0.54), (&DTLZ2, 12, 10_000, 0.775)];
    for (problem, dim, budget, threshold) in cases {
        for seed in 1..=5 {
            let hv = run(problem, dim, NsgaiiOptions::default(), seed, budget).hypervolume(problem.reference);
            assert!(hv > threshold, "{} seed {seed}: {hv}", problem.name);
        }
    }
}

#[test]
fn generations_are_batches_of_n_pop_cut_by_the_budget() {
    let options = NsgaiiOptions { n_pop: 10, ..Default::default() };
    let out = run(&ZDT1, 5, options.clone(), 1, 35);
    assert_eq!(out.batches.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 10, 5]);
    assert_eq!((out.outcome.evaluations, out.outcome.termination), (35, Termination::Budget));
    assert_eq!(out.values.len(), 70);
    for batch in &out.batches {
        assert!(batch.iter().enumerate().all(|(i, p)| p.chain == Some(i)));
    }
    // a budget below one population
    assert_eq!(run(&DTLZ2, 4, options, 1, 7).outcome.evaluations, 7);
}

#[test]
fn same_seed_same_points_other_seed_other_points() {
    let points = |seed| run(&DTLZ2, 6, NsgaiiOptions::default(), seed, 400).points();
    let a = points(3);
    assert_eq!(a.len(), 400);
    assert_eq!(a, points(3));
    assert_ne!(a, points(4));
}

#[test]
fn survivors_are_the_best_fronts_then_the_least_crowded() {
    // 4 parents and 4 children of n_pop = 4 on 2 objectives, values chosen by hand: front 0 = {(0,3), (3,0),
    // (1,2), (2,1.5)} would fit exactly; one more point (1.5,1.8) on it makes 5, so the most crowded interior
    // point goes: crowding of (1,2): (1.5−0)/3 + (3−1.8)/3 = 0.9, (1.5,1.8): (2−1)/3 + (2−1.5)/3 = 0.5,
    // (2,1.5): (3−1.5)/3 + (1.8−0)/3 = 1.1
    let space = boxed(1, 0.0, 1.0);
    let mut nsga = Nsgaii::new(space, NsgaiiOptions { n_pop: 4, ..Default::default() }, 1, 100, 2).unwrap();
    let member = |x: f64, v: [f64; 2]| Member { x: vec![x], values: v.to_vec(), rank: 0, crowding: 0.0 };
    let merged = vec![
        member(0.0, [0.0, 3.0]),
        member(0.1, [4.0, 4.0]),
        member(0.2, [1.0, 2.0]),
        member(0.3, [3.0, 0.0]),
        member(0.4, [1.5, 1.8]),
        member(0.5, [2.0, 1.5]),
        member(0.6, [5.0, 5.0]),
        member(0.7, [3.5, 3.5]),
    ];
    nsga.survive(merged);
    let kept: Vec<f64> = nsga.population.iter().map(|m| m.x[0]).collect();
    assert_eq!(kept, [0.0, 0.2, 0.3, 0.5]);
    assert!(nsga.population.iter().all(|m| m.rank == 0));
    assert!((nsga.population[1].crowding - 0.9).abs() < 1e-12 && nsga.population[0].crowding.is_infinite());
}

#[test]
fn sbx_children_are_spread_around_their_parents_mean() {
    let space = boxed(200, 0.0, 1.0);
    let mut nsga = Nsgaii::new(space, NsgaiiOptions::default(), 5, 100, 2).unwrap();
    // parents placed symmetrically in the box: both tails are cut alike, so the children keep their mean
    let (mut c1, mut c2) = (vec![0.3; 200], vec![0.7; 200]);
    nsga.sbx(&mut c1, &mut c2);
    let mut changed = 0;
    for (a, b) in c1.iter().zip(&c2) {
        assert!((0.0..=1.0).contains(a) && (0.0..=1.0).contains(b));
        if (*a, *b) != (0.3, 0.7) && (*a, *b) != (0.7, 0.3) {
            changed += 1;
            assert!((a + b - 1.0).abs() < 1e-12, "{a} + {b}");
        }
    }
    // about half the genes are recombined (the other half may still be swapped)
    assert!((70..130).contains(&changed), "{changed} genes recombined");
}

#[test]
fn single_point_children_are_made_of_their_parents_genes() {
    let options = NsgaiiOptions {
        n_pop: 20,
        crossover: NsgaiiCrossover::SinglePoint,
        crossover_rate: 1.0,
        mutation_rate: Some(0.0),
        ..Default::default()
    };
    let out = run(&ZDT1, 4, options, 2, 40);
    let (parents, children) = (&out.batches[0], &out.batches[1]);
    let mut crossed = 0;
    for c in children {
        let joined = (1..4).any(|cut| {
            parents.iter().any(|a| a.x[..cut] == c.x[..cut]) && parents.iter().any(|b| b.x[cut..] == c.x[cut..])
        });
        assert!(joined, "{c:?}");
        crossed += usize::from(!parents.iter().any(|p| p.x == c.x));
    }
    assert!(crossed > 10, "{crossed} of 20 children differ from every parent");
}

#[test]
fn polynomial_mutation_stays_in_the_bounds() {
    let space = boxed(3, -2.0, 5.0);
    let options = NsgaiiOptions { mutation_rate: Some(1.0), eta_mutation: 0.0, ..Default::default() };
    let mut nsga = Nsgaii::new(space.clone(), options, 9, 100, 2).unwrap();
    let mut moved = [0; 3];
    for (s, start) in [-2.0, 0.0, 5.0].into_iter().enumerate() {
        for _ in 0..200 {
            let mut x = vec![start; 3];
            nsga.mutate(&mut x);
            assert!(space.contains(&x), "{x:?}");
            moved[s] += x.iter().filter(|&&v| v != start).count();
        }
    }
    // an interior gene always moves; one on a bound moves inward for u on the inner side only (δ_q = 0 else)
    assert_eq!(moved[1], 600);
    assert!((240..360).contains(&moved[0]) && (240..360).contains(&moved[2]), "{moved:?}");
}

#[test]
fn options_are_validated_and_name_the_key() {
    let space = boxed(2, 0.0, 1.0);
    let err = |o: NsgaiiOptions, k: usize| Nsgaii::new(space.clone(), o, 0, 100, k).unwrap_err();
    assert!(err(NsgaiiOptions::default(), 1).starts_with("objectives:"));
    assert!(err(NsgaiiOptions { n_pop: 1, ..Default::default() }, 2).starts_with("n_pop:"));
    assert!(err(NsgaiiOptions { crossover_rate: 1.5, ..Default::default() }, 2).starts_with("crossover_rate:"));
    assert!(err(NsgaiiOptions { mutation_rate: Some(-0.1), ..Default::default() }, 2).starts_with("mutation_rate:"));
    assert!(err(NsgaiiOptions { eta_crossover: -1.0, ..Default::default() }, 2).starts_with("eta_crossover:"));
    assert!(err(NsgaiiOptions { eta_mutation: f64::NAN, ..Default::default() }, 2).starts_with("eta_mutation:"));
    let parsed: NsgaiiOptions = toml::from_str("crossover = \"single_point\"\nmutation_rate = 0.25").unwrap();
    assert_eq!((parsed.crossover, parsed.mutation_rate), (NsgaiiCrossover::SinglePoint, Some(0.25)));
    assert!(toml::from_str::<NsgaiiOptions>("pop_size = 10").unwrap_err().to_string().contains("pop_size"));
    assert!(toml::from_str::<NsgaiiOptions>("crossover = \"sbxx\"").is_err());
}

#[test]
fn the_registry_builds_it_for_several_objectives_only() {
    use crate::samplers::Method;
    let m = Method::from_name("nsgaii").unwrap();
    assert!(m.multi_objective() && !Method::Dds.multi_objective());
    let space = boxed(3, 0.0, 1.0);
    let sampler = m.build(space.clone(), &toml::Table::new(), 1, 100, 3).unwrap();
    assert_eq!((sampler.name(), sampler.objectives()), ("nsgaii", 3));
    let refused = |m: Method, k: usize| m.build(space.clone(), &toml::Table::new(), 1, 100, k).err().unwrap();
    assert!(refused(m, 1).starts_with("objectives:"));
    assert!(refused(Method::Dds, 2).starts_with("objectives:"));
    // the problems' values are what the run was told
    let out = run(&DTLZ2, 12, NsgaiiOptions::default(), 1, 50);
    assert_eq!(out.values[..3], dtlz2(&out.batches[0][0].x)[..]);
    let out = run(&ZDT1, 3, NsgaiiOptions::default(), 1, 50);
    assert_eq!(out.values[98..], zdt1(&out.batches[0][49].x)[..]);
}
