//! L-BFGS-B against scipy 1.17's, called as smash calls it (`ftol = 2.22e-16·factr`, `gtol = pgtol`): the same
//! iterates (scipy's callback against our observer), the same count, the same final point, cost, stop reason and
//! number of evaluations. Needs `HYDROGRAD_PYTHON`.

mod optim_common;

use hydrograd::optim::{Bounds, Flow, Iteration, LbfgsbOptions, Termination, lbfgsb};
use optim_common::{Function, Logged, bits, float, floats, python};
use serde_json::json;

/// Agreement required of every coordinate and cost, absolute or relative.
const TOL: f64 = 1e-10;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn compare(name: &str, function: Function, x0: &[f64], bounds: &Bounds, options: &LbfgsbOptions) -> Termination {
    compare_within(name, function, x0, bounds, options, TOL)
}

fn compare_within(
    name: &str,
    function: Function,
    x0: &[f64],
    bounds: &Bounds,
    options: &LbfgsbOptions,
    tol: f64,
) -> Termination {
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
        if std::env::var("OPTIM_DEBUG").is_ok() {
            let d = x.iter().zip(&ex).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f64::max);
            eprintln!("{name} {} dx {d:.2e} df {:.2e}", k + 1, (cost - ec).abs() / ec.abs().max(1.0));
        }
        for (i, (a, b)) in x.iter().zip(&ex).enumerate() {
            assert!(close(*a, *b, tol), "{name}: iterate {} x[{i}] = {a:e}, scipy {b:e}", k + 1);
        }
        assert!(close(*cost, *ec, tol), "{name}: iterate {} f = {cost:e}, scipy {ec:e}", k + 1);
    }
    for (i, (a, b)) in out.x.iter().zip(floats(&scipy["x"])).enumerate() {
        assert!(close(*a, b, tol), "{name}: final x[{i}] = {a:e}, scipy {b:e}");
    }
    assert!(
        close(out.cost, float(&scipy["fun"]), tol),
        "{name}: final f = {:e}, scipy {:e}",
        out.cost,
        float(&scipy["fun"])
    );
    assert_eq!(out.iterations as u64, scipy["nit"].as_u64().unwrap(), "{name}: nit");
    assert_eq!(out.evaluations as u64, scipy["nfev"].as_u64().unwrap(), "{name}: nfev");
    assert_eq!(out.evaluations, objective.log.len());
    assert!(objective.log.iter().all(|(_, _, gradient)| *gradient), "{name}: every call asks for the gradient");

    let message = scipy["message"].as_str().unwrap();
    let expected_termination = if message.contains("RELATIVE REDUCTION OF F") {
        Termination::RelativeReduction
    } else if message.contains("NORM OF PROJECTED GRADIENT") {
        Termination::ProjectedGradient
    } else if message.contains("ITERATIONS REACHED LIMIT") {
        Termination::MaxIterations
    } else {
        panic!("{name}: unexpected scipy message {message}")
    };
    assert_eq!(out.termination, expected_termination, "{name}: scipy says {message}");
    out.termination
}

/// 10-D Rosenbrock from `x0 = (-1.2, 1, -1.2, 1, …)`.
fn rosenbrock_x0() -> Vec<f64> {
    (0..10).map(|i| if i % 2 == 0 { -1.2 } else { 1.0 }).collect()
}

/// Every coordinate of `x0` on a bound: the even ones on their lower bound -1.2 (upper 0.3), the odd ones on
/// their upper bound 1 (lower -1.2).
fn boxed() -> Bounds {
    Bounds { lower: vec![-1.2; 10], upper: (0..10).map(|i| if i % 2 == 0 { 0.3 } else { 1.0 }).collect() }
}

/// Mixed: even coordinates on their lower bound -1.2, every fourth also bounded above by 0.7, the odd ones free.
fn mixed() -> Bounds {
    let lower = (0..10).map(|i| if i % 2 == 0 { -1.2 } else { f64::NEG_INFINITY }).collect();
    let upper = (0..10).map(|i| if i % 4 == 0 { 0.7 } else { f64::INFINITY }).collect();
    Bounds { lower, upper }
}

/// Wide bounds, so the path runs the length of the curved valley to (1, …, 1), where rounding differences
/// (scipy's BLAS dot products against basin's loops) grow from 1e-16 at the first iterate to ~1e-10 by the 37th.
fn valley() -> Bounds {
    let mut lower = vec![-1.2; 10];
    let mut upper = vec![2.0; 10];
    lower[3] = f64::NEG_INFINITY;
    upper[6] = f64::INFINITY;
    upper[4] = 0.5; // keeps the optimum off (1, …, 1)
    upper[7] = 1.0; // x0[7] starts on its upper bound
    Bounds { lower, upper }
}

/// scipy's own defaults, in smash's convention (`ftol = 2.22e-16·factr`).
fn scipy_defaults() -> LbfgsbOptions {
    LbfgsbOptions { maxiter: 15000, factr: 1e7, pgtol: 1e-5, ..Default::default() }
}

#[test]
fn rosenbrock_10d_on_bounds_smash_options() {
    compare("boxed smash", Function::Rosenbrock, &rosenbrock_x0(), &boxed(), &LbfgsbOptions::default());
}

#[test]
fn rosenbrock_10d_on_bounds_scipy_defaults() {
    compare("boxed scipy", Function::Rosenbrock, &rosenbrock_x0(), &boxed(), &scipy_defaults());
}

#[test]
fn rosenbrock_10d_mixed_bounds_smash_options() {
    compare("mixed smash", Function::Rosenbrock, &rosenbrock_x0(), &mixed(), &LbfgsbOptions::default());
}

#[test]
fn rosenbrock_10d_mixed_bounds_scipy_defaults() {
    compare("mixed scipy", Function::Rosenbrock, &rosenbrock_x0(), &mixed(), &scipy_defaults());
}

#[test]
fn rosenbrock_10d_valley_same_path() {
    // Same 47 iterations, evaluations and stopping rule; the coordinates agree to 1e-8 after the rounding growth
    // (see `valley`).
    compare_within("valley smash", Function::Rosenbrock, &rosenbrock_x0(), &valley(), &LbfgsbOptions::default(), 1e-8);
    compare_within("valley scipy", Function::Rosenbrock, &rosenbrock_x0(), &valley(), &scipy_defaults(), 1e-8);
}

#[test]
fn rosenbrock_10d_short_memory_and_maxiter() {
    let options = LbfgsbOptions { maxiter: 12, maxcor: 3, maxls: 5, ..Default::default() };
    let t = compare("valley maxiter", Function::Rosenbrock, &rosenbrock_x0(), &valley(), &options);
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
