//! Search stages: a `[[train.stage]]` run by a derivative-free method of [`crate::samplers`]
//! (`optimizer = "sceua"`, ...), every evaluation recorded in the run store (`store.rs`), values reused
//! from the evaluation cache (`cache.rs`) and, on a resumed run, replayed from the store.
//!
//! The method asks batches of parameter sets in the parameters' own units (`control_tfm = "keep"`); each
//! batch's sets not yet known are evaluated by one batched forward run ([`Problem::evaluate_batch`]). A
//! resumed run rebuilds the method from its seed and replays the stored values in proposal order, so it
//! asks the same points and ends as an uninterrupted run would. A multi-objective method
//! (`optimize_options.objectives`) is told `K` values per set, all from the same model run, stored and
//! cached with the set; its stage ends on a chosen member of the Pareto front (`front.rs`).

pub mod cache;
pub mod finish;
pub mod front;
pub mod objective;
mod problem_hash;
pub mod runs;
pub mod store;
pub mod summary;

use super::checkpoint::TraceRow;
use super::control::ControlSpace;
use super::objective::{Problem, Terms};
use crate::config::{SearchConfig, StageConfig};
use crate::optim::{Outcome, Termination};
use crate::samplers::driver::{EvaluationError, Termination as SearchTermination};
use crate::samplers::{BatchRecord, Flow, Parameter, Prior, Proposal, Space, search};
use cache::{Cached, EvaluationCache, set_key};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use store::{Columns, SampleRow, SampleStore};

pub use problem_hash::problem_hash;

/// Why a search stage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchStageError {
    #[error("train stage {stage}: optimize_options.{key}: {message}")]
    Options { stage: usize, key: String, message: String },
    #[error("train stage {stage}: {message}")]
    Method { stage: usize, message: String },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(
        "train stage {stage}: evaluation {eval_id} in the samples store differs from what the method asks now; the inputs changed since it was written — use --fresh"
    )]
    Diverged { stage: usize, eval_id: u64 },
    #[error("train stage {stage}: MPI: {source}")]
    Cluster {
        stage: usize,
        #[source]
        source: crate::cluster::ClusterError,
    },
    #[error("train stage {stage}: {source}")]
    Model {
        stage: usize,
        #[source]
        source: EvaluationError,
    },
}

/// What a search stage works with.
pub struct SearchContext<'a, 'p> {
    pub number: usize,
    pub stage: &'a StageConfig,
    pub search: &'a SearchConfig,
    pub random_state: u32,
    pub store: &'a RefCell<SampleStore>,
    pub cache: &'a RefCell<EvaluationCache>,
    pub interrupt: &'a AtomicBool,
    pub progress: &'a mut (dyn FnMut(&TraceRow, &StageConfig) + 'p),
    pub trace: &'a mut Vec<TraceRow>,
    /// When the run started (the trace's clock).
    pub start: Instant,
    /// The MPI ranks that evaluate the batches (`None`: this process).
    pub team: Option<&'a dyn crate::cluster::Team>,
}

/// The searched space of `space` (the stage's controls, in their own units) with the stage's priors.
pub fn search_space(number: usize, search: &SearchConfig, space: &ControlSpace) -> Result<Space, SearchStageError> {
    let names = parameter_names(space);
    let bounds = space.bounds();
    for (name, _) in &search.priors {
        if !names.contains(name) {
            return Err(SearchStageError::Options {
                stage: number,
                key: format!("priors.{name}"),
                message: format!("'{name}' is not searched by this stage (searched: {})", names.join(", ")),
            });
        }
    }
    let mut parameters = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let distribution =
            search.priors.iter().find(|(n, _)| n == name).map_or(crate::samplers::Distribution::Uniform, |(_, d)| *d);
        let prior = Prior { distribution, lower: bounds.lower[i], upper: bounds.upper[i] };
        if !(prior.lower.is_finite() && prior.upper.is_finite()) {
            return Err(SearchStageError::Method {
                stage: number,
                message: format!(
                    "'{name}' is unbounded: derivative-free methods search within finite bounds (the uniform, distributed and zones mappings' parameters and states; not regional or ann coefficients, nor network weights: list `parameters`)"
                ),
            });
        }
        prior.check().map_err(|message| SearchStageError::Options {
            stage: number,
            key: format!("priors.{name}"),
            message: format!("{message} (bounds come from optimize_options.bounds or the defaults)"),
        })?;
        parameters.push(Parameter { name: name.clone(), prior });
    }
    Ok(Space { parameters })
}

/// The searched parameters' names: the variables' own (`cp`) for a uniform mapping, the control names
/// (`cp-3-5`, `cp-V3524010`, `cp-slope-a`) otherwise.
pub fn parameter_names(space: &ControlSpace) -> Vec<String> {
    let uniform = space.mapping == crate::calibration::control::Mapping::Uniform;
    if uniform && space.len() == space.variables.len() {
        space.variables.iter().map(|v| v.info.name.to_string()).collect()
    } else {
        space.names()
    }
}

