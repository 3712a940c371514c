//! Physiographic descriptors: one raster per name (smash's `_read_descriptor`).
//!
//! The file is the first `<name>.tif` or `<name>.tiff` found recursively under the folder (sorted by
//! path), else the first `<name>.tif*` as smash globs. Values are read as smash does
//! ([`super::raster::Raster::values_on`]): `f32`, −99 for nodata and outside the raster. −99 is allowed
//! on inactive cells only.

use std::path::Path;

use super::IoError;
use super::files::{ListedFile, list_files};
use super::raster::{MISSING, read_raster};
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
            reason: format!(
                "the active-cell mask has {} values for a {} x {} mesh",
                active.len(),
                grid.nrow,
                grid.ncol
            ),
        });
    }
    let files = list_files(dir, "descriptor_directory", "", false)?;
    names
        .iter()
        .map(|name| {
            // smash globs `<name>.tif*`; prefer `.tif`/`.tiff` over side files such as `.tif.aux.xml`.
            let prefix = format!("{name}.tif");
            let file_name =
                |f: &&ListedFile| f.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let file = files
                .iter()
                .find(|f| [prefix.clone(), format!("{prefix}f")].contains(&file_name(f)))
                .or_else(|| files.iter().find(|f| file_name(f).starts_with(&prefix)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::test_tiff::{Geo, write};
    use tiff::encoder::colortype::Gray32Float;

    #[test]
    fn missing_values_only_on_inactive_cells() {
        let dir = tempfile::tempdir().unwrap();
        let geo = Geo { nodata: Some("-9999"), ..Geo::area(0.0, 2000.0, 1000.0) };
        write::<Gray32Float>(&dir.path().join("sub/slope.tif"), &geo, 2, 2, &[1.0, 2.0, -9999.0, 4.0]);
        write::<Gray32Float>(&dir.path().join("dd.tif"), &geo, 2, 2, &[-99.0; 4]);
        let grid = Grid { xmin: 0.0, ymax: 2000.0, dx: 1000.0, dy: 1000.0, nrow: 2, ncol: 2 };
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let active = [true, true, false, true];
        let d = read_descriptors(dir.path(), &names(&["slope"]), &grid, &active).unwrap();
        assert_eq!(d, [vec![1.0, 2.0, -99.0, 4.0]]);
        let err = read_descriptors(dir.path(), &names(&["slope"]), &grid, &[true; 4]).unwrap_err();
        assert!(matches!(err, IoError::DescriptorMissingOnActive { row: 1, col: 0, .. }), "{err}");
        assert!(err.to_string().contains("slope"));
        let err = read_descriptors(dir.path(), &names(&["dd"]), &grid, &active).unwrap_err();
        assert!(matches!(err, IoError::DescriptorAllMissing { .. }), "{err}");
        let err = read_descriptors(dir.path(), &names(&["karst"]), &grid, &active).unwrap_err();
        assert!(matches!(err, IoError::DescriptorNotFound { .. }), "{err}");
    }
}
