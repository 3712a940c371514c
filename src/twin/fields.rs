//! The twin experiment's synthetic descriptors and its true parameter maps, a known function of them.
//!
//! Descriptors are smooth random fields of the map coordinates (sums of plane waves), so a window of the
//! grid sees the same field as the whole grid. The true gr4 parameters follow smash's multi-linear law
//! on the standardized descriptors (`setup.descriptor_tfm = "standardize"`: `(D − mean)/std` over the
//! mesh rectangle),
//!
//! `θ = l + (u − l)·σ(a₀ + Σ_d a_d·D̃_d)`,
//!
//! with the bounds `(l, u)` the training stages use: the `multi-linear` mapping can recover it exactly,
//! the `ann` mapping approximately.

use super::random::SplitMix;
use crate::calibration::descriptors::{DescriptorTfm, Descriptors};
use crate::grid::Grid;
use rayon::prelude::*;

/// The descriptors' names, in `setup.descriptor_name` order.
pub const DESCRIPTOR_NAMES: [&str; 4] = ["d1", "d2", "d3", "d4"];

/// Plane waves per descriptor.
const WAVES: usize = 6;
/// Range of the waves' wavelengths \[m\] (log-uniform).
const WAVELENGTH: (f64, f64) = (120e3, 500e3);

/// The known law of one gr4 parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Law {
    pub name: &'static str,
    /// `(l, u)`, the parameter's unit (the stages' `optimize_options.bounds`).
    pub bounds: (f64, f64),
    /// `a₀`.
    pub intercept: f64,
    /// `a_d` of each descriptor of [`DESCRIPTOR_NAMES`].
    pub slopes: [f64; 4],
    /// The uniform value training starts from (`[parameters]`).
    pub prior: f64,
}

/// The true laws of cp \[mm\], ct \[mm\], kexc \[mm/day\] and llr \[min\]: means about 300, 100, −1 and
/// 400, each depending on two or three of the four descriptors (the other slopes are 0).
pub const LAWS: [Law; 4] = [
    Law { name: "cp", bounds: (50.0, 1000.0), intercept: -1.03, slopes: [0.5, -0.35, 0.0, 0.25], prior: 500.0 },
    Law { name: "ct", bounds: (10.0, 500.0), intercept: -1.49, slopes: [0.0, 0.45, -0.4, 0.0], prior: 200.0 },
    Law { name: "kexc", bounds: (-5.0, 5.0), intercept: -0.41, slopes: [-0.3, 0.0, 0.35, 0.3], prior: 0.0 },
    Law { name: "llr", bounds: (60.0, 1500.0), intercept: -1.17, slopes: [0.35, 0.0, 0.0, -0.45], prior: 600.0 },
];

impl Law {
    /// `l + (u − l)·σ(a₀ + Σ_d a_d·D̃_d)` at one cell, from its standardized descriptors.
    pub fn value(&self, d: [f64; 4]) -> f64 {
        let z = self.intercept + self.slopes.iter().zip(d).map(|(a, d)| a * d).sum::<f64>();
        self.bounds.0 + (self.bounds.1 - self.bounds.0) / (1.0 + (-z).exp())
    }
}

/// The descriptor maps on `grid`, `[D][nrow·ncol]` row-major: descriptor `k` is
/// `Σ_m cos(2π·(x cos φ_m + y sin φ_m)/λ_m + ψ_m)` over [`WAVES`] waves of the stream `(seed, k)`,
/// at the cells' centres `(x, y)` \[m\].
pub fn descriptor_maps(grid: &Grid, seed: u64) -> Vec<Vec<f32>> {
    (0..DESCRIPTOR_NAMES.len())
        .map(|k| {
            let mut random = SplitMix::new(seed, 1000 + k as u64);
            let waves: Vec<(f64, f64, f64)> = (0..WAVES)
                .map(|_| {
                    let length = (random.range(WAVELENGTH.0.ln(), WAVELENGTH.1.ln())).exp();
                    let direction = random.range(0.0, std::f64::consts::TAU);
                    let k = std::f64::consts::TAU / length;
                    (k * direction.cos(), k * direction.sin(), random.range(0.0, std::f64::consts::TAU))
                })
                .collect();
            let mut map = vec![0f32; grid.len()];
            map.par_chunks_mut(grid.ncol).enumerate().for_each(|(row, out)| {
                let y = grid.ymax - (row as f64 + 0.5) * grid.dy;
                for (col, v) in out.iter_mut().enumerate() {
                    let x = grid.xmin + (col as f64 + 0.5) * grid.dx;
                    *v = waves.iter().map(|&(kx, ky, phase)| (kx * x + ky * y + phase).cos()).sum::<f64>() as f32;
                }
            });
            map
        })
        .collect()
}

