//! Search stages of `hydrograd train` on the embedded demo: the samples store (one row per evaluation,
//! read back as one table), resuming after SIGKILL with every evaluation exactly once and the same result,
//! a finished run not redone, `--fresh`, the evaluation cache across runs, `save_runs`, and bad options
//! named in the error.

#[path = "support/demo_case.rs"]
mod demo_case;
#[path = "support/samples.rs"]
mod store;

use arrow_array::Float64Array;
use demo_case::DemoCase as Case;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs;
use store::{Row, samples};

const NAMES: [&str; 4] = ["cp", "ct", "kexc", "llr"];

fn sceua(budget: usize) -> String {
    format!(
        r#"
[[train.stage]]
mapping = "uniform"
optimizer = "sceua"
[train.stage.optimize_options]
max_evaluations = {budget}
random_state = 7
ngs = 4
save_runs = "best_n"
n = 3
"#
    )
}

#[test]
fn every_evaluation_is_one_row_of_the_store_and_the_best_is_saved() {
    let case = Case::new(&sceua(600));
    let stdout = case.train("out", &[], "cache");
    let rows = samples(&case.path("out/samples"), &NAMES);
    assert_eq!(rows.len(), 600, "{stdout}");
    assert!(rows.iter().enumerate().all(|(i, r)| r.eval_id == i as u64 && r.stage == 1));
    assert!(rows[..36].iter().all(|r| r.chain.is_none()), "the initial population (4 complexes × 9) has no complex");
    assert!(rows[36..].iter().all(|r| r.chain.is_some_and(|c| c < 4)), "CCE trials carry their complex");
    assert!(rows.iter().all(|r| !r.cached));
    let best = rows.iter().map(|r| f64::from_bits(r.cost)).fold(f64::INFINITY, f64::min);
    let first = rows[..36].iter().map(|r| f64::from_bits(r.cost)).fold(f64::INFINITY, f64::min);
    assert!(best < first, "SCE-UA improves on its initial population: {best} vs {first}");
    assert!(stdout.contains("sceua"), "{stdout}");
    assert!(case.path("out/runs/stage-1.parquet").exists() && case.path("out/trace.parquet").exists());
    // the three best sets, simulated again, 360 steps each
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(fs::File::open(case.path("out/runs/stage-1.parquet")).unwrap())
            .unwrap()
            .build()
            .unwrap();
    let mut n = 0;
    let mut costs = Vec::new();
    for b in reader {
        let b = b.unwrap();
        n += b.num_rows();
        let c = b.column_by_name("cost").unwrap();
        costs.extend(c.as_any().downcast_ref::<Float64Array>().unwrap().values().iter().copied());
    }
    assert_eq!(n, 3 * 360);
    assert_eq!(costs.iter().copied().fold(f64::INFINITY, f64::min), best);
    let again = case.train("out", &[], "cache");
    assert!(again.contains("nothing to do"), "{again}");
}

#[test]
fn a_killed_search_resumes_with_every_evaluation_once_and_the_same_result() {
    let budget = 6000;
    let case = Case::new(&sceua(budget));
    case.train("reference", &[], "cache-reference");
    let reference = samples(&case.path("reference/samples"), &NAMES);
    case.kill_after_parts("killed", "cache-killed", 2);
    let partial = samples(&case.path("killed/samples"), &NAMES);
    assert!(partial.len() < budget, "killed before the end");
    let stdout = case.train("killed", &[], "cache-killed");
    assert!(stdout.contains("resuming"), "{stdout}");
    let resumed = samples(&case.path("killed/samples"), &NAMES);
    let strip = |rows: &[Row]| rows.iter().map(|r| Row { cached: false, ..r.clone() }).collect::<Vec<_>>();
    assert_eq!(strip(&resumed), strip(&reference), "every evaluation exactly once, the same points and values");
    assert_eq!(
        fs::read(case.path("killed/parameters.safetensors")).ok().map(|b| b.len()),
        fs::read(case.path("reference/parameters.safetensors")).ok().map(|b| b.len())
    );
    // the cache of the killed run's problem now knows every set: a fresh run evaluates nothing
    case.train("killed", &["--fresh"], "cache-killed");
    let fresh = samples(&case.path("killed/samples"), &NAMES);
    assert_eq!(strip(&fresh), strip(&reference));
    assert!(fresh.iter().all(|r| r.cached), "every set came from the evaluation cache");
}

#[test]
fn bad_search_options_name_the_key() {
    for (extra, key) in [
        ("optimizer = \"sceua\"\n[train.stage.optimize_options]\nngs = 4", "max_evaluations"),
        ("optimizer = \"sceua\"\n[train.stage.optimize_options]\nmax_evaluations = 10\nngz = 4", "ngz"),
        (
            "optimizer = \"dds\"\n[train.stage.optimize_options]\nmax_evaluations = 10\npriors = { cp = { distribution = \"normal\", mean = 1 } }",
            "priors.cp",
        ),
        ("optimizer = \"sbs\"\n[train.stage.optimize_options]\nmax_evaluations = 10", "max_evaluations"),
        (
            "optimizer = \"sceua\"\n[train.stage.optimize_options]\nmax_evaluations = 10\ntermination_crit = { maxiter = 2 }",
            "termination_crit",
        ),
        ("optimizer = \"mc\"\n[train.stage.optimize_options]\nmax_evaluations = 10\nbehavioural = 1.5", "behavioural"),
        (
            "optimizer = \"mc\"\n[train.stage.optimize_options]\nmax_evaluations = 10\nbehavioural = 0.2\nbehavioural_threshold = 0.5",
            "behavioural_threshold",
        ),
        ("optimizer = \"sbs\"\n[train.stage.optimize_options]\nbehavioural = 0.1", "behavioural"),
    ] {
        let case = Case::new(&format!("[[train.stage]]\nmapping = \"uniform\"\n{extra}\n"));
        let o = case.run(&["train", "demo.toml", "--out", "out"], "cache");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && stderr.contains(key), "{extra}: {stderr}");
        assert!(!case.path("out/samples").exists(), "nothing written");
    }
}
