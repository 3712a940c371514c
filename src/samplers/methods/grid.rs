//! Grid search: the full factorial grid of `levels` evenly spaced values per parameter (`levelsⁿ` points),
//! asked in batches of at most 1024 points; the method finishes when the grid is exhausted. Points are
//! enumerated with the last parameter varying fastest (`itertools.product` order).
//!
//! Level `k` of `L` is the centre of cell `k`, `lower + (k + ½)/L · (upper − lower)`, or, with
//! `include_bounds = true`, `lower + k/(L−1) · (upper − lower)` (both bounds included). The grid is even in the
//! bounds whatever the priors. SPOTPY has no grid search.
//!
//! Defaults: `levels` = the largest `L ≥ 2` with `Lⁿ ≤ max_evaluations` (2 if even `2ⁿ` exceeds it: the budget
//! then ends the search first), `include_bounds = false`.

use serde::Deserialize;

use crate::samplers::{Proposal, Sampler, Space};

/// The most points per batch.
pub const BATCH: usize = 1024;

/// Options of [`Grid`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GridOptions {
    /// Values per parameter, ≥ 2 (default: the largest with `levelsⁿ ≤ max_evaluations`).
    pub levels: Option<usize>,
    /// Put the outer levels on the bounds instead of at cell centres.
    pub include_bounds: bool,
}

/// A full factorial grid.
#[derive(Debug)]
pub struct Grid {
    space: Space,
    levels: usize,
    include_bounds: bool,
    /// `levelsⁿ`.
    total: usize,
    /// Points asked so far.
    next: usize,
}

impl Grid {
    /// # Errors
    /// `"levels: …"` for fewer than 2 levels or a grid larger than `usize`, `"parameters: …"` for an empty space.
    pub fn new(space: Space, options: GridOptions, _random_state: u32, max_evaluations: usize) -> Result<Self, String> {
        let n = space.dim();
        if n == 0 {
            return Err("parameters: a grid needs at least one parameter".into());
        }
        let levels = match options.levels {
            Some(l) if l < 2 => return Err(format!("levels: must be ≥ 2 (got {l})")),
            Some(l) => l,
            None => default_levels(n, max_evaluations),
        };
        let total = u32::try_from(n)
            .ok()
            .and_then(|n| levels.checked_pow(n))
            .ok_or_else(|| format!("levels: {levels}^{n} points overflow"))?;
        Ok(Grid { space, levels, include_bounds: options.include_bounds, total, next: 0 })
    }

    /// Grid point number `index` (last parameter fastest).
    fn point(&self, mut index: usize) -> Vec<f64> {
        let n = self.space.dim();
        let mut x = vec![0.0; n];
        for j in (0..n).rev() {
            let k = index % self.levels;
            index /= self.levels;
            let fraction = if self.include_bounds {
                k as f64 / (self.levels - 1) as f64
            } else {
                (k as f64 + 0.5) / self.levels as f64
            };
            x[j] =
                (self.space.lower(j) + fraction * self.space.width(j)).clamp(self.space.lower(j), self.space.upper(j));
        }
        x
    }
}

/// The largest `L ≥ 2` with `Lⁿ ≤ budget`, or 2.
fn default_levels(n: usize, budget: usize) -> usize {
    let fits = |l: usize| u32::try_from(n).ok().and_then(|n| l.checked_pow(n)).is_some_and(|t| t <= budget);
    let mut l = 2;
    while fits(l + 1) {
        l += 1;
    }
    l
}

