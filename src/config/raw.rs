//! The TOML file as written: serde structs whose keys mirror smash's setup names. Unknown keys are
//! rejected by serde (`deny_unknown_fields`), whose message names the key and lists the expected ones.

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub setup: RawSetup,
    pub mesh: RawMesh,
    #[serde(default)]
    pub parameters: toml::Table,
    #[serde(default)]
    pub initial_states: toml::Table,
    /// `[cost_options]`: the cost of `hydrograd grad` (smash's keys).
    #[serde(default)]
    pub cost_options: crate::cost::RawCostOptions,
    #[serde(default)]
    pub train: super::train::RawTrain,
    /// `[validation]`: the cost on held-out gauges, evaluated alongside training (cost_options keys).
    pub validation: Option<crate::cost::RawCostOptions>,
    /// `[compute]`: where the model runs.
    #[serde(default)]
    pub compute: RawCompute,
    /// `[mpi]`: how `mpirun` spreads the evaluations over ranks.
    #[serde(default)]
    pub mpi: super::mpi::RawMpi,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCompute {
    #[serde(default = "default_device")]
    pub device: String,
}

impl Default for RawCompute {
    fn default() -> Self {
        RawCompute { device: default_device() }
    }
}

fn default_device() -> String {
    "cpu".into()
}

fn default_hydrological_module() -> String {
    "gr4".into()
}
fn default_routing_module() -> String {
    "lr".into()
}
fn default_dt() -> f64 {
    3600.0
}
fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn default_missing_forcing_file() -> String {
    "error".into()
}
fn default_descriptor_tfm() -> String {
    "standardize".into()
}
fn default_precision() -> String {
    "f32".into()
}
fn default_max_depth() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSetup {
    #[serde(default = "default_hydrological_module")]
    pub hydrological_module: String,
    #[serde(default = "default_routing_module")]
    pub routing_module: String,
    /// One or two hidden layer sizes of a hybrid structure's network (smash's default 16).
    pub hidden_neuron: Option<toml::Value>,
    #[serde(default = "default_dt")]
    pub dt: f64,
    pub start_time: String,
    pub end_time: String,
    pub prcp_directory: PathBuf,
    #[serde(default = "one")]
    pub prcp_conversion_factor: f64,
    pub pet_directory: PathBuf,
    #[serde(default = "one")]
    pub pet_conversion_factor: f64,
    #[serde(default)]
    pub daily_interannual_pet: bool,
    pub qobs_directory: Option<PathBuf>,
    pub descriptor_directory: Option<PathBuf>,
    #[serde(default)]
    pub descriptor_name: Vec<String>,
    #[serde(default = "default_descriptor_tfm")]
    pub descriptor_tfm: String,
    #[serde(default = "yes")]
    pub adjust_interception: bool,
    #[serde(default = "default_missing_forcing_file")]
    pub missing_forcing_file: String,
    #[serde(default = "default_precision")]
    pub precision: String,
    pub cache_directory: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMesh {
    pub flwdir: PathBuf,
    pub gauge_attributes: Option<PathBuf>,
    pub bbox: Option<[f64; 4]>,
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    pub area_error_th: Option<f64>,
}
