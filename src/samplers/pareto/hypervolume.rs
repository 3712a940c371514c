//! The hypervolume (Zitzler & Thiele's S-metric) of a set of points against a reference point, and each
//! point's exclusive contribution to it.
//!
//! The hypervolume of `P` against `r` is the Lebesgue measure of `⋃_{p ∈ P} [p, r]`, the region the points
//! dominate up to `r` (every objective minimised): larger is better. Points not strictly below `r` in every
//! objective add nothing. It is exact for any `K`:
//! * `K = 2`: a sweep over the staircase sorted by the first objective, `O(N log N)`;
//! * `K = 3`: a sweep over the third objective that keeps the 2-D staircase of the points seen so far
//!   (insertion into a sorted list), `O(N²)` in the worst case, `O(N log N + N F)` for a staircase of `F`;
//! * `K ≥ 4`: slicing along the last objective (HSO, While et al. 2006) down to the 3-D sweep, exponential in
//!   `K`: meant for small fronts only.

use super::{non_dominated, worst_nan};

/// The hypervolume of `front` (`[N, K]` row-major, any order, dominated points allowed) against
/// `reference` (`[K]`); 0 for an empty set.
///
/// # Example
/// ```
/// use hydrograd::samplers::pareto::hypervolume;
/// // two boxes of 2 × 1 and 1 × 2 overlapping on 1 × 1: 3
/// let hv = hypervolume(&[1.0, 2.0, 2.0, 1.0], 2, &[3.0, 3.0]);
/// assert_eq!(hv, 3.0);
/// ```
pub fn hypervolume(front: &[f64], k: usize, reference: &[f64]) -> f64 {
    assert_eq!(reference.len(), k, "a reference point of {} values for {k} objectives", reference.len());
    let inside: Vec<f64> = front
        .chunks_exact(k)
        .filter(|p| p.iter().zip(reference).all(|(&a, &r)| worst_nan(a) < r))
        .flatten()
        .copied()
        .collect();
    volume(&inside, reference)
}

/// The exclusive contribution of each point of `front` (`[N, K]`) to its hypervolume against `reference`:
/// the measure of the region only that point dominates, `HV(front) − HV(front without it)` (0 for a
/// dominated or duplicated point, or one outside the reference). Cost `O(N log N)` for `K = 2` without
/// dominated points; for `K = 3` one sweep per point (`contributions3`); for `K ≥ 4`, `N` hypervolumes of
/// the other points limited to the point's box (`max(p, q)`), whose non-dominated part is usually a few
/// neighbours.
pub fn contributions(front: &[f64], k: usize, reference: &[f64]) -> Vec<f64> {
    assert_eq!(reference.len(), k, "a reference point of {} values for {k} objectives", reference.len());
    let n = front.len() / k;
    let row = |i: usize| &front[i * k..(i + 1) * k];
    let inside = |p: &[f64]| p.iter().zip(reference).all(|(&a, &r)| worst_nan(a) < r);
    if k == 2
        && let Some(c) = contributions2(front, reference)
    {
        return c;
    }
    if k == 3 {
        return contributions3(front, reference);
    }
    (0..n)
        .map(|i| {
            let p = row(i);
            if !inside(p) {
                return 0.0;
            }
            let own: f64 = p.iter().zip(reference).map(|(a, r)| r - a).product();
            let limited: Vec<f64> = (0..n)
                .filter(|&j| j != i && inside(row(j)))
                .flat_map(|j| row(j).iter().zip(p).map(|(q, a)| worst_nan(*q).max(*a)))
                .collect();
            let keep: Vec<f64> =
                non_dominated(&limited, k).into_iter().flat_map(|j| limited[j * k..(j + 1) * k].to_vec()).collect();
            (own - volume(&keep, reference)).max(0.0)
        })
        .collect()
}