impl Sampler for Grid {
    fn name(&self) -> &'static str {
        "grid"
    }

    fn ask(&mut self, remaining: usize) -> Option<Vec<Proposal>> {
        if self.next == self.total {
            return None;
        }
        let end = self.total.min(self.next + remaining.min(BATCH));
        let batch = (self.next..end).map(|i| Proposal::free(self.point(i))).collect();
        self.next = end;
        Some(batch)
    }

    fn tell(&mut self, _values: &[f64]) {}

    fn termination(&self) -> String {
        format!("the grid's {} points ({} levels per parameter) were evaluated", self.total, self.levels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::driver::{EvaluationError, SearchOutcome, Termination, assert_within};
    use crate::samplers::functions::{ackley, griewank, rosenbrock};
    use crate::samplers::{Flow, search};

    fn cube(n: usize, b: f64) -> Space {
        let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Space::uniform(&names, &vec![(-b, b); n])
    }

    fn run(f: fn(&[f64]) -> f64, space: &Space, options: GridOptions, budget: usize) -> (SearchOutcome, Vec<Vec<f64>>) {
        let mut grid = Grid::new(space.clone(), options, 0, budget).unwrap();
        let mut trace = Vec::new();
        let mut objective = |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
            assert_within(space, b);
            assert!(b.len() <= BATCH);
            trace.extend(b.iter().map(|p| p.x.clone()));
            Ok(b.iter().map(|p| f(&p.x)).collect())
        };
        (search(&mut grid, &mut objective, budget, &mut |_| Flow::Continue).unwrap(), trace)
    }

    #[test]
    fn enumerates_cell_centres_or_bounds() {
        let space = Space::uniform(&["a", "b"], &[(0.0, 1.0), (-0.1, 0.3)]);
        let (outcome, trace) = run(rosenbrock, &space, GridOptions { levels: Some(2), include_bounds: false }, 100);
        let expected = [[0.25, 0.0], [0.25, 0.2], [0.75, 0.0], [0.75, 0.2]];
        assert_eq!(trace.len(), 4);
        for (x, e) in trace.iter().zip(expected) {
            assert!(x.iter().zip(e).all(|(a, b)| (a - b).abs() < 1e-15), "{x:?} vs {e:?}");
        }
        assert!(matches!(outcome.termination, Termination::Method(_)));
        let (_, trace) = run(rosenbrock, &space, GridOptions { levels: Some(3), include_bounds: true }, 100);
        assert_eq!(trace.len(), 9);
        assert_eq!(trace[0], [0.0, -0.1]);
        assert_eq!(trace[8], [1.0, 0.3]);
        assert!((trace[4][0] - 0.5).abs() < 1e-15 && (trace[4][1] - 0.1).abs() < 1e-15);
    }

    #[test]
    fn default_levels_fit_the_budget() {
        assert_eq!(default_levels(2, 5000), 70);
        assert_eq!(default_levels(4, 5000), 8);
        assert_eq!(default_levels(3, 1000), 10);
        assert_eq!(default_levels(30, 5000), 2);
        // 2^30 > 5000: the budget ends the search, in batches of 1024
        let (outcome, trace) = run(ackley, &cube(30, 32.768), GridOptions::default(), 5000);
        assert_eq!((outcome.evaluations, outcome.termination), (5000, Termination::Budget));
        assert_eq!(trace.len(), 5000);
    }

    #[test]
    fn reaches_the_expected_values() {
        // 70×70 cell centres on [−20, 20]²: the centre (0, 0) is not a node; nearest nodes at ±0.2857
        let (outcome, trace) = run(griewank, &cube(2, 20.0), GridOptions::default(), 5000);
        assert_eq!(trace.len(), 4900);
        assert!(outcome.best_value < 0.03, "{}", outcome.best_value);
        // an odd level count with bounds puts a node on the optimum of ackley
        let (outcome, _) = run(ackley, &cube(2, 32.768), GridOptions { levels: Some(65), include_bounds: true }, 5000);
        assert!(outcome.best_value < 1e-12, "{}", outcome.best_value);
    }

    #[test]
    fn options_are_checked() {
        let space = cube(2, 1.0);
        let err = |o: GridOptions| Grid::new(space.clone(), o, 0, 100).unwrap_err();
        assert!(err(GridOptions { levels: Some(1), include_bounds: false }).starts_with("levels:"));
        assert!(
            Grid::new(cube(64, 1.0), GridOptions { levels: Some(3), include_bounds: false }, 0, 10)
                .unwrap_err()
                .starts_with("levels:")
        );
        let options: GridOptions = toml::from_str("levels = 5\ninclude_bounds = true").unwrap();
        assert_eq!(options, GridOptions { levels: Some(5), include_bounds: true });
        assert!(toml::from_str::<GridOptions>("level = 5").is_err());
    }
}
