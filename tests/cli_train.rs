//! `hydrograd grad` and `hydrograd train` on the embedded demo: outputs, the trace, resuming after a
//! SIGKILL bit-identically, a finished run not redone, `--fresh`, another configuration refused, and a
//! bad stage key named in the error.

#[path = "support/demo_case.rs"]
mod demo_case;
#[path = "support/trace.rs"]
mod trace_rows;

use demo_case::DemoCase as Case;
use safetensors::SafeTensors;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const STAGES: &str = r#"
[[train.stage]]
mapping = "uniform"
optimizer = "sbs"
[train.stage.optimize_options]
termination_crit = { maxiter = 4 }

[[train.stage]]
mapping = "distributed"
optimizer = "lbfgsb"
[train.stage.optimize_options]
parameters = ["cp", "ct", "kexc", "llr", "hp"]
bounds = { cp = [1, 1500] }
termination_crit = { maxiter = 40 }
[train.stage.cost_options]
jobs_cmpt = ["nse", "kge"]
gauge = "all"
jreg_cmpt = "smoothing"
wjreg = 0.001
"#;

/// Tensors of a safetensors file, without its metadata.
fn tensors(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut t: Vec<_> = st.tensors().into_iter().map(|(n, v)| (n, v.data().to_vec())).collect();
    t.sort();
    t
}

/// `(stage, iteration, cost bits)` of every trace row.
fn trace(path: &Path) -> Vec<(i32, i32, u64)> {
    trace_rows::trace(path).into_iter().map(|(s, i, c)| (s, i, c.to_bits())).collect()
}

#[test]
fn grad_writes_one_map_per_variable_and_the_cost() {
    let case = Case::new("");
    let o = case.run(&["grad", "demo.toml", "--out", "g"], "cache");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = fs::read(case.path("g/gradient.safetensors")).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let cost: f64 = meta.metadata().as_ref().unwrap()["cost"].parse().unwrap();
    assert!(cost > 0.0 && cost < 2.0, "1 − NSE = {cost}");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = st.names().into_iter().map(|s| s.to_string()).collect();
    names.sort();
    assert_eq!(names, ["ci", "cp", "ct", "hi", "hlr", "hp", "ht", "kexc", "llr"]);
    let cp = st.tensor("cp").unwrap();
    assert_eq!(cp.shape(), [19, 18], "the demo mesh");
    let values: Vec<f32> = cp.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
    assert!(values.iter().all(|v| v.is_finite()), "0 outside active cells, finite inside");
    assert!(values.iter().any(|&v| v != 0.0));
}

#[test]
fn train_writes_every_output_and_a_trace_row_per_iteration() {
    let case = Case::new(STAGES);
    let stdout = case.train("out", &[], "cache");
    for f in ["parameters.safetensors", "initial_states.safetensors", "qsim.parquet", "trace.parquet", "report.html"] {
        assert!(case.path("out").join(f).is_file(), "{f} missing; stdout:\n{stdout}");
    }
    let rows = trace(&case.path("out/trace.parquet"));
    let stage1: Vec<_> = rows.iter().filter(|r| r.0 == 1).collect();
    let stage2: Vec<_> = rows.iter().filter(|r| r.0 == 2).collect();
    assert_eq!(stage1.first().map(|r| r.1), Some(0), "the first guess is iteration 0");
    assert!(stage1.len() >= 2 && stage2.len() >= 10, "{} + {} rows", stage1.len(), stage2.len());
    // each stage lowers its cost
    let cost = |r: &&(i32, i32, u64)| f64::from_bits(r.2);
    assert!(cost(stage1.last().unwrap()) < cost(stage1.first().unwrap()));
    assert!(cost(stage2.last().unwrap()) < cost(stage2.first().unwrap()));
    // a finished run is not redone
    let again = case.train("out", &[], "cache");
    assert!(again.contains("nothing to do"), "{again}");
}

