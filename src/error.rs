//! The library's error: one variant per stage, each carrying its stage's typed error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Io(#[from] crate::io::IoError),
    #[error(transparent)]
    Mesh(#[from] crate::mesh::MeshError),
    #[error("{}: {source}", path.display())]
    MeshFile {
        path: PathBuf,
        #[source]
        source: crate::mesh::MeshError,
    },
    #[error(transparent)]
    Parameter(#[from] crate::model::ParameterError),
    #[error(transparent)]
    Weights(#[from] crate::model::weights::WeightsError),
    #[error("simulation: {0}")]
    Simulation(#[from] hydrograd_models::simulation::SimulationError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error(transparent)]
    Device(#[from] hydrograd_kernels::DeviceError),
}
