//! The twin experiment at scale: regionalization mappings trained on synthetic discharge whose true
//! parameters are known (`docs/twin.md`).
//!
//! [`Twin::build`] reads a D8 flow-direction raster (smash's `France_flwdir.tif`), takes a window of it,
//! chooses gauges ([`domain`]), draws smooth synthetic descriptors and derives the true gr4 parameter
//! maps from them by a known multi-linear law ([`fields`]), draws a daily forcing ([`forcing`]) and runs
//! the model to make the "observed" discharge. [`Twin::train`] then trains a mapping (`multi-linear`,
//! `ann`) on the training half of the gauges with the other half as `[validation]`, and scores it: NSE
//! at every gauge, recovery of every parameter map, time per gradient evaluation ([`experiment`]).
//!
//! Everything is deterministic for a seed; the inputs live in memory (nothing is read but the flow
//! directions).

mod domain;
mod experiment;
mod fields;
mod forcing;
mod random;
mod score;

pub use domain::{Domain, GaugeChoice, Window, build_domain};
pub use experiment::{MappingResult, Training};
pub use fields::{DESCRIPTOR_NAMES, LAWS, Law, descriptor_maps, standardized, true_maps};
pub use forcing::synthetic_forcing;
pub use score::{Recovery, gauge_nse, median};

use crate::config::{Config, ConfigError, DeviceKind};
use crate::io::cache::CacheStatus;
use crate::model::{Fields, Inputs, initial_fields, simulate_batch};
use crate::time::TimeAxis;
use chrono::{NaiveDate, TimeDelta};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why the twin experiment could not be set up or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TwinError {
    #[error(transparent)]
    Raster(#[from] crate::io::IoError),
    #[error("{}: {source}", path.display())]
    Mesh {
        path: PathBuf,
        #[source]
        source: crate::mesh::MeshError,
    },
    #[error("window {window} does not fit the {nrow} x {ncol} raster (or is under 3 x 3 cells)")]
    Window { window: Window, nrow: usize, ncol: usize },
    #[error(
        "only {found} disjoint catchments of {} to {} km² in the window ({window}), {wanted} wanted: widen the window or the area range, or ask for fewer gauges",
        area_km2.0, area_km2.1
    )]
    TooFewGauges { wanted: usize, found: usize, area_km2: (f64, f64), window: Window },
    #[error("the experiment's configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Model(#[from] crate::Error),
    #[error(transparent)]
    Train(#[from] crate::calibration::train::TrainError),
}

/// What to set up.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinOptions {
    /// The D8 flow-direction raster.
    pub flwdir: PathBuf,
    /// The window of the raster; `None` for the whole raster.
    pub window: Option<Window>,
    pub gauges: GaugeChoice,
    /// Days simulated before the cost starts.
    pub warmup_days: usize,
    /// Days in the cost.
    pub days: usize,
    /// First day of the simulation.
    pub start: NaiveDate,
    /// Seed of the descriptors and the forcing.
    pub seed: u64,
}

impl TwinOptions {
    /// 60 gauges of 100 to 5,000 km² on the whole raster; a year from 1 August 2019: 61 days of warm-up,
    /// then 305 days in the cost (1 October 2019 to 1 August 2020).
    pub fn new(flwdir: impl Into<PathBuf>) -> TwinOptions {
        TwinOptions {
            flwdir: flwdir.into(),
            window: None,
            gauges: GaugeChoice { count: 60, area_km2: (100.0, 5000.0) },
            warmup_days: 61,
            days: 305,
            start: NaiveDate::from_ymd_opt(2019, 8, 1).expect("a valid date"),
            seed: 1,
        }
    }
}

/// The set-up experiment.
pub struct Twin {
    pub window: Window,
    /// Cells of the window with a flow direction.
    pub window_cells: usize,
    /// Gauge codes trained on, and held out.
    pub training: Vec<String>,
    pub held_out: Vec<String>,
    /// Mesh, network, forcing, descriptors, and the discharge of the truth as observations.
    pub inputs: Inputs,
    /// The true parameter fields (cp, ct, kexc, llr from [`LAWS`]) and the initial states of every run.
    pub truth: Fields,
    pub states: Fields,
    pub time: TimeAxis,
    /// Steps before the cost starts.
    pub warmup: usize,
    /// The configuration every training extends: `[setup]`, `[mesh]`, `[parameters]` (the priors).
    pub setup_toml: String,
    /// Wall time of [`Twin::build`] \[s\].
    pub setup_seconds: f64,
}

