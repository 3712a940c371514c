//! L-BFGS-B against scipy 1.17's, called as smash calls it (`ftol = 2.22e-16·factr`, `gtol = pgtol`): the same
//! iterates (scipy's callback against our observer), the same count, the same final point, cost, stop reason and
//! number of evaluations. Needs `HYDROGRAD_PYTHON`.

mod optim_common;

use hydrograd::optim::{Bounds, Flow, Iteration, LbfgsbOptions, Termination, lbfgsb};
use optim_common::{Function, Logged, bits, float, floats, python};
use serde_json::json;

const TOL: f64 = 1e-10;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * b.abs().max(1.0)
}

fn compare(name: &str, function: Function, x0: &[f64], bounds: &Bounds, options: &LbfgsbOptions) -> Termination {
    let mut request = function.spec();
    let fields = json!({
        "x0": bits(x0), "lower": bits(&bounds.lower), "upper": bits(&bounds.upper),
        "maxiter": options.maxiter, "factr": options.factr, "pgtol": options.pgtol,
        "maxcor": options.maxcor, "maxls": options.maxls,
    });
    request.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    let scipy = python("lbfgsb.py", &request);

    let mut iterates: Vec<(Vec<f64>, f64)> = Vec::new();
    let mut observer = |it: &Iteration<'_>| {
        if it.index > 0 {
            assert_eq!(it.index, iterates.len() + 1, "{name}: observer indices");
            iterates.push((it.x.to_vec(), it.cost));
        }
        Flow::Continue
    };
    let mut objective = Logged::new(function);
    let out = lbfgsb(x0, bounds, options, &mut objective, &mut observer).unwrap();

    let expected = scipy["iterates"].as_array().unwrap();
    let costs = floats(&scipy["costs"]);
    assert_eq!(iterates.len(), expected.len(), "{name}: iterations (scipy: {})", scipy["message"]);
    for (k, ((x, cost), (ex, ec))) in iterates.iter().zip(expected.iter().map(floats).zip(&costs)).enumerate() {
        for (i, (a, b)) in x.iter().zip(&ex).enumerate() {
            assert!(close(*a, *b), "{name}: iterate {} x[{i}] = {a:e}, scipy {b:e}", k + 1);
        }
        assert!(close(*cost, *ec), "{name}: iterate {} f = {cost:e}, scipy {ec:e}", k + 1);
    }
    for (i, (a, b)) in out.x.iter().zip(floats(&scipy["x"])).enumerate() {
        assert!(close(*a, b), "{name}: final x[{i}] = {a:e}, scipy {b:e}");
    }
    assert!(
        close(out.cost, float(&scipy["fun"])),
        "{name}: final f = {:e}, scipy {:e}",
        out.cost,
        float(&scipy["fun"])
    );
    assert_eq!(out.iterations as u64, scipy["nit"].as_u64().unwrap(), "{name}: nit");
    assert_eq!(out.evaluations as u64, scipy["nfev"].as_u64().unwrap(), "{name}: nfev");
    assert_eq!(out.evaluations, objective.log.len());
    assert!(objective.log.iter().all(|(_, _, gradient)| *gradient), "{name}: every call asks for the gradient");

    let message = scipy["message"].as_str().unwrap();
    let expected_termination = if message.contains("REL_REDUCTION_OF_F") {
        Termination::RelativeReduction
    } else if message.contains("PROJECTED_GRADIENT") {
        Termination::ProjectedGradient
    } else if message.contains("ITERATIONS REACHED LIMIT") {
        Termination::MaxIterations
    } else {
        panic!("{name}: unexpected scipy message {message}")
    };
    assert_eq!(out.termination, expected_termination, "{name}: scipy says {message}");
    out.termination
}

/// 10-D Rosenbrock, `x0 = (-1.2, 1, -1.2, 1, …)` with the odd coordinates on their lower bound -1.2 and two
/// coordinates unbounded on one side.
fn rosenbrock_problem() -> (Vec<f64>, Bounds) {
    let n = 10;
    let x0: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { -1.2 } else { 1.0 }).collect();
    let mut lower = vec![-1.2; n];
    let mut upper = vec![2.0; n];
    lower[3] = f64::NEG_INFINITY;
    upper[6] = f64::INFINITY;
    upper[9] = 0.8; // keeps the optimum off (1, …, 1)
    (x0, Bounds { lower, upper })
}

#[test]
fn rosenbrock_10d_smash_options() {
    let (x0, bounds) = rosenbrock_problem();
    compare("rosenbrock smash", Function::Rosenbrock, &x0, &bounds, &LbfgsbOptions::default());
}

#[test]
fn rosenbrock_10d_scipy_defaults() {
    let (x0, bounds) = rosenbrock_problem();
    let options = LbfgsbOptions { maxiter: 15000, factr: 1e7, pgtol: 1e-5, ..Default::default() };
    compare("rosenbrock scipy", Function::Rosenbrock, &x0, &bounds, &options);
}

#[test]
fn rosenbrock_10d_short_memory_and_maxiter() {
    let (x0, bounds) = rosenbrock_problem();
    let options = LbfgsbOptions { maxiter: 12, maxcor: 3, maxls: 5, ..Default::default() };
    let t = compare("rosenbrock maxiter", Function::Rosenbrock, &x0, &bounds, &options);
    assert_eq!(t, Termination::MaxIterations);
}

#[test]
fn quadratic_with_active_bounds() {
    let n = 8;
    let a: Vec<f64> = (0..n).map(|i| 0.4 * i as f64 - 1.5).collect();
    let c: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
    let x0 = vec![0.0; n];
    let bounds = Bounds { lower: vec![-1.0; n], upper: vec![1.0; n] };
    compare("quadratic", Function::Quadratic { a, c }, &x0, &bounds, &LbfgsbOptions::default());
}