/// The standardized descriptors on the active cells, as the regional mappings see them.
pub fn standardized(maps: &[Vec<f32>], routing_order: &[usize]) -> Descriptors {
    let names: Vec<String> = DESCRIPTOR_NAMES.iter().map(|s| s.to_string()).collect();
    Descriptors::new(&names, maps, routing_order, DescriptorTfm::Standardize)
}

/// The true map of each law on the active cells, `[P][N]` in [`LAWS`] order.
pub fn true_maps(descriptors: &Descriptors) -> Vec<Vec<f64>> {
    let at = |n: usize| std::array::from_fn(|d| descriptors.get(d)[n]);
    LAWS.iter().map(|law| (0..descriptors.ncell).map(|n| law.value(at(n))).collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laws_stay_inside_their_bounds_and_follow_the_sigmoid() {
        for law in LAWS {
            let (l, u) = law.bounds;
            assert!(l < law.prior && law.prior < u, "{}: the prior lies inside the bounds", law.name);
            let mid = law.value([0.0; 4]);
            assert!((mid - (l + (u - l) / (1.0 + (-law.intercept).exp()))).abs() < 1e-12);
            for d in [[-3.0; 4], [3.0; 4], [3.0, -3.0, 3.0, -3.0]] {
                let v = law.value(d);
                assert!(l < v && v < u, "{} at {d:?}: {v}", law.name);
            }
        }
        // cp grows with d1: a₁ > 0
        assert!(LAWS[0].value([1.0, 0.0, 0.0, 0.0]) > LAWS[0].value([0.0; 4]));
    }

    #[test]
    fn descriptors_are_smooth_and_the_same_on_any_window() {
        let grid = Grid { xmin: 0.0, ymax: 200e3, dx: 1000.0, dy: 1000.0, nrow: 200, ncol: 200 };
        let maps = descriptor_maps(&grid, 5);
        assert_eq!(maps.len(), 4);
        let window = Grid { xmin: 50e3, ymax: 150e3, nrow: 10, ncol: 10, ..grid };
        let inner = descriptor_maps(&window, 5);
        assert_eq!(inner[2][0], maps[2][50 * 200 + 50], "same field in map coordinates");
        // neighbours differ by at most Σ_m |k_m|·dx ≤ 2π·WAVES·dx/λ_min
        let step = std::f64::consts::TAU * WAVES as f64 * 1000.0 / WAVELENGTH.0;
        for map in &maps {
            for i in 0..map.len() - 1 {
                assert!(((map[i + 1] - map[i]) as f64).abs() <= step + 1e-5 || (i + 1) % 200 == 0);
            }
            let mean = map.iter().map(|&v| v as f64).sum::<f64>() / map.len() as f64;
            let var = map.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / map.len() as f64;
            assert!(var > 0.1, "a descriptor varies over 200 km: variance {var}");
        }
        assert_ne!(descriptor_maps(&grid, 6)[0], maps[0], "another seed, another field");
    }

    #[test]
    fn true_maps_follow_the_standardized_descriptors() {
        let maps = vec![vec![0f32, 1.0, 2.0, 3.0]; 4];
        let d = standardized(&maps, &[3, 0]);
        let truth = true_maps(&d);
        let hi = (3.0 - 1.5) / 1.25f64.sqrt();
        assert!((truth[1][0] - LAWS[1].value([hi; 4])).abs() < 1e-9);
        assert!((truth[1][1] - LAWS[1].value([-hi; 4])).abs() < 1e-9);
    }
}
