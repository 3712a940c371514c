//! Inputs: rasters, forcing, observed discharge, descriptors.
//!
//! Everything here reproduces what smash 1.3 reads (`core/model/_read_input_data.py`, spec §8), with
//! errors instead of smash's silent fallbacks where these usually hide a mistake (see each function).
//!
//! # Example
//! ```no_run
//! use hydrograd::grid::Grid;
//! use hydrograd::io::{read_atmos_cached, AtmosSpec};
//! use hydrograd::time::{parse_datetime, TimeAxis};
//!
//! let spec = AtmosSpec { prcp_conversion_factor: 0.1, daily_interannual_pet: true, ..AtmosSpec::new("Cance/prcp", "Cance/pet") };
//! let time = TimeAxis { start: parse_datetime("2014-09-15 00:00").unwrap(), dt: 3600, ntime: 1440 };
//! let grid = Grid { xmin: 771_000.0, ymax: 6_478_000.0, dx: 1000.0, dy: 1000.0, nrow: 28, ncol: 28 };
//! let cells: Vec<usize> = (0..grid.len()).collect();
//! let (forcing, status) = read_atmos_cached(&spec, &time, &grid, &cells, "cache".as_ref())?;
//! assert_eq!(forcing.prcp.len(), 1440 * cells.len()); // [T, N]
//! # Ok::<(), hydrograd::io::IoError>(())
//! ```

mod error;
mod georef;

pub mod atomic;
pub mod cache;
pub mod descriptor;
pub mod files;
pub mod forcing;
pub mod pet;
pub mod qobs;
pub mod raster;
pub mod values;
pub mod window;

#[cfg(test)]
pub(crate) mod test_tiff;

pub use cache::{CacheStatus, read_atmos_cached};
pub use descriptor::read_descriptors;
pub use error::IoError;
pub use forcing::{AtmosSpec, Forcing, MissingFile, read_atmos};
pub use qobs::{read_qobs, read_qobs_with_warnings};
pub use raster::{MISSING, Raster, read_raster};
pub use window::{Coverage, Window};
