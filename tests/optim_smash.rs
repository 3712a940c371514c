//! SBS and the adaptive optimizers against smash's own loops (`_sbs_optimize`, `_adaptive_optimize` and the
//! update classes of `smash/factory/net/_optimizers.py`), run by `tests/reference/optim/smash_loops.py` with the
//! model mocked by an analytic function. Every evaluated point, every cost, every callback and the final point
//! must be bitwise equal. Needs `HYDROGRAD_PYTHON`.

mod optim_common;

use hydrograd::optim::{
    Adaptive, AdaptiveOptions, Bounds, Flow, Iteration, Outcome, SbsOptions, Termination, adaptive, sbs,
};
use optim_common::{Function, Logged, bits, float, floats, python};
use serde_json::{Value, json};

/// Observer calls after the first guess: `(x, cost, index)`.
type Calls = Vec<(Vec<f64>, f64, usize)>;

fn request(optimizer: &str, function: &Function, x0: &[f64], bounds: &Bounds, crit: Value) -> Value {
    let mut r = function.spec();
    let fields = json!({
        "optimizer": optimizer, "x0": bits(x0), "lower": bits(&bounds.lower), "upper": bits(&bounds.upper),
        "termination_crit": crit,
    });
    r.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    r
}

fn check(name: &str, smash: &Value, objective: &Logged, calls: &Calls, out: &Outcome) {
    let evaluations = smash["evaluations"].as_array().unwrap();
    assert_eq!(objective.log.len(), evaluations.len(), "{name}: number of evaluations");
    assert_eq!(out.evaluations, evaluations.len(), "{name}: reported evaluations");
    for (k, ((x, cost, gradient), e)) in objective.log.iter().zip(evaluations).enumerate() {
        assert_eq!(bits(x), bits(&floats(&e["x"])), "{name}: evaluation {} at {x:?}", k + 1);
        assert_eq!(cost.to_bits(), float(&e["cost"]).to_bits(), "{name}: cost of evaluation {}", k + 1);
        assert_eq!(*gradient, e["gradient"].as_bool().unwrap(), "{name}: gradient flag of evaluation {}", k + 1);
    }
    let callbacks = smash["callbacks"].as_array().unwrap();
    assert_eq!(calls.len(), callbacks.len(), "{name}: observer calls");
    for ((x, cost, index), c) in calls.iter().zip(callbacks) {
        assert_eq!(*index as u64, c["n_iter"].as_u64().unwrap(), "{name}: callback index");
        assert_eq!(bits(x), bits(&floats(&c["x"])), "{name}: callback {index} x");
        assert_eq!(cost.to_bits(), float(&c["cost"]).to_bits(), "{name}: callback {index} cost");
    }
    assert_eq!(bits(&out.x), bits(&floats(&smash["control_vector"])), "{name}: final point");
    assert_eq!(out.iterations as u64, smash["n_iter"].as_u64().unwrap(), "{name}: n_iter");
    let final_cost = objective.function.eval(&out.x).0;
    assert_eq!(out.cost.to_bits(), final_cost.to_bits(), "{name}: reported cost is the cost at x");
}

fn recorder(calls: &mut Calls) -> impl FnMut(&Iteration<'_>) -> Flow + '_ {
    move |it: &Iteration<'_>| {
        if it.index > 0 {
            calls.push((it.x.to_vec(), it.cost, it.index));
        }
        Flow::Continue
    }
}

fn run_sbs(name: &str, function: Function, x0: &[f64], bounds: &Bounds, maxiter: usize) -> Outcome {
    let smash = python("smash_loops.py", &request("sbs", &function, x0, bounds, json!({ "maxiter": maxiter })));
    let mut objective = Logged::new(function);
    let mut calls = Calls::new();
    let out = sbs(x0, bounds, &SbsOptions { maxiter, ..Default::default() }, &mut objective, &mut recorder(&mut calls))
        .unwrap();
    check(name, &smash, &objective, &calls, &out);
    out
}

fn run_adaptive(
    name: &str,
    kind: Adaptive,
    function: Function,
    x0: &[f64],
    bounds: &Bounds,
    options: &AdaptiveOptions,
) -> Outcome {
    let optimizer = format!("{kind:?}").to_lowercase();
    let crit = json!({ "maxiter": options.maxiter, "early_stopping": options.early_stopping });
    let mut r = request(&optimizer, &function, x0, bounds, crit);
    r["learning_rate"] = json!(options.learning_rate);
    let smash = python("smash_loops.py", &r);
    let mut objective = Logged::new(function);
    let mut calls = Calls::new();
    let out = adaptive(kind, x0, bounds, options, &mut objective, &mut recorder(&mut calls)).unwrap();
    check(name, &smash, &objective, &calls, &out);
    out
}

