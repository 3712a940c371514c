//! What follows a search stage in `hydrograd train`: a multi-objective stage's Pareto front (written as
//! `DIR/pareto-stage-<k>.parquet`, its chosen member made the stage's result), its chosen sets simulated
//! again (`save_runs`), the validation cost at its result and its diagnostics for the report.

use super::front::{pareto_front, write_front};
use super::store::SampleStore;
use super::summary::{SearchSummary, summarize};
use super::{SearchStageError, objective_names, parameter_names, runs};
use crate::calibration::objective::Problem;
use crate::config::SearchConfig;
use crate::optim::Outcome;
use std::path::Path;

/// A finished search stage.
pub struct Finished {
    /// The validation cost (`[validation]`) at the stage's result.
    pub validation: Option<f64>,
    pub summary: SearchSummary,
}

/// Finishes search stage `number` of `search` on `problem`, whose run ended with `outcome` and whose
/// evaluations are in `store`; `dir` is the output folder of `save_runs` and of the Pareto front (`None`:
/// nothing saved). A multi-objective stage's `outcome` becomes the front member of `pareto_choice`.
///
/// # Errors
/// A failed write of the front, a failed simulation of the saved sets or of the predictive band.
pub fn finish(
    number: usize,
    search: &SearchConfig,
    store: &SampleStore,
    problem: &Problem<'_>,
    outcome: &mut Outcome,
    dir: Option<&Path>,
) -> Result<Finished, SearchStageError> {
    let failed = |message: String| SearchStageError::Method { stage: number, message };
    let rows: Vec<_> = store.stage_rows(number as u32).cloned().collect();
    let names = parameter_names(problem.space);
    let front = pareto_front(&rows, objective_names(search), search.pareto_choice);
    if let Some(front) = &front {
        let chosen = &rows[front.chosen];
        (outcome.x, outcome.cost) = (chosen.x.clone(), chosen.cost);
        if let Some(dir) = dir {
            write_front(dir, number, &names, &rows, front).map_err(failed)?;
        }
    }
    if let Some(dir) = dir {
        let chosen = runs::selected(&rows, search.save_runs);
        if !chosen.is_empty() {
            runs::save_runs(dir, number, problem, &chosen).map_err(failed)?;
        }
    }
    let validation = rows.iter().find(|r| r.x == outcome.x).and_then(|r| r.terms.validation);
    let mut summary = summarize(number, search.method.name(), names, rows, search.behavioural, problem)
        .map_err(|e| failed(format!("predictive band: {e}")))?;
    summary.pareto = front;
    Ok(Finished { validation, summary })
}
