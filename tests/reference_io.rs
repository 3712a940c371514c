//! Inputs read by hydrograd against smash's arrays (`atmos.safetensors` of the golden cases, see
//! `docs/reference-tests.md`): forcing, observed discharge and descriptors must be bit-identical.
//!
//! The golden directory is `$HYDROGRAD_GOLDEN_DIR` or `tests/golden`; it is written by
//! `tests/reference/make_golden.py` (see the README's test command).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hydrograd::grid::Grid;
use hydrograd::io::{
    AtmosSpec, CacheStatus, MissingFile, read_atmos, read_atmos_cached, read_descriptors, read_qobs_with_warnings,
};
use hydrograd::time::{TimeAxis, parse_datetime};

fn golden_dir() -> PathBuf {
    let dir = std::env::var_os("HYDROGRAD_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"));
    assert!(
        dir.is_dir(),
        "golden directory {} not found: generate it with the test command of the README \
         (tests/reference/make_golden.py --out {}), or set HYDROGRAD_GOLDEN_DIR",
        dir.display(),
        dir.display()
    );
    dir
}

struct Tensors {
    f32s: HashMap<String, (Vec<usize>, Vec<f32>)>,
    i32s: HashMap<String, (Vec<usize>, Vec<i32>)>,
    meta: HashMap<String, String>,
}

fn load(path: &Path) -> Tensors {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut t =
        Tensors { f32s: HashMap::new(), i32s: HashMap::new(), meta: header.metadata().clone().unwrap_or_default() };
    for (name, view) in st.tensors() {
        let words = view.data().chunks_exact(4).map(|b| [b[0], b[1], b[2], b[3]]);
        match view.dtype() {
            safetensors::Dtype::F32 => {
                t.f32s.insert(name, (view.shape().to_vec(), words.map(f32::from_le_bytes).collect()));
            }
            safetensors::Dtype::I32 => {
                t.i32s.insert(name, (view.shape().to_vec(), words.map(i32::from_le_bytes).collect()));
            }
            _ => {}
        }
    }
    t
}

struct Case {
    setup: toml::Table,
    time: TimeAxis,
    grid: Grid,
    active: Vec<bool>,
    codes: Vec<String>,
    atmos: Tensors,
}

fn case(name: &str) -> Case {
    let dir = golden_dir().join(name);
    let text = std::fs::read_to_string(dir.join("config.toml"))
        .unwrap_or_else(|e| panic!("{}/config.toml: {e}", dir.display()));
    let config: toml::Table = toml::from_str(&text).unwrap();
    let setup = config["setup"].as_table().expect("[setup]").clone();
    let date = |k: &str| parse_datetime(setup[k].as_str().unwrap()).unwrap();
    let dt = setup["dt"].as_integer().unwrap();
    let (start, end) = (date("start_time"), date("end_time"));
    let time = TimeAxis { start, dt, ntime: ((end - start).num_seconds() / dt) as usize };
    let mesh = load(&dir.join("mesh.safetensors"));
    let m = |k: &str| mesh.meta[k].parse::<f64>().unwrap();
    let grid = Grid {
        xmin: m("xmin"),
        ymax: m("ymax"),
        dx: m("dx"),
        dy: m("dy"),
        nrow: m("nrow") as usize,
        ncol: m("ncol") as usize,
    };
    let active = mesh.i32s["active_cell"].1.iter().map(|&v| v != 0).collect();
    let codes =
        mesh.meta.get("code").map_or(vec![], |c| c.split(',').filter(|s| !s.is_empty()).map(String::from).collect());
    Case { setup, time, grid, active, codes, atmos: load(&dir.join("atmos.safetensors")) }
}

fn spec(setup: &toml::Table) -> AtmosSpec {
    let factor =
        |k: &str| setup.get(k).and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64))).unwrap_or(1.0) as f32;
    AtmosSpec {
        prcp_conversion_factor: factor("prcp_conversion_factor"),
        pet_conversion_factor: factor("pet_conversion_factor"),
        daily_interannual_pet: setup.get("daily_interannual_pet").and_then(|v| v.as_bool()).unwrap_or(false),
        missing_forcing_file: match setup.get("missing_forcing_file").and_then(|v| v.as_str()) {
            Some("as_missing") => MissingFile::AsMissing,
            _ => MissingFile::Error,
        },
        ..AtmosSpec::new(setup["prcp_directory"].as_str().unwrap(), setup["pet_directory"].as_str().unwrap())
    }
}

