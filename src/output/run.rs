//! The files of `hydrograd run`.

use super::{OutputError, Staging, write_maps, write_series};
use crate::config::Config;
use crate::model::{Inputs, Simulation};
use std::path::{Path, PathBuf};

/// Writes `qsim.parquet`, `parameters.safetensors` and `final_states.safetensors` into `dir`, atomically.
pub fn write_run(dir: &Path, config: &Config, inputs: &Inputs, sim: &Simulation) -> Result<Vec<PathBuf>, OutputError> {
    let mut staging = Staging::new(dir)?;
    let times: Vec<_> = (0..config.time.ntime).map(|k| config.time.step_end(k)).collect();
    let codes: Vec<String> = inputs.mesh.gauges.iter().map(|g| g.code.clone()).collect();
    write_series(&staging.file("qsim.parquet"), &times, &codes, &sim.qsim)?;
    let metadata = [
        ("config_hash", config.hash.clone()),
        ("hydrograd_version", env!("CARGO_PKG_VERSION").to_string()),
        ("structure", config.structure.name()),
        ("config", config.path.display().to_string()),
    ];
    let (parameters, states) = (staging.file("parameters.safetensors"), staging.file("final_states.safetensors"));
    let (a, b) = rayon::join(
        || write_maps(&parameters, &sim.parameters.to_maps(&inputs.mesh), &metadata),
        || write_maps(&states, &sim.final_states.to_maps(&inputs.mesh), &metadata),
    );
    a.and(b)?;
    staging.commit()
}
