//! Gauge statistics of the mesh that the cost needs: mean forcing over each gauge's catchment
//! (`mw_atmos_statistic.f90::compute_mean_atmos`, spec §8), delineated areas and the `'dws'` gauges.

use crate::mesh::{D8_OFFSETS, Mesh};

/// Positions in `mesh.routing_order` of the active cells upstream of each gauge (the gauge cell
/// included), in smash's summation order (column-major over the grid). `[G][..]`.
pub fn gauge_upstream_cells(mesh: &Mesh) -> Vec<Vec<usize>> {
    let g = &mesh.grid;
    let mut number = vec![usize::MAX; g.len()];
    for (k, &cell) in mesh.routing_order.iter().enumerate() {
        number[cell] = k;
    }
    mesh.gauges
        .iter()
        .map(|gauge| {
            let mut seen = vec![false; g.len()];
            let mut stack = vec![g.index(gauge.row, gauge.col)];
            seen[stack[0]] = true;
            while let Some(cell) = stack.pop() {
                let (row, col) = ((cell / g.ncol) as isize, (cell % g.ncol) as isize);
                for (i, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
                    let (r, c) = (row - dr, col - dc);
                    if r < 0 || c < 0 || r as usize >= g.nrow || c as usize >= g.ncol {
                        continue;
                    }
                    let nb = g.index(r as usize, c as usize);
                    if !seen[nb] && mesh.flwdir[nb] as usize == i + 1 {
                        seen[nb] = true;
                        stack.push(nb);
                    }
                }
            }
            let mut cells: Vec<usize> = (0..g.len()).filter(|&c| seen[c] && number[c] != usize::MAX).collect();
            cells.sort_by_key(|&c| (c % g.ncol, c / g.ncol));
            cells.into_iter().map(|c| number[c]).collect()
        })
        .collect()
}

/// Mean of `values` (`[T, N]`, active cells in routing order; negative = missing) over each gauge's
/// upstream active cells, counting only values ≥ 0, summed in f32 in smash's order; −99 where none.
/// Returns `[T, G]` (for precipitation: smash's `mean_prcp`, mm per step).
pub fn gauge_mean_forcing(mesh: &Mesh, values: &[f32], ntime: usize) -> Vec<f32> {
    let n = mesh.nac();
    assert_eq!(values.len(), ntime * n, "values are [T, N]");
    let cells = gauge_upstream_cells(mesh);
    let ng = cells.len();
    let mut out = vec![0.0f32; ntime * ng];
    for t in 0..ntime {
        let row = &values[t * n..(t + 1) * n];
        for (g, list) in cells.iter().enumerate() {
            let (mut s, mut k) = (0.0f32, 0usize);
            for &c in list {
                if row[c] >= 0.0 {
                    s += row[c];
                    k += 1;
                }
            }
            out[t * ng + g] = if k > 0 { s / k as f32 } else { -99.0 };
        }
    }
    out
}

/// Delineated drained area of each gauge \[m²\] (smash's `area_dln`), `[G]`.
pub fn gauge_areas(mesh: &Mesh) -> Vec<f64> {
    mesh.gauges.iter().map(|g| g.area_dln).collect()
}

/// Whether each gauge is a most-downstream one (`flwdst == 0` at its cell), `[G]`.
pub fn downstream_gauges(mesh: &Mesh) -> Vec<bool> {
    mesh.gauges.iter().map(|g| mesh.flwdst[mesh.grid.index(g.row, g.col)] == 0.0).collect()
}
