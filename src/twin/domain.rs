//! The twin experiment's domain: a window of a D8 flow-direction raster (smash's `France_flwdir.tif`),
//! gauges chosen on it automatically, and the mesh of their catchments.
//!
//! Gauges are the outlets of the largest disjoint catchments whose drained area lies in a range: cells
//! are visited by decreasing drained area and a cell is taken when no gauge taken so far drains it
//! (a cell downstream of a taken gauge drains more, so it was visited earlier). Catchments are thus
//! disjoint and spread over the window. The gauges are ranked by area and split alternately: ranks
//! 0, 2, 4, … train, ranks 1, 3, 5, … are held out, so both halves span the same range of areas.

use super::TwinError;
use crate::grid::Grid;
use crate::io::raster::read_raster;
use crate::mesh::{D8_OFFSETS, FlowDirection, GaugeSpec, Mesh, MeshOptions, generate_bbox_mesh, generate_mesh};
use crate::model::routing_network;
use hydrograd_models::network::RoutingNetwork;
use std::path::Path;

/// A rectangle of the flow-direction raster \[cells\]: rows `row0..row0 + nrow`, columns
/// `col0..col0 + ncol` (row 0 is the northern row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub row0: usize,
    pub col0: usize,
    pub nrow: usize,
    pub ncol: usize,
}

impl std::fmt::Display for Window {
    /// `rows 400..580, columns 500..680` (ends excluded).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rows {}..{}, columns {}..{}", self.row0, self.row0 + self.nrow, self.col0, self.col0 + self.ncol)
    }
}

/// How many gauges, and the range of their drained areas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaugeChoice {
    pub count: usize,
    /// Smallest and largest drained area \[km²\].
    pub area_km2: (f64, f64),
}

/// The mesh of the chosen catchments and the split of its gauges.
pub struct Domain {
    /// The window actually used (the whole raster when none was given).
    pub window: Window,
    /// Cells of the window with a flow direction.
    pub window_cells: usize,
    /// Gauges in order of decreasing drained area, codes `G001`, `G002`, …
    pub mesh: Mesh,
    pub network: RoutingNetwork,
    /// Codes of the training gauges (area ranks 0, 2, 4, …).
    pub training: Vec<String>,
    /// Codes of the held-out gauges (area ranks 1, 3, 5, …).
    pub held_out: Vec<String>,
}

/// Reads the flow directions, crops `window` (`None`: the whole raster), chooses the gauges and builds
/// the mesh of their catchments.
///
/// # Errors
/// [`TwinError::Raster`] (unreadable file), [`TwinError::Window`] (outside the raster, or too small),
/// [`TwinError::Mesh`], and [`TwinError::TooFewGauges`] when fewer than `choice.count` disjoint
/// catchments have an area in the range.
pub fn build_domain(flwdir: &Path, window: Option<Window>, choice: &GaugeChoice) -> Result<Domain, TwinError> {
    let raster = read_raster(flwdir)?;
    let full = raster.grid;
    let window = window.unwrap_or(Window { row0: 0, col0: 0, nrow: full.nrow, ncol: full.ncol });
    if window.nrow < 3
        || window.ncol < 3
        || window.row0 + window.nrow > full.nrow
        || window.col0 + window.ncol > full.ncol
    {
        return Err(TwinError::Window { window, nrow: full.nrow, ncol: full.ncol });
    }
    let flw = crop(&raster.data, raster.nodata, &full, window).map_err(|source| mesh_error(flwdir, source))?;
    let window_cells = flw.codes.iter().filter(|&&c| c > 0).count();
    let specs = choose_gauges(&flw, choice).map_err(|source| mesh_error(flwdir, source))?;
    if specs.len() < choice.count {
        return Err(TwinError::TooFewGauges {
            wanted: choice.count,
            found: specs.len(),
            area_km2: choice.area_km2,
            window,
        });
    }
    // each gauge sits exactly on its outlet with its exact area: no search, no mismatch allowed
    let options = MeshOptions { max_depth: 0, area_error_th: Some(1e-6) };
    let mesh = generate_mesh(&flw, &specs, &options).map_err(|source| mesh_error(flwdir, source))?;
    let network = routing_network(&mesh);
    let codes = specs.iter().map(|s| s.code.clone());
    let (training, held_out): (Vec<_>, Vec<_>) = codes.enumerate().partition(|(rank, _)| rank % 2 == 0);
    let strip = |v: Vec<(usize, String)>| v.into_iter().map(|(_, c)| c).collect();
    Ok(Domain { window, window_cells, mesh, network, training: strip(training), held_out: strip(held_out) })
}

fn mesh_error(path: &Path, source: crate::mesh::MeshError) -> TwinError {
    TwinError::Mesh { path: path.to_path_buf(), source }
}

/// The flow directions of `window`, with its last row and column emptied: smash's delineation never
/// searches the grid's last row or column (`src/mesh/delineate.rs`), so no catchment may reach them.
fn crop(values: &[f64], nodata: Option<f64>, full: &Grid, w: Window) -> Result<FlowDirection, crate::mesh::MeshError> {
    let grid = Grid {
        xmin: full.xmin + w.col0 as f64 * full.dx,
        ymax: full.ymax - w.row0 as f64 * full.dy,
        nrow: w.nrow,
        ncol: w.ncol,
        ..*full
    };
    let mut data = Vec::with_capacity(grid.len());
    for r in w.row0..w.row0 + w.nrow {
        data.extend_from_slice(&values[r * full.ncol + w.col0..r * full.ncol + w.col0 + w.ncol]);
    }
    let mut flw = FlowDirection::from_raster_values(grid, &data, nodata)?;
    flw.codes[(w.nrow - 1) * w.ncol..].fill(0);
    (0..w.nrow).for_each(|r| flw.codes[r * w.ncol + w.ncol - 1] = 0);
    Ok(flw)
}

