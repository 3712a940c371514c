//! smash 1.3's hybrid tutorial on Lez (golden case `lez_tutorial`) run from the example configuration
//! `configs/lez_hybrid.toml`: gr4_mlp with 12 hidden neurons, pretraining of cp, ct, kexc, llr (uniform
//! SBS, 2 iterations), weights he_uniform seed 23 scaled by 0.1, then L-BFGS-B on everything. hydrograd
//! must end at a cost no worse than smash's. Also: every initializer draws smash's values.

mod common;

use common::{Golden, example_config};
use hydrograd::calibration::checkpoint::{EvaluationLog, TraceRow};
use hydrograd::calibration::train::train;
use hydrograd::config::StageConfig;
use hydrograd::model::initializer::{InitSpec, Initializer, Tensors, initialize};
use hydrograd::model::load_inputs;
use hydrograd_models::nn::MlpShape;
use std::cell::RefCell;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const SHAPE: MlpShape = MlpShape { hidden: [12, 0] };

/// The tensors `prefix_weight_k` (or `_bias_k`) of the golden file, in the flat layout.
fn golden_tensors(golden: &Golden, prefix: &str, which: Tensors) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (k, &(o, i)) in SHAPE.layers().iter().enumerate() {
        let (start, name) = match which {
            Tensors::Weights => (offset, format!("{prefix}_weight_{}", k + 1)),
            Tensors::Biases => (offset + o * i, format!("{prefix}_bias_{}", k + 1)),
        };
        out.extend(golden.get(&name).iter().enumerate().map(|(j, &v)| (start + j, v)));
        offset += o * (i + 1);
    }
    out
}

#[test]
fn initializers_draw_smash_values() {
    let golden = Golden::load("lez_tutorial", "tutorial.safetensors");
    for name in Initializer::NAMES {
        let initializer = Initializer::from_name(name).unwrap();
        for (which, seed) in [(Tensors::Weights, 11), (Tensors::Biases, 12)] {
            let spec = InitSpec { initializer, random_state: Some(seed), scale: 1.0 };
            let mut ours = vec![f64::NAN; SHAPE.len()];
            initialize(&mut ours, SHAPE, which, &spec, seed);
            let expected = golden_tensors(&golden, &format!("init_{name}"), which);
            assert_eq!(expected.len(), if which == Tensors::Weights { 4 * 12 + 12 * 4 } else { 16 });
            for (k, v) in expected {
                assert_eq!(ours[k] as f32, v as f32, "{name} {which:?} [{k}]");
            }
        }
    }
    // the tutorial's start: he_uniform, seed 23, times 0.1 in float32
    let spec = InitSpec { initializer: Initializer::HeUniform, random_state: Some(23), scale: 0.1 };
    let mut ours = vec![0.0; SHAPE.len()];
    initialize(&mut ours, SHAPE, Tensors::Weights, &spec, 23);
    for (k, v) in golden_tensors(&golden, "start", Tensors::Weights) {
        assert_eq!(ours[k] as f32, v as f32, "tutorial start weight [{k}]");
    }
}

#[test]
fn lez_hybrid_tutorial_ends_no_worse_than_smash() {
    let golden = Golden::load("lez_tutorial", "tutorial.safetensors");
    let dir = tempfile::tempdir().unwrap();
    let config = example_config("lez_hybrid.toml", dir.path());
    assert_eq!(config.structure.hydrology.net(), Some(SHAPE));
    let inputs = load_inputs(&config).unwrap();
    let log = RefCell::new(EvaluationLog::in_memory());
    let start = Instant::now();
    let mut stage_seconds = [0.0f64; 2];
    let mut progress = |row: &TraceRow, _: &StageConfig| {
        stage_seconds[row.stage - 1] = row.seconds;
    };
    let trained = train(&config, &inputs, &log, &AtomicBool::new(false), &mut progress, None).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let (pre, fine) = (&trained.stages[0], &trained.stages[1]);
    let (smash_pre, smash_fine) = (golden.get("pretrain_cost")[0], golden.get("cost")[0]);
    let smash_seconds: f64 = golden.meta("finetune_seconds").parse().unwrap();
    let smash_pre_seconds: f64 = golden.meta("pretrain_seconds").parse().unwrap();
    let fine_seconds = stage_seconds[1] - stage_seconds[0];
    println!(
        "pretraining: J {:.6} (smash {smash_pre:.6}) in {:.2} s (smash {smash_pre_seconds:.2} s); \
         fine-tuning: J {:.6} after {} iterations (smash {smash_fine:.6} after {}) in {fine_seconds:.2} s \
         (smash {smash_seconds:.2} s, {:.1}x); whole run {seconds:.2} s",
        pre.outcome.cost,
        stage_seconds[0],
        fine.outcome.cost,
        fine.outcome.iterations,
        golden.meta("n_iter"),
        smash_seconds / fine_seconds,
    );
    assert!((pre.outcome.cost - smash_pre).abs() <= 1e-4, "pretraining J {} vs smash {smash_pre}", pre.outcome.cost);
    assert!(fine.outcome.cost <= smash_fine, "fine-tuning J {} worse than smash's {smash_fine}", fine.outcome.cost);
    assert_eq!(fine.names.len(), 4 + SHAPE.len(), "stage 2 trains the parameters and every weight");
}
