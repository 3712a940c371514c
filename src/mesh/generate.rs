//! `generate_mesh` (gauges) and `generate_bbox_mesh` (bounding box), as smash's `generate_mesh`.

use super::delineate::{Scratch, delineate};
use super::flwdir::detect_sink;
use super::topology::{self, NODATA, Rect};
use super::{FlowDirection, Gauge, GaugeSpec, Mesh, MeshError};
use crate::grid::Grid;

/// Options of [`generate_mesh`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeshOptions {
    /// Search radius \[cells\] around each gauge for the outlet whose drained area best matches the
    /// declared one (smash's `max_depth`, default 1: a 3×3 neighbourhood).
    pub max_depth: usize,
    /// Largest accepted `|area_dln − area| / area` (default `Some(0.5)`); `None` accepts any.
    ///
    /// smash's `area_error_th` has the same formula but defaults to `None` and *drops* the gauge
    /// with a warning; hydrograd fails instead ([`MeshError::AreaMismatch`]), since silently losing
    /// a gauge changes the calibration.
    pub area_error_th: Option<f64>,
}

impl Default for MeshOptions {
    fn default() -> Self {
        Self { max_depth: 1, area_error_th: Some(0.5) }
    }
}

/// Builds the mesh of the catchments draining to `gauges` (smash's `generate_mesh(flwdir, x, y,
/// area, code)`).
///
/// Each gauge is delineated by area (see [`MeshOptions::max_depth`]); the mesh rectangle is the
/// bounding rectangle of all catchments, and its active cells are their union. Drained areas and
/// partitions are computed over the whole rectangle, inactive cells included, as smash does.
///
/// # Errors
/// [`MeshError::NoGauges`], [`MeshError::GaugeOutsideGrid`], [`MeshError::InvalidGaugeArea`],
/// [`MeshError::NoOutlet`], [`MeshError::AreaMismatch`], plus the validation errors of
/// [`FlowDirection::new`].
///
/// # Example
/// ```
/// use hydrograd::grid::Grid;
/// use hydrograd::mesh::{FlowDirection, GaugeSpec, MeshOptions, generate_mesh};
///
/// // A 1×4 strip draining east, with a 1 km² cell size (the outlet column 3 is never in smash's
/// // search window, so the gauge is at column 2 and drains 3 cells).
/// let grid = Grid { xmin: 0.0, ymax: 1000.0, dx: 1000.0, dy: 1000.0, nrow: 2, ncol: 4 };
/// let flw = FlowDirection::new(grid, vec![3, 3, 3, 3, 0, 0, 0, 0]).unwrap();
/// let gauge = GaugeSpec { code: "G".into(), x: 2500.0, y: 500.0, area: 3e6 };
/// let mesh = generate_mesh(&flw, &[gauge], &MeshOptions::default()).unwrap();
/// assert_eq!((mesh.grid.nrow, mesh.grid.ncol, mesh.nac()), (1, 3, 3));
/// assert_eq!(mesh.flwacc, vec![1e6, 2e6, 3e6]);
/// assert_eq!(mesh.gauges[0].area_dln, 3e6);
/// ```
pub fn generate_mesh(flwdir: &FlowDirection, gauges: &[GaugeSpec], options: &MeshOptions) -> Result<Mesh, MeshError> {
    flwdir.validate()?;
    if gauges.is_empty() {
        return Err(MeshError::NoGauges);
    }
    let fg = &flwdir.grid;
    let mut scratch = Scratch::new(fg.len());
    let mut in_catchment = vec![false; fg.len()];
    let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
    let mut dlns = Vec::with_capacity(gauges.len());
    for gauge in gauges {
        let d = delineate(flwdir, gauge, options.max_depth, &mut scratch)?;
        if let Some(th) = options.area_error_th {
            let rel = ((d.area_dln - d.area) / d.area).abs();
            if rel > th as f32 {
                return Err(MeshError::AreaMismatch {
                    code: gauge.code.clone(),
                    area: f64::from(d.area),
                    area_dln: f64::from(d.area_dln),
                    rel_error: f64::from(rel),
                    threshold: th,
                });
            }
        }
        for &i in &d.cells {
            in_catchment[i] = true;
            let (r, c) = (i / fg.ncol, i % fg.ncol);
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r + 1), c0.min(c), c1.max(c + 1));
        }
        dlns.push(d);
    }

    let window = Window { row_off: r0, col_off: c0, nrow: r1 - r0, ncol: c1 - c0 };
    let raw = raw_codes(&window.row_major(|i| flwdir.codes[i], fg.ncol), |_| false);
    let active = window.row_major(|i| in_catchment[i], fg.ncol);
    let rect = Rect { nrow: window.nrow, ncol: window.ncol, raw: &raw };
    let cells: Vec<usize> = dlns.iter().map(|d| (d.row - r0) * window.ncol + d.col - c0).collect();
    let area_dln: Vec<f32> = dlns.iter().map(|d| d.area_dln).collect();
    let flwdst = topology::flow_distance(&rect, fg.dx as f32, fg.dy as f32, &cells, &area_dln)
        .map_err(|f| window.cycle_at(fg, f))?;

    let gauges = gauges
        .iter()
        .zip(&dlns)
        .map(|(g, d)| Gauge {
            code: g.code.clone(),
            row: d.row - r0,
            col: d.col - c0,
            area: f64::from(d.area),
            area_dln: f64::from(d.area_dln),
        })
        .collect();
    build(flwdir, &window, raw, active, flwdst.into_iter().map(f64::from).collect(), gauges)
}