impl Twin {
    /// Sets the experiment up; the discharge of the truth is computed by the CPU engine.
    pub fn build(options: &TwinOptions) -> Result<Twin, TwinError> {
        let start = Instant::now();
        let domain = build_domain(&options.flwdir, options.window, &options.gauges)?;
        let setup_toml = setup_toml(options);
        let config = Config::from_toml(&setup_toml, Path::new("twin.toml"))?;
        let maps = descriptor_maps(&domain.mesh.grid, options.seed);
        let truth_maps = true_maps(&standardized(&maps, &domain.mesh.routing_order));
        let forcing = synthetic_forcing(&domain.mesh, &config.time, options.seed);
        let mut inputs = Inputs {
            mesh: domain.mesh,
            network: domain.network,
            forcing,
            cache: CacheStatus::NotStored { reason: "synthetic forcing, built in memory".into() },
            qobs: None,
            descriptors: maps,
        };
        let (mut truth, states) = initial_fields(&config, &inputs)?;
        for (law, map) in LAWS.iter().zip(truth_maps) {
            truth.get_mut(law.name).expect("gr4 parameter").copy_from_slice(&map);
        }
        let (qobs, _) = simulate_batch(&config, &inputs, std::slice::from_ref(&truth), &states)?;
        inputs.qobs = Some(qobs);
        Ok(Twin {
            window: domain.window,
            window_cells: domain.window_cells,
            training: domain.training,
            held_out: domain.held_out,
            inputs,
            truth,
            states,
            time: config.time,
            warmup: options.warmup_days,
            setup_toml,
            setup_seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Active cells (those draining to a gauge).
    pub fn cells(&self) -> usize {
        self.inputs.mesh.nac()
    }

    /// The end of the warm-up, `YYYY-mm-dd HH:MM`.
    fn end_warmup(&self) -> String {
        let end = self.time.start + TimeDelta::days(self.warmup as i64);
        end.format("%Y-%m-%d %H:%M").to_string()
    }

    /// The configuration of one training on `device`: the setup, one stage, the held-out gauges.
    pub fn config_toml(&self, training: &Training, device: DeviceKind) -> String {
        let codes = |c: &[String]| toml::Value::Array(c.iter().cloned().map(toml::Value::String).collect());
        let warmup = toml::Value::String(self.end_warmup());
        format!(
            "{}\n[compute]\ndevice = \"{}\"\n\n{}\n[train.stage.cost_options]\njobs_cmpt = \"nse\"\nend_warmup = {warmup}\ngauge = {}\n\n[validation]\njobs_cmpt = \"nse\"\nend_warmup = {warmup}\ngauge = {}\n",
            self.setup_toml,
            device.name(),
            training.stage_toml(),
            codes(&self.training),
            codes(&self.held_out),
        )
    }
}

/// `[setup]`, `[mesh]` and `[parameters]` of the experiment: gr4-lr, daily, the four descriptors, the
/// priors of [`LAWS`].
fn setup_toml(options: &TwinOptions) -> String {
    let date = |d: NaiveDate| toml::Value::String(format!("{} 00:00", d.format("%Y-%m-%d")));
    let end = options.start + TimeDelta::days((options.warmup_days + options.days) as i64);
    let names: Vec<String> = DESCRIPTOR_NAMES.iter().map(|n| format!("\"{n}\"")).collect();
    let priors: String = LAWS.iter().map(|l| format!("{} = {:?}\n", l.name, l.prior)).collect();
    format!(
        "# The twin experiment (hydrograd::twin). Its inputs are built in memory: the folders below are\n\
         # never read, only the flow directions are.\n\
         [setup]\nhydrological_module = \"gr4\"\nrouting_module = \"lr\"\ndt = 86400\n\
         start_time = {}\nend_time = {}\n\
         prcp_directory = \"synthetic\"\npet_directory = \"synthetic\"\n\
         descriptor_directory = \"synthetic\"\ndescriptor_name = [{}]\n\n\
         [mesh]\nflwdir = {}\ngauge_attributes = \"synthetic-gauges.csv\"\n\n\
         [parameters]\n{priors}",
        date(options.start),
        date(end),
        names.join(", "),
        toml::Value::String(options.flwdir.display().to_string()),
    )
}
