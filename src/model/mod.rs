//! A forward run: inputs and mesh from the configuration, parameter fields, the batched simulation of
//! `hydrograd-models`, and discharge at the gauges.

pub mod ann;
pub mod ann_file;
mod domain;
mod engine;
mod gradient;
pub mod initializer;
mod interception;
mod network;
mod parameters;
mod restrict;
pub mod weights;

pub use domain::load_domain;
pub use engine::EngineFloat;
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
pub(crate) use engine::not_compiled;
pub use gradient::{DischargeCost, FieldGradient, forward_cost, forward_costs, gradient};
pub use interception::adjusted_capacity;
pub use network::routing_network;
pub use parameters::{Fields, ParameterError};

use crate::Error;
use crate::config::{Config, MeshSource, Precision};
use crate::io::cache::{CacheStatus, read_atmos_cached};
use crate::io::forcing::Forcing;
use crate::io::{descriptor::read_descriptors, qobs::read_qobs, raster::read_raster};
use crate::mesh::{FlowDirection, Mesh, MeshOptions, generate_bbox_mesh, generate_mesh, read_gauge_attributes};
use hydrograd_models::Real;
use hydrograd_models::network::RoutingNetwork;
use hydrograd_models::simulation::{self, Batch, Setup};
use rayon::prelude::*;
use std::borrow::Cow;

/// Everything a run reads: mesh, routing network, forcing, observations, descriptors.
pub struct Inputs {
    pub mesh: Mesh,
    pub network: RoutingNetwork,
    /// Forcing on the active cells in routing order, `[T, N]`.
    pub forcing: Forcing,
    /// Whether the forcing came from the cache.
    pub cache: CacheStatus,
    /// Observed discharge \[m³/s\], `[T, G]`, −99 where missing; `None` without `qobs_directory`.
    pub qobs: Option<Vec<f32>>,
    /// Descriptor maps, `[nrow, ncol]` each, in `descriptor_name` order.
    pub descriptors: Vec<Vec<f32>>,
}

/// Builds the mesh of the configuration.
pub fn build_mesh(config: &Config) -> Result<Mesh, Error> {
    let raster = read_raster(config.mesh.flwdir())?;
    let flwdir = FlowDirection::from_raster_values(raster.grid, &raster.data, raster.nodata)
        .map_err(|e| Error::MeshFile { path: config.mesh.flwdir().to_path_buf(), source: e })?;
    let mesh = match &config.mesh {
        MeshSource::Gauges { gauge_attributes, max_depth, area_error_th, .. } => {
            let gauges = read_gauge_attributes(gauge_attributes)?;
            let mut options = MeshOptions { max_depth: *max_depth, ..MeshOptions::default() };
            if let Some(th) = area_error_th {
                options.area_error_th = Some(*th);
            }
            generate_mesh(&flwdir, &gauges, &options)
        }
        MeshSource::Bbox { bbox, .. } => generate_bbox_mesh(&flwdir, *bbox),
    };
    mesh.map_err(|e| Error::MeshFile { path: config.mesh.flwdir().to_path_buf(), source: e })
}

/// Reads every input of the configuration.
pub fn load_inputs(config: &Config) -> Result<Inputs, Error> {
    let (mesh, network) = load_domain(config)?;
    let (forcing, cache) =
        read_atmos_cached(&config.atmos, &config.time, &mesh.grid, &mesh.routing_order, &config.cache_directory)?;
    let codes: Vec<String> = mesh.gauges.iter().map(|g| g.code.clone()).collect();
    let qobs = config.qobs_directory.as_deref().map(|dir| read_qobs(dir, &codes, &config.time)).transpose()?;
    let descriptors = match &config.descriptor_directory {
        Some(dir) => read_descriptors(dir, &config.descriptor_name, &mesh.grid, &mesh.active)?,
        None => Vec::new(),
    };
    Ok(Inputs { mesh, network, forcing, cache, qobs, descriptors })
}

/// The result of a forward run (one parameter set).
pub struct Simulation {
    /// Discharge at the gauges \[m³/s\], `[T, G]`, in the mesh's gauge order.
    pub qsim: Vec<f32>,
    pub parameters: Fields,
    pub final_states: Fields,
}

