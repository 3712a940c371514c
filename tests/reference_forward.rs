//! Forward runs against smash 1.3 on its shipped datasets (golden files from `tests/reference/make_golden.py`).
//!
//! Acceptance (issue 2): discharge at every gauge within `1e-4 · max(q_smash)`, `ci` identical, the cost
//! `1 − NSE` at the outlet within 1e-5, for gr4 with lr, kw, lag0 and zero routing, hourly (Cance) and
//! daily (Lez), and a run with forcing gaps.

mod common;

use common::{Golden, case};
use hydrograd::config::Config;
use hydrograd::cost::metrics::nse;
use hydrograd::model::{Inputs, Simulation, load_inputs, simulate};

fn run(name: &str) -> (Config, Inputs, Simulation) {
    let mut config = Config::from_file(&case(name).join("config.toml")).unwrap();
    // a fresh cache: the whole pipeline runs, nothing comes from an earlier build's cache
    let cache = tempfile::tempdir().unwrap();
    config.cache_directory = cache.path().to_path_buf();
    let inputs = load_inputs(&config).unwrap_or_else(|e| panic!("{name}: {e}"));
    let sim = simulate(&config, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
    (config, inputs, sim)
}

/// `[nrow, ncol]` golden map values on the active cells, in routing order.
fn on_cells(map: &[f64], inputs: &Inputs) -> Vec<f64> {
    inputs.mesh.routing_order.iter().map(|&c| map[c]).collect()
}

fn check_case(name: &str) {
    let (config, inputs, sim) = run(name);
    let golden = Golden::load(name, "forward.safetensors");
    let nt = config.time.ntime;
    let g = inputs.mesh.gauges.len();
    assert_eq!(golden.shape("qsim"), &[g, nt], "{name}: gauges × steps");
    let q_ref = golden.get("qsim");
    for (j, gauge) in inputs.mesh.gauges.iter().enumerate() {
        let reference = &q_ref[j * nt..(j + 1) * nt];
        let peak = reference.iter().cloned().fold(0.0, f64::max);
        let (worst_t, worst) = (0..nt)
            .map(|t| (t, (sim.qsim[t * g + j] as f64 - reference[t]).abs()))
            .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
        assert!(
            worst <= 1e-4 * peak,
            "{name} gauge {}: max |q − q_smash| = {worst:e} at step {worst_t} (q = {}, smash {}), peak {peak}",
            gauge.code,
            sim.qsim[worst_t * g + j],
            reference[worst_t]
        );
    }

    let ci = on_cells(golden.get("ci"), &inputs);
    let ours = sim.parameters.get("ci").unwrap();
    for (i, (&a, &b)) in ours.iter().zip(&ci).enumerate() {
        assert_eq!(a as f32, b as f32, "{name}: ci differs at active cell {i} (cell {})", inputs.mesh.routing_order[i]);
    }
    for name_p in sim.parameters.names.iter().filter(|&&n| n != "ci") {
        let reference = on_cells(golden.get(name_p), &inputs);
        for (a, b) in sim.parameters.get(name_p).unwrap().iter().zip(&reference) {
            assert_eq!(*a as f32, *b as f32, "{name}: parameter {name_p}");
        }
    }
    check_final_states(name, &inputs, &sim, &golden);

    // smash's J: 1 − NSE at the most downstream gauge
    let qobs = inputs.qobs.as_ref().expect("golden configs read qobs");
    let outlet = inputs
        .mesh
        .gauges
        .iter()
        .position(|gauge| inputs.mesh.flwdst[inputs.mesh.grid.index(gauge.row, gauge.col)] == 0.0)
        .unwrap();
    let column = |v: &[f32]| -> Vec<f32> { v.iter().skip(outlet).step_by(g).copied().collect() };
    let cost = 1.0 - nse(&column(qobs), &column(&sim.qsim)).unwrap();
    let cost_ref = golden.get("cost")[0];
    assert!((cost as f64 - cost_ref).abs() <= 1e-5, "{name}: cost {cost} vs smash {cost_ref}");
}

/// Final states within `1e-4 ·` their largest value (levels in (0, 1); mm for hlr, with a floor of 1e-2
/// that keeps near-empty stores, hlr ≈ 1e-6 mm, to float32 noise).
fn check_final_states(name: &str, inputs: &Inputs, sim: &Simulation, golden: &Golden) {
    for state in &sim.final_states.names {
        let reference = on_cells(golden.get(state), inputs);
        let ours = sim.final_states.get(state).unwrap();
        let scale = reference.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-2);
        for (i, (a, b)) in ours.iter().zip(&reference).enumerate() {
            assert!((a - b).abs() <= 1e-4 * scale, "{name}: final state {state} at active cell {i}: {a} vs smash {b}");
        }
    }
}

#[test]
fn france_parameters_and_final_states_equal_smash() {
    // 906,044 ungauged cells × 32 hourly steps: every cell's ci and final states
    let (_, inputs, sim) = run("france");
    let golden = Golden::load("france", "forward.safetensors");
    for p in &sim.parameters.names {
        let reference = on_cells(golden.get(p), &inputs);
        let ours = sim.parameters.get(p).unwrap();
        if let Some(i) = ours.iter().zip(&reference).position(|(a, b)| *a as f32 != *b as f32) {
            panic!("france: {p} differs at active cell {i}: {} vs smash {}", ours[i], reference[i]);
        }
    }
    check_final_states("france", &inputs, &sim, &golden);
}

#[test]
fn cance_lr_equals_smash() {
    check_case("cance");
}

#[test]
fn cance_kw_equals_smash() {
    check_case("cance_kw");
}

#[test]
fn cance_lag0_equals_smash() {
    check_case("cance_lag0");
}

#[test]
fn cance_zero_equals_smash() {
    check_case("cance_zero");
}

#[test]
fn cance_with_forcing_gaps_equals_smash() {
    check_case("cance_gaps");
}

#[test]
fn lez_daily_equals_smash() {
    check_case("lez");
}

#[test]
fn f64_run_stays_within_float32_tolerance_of_smash() {
    let (mut config, inputs, _) = run("cance");
    config.precision = hydrograd::config::Precision::F64;
    let sim = simulate(&config, &inputs).unwrap();
    let golden = Golden::load("cance", "forward.safetensors");
    let (nt, g) = (config.time.ntime, inputs.mesh.gauges.len());
    let q_ref = golden.get("qsim");
    let peak = q_ref[..nt].iter().cloned().fold(0.0, f64::max);
    for (t, &reference) in q_ref[..nt].iter().enumerate() {
        let d = (sim.qsim[t * g] as f64 - reference).abs();
        assert!(d <= 1e-3 * peak, "step {t}: f64 {} vs smash {reference}", sim.qsim[t * g]);
    }
}
