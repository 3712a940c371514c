//! Twin experiment on Cance for the derivative-free methods: discharge simulated with known uniform
//! parameters replaces the observations, and each method, run as a `train` search stage at a fixed
//! budget, must find parameters that reproduce it and lie near the known ones (the GP surrogate, for
//! budgets of a hundred, must beat random search). Reads smash's Cance dataset from the installed package (golden cases of
//! `tests/reference/make_golden.py`); fails, never skips, without it.

mod common;

use hydrograd::calibration::checkpoint::EvaluationLog;
use hydrograd::calibration::train::{Trained, train};
use hydrograd::config::Config;
use hydrograd::model::{Inputs, initial_fields, load_inputs, simulate_batch};
use std::cell::RefCell;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

/// The known parameters: cp [mm], ct [mm], kexc [mm/h], llr [min].
const TRUTH: [(&str, f64); 4] = [("cp", 180.0), ("ct", 450.0), ("kexc", -1.5), ("llr", 30.0)];

struct Twin {
    dir: tempfile::TempDir,
    base: String,
    inputs: Inputs,
}

fn twin() -> &'static Twin {
    static TWIN: OnceLock<Twin> = OnceLock::new();
    TWIN.get_or_init(|| {
        let d = common::smash_datasets();
        let cance = d.join("Cance");
        let base = format!(
            r#"[setup]
hydrological_module = "gr4"
routing_module = "lr"
dt = 3600
start_time = "2014-09-15 00:00"
end_time = "2014-11-14 00:00"
prcp_directory = "{c}/prcp"
prcp_conversion_factor = 0.1
pet_directory = "{c}/pet"
daily_interannual_pet = true
qobs_directory = "{c}/qobs"
[mesh]
flwdir = "{d}/France_flwdir.tif"
gauge_attributes = "{c}/gauge_attributes.csv"
"#,
            c = cance.display(),
            d = d.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let config = config_with(&dir, &base, "");
        let mut inputs = load_inputs(&config).unwrap();
        let (mut parameters, states) = initial_fields(&config, &inputs).unwrap();
        for (name, value) in TRUTH {
            parameters.get_mut(name).unwrap().fill(value);
        }
        let (q, _) = simulate_batch(&config, &inputs, &[parameters], &states).unwrap();
        inputs.qobs = Some(q);
        Twin { dir, base, inputs }
    })
}

fn config_with(dir: &tempfile::TempDir, base: &str, stage: &str) -> Config {
    let path = dir
        .path()
        .join(format!("cance-{:x}.toml", stage.len() * 31 + stage.bytes().map(|b| b as usize).sum::<usize>()));
    std::fs::write(&path, format!("{base}\n{stage}")).unwrap();
    let mut config = Config::from_file(&path).unwrap();
    config.cache_directory = dir.path().join("cache");
    config
}

/// Runs one search stage on the twin observations (in memory: no store on disk).
fn search(optimizer: &str, options: &str) -> Trained {
    search_seeded(optimizer, options, 3)
}

fn search_seeded(optimizer: &str, options: &str, seed: u32) -> Trained {
    let t = twin();
    let stage = format!(
        "[[train.stage]]\nmapping = \"uniform\"\noptimizer = \"{optimizer}\"\n[train.stage.optimize_options]\nrandom_state = {seed}\n{options}\n"
    );
    let config = config_with(&t.dir, &t.base, &stage);
    let log = RefCell::new(EvaluationLog::in_memory());
    train(&config, &t.inputs, &log, &AtomicBool::new(false), &mut |_, _| {}, None).unwrap()
}

/// The best cost (1 − NSE at the outlet) and the relative error of each recovered parameter.
fn recovered(trained: &Trained) -> (f64, Vec<(&'static str, f64)>) {
    let errors = TRUTH
        .iter()
        .map(|&(name, truth)| {
            let v = trained.parameters.get(name).unwrap()[0];
            (name, if name == "kexc" { (v - truth).abs() } else { (v - truth).abs() / truth })
        })
        .collect();
    (trained.stages[0].outcome.cost, errors)
}

fn assert_recovers(optimizer: &str, options: &str, max_cost: f64, max_error: f64) {
    let trained = search(optimizer, options);
    let (cost, errors) = recovered(&trained);
    println!(
        "{optimizer}: 1-NSE {cost:.3e}, errors {errors:?} ({} evaluations)",
        trained.stages[0].outcome.evaluations
    );
    assert!(cost <= max_cost, "{optimizer}: 1 − NSE {cost:e} > {max_cost:e}");
    for (name, e) in errors {
        assert!(e <= max_error, "{optimizer}: {name} off by {e} (relative; absolute for kexc), allowed {max_error}");
    }
}

#[test]
fn sceua_recovers_the_known_parameters() {
    assert_recovers("sceua", "max_evaluations = 3000\nngs = 4", 1e-5, 0.01);
}

#[test]
fn cmaes_recovers_the_known_parameters() {
    assert_recovers("cmaes", "max_evaluations = 3000", 1e-5, 0.01);
}

#[test]
fn pso_and_de_recover_the_known_parameters() {
    assert_recovers("pso", "max_evaluations = 3000", 1e-4, 0.01);
    assert_recovers("de", "max_evaluations = 3000\npopsize = 10", 1e-5, 0.01);
}

/// DDS, a greedy search that narrows its neighbourhood as the budget runs out, gets close but not to
/// 1 % at 3,000 evaluations (kexc is the least identifiable parameter).
#[test]
fn dds_approaches_the_known_parameters() {
    assert_recovers("dds", "max_evaluations = 3000", 1e-3, 0.6);
}

/// The GP surrogate is for budgets of a hundred evaluations: there it must beat random search (MC) in the
/// median over five seeds (measured: gp 0.193, mc 0.328, tpe 0.190 in 1 − NSE; gp 0.471 without the rank
/// warping of the costs).
#[test]
fn gp_beats_random_search_at_a_hundred_evaluations() {
    let median = |optimizer: &str| {
        let mut costs: Vec<f64> = (1..=5)
            .map(|seed| search_seeded(optimizer, "max_evaluations = 100", seed).stages[0].outcome.cost)
            .collect();
        costs.sort_by(f64::total_cmp);
        println!("{optimizer}: 1-NSE {costs:?} (100 evaluations)");
        costs[2]
    };
    let (gp, mc, tpe) = (median("gp"), median("mc"), median("tpe"));
    assert!(gp < mc, "gp {gp} vs mc {mc} (tpe {tpe})");
}
