//! The regionalization mappings multi-linear and multi-power against smash 1.3 on Cance (golden case
//! `cance_regional`, descriptors slope and dd): control names, first guess and bounds; the parameter maps
//! and ∂J/∂x of the default cost at the first guess and at a perturbed control vector (smash's Tapenade
//! adjoint through its mapping); finite differences in f64; and the multi-linear calibration with smash's
//! defaults (L-BFGS-B, 100 iterations) ending no worse than smash's.

mod common;

use common::{Golden, case};
use hydrograd::calibration::checkpoint::EvaluationLog;
use hydrograd::calibration::control::{ControlSpace, ControlTfm, Domain, Mapping, Selection};
use hydrograd::calibration::cost::GaugeCost;
use hydrograd::calibration::train::train;
use hydrograd::config::{Config, DescriptorTfm, Precision};
use hydrograd::cost::RawCostOptions;
use hydrograd::model::{Inputs, forward_cost, gauge_cells, gradient, initial_fields, load_inputs};
use hydrograd_models::adjoint::AdjointOptions;
use std::cell::RefCell;
use std::sync::atomic::AtomicBool;

/// `(golden tag, mapping, descriptor_tfm)`, as `dump_regional` in make_golden.py.
const MAPPINGS: [(&str, Mapping, DescriptorTfm); 2] =
    [("ml", Mapping::MultiLinear, DescriptorTfm::Standardize), ("mp", Mapping::MultiPower, DescriptorTfm::Normalize)];