/// Builds the mesh of a bounding box `[xmin, xmax, ymin, ymax]` \[m\] (smash's `generate_mesh(flwdir,
/// bbox=...)`): every cell with a flow direction is active, and there is no gauge.
///
/// As smash: the box is clipped to the grid, then its edges are snapped to the nearest cell edges
/// (halves round up); two-cell loops found by [`detect_sink`] are made inactive (smash warns).
/// `flwdst` is −99 everywhere (no gauge).
///
/// # Errors
/// [`MeshError::InvalidBbox`] (not finite, min > max), [`MeshError::BboxOutsideGrid`],
/// [`MeshError::NoActiveCell`], [`MeshError::Cycle`] for a flow loop through an active cell that
/// smash's sink detection misses (NE/SW pairs, longer loops).
pub fn generate_bbox_mesh(flwdir: &FlowDirection, bbox: [f64; 4]) -> Result<Mesh, MeshError> {
    flwdir.validate()?;
    let fg = &flwdir.grid;
    let [bx0, bx1, by0, by1] = bbox;
    let invalid =
        |reason: &str| MeshError::InvalidBbox { xmin: bx0, xmax: bx1, ymin: by0, ymax: by1, reason: reason.into() };
    if !bbox.iter().all(|v| v.is_finite()) {
        return Err(invalid("values must be finite"));
    }
    if bx0 > bx1 {
        return Err(invalid("xmin is greater than xmax"));
    }
    if by0 > by1 {
        return Err(invalid("ymin is greater than ymax"));
    }
    let (gx0, gx1, gy0, gy1) = (fg.xmin, fg.xmax(), fg.ymin(), fg.ymax);
    let snap_x = |v: f64| gx0 + round_half_up((v - gx0) / fg.dx) * fg.dx;
    let snap_y = |v: f64| gy0 + round_half_up((v - gy0) / fg.dy) * fg.dy;
    let (x0, x1) = (snap_x(bx0.max(gx0)), snap_x(bx1.min(gx1)));
    let (y0, y1) = (snap_y(by0.max(gy0)), snap_y(by1.min(gy1)));
    let col_off = ((x0 - gx0) / fg.dx).trunc();
    let row_off = ((gy1 - y1) / fg.dy).trunc();
    let ncol = ((x1 - x0) / fg.dx).trunc();
    let nrow = ((y1 - y0) / fg.dy).trunc();
    if !(ncol >= 1.0 && nrow >= 1.0 && col_off >= 0.0 && row_off >= 0.0)
        || col_off + ncol > fg.ncol as f64
        || row_off + nrow > fg.nrow as f64
    {
        return Err(MeshError::BboxOutsideGrid {
            xmin: bx0,
            xmax: bx1,
            ymin: by0,
            ymax: by1,
            grid_xmin: gx0,
            grid_xmax: gx1,
            grid_ymin: gy0,
            grid_ymax: gy1,
        });
    }
    let window =
        Window { row_off: row_off as usize, col_off: col_off as usize, nrow: nrow as usize, ncol: ncol as usize };

    let codes: Vec<u8> = window.row_major(|i| flwdir.codes[i], fg.ncol);
    let sink = detect_sink(window.nrow, window.ncol, &codes);
    let raw = raw_codes(&codes, |k| sink[k]);
    let active: Vec<bool> = raw.iter().map(|&v| v > 0).collect();
    if !active.contains(&true) {
        return Err(MeshError::NoActiveCell);
    }
    let flwdst = vec![-99.0; raw.len()];
    let mut mesh = build(flwdir, &window, raw, active, flwdst, Vec::new())?;
    mesh.grid.xmin = x0;
    mesh.grid.ymax = y1;
    Ok(mesh)
}

