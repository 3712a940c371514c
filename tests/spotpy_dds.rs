//! DDS against SPOTPY 1.6.7's: with the same `random_state`, our DDS asks the very points SPOTPY's DDS evaluates
//! (SPOTPY seeds numpy's legacy stream, which `LegacyRandom` reproduces, and consumes it in its bookkeeping,
//! which `Dds` skips alike), and reaches the same best. SPOTPY's values are replayed, so the comparison does
//! not depend on how either side rounds the test function; our functions are checked against them as well.
//! Needs `HYDROGRAD_PYTHON` (a Python with spotpy 1.6.7).

#[path = "support/python.rs"]
mod python_ref;

use hydrograd::samplers::driver::EvaluationError;
use hydrograd::samplers::functions::{ackley, griewank, rosenbrock};
use hydrograd::samplers::methods::dds::{Dds, DdsOptions};
use hydrograd::samplers::{Flow, Proposal, Space, search};
use python_ref::{bits, float, floats};
use serde_json::{Value, json};

/// Agreement required of every coordinate, relative to max(1, |x|).
const TOL: f64 = 1e-12;

/// Runs `tests/reference/spotpy/dds.py` on `request` (see `support/python.rs`).
fn python(request: &Value) -> Value {
    python_ref::run_json(&python_ref::reference_script("spotpy", "dds.py"), request, "spotpy 1.6.7")
}

struct Case {
    function: &'static str,
    bounds: Vec<(f64, f64)>,
    r: f64,
    repetitions: usize,
    trials: usize,
    seed: u32,
    x_initial: Option<Vec<f64>>,
}

impl Case {
    fn request(&self) -> Value {
        let bounds: Vec<[u64; 2]> = self.bounds.iter().map(|&(l, u)| [l.to_bits(), u.to_bits()]).collect();
        json!({
            "function": self.function, "bounds": bounds, "r": self.r, "repetitions": self.repetitions,
            "trials": self.trials, "seed": self.seed, "x_initial": self.x_initial.as_deref().map(bits),
        })
    }

    fn label(&self) -> String {
        format!(
            "{} {}-D r={} R={}×{} seed {}",
            self.function,
            self.bounds.len(),
            self.r,
            self.repetitions,
            self.trials,
            self.seed
        )
    }
}

fn symmetric(n: usize, b: f64) -> Vec<(f64, f64)> {
    vec![(-b, b); n]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * b.abs().max(1.0)
}

/// Replays SPOTPY's run of `case` through our DDS.
fn replay(case: &Case, reference: &Value) {
    let label = case.label();
    let points: Vec<Vec<f64>> = reference["points"].as_array().unwrap().iter().map(floats).collect();
    let values = floats(&reference["values"]);
    assert_eq!(points.len(), case.repetitions * case.trials, "{label}: SPOTPY evaluated {} points", points.len());
    let f: fn(&[f64]) -> f64 = match case.function {
        "rosenbrock" => rosenbrock,
        "griewank" => griewank,
        _ => ackley,
    };
    let names: Vec<String> = (0..case.bounds.len()).map(|i| format!("x{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let space = Space::uniform(&names, &case.bounds);
    let options = DdsOptions { r: case.r, trials: case.trials, x_initial: case.x_initial.clone() };
    let budget = case.repetitions * case.trials;
    let mut dds = Dds::new(space, options, case.seed, budget).unwrap();
    let mut objective = |first: usize, batch: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
        for (k, p) in batch.iter().enumerate() {
            let (i, expected) = (first + k, &points[first + k]);
            let same = p.x.iter().zip(expected).all(|(&a, &b)| close(a, b));
            assert!(same, "{label}: evaluation {i}: we ask {:?}, SPOTPY evaluated {expected:?}", p.x);
            assert_eq!(p.chain, Some(i / case.repetitions), "{label}: evaluation {i} in the wrong trial");
            let ours = f(&p.x);
            assert!(close(ours, values[i]), "{label}: evaluation {i}: f = {ours} here, {} in SPOTPY", values[i]);
        }
        Ok(values[first..first + batch.len()].to_vec())
    };
    let outcome = search(&mut dds, &mut objective, budget, &mut |_| Flow::Continue).unwrap();
    assert_eq!(outcome.evaluations, budget, "{label}");
    let trials = reference["trials"].as_array().unwrap();
    assert_eq!(trials.len(), case.trials);
    let best = trials.iter().min_by(|a, b| float(&a["value"]).total_cmp(&float(&b["value"]))).unwrap();
    assert_eq!(outcome.best_value.to_bits(), float(&best["value"]).to_bits(), "{label}: best value");
    assert_eq!(bits(&outcome.best_x), bits(&floats(&best["x"])), "{label}: best point");
}

#[test]
fn dds_asks_the_points_spotpy_evaluates() {
    let cases = [
        Case {
            function: "rosenbrock",
            bounds: symmetric(2, 10.0),
            r: 0.2,
            repetitions: 200,
            trials: 1,
            seed: 1,
            x_initial: None,
        },
        Case {
            function: "griewank",
            bounds: symmetric(5, 20.0),
            r: 0.2,
            repetitions: 500,
            trials: 1,
            seed: 7,
            x_initial: None,
        },
        Case {
            function: "ackley",
            bounds: symmetric(10, 32.768),
            r: 0.1,
            repetitions: 1000,
            trials: 1,
            seed: 42,
            x_initial: None,
        },
        // Python rounds 0.005·2500 = 12.5 half to even: 12 initial points
        Case {
            function: "ackley",
            bounds: symmetric(2, 32.768),
            r: 0.2,
            repetitions: 2500,
            trials: 1,
            seed: 5,
            x_initial: None,
        },
        // asymmetric bounds, a large r (many reflections and absorptions), two trials
        Case {
            function: "rosenbrock",
            bounds: vec![(-2.0, 3.0), (0.0, 5.0), (-1.0, 1.0)],
            r: 0.5,
            repetitions: 150,
            trials: 2,
            seed: 3,
            x_initial: None,
        },
        Case {
            function: "griewank",
            bounds: symmetric(4, 20.0),
            r: 0.3,
            repetitions: 100,
            trials: 2,
            seed: 11,
            x_initial: Some(vec![1.0, -2.5, 3.0, 19.0]),
        },
    ];
    let request = json!({ "cases": cases.iter().map(Case::request).collect::<Vec<_>>() });
    let reference = python(&request);
    let runs = reference["cases"].as_array().unwrap();
    assert_eq!(runs.len(), cases.len());
    for (case, run) in cases.iter().zip(runs) {
        replay(case, run);
    }
}
