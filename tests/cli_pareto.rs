//! Multi-objective search stages of `hydrograd train` on the embedded demo: NSGA-II on (NSE, PBIAS) at both
//! gauges. The store's `obj_nse` and `obj_pbias` equal the objectives recomputed from the saved discharge and
//! the observation files; the Pareto file holds exactly the store's non-dominated rows and the stage passes
//! on their compromise; a run killed by SIGKILL resumes to the same store and front; and `objectives` is
//! refused where it does not belong, naming the key.

#[path = "support/demo_case.rs"]
mod demo_case;

use arrow_array::{Array, Float32Array, Float64Array, UInt64Array};
use demo_case::DemoCase as Case;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn configs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs")
}

const NAMES: [&str; 4] = ["cp", "ct", "kexc", "llr"];
const GAUGES: [&str; 2] = ["DEMO01", "DEMO02"];

/// An NSGA-II stage on −NSE and |PBIAS| at both gauges (weights 1/2).
fn nsgaii(budget: usize, n_pop: usize, save_runs: &str) -> String {
    format!(
        r#"
[[train.stage]]
mapping = "uniform"
optimizer = "nsgaii"
[train.stage.optimize_options]
max_evaluations = {budget}
random_state = 5
n_pop = {n_pop}
objectives = ["nse", "pbias"]
save_runs = "{save_runs}"
[train.stage.cost_options]
gauge = "all"
"#
    )
}

/// The Float64 and UInt64 columns `names` of every part of `path` (a file or a dataset folder), by `eval_id`.
fn table(path: &Path, names: &[&str]) -> BTreeMap<u64, Vec<f64>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut f: Vec<PathBuf> = fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("part-"))
            .collect();
        f.sort();
        f
    } else {
        vec![path.to_path_buf()]
    };
    let mut rows = BTreeMap::new();
    for file in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&file).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            let b = batch.unwrap();
            let ids = b.column_by_name("eval_id").unwrap().as_any().downcast_ref::<UInt64Array>().unwrap().clone();
            let columns: Vec<Float64Array> = names
                .iter()
                .map(|n| {
                    let c = b.column_by_name(n).unwrap_or_else(|| panic!("{}: no column {n}", file.display()));
                    c.as_any().downcast_ref::<Float64Array>().unwrap().clone()
                })
                .collect();
            for i in 0..b.num_rows() {
                let values = columns.iter().map(|c| if c.is_null(i) { f64::NAN } else { c.value(i) }).collect();
                assert!(rows.insert(ids.value(i), values).is_none(), "eval_id {} twice", ids.value(i));
            }
        }
    }
    rows
}

/// The observed discharge of `code` on the demo's 360 steps: row `1 + k` of its file for step `k`.
fn observed(code: &str) -> Vec<f64> {
    let text = fs::read_to_string(configs().join(format!("demo/qobs/{code}.csv"))).unwrap();
    let values: Vec<f64> = text.lines().skip(1).map(|l| l.trim().parse::<f32>().unwrap() as f64).collect();
    values[1..=360].to_vec()
}

/// `(−NSE, |PBIAS|)` of `sim` against `obs` on the observed steps (SPOTPY's formulas).
fn objectives(obs: &[f64], sim: &[f64]) -> (f64, f64) {
    let (o, s): (Vec<f64>, Vec<f64>) = obs.iter().zip(sim).filter(|(o, _)| **o >= 0.0).map(|(o, s)| (*o, *s)).unzip();
    let mean = o.iter().sum::<f64>() / o.len() as f64;
    let sse: f64 = o.iter().zip(&s).map(|(o, s)| (s - o).powi(2)).sum();
    let var: f64 = o.iter().map(|o| (o - mean).powi(2)).sum();
    let bias = 100.0 * o.iter().zip(&s).map(|(o, s)| s - o).sum::<f64>() / o.iter().sum::<f64>();
    (-(1.0 - sse / var), bias.abs())
}

/// The discharge per `eval_id` and gauge `[G][T]` of `runs/stage-1.parquet`.
fn saved_runs(path: &Path) -> BTreeMap<u64, Vec<Vec<f64>>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap().build().unwrap();
    let mut runs: BTreeMap<u64, Vec<Vec<f64>>> = BTreeMap::new();
    for batch in reader {
        let b = batch.unwrap();
        let ids = b.column_by_name("eval_id").unwrap().as_any().downcast_ref::<UInt64Array>().unwrap().clone();
        let q: Vec<Float32Array> = GAUGES
            .iter()
            .map(|g| b.column_by_name(g).unwrap().as_any().downcast_ref::<Float32Array>().unwrap().clone())
            .collect();
        for i in 0..b.num_rows() {
            let run = runs.entry(ids.value(i)).or_insert_with(|| vec![Vec::new(); GAUGES.len()]);
            for (series, column) in run.iter_mut().zip(&q) {
                series.push(column.value(i) as f64);
            }
        }
    }
    runs
}

