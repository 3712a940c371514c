//! The `zones` mapping on smash's Cance dataset (3 gauges, so 3 sub-catchments): the gradient of the zone
//! controls against central finite differences of the cost (f64), a search stage and an L-BFGS-B stage of
//! `hydrograd train` (zone columns in the run store, maps constant on each zone, a decreasing cost), and
//! zones read from a GeoTIFF of ids.

#[path = "support/cance30.rs"]
mod cance30;
mod common;
#[path = "support/trace.rs"]
mod trace;

use arrow_array::{Array, Float64Array};
use cance30::cance_30_days;
use hydrograd::calibration::control::{ControlSpace, ControlTfm, Domain, Mapping, Selection, Zones};
use hydrograd::calibration::cost::GaugeCost;
use hydrograd::calibration::objective::Problem;
use hydrograd::config::{Config, Precision};
use hydrograd::cost::RawCostOptions;
use hydrograd::cost::options::OneOrMany;
use hydrograd::mesh::Mesh;
use hydrograd::model::{initial_fields, load_domain, load_inputs};
use hydrograd::optim::Objective;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use safetensors::SafeTensors;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use trace::trace;

/// Cance's gauges, in the order of its gauge file.
const GAUGES: [&str; 3] = ["V3524010", "V3515010", "V3517010"];

/// smash's Cance configuration (the golden case's `[setup]` and `[mesh]`) over its first 30 days, with
/// `stages` appended, in a fresh folder.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(stages: &str) -> Case {
        Case { dir: cance_30_days(stages) }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn config(&self) -> Config {
        let mut config = Config::from_file(&self.path("cance.toml")).unwrap();
        config.cache_directory = self.path("cache/forcing");
        config
    }

    /// `hydrograd train cance.toml --out out`: the exit status, stdout and stderr.
    fn train(&self) -> (bool, String, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_hydrograd"))
            .args(["train", "cance.toml", "--out", "out"])
            .current_dir(self.dir.path())
            .env("HYDROGRAD_CACHE_DIR", self.path("cache"))
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(!stderr.contains("panicked"), "hydrograd panicked:\n{stderr}");
        (o.status.success(), stdout.to_string(), stderr.to_string())
    }
}

/// The `[nrow, ncol]` F32 map `name` of a safetensors file.
fn map(path: &Path, name: &str) -> Vec<f32> {
    let bytes = fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensor(name).unwrap().data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

/// Asserts that `map` (`[nrow, ncol]`) takes one value on each zone's cells; returns the values, `[Z]`.
fn zone_values(map: &[f32], zones: &Zones, mesh: &Mesh, name: &str) -> Vec<f32> {
    let mut values = Vec::new();
    for (zone, cells) in zones.names.iter().zip(&zones.cells) {
        let v: Vec<f32> = cells.iter().map(|&k| map[mesh.routing_order[k]]).collect();
        assert!(v.iter().all(|&x| x == v[0]), "{name} varies inside zone {zone}: {:?}", &v[..v.len().min(8)]);
        values.push(v[0]);
    }
    values
}

/// Column `name` of the Parquet file `path` (null as NaN).
fn file_column(path: &Path, name: &str) -> Vec<f64> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap().build().unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let b = batch.unwrap();
        let c = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name} in {}", path.display())).clone();
        let c = c.as_any().downcast_ref::<Float64Array>().unwrap();
        out.extend((0..c.len()).map(|i| if c.is_null(i) { f64::NAN } else { c.value(i) }));
    }
    out
}

/// Every value of column `name` of the Parquet dataset `dir` (its `part-*` files).
fn column(dir: &Path, name: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_str().unwrap().starts_with("part-") {
            continue;
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&path).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            let b = batch.unwrap();
            let c = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name} in {}", path.display())).clone();
            out.extend(c.as_any().downcast_ref::<Float64Array>().unwrap().values().iter().copied());
        }
    }
    out
}

