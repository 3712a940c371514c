//! Area-based catchment delineation (smash's `catchment_dln_area_based`, spec §8).
//!
//! smash does this in f32 (NumPy 2 keeps `float32 op python-float` in f32) and these details
//! change which outlet is picked, so they are reproduced:
//! * The gauge cell is `(trunc((ymax − y)/dy), trunc((x − xmin)/dx))` computed in f32.
//! * The search runs inside a window of `n = ceil(area/(dx·dy))` cells (+ `max_depth`) around it:
//!   rows `max(0, row − max_depth − n) .. min(nrow − 1, row + max_depth + n)`, end **excluded**
//!   (so the grid's last row/column is never in a window). Catchments are clipped to that window.
//! * Candidates are visited column offset outer, row offset inner, from −max_depth to +max_depth;
//!   the first strictly smaller `|area − A|/area` (f32, `A` = f32 running sum of `dx·dy`) wins.
//! * A candidate whose upstream walk comes back to itself (it lies on a flow loop) is skipped.
//! * `area_dln` = the winner's cell count × dx·dy in f64, rounded to f32 (NumPy's sum).

use super::{FlowDirection, GaugeSpec, MeshError, flwdir::D8_OFFSETS};

/// The catchment picked for one gauge.
pub(crate) struct Delineation {
    /// Outlet cell in the flow-direction grid.
    pub row: usize,
    pub col: usize,
    /// Row-major indices (flow-direction grid) of the catchment's cells, outlet included.
    pub cells: Vec<usize>,
    /// Declared area as smash holds it (f32) \[m²\].
    pub area: f32,
    /// Delineated area (f32) \[m²\].
    pub area_dln: f32,
}

/// Reusable buffers (sized to the flow-direction grid).
pub(crate) struct Scratch {
    visited: Vec<u32>,
    stamp: u32,
    stack: Vec<usize>,
}

impl Scratch {
    pub fn new(n: usize) -> Self {
        Self { visited: vec![0; n], stamp: 0, stack: Vec::new() }
    }
}

pub(crate) fn delineate(
    flw: &FlowDirection,
    gauge: &GaugeSpec,
    max_depth: usize,
    scratch: &mut Scratch,
) -> Result<Delineation, MeshError> {
    let grid = &flw.grid;
    let (x, y, area) = (gauge.x as f32, gauge.y as f32, gauge.area as f32);
    if !(area.is_finite() && area > 0.0) {
        return Err(MeshError::InvalidGaugeArea { code: gauge.code.clone(), area: gauge.area });
    }
    let (xmin, ymax, dx, dy) = (grid.xmin as f32, grid.ymax as f32, grid.dx as f32, grid.dy as f32);
    let outside = || MeshError::GaugeOutsideGrid {
        code: gauge.code.clone(),
        x: gauge.x,
        y: gauge.y,
        xmin: grid.xmin,
        xmax: grid.xmax(),
        ymin: grid.ymin(),
        ymax: grid.ymax,
    };
    // smash's bounds check (inclusive, in f32), then its truncating cell lookup.
    let inside =
        x.is_finite() && y.is_finite() && x >= xmin && x <= grid.xmax() as f32 && y >= grid.ymin() as f32 && y <= ymax;
    if !inside {
        return Err(outside());
    }
    let row = ((ymax - y) / dy) as usize;
    let col = ((x - xmin) / dx) as usize;
    if row >= grid.nrow || col >= grid.ncol {
        return Err(outside());
    }

    let cell_area = dx * dy;
    let n = (area / cell_area).ceil() as i64;
    let md = max_depth as i64;
    let (r, c) = (row as i64, col as i64);
    let srow = (r - md - n).max(0);
    let erow = (r + md + n).min(grid.nrow as i64 - 1);
    let scol = (c - md - n).max(0);
    let ecol = (c + md + n).min(grid.ncol as i64 - 1);
    let in_window = |r: i64, c: i64| r >= srow && r < erow && c >= scol && c < ecol;

    let mut best: Option<(usize, usize, Vec<usize>)> = None;
    let mut cells = Vec::new();
    let mut min_tol = f32::MAX;
    for di in -md..=md {
        for dj in -md..=md {
            let (rc, cc) = (r + dj, c + di);
            if !in_window(rc, cc) {
                continue;
            }
            let outlet = rc as usize * grid.ncol + cc as usize;
            if !upstream_in_window(flw, outlet, (srow, erow, scol, ecol), scratch, &mut cells) {
                continue; // on a flow loop
            }
            let mut sum = 0.0f32;
            for _ in 0..cells.len() {
                sum += cell_area;
            }
            let tol = (area - sum).abs() / area;
            // `!(tol < min_tol)` would differ for NaN: keep smash's `tol >= min_tol` test.
            #[allow(clippy::neg_cmp_op_on_partial_ord)]
            if tol >= min_tol {
                continue;
            }
            min_tol = tol;
            let keep = std::mem::take(&mut cells);
            if let Some((_, _, old)) = best.replace((rc as usize, cc as usize, keep)) {
                cells = old;
            }
        }
    }
    let Some((row, col, cells)) = best else {
        return Err(MeshError::NoOutlet { code: gauge.code.clone(), row, col, max_depth });
    };
    let area_dln = (cells.len() as f64 * (f64::from(dx) * f64::from(dy))) as f32;
    Ok(Delineation { row, col, cells, area, area_dln })
}

/// Collects into `out` the cells of the window draining to `outlet` (outlet included). Returns
/// `false` if the walk comes back to a visited cell, i.e. `outlet` lies on a flow loop.
fn upstream_in_window(
    flw: &FlowDirection,
    outlet: usize,
    (srow, erow, scol, ecol): (i64, i64, i64, i64),
    scratch: &mut Scratch,
    out: &mut Vec<usize>,
) -> bool {
    let ncol = flw.grid.ncol;
    scratch.stamp = scratch.stamp.wrapping_add(1);
    if scratch.stamp == 0 {
        scratch.visited.fill(0);
        scratch.stamp = 1;
    }
    let stamp = scratch.stamp;
    out.clear();
    scratch.stack.clear();
    scratch.visited[outlet] = stamp;
    scratch.stack.push(outlet);
    while let Some(cur) = scratch.stack.pop() {
        out.push(cur);
        let (row, col) = ((cur / ncol) as i64, (cur % ncol) as i64);
        for (k, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
            let (r, c) = (row - dr as i64, col - dc as i64);
            if r < srow || r >= erow || c < scol || c >= ecol {
                continue;
            }
            let up = r as usize * ncol + c as usize;
            if flw.codes[up] as usize != k + 1 {
                continue;
            }
            if scratch.visited[up] == stamp {
                return false;
            }
            scratch.visited[up] = stamp;
            scratch.stack.push(up);
        }
    }
    true
}
