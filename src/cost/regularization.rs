//! Regularization terms (`md_regularization.f90`, spec §7.7) with their gradients.
//!
//! The weights (`wjreg_cmpt`, `wjreg` and its `fast`/`lcurve` rules) and the control vector are the
//! caller's; these functions give each term and its gradient.

use crate::mesh::Mesh;

/// `prior`: `Σ (x − x_bkg)²` over the control; adds `2(x − x_bkg)` to `grad`.
pub fn prior(x: &[f64], background: &[f64], grad: &mut [f64]) -> f64 {
    assert_eq!(x.len(), background.len(), "control and background differ in length");
    assert_eq!(x.len(), grad.len(), "control and gradient differ in length");
    let mut sum = 0.0;
    for ((&xi, &bi), g) in x.iter().zip(background).zip(grad.iter_mut()) {
        let d = xi - bi;
        sum += d * d;
        *g += 2.0 * d;
    }
    sum
}

/// The smoothing stencil of a mesh: for every active cell, its neighbours above, below, left and right,
/// a neighbour outside the grid or inactive being replaced by the cell itself (as smash).
///
/// Cells are numbered in `mesh.routing_order` (the layout of a distributed parameter, `[N]`) and visited in
/// smash's order (column-major over the grid).
#[derive(Debug, Clone, PartialEq)]
pub struct Smoothing {
    /// `[cell, up, down, left, right]` per active cell, routing-order indices.
    stencil: Vec<[usize; 5]>,
}

impl Smoothing {
    pub fn new(mesh: &Mesh) -> Self {
        let g = &mesh.grid;
        let mut number = vec![usize::MAX; g.len()];
        for (k, &cell) in mesh.routing_order.iter().enumerate() {
            number[cell] = k;
        }
        let mut cells: Vec<usize> = mesh.routing_order.clone();
        cells.sort_by_key(|&c| (c % g.ncol, c / g.ncol));
        let stencil = cells
            .into_iter()
            .map(|cell| {
                let (row, col) = (cell / g.ncol, cell % g.ncol);
                let me = number[cell];
                let at = |r: Option<usize>, c: Option<usize>| match (r, c) {
                    (Some(r), Some(c)) if r < g.nrow && c < g.ncol && number[g.index(r, c)] != usize::MAX => {
                        number[g.index(r, c)]
                    }
                    _ => me,
                };
                [
                    me,
                    at(row.checked_sub(1), Some(col)),
                    at(Some(row + 1), Some(col)),
                    at(Some(row), col.checked_sub(1)),
                    at(Some(row), Some(col + 1)),
                ]
            })
            .collect();
        Smoothing { stencil }
    }

    /// Number of cells, `N`.
    pub fn len(&self) -> usize {
        self.stencil.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stencil.is_empty()
    }

