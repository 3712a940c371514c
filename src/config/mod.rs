//! Configuration: a TOML file whose keys mirror smash's setup names (see `docs/config.md`).
//!
//! Parsing goes in two stages, like ripgrep's low/high arguments and smash's `_standardize`: serde reads
//! the file into raw structs (`raw`), then [`Config::from_toml`] validates every value and resolves
//! relative paths against the folder of the config file.

mod error;
mod mpi;
mod raw;
mod search;
mod train;

pub use error::ConfigError;
pub use mpi::{MpiOptions, Scheduling};
pub use search::{ParetoChoice, SaveRuns, SearchConfig};
pub use train::StageConfig;

pub use crate::calibration::descriptors::DescriptorTfm;
use crate::io::forcing::{AtmosSpec, MissingFile};
use crate::time::{TimeAxis, parse_datetime};
pub use hydrograd_kernels::DeviceKind;
use hydrograd_models::nn::{MAX_HIDDEN, MlpShape};
use hydrograd_models::routing::RoutingModule;
use hydrograd_models::structure::{HydrologicalModule, Structure};
use raw::{RawConfig, RawMesh, RawSetup};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Float precision of the computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Single precision, as smash computes (default).
    F32,
    F64,
}

/// Where the mesh comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum MeshSource {
    /// Catchments delineated upstream of gauges (smash's `generate_mesh(x, y, area, code)`).
    Gauges { flwdir: PathBuf, gauge_attributes: PathBuf, max_depth: usize, area_error_th: Option<f64> },
    /// Every cell of a bounding box `[xmin, xmax, ymin, ymax]` \[m\] (ungauged domain).
    Bbox { flwdir: PathBuf, bbox: [f64; 4] },
}

impl MeshSource {
    /// The flow-direction raster.
    pub fn flwdir(&self) -> &Path {
        match self {
            MeshSource::Gauges { flwdir, .. } | MeshSource::Bbox { flwdir, .. } => flwdir,
        }
    }
}

/// Values set by the user for parameters or initial states: uniform values and/or a map file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overrides {
    /// `name = value`, applied on every active cell.
    pub uniform: Vec<(String, f64)>,
    /// A safetensors file with one `[nrow, ncol]` tensor per variable it sets (as `hydrograd run` writes).
    pub file: Option<PathBuf>,
    /// `[parameters] weights`: a `weights.safetensors` of the structure's network (as `train` writes).
    pub weights: Option<PathBuf>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes (hex), recorded in outputs.
    pub hash: String,
    pub structure: Structure,
    pub time: TimeAxis,
    pub atmos: AtmosSpec,
    pub qobs_directory: Option<PathBuf>,
    pub descriptor_directory: Option<PathBuf>,
    pub descriptor_name: Vec<String>,
    /// How the regionalization mappings scale the descriptors (`setup.descriptor_tfm`).
    pub descriptor_tfm: DescriptorTfm,
    pub adjust_interception: bool,
    pub precision: Precision,
    /// `[compute] device`: the CPU engine or a GPU (`--device` overrides it).
    pub device: DeviceKind,
    /// Where assembled forcing is cached between runs.
    pub cache_directory: PathBuf,
    pub mesh: MeshSource,
    pub parameters: Overrides,
    pub initial_states: Overrides,
    /// `[cost_options]`, validated against the mesh's gauges when used.
    pub cost_options: crate::cost::RawCostOptions,
    /// `[validation]`: the cost on held-out gauges that `train` evaluates at every iteration (not
    /// optimized), with the keys of `cost_options`.
    pub validation: Option<crate::cost::RawCostOptions>,
    /// `[[train.stage]]`, in order.
    pub stages: Vec<StageConfig>,
    /// `[mpi]`: the scheduling of evaluations over MPI ranks.
    pub mpi: MpiOptions,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Config::from_toml(&text, path)
    }

    /// Validates the TOML `text` of the file at `path` (relative paths resolve against its folder).
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: path.to_path_buf(), message: e.to_string() })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        let invalid = |section: &'static str, key: &str, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            section,
            key: key.to_string(),
            message,
        };
        let setup = &raw.setup;
        let structure = structure(setup, &invalid)?;
        let time = time_axis(setup, &invalid)?;
        let atmos = atmos(setup, &resolve, &invalid)?;
        let mesh = mesh_source(&raw.mesh, &resolve, &invalid)?;
        let precision = match setup.precision.as_str() {
            "f32" => Precision::F32,
            "f64" => Precision::F64,
            other => return Err(invalid("setup", "precision", format!("'{other}' is not one of f32, f64"))),
        };
        let device = DeviceKind::from_name(&raw.compute.device).ok_or_else(|| {
            let names: Vec<_> = DeviceKind::ALL.iter().map(|k| k.name()).collect();
            invalid("compute", "device", format!("'{}' is not one of {}", raw.compute.device, names.join(", ")))
        })?;
        let descriptor_tfm = DescriptorTfm::from_name(&setup.descriptor_tfm).ok_or_else(|| {
            let names: Vec<_> = DescriptorTfm::ALL.iter().map(|t| t.name()).collect();
            invalid("setup", "descriptor_tfm", format!("'{}' is not one of {}", setup.descriptor_tfm, names.join(", ")))
        })?;
        if setup.descriptor_directory.is_none() && !setup.descriptor_name.is_empty() {
            return Err(invalid("setup", "descriptor_name", "is set but descriptor_directory is not".into()));
        }
        let parameters = overrides(&raw.parameters, &structure.parameters(), "parameters", &resolve, &invalid)?;
        let initial_states = overrides(&raw.initial_states, &structure.states(), "initial_states", &resolve, &invalid)?;
        let stages = train::stages(&raw.train, path)?;
        let mpi = raw.mpi.validate().map_err(|(key, message)| invalid("mpi", key, message))?;
        if let Some(i) = stages.iter().position(|s| !s.init.is_empty())
            && structure.hydrology.net().is_none()
        {
            let message = format!("{} has no neural network to initialize", structure.hydrology.name());
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                section: "train",
                key: format!("stage {}: init", i + 1),
                message,
            });
        }
        Ok(Config {
            path: path.to_path_buf(),
            hash: format!("{:x}", Sha256::digest(text.as_bytes())),
            structure,
            time,
            atmos,
            qobs_directory: setup.qobs_directory.as_deref().map(&resolve),
            descriptor_directory: setup.descriptor_directory.as_deref().map(&resolve),
            descriptor_name: setup.descriptor_name.clone(),
            descriptor_tfm,
            adjust_interception: setup.adjust_interception,
            precision,
            device,
            cache_directory: setup.cache_directory.as_deref().map(&resolve).unwrap_or_else(default_cache_directory),
            mesh,
            parameters,
            initial_states,
            cost_options: raw.cost_options.clone(),
            validation: raw.validation.clone(),
            stages,
            mpi,
        })
    }
}

