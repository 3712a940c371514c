//! Synthetic forcing: hourly rainfall from moving storm cells, and daily-interannual PET.

use super::Grid;
use super::rng::Rng;

/// A rain cell moving in a straight line; positions are in grid units (rows grow southward).
pub struct Storm {
    pub name: &'static str,
    /// Start and duration [h after the simulation start].
    pub onset: f64,
    pub duration: f64,
    /// Intensity at the centre at the storm's peak, before orographic and random factors [mm/h].
    pub peak: f64,
    /// Centre `(row, col)` at onset and its velocity [cells/h].
    pub centre: (f64, f64),
    pub velocity: (f64, f64),
    /// Semi-axes `(rows, cols)` of the cell [km].
    pub radii: (f64, f64),
}

/// Four events separated by dry spells, the last three days dry (recession).
pub const STORMS: [Storm; 4] = [
    Storm {
        name: "2 Oct, frontal rain crossing west to east (wets the soil)",
        onset: 24.0,
        duration: 16.0,
        peak: 8.5,
        centre: (8.0, -12.0),
        velocity: (0.0, 2.0),
        radii: (12.0, 9.0),
    },
    Storm {
        name: "4 Oct, convective cell moving south-west to north-east",
        onset: 80.0,
        duration: 10.0,
        peak: 22.0,
        centre: (22.0, 0.0),
        velocity: (-1.9, 1.6),
        radii: (4.5, 4.5),
    },
    Storm {
        name: "7-8 Oct, quasi-stationary Mediterranean episode over the upper catchment",
        onset: 160.0,
        duration: 30.0,
        peak: 20.0,
        centre: (14.0, 11.0),
        velocity: (-0.3, -0.05),
        radii: (6.0, 9.0),
    },
    Storm {
        name: "11 Oct, squall line moving east",
        onset: 256.0,
        duration: 9.0,
        peak: 16.0,
        centre: (9.0, -6.0),
        velocity: (0.2, 3.2),
        radii: (14.0, 2.5),
    },
];

/// Rainfall of step `k` (the hour ending at start + k + 1 h) in 0.1 mm, `[nrow, ncol]`.
///
/// Each storm has a peaked time envelope `(4s(1−s))²` and a bell-shaped cell `1/(1+d²)²`; the sum is
/// enhanced by up to 25 % northward (relief), multiplied by ±15 % noise, and values below 0.2 mm (the
/// detection threshold of a radar product) are set to 0. Only arithmetic is used (no libm), so the
/// values are bit-identical on every platform.
pub fn hourly_rain(grid: &Grid, k: usize, rng: &mut Rng) -> Vec<u16> {
    let t = k as f64 + 0.5;
    (0..grid.nrow * grid.ncol)
        .map(|i| {
            let (r, c) = ((i / grid.ncol) as f64, (i % grid.ncol) as f64);
            let noise = rng.range(0.85, 1.15);
            let mut mm = 0.0;
            for s in &STORMS {
                let u = (t - s.onset) / s.duration;
                if !(0.0..1.0).contains(&u) {
                    continue;
                }
                let env = 4.0 * u * (1.0 - u);
                let dt = t - s.onset;
                let dr = (r - s.centre.0 - s.velocity.0 * dt) / s.radii.0;
                let dc = (c - s.centre.1 - s.velocity.1 * dt) / s.radii.1;
                let bell = 1.0 / (1.0 + dr * dr + dc * dc);
                mm += s.peak * env * env * bell * bell;
            }
            mm *= (1.0 + 0.25 * (grid.nrow as f64 - 1.0 - r) / (grid.nrow as f64 - 1.0)) * noise;
            if mm < 0.2 { 0 } else { (mm * 10.0).round() as u16 }
        })
        .collect()
}

/// Daily-interannual PET [mm/day] of day `j` after 30 September, `[nrow, ncol]`: about 2.9 mm/day in the
/// south-east at the end of September, falling 0.03 mm/day per day and by up to 15 % northward
/// (altitude), with ±0.04 mm/day noise; rounded to 0.01 mm.
pub fn daily_pet(grid: &Grid, j: usize, rng: &mut Rng) -> Vec<f32> {
    (0..grid.nrow * grid.ncol)
        .map(|i| {
            let (r, c) = ((i / grid.ncol) as f64, (i % grid.ncol) as f64);
            let north = (grid.nrow as f64 - 1.0 - r) / (grid.nrow as f64 - 1.0);
            let east = c / (grid.ncol as f64 - 1.0);
            let pet = (2.9 - 0.03 * j as f64) * (1.0 - 0.15 * north) * (0.97 + 0.03 * east) + rng.range(-0.04, 0.04);
            (pet * 100.0).round() as f32 / 100.0
        })
        .collect()
}

/// Share of the daily PET in each hour ending at `h`:00 (smash's hourly ratio, spec §8).
pub const PET_HOURLY_RATIO: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.035, 0.062, 0.079, 0.097, 0.11, 0.117, 0.117, 0.11, 0.097, 0.079, 0.062,
    0.035, 0.0, 0.0, 0.0, 0.0, 0.0,
];