/// Compares ours `[T, N]` (time-major) with smash's `[N, T]` bit for bit; names the first differences.
fn compare(what: &str, ours: &[f32], smash: &[f32], ntime: usize, ncell: usize, cell_name: impl Fn(usize) -> String) {
    assert_eq!(ours.len(), ntime * ncell, "{what}: size");
    assert_eq!(smash.len(), ntime * ncell, "{what}: golden size");
    let mut bad = Vec::new();
    for n in 0..ncell {
        for t in 0..ntime {
            let (a, b) = (ours[t * ncell + n], smash[n * ntime + t]);
            if a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()) {
                bad.push(format!("{} step {t}: hydrograd {a} smash {b}", cell_name(n)));
            }
        }
    }
    assert!(bad.is_empty(), "{what}: {} values differ, first: {:#?}", bad.len(), &bad[..bad.len().min(10)]);
}

fn check_case(name: &str) {
    let c = case(name);
    let (nrow, ncol, ntime) = (c.grid.nrow, c.grid.ncol, c.time.ntime);
    let cells: Vec<usize> = (0..c.grid.len()).collect();
    let rc = |n: usize| format!("cell (row {}, col {})", n / ncol, n % ncol);
    let spec = spec(&c.setup);

    let t0 = Instant::now();
    let f = read_atmos(&spec, &c.time, &c.grid, &cells).unwrap();
    let uncached = t0.elapsed();
    if spec.missing_forcing_file == MissingFile::Error {
        assert!(f.warnings.is_empty(), "{name}: {:?}", f.warnings);
    } else {
        // smash's behaviour, with a warning; hydrograd's default refuses, naming the folder and dates.
        let strict = AtmosSpec { missing_forcing_file: MissingFile::Error, ..spec.clone() };
        match read_atmos(&strict, &c.time, &c.grid, &cells) {
            Err(e @ hydrograd::io::IoError::MissingForcingFiles { .. }) => eprintln!("{name}: default policy: {e}"),
            other => assert!(f.warnings.is_empty(), "{name}: expected a missing-file error, got {other:?}"),
        }
        eprintln!("{name}: warnings {:?}", f.warnings);
    }
    compare(&format!("{name} prcp"), &f.prcp, &c.atmos.f32s["prcp"].1, ntime, cells.len(), rc);
    compare(&format!("{name} pet"), &f.pet, &c.atmos.f32s["pet"].1, ntime, cells.len(), rc);

    let cache = tempfile::tempdir().unwrap();
    let (f1, s1) = read_atmos_cached(&spec, &c.time, &c.grid, &cells, cache.path()).unwrap();
    let t0 = Instant::now();
    let (f2, s2) = read_atmos_cached(&spec, &c.time, &c.grid, &cells, cache.path()).unwrap();
    let cached = t0.elapsed();
    assert_eq!((s1, s2), (CacheStatus::Created, CacheStatus::Hit));
    let same = |g: &hydrograd::io::forcing::Forcing| g.prcp == f.prcp && g.pet == f.pet && g.warnings == f.warnings;
    assert!(same(&f1) && same(&f2), "{name}: cached forcing differs");
    eprintln!("{name}: forcing {ntime} steps x {} cells: read {uncached:?}, cached {cached:?}", cells.len());

    let qdir = PathBuf::from(c.setup["qobs_directory"].as_str().unwrap());
    let (q, warnings) = read_qobs_with_warnings(&qdir, &c.codes, &c.time).unwrap();
    assert!(warnings.is_empty(), "{name}: {warnings:?}");
    compare(&format!("{name} qobs"), &q, &c.atmos.f32s["qobs"].1, ntime, c.codes.len(), |g| {
        format!("gauge {}", c.codes[g])
    });

    let names: Vec<String> = c.atmos.meta["descriptor_name"].split(',').map(String::from).collect();
    let ddir = PathBuf::from(c.setup["descriptor_directory"].as_str().unwrap());
    let d = read_descriptors(&ddir, &names, &c.grid, &c.active).unwrap();
    let golden = &c.atmos.f32s["descriptor"].1; // [nrow, ncol, ND]
    for (i, (name_d, ours)) in names.iter().zip(&d).enumerate() {
        let smash: Vec<f32> = (0..nrow * ncol).map(|n| golden[n * names.len() + i]).collect();
        compare(&format!("{name} descriptor {name_d}"), ours, &smash, 1, nrow * ncol, rc);
    }
}

#[test]
fn cance_inputs_equal_smash() {
    check_case("cance");
}

/// Cance with prcp files removed and nodata patches, read with `missing_forcing_file = "as_missing"`.
#[test]
fn cance_gaps_inputs_equal_smash() {
    check_case("cance_gaps");
}

#[test]
fn lez_inputs_equal_smash() {
    check_case("lez");
}