type Invalid<'a> = dyn Fn(&'static str, &str, String) -> ConfigError + 'a;

fn structure(setup: &RawSetup, invalid: &Invalid<'_>) -> Result<Structure, ConfigError> {
    let net = match &setup.hidden_neuron {
        None => MlpShape::DEFAULT,
        Some(value) => {
            let sizes = match value {
                toml::Value::Integer(n) => Some(vec![*n]),
                toml::Value::Array(a) => a.iter().map(|v| v.as_integer()).collect(),
                _ => None,
            };
            let sizes: Option<Vec<usize>> =
                sizes.and_then(|s| s.into_iter().map(|n| usize::try_from(n).ok()).collect());
            sizes.as_deref().and_then(MlpShape::new).ok_or_else(|| {
                let message =
                    format!("{value}: expected one or two layer sizes from 1 to {MAX_HIDDEN}, e.g. 16 or [16, 8]");
                invalid("setup", "hidden_neuron", message)
            })?
        }
    };
    let hydrology = HydrologicalModule::from_name(&setup.hydrological_module, net).ok_or_else(|| {
        let names = HydrologicalModule::NAMES.join(", ");
        invalid("setup", "hydrological_module", format!("'{}' is not one of: {names}", setup.hydrological_module))
    })?;
    if setup.hidden_neuron.is_some() && hydrology.net().is_none() {
        let message = format!("{} has no neural network (gr4_mlp and gr4_ude have)", hydrology.name());
        return Err(invalid("setup", "hidden_neuron", message));
    }
    let routing = RoutingModule::from_name(&setup.routing_module).ok_or_else(|| {
        invalid("setup", "routing_module", format!("'{}' is not one of: zero, lag0, lr, kw", setup.routing_module))
    })?;
    Ok(Structure { hydrology, routing })
}

fn time_axis(setup: &RawSetup, invalid: &Invalid<'_>) -> Result<TimeAxis, ConfigError> {
    let dt = setup.dt;
    if dt.is_nan() || dt <= 0.0 || dt.fract() != 0.0 {
        return Err(invalid(
            "setup",
            "dt",
            format!("{dt} s: the time step must be a positive whole number of seconds"),
        ));
    }
    let date = |key: &str, text: &str| {
        parse_datetime(text).ok_or_else(|| {
            invalid("setup", key, format!("'{text}' is not a date (expected 'YYYY-mm-dd HH:MM' or 'YYYY-mm-dd')"))
        })
    };
    let start = date("start_time", &setup.start_time)?;
    let end = date("end_time", &setup.end_time)?;
    if end <= start {
        return Err(invalid("setup", "end_time", format!("{end} is not after start_time {start}")));
    }
    let span = (end - start).num_seconds();
    let dt = dt as i64;
    if span % dt != 0 {
        return Err(invalid(
            "setup",
            "end_time",
            format!("the period {start} → {end} is not a whole number of dt = {dt} s"),
        ));
    }
    Ok(TimeAxis { start, dt, ntime: (span / dt) as usize })
}