#[test]
fn a_killed_run_resumes_and_ends_bit_identical() {
    let case = Case::new(STAGES);
    let reference = {
        case.train("reference", &[], "cache");
        (tensors(&case.path("reference/parameters.safetensors")), trace(&case.path("reference/trace.parquet")))
    };
    // kill -9 once a few iterations of the second stage are on disk
    let mut child = case.command(&["train", "demo.toml", "--out", "killed"], "cache").spawn().unwrap();
    let log = case.path("killed/.train/log.jsonl");
    let start = Instant::now();
    loop {
        let text = fs::read_to_string(&log).unwrap_or_default();
        if text.matches("\"stage\":2,\"iteration\"").count() >= 5 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(start.elapsed() < Duration::from_secs(120), "no progress in the log");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!case.path("killed/parameters.safetensors").exists(), "no output before the end");
    let stdout = case.train("killed", &[], "cache");
    assert!(stdout.contains("resuming"), "{stdout}");
    assert_eq!(tensors(&case.path("killed/parameters.safetensors")), reference.0, "calibrated maps differ");
    assert_eq!(trace(&case.path("killed/trace.parquet")), reference.1, "trace differs");
    // --fresh starts over and ends the same
    case.train("killed", &["--fresh"], "cache");
    assert_eq!(tensors(&case.path("killed/parameters.safetensors")), reference.0);
}

#[test]
fn another_configuration_in_the_same_folder_is_refused() {
    let case = Case::new(
        "[[train.stage]]\nmapping = \"uniform\"\n[train.stage.optimize_options]\ntermination_crit = { maxiter = 1 }\n",
    );
    case.train("out", &[], "cache");
    let text = fs::read_to_string(case.path("demo.toml")).unwrap();
    fs::write(case.path("demo.toml"), text.replace("maxiter = 1", "maxiter = 2")).unwrap();
    let o = case.run(&["train", "demo.toml", "--out", "out"], "cache");
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("another configuration") && stderr.contains("--fresh"), "{stderr}");
}

#[test]
fn bad_stage_options_name_the_key() {
    for (extra, needles) in [
        ("[[train.stage]]\nmapping = \"multi-quadratic\"\n", vec!["stage 1: mapping", "multi-quadratic"]),
        (
            "[[train.stage]]\nmapping = \"multi-linear\"\n[train.stage.optimize_options]\ndescriptor = { cp = [\"dd\"] }\n",
            vec!["optimize_options.descriptor.cp", "'dd' is not in setup.descriptor_name"],
        ),
        ("[[train.stage]]\noptimizer = \"bfgs\"\n", vec!["stage 1: optimizer", "bfgs"]),
        (
            "[[train.stage]]\n[train.stage.optimize_options]\nparameters = [\"ci\"]\n",
            vec!["'ci' is not an optimizable"],
        ),
        (
            "[[train.stage]]\n[train.stage.optimize_options]\ncontrol_tfm = \"sbs\"\noptimizer_x = 1\n",
            vec!["optimizer_x"],
        ),
        ("[[train.stage]]\n[train.stage.cost_options]\njobs_cmpt = \"nsee\"\n", vec!["jobs_cmpt", "nsee"]),
        ("[[train.stage]]\n[train.stage.optimize_options]\nbounds = { cp = [500, 100] }\n", vec!["bounds", "cp"]),
    ] {
        let case = Case::new(extra);
        let o = case.run(&["train", "demo.toml", "--out", "out"], "cache");
        assert!(!o.status.success(), "{extra}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        for n in needles {
            assert!(stderr.contains(n), "error for {extra:?} lacks '{n}':\n{stderr}");
        }
        assert!(!case.path("out/parameters.safetensors").exists());
    }
}

#[test]
fn ctrl_c_keeps_the_best_result_and_the_run_continues_later() {
    let case = Case::new(STAGES);
    let mut child = case
        .command(&["train", "demo.toml", "--out", "out"], "cache")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let log = case.path("out/.train/log.jsonl");
    let start = Instant::now();
    while fs::read_to_string(&log).unwrap_or_default().matches("\"stage\":2,\"iteration\"").count() < 3 {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before the interrupt");
        assert!(start.elapsed() < Duration::from_secs(120), "no progress in the log");
        std::thread::sleep(Duration::from_millis(2));
    }
    // SIGINT, as Ctrl-C on a terminal
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2), "an interrupted run exits with status 2");
    let bytes = fs::read(case.path("out/parameters.safetensors")).expect("the best result so far is written");
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(meta.metadata().as_ref().unwrap()["interrupted"], "true");
    let interrupted = trace(&case.path("out/trace.parquet"));
    // the same command continues the run to its end
    let stdout = case.train("out", &[], "cache");
    assert!(stdout.contains("resuming"), "{stdout}");
    let done = trace(&case.path("out/trace.parquet"));
    assert!(done.len() > interrupted.len() && done[..interrupted.len()] == interrupted[..]);
}

