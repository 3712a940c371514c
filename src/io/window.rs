//! Placing a mesh grid inside a raster grid by coordinates (smash's `_read_windowed_raster`).
//!
//! smash reads the window of the raster that covers the mesh rectangle: the offsets are the distances
//! between the north-west corners in raster cells, rounded to the nearest integer. Mesh cells outside the
//! raster keep −99. smash resamples rasters of another resolution by nearest neighbour and silently
//! moves misaligned grids to the nearest cell (with a warning); hydrograd refuses both, since either
//! usually means the wrong file or the wrong mesh.

use std::path::Path;

use crate::grid::Grid;

use super::IoError;

/// How much of the mesh rectangle a raster covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    Full,
    Partial,
    None,
}

/// The position of a mesh grid in a raster grid: mesh cell `(r, c)` is raster cell
/// `(r + row_offset, c + col_offset)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub row_offset: i64,
    pub col_offset: i64,
}

impl Window {
    /// Locates `mesh` in `raster` with smash's tolerances.
    ///
    /// # Errors
    /// [`IoError::ResolutionMismatch`] if the cell sizes differ, [`IoError::GridMisaligned`] if the corners
    /// are not a whole number of cells apart. `path` names the raster in the error.
    pub fn locate(raster: &Grid, mesh: &Grid, path: &Path) -> Result<Window, IoError> {
        // smash: atol = 0.01 · 10^min(0, floor(log10 |res|)), compared with np.isclose (rtol 1e-5).
        let atol = |res: f64| 1e-2 * 10f64.powf(res.abs().log10().floor().min(0.0));
        let (xatol, yatol) = (atol(raster.dx), atol(raster.dy));
        let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol + 1e-5 * b.abs();
        if !close(mesh.dx, raster.dx, xatol) || !close(mesh.dy, raster.dy, yatol) {
            return Err(IoError::ResolutionMismatch {
                path: path.to_path_buf(),
                raster_dx: raster.dx,
                raster_dy: raster.dy,
                mesh_dx: mesh.dx,
                mesh_dy: mesh.dy,
            });
        }
        let col_shift = (mesh.xmin - raster.xmin) / raster.dx;
        let row_shift = (raster.ymax - mesh.ymax) / raster.dy;
        if (col_shift - col_shift.round()).abs() > xatol || (row_shift - row_shift.round()).abs() > yatol {
            return Err(IoError::GridMisaligned { path: path.to_path_buf(), col_shift, row_shift });
        }
        if !col_shift.is_finite() || !row_shift.is_finite() || col_shift.abs() > 1e15 || row_shift.abs() > 1e15 {
            return Err(IoError::GridMisaligned { path: path.to_path_buf(), col_shift, row_shift });
        }
        Ok(Window { row_offset: row_shift.round_ties_even() as i64, col_offset: col_shift.round_ties_even() as i64 })
    }

    /// The row-major index in `raster` of mesh cell `(row, col)`, or `None` outside the raster.
    #[inline]
    pub fn source_index(&self, raster: &Grid, row: usize, col: usize) -> Option<usize> {
        let r = row as i64 + self.row_offset;
        let c = col as i64 + self.col_offset;
        (r >= 0 && c >= 0 && (r as u64) < raster.nrow as u64 && (c as u64) < raster.ncol as u64)
            .then(|| r as usize * raster.ncol + c as usize)
    }

    /// How much of the `mesh` rectangle the raster covers.
    pub fn coverage(&self, raster: &Grid, mesh: &Grid) -> Coverage {
        let (r0, c0) = (self.row_offset, self.col_offset);
        let (r1, c1) = (r0 + mesh.nrow as i64, c0 + mesh.ncol as i64);
        let (h, w) = (raster.nrow as i64, raster.ncol as i64);
        if r0 >= h || c0 >= w || r1 <= 0 || c1 <= 0 {
            Coverage::None
        } else if r0 < 0 || c0 < 0 || r1 > h || c1 > w {
            Coverage::Partial
        } else {
            Coverage::Full
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(xmin: f64, ymax: f64, d: f64, nrow: usize, ncol: usize) -> Grid {
        Grid { xmin, ymax, dx: d, dy: d, nrow, ncol }
    }

    #[test]
    fn offsets_are_whole_cells_between_corners() {
        let raster = grid(85_000.0, 7_129_000.0, 1000.0, 1091, 1176);
        let mesh = grid(100_000.0, 7_125_000.0, 1000.0, 1075, 1150);
        let w = Window::locate(&raster, &mesh, Path::new("r.tif")).unwrap();
        assert_eq!(w, Window { row_offset: 4, col_offset: 15 });
        assert_eq!(w.coverage(&raster, &mesh), Coverage::Full);
        assert_eq!(w.source_index(&raster, 0, 0), Some(4 * 1176 + 15));
    }

    #[test]
    fn mesh_partly_outside_gives_none_there() {
        let raster = grid(0.0, 10_000.0, 1000.0, 10, 10);
        let mesh = grid(-2000.0, 12_000.0, 1000.0, 5, 5);
        let w = Window::locate(&raster, &mesh, Path::new("r.tif")).unwrap();
        assert_eq!(w, Window { row_offset: -2, col_offset: -2 });
        assert_eq!(w.coverage(&raster, &mesh), Coverage::Partial);
        assert_eq!(w.source_index(&raster, 1, 3), None);
        assert_eq!(w.source_index(&raster, 2, 2), Some(0));
        let far = grid(50_000.0, 10_000.0, 1000.0, 5, 5);
        let w = Window::locate(&raster, &far, Path::new("r.tif")).unwrap();
        assert_eq!(w.coverage(&raster, &far), Coverage::None);
    }

    #[test]
    fn rejects_other_resolution_and_half_cell_shift() {
        let raster = grid(0.0, 10_000.0, 500.0, 20, 20);
        let mesh = grid(0.0, 10_000.0, 1000.0, 5, 5);
        assert!(matches!(Window::locate(&raster, &mesh, Path::new("r.tif")), Err(IoError::ResolutionMismatch { .. })));
        let raster = grid(500.0, 10_000.0, 1000.0, 10, 10);
        let err = Window::locate(&raster, &mesh, Path::new("r.tif")).unwrap_err();
        assert!(matches!(err, IoError::GridMisaligned { .. }));
        assert!(err.to_string().contains("r.tif"));
        // Within smash's tolerance (0.01 cell): accepted and rounded.
        let raster = grid(5.0, 10_000.0, 1000.0, 10, 10);
        assert_eq!(Window::locate(&raster, &mesh, Path::new("r.tif")).unwrap().col_offset, 0);
    }
}