/// The parameter fields and initial states of the configuration on `inputs`' mesh.
pub fn initial_fields(config: &Config, inputs: &Inputs) -> Result<(Fields, Fields), Error> {
    let structure = config.structure;
    let (n, dt) = (inputs.mesh.nac(), config.time.dt as f64);
    let mut parameters = Fields::defaults(&structure.parameters(), n, dt);
    if config.adjust_interception && structure.hydrology.adjusts_interception() && config.time.dt < 86_400 {
        let ci = adjusted_capacity(&inputs.forcing, &config.time, &config.cache_directory);
        let field = parameters.get_mut("ci").expect("structures that adjust interception have ci");
        field.iter_mut().zip(&ci).for_each(|(v, &c)| *v = c as f64);
    }
    parameters.apply(&config.parameters, &structure.parameters(), &inputs.mesh)?;
    // hybrid networks start at zero (smash's `_build_parameters`: the hybrid equals its parent) unless
    // `[parameters] weights` names a trained network
    let file = config.parameters.weights.as_deref().map(weights::WeightsFile::open).transpose()?;
    parameters.weights = match (&file, structure.hydrology.net()) {
        (Some(file), Some(shape)) => weights::read_hybrid(file, structure.hydrology, shape)?,
        _ => vec![0.0; structure.hydrology.nweights()],
    };
    let mut states = Fields::defaults(&structure.states(), n, dt);
    states.apply(&config.initial_states, &structure.states(), &inputs.mesh)?;
    if let Some(file) = &file {
        match ann_file::AnnFile::read(file)? {
            Some(ann) => apply_ann(config, inputs, &ann, file, (&mut parameters, &mut states))?,
            None if structure.hydrology.net().is_none() => {
                let module = structure.hydrology.name();
                return Err(weights::WeightsError::NoNetwork { path: file.path.clone(), module }.into());
            }
            None => {}
        }
    }
    Ok((parameters, states))
}

/// Sets the variables of a loaded regionalization network to its values on `inputs`' descriptors,
/// transformed with the statistics it was trained with.
fn apply_ann(
    config: &Config,
    inputs: &Inputs,
    ann: &ann_file::AnnFile,
    file: &weights::WeightsFile,
    (parameters, states): (&mut Fields, &mut Fields),
) -> Result<(), Error> {
    if config.descriptor_name != ann.inputs {
        let message = format!(
            "holds a regionalization network of the descriptors [{}], but setup.descriptor_name is [{}]",
            ann.inputs.join(", "),
            config.descriptor_name.join(", ")
        );
        return Err(file.mismatch(message).into());
    }
    let mesh = &inputs.mesh;
    let descriptors = crate::calibration::descriptors::Descriptors::with_stats(
        &ann.inputs,
        &inputs.descriptors,
        &mesh.routing_order,
        ann.tfm,
        ann.stats.clone(),
    );
    let net = &ann.net;
    let values = ann::Ann {
        shape: &net.shape,
        weights: &net.values,
        descriptors: &descriptors.values,
        ncell: descriptors.ncell,
        bounds: &net.bounds,
    }
    .values();
    let n = descriptors.ncell;
    for (j, name) in net.variables.iter().enumerate() {
        let field = match parameters.get_mut(name) {
            Some(field) => field,
            None => states.get_mut(name).ok_or_else(|| {
                file.mismatch(format!(
                    "maps '{name}', which is not a parameter or state of {}",
                    config.structure.name()
                ))
            })?,
        };
        field.copy_from_slice(&values[j * n..(j + 1) * n]);
    }
    parameters.ann = Some(net.clone());
    Ok(())
}

/// Runs the model of `config` on `inputs`.
pub fn simulate(config: &Config, inputs: &Inputs) -> Result<Simulation, Error> {
    let (parameters, states) = initial_fields(config, inputs)?;
    let (qsim, final_states) = simulate_batch(config, inputs, std::slice::from_ref(&parameters), &states)?;
    let mut final_fields = states;
    final_fields.values = final_states;
    Ok(Simulation { qsim, parameters, final_states: final_fields })
}