#[test]
fn fast_and_lcurve_wjreg_weigh_the_regularization() {
    for rule in ["fast", "lcurve"] {
        let case = Case::new(&format!(
            "[[train.stage]]\nmapping = \"distributed\"\n[train.stage.optimize_options]\ntermination_crit = {{ maxiter = 5 }}\n\
             [train.stage.cost_options]\njreg_cmpt = \"smoothing\"\nwjreg = \"{rule}\"\n"
        ));
        let stdout = case.train("out", &[], "cache");
        let line = stdout.lines().find(|l| l.starts_with("stage 1:")).unwrap();
        let w: f64 = line.rsplit("wjreg ").next().unwrap().parse().unwrap_or_else(|_| panic!("no wjreg in {line}"));
        assert!(w > 0.0 && w.is_finite(), "{rule}: {line}");
        // the trace holds the unregularized run(s) that chose the weight, then the final one
        let rows = trace(&case.path("out/trace.parquet"));
        let starts = rows.iter().filter(|r| r.1 == 0).count();
        assert_eq!(starts, if rule == "fast" { 2 } else { 7 }, "{rule}: optimizer runs in the trace");
    }
}

/// The demo as gr4_mlp with a small network, with `extra` appended.
fn hybrid_case(hidden: &str, extra: &str) -> Case {
    let case = Case::new(extra);
    let path = case.path("demo.toml");
    let text = fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "hydrological_module = \"gr4\"",
        &format!("hydrological_module = \"gr4_mlp\"\nhidden_neuron = {hidden}"),
        1,
    );
    fs::write(&path, text).unwrap();
    case
}

