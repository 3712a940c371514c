//! `hydrograd train`: the `[[train.stage]]` list run in order, each stage starting from the previous
//! stage's result (smash's `optimize` called once per stage).

use super::checkpoint::{EvaluationLog, Replay, TraceRow};
use super::control::{ControlError, ControlSpace, Domain, Mapping, ZoneError, Zones};
use super::cost::{CalibrationCostError, GaugeCost};
use super::objective::{Problem, Spread, Spreading, Terms};
use super::search::cache::EvaluationCache;
use super::search::finish::finish;
use super::search::store::{SampleStore, StoreError};
use super::search::summary::SearchSummary;
use super::search::{SearchContext, SearchStageError, preflight, problem_hash, run_search};
use crate::cluster::catchments::{Share, gauges_per_rank, spreadable};
use crate::cluster::{StageSetup, Team};
use crate::config::{Config, StageConfig};
use crate::cost::RegWeight;
use crate::model::initializer::{Tensors, initialize};
use crate::model::{Fields, Inputs, initial_fields};
use crate::optim::{self, AdaptiveOptions, Bounds, Flow, Iteration, Objective, OptimError, Outcome, TerminationCrit};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Why training failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error("{}: no [[train.stage]] to run", path.display())]
    NoStage { path: std::path::PathBuf },
    #[error("train stage {stage}: {source}")]
    Control {
        stage: usize,
        #[source]
        source: ControlError,
    },
    #[error(transparent)]
    Cost(#[from] CalibrationCostError),
    #[error("train stage {stage}: {source}")]
    Optimizer {
        stage: usize,
        #[source]
        source: OptimError,
    },
    #[error(transparent)]
    Model(#[from] crate::Error),
    #[error(transparent)]
    Checkpoint(#[from] super::checkpoint::CheckpointError),
    #[error(transparent)]
    Search(#[from] SearchStageError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a stage did.
#[derive(Debug, Clone)]
pub struct StageSummary {
    pub optimizer: String,
    pub mapping: &'static str,
    /// Control names (smash's), `[n]`.
    pub names: Vec<String>,
    pub outcome: Outcome,
    /// The regularization weight used.
    pub wjreg: f64,
    /// The validation cost (`[validation]`) at the stage's result.
    pub validation: Option<f64>,
}

impl std::fmt::Display for StageSummary {
    /// `uniform sbs on 4 controls: J 0.036728 after 8 iterations (240 evaluations, StepSize)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let o = &self.outcome;
        write!(
            f,
            "{} {} on {} controls: J {:.6} after {} iterations ({} evaluations, {:?})",
            self.mapping,
            self.optimizer,
            self.names.len(),
            o.cost,
            o.iterations,
            o.evaluations,
            o.termination
        )?;
        if self.wjreg > 0.0 {
            write!(f, ", wjreg {:.4e}", self.wjreg)?;
        }
        if let Some(v) = self.validation {
            write!(f, "; validation J {v:.6}")?;
        }
        Ok(())
    }
}

/// The result of training.
pub struct Trained {
    pub first_guess: (Fields, Fields),
    pub parameters: Fields,
    pub states: Fields,
    pub stages: Vec<StageSummary>,
    pub trace: Vec<TraceRow>,
    /// The diagnostics of each search stage, in the order they ran.
    pub search: Vec<SearchSummary>,
    /// Ctrl-C stopped the run: the result is the best point so far.
    pub interrupted: bool,
}

/// Controls per stage up to which the trace records the control values.
const TRACE_CONTROLS: usize = 64;

/// Runs every stage of `config` on `inputs`. `log` replays an interrupted run and records this one;
/// `interrupt` (Ctrl-C) stops at the next iteration; `progress` sees every trace row; `team` spreads the
/// search stages' evaluations over MPI ranks (`None`: this process alone).
pub fn train(
    config: &Config,
    inputs: &Inputs,
    log: &RefCell<EvaluationLog>,
    interrupt: &AtomicBool,
    progress: &mut dyn FnMut(&TraceRow, &StageConfig),
    team: Option<&dyn Team>,
) -> Result<Trained, TrainError> {
    if config.stages.is_empty() {
        return Err(TrainError::NoStage { path: config.path.clone() });
    }
    let start = Instant::now();
    let (mut parameters, mut states) = initial_fields(config, inputs)?;
    let first_guess = (parameters.clone(), states.clone());
    let mut summaries = Vec::new();
    let mut searches = Vec::new();
    let mut trace = Vec::new();
    let mut interrupted = false;
    let domain = Domain::of(config, inputs);
    check_zones(config, &domain)?;
    let validation =
        config.validation.as_ref().map(|raw| GaugeCost::new(config, inputs, raw, "validation")).transpose()?;
    let samples_dir = log.borrow().samples_dir();
    let searching = config.stages.iter().any(|s| s.search.is_some());
    let columns = if searching { preflight(config, (&parameters, &states), &domain)? } else { Default::default() };
    let store = RefCell::new(match &samples_dir {
        Some(dir) if searching => SampleStore::open(dir, &config.hash, columns)?,
        _ => SampleStore::in_memory(&config.hash),
    });
    for (i, stage) in config.stages.iter().enumerate() {
        let number = i + 1;
        initialize_network(config, stage, number, log, &mut parameters.weights)?;
        let cost = stage_cost(config, inputs, stage, number)?;
        let random_state = match (stage.mapping, stage.random_state) {
            (Mapping::Ann, None) => log.borrow_mut().random_state(number, "ann", clock_seed)?,
            (_, None) if stage.search.is_some() => log.borrow_mut().random_state(number, "search", clock_seed)?,
            (_, seed) => seed.unwrap_or(0),
        };
        let space = stage_space(config, (stage, number), random_state, (&parameters, &states), &domain)?;
        let fields = (parameters.clone(), states.clone());
        let single = config.precision == crate::config::Precision::F32;
        let mut run =
            StageRun { number, stage, space: &space, log, interrupt, progress, trace: &mut trace, start, single };
        let wjreg = match cost.options.wjreg {
            RegWeight::Value(w) => w,
            RegWeight::Fast | RegWeight::Lcurve if stage.search.is_some() => {
                let message =
                    "a derivative-free stage takes a numeric wjreg (fast and lcurve need a gradient optimizer)";
                return Err(SearchStageError::Method { stage: number, message: message.into() }.into());
            }
            RegWeight::Fast => {
                let mut problem = Problem::new(config, inputs, &space, fields.clone(), &cost, 0.0)
                    .with_validation(validation.as_ref());
                run.fast_wjreg(&mut problem)?
            }
            RegWeight::Lcurve => {
                let mut problem = Problem::new(config, inputs, &space, fields.clone(), &cost, 0.0)
                    .with_validation(validation.as_ref());
                run.lcurve_wjreg(&mut problem, config, inputs, &cost, &fields)?
            }
        };
        let mut problem =
            Problem::new(config, inputs, &space, fields, &cost, wjreg).with_validation(validation.as_ref());
        let (outcome, validation_cost) = match &stage.search {
            None => {
                let spread = match team {
                    Some(team) if spreadable(inputs, &cost, team.size()) => {
                        let (parameters, states) = (problem.parameters.clone(), problem.states.clone());
                        let setup = StageSetup { number, random_state, wjreg, parameters, states, catchments: true };
                        let share = Share::new(config, inputs, (&stage.cost_options, &cost), team.size(), 0)?;
                        let gauges = gauges_per_rank(inputs, team.size());
                        team.begin_catchments(&setup, share, gauges)
                            .map_err(|e| SearchStageError::Cluster { stage: number, source: e })?;
                        Some(team)
                    }
                    _ => None,
                };
                let outcome = run.optimize(&mut problem, spread.map(|t| t as &dyn Spread))?;
                if let Some(team) = spread {
                    team.end_stage().map_err(|e| SearchStageError::Cluster { stage: number, source: e })?;
                }
                let v = log.borrow().terms_at(&outcome.x).and_then(|t| t.validation);
                (outcome, v)
            }
            Some(search) => {
                if let Some(team) = team {
                    let (parameters, states) = (problem.parameters.clone(), problem.states.clone());
                    let setup = StageSetup { number, random_state, wjreg, parameters, states, catchments: false };
                    team.begin_stage(&setup).map_err(|e| SearchStageError::Cluster { stage: number, source: e })?;
                }
                let cache = RefCell::new(match &samples_dir {
                    Some(_) => EvaluationCache::open(
                        &config.cache_directory.join("evaluations"),
                        &problem_hash(&problem, stage),
                    ),
                    None => EvaluationCache::in_memory(),
                });
                let ctx = SearchContext {
                    number,
                    stage,
                    search,
                    random_state,
                    store: &store,
                    cache: &cache,
                    interrupt,
                    progress: &mut *run.progress,
                    trace: &mut *run.trace,
                    start,
                    team,
                };
                let mut outcome = run_search(ctx, &problem)?;
                let dir = log.borrow().runs_dir().and_then(|d| d.parent().map(|p| p.to_path_buf()));
                let done = finish(number, search, &store.borrow(), &problem, &mut outcome, dir.as_deref())?;
                if let Some(team) = team {
                    team.end_stage().map_err(|e| SearchStageError::Cluster { stage: number, source: e })?;
                }
                searches.push(done.summary);
                (outcome, done.validation)
            }
        };
        interrupted |= outcome.termination == optim::Termination::Interrupted;
        (parameters, states) = problem.fields(&outcome.x);
        // a network no longer describes variables that another mapping has since changed
        let remapped = |ann: &crate::model::ann::AnnWeights| {
            stage.mapping != Mapping::Ann
                && space.variables.iter().any(|v| ann.variables.iter().any(|n| n == v.info.name))
        };
        if parameters.ann.as_ref().is_some_and(remapped) {
            parameters.ann = None;
        }
        summaries.push(StageSummary {
            optimizer: stage.optimizer_name().to_string(),
            mapping: stage.mapping.name(),
            names: space.names(),
            outcome,
            wjreg,
            validation: validation_cost,
        });
        if interrupted {
            break;
        }
    }
    Ok(Trained { first_guess, parameters, states, stages: summaries, trace, search: searches, interrupted })
}

/// The cost stage `number` minimises: its `cost_options`, or the SPOTPY objectives of a search stage.
pub fn stage_cost(
    config: &Config,
    inputs: &Inputs,
    stage: &StageConfig,
    number: usize,
) -> Result<GaugeCost, TrainError> {
    let section = format!("train.stage {number}: cost_options");
    let cost = GaugeCost::new(config, inputs, &stage.cost_options, &section)?;
    Ok(match stage.search.as_ref().map(|s| s.spotpy()) {
        Some(objectives) if !objectives.is_empty() => cost.with_objectives(objectives, inputs),
        _ => cost,
    })
}

/// The controls of stage `number` starting from `fields`, with the seed `random_state` of its selection.
pub fn stage_space(
    config: &Config,
    (stage, number): (&StageConfig, usize),
    random_state: u32,
    fields: (&Fields, &Fields),
    domain: &Domain<'_>,
) -> Result<ControlSpace, TrainError> {
    let structure = config.structure;
    let vars = (&structure.parameters()[..], &structure.states()[..]);
    ControlSpace::new(stage.mapping, stage.control_tfm, &stage.selection(random_state), vars, fields, domain)
        .map_err(|source| TrainError::Control { stage: number, source })
}

/// Draws the network weights and biases of `[train.stage.init]` before stage `number`. A missing
/// `random_state` is drawn from the clock once and kept in the log, so a resumed run draws the same.
fn initialize_network(
    config: &Config,
    stage: &StageConfig,
    number: usize,
    log: &RefCell<EvaluationLog>,
    weights: &mut [f64],
) -> Result<(), TrainError> {
    let Some(shape) = config.structure.hydrology.net() else { return Ok(()) };
    for (which, what, spec) in
        [(Tensors::Weights, "weights", &stage.init.weights), (Tensors::Biases, "biases", &stage.init.biases)]
    {
        let Some(spec) = spec else { continue };
        let seed = match spec.random_state {
            Some(seed) => seed,
            None => log.borrow_mut().random_state(number, what, clock_seed)?,
        };
        initialize(weights, shape, which, spec, seed);
    }
    Ok(())
}

/// A seed from the clock's nanoseconds.
/// Builds the zones of every `zones` stage before the first stage runs, so that a bad raster of zone ids or
/// a gauge layout without sub-catchments is an error before earlier stages have spent their time.
fn check_zones(config: &Config, domain: &Domain<'_>) -> Result<(), TrainError> {
    for (i, stage) in config.stages.iter().enumerate().filter(|(_, s)| s.mapping == Mapping::Zones) {
        let source = stage.zones.clone().unwrap_or_default();
        let zones = domain.mesh.ok_or(ZoneError::NoMesh).and_then(|mesh| Zones::new(&source, mesh));
        zones.map_err(|e| TrainError::Control { stage: i + 1, source: e.into() })?;
    }
    Ok(())
}

fn clock_seed() -> u32 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (now.as_nanos() % (1u128 << 32)) as u32
}

/// One stage's optimizer runs, with their trace.
struct StageRun<'a, 'p> {
    number: usize,
    stage: &'a StageConfig,
    space: &'a ControlSpace,
    log: &'a RefCell<EvaluationLog>,
    interrupt: &'a AtomicBool,
    progress: &'a mut (dyn FnMut(&TraceRow, &StageConfig) + 'p),
    trace: &'a mut Vec<TraceRow>,
    start: Instant,
    /// f32 runs keep SBS's control values in single precision, as smash.
    single: bool,
}

impl StageRun<'_, '_> {
    /// Runs the stage's optimizer from the first guess of `problem`.
    /// Runs the stage's optimizer on `problem`, its `J_obs` from `spread` when given (multi-catchment).
    fn optimize(&mut self, problem: &mut Problem<'_>, spread: Option<&dyn Spread>) -> Result<Outcome, TrainError> {
        let x0 = self.space.first_guess(&problem.parameters, &problem.states);
        let bounds = self.space.bounds();
        let (log, number, stage) = (self.log, self.number, self.stage);
        let (interrupt, start) = (self.interrupt, self.start);
        let trace = &mut *self.trace;
        let progress = &mut *self.progress;
        let mut failure = None;
        let mut observer = |it: &Iteration<'_>| {
            let mut log = log.borrow_mut();
            let row = match log.replayed_iteration() {
                Some(row) => row,
                None => {
                    let terms = log.terms_at(it.x).unwrap_or(Terms::new(f64::NAN, f64::NAN));
                    let row = TraceRow {
                        stage: number,
                        iteration: it.index,
                        cost: it.cost,
                        jobs: terms.jobs,
                        jreg: terms.jreg,
                        gradient_norm: it.gradient_norm,
                        validation: terms.validation,
                        seconds: start.elapsed().as_secs_f64(),
                        x: (it.x.len() <= TRACE_CONTROLS).then(|| it.x.to_vec()),
                        evaluations: it.evaluations,
                    };
                    if let Err(e) = log.record_iteration(row.clone()) {
                        failure = Some(e);
                        return Flow::Stop;
                    }
                    row
                }
            };
            progress(&row, stage);
            trace.push(row);
            if interrupt.load(Ordering::SeqCst) { Flow::Stop } else { Flow::Continue }
        };
        let outcome = match spread {
            Some(spread) => {
                let mut inner = Spreading { problem, spread };
                let mut objective = Replay { log, inner: &mut inner, stage: number };
                run_optimizer(stage, self.single, &x0, &bounds, &mut objective, &mut observer)
            }
            None => {
                let mut objective = Replay { log, inner: problem, stage: number };
                run_optimizer(stage, self.single, &x0, &bounds, &mut objective, &mut observer)
            }
        };
        if let Some(e) = failure {
            return Err(e.into());
        }
        outcome.map_err(|source| TrainError::Optimizer { stage: number, source })
    }

    /// smash's `wjreg = 'fast'`: `(J_obs(x₀) − J_obs(x*))/J_reg(x*)` with `x*` optimized without
    /// regularization.
    fn fast_wjreg(&mut self, problem: &mut Problem<'_>) -> Result<f64, TrainError> {
        let x0 = self.space.first_guess(&problem.parameters, &problem.states);
        let j0 = self.evaluate(problem, &x0)?.jobs;
        let outcome = self.optimize(problem, None)?;
        let star = self.evaluate_with_jreg(problem, &outcome.x)?;
        Ok(if star.jreg > 0.0 { ((j0 - star.jobs) / star.jreg).max(0.0) } else { 0.0 })
    }

    /// smash's `wjreg = 'lcurve'`: the weight, among `10^(log10(w_fast) + {−0.66, −0.33, 0, 0.33, 0.66})`,
    /// whose `(J_obs, J_reg)` point lies farthest below the diagonal of the normalised L-curve.
    fn lcurve_wjreg(
        &mut self,
        problem: &mut Problem<'_>,
        config: &Config,
        inputs: &Inputs,
        cost: &GaugeCost,
        fields: &(Fields, Fields),
    ) -> Result<f64, TrainError> {
        let x0 = self.space.first_guess(&problem.parameters, &problem.states);
        let j0 = self.evaluate(problem, &x0)?.jobs;
        let outcome = self.optimize(problem, None)?;
        let star = self.evaluate_with_jreg(problem, &outcome.x)?;
        if star.jreg <= 0.0 {
            return Ok(0.0);
        }
        let w_fast = ((j0 - star.jobs) / star.jreg).max(f64::MIN_POSITIVE);
        let mut points = vec![(0.0, star)];
        for shift in [-0.66, -0.33, 0.0, 0.33, 0.66] {
            let w = 10f64.powf(w_fast.log10() + shift);
            let mut p =
                Problem::new(config, inputs, self.space, fields.clone(), cost, w).with_validation(problem.validation);
            let o = self.optimize(&mut p, None)?;
            points.push((w, self.evaluate_with_jreg(&mut p, &o.x)?));
        }
        Ok(lcurve_best(&points))
    }

    fn evaluate(&mut self, problem: &mut Problem<'_>, x: &[f64]) -> Result<Terms, TrainError> {
        let mut objective = Replay { log: self.log, inner: problem, stage: self.number };
        objective.evaluate(x, false).map_err(|e| TrainError::Optimizer {
            stage: self.number,
            source: OptimError::Objective { iteration: 0, evaluation: 0, source: e },
        })?;
        Ok(objective.inner.last)
    }

    /// The terms at `x` with `J_reg` computed even when the problem's weight is 0.
    fn evaluate_with_jreg(&mut self, problem: &mut Problem<'_>, x: &[f64]) -> Result<Terms, TrainError> {
        let jobs = self.evaluate(problem, x)?.jobs;
        Ok(Terms::new(jobs, problem.jreg_at(x)))
    }
}