fn atmos(
    setup: &RawSetup,
    resolve: &dyn Fn(&Path) -> PathBuf,
    invalid: &Invalid<'_>,
) -> Result<AtmosSpec, ConfigError> {
    for (key, v) in [
        ("prcp_conversion_factor", setup.prcp_conversion_factor),
        ("pet_conversion_factor", setup.pet_conversion_factor),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(invalid("setup", key, format!("{v}: must be a positive number")));
        }
    }
    let missing_forcing_file = match setup.missing_forcing_file.as_str() {
        "error" => MissingFile::Error,
        "as_missing" => MissingFile::AsMissing,
        other => {
            return Err(invalid(
                "setup",
                "missing_forcing_file",
                format!("'{other}' is not one of: error, as_missing"),
            ));
        }
    };
    Ok(AtmosSpec {
        prcp_directory: resolve(&setup.prcp_directory),
        prcp_conversion_factor: setup.prcp_conversion_factor as f32,
        pet_directory: resolve(&setup.pet_directory),
        pet_conversion_factor: setup.pet_conversion_factor as f32,
        daily_interannual_pet: setup.daily_interannual_pet,
        missing_forcing_file,
    })
}

fn mesh_source(
    mesh: &RawMesh,
    resolve: &dyn Fn(&Path) -> PathBuf,
    invalid: &Invalid<'_>,
) -> Result<MeshSource, ConfigError> {
    let flwdir = resolve(&mesh.flwdir);
    match (&mesh.gauge_attributes, mesh.bbox) {
        (Some(g), None) => {
            if let Some(th) = mesh.area_error_th
                && (th.is_nan() || th <= 0.0)
            {
                return Err(invalid("mesh", "area_error_th", format!("{th}: must be positive")));
            }
            Ok(MeshSource::Gauges {
                flwdir,
                gauge_attributes: resolve(g),
                max_depth: mesh.max_depth,
                area_error_th: mesh.area_error_th,
            })
        }
        (None, Some(bbox)) => {
            if !(bbox.iter().all(|v| v.is_finite()) && bbox[0] < bbox[1] && bbox[2] < bbox[3]) {
                return Err(invalid(
                    "mesh",
                    "bbox",
                    format!("{bbox:?}: expected [xmin, xmax, ymin, ymax] with xmin < xmax, ymin < ymax"),
                ));
            }
            Ok(MeshSource::Bbox { flwdir, bbox })
        }
        (Some(_), Some(_)) => Err(invalid("mesh", "bbox", "give either gauge_attributes or bbox, not both".into())),
        (None, None) => Err(invalid(
            "mesh",
            "gauge_attributes",
            "give gauge_attributes (gauged catchments) or bbox (ungauged domain)".into(),
        )),
    }
}

fn overrides(
    table: &toml::Table,
    vars: &[hydrograd_models::registry::VarInfo],
    section: &'static str,
    resolve: &dyn Fn(&Path) -> PathBuf,
    invalid: &Invalid<'_>,
) -> Result<Overrides, ConfigError> {
    let mut out = Overrides::default();
    for (key, value) in table {
        if key == "file" || (key == "weights" && section == "parameters") {
            let path = value.as_str().ok_or_else(|| invalid(section, key, "expected a file path (string)".into()))?;
            let path = Some(resolve(Path::new(path)));
            if key == "file" {
                out.file = path
            } else {
                out.weights = path
            }
            continue;
        }
        let info = vars.iter().find(|v| v.name == key).ok_or_else(|| {
            let names: Vec<_> = vars.iter().map(|v| v.name).collect();
            invalid(section, key, format!("unknown name; this structure has: {}, file", names.join(", ")))
        })?;
        let v = value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
            .ok_or_else(|| invalid(section, key, format!("expected a number, found {value}")))?;
        if !info.is_feasible(v) {
            return Err(invalid(
                section,
                key,
                format!("{v} is outside the feasible domain {:?} [{}]", info.feasible, info.unit),
            ));
        }
        out.uniform.push((key.clone(), v));
    }
    Ok(out)
}

/// `$HYDROGRAD_CACHE_DIR`, else `$XDG_CACHE_HOME/hydrograd`, else `$HOME/.cache/hydrograd`, else a temp folder.
fn default_cache_directory() -> PathBuf {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    env("HYDROGRAD_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|p| p.join("hydrograd")))
        .or_else(|| env("HOME").map(|p| p.join(".cache").join("hydrograd")))
        .unwrap_or_else(|| std::env::temp_dir().join("hydrograd"))
        .join("forcing")
}

#[cfg(test)]
mod tests;