    /// `Σ_cells (M_down − 2M + M_up)² + (M_right − 2M + M_left)²` with `M = θ − θ_bkg` (smoothing, with a
    /// background) or `M = θ` (hard-smoothing, `None`); adds `∂/∂θ` to `grad`.
    ///
    /// # Shapes
    /// `theta`, `background`, `grad`: `[N]` in routing order.
    pub fn value_and_gradient(&self, theta: &[f64], background: Option<&[f64]>, grad: &mut [f64]) -> f64 {
        let n = self.len();
        assert_eq!(theta.len(), n, "theta is [N]");
        assert_eq!(grad.len(), n, "grad is [N]");
        let m: Vec<f64> = match background {
            Some(b) => {
                assert_eq!(b.len(), n, "background is [N]");
                theta.iter().zip(b).map(|(t, b)| t - b).collect()
            }
            None => theta.to_vec(),
        };
        let mut sum = 0.0;
        for &[me, up, down, left, right] in &self.stencil {
            let a = m[down] - 2.0 * m[me] + m[up];
            let b = m[right] - 2.0 * m[me] + m[left];
            sum += a * a + b * b;
            grad[down] += 2.0 * a;
            grad[up] += 2.0 * a;
            grad[me] -= 4.0 * a + 4.0 * b;
            grad[right] += 2.0 * b;
            grad[left] += 2.0 * b;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;

    /// A 3×4 rectangle with one inactive cell, routing order reversed row-major.
    fn mesh() -> Mesh {
        let grid = Grid { xmin: 0.0, ymax: 0.0, dx: 1.0, dy: 1.0, nrow: 3, ncol: 4 };
        let mut active = vec![true; 12];
        active[5] = false;
        let routing_order: Vec<usize> = (0..12).rev().filter(|&c| active[c]).collect();
        Mesh {
            grid,
            flwdir: vec![0; 12],
            active,
            flwacc: vec![1.0; 12],
            flwdst: vec![0.0; 12],
            flwpar: vec![1; 12],
            npar: 1,
            partition_offsets: vec![0, routing_order.len()],
            routing_order,
            gauges: Vec::new(),
        }
    }

    #[test]
    fn smoothing_follows_its_definition() {
        let mesh = mesh();
        let s = Smoothing::new(&mesh);
        let theta: Vec<f64> = (0..s.len()).map(|k| ((k * 7) % 5) as f64 + 0.1 * k as f64).collect();
        // direct evaluation on the [nrow, ncol] matrix
        let g = mesh.grid;
        let mut mat = [f64::NAN; 12];
        for (k, &c) in mesh.routing_order.iter().enumerate() {
            mat[c] = theta[k];
        }
        let act =
            |r: isize, c: isize| r >= 0 && c >= 0 && r < 3 && c < 4 && mesh.active[g.index(r as usize, c as usize)];
        let mut expected = 0.0;
        for col in 0..4isize {
            for row in 0..3isize {
                if !act(row, col) {
                    continue;
                }
                let v = |r: isize, c: isize| {
                    if act(r, c) {
                        mat[g.index(r as usize, c as usize)]
                    } else {
                        mat[g.index(row as usize, col as usize)]
                    }
                };
                let me = v(row, col);
                expected += (v(row + 1, col) - 2.0 * me + v(row - 1, col)).powi(2)
                    + (v(row, col + 1) - 2.0 * me + v(row, col - 1)).powi(2);
            }
        }
        let mut grad = vec![0.0; s.len()];
        assert!((s.value_and_gradient(&theta, None, &mut grad) - expected).abs() < 1e-12);
        // smoothing against a background equals hard-smoothing of the difference
        let bkg: Vec<f64> = (0..s.len()).map(|k| 0.3 * k as f64).collect();
        let diff: Vec<f64> = theta.iter().zip(&bkg).map(|(a, b)| a - b).collect();
        let (mut g1, mut g2) = (vec![0.0; s.len()], vec![0.0; s.len()]);
        assert_eq!(s.value_and_gradient(&theta, Some(&bkg), &mut g1), s.value_and_gradient(&diff, None, &mut g2));
        assert_eq!(g1, g2);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let s = Smoothing::new(&mesh());
        let theta: Vec<f64> = (0..s.len()).map(|k| (k as f64 * 1.7).sin()).collect();
        let bkg: Vec<f64> = (0..s.len()).map(|k| (k as f64 * 0.3).cos()).collect();
        let mut grad = vec![0.0; s.len()];
        s.value_and_gradient(&theta, Some(&bkg), &mut grad);
        let mut gp = vec![0.0; s.len()];
        prior(&theta, &bkg, &mut gp);
        for i in 0..s.len() {
            let h = 1e-6;
            let (mut a, mut b) = (theta.clone(), theta.clone());
            a[i] += h;
            b[i] -= h;
            let mut sink = vec![0.0; s.len()];
            let fd = (s.value_and_gradient(&a, Some(&bkg), &mut sink)
                - s.value_and_gradient(&b, Some(&bkg), &mut sink))
                / (2.0 * h);
            assert!((fd - grad[i]).abs() < 1e-6, "smoothing {i}: {fd} vs {}", grad[i]);
            let fd = (prior(&a, &bkg, &mut sink) - prior(&b, &bkg, &mut sink)) / (2.0 * h);
            assert!((fd - gp[i]).abs() < 1e-6, "prior {i}: {fd} vs {}", gp[i]);
        }
    }
}