#[test]
fn zone_gradient_equals_finite_differences_of_the_cance_cost() {
    let case = Case::new("");
    let mut config = case.config();
    config.precision = Precision::F64;
    let inputs = load_inputs(&config).unwrap();
    let (parameters, states) = initial_fields(&config, &inputs).unwrap();
    let s = config.structure;
    let domain = Domain::of(&config, &inputs);
    let infos = (&s.parameters()[..], &s.states()[..]);
    let fields = (&parameters, &states);
    let space = ControlSpace::new(Mapping::Zones, ControlTfm::Normalize, &Selection::default(), infos, fields, &domain)
        .unwrap();
    let expected: Vec<String> =
        ["cp", "ct", "kexc", "llr"].iter().flat_map(|v| GAUGES.map(|g| format!("{v}-{g}"))).collect();
    assert_eq!(space.names(), expected);
    let zones = space.zones().unwrap();
    let sizes: Vec<usize> = zones.cells.iter().map(Vec::len).collect();
    assert_eq!(sizes.iter().sum::<usize>(), inputs.mesh.nac(), "every active cell is in one zone");
    println!("Cance zones {:?}: {sizes:?} cells", zones.names);
    let options = RawCostOptions { gauge: Some(OneOrMany::One("all".into())), ..RawCostOptions::default() };
    let cost = GaugeCost::new(&config, &inputs, &options, "cost_options").unwrap();
    let mut problem = Problem::new(&config, &inputs, &space, (parameters.clone(), states.clone()), &cost, 0.0);
    // off the uniform first guess, so that each zone's gradient differs
    let x: Vec<f64> = space
        .first_guess(&parameters, &states)
        .iter()
        .enumerate()
        .map(|(i, &v)| v * (0.95 + 0.05 * (i % 3) as f64))
        .collect();
    let g = problem.evaluate(&x, true).unwrap().gradient.unwrap();
    let scale = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let h = 1e-5;
    for i in 0..x.len() {
        let (mut a, mut b) = (x.clone(), x.clone());
        a[i] += h;
        b[i] -= h;
        let fd = (problem.evaluate(&a, false).unwrap().cost - problem.evaluate(&b, false).unwrap().cost) / (2.0 * h);
        println!("∂J/∂{}: adjoint {:.6e}, finite differences {fd:.6e}", expected[i], g[i]);
        assert!((g[i] - fd).abs() <= 2e-4 * fd.abs().max(1e-2 * scale), "{}: {} vs {fd}", expected[i], g[i]);
    }
}

#[test]
fn a_zones_search_then_lbfgsb_calibrate_three_sub_catchments() {
    let stages = r#"
[[train.stage]]
mapping = "zones"
optimizer = "dds"
[train.stage.optimize_options]
max_evaluations = 60
random_state = 3
priors = { "cp-V3515010" = { distribution = "normal", mean = 300, sd = 100 } }
[train.stage.cost_options]
gauge = "all"

[[train.stage]]
mapping = "zones"
optimizer = "lbfgsb"
[train.stage.optimize_options]
zones = "gauges"
termination_crit = { maxiter = 8 }
[train.stage.cost_options]
gauge = "all"
"#;
    let case = Case::new(stages);
    let (ok, stdout, stderr) = case.train();
    assert!(ok, "train failed:\n{stderr}");
    assert!(stdout.contains("zones dds on 12 controls"), "{stdout}");
    assert!(stdout.contains("zones lbfgsb on 12 controls"), "{stdout}");
    // the run store: one column per variable and zone
    for v in ["cp", "ct", "kexc", "llr"] {
        for g in GAUGES {
            let values = column(&case.path("out/samples"), &format!("{v}-{g}"));
            assert_eq!(values.len(), 60, "{v}-{g}");
        }
    }
    let costs = column(&case.path("out/samples"), "cost");
    let (first, best) = (costs[0], costs.iter().copied().fold(f64::INFINITY, f64::min));
    // the maps: one value per sub-catchment
    let config = case.config();
    let (mesh, _) = load_domain(&config).unwrap();
    let zones = Zones::of_gauges(&mesh).unwrap();
    assert_eq!(zones.names, GAUGES);
    for v in ["cp", "ct", "kexc", "llr"] {
        let values = zone_values(&map(&case.path("out/parameters.safetensors"), v), &zones, &mesh, v);
        println!("{v} by zone: {values:?}");
        assert!(values.iter().any(|&x| x != values[0]), "{v}: the zones were calibrated apart: {values:?}");
    }
    // the cost decreases: within the search, then from the search's best by L-BFGS-B
    let rows = trace(&case.path("out/trace.parquet"));
    let stage2: Vec<f64> = rows.iter().filter(|r| r.0 == 2).map(|r| r.2).collect();
    let (start, end) = (stage2[0], *stage2.last().unwrap());
    println!("dds: first J {first:.6}, best {best:.6}; lbfgsb: J {start:.6} -> {end:.6}");
    assert!(best < first, "DDS improves on its first point: {best} vs {first}");
    assert!((start - best).abs() <= 1e-4 * best, "L-BFGS-B starts from the search's best: {start} vs {best}");
    assert!(end < start - 1e-4, "L-BFGS-B lowers the cost: {start} -> {end}");
}

