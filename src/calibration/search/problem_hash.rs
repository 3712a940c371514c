//! The hash that names a search stage's problem in the evaluation cache.

use crate::calibration::objective::Problem;
use crate::config::{Config, StageConfig};
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of everything a set's value depends on besides the set: hydrograd's version, the stage's
/// objective or likelihood (or its list of objectives), the configuration without its stages, the forcing (its cache fingerprint, or
/// its values), the observations, the stage's cost options, mapping and controls (with the cells of each
/// zone), the fields the controls are written into, and the regularization.
pub fn problem_hash(problem: &Problem<'_>, stage: &StageConfig) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(format!("{:?}", stage.search.as_ref().map(|s| s.objective)).as_bytes());
    // hashed only when set, so that single-objective stages keep the cache they had
    if let Some(search) = stage.search.as_ref().filter(|s| !s.objectives.is_empty()) {
        h.update(format!("objectives {:?}", search.objectives).as_bytes());
    }
    let setup = Config { stages: Vec::new(), path: Default::default(), hash: String::new(), ..problem.config.clone() };
    h.update(format!("{setup:?}").as_bytes());
    let forcing = &problem.inputs.forcing;
    match &forcing.fingerprint {
        Some(f) => h.update(f.as_bytes()),
        None => {
            h.update(bytemuck::cast_slice::<f32, u8>(&forcing.prcp));
            h.update(bytemuck::cast_slice::<f32, u8>(&forcing.pet));
        }
    }
    if let Some(qobs) = &problem.inputs.qobs {
        h.update(bytemuck::cast_slice::<f32, u8>(qobs));
    }
    h.update(format!("{:?}|{}|{:?}", stage.cost_options, stage.mapping.name(), problem.space.names()).as_bytes());
    // a zone raster's ids name the controls, its cells are what they act on
    if let Some(zones) = problem.space.zones() {
        h.update(format!("{:?}", zones.cells).as_bytes());
    }
    for f in [&problem.parameters, &problem.states] {
        h.update(format!("{:?}", f.names).as_bytes());
        for v in f.values.iter().chain(&f.weights) {
            h.update(v.to_bits().to_le_bytes());
        }
    }
    let reg = &problem.regularization;
    h.update(format!("{:?}|{:?}", reg.wjreg, reg.terms).as_bytes());
    format!("{:x}", h.finalize())
}