/// Checks every search stage of `config` before the first stage runs, on the first-guess fields: its
/// searched space and its method's options (ranges included), so that a bad option of stage 3 is an error
/// before stages 1 and 2 have spent their budget. Returns the union of the searched names and of the
/// objectives (the store's columns, so every part of `samples/` has the same schema).
pub fn preflight(
    config: &crate::config::Config,
    fields: (&crate::model::Fields, &crate::model::Fields),
    domain: &crate::calibration::control::Domain,
) -> Result<Columns, SearchStageError> {
    let mut columns = Columns::default();
    for search in config.stages.iter().filter_map(|s| s.search.as_ref()) {
        columns.extend(&[], &objective_names(search));
    }
    let structure = config.structure;
    for (i, stage) in config.stages.iter().enumerate() {
        let Some(search) = &stage.search else { continue };
        let selection = stage.selection(0);
        let vars = (&structure.parameters()[..], &structure.states()[..]);
        // a space that depends on earlier stages' results is checked when its stage starts
        let Ok(space) = ControlSpace::new(stage.mapping, stage.control_tfm, &selection, vars, fields, domain) else {
            continue;
        };
        let searched = search_space(i + 1, search, &space)?;
        let names: Vec<String> = searched.parameters.iter().map(|p| p.name.clone()).collect();
        columns.extend(&names, &[]);
        search
            .method
            .build(searched, &search.options, 0, search.max_evaluations, search.objectives.len().max(1))
            .map_err(|message| SearchStageError::Method { stage: i + 1, message })?;
    }
    Ok(columns)
}

/// The names of a stage's `objectives` as the store's `obj_<name>` columns spell them (empty for one
/// objective).
pub fn objective_names(search: &SearchConfig) -> Vec<String> {
    search.objectives.iter().map(|o| o.name().to_string()).collect()
}

/// Appends what the method is told of `row`: its objectives (multi-objective stage), else its cost.
fn told(values: &mut Vec<f64>, row: &SampleRow) {
    if row.objectives.is_empty() {
        values.push(row.cost);
    } else {
        values.extend_from_slice(&row.objectives);
    }
}

