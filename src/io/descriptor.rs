//! Physiographic descriptors: one raster per name (smash's `_read_descriptor`).
//!
//! The file is the first `<name>.tif*` found recursively under the folder (sorted by path). Values are
//! read as smash does ([`super::raster::Raster::values_on`]): `f32`, −99 for nodata and outside the
//! raster. −99 is allowed on inactive cells only.

use std::path::Path;

use super::files::list_files;
use super::raster::{read_raster, MISSING};
use super::IoError;
use crate::grid::Grid;

/// Reads the descriptors `names` on the mesh rectangle `grid`.
///
/// # Arguments
/// * `active` — `[nrow, ncol]` row-major, the cells the model runs on.
///
/// # Shapes
/// Returns one `[nrow, ncol]` row-major array per name, in the order of `names`.
///
/// # Errors
/// [`IoError::DescriptorNotFound`] (smash only warns, then uses zeros), [`IoError::DescriptorAllMissing`],
/// [`IoError::DescriptorMissingOnActive`], and the raster errors of [`read_raster`].
pub fn read_descriptors(dir: &Path, names: &[String], grid: &Grid, active: &[bool]) -> Result<Vec<Vec<f32>>, IoError> {
    if active.len() != grid.len() {
        return Err(IoError::InvalidArgument {
            reason: format!("the active-cell mask has {} values for a {} x {} mesh", active.len(), grid.nrow, grid.ncol),
        });
    }
    let files = list_files(dir, "descriptor_directory", "", false)?;
    names
        .iter()
        .map(|name| {
            let prefix = format!("{name}.tif");
            let file = files
                .iter()
                .find(|f| f.path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
                .ok_or_else(|| IoError::DescriptorNotFound { name: name.clone(), dir: dir.to_path_buf() })?;
            let values = read_raster(&file.path)?.values_on(grid)?;
            let missing = |v: &f32| *v == MISSING;
            if values.iter().all(missing) {
                return Err(IoError::DescriptorAllMissing { name: name.clone(), path: file.path.clone() });
            }
            if let Some(i) = (0..values.len()).find(|&i| active[i] && missing(&values[i])) {
                return Err(IoError::DescriptorMissingOnActive {
                    name: name.clone(),
                    path: file.path.clone(),
                    row: i / grid.ncol,
                    col: i % grid.ncol,
                });
            }
            Ok(values)
        })
        .collect()
}