/// Raw codes (see `topology`) from window codes: cells for which `zeroed(index)` become 0, as smash
/// zeroes them.
fn raw_codes(codes: &[u8], zeroed: impl Fn(usize) -> bool) -> Vec<i8> {
    codes
        .iter()
        .enumerate()
        .map(|(k, &code)| match code {
            _ if zeroed(k) => 0,
            0 => NODATA,
            code => code as i8,
        })
        .collect()
}

/// smash's `_round_half_up`.
fn round_half_up(x: f64) -> f64 {
    if x >= 0.0 { (x + 0.5).floor() } else { (x - 0.5).ceil() }
}

/// A window of the flow-direction grid.
struct Window {
    row_off: usize,
    col_off: usize,
    nrow: usize,
    ncol: usize,
}

impl Window {
    /// `f(grid index)` over the window, row-major.
    fn row_major<T>(&self, f: impl Fn(usize) -> T, grid_ncol: usize) -> Vec<T> {
        let mut v = Vec::with_capacity(self.nrow * self.ncol);
        for r in self.row_off..self.row_off + self.nrow {
            let base = r * grid_ncol;
            v.extend((self.col_off..self.col_off + self.ncol).map(|c| f(base + c)));
        }
        v
    }

    fn cycle_at(&self, fg: &Grid, k: usize) -> MeshError {
        let (row, col) = (self.row_off + k / self.ncol, self.col_off + k % self.ncol);
        MeshError::Cycle { row, col, x: fg.xmin + (col as f64 + 0.5) * fg.dx, y: fg.ymax - (row as f64 + 0.5) * fg.dy }
    }
}

/// Accumulation, partitions and the `Mesh` over `window`.
fn build(
    flw: &FlowDirection,
    window: &Window,
    raw: Vec<i8>,
    active: Vec<bool>,
    flwdst: Vec<f64>,
    gauges: Vec<Gauge>,
) -> Result<Mesh, MeshError> {
    let fg = &flw.grid;
    let (nrow, ncol) = (window.nrow, window.ncol);
    let rect = Rect { nrow, ncol, raw: &raw };
    let ap = topology::accumulate(&rect, fg.dx as f32 * fg.dy as f32);
    // Only cells on a flow loop are never reached (in a gauge mesh, none is active).
    if let Some(k) = (0..raw.len()).find(|&k| active[k] && !ap.done[k]) {
        return Err(window.cycle_at(fg, k));
    }
    let (npar, routing_order, partition_offsets) = topology::partitions(nrow, ncol, &ap.flwpar, &active);
    Ok(Mesh {
        grid: Grid {
            xmin: fg.xmin + window.col_off as f64 * fg.dx,
            ymax: fg.ymax - window.row_off as f64 * fg.dy,
            dx: fg.dx,
            dy: fg.dy,
            nrow,
            ncol,
        },
        flwdir: raw.iter().map(|&v| v.max(0) as u8).collect(),
        active,
        flwacc: ap.flwacc,
        flwdst,
        flwpar: ap.flwpar,
        npar,
        routing_order,
        partition_offsets,
        gauges,
    })
}