/// Runs the stage's method on `problem`.
pub fn run_search(ctx: SearchContext<'_, '_>, problem: &Problem<'_>) -> Result<Outcome, SearchStageError> {
    let number = ctx.number;
    let space = search_space(number, ctx.search, problem.space)?;
    let names: Vec<String> = space.parameters.iter().map(|p| p.name.clone()).collect();
    let stage_no = number as u32;
    // objectives told per set: `K ≥ 2` for a multi-objective stage, whose rows keep them all
    let multi = ctx.search.objectives.len();
    ctx.store
        .borrow_mut()
        .set_stage_names(stage_no, names.clone(), objective_names(ctx.search))
        .map_err(|message| SearchStageError::Method { stage: number, message })?;
    let offset = ctx.store.borrow().rows_before(stage_no);
    let stored: Vec<SampleRow> = ctx.store.borrow().stage_rows(stage_no).cloned().collect();
    let mut sampler = ctx
        .search
        .method
        .build(space, &ctx.search.options, ctx.random_state, ctx.search.max_evaluations, multi.max(1))
        .map_err(|message| SearchStageError::Method { stage: number, message })?;
    // the rows of the batch being evaluated, completed by the observer once the method has been told
    let team = ctx.team;
    let scheduling = match problem.config.mpi.scheduling {
        crate::config::Scheduling::Auto => ctx.search.method.scheduling(),
        chosen => chosen,
    };
    let fresh: RefCell<Option<Vec<SampleRow>>> = RefCell::new(None);
    let failure: RefCell<Option<SearchStageError>> = RefCell::new(None);
    let batch_no = RefCell::new(0u64);
    let mut objective = |first_eval: usize, batch: &[Proposal]| -> Result<Vec<f64>, EvaluationError> {
        let ids = (first_eval..first_eval + batch.len()).map(|i| offset + i as u64);
        if first_eval + batch.len() <= stored.len() {
            let mut values = Vec::with_capacity(batch.len());
            let mut cache = ctx.cache.borrow_mut();
            for (row, p) in stored[first_eval..first_eval + batch.len()].iter().zip(batch) {
                let same = row.x.len() == p.x.len() && row.x.iter().zip(&p.x).all(|(a, b)| a.to_bits() == b.to_bits());
                if !same {
                    return Err(Box::new(SearchStageError::Diverged { stage: number, eval_id: row.eval_id }));
                }
                // the cache may have missed what the interrupted run stored last
                let key = set_key(&names, &row.x);
                if cache.get(&key).is_none() {
                    cache
                        .insert(key, Cached { cost: row.cost, terms: row.terms, objectives: row.objectives.clone() })?;
                }
                told(&mut values, row);
            }
            *fresh.borrow_mut() = None;
            return Ok(values);
        }
        let started = Instant::now();
        let mut rows: Vec<SampleRow> = ids
            .zip(batch)
            .map(|(eval_id, p)| SampleRow {
                eval_id,
                stage: stage_no,
                batch: *batch_no.borrow(),
                chain: p.chain.map(|c| c as u32),
                x: p.x.clone(),
                objectives: Vec::new(),
                cost: f64::NAN,
                terms: Terms::new(f64::NAN, f64::NAN),
                accepted: None,
                cached: false,
                seconds: 0.0,
            })
            .collect();
        let keys: Vec<_> = batch.iter().map(|p| set_key(&names, &p.x)).collect();
        let mut todo = Vec::new();
        {
            let cache = ctx.cache.borrow();
            for (k, row) in rows.iter_mut().enumerate() {
                match cache.get(&keys[k]).filter(|c| c.objectives.len() == multi) {
                    Some(c) => {
                        (row.cost, row.terms, row.objectives, row.cached) =
                            (c.cost, c.terms, c.objectives.clone(), true)
                    }
                    None => todo.push(k),
                }
            }
        }
        if !todo.is_empty() {
            let xs: Vec<&[f64]> = todo.iter().map(|&k| batch[k].x.as_slice()).collect();
            let values = match team {
                Some(team) => team
                    .evaluate_sets(problem, scheduling, &xs)
                    .map_err(|source| SearchStageError::Cluster { stage: number, source })?,
                None => problem.evaluate_batch(&xs)?.into_iter().map(Some).collect(),
            };
            let share = started.elapsed().as_secs_f64() / todo.len() as f64;
            let mut cache = ctx.cache.borrow_mut();
            for (&k, evaluated) in todo.iter().zip(values) {
                rows[k].seconds = share;
                // a set whose every attempt failed (MPI) is NaN in the store, +inf to the method, not cached
                let Some((values, terms)) = evaluated else {
                    rows[k].objectives = vec![f64::NAN; multi];
                    continue;
                };
                let cost = values[0];
                let objectives = if multi > 0 { values } else { Vec::new() };
                (rows[k].cost, rows[k].terms) = (cost, terms);
                rows[k].objectives = objectives.clone();
                cache.insert(keys[k], Cached { cost, terms, objectives })?;
            }
        }
        let mut values = Vec::with_capacity(rows.len() * multi.max(1));
        rows.iter().for_each(|r| told(&mut values, r));
        *fresh.borrow_mut() = Some(rows);
        Ok(values)
    };
    let (progress, trace, interrupt, start) = (ctx.progress, ctx.trace, ctx.interrupt, ctx.start);
    let stage = ctx.stage;
    let mut best_terms: Option<(f64, Terms)> = None;
    let mut observer = |record: &BatchRecord<'_>| -> Flow {
        *batch_no.borrow_mut() += 1;
        let told = fresh.borrow_mut().take();
        let rows =
            told.as_deref().unwrap_or_else(|| &stored[record.first_eval..record.first_eval + record.proposals.len()]);
        for r in rows {
            if best_terms.as_ref().is_none_or(|(c, _)| r.cost < *c) {
                best_terms = Some((r.cost, r.terms));
            }
        }
        if let Some(mut rows) = told {
            if let Some(accepted) = record.accepted {
                rows.iter_mut().zip(accepted).for_each(|(r, &a)| r.accepted = Some(a));
            }
            if let Err(e) = ctx.store.borrow_mut().append(rows) {
                *failure.borrow_mut() = Some(e.into());
                return Flow::Stop;
            }
        }
        let terms = best_terms.map_or(Terms::new(f64::NAN, f64::NAN), |(_, t)| t);
        let (best_x, best_cost) = record.best;
        let row = TraceRow {
            stage: number,
            iteration: record.batch + 1,
            cost: best_cost,
            jobs: terms.jobs,
            jreg: terms.jreg,
            gradient_norm: None,
            validation: terms.validation,
            seconds: start.elapsed().as_secs_f64(),
            x: (best_x.len() <= 64).then(|| best_x.to_vec()),
            evaluations: record.first_eval + record.proposals.len(),
        };
        progress(&row, stage);
        trace.push(row);
        if interrupt.load(Ordering::SeqCst) { Flow::Stop } else { Flow::Continue }
    };
    let outcome = search(sampler.as_mut(), &mut objective, ctx.search.max_evaluations, &mut observer);
    ctx.store.borrow_mut().flush()?;
    ctx.cache.borrow_mut().flush()?;
    if let Some(e) = failure.into_inner() {
        return Err(e);
    }
    let outcome = outcome.map_err(|e| match e {
        crate::samplers::driver::SearchError::Evaluation { source, .. } => {
            match source.downcast::<SearchStageError>() {
                Ok(stage_error) => *stage_error,
                Err(source) => SearchStageError::Model { stage: number, source },
            }
        }
        other => SearchStageError::Method { stage: number, message: other.to_string() },
    })?;
    Ok(Outcome {
        x: outcome.best_x,
        cost: outcome.best_value,
        iterations: outcome.batches,
        evaluations: outcome.evaluations,
        termination: match outcome.termination {
            SearchTermination::Budget => Termination::Budget,
            SearchTermination::Method(message) => Termination::Converged { message },
            SearchTermination::Interrupted => Termination::Interrupted,
        },
    })
}
