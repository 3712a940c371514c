//! Pareto dominance and the pieces of multi-objective search built on it: Deb's fast non-dominated sort,
//! the crowding distance, a filter of the non-dominated points of a large set, a non-dominated
//! [`Archive`], the [`hypervolume`] of a front and each point's exclusive [`contributions`], and the
//! inverted generational distance [`igd`].
//!
//! Every objective is minimised. A set of `N` points with `K` objectives is `[N, K]` row-major; NaN is
//! read as `+inf` (worst), as the search driver does.
//!
//! # References
//! Deb, Pratap, Agarwal & Meyarivan (2002), *A fast and elitist multiobjective genetic algorithm: NSGA-II*,
//! IEEE Trans. Evol. Comput. 6(2): the sort (§III-A) and the crowding distance (§III-B). Zitzler & Thiele
//! (1998): the hypervolume (S-metric). Coello Coello & Reyes Sierra (2004): the IGD.

mod archive;
mod hypervolume;

pub use archive::{Archive, Insertion};
pub use hypervolume::{contributions, hypervolume};

/// `v`, with NaN read as `+inf`.
fn worst_nan(v: f64) -> f64 {
    if v.is_nan() { f64::INFINITY } else { v }
}

/// Whether `a` Pareto-dominates `b`: no worse in every objective and better in at least one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (worst_nan(x), worst_nan(y));
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

/// Whether `a` weakly dominates `b`: no worse in every objective (equal points included).
pub fn weakly_dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(&x, &y)| worst_nan(x) <= worst_nan(y))
}

