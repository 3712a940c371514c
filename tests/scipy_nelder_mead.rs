//! The Nelder–Mead sampler against scipy 1.17's `minimize(method="Nelder-Mead", bounds=...)` on Rosenbrock in
//! 2-D, 4-D and 5-D: the same sequence of evaluated points and values (within 1e-12 relative; in practice bit for
//! bit), the same count, best point and stop reason. scipy evaluates one point at a time; the sampler asks the
//! initial simplex and the shrink points as one batch each, which must not change the sequence.
//! The reference is `tests/reference/spotpy/nelder_mead.py`, run with the Python of `HYDROGRAD_PYTHON`.

#[path = "support/python.rs"]
mod python_ref;

use hydrograd::samplers::driver::{EvaluationError, Termination};
use hydrograd::samplers::functions::rosenbrock;
use hydrograd::samplers::methods::nelder_mead::{NelderMead, NelderMeadOptions};
use hydrograd::samplers::{Flow, Proposal, Space, search};
use python_ref::{bits, float, floats};
use serde_json::{Value, json};

/// Agreement required of every coordinate and value, relative.
const TOL: f64 = 1e-12;

struct Case {
    name: &'static str,
    x0: Vec<f64>,
    lower: f64,
    upper: f64,
    adaptive: bool,
    maxiter: Option<usize>,
    maxfev: Option<usize>,
    /// The driver's budget, when it is to cut the run short.
    budget: Option<usize>,
}

impl Case {
    fn new(name: &'static str, x0: &[f64], lower: f64, upper: f64) -> Case {
        Case { name, x0: x0.to_vec(), lower, upper, adaptive: false, maxiter: None, maxfev: None, budget: None }
    }
}

/// Runs `tests/reference/spotpy/<script>` (see `support/python.rs`).
fn python(script: &str, request: &Value) -> Value {
    python_ref::run_json(&python_ref::reference_script("spotpy", script), request, "scipy 1.17")
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= TOL * b.abs()
}

/// What the sampler did on one case: the points and values in order, the batch sizes, the outcome.
struct Run {
    points: Vec<Vec<f64>>,
    values: Vec<f64>,
    batches: Vec<usize>,
    best: (Vec<f64>, f64),
    evaluations: usize,
    termination: Termination,
}

fn run(case: &Case) -> Run {
    let n = case.x0.len();
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    let space = Space::uniform(&names, &vec![(case.lower, case.upper); n]);
    let options = NelderMeadOptions {
        x0: Some(case.x0.clone()),
        adaptive: case.adaptive,
        maxiter: case.maxiter,
        maxfev: case.maxfev,
        ..Default::default()
    };
    let budget = case.budget.unwrap_or(1_000_000);
    let mut method = NelderMead::new(space, options, 0, budget).unwrap();
    let (mut points, mut values, mut batches) = (Vec::new(), Vec::new(), Vec::new());
    let mut objective = |_: usize, batch: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
        let v: Vec<f64> = batch.iter().map(|p| rosenbrock(&p.x)).collect();
        points.extend(batch.iter().map(|p| p.x.clone()));
        values.extend(&v);
        batches.push(batch.len());
        Ok(v)
    };
    let out = search(&mut method, &mut objective, budget, &mut |_| Flow::Continue).unwrap();
    Run {
        points,
        values,
        batches,
        best: (out.best_x, out.best_value),
        evaluations: out.evaluations,
        termination: out.termination,
    }
}

