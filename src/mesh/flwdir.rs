//! D8 flow directions (spec §2.1) and sink detection.

use super::MeshError;
use crate::grid::Grid;

/// `(drow, dcol)` of the cell that D8 code `fd` drains to, at index `fd − 1`.
///
/// 1 = N, 2 = NE, 3 = E, 4 = SE, 5 = S, 6 = SW, 7 = W, 8 = NW; rows grow southward.
pub const D8_OFFSETS: [(isize, isize); 8] = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)];

/// A D8 flow-direction grid held in memory.
///
/// # Shapes
/// `codes` is `[nrow, ncol]` row-major over `grid`; 1..=8 as in [`D8_OFFSETS`], 0 = no data.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDirection {
    pub grid: Grid,
    pub codes: Vec<u8>,
}

impl FlowDirection {
    /// Wraps codes after checking their size and range.
    ///
    /// # Errors
    /// [`MeshError::SizeMismatch`] if `codes.len() != grid.len()`, [`MeshError::InvalidCode`] for a
    /// code above 8, [`MeshError::InvalidGrid`] for a grid without cells or with a bad cell size.
    pub fn new(grid: Grid, codes: Vec<u8>) -> Result<Self, MeshError> {
        let f = Self { grid, codes };
        f.validate()?;
        Ok(f)
    }

    /// Builds the codes from raster values (e.g. the `France_flwdir.tif` band, f32 with nodata −9999).
    ///
    /// Values equal to `nodata`, NaN, and integers outside 1..=8 become 0 (no data).
    ///
    /// # Errors
    /// [`MeshError::SizeMismatch`] if `values.len() != grid.len()`; [`MeshError::InvalidCode`] for a
    /// finite non-integer value; [`MeshError::InvalidGrid`] for a bad grid.
    pub fn from_raster_values(grid: Grid, values: &[f64], nodata: Option<f64>) -> Result<Self, MeshError> {
        check_grid(&grid)?;
        if values.len() != grid.len() {
            return Err(MeshError::SizeMismatch {
                what: "flow-direction values",
                expected: grid.len(),
                got: values.len(),
            });
        }
        let is_nodata = |v: f64| match nodata {
            Some(nd) => v == nd || (nd.is_nan() && v.is_nan()),
            None => false,
        };
        let mut codes = Vec::with_capacity(values.len());
        for (i, &v) in values.iter().enumerate() {
            let code = if v.is_nan() || is_nodata(v) {
                0
            } else if v.is_finite() && v.fract() != 0.0 {
                return Err(MeshError::InvalidCode { row: i / grid.ncol, col: i % grid.ncol, value: v });
            } else if (1.0..=8.0).contains(&v) {
                v as u8
            } else {
                0
            };
            codes.push(code);
        }
        Ok(Self { grid, codes })
    }

    pub(crate) fn validate(&self) -> Result<(), MeshError> {
        check_grid(&self.grid)?;
        if self.codes.len() != self.grid.len() {
            return Err(MeshError::SizeMismatch {
                what: "flow-direction codes",
                expected: self.grid.len(),
                got: self.codes.len(),
            });
        }
        if let Some(i) = self.codes.iter().position(|&c| c > 8) {
            return Err(MeshError::InvalidCode {
                row: i / self.grid.ncol,
                col: i % self.grid.ncol,
                value: f64::from(self.codes[i]),
            });
        }
        Ok(())
    }
}

fn check_grid(grid: &Grid) -> Result<(), MeshError> {
    let bad = |reason: String| Err(MeshError::InvalidGrid { reason });
    if grid.nrow == 0 || grid.ncol == 0 {
        return bad(format!("{} x {} cells", grid.nrow, grid.ncol));
    }
    if !(grid.dx.is_finite() && grid.dx > 0.0 && grid.dy.is_finite() && grid.dy > 0.0) {
        return bad(format!("cell size dx = {}, dy = {} must be finite and > 0", grid.dx, grid.dy));
    }
    if !(grid.xmin.is_finite() && grid.ymax.is_finite()) {
        return bad(format!("origin ({}, {}) is not finite", grid.xmin, grid.ymax));
    }
    Ok(())
}

/// Cells that form a two-cell loop with an E, SE or S neighbour (smash's `detect_sink`).
///
/// Like smash, only these three pairings are tested (a NE/SW pair or a longer loop is not
/// reported; mesh generation reports those as [`MeshError::Cycle`] when they are active).
///
/// # Shapes
/// `codes` and the result are `[nrow, ncol]` row-major.
pub fn detect_sink(nrow: usize, ncol: usize, codes: &[u8]) -> Vec<bool> {
    let mut sink = vec![false; nrow * ncol];
    for row in 0..nrow.saturating_sub(1) {
        for col in 0..ncol.saturating_sub(1) {
            let i = row * ncol + col;
            // E (3) / W (7), SE (4) / NW (8), S (5) / N (1)
            let (nb, opposite) = match codes[i] {
                3 => (i + 1, 7),
                4 => (i + ncol + 1, 8),
                5 => (i + ncol, 1),
                _ => continue,
            };
            if codes[nb] == opposite {
                sink[i] = true;
                sink[nb] = true;
            }
        }
    }
    sink
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(nrow: usize, ncol: usize) -> Grid {
        Grid { xmin: 0.0, ymax: 0.0, dx: 1.0, dy: 1.0, nrow, ncol }
    }

    #[test]
    fn raster_values_map_to_codes() {
        let v = [1.0, 8.0, -9999.0, 0.0, 9.0, f64::NAN];
        let f = FlowDirection::from_raster_values(grid(2, 3), &v, Some(-9999.0)).unwrap();
        assert_eq!(f.codes, vec![1, 8, 0, 0, 0, 0]);
    }

    #[test]
    fn raster_values_errors() {
        let e = FlowDirection::from_raster_values(grid(1, 2), &[1.0, 2.5], None).unwrap_err();
        assert!(matches!(e, MeshError::InvalidCode { row: 0, col: 1, .. }), "{e}");
        let e = FlowDirection::from_raster_values(grid(1, 2), &[1.0], None).unwrap_err();
        assert!(matches!(e, MeshError::SizeMismatch { expected: 2, got: 1, .. }), "{e}");
        let e = FlowDirection::new(grid(1, 1), vec![9]).unwrap_err();
        assert!(matches!(e, MeshError::InvalidCode { .. }), "{e}");
    }

    #[test]
    fn sinks_like_smash() {
        // (0,0) E <-> (0,1) W ; (1,0) NE <-> (0,1)... only E/SE/S pairs are reported.
        let codes = [3, 7, 0, 0, 0, 0, 2, 0, 0];
        let s = detect_sink(3, 3, &codes);
        assert_eq!(s, vec![true, true, false, false, false, false, false, false, false]);
        // NE/SW pair: (1,0) code 2 -> (0,1), (0,1) code 6 -> (1,0): not reported (as smash).
        let codes = [0, 6, 0, 2, 0, 0, 0, 0, 0];
        assert!(detect_sink(3, 3, &codes).iter().all(|&b| !b));
    }
}