/// Whether `a` dominates `b` (both minimised, NaN worst).
fn dominates(a: &[f64], b: &[f64]) -> bool {
    let w = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    a.iter().zip(b).all(|(x, y)| w(*x) <= w(*y)) && a.iter().zip(b).any(|(x, y)| w(*x) < w(*y))
}

/// The value of the uniform map `name` of `parameters.safetensors` (its first active cell).
fn uniform_value(path: &Path, name: &str) -> f32 {
    let bytes = fs::read(path).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let data = tensors.tensor(name).unwrap().data().to_vec();
    data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).find(|v| v.is_finite()).unwrap()
}

#[test]
fn the_store_holds_every_objective_and_the_front_its_non_dominated_rows() {
    let case = Case::new(&nsgaii(400, 20, "all"));
    let stdout = case.train("out", &[], "cache-out");
    let columns = [&NAMES[..], &["obj_nse", "obj_pbias", "cost"]].concat();
    let store = table(&case.path("out/samples"), &columns);
    assert_eq!(store.len(), 400, "one row per evaluation\n{stdout}");
    assert!(store.keys().copied().eq(0..400));
    assert!(store.values().all(|r| r[6].to_bits() == r[4].to_bits()), "cost is the first objective");

    // the objectives, recomputed from each set's saved discharge: the mean over both gauges
    let runs = saved_runs(&case.path("out/runs/stage-1.parquet"));
    assert_eq!(runs.len(), 400);
    let obs: Vec<Vec<f64>> = GAUGES.iter().map(|g| observed(g)).collect();
    let mut worst: f64 = 0.0;
    for (id, row) in &store {
        let per_gauge: Vec<(f64, f64)> = obs.iter().zip(&runs[id]).map(|(o, s)| objectives(o, s)).collect();
        let nse = 0.5 * per_gauge[0].0 + 0.5 * per_gauge[1].0;
        let pbias = 0.5 * per_gauge[0].1 + 0.5 * per_gauge[1].1;
        for (stored, expected) in [(row[4], nse), (row[5], pbias)] {
            let error = (stored - expected).abs() / expected.abs().max(1.0);
            assert!(error <= 1e-12, "eval {id}: stored {stored}, recomputed {expected}");
            worst = worst.max(error);
        }
    }
    eprintln!("largest relative difference to the recomputed objectives: {worst:e}");

    // the front is exactly the rows no other row dominates, with the store's values
    let front = table(&case.path("out/pareto-stage-1.parquet"), &columns[..6]);
    let values: Vec<(u64, [f64; 2])> = store.iter().map(|(id, r)| (*id, [r[4], r[5]])).collect();
    let expected: Vec<u64> =
        values.iter().filter(|(_, a)| !values.iter().any(|(_, b)| dominates(b, a))).map(|(id, _)| *id).collect();
    assert_eq!(front.keys().copied().collect::<Vec<_>>(), expected);
    assert!(front.len() >= 2, "NSE and PBIAS trade off: {} members", front.len());
    for (id, row) in &front {
        assert!(row.iter().zip(&store[id]).all(|(a, b)| a.to_bits() == b.to_bits()), "eval {id}");
    }
    eprintln!("front: {} of 400 evaluations", front.len());

    // the compromise (nearest the ideal point, objectives scaled to [0, 1] over the front) is passed on
    let (lo, hi) = (0..2)
        .map(|o| {
            let column = front.values().map(|r| r[4 + o]);
            (column.clone().fold(f64::INFINITY, f64::min), column.fold(f64::NEG_INFINITY, f64::max))
        })
        .unzip::<f64, f64, Vec<f64>, Vec<f64>>();
    let distance = |r: &Vec<f64>| (0..2).map(|o| ((r[4 + o] - lo[o]) / (hi[o] - lo[o])).powi(2)).sum::<f64>();
    let chosen = front.values().min_by(|a, b| distance(a).total_cmp(&distance(b))).unwrap();
    for (i, name) in NAMES.iter().enumerate() {
        assert_eq!(uniform_value(&case.path("out/parameters.safetensors"), name), chosen[i] as f32, "{name}");
    }
    let report = fs::read_to_string(case.path("out/report.html")).unwrap();
    assert!(report.contains(r#"id="pareto-1""#) && report.contains(&format!("{} members · hypervolume", front.len())));
}

#[test]
fn padds_records_every_objective_and_passes_on_the_best_member_of_the_named_one() {
    let stage = nsgaii(150, 20, "none").replace("optimizer = \"nsgaii\"", "optimizer = \"padds\"");
    let stage = stage.replace("n_pop = 20\n", "pareto_choice = \"pbias\"\n");
    let case = Case::new(&stage);
    let stdout = case.train("out", &[], "cache-out");
    let columns = [&NAMES[..], &["obj_nse", "obj_pbias", "cost"]].concat();
    let store = table(&case.path("out/samples"), &columns);
    assert!(store.keys().copied().eq(0..150), "one row per evaluation\n{stdout}");
    assert!(store.values().all(|r| r[6].to_bits() == r[4].to_bits() && r[5].is_finite()));
    let front = table(&case.path("out/pareto-stage-1.parquet"), &columns[..6]);
    let values: Vec<(u64, [f64; 2])> = store.iter().map(|(id, r)| (*id, [r[4], r[5]])).collect();
    let expected: Vec<u64> =
        values.iter().filter(|(_, a)| !values.iter().any(|(_, b)| dominates(b, a))).map(|(id, _)| *id).collect();
    assert_eq!(front.keys().copied().collect::<Vec<_>>(), expected);
    // pareto_choice = "pbias": the front's member with the lowest |PBIAS| is passed on
    let chosen = front.values().min_by(|a, b| a[5].total_cmp(&b[5])).unwrap();
    for (i, name) in NAMES.iter().enumerate() {
        assert_eq!(uniform_value(&case.path("out/parameters.safetensors"), name), chosen[i] as f32, "{name}");
    }
    eprintln!("padds: front of {} members, lowest |PBIAS| {}", front.len(), chosen[5]);
}

#[test]
fn a_killed_multi_objective_search_resumes_to_the_same_store_and_front() {
    let case = Case::new(&nsgaii(6000, 40, "none"));
    case.train("reference", &[], "cache-reference");
    let columns = [&NAMES[..], &["obj_nse", "obj_pbias", "cost"]].concat();
    let reference = table(&case.path("reference/samples"), &columns);
    assert_eq!(reference.len(), 6000);
    case.kill_after_parts("killed", "cache-killed", 2);
    let partial = table(&case.path("killed/samples"), &columns).len();
    assert!(partial < 6000, "killed before the end");
    let stdout = case.train("killed", &[], "cache-killed");
    assert!(stdout.contains("resuming"), "{stdout}");
    let bits = |t: &BTreeMap<u64, Vec<f64>>| {
        t.iter().map(|(id, r)| (*id, r.iter().map(|v| v.to_bits()).collect::<Vec<_>>())).collect::<Vec<_>>()
    };
    let resumed = table(&case.path("killed/samples"), &columns);
    assert!(bits(&resumed) == bits(&reference), "every evaluation once, the same points and objectives");
    let front = |out: &str| bits(&table(&case.path(&format!("{out}/pareto-stage-1.parquet")), &columns[..6]));
    assert_eq!(front("killed"), front("reference"));
    assert_eq!(
        fs::read(case.path("killed/parameters.safetensors")).unwrap().len(),
        fs::read(case.path("reference/parameters.safetensors")).unwrap().len()
    );
    for name in NAMES {
        let value = |out: &str| uniform_value(&case.path(&format!("{out}/parameters.safetensors")), name);
        assert_eq!(value("killed"), value("reference"), "{name}: the same member passed on");
    }
    eprintln!("killed after {partial} of 6000 evaluations");
}

#[test]
fn objectives_are_refused_where_they_do_not_belong() {
    for (extra, text) in [
        (
            "optimizer = \"sceua\"\n[train.stage.optimize_options]\nmax_evaluations = 10\nobjectives = [\"nse\", \"pbias\"]",
            "sceua minimises one objective",
        ),
        (
            "optimizer = \"nsgaii\"\n[train.stage.optimize_options]\nmax_evaluations = 10\nobjective = \"nse\"",
            "at least 2",
        ),
        (
            "optimizer = \"nsgaii\"\n[train.stage.optimize_options]\nmax_evaluations = 10\nobjectives = [\"nse\", \"nse\"]",
            "twice",
        ),
        ("optimizer = \"lbfgsb\"\n[train.stage.optimize_options]\nobjectives = [\"nse\", \"kge\"]", "unknown key"),
    ] {
        // a good first stage: the bad second one is refused before it runs
        let good = nsgaii(40, 20, "none");
        let case = Case::new(&format!("{good}\n[[train.stage]]\nmapping = \"uniform\"\n{extra}\n"));
        let o = case.run(&["train", "demo.toml", "--out", "out"], "cache-out");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{extra}: accepted");
        assert!(stderr.contains("stage 2: optimize_options.objectives") && stderr.contains(text), "{extra}: {stderr}");
        assert!(!case.path("out/samples").exists(), "nothing written");
    }
}
