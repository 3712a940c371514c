//! North-up raster grids and their georeferencing.

/// A north-up regular grid.
///
/// Row 0 is the northern row, column 0 the western column. Coordinates are in the grid's projected
/// CRS \[m\] (Lambert-93 for smash's datasets). Cell `(row, col)` covers
/// `[xmin + col·dx, xmin + (col+1)·dx] × [ymax − (row+1)·dy, ymax − row·dy]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Western edge of column 0 \[m\].
    pub xmin: f64,
    /// Northern edge of row 0 \[m\].
    pub ymax: f64,
    /// Cell width \[m\].
    pub dx: f64,
    /// Cell height \[m\] (positive).
    pub dy: f64,
    pub nrow: usize,
    pub ncol: usize,
}

impl Grid {
    /// Number of cells, `nrow · ncol`.
    pub fn len(&self) -> usize {
        self.nrow * self.ncol
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Eastern edge \[m\].
    pub fn xmax(&self) -> f64 {
        self.xmin + self.ncol as f64 * self.dx
    }

    /// Southern edge \[m\].
    pub fn ymin(&self) -> f64 {
        self.ymax - self.nrow as f64 * self.dy
    }

    /// Row-major flat index of `(row, col)`.
    pub fn index(&self, row: usize, col: usize) -> usize {
        row * self.ncol + col
    }
}
