//! Inputs: rasters, forcing, observed discharge, descriptors.
//!
//! Everything here reproduces what smash 1.3 reads (`core/model/_read_input_data.py`, spec §8), with
//! errors instead of smash's silent fallbacks where these usually hide a mistake (see each function).

mod error;
mod georef;

pub mod cache;
pub mod descriptor;
pub mod files;
pub mod forcing;
pub mod pet;
pub mod qobs;
pub mod raster;
pub mod window;

#[cfg(test)]
mod test_tiff;

pub use cache::{read_atmos_cached, CacheStatus};
pub use descriptor::read_descriptors;
pub use error::IoError;
pub use forcing::{read_atmos, AtmosSpec, Forcing, MissingFile};
pub use qobs::{read_qobs, read_qobs_with_warnings};
pub use raster::{read_raster, Raster, MISSING};
pub use window::{Coverage, Window};