/// The L-curve choice (smash's `_get_lcurve_wjreg_best`) among `(w, terms)`; the first point is the
/// unregularized optimum.
fn lcurve_best(points: &[(f64, Terms)]) -> f64 {
    let (jobs_min, jobs_max) =
        points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, t)| (a.min(t.jobs), b.max(t.jobs)));
    let (jreg_min, jreg_max) =
        points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, t)| (a.min(t.jreg), b.max(t.jreg)));
    if !(jobs_max > 0.0 && jobs_min / jobs_max < 0.95 && jreg_max > 0.0) {
        return points.last().map_or(0.0, |p| p.0);
    }
    let (mut best, mut best_distance) = (points[0].0, f64::NEG_INFINITY);
    for &(w, t) in &points[1..] {
        let y = (t.jreg - jreg_min) / (jreg_max - jreg_min);
        let x = (jobs_max - t.jobs) / (jobs_max - jobs_min);
        let hyp = (x * x + y * y).sqrt();
        if y < x && hyp > 0.0 {
            let distance = hyp * (std::f64::consts::FRAC_PI_4 - (x / hyp).acos()).sin();
            if distance > best_distance {
                best_distance = distance;
                best = w;
            }
        }
    }
    best
}

/// Dispatches to the stage's optimizer.
fn run_optimizer(
    stage: &StageConfig,
    single_precision: bool,
    x0: &[f64],
    bounds: &Bounds,
    objective: &mut dyn Objective,
    observer: &mut dyn optim::Observer,
) -> Result<Outcome, OptimError> {
    match (&stage.termination, stage.optimizer.adaptive()) {
        (TerminationCrit::Sbs(o), _) => {
            let o = optim::SbsOptions { single_precision, ..o.clone() };
            optim::sbs(x0, bounds, &o, objective, observer)
        }
        (TerminationCrit::Lbfgsb(o), _) => optim::lbfgsb(x0, bounds, o, objective, observer),
        (TerminationCrit::Adaptive(crit), Some(kind)) => {
            optim::adaptive(kind, x0, bounds, &AdaptiveOptions::new(stage.learning_rate, crit), objective, observer)
        }
        (TerminationCrit::Adaptive(_), None) => unreachable!("adaptive criteria come with an adaptive optimizer"),
        (TerminationCrit::Search, _) => unreachable!("search stages run through calibration::search"),
    }
}