#[test]
fn hybrid_training_writes_weights_that_run_reloads() {
    let stage = "[[train.stage]]\nmapping = \"uniform\"\noptimizer = \"lbfgsb\"\n[train.stage.optimize_options]\n\
                 termination_crit = { maxiter = 3 }\n";
    let case = hybrid_case("[5, 3]", stage);
    let o = case.run(&["train", "demo.toml", "--out", "out"], "cache");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = fs::read(case.path("out/weights.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("weight_1").unwrap().shape(), [5, 4]);
    assert_eq!(st.tensor("weight_3").unwrap().shape(), [4, 3]);
    // by default a stage trains the network too: from zero, the last bias moves first
    let bias: Vec<f64> = st
        .tensor("bias_3")
        .unwrap()
        .data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert!(bias.iter().any(|&b| b != 0.0), "bias_3 {bias:?}");

    // reloading: `run` takes the trained maps and weights
    let reload = format!(
        "[parameters]\nfile = \"{}\"\nweights = \"{}\"\n",
        case.path("out/parameters.safetensors").display(),
        case.path("out/weights.safetensors").display()
    );
    let again = hybrid_case("[5, 3]", &reload);
    let o = again.run(&["run", "demo.toml", "--out", "run"], "cache");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(again.path("run/qsim.parquet").is_file());
    // `grad` adds ∂J/∂weights under the same tensor names
    let o = again.run(&["grad", "demo.toml", "--out", "grad"], "cache");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = fs::read(again.path("grad/weights_gradient.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let g: Vec<f64> = st
        .tensor("bias_3")
        .unwrap()
        .data()
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert!(g.len() == 4 && g.iter().all(|v| v.is_finite()) && g.iter().any(|&v| v != 0.0), "{g:?}");

    // another network shape is refused, naming the mismatch
    let other = hybrid_case("8", &reload);
    let o = other.run(&["run", "demo.toml", "--out", "run"], "cache");
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("hidden_neuron [5,3]") && stderr.contains("[8]"), "{stderr}");
}

/// The `validation` column of a trace.
fn validation_column(path: &Path) -> Vec<Option<f64>> {
    use arrow_array::{Array, Float64Array};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap().build().unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let b = batch.unwrap();
        let c = b.column(b.schema().index_of("validation").unwrap()).clone();
        let c = c.as_any().downcast_ref::<Float64Array>().unwrap();
        out.extend((0..c.len()).map(|k| (!c.is_null(k)).then(|| c.value(k))));
    }
    out
}

#[test]
fn held_out_gauges_are_scored_at_every_iteration() {
    use hydrograd::calibration::checkpoint::EvaluationLog;
    use hydrograd::calibration::cost::GaugeCost;
    use hydrograd::calibration::train::train;
    use hydrograd::config::Config;
    use hydrograd::model::{forward_cost, gauge_cells, load_inputs};
    use std::cell::RefCell;
    use std::sync::atomic::AtomicBool;

    let extra = "[[train.stage]]\nmapping = \"uniform\"\noptimizer = \"lbfgsb\"\n\
                 [train.stage.optimize_options]\ntermination_crit = { maxiter = 5 }\n\
                 [train.stage.cost_options]\ngauge = [\"DEMO01\"]\n\n\
                 [validation]\ngauge = [\"DEMO02\"]\njobs_cmpt = \"nse\"\n";
    let case = Case::new(extra);
    let stdout = case.train("out", &[], "cache");
    assert!(stdout.contains("validation J"), "{stdout}");
    let column = validation_column(&case.path("out/trace.parquet"));
    assert!(column.len() > 2 && column.iter().all(Option::is_some), "{column:?}");
    let report = fs::read_to_string(case.path("out/report.html")).unwrap();
    assert!(report.contains("s-validation"), "the report draws the validation cost");

    // the trace's last validation cost is 1 − NSE at DEMO02 with the trained parameters
    let mut config = Config::from_file(&case.path("demo.toml")).unwrap();
    config.cache_directory = case.path("cache");
    let inputs = load_inputs(&config).unwrap();
    let log = RefCell::new(EvaluationLog::in_memory());
    let trained = train(&config, &inputs, &log, &AtomicBool::new(false), &mut |_, _| {}, None).unwrap();
    let validation = GaugeCost::new(&config, &inputs, config.validation.as_ref().unwrap(), "validation").unwrap();
    let cells = gauge_cells(&inputs.mesh);
    let (j, _) = forward_cost(&config, &inputs, &trained.parameters, &trained.states, &cells, &validation).unwrap();
    let last = trained.trace.last().unwrap();
    let close = |v: f64| (v - j).abs() <= 1e-6 * j.abs();
    assert!(close(last.validation.unwrap()), "validation cost at the result {:?} vs {j}", last.validation);
    assert!(close(column.last().unwrap().unwrap()), "the CLI's trace");
    assert!((last.jobs - j).abs() > 1e-4, "training and validation gauges differ");
}

#[test]
fn ann_training_writes_a_network_that_run_reloads() {
    let stage = "[[train.stage]]\nmapping = \"ann\"\n[train.stage.optimize_options]\nrandom_state = 5\n\
                 termination_crit = { maxiter = 5 }\nnet = { layers = [8, 4], activation = [\"relu\", \"silu\"] }\n";
    let case = Case::new(stage);
    let stdout = case.train("out", &[], "cache");
    assert!(stdout.contains("ann adam"), "{stdout}");
    let bytes = fs::read(case.path("out/weights.safetensors")).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().clone().unwrap();
    assert_eq!((meta["ann_inputs"].as_str(), meta["ann_layers"].as_str()), ("slope", "8,4,4"));
    assert_eq!(meta["ann_activations"], "relu,silu,tanh");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("ann_weight_1").unwrap().shape(), [8, 1]);
    assert_eq!(st.tensor("ann_weight_3").unwrap().shape(), [4, 4]);

    // a later run maps the descriptors through the saved network: the trained maps
    let reload = format!("[parameters]\nweights = \"{}\"\n", case.path("out/weights.safetensors").display());
    let again = Case::new(&reload);
    let o = again.run(&["run", "demo.toml", "--out", "run"], "cache");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trained = tensors(&case.path("out/parameters.safetensors"));
    let reloaded = tensors(&again.path("run/parameters.safetensors"));
    for name in ["cp", "ct", "kexc", "llr"] {
        let find = |t: &[(String, Vec<u8>)]| t.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(find(&reloaded), find(&trained), "{name}");
    }
    // a network of other descriptors is refused, naming both lists
    let text = fs::read_to_string(again.path("demo.toml"))
        .unwrap()
        .replace("descriptor_name = [\"slope\"]", "descriptor_name = []");
    fs::write(again.path("demo.toml"), text.replace("descriptor_directory", "# descriptor_directory")).unwrap();
    let o = again.run(&["run", "demo.toml", "--out", "run2"], "cache");
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("descriptors [slope]"), "{stderr}");
}
