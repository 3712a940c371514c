//! The computational mesh: what smash's `generate_mesh` builds from a D8 grid (spec §2.1, §8).
//!
//! All per-cell arrays are row-major `[nrow, ncol]` over the mesh rectangle `grid`.
//!
//! * [`generate_mesh`]: catchments of gauges ([`GaugeSpec`], e.g. from [`read_gauge_attributes`]),
//!   delineated by area on a [`FlowDirection`] grid.
//! * [`generate_bbox_mesh`]: every cell of a bounding box.
//!
//! Both reproduce smash 1.3 exactly (same outlets, rectangle, f32 drained areas and distances,
//! partitions and their order); `tests/reference_mesh.rs` checks this on Cance, Lez and France.
//! The algorithms are O(N) and stack-free (the France bounding box, 1.24 M cells: ~40 ms).

pub mod components;
mod delineate;
mod error;
mod flwdir;
mod gauges;
mod generate;
mod topology;

#[cfg(test)]
mod tests;

pub use error::MeshError;
pub use flwdir::{D8_OFFSETS, FlowDirection, detect_sink};
pub use gauges::{GaugeSpec, read_gauge_attributes};
pub use generate::{MeshOptions, generate_bbox_mesh, generate_mesh};

use crate::grid::Grid;

/// A gauge placed on the mesh.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// Station code, e.g. `V3524010`.
    pub code: String,
    /// Position on the mesh grid (0-based).
    pub row: usize,
    pub col: usize,
    /// Declared drained area \[m²\] (`NaN` when none was given), rounded to f32 as smash holds it.
    pub area: f64,
    /// Area drained at `(row, col)` after delineation \[m²\] (smash's f32 value).
    pub area_dln: f64,
}

/// The mesh a model runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    /// The mesh rectangle (a window of the flow-direction grid).
    pub grid: Grid,
    /// D8 codes 1..=8 (1 = N, 2 = NE, …, 8 = NW), 0 where there is none. `[nrow, ncol]`.
    /// Inactive cells inside the rectangle keep their code (as smash's data).
    pub flwdir: Vec<u8>,
    /// Cells the model runs on. `[nrow, ncol]`.
    pub active: Vec<bool>,
    /// Drained area, the cell's own included \[m²\]. `[nrow, ncol]`.
    /// Computed over the whole rectangle (inactive cells included) in f32, as smash: the values
    /// are smash's f32 values exactly.
    pub flwacc: Vec<f64>,
    /// Flow distance to the most downstream gauge \[m\]. `[nrow, ncol]`.
    /// −99 where no gauge is reached (everywhere for a bounding-box mesh). f32 values, as smash.
    pub flwdst: Vec<f64>,
    /// Partition (topological level, 1-based; 1 = no inflow). `[nrow, ncol]`.
    pub flwpar: Vec<u32>,
    /// Number of partitions (smash's `npar`): the largest `flwpar` of the whole rectangle, inactive
    /// cells included, so a partition may hold no active cell.
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