/// `K = 2` contributions of a set without dominated points: on the staircase sorted by `f₀`, point `i` owns
/// `(x_{i+1} − x_i)(y_{i−1} − y_i)`. `None` if a point is dominated (it would own part of its dominator's
/// region once that is removed).
fn contributions2(front: &[f64], reference: &[f64]) -> Option<Vec<f64>> {
    let n = front.len() / 2;
    let at = |i: usize| (worst_nan(front[2 * i]), worst_nan(front[2 * i + 1]));
    let mut order: Vec<usize> = (0..n).filter(|&i| at(i).0 < reference[0] && at(i).1 < reference[1]).collect();
    order.sort_by(|&a, &b| at(a).0.total_cmp(&at(b).0).then(at(a).1.total_cmp(&at(b).1)));
    // the staircase (y strictly decreasing); a point equal to the previous one cancels both
    let mut stairs: Vec<(usize, bool)> = Vec::new();
    let mut lowest = f64::INFINITY;
    for &i in &order {
        let (_, y) = at(i);
        if let Some(last) = stairs.last_mut()
            && at(last.0) == at(i)
        {
            last.1 = false;
        } else if y < lowest {
            stairs.push((i, true));
            lowest = y;
        } else {
            return None;
        }
    }
    let mut out = vec![0.0; n];
    for s in 0..stairs.len() {
        let (i, unique) = stairs[s];
        if unique {
            let next_x = stairs.get(s + 1).map_or(reference[0], |&(j, _)| at(j).0);
            let previous_y = if s == 0 { reference[1] } else { at(stairs[s - 1].0).1 };
            out[i] = (next_x - at(i).0) * (previous_y - at(i).1);
        }
    }
    Some(out)
}

/// `K = 3` contributions: for each point `p`, a sweep up the third objective from `p₃` over the other points,
/// keeping the staircase of their `(f₁, f₂)` raised to `p`'s, so that each slab adds `p`'s box face less
/// the staircase's area; it stops as soon as a point covers `p`'s face. `O(N²·F)` in the worst case for
/// staircases of `F` steps, far less when the sweep stops early (the usual case on a front).
fn contributions3(front: &[f64], reference: &[f64]) -> Vec<f64> {
    let n = front.len() / 3;
    let at = |i: usize| [worst_nan(front[3 * i]), worst_nan(front[3 * i + 1]), worst_nan(front[3 * i + 2])];
    let mut order: Vec<usize> = (0..n).filter(|&i| at(i).iter().zip(reference).all(|(a, r)| a < r)).collect();
    order.sort_by(|&a, &b| at(a)[2].total_cmp(&at(b)[2]));
    let mut out = vec![0.0; n];
    for &i in &order {
        let p = at(i);
        let face = (reference[0] - p[0]) * (reference[1] - p[1]);
        let (mut stairs, mut covered, mut level) = (Staircase::default(), 0.0, p[2]);
        let mut volume = 0.0;
        let mut open = true;
        for &j in order.iter().filter(|&&j| j != i) {
            let q = at(j);
            if q[2] > level {
                volume += (face - covered) * (q[2] - level);
                level = q[2];
            }
            if q[0] <= p[0] && q[1] <= p[1] {
                open = false;
                break;
            }
            stairs.insert(q[0].max(p[0]), q[1].max(p[1]));
            covered = stairs.area(reference);
        }
        if open {
            volume += (face - covered) * (reference[2] - level);
        }
        out[i] = volume.max(0.0);
    }
    out
}

