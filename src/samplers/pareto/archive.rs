//! A non-dominated archive: the points no other point of the archive weakly dominates, with their values.

use super::weakly_dominates;

/// What [`Archive::insert`] did with a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insertion {
    /// A member weakly dominates the point (it is no better anywhere): not added.
    Dominated,
    /// Added; `removed` members it dominated were dropped.
    Added { removed: usize },
}

/// The non-dominated points found so far, in insertion order.
///
/// A point enters unless a member weakly dominates it (so values are never duplicated), and evicts the
/// members it dominates. Insertion costs `O(K M)` for `M` members.
#[derive(Clone, Debug, PartialEq)]
pub struct Archive {
    k: usize,
    /// Members' parameter sets, `[M][n]`.
    points: Vec<Vec<f64>>,
    /// Members' values, `[M, K]` row-major.
    values: Vec<f64>,
}

impl Archive {
    /// An empty archive of points with `objectives` values each.
    pub fn new(objectives: usize) -> Archive {
        assert!(objectives >= 1, "an archive needs at least one objective");
        Archive { k: objectives, points: Vec::new(), values: Vec::new() }
    }

    /// Offers `x` with its values `value` (`[K]`).
    pub fn insert(&mut self, x: Vec<f64>, value: &[f64]) -> Insertion {
        assert_eq!(value.len(), self.k, "{} values for {} objectives", value.len(), self.k);
        if self.values.chunks_exact(self.k).any(|m| weakly_dominates(m, value)) {
            return Insertion::Dominated;
        }
        let before = self.points.len();
        let mut kept_values = Vec::with_capacity(self.values.len() + self.k);
        let mut kept_points = Vec::with_capacity(before + 1);
        for (p, m) in std::mem::take(&mut self.points).into_iter().zip(self.values.chunks_exact(self.k)) {
            if !weakly_dominates(value, m) {
                kept_points.push(p);
                kept_values.extend_from_slice(m);
            }
        }
        let removed = before - kept_points.len();
        kept_points.push(x);
        kept_values.extend_from_slice(value);
        self.points = kept_points;
        self.values = kept_values;
        Insertion::Added { removed }
    }

    /// Objectives per point `K`.
    pub fn objectives(&self) -> usize {
        self.k
    }

    /// Number of members `M`.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Member `i`'s parameter set `[n]`.
    pub fn point(&self, i: usize) -> &[f64] {
        &self.points[i]
    }

    /// Member `i`'s values `[K]`.
    pub fn value(&self, i: usize) -> &[f64] {
        &self.values[i * self.k..(i + 1) * self.k]
    }

    /// Every member's values, `[M, K]` row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_non_dominated_points() {
        let mut a = Archive::new(2);
        assert_eq!(a.insert(vec![0.0], &[2.0, 2.0]), Insertion::Added { removed: 0 });
        assert_eq!(a.insert(vec![1.0], &[1.0, 3.0]), Insertion::Added { removed: 0 });
        assert_eq!(a.insert(vec![2.0], &[2.0, 2.0]), Insertion::Dominated);
        assert_eq!(a.insert(vec![3.0], &[2.5, 2.5]), Insertion::Dominated);
        assert_eq!(a.insert(vec![4.0], &[3.0, 0.5]), Insertion::Added { removed: 0 });
        // (1, 2) dominates (2, 2) and (1, 3)
        assert_eq!(a.insert(vec![5.0], &[1.0, 2.0]), Insertion::Added { removed: 2 });
        assert_eq!(a.len(), 2);
        assert_eq!(a.values(), [3.0, 0.5, 1.0, 2.0]);
        assert_eq!((a.point(1), a.value(0)), (&[5.0][..], &[3.0, 0.5][..]));
        // a failed run never enters beside a finite point
        assert_eq!(a.insert(vec![6.0], &[f64::INFINITY, f64::NAN]), Insertion::Dominated);
    }
}
