//! The demo catchment: a synthetic DEM with a main valley and two tributary valleys, conditioned by a
//! priority flood and turned into a D8 flow-direction tree draining to one outlet on the southern edge.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::Grid;
use super::rng::Rng;

/// `(drow, dcol)` of the cell that D8 code `fd` drains to, at index `fd − 1` (1 = N, 2 = NE, 3 = E,
/// …, 8 = NW; rows grow southward), as in smash.
pub const D8: [(isize, isize); 8] = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)];

/// The outlet cell `(row, col)`. It drains south (code 5) into the last row, where the river goes on
/// and leaves the grid: smash never places a gauge on the grid's last row or column.
pub const OUTLET: (usize, usize) = (19, 10);

/// The catchment outline: first and last column of each row (inclusive); `None` = outside.
const OUTLINE: [Option<(usize, usize)>; 21] = [
    None,
    Some((6, 12)),
    Some((4, 14)),
    Some((3, 15)),
    Some((2, 16)),
    Some((2, 17)),
    Some((1, 17)),
    Some((1, 17)),
    Some((1, 18)),
    Some((2, 18)),
    Some((2, 17)),
    Some((3, 17)),
    Some((3, 16)),
    Some((4, 15)),
    Some((5, 14)),
    Some((6, 13)),
    Some((7, 12)),
    Some((8, 11)),
    Some((9, 10)),
    Some((10, 10)),
    None,
];

/// Valley floors as polylines of `(row, col)` points: the main river, then an eastern and a western
/// tributary.
const VALLEYS: [&[(f64, f64)]; 3] = [
    &[(19.0, 10.0), (15.0, 9.5), (10.0, 9.0), (6.0, 9.5), (1.0, 9.0)],
    &[(11.0, 9.2), (8.0, 12.5), (5.0, 14.5), (3.0, 14.5)],
    &[(15.0, 9.5), (12.0, 6.0), (8.0, 3.5), (6.0, 2.0)],
];

/// Terrain and drainage of the demo grid, all `[nrow, ncol]` row-major.
pub struct Terrain {
    /// Cells inside the catchment.
    pub mask: Vec<bool>,
    /// D8 codes 1..=8 inside the catchment and on the river cell below the outlet, 0 elsewhere.
    pub flwdir: Vec<u8>,
    /// Drained area in cells (= km² on the 1-km grid), the cell itself included; 0 outside the catchment.
    pub acc: Vec<u32>,
    /// Mean hillslope angle \[°\] (synthetic descriptor), defined on the whole grid.
    pub slope: Vec<f32>,
}

/// Builds the terrain and the flow-direction tree.
///
/// # Panics
/// If the network is not a tree draining every catchment cell to [`OUTLET`].
pub fn build(grid: &Grid, seed: u64) -> Terrain {
    let (nrow, ncol) = (grid.nrow, grid.ncol);
    let mut rng = Rng::new(seed);
    let mask: Vec<bool> =
        (0..nrow * ncol).map(|i| OUTLINE[i / ncol].is_some_and(|(a, b)| (a..=b).contains(&(i % ncol)))).collect();
    // Elevation: 45 m/km up the valleys (northward), 70 m/km up the valley sides, a few metres of noise.
    let dem: Vec<f64> = (0..nrow * ncol)
        .map(|i| {
            let (r, c) = ((i / ncol) as f64, (i % ncol) as f64);
            let d = VALLEYS.iter().map(|v| distance_to_polyline(r, c, v)).fold(f64::INFINITY, f64::min);
            150.0 + 45.0 * (19.0 - r) + 70.0 * d + rng.range(0.0, 8.0)
        })
        .collect();
    let filled = priority_flood(grid, &mask, &dem);
    let flwdir = steepest_descent(grid, &mask, &filled);
    let acc = accumulate(grid, &mask, &flwdir);
    let slope = slope_degrees(grid, &dem, &mut rng);
    Terrain { mask, flwdir, acc, slope }
}

/// The cell `(row, col)` drains to, or `None` when it leaves the grid.
pub fn downstream(grid: &Grid, row: usize, col: usize, code: u8) -> Option<(usize, usize)> {
    let (dr, dc) = D8[usize::from(code) - 1];
    let (r, c) = (row.checked_add_signed(dr)?, col.checked_add_signed(dc)?);
    (r < grid.nrow && c < grid.ncol).then_some((r, c))
}

