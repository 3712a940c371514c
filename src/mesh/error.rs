//! Errors of mesh generation.

use std::path::PathBuf;

/// Why a mesh (or its inputs) could not be built.
///
/// Rows and columns are 0-based and refer to the flow-direction grid unless stated otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MeshError {
    /// An array does not have the size its grid implies.
    #[error("{what}: expected {expected} values, got {got}")]
    SizeMismatch { what: &'static str, expected: usize, got: usize },

    /// The grid itself is unusable (non-positive or non-finite cell size, no cell).
    #[error("invalid flow-direction grid: {reason}")]
    InvalidGrid { reason: String },

    /// A flow-direction value is not an integer (D8 codes are 1..=8).
    #[error("flow direction at (row {row}, col {col}) is {value}, not an integer D8 code")]
    InvalidCode { row: usize, col: usize, value: f64 },

    /// A gauge lies outside the flow-direction grid.
    #[error(
        "gauge {code} at (x {x}, y {y}) is outside the flow-direction grid \
         (x {xmin}..{xmax}, y {ymin}..{ymax})"
    )]
    GaugeOutsideGrid { code: String, x: f64, y: f64, xmin: f64, xmax: f64, ymin: f64, ymax: f64 },

    /// A gauge's declared area cannot drive the delineation (must be finite and > 0).
    #[error("gauge {code}: declared area {area} m² must be finite and positive")]
    InvalidGaugeArea { code: String, area: f64 },

    /// Every candidate outlet around a gauge is outside the search window or on a flow loop.
    #[error(
        "gauge {code}: no outlet found within {max_depth} cell(s) of (row {row}, col {col}) \
         (every candidate is outside the grid or on a flow loop)"
    )]
    NoOutlet { code: String, row: usize, col: usize, max_depth: usize },

    /// The delineated area is too far from the declared one.
    #[error(
        "gauge {code}: delineated area {area_dln} m² differs from the declared {area} m² \
         (relative error {rel_error:.3} > threshold {threshold})"
    )]
    AreaMismatch { code: String, area: f64, area_dln: f64, rel_error: f64, threshold: f64 },

    /// No gauge was given (use a bounding-box mesh instead).
    #[error("no gauge given: a gauge mesh needs at least one gauge (or use a bounding box)")]
    NoGauges,

    /// The bounding box is malformed (not finite, or min > max).
    #[error("invalid bbox [{xmin}, {xmax}, {ymin}, {ymax}] (xmin, xmax, ymin, ymax): {reason}")]
    InvalidBbox { xmin: f64, xmax: f64, ymin: f64, ymax: f64, reason: String },

    /// The bounding box does not cover a single cell of the flow-direction grid.
    #[error(
        "bbox [{xmin}, {xmax}, {ymin}, {ymax}] (xmin, xmax, ymin, ymax) does not cover any cell of \
         the flow-direction grid (x {grid_xmin}..{grid_xmax}, y {grid_ymin}..{grid_ymax})"
    )]
    BboxOutsideGrid {
        xmin: f64,
        xmax: f64,
        ymin: f64,
        ymax: f64,
        grid_xmin: f64,
        grid_xmax: f64,
        grid_ymin: f64,
        grid_ymax: f64,
    },

    /// The mesh would have no active cell.
    #[error("the mesh has no active cell")]
    NoActiveCell,

    /// A flow path loops: the cell never drains to an outlet.
    #[error("flow directions loop through the cell (row {row}, col {col}) at (x {x}, y {y}) (cell centre)")]
    Cycle { row: usize, col: usize, x: f64, y: f64 },

    /// The gauge attributes file could not be read.
    #[error("cannot read gauge attributes {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The gauge attributes file is malformed.
    #[error("{}:{line}: {message}", path.display())]
    GaugeAttributes { path: PathBuf, line: usize, message: String },
}