/// Deb's fast non-dominated sort of `values` (`[N, K]`): the fronts, best first, each listing its points in
/// increasing index order. Front 0 holds the points no other point dominates; front `r` those dominated only
/// by points of fronts `< r`. Cost `O(K N²)` time, `O(N²)` memory.
pub fn non_dominated_sort(values: &[f64], k: usize) -> Vec<Vec<usize>> {
    let n = values.len() / k;
    let row = |i: usize| &values[i * k..(i + 1) * k];
    let mut dominated_by = vec![0usize; n];
    let mut dominating: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(row(i), row(j)) {
                dominating[i].push(j);
                dominated_by[j] += 1;
            } else if dominates(row(j), row(i)) {
                dominating[j].push(i);
                dominated_by[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominating[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(std::mem::replace(&mut current, next));
    }
    fronts
}

/// The crowding distance of each point of `members` (indices into `values`, `[N, K]`), in their order: for
/// every objective, the members sorted by it, the two ends get `+inf` and every other member adds the gap
/// between its two neighbours divided by the objective's range over `members` (an objective with a zero or
/// non-finite range adds nothing). Ties keep the order of `members`. Cost `O(K M log M)`.
pub fn crowding_distance(values: &[f64], k: usize, members: &[usize]) -> Vec<f64> {
    let m = members.len();
    let mut distance = vec![0.0; m];
    if m <= 2 {
        distance.fill(f64::INFINITY);
        return distance;
    }
    let mut order: Vec<usize> = (0..m).collect();
    for o in 0..k {
        let value = |a: usize| worst_nan(values[members[a] * k + o]);
        order.sort_by(|&a, &b| value(a).total_cmp(&value(b)));
        distance[order[0]] = f64::INFINITY;
        distance[order[m - 1]] = f64::INFINITY;
        let range = value(order[m - 1]) - value(order[0]);
        if !(range > 0.0 && range.is_finite()) {
            continue;
        }
        for w in order.windows(3) {
            distance[w[1]] += (value(w[2]) - value(w[0])) / range;
        }
    }
    distance
}

/// The indices, increasing, of the points of `values` (`[N, K]`) that no other point dominates (equal points
/// are all kept). Points sorted lexicographically are compared with the non-dominated points before them
/// only: `O(N log N + K N F)` for `F` non-dominated points, so a whole run's evaluations can be filtered.
pub fn non_dominated(values: &[f64], k: usize) -> Vec<usize> {
    let n = values.len() / k;
    let row = |i: usize| &values[i * k..(i + 1) * k];
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        row(a)
            .iter()
            .zip(row(b))
            .map(|(x, y)| worst_nan(*x).total_cmp(&worst_nan(*y)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // a dominating point sorts before the point it dominates, and domination is transitive
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        if !front.iter().any(|&f| dominates(row(f), row(i))) {
            front.push(i);
        }
    }
    front.sort_unstable();
    front
}

/// The inverted generational distance of `front` (`[N, K]`) to `reference` (`[R, K]`, points sampled on
/// the true front): the mean over the reference points of the Euclidean distance to the nearest point of
/// `front` (0 when `front` covers every reference point; `+inf` for an empty `front`). Cost `O(K N R)`.
pub fn igd(front: &[f64], reference: &[f64], k: usize) -> f64 {
    let r = reference.len() / k;
    if r == 0 {
        return 0.0;
    }
    let total: f64 = reference
        .chunks_exact(k)
        .map(|z| {
            front
                .chunks_exact(k)
                .map(|p| p.iter().zip(z).map(|(a, b)| (worst_nan(*a) - b).powi(2)).sum::<f64>())
                .fold(f64::INFINITY, f64::min)
                .sqrt()
        })
        .sum();
    total / r as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominance_needs_one_strict_improvement() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 4.0], &[2.0, 3.0]));
        assert!(dominates(&[1.0, 2.0], &[f64::NAN, 2.0]));
        assert!(!dominates(&[f64::NAN, 2.0], &[1.0, 2.0]));
        assert!(weakly_dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!weakly_dominates(&[1.0, 2.0], &[0.5, 3.0]));
    }

    #[test]
    fn sort_finds_the_fronts_by_hand() {
        // points: 0 (1,5) 1 (2,3) 2 (4,1) 3 (3,4) 4 (5,5) 5 (2,3) 6 (4,2)
        // front 0: 0, 1, 2, 5 (1 and 5 equal); front 1: 3 (by 1), 6 (by 2); front 2: 4 (by 3, 6)
        let v = [1.0, 5.0, 2.0, 3.0, 4.0, 1.0, 3.0, 4.0, 5.0, 5.0, 2.0, 3.0, 4.0, 2.0];
        assert_eq!(non_dominated_sort(&v, 2), vec![vec![0, 1, 2, 5], vec![3, 6], vec![4]]);
        assert_eq!(non_dominated(&v, 2), vec![0, 1, 2, 5]);
        // 3 objectives: (0,0,1) (0,1,0) (1,0,0) mutually non-dominated, (1,1,1) behind all
        let v = [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(non_dominated_sort(&v, 3), vec![vec![1, 2, 3], vec![0]]);
        assert_eq!(non_dominated(&v, 3), vec![1, 2, 3]);
        assert!(non_dominated_sort(&[], 2).is_empty());
    }

    #[test]
    fn crowding_distance_by_hand() {
        // a front (1,5) (2,3) (4,2) (6,1): ranges 5 and 4; the ends are infinite;
        // (2,3): (4−1)/5 + (5−2)/4 = 1.35; (4,2): (6−2)/5 + (3−1)/4 = 1.3
        let v = [4.0, 2.0, 1.0, 5.0, 6.0, 1.0, 2.0, 3.0];
        let d = crowding_distance(&v, 2, &[0, 1, 2, 3]);
        assert!((d[0] - 1.3).abs() < 1e-15 && (d[3] - 1.35).abs() < 1e-15, "{d:?}");
        assert!(d[1].is_infinite() && d[2].is_infinite());
        // a subset, in the order given; a constant objective adds nothing
        let d = crowding_distance(&v, 2, &[3, 0, 1]);
        assert!(d[0] == 2.0 && d[1].is_infinite() && d[2].is_infinite(), "{d:?}");
        let flat = [1.0, 0.0, 2.0, 0.0, 3.0, 0.0];
        assert_eq!(crowding_distance(&flat, 2, &[0, 1, 2])[1], 1.0);
        assert!(crowding_distance(&v, 2, &[0, 1]).iter().all(|d| d.is_infinite()));
    }

    #[test]
    fn igd_is_the_mean_nearest_distance() {
        // reference (0,1) (1,0); front (0,1) (0.5,0.5): distances 0 and √0.5
        let d = igd(&[0.0, 1.0, 0.5, 0.5], &[0.0, 1.0, 1.0, 0.0], 2);
        assert!((d - 0.5f64.sqrt() / 2.0).abs() < 1e-15);
        assert_eq!(igd(&[], &[0.0, 1.0], 2), f64::INFINITY);
    }
}
