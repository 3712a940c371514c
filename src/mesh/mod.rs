//! The computational mesh: what smash's `generate_mesh` builds from a D8 grid (spec §2.1, §8).
//!
//! All per-cell arrays are row-major `[nrow, ncol]` over the mesh rectangle `grid`.

use crate::grid::Grid;

/// A gauge placed on the mesh.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// Station code, e.g. `V3524010`.
    pub code: String,
    /// Position on the mesh grid (0-based).
    pub row: usize,
    pub col: usize,
    /// Declared drained area [m²] (`NaN` when none was given).
    pub area: f64,
    /// Area drained at `(row, col)` after delineation [m²].
    pub area_dln: f64,
}

/// The mesh a model runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    /// The mesh rectangle (a window of the flow-direction grid).
    pub grid: Grid,
    /// D8 codes 1..=8 (1 = N, 2 = NE, …, 8 = NW), 0 where there is none. `[nrow, ncol]`.
    pub flwdir: Vec<u8>,
    /// Cells the model runs on. `[nrow, ncol]`.
    pub active: Vec<bool>,
    /// Drained area, the cell's own included [m²]. `[nrow, ncol]`.
    pub flwacc: Vec<f64>,
    /// Flow distance to the most downstream gauge [m]. `[nrow, ncol]`.
    pub flwdst: Vec<f64>,
    /// Partition (topological level, 1-based; 1 = no inflow). `[nrow, ncol]`.
    pub flwpar: Vec<u32>,
    /// Number of partitions (smash's `npar`).
    pub npar: usize,
    /// Flat indices of the active cells grouped by partition, column-major inside a partition
    /// (smash's `cpar_to_rowcol` restricted to active cells). `[nac]`.
    pub routing_order: Vec<usize>,
    /// Offsets of each partition in `routing_order`. `[npar + 1]`.
    pub partition_offsets: Vec<usize>,
    /// Gauges in the order given.
    pub gauges: Vec<Gauge>,
}

impl Mesh {
    /// Number of active cells (smash's `nac`).
    pub fn nac(&self) -> usize {
        self.routing_order.len()
    }
}