/// Up to `choice.count` outlets of disjoint catchments in the area range, by decreasing area, each at
/// its cell's centre with its exact drained area.
fn choose_gauges(flw: &FlowDirection, choice: &GaugeChoice) -> Result<Vec<GaugeSpec>, crate::mesh::MeshError> {
    let g = flw.grid;
    let accumulation = generate_bbox_mesh(flw, [g.xmin, g.xmax(), g.ymin(), g.ymax])?;
    let cell_km2 = g.dx * g.dy / 1e6;
    let (lo, hi) = choice.area_km2;
    // drained areas are f32 sums of dx·dy: compare in cells
    let cells_of = |i: usize| (accumulation.flwacc[i] / (g.dx * g.dy)).round() * cell_km2;
    let mut candidates: Vec<usize> =
        (0..g.len()).filter(|&i| accumulation.active[i] && (lo..=hi).contains(&cells_of(i))).collect();
    candidates.sort_by(|&a, &b| accumulation.flwacc[b].total_cmp(&accumulation.flwacc[a]).then(a.cmp(&b)));
    let mut taken = vec![false; g.len()];
    let mut stack = Vec::new();
    let mut specs = Vec::new();
    for outlet in candidates {
        if specs.len() == choice.count {
            break;
        }
        if taken[outlet] {
            continue;
        }
        let n = mark_upstream(flw, outlet, &mut taken, &mut stack);
        let (row, col) = (outlet / g.ncol, outlet % g.ncol);
        specs.push(GaugeSpec {
            code: format!("G{:03}", specs.len() + 1),
            x: g.xmin + (col as f64 + 0.5) * g.dx,
            y: g.ymax - (row as f64 + 0.5) * g.dy,
            area: n as f64 * g.dx * g.dy,
        });
    }
    Ok(specs)
}

/// Marks the cells draining to `outlet` (itself included) in `taken` and returns their number.
fn mark_upstream(flw: &FlowDirection, outlet: usize, taken: &mut [bool], stack: &mut Vec<usize>) -> usize {
    let (nrow, ncol) = (flw.grid.nrow as isize, flw.grid.ncol as isize);
    stack.clear();
    stack.push(outlet);
    taken[outlet] = true;
    let mut n = 0;
    while let Some(cell) = stack.pop() {
        n += 1;
        let (row, col) = ((cell / ncol as usize) as isize, (cell % ncol as usize) as isize);
        for (k, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
            let (r, c) = (row - dr, col - dc);
            if r < 0 || c < 0 || r >= nrow || c >= ncol {
                continue;
            }
            let up = (r * ncol + c) as usize;
            if flw.codes[up] as usize == k + 1 && !taken[up] {
                taken[up] = true;
                stack.push(up);
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `6 × 6` grid of 1 km cells: the rows above the last two drain south into row 4, which drains
    /// east to its outlet (4, 4); rows 4–5 and column 5 are what `crop` empties.
    fn comb() -> FlowDirection {
        let grid = Grid { xmin: 0.0, ymax: 6000.0, dx: 1000.0, dy: 1000.0, nrow: 6, ncol: 6 };
        let mut codes = vec![0u8; 36];
        for r in 0..4 {
            for c in 0..5 {
                codes[r * 6 + c] = 5;
            }
        }
        for c in 0..4 {
            codes[4 * 6 + c] = 3;
        }
        codes[4 * 6 + 4] = 5;
        FlowDirection::new(grid, codes).unwrap()
    }

    #[test]
    fn gauges_are_disjoint_largest_first() {
        let flw = comb();
        // column 4 drains 5 cells at (4, 4), which also drains every column: 25 cells
        let all = choose_gauges(&flw, &GaugeChoice { count: 3, area_km2: (1.0, 100.0) }).unwrap();
        assert_eq!(all.len(), 1, "the outlet takes every cell");
        assert_eq!(all[0].area, 25e6);
        // (4, 1) drains columns 0 and 1 (10 cells); (4, 0) is upstream of it; then the 4-cell columns
        // 2, 3, 4 above row 4 (columns 0 and 1 are taken)
        let some = choose_gauges(&flw, &GaugeChoice { count: 10, area_km2: (4.0, 12.0) }).unwrap();
        let areas: Vec<f64> = some.iter().map(|s| s.area / 1e6).collect();
        assert_eq!(areas, vec![10.0, 4.0, 4.0, 4.0]);
        assert_eq!((some[0].x, some[0].y), (1500.0, 1500.0));
        assert_eq!((some[1].x, some[1].y), (2500.0, 2500.0));
        let mesh = generate_mesh(&flw, &some, &MeshOptions { max_depth: 0, area_error_th: Some(1e-6) }).unwrap();
        assert_eq!(mesh.nac(), 22);
        let fewer = choose_gauges(&flw, &GaugeChoice { count: 2, area_km2: (4.0, 12.0) }).unwrap();
        assert_eq!(fewer.len(), 2);
    }

    #[test]
    fn cropping_empties_the_last_row_and_column() {
        let full = Grid { xmin: 0.0, ymax: 4.0, dx: 1.0, dy: 1.0, nrow: 4, ncol: 4 };
        let values: Vec<f64> = (0..16).map(|_| 5.0).collect();
        let w = Window { row0: 1, col0: 1, nrow: 3, ncol: 3 };
        let flw = crop(&values, None, &full, w).unwrap();
        assert_eq!(flw.codes, vec![5, 5, 0, 5, 5, 0, 0, 0, 0]);
        assert_eq!((flw.grid.xmin, flw.grid.ymax), (1.0, 3.0));
        assert_eq!(w.to_string(), "rows 1..4, columns 1..4");
    }
}