#[test]
fn nelder_mead_evaluates_scipys_points() {
    let scipy_doc = [1.3, 0.7, 0.8, 1.9, 1.2];
    let cases = vec![
        Case::new("2-D from (-1.2, 1)", &[-1.2, 1.0], -10.0, 10.0),
        Case::new("2-D with a shrink", &[8.068038305757671, -7.25050591707525], -10.0, 10.0),
        Case::new("5-D", &scipy_doc, -10.0, 10.0),
        Case { adaptive: true, ..Case::new("5-D adaptive", &scipy_doc, -10.0, 10.0) },
        // active bounds: a zero coordinate (→ 0.00025), a vertex reflected below the upper bound, clipped steps
        Case::new("2-D bounded", &[0.0, 0.79], -2.0, 0.8),
        Case::new("4-D bounded with a shrink", &[0.0, 0.79, -1.5, 0.3], -2.0, 0.8),
        Case { maxfev: Some(150), ..Case::new("5-D maxfev", &scipy_doc, -10.0, 10.0) },
        Case { maxiter: Some(40), ..Case::new("5-D maxiter", &scipy_doc, -10.0, 10.0) },
        // the budget cuts the run (here inside the initial simplex, then after 77 evaluations)
        Case { budget: Some(4), ..Case::new("5-D budget 4", &scipy_doc, -10.0, 10.0) },
        Case { budget: Some(77), ..Case::new("5-D budget 77", &scipy_doc, -10.0, 10.0) },
    ];
    let request = json!({ "cases": cases.iter().map(|c| {
        let n = c.x0.len();
        json!({
            "x0": bits(&c.x0), "lower": bits(&vec![c.lower; n]), "upper": bits(&vec![c.upper; n]),
            "adaptive": c.adaptive, "maxiter": c.maxiter, "maxfev": c.maxfev,
        })
    }).collect::<Vec<_>>() });
    let scipy = python("nelder_mead.py", &request);
    let answers = scipy["cases"].as_array().unwrap();
    assert_eq!(answers.len(), cases.len());

    let (mut shrinks, mut worst) = (0, 0.0f64);
    for (case, expected) in cases.iter().zip(answers) {
        let name = case.name;
        let n = case.x0.len();
        let ours = run(case);
        let points: Vec<Vec<f64>> = expected["points"].as_array().unwrap().iter().map(floats).collect();
        let values = floats(&expected["values"]);
        let nfev = expected["nfev"].as_u64().unwrap() as usize;
        assert_eq!(points.len(), nfev, "{name}: scipy's log");
        let count = case.budget.map_or(nfev, |b| b.min(nfev));
        assert_eq!(ours.evaluations, count, "{name}: evaluations (scipy: {nfev}, {})", expected["message"]);
        for (k, ((x, f), (ex, ef))) in ours.points.iter().zip(&ours.values).zip(points.iter().zip(&values)).enumerate()
        {
            for (i, (a, b)) in x.iter().zip(ex).enumerate() {
                assert!(close(*a, *b), "{name}: evaluation {k} x[{i}] = {a:e}, scipy {b:e}");
                worst = worst.max((a - b).abs() / b.abs().max(f64::MIN_POSITIVE));
            }
            assert!(close(*f, *ef), "{name}: evaluation {k} f = {f:e}, scipy {ef:e}");
        }
        assert_eq!(ours.batches[0], (n + 1).min(count), "{name}: the initial simplex is one batch");
        assert!(ours.batches[1..].iter().all(|&b| b == 1 || b == n), "{name}: batches {:?}", ours.batches);
        shrinks += ours.batches[1..].iter().filter(|&&b| b == n && n > 1).count();
        if case.budget.is_some() {
            assert_eq!(ours.termination, Termination::Budget, "{name}");
            continue;
        }
        let (fun, x) = (float(&expected["fun"]), floats(&expected["x"]));
        assert!(close(ours.best.1, fun), "{name}: best {:e}, scipy {fun:e}", ours.best.1);
        assert!(ours.best.0.iter().zip(&x).all(|(a, b)| close(*a, *b)), "{name}: {:?} vs {x:?}", ours.best.0);
        let Termination::Method(message) = &ours.termination else { panic!("{name}: {:?}", ours.termination) };
        let reason = match expected["status"].as_u64().unwrap() {
            0 => "converged",
            1 => "maxfev",
            2 => "maxiter",
            s => panic!("{name}: scipy status {s}"),
        };
        assert!(message.starts_with(reason), "{name}: {message} vs scipy {}", expected["message"]);
    }
    assert!(shrinks >= 2, "the cases were chosen to shrink twice, got {shrinks}");
    eprintln!(
        "nelder_mead vs scipy: {} cases, {shrinks} shrink batches, largest relative deviation {worst:e}",
        cases.len()
    );
}