/// The hypervolume of points (`[N, K]`, `K = reference.len()`) all strictly below `reference`.
fn volume(points: &[f64], reference: &[f64]) -> f64 {
    let k = reference.len();
    if points.is_empty() {
        return 0.0;
    }
    match k {
        1 => reference[0] - points.iter().copied().fold(f64::INFINITY, f64::min),
        2 => {
            let mut stairs = Staircase::default();
            points.chunks_exact(2).for_each(|p| stairs.insert(p[0], p[1]));
            stairs.area(reference)
        }
        _ => {
            // sweep the last objective: between consecutive levels, the points below dominate a
            // (K−1)-dimensional set
            let mut order: Vec<usize> = (0..points.len() / k).collect();
            order.sort_by(|&a, &b| points[a * k + k - 1].total_cmp(&points[b * k + k - 1]));
            let level = |s: usize| order.get(s).map_or(reference[k - 1], |&i| points[i * k + k - 1]);
            let mut total = 0.0;
            let mut stairs = Staircase::default();
            for s in 0..order.len() {
                let p = &points[order[s] * k..(order[s] + 1) * k];
                let depth = level(s + 1) - level(s);
                if k == 3 {
                    stairs.insert(p[0], p[1]);
                    if depth > 0.0 {
                        total += depth * stairs.area(reference);
                    }
                } else if depth > 0.0 {
                    let below: Vec<f64> =
                        order[..=s].iter().flat_map(|&i| points[i * k..i * k + k - 1].to_vec()).collect();
                    let keep: Vec<f64> = non_dominated(&below, k - 1)
                        .into_iter()
                        .flat_map(|j| below[j * (k - 1)..(j + 1) * (k - 1)].to_vec())
                        .collect();
                    total += depth * volume(&keep, &reference[..k - 1]);
                }
            }
            total
        }
    }
}

/// The non-dominated points of a 2-D set, sorted by `x` increasing (so `y` strictly decreasing).
#[derive(Default)]
struct Staircase {
    steps: Vec<(f64, f64)>,
}

impl Staircase {
    /// Adds `(x, y)` unless a step weakly dominates it, removing the steps it dominates.
    fn insert(&mut self, x: f64, y: f64) {
        let pos = self.steps.partition_point(|s| s.0 < x);
        if pos > 0 && self.steps[pos - 1].1 <= y {
            return;
        }
        if self.steps.get(pos).is_some_and(|s| s.0 == x && s.1 <= y) {
            return;
        }
        let end = pos + self.steps[pos..].iter().take_while(|s| s.1 >= y).count();
        self.steps.splice(pos..end, [(x, y)]);
    }

    /// The area the steps dominate up to `reference` (`[2]` or longer: its first two values).
    fn area(&self, reference: &[f64]) -> f64 {
        let mut area = 0.0;
        for (s, &(x, y)) in self.steps.iter().enumerate() {
            let next_x = self.steps.get(s + 1).map_or(reference[0], |n| n.0);
            area += (next_x - x) * (reference[1] - y);
        }
        area
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::random::LegacyRandom;

    #[test]
    fn two_objectives_by_hand() {
        // (1,4) (2,2) (4,1) against (5,5): 1·1 + 2·3 + 1·4 = 11; a dominated (3,3) and a point beyond the
        // reference change nothing
        let f = [2.0, 2.0, 4.0, 1.0, 1.0, 4.0, 3.0, 3.0, 6.0, 0.0];
        assert_eq!(hypervolume(&f, 2, &[5.0, 5.0]), 11.0);
        // contributions: (2,2): (4−2)(4−2) = 4, less the 1 × 1 that (3,3) covers too; (4,1): (5−4)(2−1) = 1;
        // (1,4): (2−1)(5−4) = 1
        assert_eq!(contributions(&f, 2, &[5.0, 5.0]), [3.0, 1.0, 1.0, 0.0, 0.0]);
        assert_eq!(contributions(&f[..6], 2, &[5.0, 5.0]), [4.0, 1.0, 1.0]);
        // a duplicate owns nothing alone, nor does its twin
        let twins = [1.0, 2.0, 1.0, 2.0, 2.0, 1.0];
        assert_eq!(contributions(&twins, 2, &[3.0, 3.0]), [0.0, 0.0, 1.0]);
        assert_eq!(hypervolume(&[], 2, &[1.0, 1.0]), 0.0);
        assert_eq!(hypervolume(&[1.0, 1.0], 2, &[1.0, 2.0]), 0.0);
        assert_eq!(hypervolume(&[0.5], 1, &[2.0]), 1.5);
    }

    #[test]
    fn three_objectives_by_hand() {
        // (0,0,1) (0,1,0) (1,0,0) against (2,2,2): 3 boxes of 4 with pairwise overlaps of 2 and a common
        // part of 1: 12 − 6 + 1 = 7; each owns 4 − 2 − 2 + 1 = 1
        let f = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(hypervolume(&f, 3, &[2.0; 3]), 7.0);
        assert_eq!(contributions(&f, 3, &[2.0; 3]), [1.0, 1.0, 1.0]);
        // a dominated point and a duplicate
        let g = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.5, 1.0, 0.0, 0.0];
        assert_eq!(hypervolume(&g, 3, &[2.0; 3]), 4.0 + 4.0 - 2.0);
        assert_eq!(contributions(&g, 3, &[2.0; 3]), [0.0, 0.0, 0.0, 2.0]);
    }

