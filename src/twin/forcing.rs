//! The twin experiment's synthetic daily forcing: storms over the mesh and a seasonal potential
//! evapotranspiration.
//!
//! Each day draws its storms from its own random stream: a Poisson number of storms (one per
//! [`STORM_AREA`] km² of the mesh rectangle and its margin, 35 % more in January than on average and
//! 35 % less in July), each a Gaussian bell of depth `A·exp(−r²/2R²)` with `A` exponential (mean
//! [`STORM_DEPTH`]) and `R` uniform in [`STORM_RADIUS`], centred anywhere in the rectangle widened by
//! [`MARGIN`]. About 1,000 mm a year fall on a cell. PET follows the season, from 0.2 mm/day in
//! mid-January to 2.9 mm/day in mid-July at the north edge of the rectangle, 20 % more at the south edge
//! (about 630 mm a year).

use super::random::SplitMix;
use crate::io::forcing::Forcing;
use crate::mesh::Mesh;
use crate::time::TimeAxis;
use chrono::Datelike;
use rayon::prelude::*;

/// Mesh area per storm and day, on average \[km²\].
const STORM_AREA: f64 = 45_000.0;
/// Range of the storms' radii \[m\].
const STORM_RADIUS: (f64, f64) = (15e3, 50e3);
/// Mean peak depth of a storm \[mm/day\].
const STORM_DEPTH: f64 = 18.0;
/// Storm centres may lie this far outside the mesh rectangle \[m\].
const MARGIN: f64 = 150e3;
/// Annual mean PET at the north edge \[mm/day\].
const PET_MEAN: f64 = 1.5;

/// Daily precipitation and PET \[mm/day\] on the active cells of `mesh`, `[T, N]` in routing order, for
/// the steps of `time` (whose `dt` is a day), from the streams of `seed`.
pub fn synthetic_forcing(mesh: &Mesh, time: &TimeAxis, seed: u64) -> Forcing {
    let g = mesh.grid;
    let n = mesh.nac();
    let mut number = vec![u32::MAX; g.len()];
    mesh.routing_order.iter().enumerate().for_each(|(k, &cell)| number[cell] = k as u32);
    let (x0, x1, y0, y1) = (g.xmin - MARGIN, g.xmax() + MARGIN, g.ymin() - MARGIN, g.ymax + MARGIN);
    let storms_per_day = (x1 - x0) * (y1 - y0) / 1e6 / STORM_AREA;
    let year_angle = |t: usize, peak_doy: f64| {
        let doy = time.step_end(t).ordinal() as f64;
        std::f64::consts::TAU * (doy - peak_doy) / 365.25
    };
    let mut prcp = vec![0f32; time.ntime * n];
    prcp.par_chunks_mut(n.max(1)).enumerate().for_each(|(t, day)| {
        let mut random = SplitMix::new(seed, 1_000_000 + t as u64);
        let count = random.poisson(storms_per_day * (1.0 + 0.35 * year_angle(t, 15.0).cos()));
        for _ in 0..count {
            let (cx, cy) = (random.range(x0, x1), random.range(y0, y1));
            let radius = random.range(STORM_RADIUS.0, STORM_RADIUS.1);
            let depth = random.exponential(STORM_DEPTH);
            let reach = 3.0 * radius;
            let col = |x: f64| ((x - g.xmin) / g.dx).floor().clamp(0.0, g.ncol as f64) as usize;
            let row = |y: f64| ((g.ymax - y) / g.dy).floor().clamp(0.0, g.nrow as f64) as usize;
            for r in row(cy + reach)..row(cy - reach) {
                let dy = g.ymax - (r as f64 + 0.5) * g.dy - cy;
                for c in col(cx - reach)..col(cx + reach) {
                    let k = number[r * g.ncol + c];
                    if k != u32::MAX {
                        let dx = g.xmin + (c as f64 + 0.5) * g.dx - cx;
                        let d2 = (dx * dx + dy * dy) / (2.0 * radius * radius);
                        day[k as usize] += (depth * (-d2).exp()) as f32;
                    }
                }
            }
        }
    });
    let south = |cell: usize| (cell / g.ncol) as f64 / g.nrow.max(1) as f64;
    let base: Vec<f64> = mesh.routing_order.iter().map(|&cell| PET_MEAN * (1.0 + 0.2 * south(cell))).collect();
    let mut pet = vec![0f32; time.ntime * n];
    pet.par_chunks_mut(n.max(1)).enumerate().for_each(|(t, day)| {
        let season = 1.0 - 0.9 * year_angle(t, 15.0).cos() + 0.05;
        day.iter_mut().zip(&base).for_each(|(e, &b)| *e = (b * season) as f32);
    });
    Forcing { ntime: time.ntime, ncell: n, prcp: prcp.into(), pet: pet.into(), warnings: Vec::new(), fingerprint: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Grid;
    use crate::mesh::{FlowDirection, generate_bbox_mesh};
    use crate::time::parse_datetime;

    fn square(side: usize) -> Mesh {
        let grid = Grid { xmin: 0.0, ymax: side as f64 * 1e3, dx: 1e3, dy: 1e3, nrow: side, ncol: side };
        let flw = FlowDirection::new(grid, vec![5; side * side]).unwrap();
        generate_bbox_mesh(&flw, [0.0, grid.xmax(), grid.ymin(), grid.ymax]).unwrap()
    }

    #[test]
    fn a_year_of_forcing_has_the_intended_climate() {
        let mesh = square(100);
        let time = TimeAxis { start: parse_datetime("2020-01-01").unwrap(), dt: 86_400, ntime: 366 };
        let f = synthetic_forcing(&mesh, &time, 1);
        let n = mesh.nac();
        assert_eq!((f.prcp.len(), f.pet.len()), (366 * n, 366 * n));
        assert!(f.prcp.iter().chain(f.pet.iter()).all(|&v| v >= 0.0 && v.is_finite()));
        let annual = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
        let (p, e) = (annual(&f.prcp), annual(&f.pet));
        // one year of storms over a small square: the expectation ±50 %
        assert!((500.0..1600.0).contains(&p), "annual precipitation {p} mm");
        assert!((550.0..700.0).contains(&e), "annual PET {e} mm");
        // PET peaks in summer, is the same along a row and grows southward
        let day = |t: usize, k: usize| f.pet[t * n + k];
        assert!(day(195, 0) > 10.0 * day(15, 0));
        let cell_at = |row: usize, col: usize| mesh.routing_order.iter().position(|&c| c == row * 100 + col).unwrap();
        assert_eq!(day(100, cell_at(10, 3)), day(100, cell_at(10, 90)));
        assert!(day(100, cell_at(90, 3)) > day(100, cell_at(10, 3)));
        // rain is patchy: some dry days, some cells far wetter than others on a day
        let totals: Vec<f64> = (0..366).map(|t| f.prcp[t * n..(t + 1) * n].iter().map(|&x| x as f64).sum()).collect();
        assert!(totals.contains(&0.0) && totals.iter().any(|&s| s > 0.0));
        assert_eq!(synthetic_forcing(&mesh, &time, 1), f, "deterministic");
        assert_ne!(synthetic_forcing(&mesh, &time, 2).prcp, f.prcp);
    }
}