/// Writes `ids` (`[nrow, ncol]`) as a GeoTIFF of 16-bit zone ids on the grid of `mesh`, with
/// `cell` metres cells.
fn write_zone_raster(path: &Path, mesh: &Mesh, ids: &[u16], cell: f64) {
    use tiff::encoder::{TiffEncoder, colortype::Gray16};
    use tiff::tags::Tag;
    let g = &mesh.grid;
    let (nrow, ncol) = ((g.nrow as f64 * g.dy / cell) as u32, (g.ncol as f64 * g.dx / cell) as u32);
    let mut enc = TiffEncoder::new(fs::File::create(path).unwrap()).unwrap();
    let mut image = enc.new_image::<Gray16>(ncol, nrow).unwrap();
    let dir = image.encoder();
    dir.write_tag(Tag::Unknown(33550), &[cell, cell, 0.0][..]).unwrap();
    dir.write_tag(Tag::Unknown(33922), &[0.0, 0.0, 0.0, g.xmin, g.ymax, 0.0][..]).unwrap();
    dir.write_tag(Tag::Unknown(34735), &[1u16, 1, 0, 2, 1024, 0, 1, 1, 1025, 0, 1, 1][..]).unwrap();
    dir.write_tag(Tag::Unknown(42113), "0").unwrap();
    image.write_data(ids).unwrap();
}

#[test]
fn zones_from_a_raster_of_ids_and_a_mismatched_raster_named() {
    let stage = |file: &str| {
        format!(
            "[[train.stage]]\nmapping = \"zones\"\noptimizer = \"lbfgsb\"\n[train.stage.optimize_options]\n\
             parameters = [\"cp\", \"llr\"]\nzones = \"{file}\"\ntermination_crit = {{ maxiter = 3 }}\n"
        )
    };
    let case = Case::new(&stage("zones.tif"));
    let config = case.config();
    let (mesh, _) = load_domain(&config).unwrap();
    // west half 9, east half 4: zones "4" then "9"; inactive cells nodata
    let g = mesh.grid;
    let ids: Vec<u16> = (0..g.len())
        .map(|i| match (mesh.active[i], i % g.ncol < g.ncol / 2) {
            (false, _) => 0,
            (true, true) => 9,
            (true, false) => 4,
        })
        .collect();
    write_zone_raster(&case.path("zones.tif"), &mesh, &ids, g.dx);
    let (ok, stdout, stderr) = case.train();
    assert!(ok, "train failed:\n{stderr}");
    assert!(stdout.contains("zones lbfgsb on 4 controls"), "{stdout}");
    let zones = Zones::of_raster(case.path("zones.tif"), &mesh).unwrap();
    assert_eq!(zones.names, ["4", "9"]);
    for v in ["cp", "llr"] {
        let values = zone_values(&map(&case.path("out/parameters.safetensors"), v), &zones, &mesh, v);
        println!("{v} by raster zone: {values:?}");
        for z in ["4", "9"] {
            let trace = file_column(&case.path("out/trace.parquet"), &format!("{v}-{z}"));
            assert!(trace.len() > 1 && trace.iter().all(|x| x.is_finite()), "{v}-{z} in the trace: {trace:?}");
        }
    }
    // cp reaches its lower bound in both zones (L-BFGS-B then moves them together), llr does not
    let llr = zone_values(&map(&case.path("out/parameters.safetensors"), "llr"), &zones, &mesh, "llr");
    assert!((llr[0] - llr[1]).abs() > 1.0, "llr calibrated apart in the two zones: {llr:?}");
    // a raster of 500 m cells on a 1 km mesh: an error naming the key and the file
    let half: Vec<u16> = vec![1; 4 * g.len()];
    write_zone_raster(&case.path("zones.tif"), &mesh, &half, g.dx / 2.0);
    fs::remove_dir_all(case.path("out")).unwrap();
    let (ok, _, stderr) = case.train();
    assert!(!ok && stderr.contains("optimize_options.zones") && stderr.contains("zones.tif"), "{stderr}");
    assert!(stderr.contains("raster cells are 500 m x 500 m"), "{stderr}");
    // the same raster in stage 2 is refused before stage 1 runs
    let first = "[[train.stage]]\nmapping = \"uniform\"\noptimizer = \"lbfgsb\"\n[train.stage.optimize_options]\n\
                 parameters = [\"cp\"]\ntermination_crit = { maxiter = 3 }\n";
    let two = Case::new(&format!("{first}\n{}", stage("zones.tif")));
    write_zone_raster(&two.path("zones.tif"), &mesh, &half, g.dx / 2.0);
    let (ok, stdout, stderr) = two.train();
    assert!(!ok && stderr.contains("train stage 2") && stderr.contains("zones.tif"), "{stderr}");
    assert!(!stdout.contains("uniform lbfgsb"), "stage 1 ran before the check:\n{stdout}");
}
