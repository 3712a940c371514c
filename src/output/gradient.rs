//! `gradient.safetensors` of `hydrograd grad`: one `[nrow, ncol]` F32 tensor per parameter and initial
//! state holding ∂J/∂θ with respect to the physical per-cell value, 0 outside active cells; the cost J in
//! the metadata (`cost`). For a hybrid structure, `weights_gradient.safetensors` holds ∂J/∂(network
//! weights) with the tensor names of `weights.safetensors`.

use super::{OutputError, Staging, write_maps};
use crate::config::Config;
use crate::model::{FieldGradient, Inputs};
use std::path::{Path, PathBuf};

/// Writes `dir/gradient.safetensors` (and `weights_gradient.safetensors`) atomically.
pub fn write_gradient(
    dir: &Path,
    config: &Config,
    inputs: &Inputs,
    gradient: &FieldGradient,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut staging = Staging::new(dir)?;
    let mut maps = gradient.parameters.to_maps(&inputs.mesh);
    maps.maps.extend(gradient.states.to_maps(&inputs.mesh).maps);
    for (_, values) in &mut maps.maps {
        values.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = 0.0);
    }
    let metadata = [
        ("cost", format!("{:e}", gradient.cost)),
        ("config_hash", config.hash.clone()),
        ("hydrograd_version", env!("CARGO_PKG_VERSION").to_string()),
        ("structure", config.structure.name()),
        ("precision", format!("{:?}", config.precision).to_lowercase()),
        ("config", config.path.display().to_string()),
    ];
    write_maps(&staging.file("gradient.safetensors"), &maps, &metadata)?;
    if config.structure.hydrology.net().is_some() {
        let path = staging.file("weights_gradient.safetensors");
        super::write_weights(&path, config, &gradient.parameters.weights, None)?;
    }
    staging.commit()
}
