//! `hydrograd run` on bad input: a clear error naming the file, key or gauge, a non-zero exit, no panic,
//! and no output written. Each case copies the demo dataset into a temporary folder and breaks one thing.

#[path = "support/demo/mod.rs"]
#[allow(dead_code)]
mod demo;

use demo::geotiff;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of `configs/demo.toml` and `configs/demo/` in a fresh temporary folder.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        copy_dir(&src.join("demo"), &dir.path().join("demo"));
        fs::copy(src.join("demo.toml"), dir.path().join("demo.toml")).unwrap();
        Case { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = fs::read_to_string(self.path(rel)).unwrap();
        assert!(text.contains(from), "{rel} has no '{from}'");
        fs::write(self.path(rel), text.replacen(from, to, 1)).unwrap();
    }

    /// Runs `hydrograd run demo.toml --out out` with a private cache; returns (success, stderr).
    fn run(&self) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_hydrograd"))
            .args(["run", "demo.toml", "--out", "out"])
            .current_dir(self.dir.path())
            .env("HYDROGRAD_CACHE_DIR", self.path("cache"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("panicked"), "hydrograd panicked:\n{stderr}");
        (out.status.success(), stderr)
    }

    /// Runs and expects a failure whose message contains every `needle`, and no output file.
    fn fails_with(&self, needles: &[&str]) {
        let (ok, stderr) = self.run();
        assert!(!ok, "expected a failure mentioning {needles:?}");
        for n in needles {
            assert!(stderr.contains(n), "error message lacks '{n}':\n{stderr}");
        }
        let out = self.path("out");
        let written: Vec<_> =
            fs::read_dir(&out).map(|d| d.map(|e| e.unwrap().file_name()).collect()).unwrap_or_default();
        assert!(written.is_empty(), "a failed run left output behind: {written:?}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

const FIRST_PRCP: &str = "demo/prcp/2021/10/01/demo_prcp_202110010100.tif";

#[test]
fn the_demo_runs_and_writes_its_outputs() {
    let case = Case::new();
    let (ok, stderr) = case.run();
    assert!(ok, "{stderr}");
    for f in ["qsim.parquet", "parameters.safetensors", "final_states.safetensors"] {
        assert!(case.path("out").join(f).is_file(), "{f} missing");
    }
    // qsim.parquet: `time` (ms timestamps of the step ends) then one Float32 column per gauge
    use arrow_array::{Array, Float32Array, TimestampMillisecondArray};
    let file = fs::File::open(case.path("out/qsim.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["time", "DEMO01", "DEMO02"]);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 360);
    let time = batches[0].column(0).as_any().downcast_ref::<TimestampMillisecondArray>().unwrap();
    assert_eq!(time.value(0), 1_633_050_000_000, "2021-10-01 01:00 UTC, the end of the first step");
    let outlet = batches[0].column(1).as_any().downcast_ref::<Float32Array>().unwrap();
    assert!(outlet.null_count() == 0 && outlet.values().iter().all(|q| q.is_finite() && *q >= 0.0));
}

#[test]
fn misspelt_key_is_named() {
    let case = Case::new();
    case.edit("demo.toml", "prcp_conversion_factor", "prcp_conversion_factr");
    case.fails_with(&["demo.toml", "prcp_conversion_factr", "line"]);
}

#[test]
fn malformed_toml_gives_the_line() {
    let case = Case::new();
    case.edit("demo.toml", "dt = 3600", "dt = = 3600");
    case.fails_with(&["demo.toml", "line 10"]);
}

#[test]
fn missing_forcing_folder_is_named() {
    let case = Case::new();
    case.edit("demo.toml", "\"demo/pet\"", "\"demo/no_such_pet\"");
    case.fails_with(&["pet_directory", "no_such_pet"]);
}

#[test]
fn date_with_no_file_is_an_error_unless_asked_otherwise() {
    let case = Case::new();
    fs::remove_file(case.path(FIRST_PRCP)).unwrap();
    case.fails_with(&["prcp_directory", "2021-10-01 01:00", "missing_forcing_file"]);
    // the last key of [setup], just above [mesh]
    case.edit("demo.toml", "[mesh]", "missing_forcing_file = \"as_missing\"\n[mesh]");
    let (ok, stderr) = case.run();
    assert!(ok, "as_missing should run: {stderr}");
}

#[test]
fn raster_on_another_grid_is_rejected() {
    let case = Case::new();
    let grid = demo::Grid { dx: 500.0, ..demo::GRID };
    let data = vec![0u16; grid.nrow * grid.ncol];
    geotiff::write_u16(&case.path(FIRST_PRCP), &grid, &data, "65535").unwrap();
    case.fails_with(&["demo_prcp_202110010100.tif", "500"]);
}

#[test]
fn nan_forcing_is_rejected_with_its_cell() {
    let case = Case::new();
    let mut data = vec![0.5f32; demo::GRID.nrow * demo::GRID.ncol];
    data[3 * demo::GRID.ncol + 4] = f32::NAN;
    geotiff::write_f32(&case.path(FIRST_PRCP), &demo::GRID, &data, "-99").unwrap();
    case.fails_with(&["demo_prcp_202110010100.tif", "NaN", "row 3", "col 4"]);
}

#[test]
fn negative_forcing_is_missing_data_as_in_smash() {
    let case = Case::new();
    let data = vec![-5.0f32; demo::GRID.nrow * demo::GRID.ncol];
    geotiff::write_f32(&case.path(FIRST_PRCP), &demo::GRID, &data, "-99").unwrap();
    let (ok, stderr) = case.run();
    assert!(ok, "negative rainfall is missing data, not an error: {stderr}");
}

#[test]
fn gauge_outside_the_flow_direction_grid_is_named() {
    let case = Case::new();
    case.edit("demo/gauge_attributes.csv", "DEMO02,708500", "DEMO02,108500");
    case.fails_with(&["DEMO02", "108500"]);
}

#[test]
fn gauge_area_far_from_the_declared_one_is_named() {
    let case = Case::new();
    case.edit("demo/gauge_attributes.csv", ",62", ",620");
    case.fails_with(&["DEMO02", "620"]);
}

#[test]
fn non_positive_dt_is_rejected() {
    let case = Case::new();
    case.edit("demo.toml", "dt = 3600", "dt = 0");
    case.fails_with(&["demo.toml", "dt"]);
}

#[test]
fn end_before_start_is_rejected() {
    let case = Case::new();
    case.edit("demo.toml", "end_time = \"2021-10-16 00:00\"", "end_time = \"2021-09-16 00:00\"");
    case.fails_with(&["demo.toml", "end_time"]);
}

#[test]
fn unknown_parameter_is_named() {
    let case = Case::new();
    fs::write(
        case.path("demo.toml"),
        fs::read_to_string(case.path("demo.toml")).unwrap() + "\n[parameters]\ncpp = 3.0\n",
    )
    .unwrap();
    case.fails_with(&["[parameters] cpp", "ci, cp, ct, kexc, llr"]);
}

/// Reads one F32 `[nrow, ncol]` tensor of a safetensors output.
fn read_map(path: &Path, name: &str) -> (Vec<usize>, Vec<f32>) {
    let bytes = fs::read(path).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let t = st.tensor(name).unwrap();
    (t.shape().to_vec(), t.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect())
}

#[test]
fn outputs_feed_back_as_parameter_and_state_files() {
    let case = Case::new();
    assert!(case.run().0);
    fs::rename(case.path("out"), case.path("first")).unwrap();
    // the written maps as inputs, plus a uniform override applied after the file
    let config = fs::read_to_string(case.path("demo.toml")).unwrap()
        + "\n[parameters]\nfile = \"first/parameters.safetensors\"\ncp = 321.0\n[initial_states]\nfile = \"first/final_states.safetensors\"\n";
    fs::write(case.path("demo.toml"), config).unwrap();
    let (ok, stderr) = case.run();
    assert!(ok, "{stderr}");
    let (shape, ci_first) = read_map(&case.path("first/parameters.safetensors"), "ci");
    let (_, ci_second) = read_map(&case.path("out/parameters.safetensors"), "ci");
    assert_eq!(shape, [19, 18], "the demo mesh rectangle");
    assert_eq!(
        ci_first.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        ci_second.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let (_, cp) = read_map(&case.path("out/parameters.safetensors"), "cp");
    assert!(cp.iter().filter(|v| !v.is_nan()).all(|&v| v == 321.0));
    assert_eq!(cp.iter().filter(|v| !v.is_nan()).count(), 219, "active cells");
    // starting from the first run's final states changes the simulation
    let (_, hp_first) = read_map(&case.path("first/final_states.safetensors"), "hp");
    let (_, hp_second) = read_map(&case.path("out/final_states.safetensors"), "hp");
    assert_ne!(hp_first, hp_second);
}

#[test]
fn parameter_file_on_another_grid_is_named() {
    let case = Case::new();
    let bytes: Vec<u8> = [200.0f32; 6].iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2, 3], &bytes).unwrap();
    safetensors::serialize_to_file([("cp", view)], None, &case.path("bad.safetensors")).unwrap();
    fs::write(
        case.path("demo.toml"),
        fs::read_to_string(case.path("demo.toml")).unwrap() + "\n[parameters]\nfile = \"bad.safetensors\"\n",
    )
    .unwrap();
    case.fails_with(&["bad.safetensors", "cp", "[2, 3]", "[19, 18]"]);
}
