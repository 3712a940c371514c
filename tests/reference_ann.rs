//! The `ann` regionalization mapping on Cance against smash 1.3 (golden case `cance_ann`): smash's
//! default graph and initialization (numpy's stream, seed 11), the gradient of the whole chain (network →
//! parameters → model → cost) against finite differences, training with Adam on two gauges from the same
//! first weights as smash (cost at every iteration, final cost, time), the third gauge held out, then the
//! trained network saved and reloaded by a later run.

mod common;

use common::{Golden, case};
use hydrograd::calibration::checkpoint::EvaluationLog;
use hydrograd::calibration::control::{ControlSpace, ControlTfm, Domain, Mapping, Selection};
use hydrograd::calibration::cost::GaugeCost;
use hydrograd::calibration::train::train;
use hydrograd::config::{Config, Precision};
use hydrograd::cost::RawCostOptions;
use hydrograd::model::ann::AnnShape;
use hydrograd::model::{Inputs, forward_cost, gauge_cells, gradient, initial_fields, load_inputs};
use hydrograd_models::adjoint::AdjointOptions;
use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn cance(precision: Precision, extra: &str, dir: &std::path::Path) -> (Config, Inputs) {
    let text = std::fs::read_to_string(case("cance_ann").join("config.toml")).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    let mut config = Config::from_file(&path).unwrap();
    config.cache_directory = dir.join("cache");
    config.precision = precision;
    let inputs = load_inputs(&config).unwrap();
    (config, inputs)
}

#[test]
fn ann_gradient_equals_finite_differences() {
    let dir = tempfile::tempdir().unwrap();
    let (config, inputs) = cance(Precision::F64, "", dir.path());
    let (parameters, states) = initial_fields(&config, &inputs).unwrap();
    let s = config.structure;
    let domain = Domain::of(&config, &inputs);
    let selection = Selection { random_state: 7, ..Selection::default() };
    let infos = (&s.parameters()[..], &s.states()[..]);
    let space =
        ControlSpace::new(Mapping::Ann, ControlTfm::Keep, &selection, infos, (&parameters, &states), &domain).unwrap();
    // smash's default graph on Cance: 2 descriptors, 4 parameters, 28 × 28
    assert_eq!(space.len(), AnnShape::smash_default(2, 4, 28, 28).len());
    assert_eq!(space.names()[0], "ann_weight_1-1-1");
    let cost = GaugeCost::new(&config, &inputs, &RawCostOptions::default(), "cost_options").unwrap();
    let cells = gauge_cells(&inputs.mesh);
    let x = space.first_guess(&parameters, &states);
    let at = |x: &[f64]| {
        let (mut p, mut st) = (parameters.clone(), states.clone());
        space.apply(x, &mut p, &mut st);
        (p, st)
    };
    let (p, st) = at(&x);
    let g = gradient(&config, &inputs, &p, &st, &cells, &cost, &AdjointOptions::default()).unwrap();
    let grad = space.pull_back(&x, &g.parameters, &g.states);
    let scale = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    let j = |x: &[f64]| {
        let (p, st) = at(x);
        forward_cost(&config, &inputs, &p, &st, &cells, &cost).unwrap().0
    };
    // the network runs in f32 (as smash's): steps of 1e-3 keep its round-off below the differences
    let mut worst: f64 = 0.0;
    for i in (0..x.len()).step_by(17).chain([x.len() - 1]) {
        let h = 1e-3;
        let (mut a, mut b) = (x.clone(), x.clone());
        a[i] += h;
        b[i] -= h;
        let fd = (j(&a) - j(&b)) / (2.0 * h);
        worst = worst.max((grad[i] - fd).abs() / scale);
        assert!(
            (grad[i] - fd).abs() <= 1e-2 * scale,
            "{}: adjoint {:e}, finite difference {fd:e}",
            space.names()[i],
            grad[i]
        );
    }
    println!(
        "ann on Cance: {} weights, largest error against finite differences {worst:.1e} of the largest entry",
        x.len()
    );
}

#[test]
fn ann_regionalization_trains_validates_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let stage = "[[train.stage]]\nmapping = \"ann\"\n[train.stage.optimize_options]\nrandom_state = 11\n\
                 termination_crit = { maxiter = 60 }\nlearning_rate = 0.01\n\
                 [train.stage.cost_options]\ngauge = [\"V3524010\", \"V3517010\"]\n\n\
                 [validation]\ngauge = [\"V3515010\"]\n";
    let (config, inputs) = cance(Precision::F32, stage, dir.path());
    let log = RefCell::new(EvaluationLog::in_memory());
    let start = Instant::now();
    let trained = train(&config, &inputs, &log, &AtomicBool::new(false), &mut |_, _| {}, None).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let (first, last) = (&trained.trace[0], trained.trace.last().unwrap());
    let golden = Golden::load("cance_ann", "ann.safetensors");
    let smash_costs = golden.get("iter_cost");
    let smash_seconds: f64 = golden.meta("seconds").parse().unwrap();
    let smash_final = golden.get("cost")[0];
    println!(
        "ann (adam, 60 iterations): J {:.5} -> {:.5} on V3524010 + V3517010 in {seconds:.1} s; smash J {:.5} (iteration 1) \
         -> {smash_final:.5} in {smash_seconds:.1} s ({:.1}x); held-out V3515010 {:.4} -> {:.4}",
        first.cost,
        last.cost,
        smash_costs[0],
        smash_seconds / seconds,
        first.validation.unwrap(),
        last.validation.unwrap()
    );
    assert_eq!(trained.stages[0].optimizer, "adam", "smash's default optimizer for ann");
    assert_eq!(trained.trace.len(), smash_costs.len() + 1, "iteration 0, then smash's iterations");
    // the same first weights (numpy's stream) and the same Adam: the first step lands where smash's does
    let ours_1 = trained.trace[1].cost;
    assert!(
        (ours_1 - smash_costs[0]).abs() <= 1e-3 * smash_costs[0],
        "iteration 1: J {ours_1} vs smash {}",
        smash_costs[0]
    );
    assert!(last.cost < 0.7 * first.cost, "training reduces the cost");
    assert!(last.cost <= smash_final * (1.0 + 1e-3), "final J {} vs smash {smash_final}", last.cost);
    let net = trained.parameters.ann.clone().expect("the trained network");

    // saved as train writes it, then loaded by a later run: the same parameter maps
    let out = dir.path().join("out");
    let file = hydrograd::model::ann_file::AnnFile {
        net,
        inputs: config.descriptor_name.clone(),
        tfm: config.descriptor_tfm,
        stats: Domain::of(&config, &inputs).descriptors.unwrap().stats.clone(),
    };
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("weights.safetensors");
    hydrograd::output::write_weights(&path, &config, &[], Some(&file)).unwrap();
    let reload = format!("[parameters]\nweights = \"{}\"\n", path.display());
    std::fs::create_dir_all(dir.path().join("reload")).unwrap();
    let (again, inputs2) = cance(Precision::F32, &reload, &dir.path().join("reload"));
    let (p, _) = initial_fields(&again, &inputs2).unwrap();
    for name in ["cp", "ct", "kexc", "llr"] {
        let (a, b) = (p.get(name).unwrap(), trained.parameters.get(name).unwrap());
        assert_eq!(a, b, "{name} from the reloaded network");
    }
}