/// A 4-D quadratic whose minimum lies outside the box on two sides, with every kind of bound (smash's nbd 0–3).
fn quadratic() -> (Function, Vec<f64>, Bounds) {
    let a = vec![1.7, -0.6, 2.4, -3.1];
    let c = vec![1.0, 3.0, 0.5, 2.0];
    let bounds = Bounds {
        lower: vec![-1.0, f64::NEG_INFINITY, -2.0, f64::NEG_INFINITY],
        upper: vec![1.0, 0.5, f64::INFINITY, f64::INFINITY],
    };
    (Function::Quadratic { a, c }, vec![-1.0, 0.3, 0.0, 0.2], bounds)
}

#[test]
fn sbs_rosenbrock_3d_matches_smash() {
    let bounds = Bounds { lower: vec![-2.0; 3], upper: vec![3.0; 3] };
    let x0 = [-1.2, 1.0, 0.5];
    let out = run_sbs("sbs rosenbrock", Function::Rosenbrock, &x0, &bounds, 50);
    // A pattern search: from here smash's SBS stalls in the valley near (-1, 1, 1), well below f(x0) = 49.2.
    assert_eq!(out.termination, Termination::StepSize);
    assert!(out.cost < 4.0 && Function::Rosenbrock.eval(&x0).0 > 49.0, "{out:?}");
}

#[test]
fn sbs_quadratic_mixed_bounds_matches_smash() {
    let (f, x0, bounds) = quadratic();
    let out = run_sbs("sbs quadratic", f, &x0, &bounds, 50);
    assert_eq!(out.termination, Termination::StepSize);
    // The constrained minimum: a clipped to the box.
    for (x, best) in out.x.iter().zip([1.0, -0.6, 2.4, -3.1]) {
        assert!((x - best).abs() < 0.05, "{out:?}");
    }
}

#[test]
fn sbs_maxiter_matches_smash() {
    let (f, x0, bounds) = quadratic();
    let out = run_sbs("sbs maxiter", f, &x0, &bounds, 3);
    assert_eq!((out.termination, out.iterations), (Termination::MaxIterations, 3));
}

#[test]
fn adaptive_default_learning_rates_match_smash() {
    let (f, x0, bounds) = quadratic();
    for kind in [Adaptive::Adam, Adaptive::Sgd, Adaptive::Adagrad, Adaptive::Rmsprop] {
        let options = AdaptiveOptions { maxiter: 40, ..Default::default() };
        let out = run_adaptive(&format!("{kind:?}"), kind, f.clone(), &x0, &bounds, &options);
        assert_eq!((out.termination, out.iterations), (Termination::MaxIterations, 40));
    }
}

#[test]
fn adaptive_rosenbrock_matches_smash() {
    let bounds = Bounds { lower: vec![-2.0; 3], upper: vec![3.0; 3] };
    let options = AdaptiveOptions { learning_rate: Some(0.01), maxiter: 60, early_stopping: 0 };
    for kind in [Adaptive::Adam, Adaptive::Rmsprop] {
        run_adaptive(&format!("{kind:?} rosenbrock"), kind, Function::Rosenbrock, &[-1.2, 1.0, 0.5], &bounds, &options);
    }
}

#[test]
fn early_stopping_matches_smash() {
    let (f, x0, bounds) = quadratic();
    // A large step makes Adam oscillate, so the best iterate stops improving.
    let options = AdaptiveOptions { learning_rate: Some(0.8), maxiter: 100, early_stopping: 4 };
    let out = run_adaptive("adam early stopping", Adaptive::Adam, f.clone(), &x0, &bounds, &options);
    assert!(
        matches!(out.termination, Termination::EarlyStopping { best_iteration } if best_iteration == out.iterations)
    );
    // Early stopping on but never triggered: smash still reverts to the best iterate and reports its index.
    let options = AdaptiveOptions { learning_rate: Some(0.8), maxiter: 12, early_stopping: 50 };
    run_adaptive("adam early stopping, not triggered", Adaptive::Adam, f, &x0, &bounds, &options);
}