fn inputs(tfm: DescriptorTfm, precision: Precision) -> (Config, Inputs, tempfile::TempDir) {
    let mut config = Config::from_file(&case("cance_regional").join("config.toml")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    config.cache_directory = cache.path().to_path_buf();
    config.descriptor_tfm = tfm;
    config.precision = precision;
    let inputs = load_inputs(&config).unwrap();
    (config, inputs, cache)
}

fn space(config: &Config, inputs: &Inputs, mapping: Mapping) -> ControlSpace {
    let (parameters, states) = initial_fields(config, inputs).unwrap();
    let s = config.structure;
    let infos = (&s.parameters()[..], &s.states()[..]);
    let domain = Domain::of(config, inputs);
    ControlSpace::new(mapping, ControlTfm::Normalize, &Selection::default(), infos, (&parameters, &states), &domain)
        .unwrap()
}

/// `(J, ∂J/∂x)` of smash's default cost at control vector `x`.
fn cost_and_gradient(config: &Config, inputs: &Inputs, space: &ControlSpace, x: &[f64]) -> (f64, Vec<f64>) {
    let (mut parameters, mut states) = initial_fields(config, inputs).unwrap();
    space.apply(x, &mut parameters, &mut states);
    let cost = GaugeCost::new(config, inputs, &RawCostOptions::default(), "cost_options").unwrap();
    let cells = gauge_cells(&inputs.mesh);
    let g = gradient(config, inputs, &parameters, &states, &cells, &cost, &AdjointOptions::default()).unwrap();
    (g.cost, space.pull_back(x, &g.parameters, &g.states))
}

fn relative_l2(ours: &[f64], reference: &[f64]) -> f64 {
    let diff: f64 = ours.iter().zip(reference).map(|(a, b)| (a - b).powi(2)).sum();
    (diff / reference.iter().map(|b| b * b).sum::<f64>()).sqrt()
}

#[test]
fn mappings_and_their_gradients_equal_smash() {
    let golden = Golden::load("cance_regional", "regional.safetensors");
    for (tag, mapping, tfm) in MAPPINGS {
        let (config, inputs, _cache) = inputs(tfm, Precision::F32);
        let space = space(&config, &inputs, mapping);
        assert_eq!(space.names().join(","), golden.meta(&format!("{tag}_names")), "{tag}: control names");
        let (parameters, states) = initial_fields(&config, &inputs).unwrap();
        let x0 = space.first_guess(&parameters, &states);
        for (a, b) in x0.iter().zip(golden.get(&format!("{tag}_x0"))) {
            assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{tag}: first guess {x0:?}");
        }
        let bounds = space.bounds();
        assert_eq!(bounds.lower, golden.get(&format!("{tag}_l")), "{tag}: lower bounds");
        assert_eq!(bounds.upper, golden.get(&format!("{tag}_u")), "{tag}: upper bounds");

        // the parameter maps at the perturbed point
        let x1 = golden.get(&format!("{tag}_x1")).to_vec();
        let (mut p1, mut s1) = (parameters.clone(), states.clone());
        space.apply(&x1, &mut p1, &mut s1);
        let cells = inputs.mesh.grid.len();
        for var in &space.variables {
            let name = var.info.name;
            let smash = golden.get(&format!("{tag}_x1_{name}"));
            assert_eq!(smash.len(), cells);
            // smash computes l + (u − l)·σ in f32: an absolute rounding of ~1e-7·(u − l)
            let tolerance = |s: f64| 1e-6 * s.abs() + 2e-7 * (var.bounds.1 - var.bounds.0);
            for (&v, &cell) in p1.get(name).unwrap().iter().zip(&inputs.mesh.routing_order) {
                let s = smash[cell];
                assert!((v - s).abs() <= tolerance(s), "{tag} {name} at cell {cell}: {v} vs smash {s}");
            }
        }

        for (point, x) in [("0", x0), ("1", x1)] {
            let (j, grad) = cost_and_gradient(&config, &inputs, &space, &x);
            let smash_j = golden.get(&format!("{tag}_cost"))[if point == "0" { 0 } else { 1 }];
            let smash = golden.get(&format!("{tag}_grad{point}"));
            let err = relative_l2(&grad, smash);
            println!("{tag} at x{point}: J {j:.7} (smash {smash_j:.7}), ∂J/∂x relative L2 error {err:.2e}");
            // f32 round-off: with smash's own parameter maps at x1 our f32 J is 1.5e-5 (relative) from the
            // f64 value, smash's 5e-6
            assert!((j - smash_j).abs() <= 5e-5 * smash_j, "{tag} at x{point}: J {j} vs smash {smash_j}");
            assert!(err <= 1e-3, "{tag} at x{point}: ours {grad:?}\nsmash {smash:?}");
        }
    }
}

#[test]
fn mapping_gradients_equal_finite_differences_in_f64() {
    let golden = Golden::load("cance_regional", "regional.safetensors");
    for (tag, mapping, tfm) in MAPPINGS {
        let (config, inputs, _cache) = inputs(tfm, Precision::F64);
        let space = space(&config, &inputs, mapping);
        let x = golden.get(&format!("{tag}_x1")).to_vec();
        let (_, grad) = cost_and_gradient(&config, &inputs, &space, &x);
        let cost = GaugeCost::new(&config, &inputs, &RawCostOptions::default(), "cost_options").unwrap();
        let cells = gauge_cells(&inputs.mesh);
        let j = |x: &[f64]| {
            let (mut p, mut s) = initial_fields(&config, &inputs).unwrap();
            space.apply(x, &mut p, &mut s);
            forward_cost(&config, &inputs, &p, &s, &cells, &cost).unwrap().0
        };
        let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for i in 0..x.len() {
            let h = 1e-5;
            let (mut a, mut b) = (x.clone(), x.clone());
            a[i] += h;
            b[i] -= h;
            let fd = (j(&a) - j(&b)) / (2.0 * h);
            println!("{tag} ∂J/∂x[{i}] = {:.8e}, finite difference {fd:.8e}", grad[i]);
            assert!((grad[i] - fd).abs() <= 1e-5 * scale, "{tag} control {i}: {} vs {fd}", grad[i]);
        }
    }
}

#[test]
fn cance_multi_linear_lbfgsb_ends_no_worse_than_smash() {
    let golden = Golden::load("cance_regional", "regional.safetensors");
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(case("cance_regional").join("config.toml")).unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, format!("{text}\n[[train.stage]]\nmapping = \"multi-linear\"\n")).unwrap();
    let mut config = Config::from_file(&path).unwrap();
    config.cache_directory = dir.path().join("cache");
    let inputs = load_inputs(&config).unwrap();
    let log = RefCell::new(EvaluationLog::in_memory());
    let start = std::time::Instant::now();
    let trained = train(&config, &inputs, &log, &AtomicBool::new(false), &mut |_, _| {}, None).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let stage = &trained.stages[0];
    let j: f64 = golden.get("ml_optimize_cost")[0];
    let smash_seconds: f64 = golden.meta("ml_optimize_seconds").parse().unwrap();
    println!(
        "multi-linear L-BFGS-B: {} iterations, J = {:.7} in {seconds:.2} s (smash {j:.7} after {} iterations in \
         {smash_seconds:.1} s: {:.1}× faster)",
        stage.outcome.iterations,
        stage.outcome.cost,
        golden.meta("ml_optimize_n_iter"),
        smash_seconds / seconds
    );
    assert_eq!(stage.names.len(), 12);
    assert!(stage.outcome.cost <= j + 1e-4, "J {} vs smash {j}", stage.outcome.cost);
}

#[test]
fn example_regionalization_trains_on_two_gauges_and_scores_the_third() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::example_config("cance_regionalization.toml", dir.path());
    let inputs = load_inputs(&config).unwrap();
    let log = RefCell::new(EvaluationLog::in_memory());
    let trained = train(&config, &inputs, &log, &AtomicBool::new(false), &mut |_, _| {}, None).unwrap();
    let (first, last) = (&trained.trace[0], trained.trace.last().unwrap());
    let (v0, v1) = (first.validation.unwrap(), last.validation.unwrap());
    println!(
        "multi-linear on V3524010 + V3517010: J {:.4} -> {:.4}; held-out V3515010: J {v0:.4} -> {v1:.4}",
        first.cost, last.cost
    );
    assert!(trained.trace.iter().all(|r| r.validation.is_some_and(f64::is_finite)));
    assert!(last.cost < first.cost, "training improves the cost");
    assert_eq!(trained.stages[0].validation, Some(v1));
}