/// Euclidean distance (in cells) from `(r, c)` to a polyline.
fn distance_to_polyline(r: f64, c: f64, line: &[(f64, f64)]) -> f64 {
    line.windows(2)
        .map(|s| {
            let ((r0, c0), (r1, c1)) = (s[0], s[1]);
            let (vr, vc) = (r1 - r0, c1 - c0);
            let t = (((r - r0) * vr + (c - c0) * vc) / (vr * vr + vc * vc)).clamp(0.0, 1.0);
            let (dr, dc) = (r - r0 - t * vr, c - c0 - t * vc);
            (dr * dr + dc * dc).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A heap entry ordered by elevation then index, smallest first.
struct Entry(f64, usize);

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// Priority flood from the outlet (Barnes et al. 2014) with a 1-cm gradient: every catchment cell
/// gets a strictly lower neighbour inside the catchment, so steepest descent cannot form pits or cycles.
fn priority_flood(grid: &Grid, mask: &[bool], dem: &[f64]) -> Vec<f64> {
    let ncol = grid.ncol;
    let mut filled = dem.to_vec();
    let mut seen = vec![false; dem.len()];
    let start = OUTLET.0 * ncol + OUTLET.1;
    seen[start] = true;
    let mut heap = BinaryHeap::from([Entry(filled[start], start)]);
    while let Some(Entry(z, i)) = heap.pop() {
        for code in 1..=8 {
            let Some((r, c)) = downstream(grid, i / ncol, i % ncol, code) else { continue };
            let j = r * ncol + c;
            if mask[j] && !seen[j] {
                seen[j] = true;
                filled[j] = filled[j].max(z + 0.01);
                heap.push(Entry(filled[j], j));
            }
        }
    }
    assert!(mask.iter().zip(&seen).all(|(m, s)| !m || *s), "catchment outline is not connected");
    filled
}

/// D8 steepest descent on the conditioned DEM, inside the catchment; the outlet drains south.
fn steepest_descent(grid: &Grid, mask: &[bool], filled: &[f64]) -> Vec<u8> {
    let ncol = grid.ncol;
    let mut flwdir = vec![0u8; filled.len()];
    for i in (0..filled.len()).filter(|&i| mask[i]) {
        let mut best = (0.0, 0u8);
        for code in 1..=8u8 {
            let Some((r, c)) = downstream(grid, i / ncol, i % ncol, code) else { continue };
            let j = r * ncol + c;
            let dist = if code % 2 == 0 { std::f64::consts::SQRT_2 } else { 1.0 };
            let drop = (filled[i] - filled[j]) / dist;
            if mask[j] && drop > best.0 {
                best = (drop, code);
            }
        }
        flwdir[i] = best.1;
    }
    flwdir[OUTLET.0 * ncol + OUTLET.1] = 5;
    flwdir[(OUTLET.0 + 1) * ncol + OUTLET.1] = 5;
    flwdir
}

/// Drained area in cells, by walking every cell down to the outlet.
fn accumulate(grid: &Grid, mask: &[bool], flwdir: &[u8]) -> Vec<u32> {
    let ncol = grid.ncol;
    let mut acc = vec![0u32; flwdir.len()];
    for start in (0..flwdir.len()).filter(|&i| mask[i]) {
        let (mut r, mut c) = (start / ncol, start % ncol);
        for _ in 0..=flwdir.len() {
            let i = r * ncol + c;
            assert!(mask[i] && flwdir[i] != 0, "cell {start} drains out of the catchment at ({r}, {c})");
            acc[i] += 1;
            match downstream(grid, r, c, flwdir[i]) {
                Some(next) if (r, c) != OUTLET => (r, c) = next,
                _ => break,
            }
        }
        assert_eq!((r, c), OUTLET, "cell {start} does not reach the outlet");
    }
    acc
}

/// Mean hillslope angle [°]: the 1-km DEM gradient times 3 (sub-grid relief) and a random roughness.
fn slope_degrees(grid: &Grid, dem: &[f64], rng: &mut Rng) -> Vec<f32> {
    let (nrow, ncol) = (grid.nrow, grid.ncol);
    let z = |r: usize, c: usize| dem[r * ncol + c];
    (0..nrow * ncol)
        .map(|i| {
            let (r, c) = (i / ncol, i % ncol);
            let (r0, r1, c0, c1) =
                (r.saturating_sub(1), (r + 1).min(nrow - 1), c.saturating_sub(1), (c + 1).min(ncol - 1));
            let gy = (z(r1, c) - z(r0, c)) / ((r1 - r0) as f64 * grid.dx);
            let gx = (z(r, c1) - z(r, c0)) / ((c1 - c0) as f64 * grid.dx);
            let s = 3.0 * (gx * gx + gy * gy).sqrt() * rng.range(0.8, 1.25);
            (atan(s).to_degrees() * 100.0).round() as f32 / 100.0
        })
        .collect()
}

/// `atan(x)` for x ≥ 0 to within 0.3°, with arithmetic only (bit-identical on every platform, unlike
/// libm's `atan`).
fn atan(x: f64) -> f64 {
    use std::f64::consts::FRAC_PI_2;
    let small = |x: f64| x * std::f64::consts::FRAC_PI_4 + 0.273 * x * (1.0 - x);
    if x <= 1.0 { small(x) } else { FRAC_PI_2 - small(1.0 / x) }
}
