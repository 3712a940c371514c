//! The ask → evaluate → tell loop, with a budget counted in evaluations.

use super::{Proposal, Sampler};

/// An error of the evaluation (the model), passed through unchanged.
pub type EvaluationError = Box<dyn std::error::Error + Send + Sync>;

/// Evaluates whole batches.
pub trait BatchObjective {
    /// The values of `batch`, `[B, K]` row-major in its order, `K` the sampler's
    /// [`objectives`](Sampler::objectives) (`[B]` for one); `first_eval` is the 0-based id of its first point
    /// in the run (ids follow proposal order), so that an implementation can replay stored values.
    fn evaluate(&mut self, first_eval: usize, batch: &[Proposal]) -> Result<Vec<f64>, EvaluationError>;
}

impl<F> BatchObjective for F
where
    F: FnMut(usize, &[Proposal]) -> Result<Vec<f64>, EvaluationError>,
{
    fn evaluate(&mut self, first_eval: usize, batch: &[Proposal]) -> Result<Vec<f64>, EvaluationError> {
        self(first_eval, batch)
    }
}

/// What the observer sees after each batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchRecord<'a> {
    /// 0-based batch number.
    pub batch: usize,
    /// The id of the batch's first evaluation.
    pub first_eval: usize,
    pub proposals: &'a [Proposal],
    /// The values told, `[B, K]` row-major, `+inf` where the evaluation gave NaN.
    pub values: &'a [f64],
    /// Objectives per point `K` (1 for a single-objective method).
    pub objectives: usize,
    /// MCMC samplers: which proposals became their chain's state.
    pub accepted: Option<&'a [bool]>,
    /// The best point so far and its value (with several objectives: by the first one).
    pub best: (&'a [f64], f64),
}

/// Whether the search goes on after a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop now (Ctrl-C): the outcome is the best point so far.
    Stop,
}

/// Why a search ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Termination {
    /// `max_evaluations` were spent.
    Budget,
    /// The method's own criterion (its message).
    Method(String),
    /// The observer stopped the run.
    Interrupted,
}

/// The result of a search.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchOutcome {
    /// The best point evaluated, `[n]`, and its value (with several objectives: by the first one).
    pub best_x: Vec<f64>,
    pub best_value: f64,
    pub evaluations: usize,
    pub batches: usize,
    pub termination: Termination,
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("evaluation {first_eval}..{}: {source}", first_eval + len)]
    Evaluation {
        first_eval: usize,
        len: usize,
        #[source]
        source: EvaluationError,
    },
    #[error("the objective returned {got} values for a batch of {asked} points with {objectives} objectives each")]
    BatchLength { asked: usize, objectives: usize, got: usize },
    #[error("{method} evaluated nothing before it stopped")]
    Empty { method: &'static str },
}

/// Runs `sampler` until it finishes, `max_evaluations` are spent or `observer` stops it.
///
/// # Panics
/// If the method breaks its contract: an empty batch, more points than the budget left, or a point of the
/// wrong dimension or with a non-finite coordinate.
pub fn search(
    sampler: &mut dyn Sampler,
    objective: &mut dyn BatchObjective,
    max_evaluations: usize,
    observer: &mut dyn FnMut(&BatchRecord<'_>) -> Flow,
) -> Result<SearchOutcome, SearchError> {
    let (mut evaluations, mut batches) = (0, 0);
    let k = sampler.objectives();
    assert!(k >= 1, "{} minimises no objective", sampler.name());
    let mut best: Option<(Vec<f64>, f64)> = None;
    let termination = loop {
        let remaining = max_evaluations - evaluations;
        if remaining == 0 {
            break Termination::Budget;
        }
        let Some(batch) = sampler.ask(remaining) else { break Termination::Method(sampler.termination()) };
        assert!(!batch.is_empty() && batch.len() <= remaining, "{} asked {} points", sampler.name(), batch.len());
        let values = objective.evaluate(evaluations, &batch).map_err(|source| SearchError::Evaluation {
            first_eval: evaluations,
            len: batch.len(),
            source,
        })?;
        if values.len() != batch.len() * k {
            return Err(SearchError::BatchLength { asked: batch.len(), objectives: k, got: values.len() });
        }
        let values: Vec<f64> = values.into_iter().map(|v| if v.is_nan() { f64::INFINITY } else { v }).collect();
        for (p, v) in batch.iter().zip(values.chunks_exact(k)) {
            if best.as_ref().is_none_or(|b| v[0] < b.1) {
                best = Some((p.x.clone(), v[0]));
            }
        }
        sampler.tell(&values);
        let (bx, bv) = best.as_ref().map(|(x, v)| (x.as_slice(), *v)).expect("a batch was evaluated");
        let record = BatchRecord {
            batch: batches,
            first_eval: evaluations,
            proposals: &batch,
            values: &values,
            objectives: k,
            accepted: sampler.accepted(),
            best: (bx, bv),
        };
        evaluations += batch.len();
        batches += 1;
        if observer(&record) == Flow::Stop {
            break Termination::Interrupted;
        }
    };
    let (best_x, best_value) = best.ok_or(SearchError::Empty { method: sampler.name() })?;
    Ok(SearchOutcome { best_x, best_value, evaluations, batches, termination })
}

/// Checks a batch against the space (used by the method tests).
pub fn assert_within(space: &super::Space, batch: &[Proposal]) {
    for p in batch {
        assert_eq!(p.x.len(), space.dim(), "point of dimension {}", p.x.len());
        assert!(space.contains(&p.x), "point {:?} outside the bounds", p.x);
    }
}