/// Runs `S = sets.len()` parameter sets from the same initial states in one batched call.
///
/// # Returns
/// Discharge at the gauges \[m³/s\] `[S, T, G]` and the final states `[K, S, N]`.
pub fn simulate_batch(
    config: &Config,
    inputs: &Inputs,
    sets: &[Fields],
    states: &Fields,
) -> Result<(Vec<f32>, Vec<f64>), Error> {
    match config.precision {
        Precision::F32 => run_as::<f32>(config, inputs, sets, states),
        Precision::F64 => run_as::<f64>(config, inputs, sets, states),
    }
}

/// Forcing in the computation's precision, borrowed when it already is f32.
pub(crate) trait Precise: EngineFloat {
    fn from_f32s(v: &[f32]) -> Cow<'_, [Self]>;
}

impl Precise for f32 {
    fn from_f32s(v: &[f32]) -> Cow<'_, [f32]> {
        Cow::Borrowed(v)
    }
}

impl Precise for f64 {
    fn from_f32s(v: &[f32]) -> Cow<'_, [f64]> {
        Cow::Owned(v.iter().map(|&x| x as f64).collect())
    }
}

fn run_as<T: Precise>(
    config: &Config,
    inputs: &Inputs,
    sets: &[Fields],
    states: &Fields,
) -> Result<(Vec<f32>, Vec<f64>), Error> {
    let (n, s) = (inputs.mesh.nac(), sets.len());
    let (prcp, pet) = (T::from_f32s(&inputs.forcing.prcp), T::from_f32s(&inputs.forcing.pet));
    let outlets = gauge_cells(&inputs.mesh);
    let setup =
        Setup { structure: config.structure, network: &inputs.network, dt: config.time.dt as f64, outlets: &outlets };
    let forcing = simulation::Forcing { ntime: config.time.ntime, prcp: &prcp, pet: &pet };
    // [P, N] per set → [P, S, N]; states [K, N] → [K, S, N]
    let interleave = |fields: &[&[f64]], k: usize| -> Vec<T> {
        let mut out = vec![T::ZERO; k * fields.len() * n];
        out.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, dst)| {
            let (var, set) = (i / fields.len(), i % fields.len());
            dst.iter_mut().zip(&fields[set][var * n..(var + 1) * n]).for_each(|(d, &v)| *d = T::from_f64(v));
        });
        out
    };
    let param_values: Vec<&[f64]> = sets.iter().map(|f| f.values.as_slice()).collect();
    let nk = states.names.len();
    let mut batch = Batch {
        nset: s,
        ncell: n,
        parameters: interleave(&param_values, sets.first().map_or(0, |f| f.names.len())),
        states: interleave(&vec![states.values.as_slice(); s], nk),
        weights: sets.iter().flat_map(|f| f.weights.iter().map(|&w| T::from_f64(w))).collect(),
    };
    let q = engine::forward(config.device, &setup, &forcing, &mut batch)?;
    Ok((
        q.iter().map(|&v| Real::to_f64(v) as f32).collect(),
        batch.states.par_iter().map(|&v| Real::to_f64(v)).collect(),
    ))
}

/// The routing-order number of each gauge's cell.
///
/// # Panics
/// If a gauge is not on an active cell (meshes place gauges at their outlets, which are active).
pub fn gauge_cells(mesh: &Mesh) -> Vec<usize> {
    let wanted: std::collections::HashMap<usize, usize> =
        mesh.gauges.iter().enumerate().map(|(j, g)| (mesh.grid.index(g.row, g.col), j)).collect();
    let mut number = vec![usize::MAX; mesh.gauges.len()];
    if !wanted.is_empty() {
        for (k, cell) in mesh.routing_order.iter().enumerate() {
            if let Some(&j) = wanted.get(cell) {
                number[j] = k;
            }
        }
    }
    // several gauges may share a cell
    for (j, g) in mesh.gauges.iter().enumerate() {
        if number[j] == usize::MAX {
            let cell = mesh.grid.index(g.row, g.col);
            number[j] = mesh.routing_order.iter().position(|&c| c == cell).expect("gauges sit on active cells");
        }
    }
    number
}
