//! Helpers shared by the reference tests: where the golden files are and how to read them.
#![allow(dead_code)] // each test binary uses a subset

use safetensors::{Dtype, SafeTensors};
use std::collections::HashMap;
use std::path::PathBuf;

/// The golden folder made by `tests/reference/make_golden.py` (via `bash tests/run_all.sh`).
/// Panics, so the test fails, when it is missing: reference tests never skip.
pub fn golden_dir() -> PathBuf {
    let dir = std::env::var_os("HYDROGRAD_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden"));
    assert!(
        dir.join("cance/config.toml").is_file(),
        "golden reference files not found in {} — run the README's test command (bash tests/run_all.sh), \
         which installs smash and writes them",
        dir.display()
    );
    dir
}

/// The folder of one golden case.
pub fn case(name: &str) -> PathBuf {
    let dir = golden_dir().join(name);
    assert!(dir.join("config.toml").is_file(), "golden case {} is missing; rerun bash tests/run_all.sh", dir.display());
    dir
}

/// A golden safetensors file: tensors as f64 with their shapes, and the metadata.
pub struct Golden {
    pub tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    pub metadata: HashMap<String, String>,
}

impl Golden {
    pub fn load(case_name: &str, file: &str) -> Golden {
        let path = case(case_name).join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = meta.metadata().clone().unwrap_or_default();
        let st = SafeTensors::deserialize(&bytes).unwrap();
        let tensors = st
            .tensors()
            .into_iter()
            .map(|(name, v)| {
                let data: Vec<f64> = match v.dtype() {
                    Dtype::F32 => {
                        v.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64).collect()
                    }
                    Dtype::F64 => v.data().chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().unwrap())).collect(),
                    Dtype::I32 => {
                        v.data().chunks_exact(4).map(|b| i32::from_le_bytes(b.try_into().unwrap()) as f64).collect()
                    }
                    Dtype::I64 => {
                        v.data().chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64).collect()
                    }
                    other => panic!("{}: tensor {name} has unsupported dtype {other:?}", path.display()),
                };
                (name, (v.shape().to_vec(), data))
            })
            .collect();
        Golden { tensors, metadata }
    }

    pub fn get(&self, name: &str) -> &[f64] {
        &self.tensors.get(name).unwrap_or_else(|| panic!("golden tensor {name} missing")).1
    }

    pub fn shape(&self, name: &str) -> &[usize] {
        &self.tensors[name].0
    }

    pub fn meta(&self, key: &str) -> &str {
        self.metadata.get(key).unwrap_or_else(|| panic!("golden metadata {key} missing"))
    }
}

/// The datasets folder of the installed smash (`France_flwdir.tif`, `Cance/`, `Lez/`), where the golden
/// cases read them: the folder of the Lez golden configuration's `flwdir`.
pub fn smash_datasets() -> PathBuf {
    let golden_config = std::fs::read_to_string(case("lez").join("config.toml")).unwrap();
    let flwdir = golden_config.lines().find_map(|l| l.strip_prefix("flwdir = ")).expect("flwdir in the golden config");
    std::path::Path::new(flwdir.trim_matches('"')).parent().unwrap().to_path_buf()
}

/// The example configuration `configs/<name>` with its `smash-data/` paths pointing at the datasets of
/// the installed smash (where the golden cases read them), written to `dir`, its cache in `dir`.
pub fn example_config(name: &str, dir: &std::path::Path) -> hydrograd::config::Config {
    let datasets = smash_datasets();
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs").join(name);
    let text = std::fs::read_to_string(&example).unwrap();
    assert!(text.contains("\"smash-data/"), "{name} reads smash's datasets from configs/smash-data");
    let text = text.replace("\"smash-data/", &format!("\"{}/", datasets.display()));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let mut config = hydrograd::config::Config::from_file(&path).unwrap();
    config.cache_directory = dir.join("cache");
    config
}