    /// The hypervolume by inclusion–exclusion over every subset (exact, `O(2^N)`).
    fn inclusion_exclusion(f: &[f64], k: usize, r: &[f64]) -> f64 {
        let n = f.len() / k;
        let mut total = 0.0;
        for mask in 1u32..(1 << n) {
            let corner: Vec<f64> = (0..k)
                .map(|o| (0..n).filter(|i| mask >> i & 1 == 1).map(|i| f[i * k + o]).fold(f64::MIN, f64::max))
                .collect();
            let vol: f64 = corner.iter().zip(r).map(|(c, r)| (r - c).max(0.0)).product();
            total += if mask.count_ones() % 2 == 1 { vol } else { -vol };
        }
        total
    }

    #[test]
    fn agrees_with_inclusion_exclusion_in_2_to_5_objectives() {
        let mut rng = LegacyRandom::new(3);
        for k in 2..=5 {
            for _ in 0..20 {
                let n = 1 + rng.below(9);
                let f: Vec<f64> = (0..n * k).map(|_| rng.random_sample()).collect();
                let r = vec![1.1; k];
                let (hv, exact) = (hypervolume(&f, k, &r), inclusion_exclusion(&f, k, &r));
                assert!((hv - exact).abs() < 1e-12, "K {k}, N {n}: {hv} vs {exact}");
                for (i, c) in contributions(&f, k, &r).into_iter().enumerate() {
                    let mut rest = f.clone();
                    rest.drain(i * k..(i + 1) * k);
                    let alone = exact - inclusion_exclusion(&rest, k, &r);
                    assert!((c - alone).abs() < 1e-12, "K {k}, point {i}: {c} vs {alone}");
                }
            }
        }
    }

    #[test]
    fn dense_true_fronts_approach_the_analytic_values() {
        // ZDT1's front y = 1 − √x against (1.1, 1.1): 1.21 − 1/3; 1001 points on it fall short by O(1/N)
        let f: Vec<f64> = (0..=1000).flat_map(|i| [i as f64 / 1000.0, 1.0 - (i as f64 / 1000.0).sqrt()]).collect();
        let hv = hypervolume(&f, 2, &[1.1, 1.1]);
        assert!(hv < 1.21 - 1.0 / 3.0 && hv > 1.21 - 1.0 / 3.0 - 1e-3, "{hv}");
        // the unit sphere's octant against (1.1, 1.1, 1.1): 1.331 − π/6
        let m = 60;
        let f: Vec<f64> = (0..=m)
            .flat_map(|i| (0..=m).map(move |j| (i, j)))
            .flat_map(|(i, j)| {
                let (a, b) = (
                    i as f64 / m as f64 * std::f64::consts::FRAC_PI_2,
                    j as f64 / m as f64 * std::f64::consts::FRAC_PI_2,
                );
                [a.cos() * b.cos(), a.cos() * b.sin(), a.sin()]
            })
            .collect();
        let hv = hypervolume(&f, 3, &[1.1; 3]);
        let exact = 1.331 - std::f64::consts::PI / 6.0;
        assert!(hv < exact && hv > exact - 0.02, "{hv} vs {exact}");
    }
}
