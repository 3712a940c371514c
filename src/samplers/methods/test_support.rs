//! What the methods' unit tests share: a box of test-function coordinates and a search that records
//! every batch asked.

use crate::samplers::driver::{EvaluationError, assert_within};
use crate::samplers::{Flow, Proposal, Sampler, SearchOutcome, Space, search};

/// `[lo, hi]ⁿ`, parameters `p0 … p(n−1)`, uniform priors.
pub fn cube(n: usize, lo: f64, hi: f64) -> Space {
    let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    Space::uniform(&names, &vec![(lo, hi); n])
}

/// Runs `method` on `f` for at most `budget` evaluations; returns the outcome and every batch asked, each
/// checked within the bounds of `space`.
pub fn run_recorded(
    method: &mut dyn Sampler,
    space: &Space,
    f: &dyn Fn(&[f64]) -> f64,
    budget: usize,
) -> (SearchOutcome, Vec<Vec<Proposal>>) {
    let mut objective =
        |_: usize, b: &[Proposal]| -> Result<Vec<f64>, EvaluationError> { Ok(b.iter().map(|p| f(&p.x)).collect()) };
    let mut batches = Vec::new();
    let out = search(method, &mut objective, budget, &mut |r| {
        assert_within(space, r.proposals);
        batches.push(r.proposals.to_vec());
        Flow::Continue
    })
    .unwrap();
    (out, batches)
}
