//! The errors of the input module.

use std::path::PathBuf;

/// An input file or folder that cannot be used.
///
/// Every variant names the file or folder, and where it matters the configuration key, the date or
/// the raster cell `(row, col)` (0-based, row 0 = north).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// A file or folder could not be read (permissions, disk, vanished file).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A folder named in the configuration does not exist.
    #[error("{key} = {}: folder not found", path.display())]
    MissingDirectory { key: String, path: PathBuf },

    /// The file is not a TIFF the decoder understands (corrupt, truncated, unsupported compression).
    #[error("{}: not a readable GeoTIFF ({source})", path.display())]
    Tiff {
        path: PathBuf,
        #[source]
        source: tiff::TiffError,
    },

    /// A TIFF that decodes but cannot be used as a single-band raster.
    #[error("{}: {reason}", path.display())]
    UnsupportedRaster { path: PathBuf, reason: String },

    /// The raster's position on the map cannot be determined.
    #[error("{}: cannot place the raster on the map: {reason}", path.display())]
    Georeferencing { path: PathBuf, reason: String },

    /// Raster cells and mesh cells differ in size.
    #[error(
        "{}: raster cells are {raster_dx} m x {raster_dy} m but mesh cells are {mesh_dx} m x {mesh_dy} m; \
         resample the raster to the mesh resolution first",
        path.display()
    )]
    ResolutionMismatch { path: PathBuf, raster_dx: f64, raster_dy: f64, mesh_dx: f64, mesh_dy: f64 },

    /// Raster cells are not aligned with mesh cells (shifted by a fraction of a cell).
    #[error(
        "{}: raster cells are not aligned with mesh cells (the mesh's west edge falls {col_shift:.3} cells and \
         its north edge {row_shift:.3} cells from the raster's cell edges; both must be whole numbers)",
        path.display()
    )]
    GridMisaligned { path: PathBuf, col_shift: f64, row_shift: f64 },

    /// A NaN value that is not the file's declared nodata value.
    #[error(
        "{}: value NaN at raster cell (row {row}, col {col}) but the file's nodata value is {}; \
         declare NaN as nodata or fix the file",
        path.display(),
        nodata.map_or_else(|| "not set".to_string(), |v| v.to_string())
    )]
    NanValue { path: PathBuf, row: usize, col: usize, nodata: Option<f64> },

    /// A forcing file name without the date smash looks for.
    #[error("{}: no date found in the file name (expected {format})", path.display())]
    NoDateInFileName { path: PathBuf, format: &'static str },

    /// A forcing file name whose date digits are not a valid date.
    #[error("{}: '{text}' in the file name is not a valid date ({format})", path.display())]
    InvalidDateInFileName { path: PathBuf, text: String, format: &'static str },

    /// Some dates of the simulation period have no forcing file.
    #[error(
        "{key} = {}: no file for {count} of {total} {unit} (first: {}); \
         set missing_forcing_file = \"as_missing\" to read them as missing data (-99) like smash",
        dir.display(),
        first.join(", ")
    )]
    MissingForcingFiles {
        key: String,
        dir: PathBuf,
        count: usize,
        total: usize,
        /// "dates" or "days of year".
        unit: &'static str,
        /// The first missing dates (`YYYY-mm-dd HH:MM`, or `mm-dd` for daily interannual PET).
        first: Vec<String>,
    },

    /// The time step cannot be matched with file names or PET ratios.
    #[error("time step dt = {dt} s is not supported: {reason}")]
    UnsupportedTimeStep { dt: i64, reason: String },

    /// A cell index outside the mesh grid, or an array of the wrong size.
    #[error("invalid argument: {reason}")]
    InvalidArgument { reason: String },

    /// The header of an observed discharge file is not a date.
    #[error(
        "{}: header '{header}' of the observed discharge file is not a valid date \
         (expected e.g. 200601010000 or 20060101)",
        path.display()
    )]
    QobsHeader { path: PathBuf, header: String },

    /// A value of an observed discharge file is not a number.
    #[error("{}, line {line}: '{text}' is not a discharge value [m3/s]", path.display())]
    QobsValue { path: PathBuf, line: usize, text: String },

    /// No raster file for a descriptor.
    #[error("descriptor '{name}': no file {name}.tif* under {}", dir.display())]
    DescriptorNotFound { name: String, dir: PathBuf },

    /// A descriptor with only missing values on the mesh rectangle.
    #[error("descriptor '{name}' ({}): only missing values (-99 or nodata) on the mesh", path.display())]
    DescriptorAllMissing { name: String, path: PathBuf },

    /// A descriptor with a missing value on an active cell.
    #[error(
        "descriptor '{name}' ({}): missing value (-99, nodata or outside the raster) on active cell \
         (row {row}, col {col}) of the mesh",
        path.display()
    )]
    DescriptorMissingOnActive { name: String, path: PathBuf, row: usize, col: usize },
}

impl IoError {
    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IoError::Read { path: path.into(), source }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_can_cross_threads_and_reach_anyhow() {
        fn check<T: Send + Sync + std::error::Error + 'static>() {}
        check::<super::IoError>();
    }
}
