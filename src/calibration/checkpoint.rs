//! Resumable calibration: every objective evaluation and every iteration is appended to a log, flushed
//! to disk after each iteration. A restarted run replays the logged values to the (deterministic)
//! optimizers, which then request exactly the same points, so it continues from the last completed
//! iteration and ends bit-identical to an uninterrupted run, whatever optimizer state (L-BFGS-B memory,
//! Adam moments, SBS step) it had.
//!
//! Format: JSON lines (`serde_json` writes every f64 so that it reads back exactly). The first line is a
//! header naming the configuration; a torn last line (a kill during a write) is ignored.

use super::objective::Terms;
use crate::optim::{Evaluation, Objective, ObjectiveError};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Why a checkpoint cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} holds a calibration of another configuration (hash {found}, this one is {expected}); use --fresh to start over or another --out",
        path.display()
    )]
    OtherConfig { path: PathBuf, found: String, expected: String },
    #[error("{}: line {line} is not a checkpoint record ({message})", path.display())]
    Corrupt { path: PathBuf, line: usize, message: String },
    #[error(
        "{}: the replayed run diverged from the log at evaluation {index} (stage {stage}); the inputs changed since it was written — use --fresh",
        path.display()
    )]
    Diverged { path: PathBuf, index: usize, stage: usize },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    hydrograd: String,
    config_hash: String,
}

/// One objective evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedEvaluation {
    pub stage: usize,
    pub x: Vec<f64>,
    pub cost: f64,
    pub gradient: Option<Vec<f64>>,
    pub terms: Terms,
}

/// One iteration of the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceRow {
    /// 1-based stage number.
    pub stage: usize,
    /// Iteration as smash counts it; 0 is the first guess.
    pub iteration: usize,
    pub cost: f64,
    pub jobs: f64,
    pub jreg: f64,
    pub gradient_norm: Option<f64>,
    /// The validation cost (`[validation]`) at this iteration.
    #[serde(default)]
    pub validation: Option<f64>,
    /// Wall-clock seconds since the run started (the original run's, for replayed rows).
    pub seconds: f64,
    /// Control values at this iteration when the stage has at most 64 controls.
    pub x: Option<Vec<f64>>,
    /// Objective evaluations of the stage so far.
    #[serde(default)]
    pub evaluations: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Record {
    Evaluation(LoggedEvaluation),
    Iteration(TraceRow),
    /// The run completed; the outputs were written.
    Finished,
    /// A seed drawn for a stage's initialization (`what`: `weights` or `biases`), replayed on resume.
    RandomState {
        stage: usize,
        what: String,
        value: u32,
    },
}

/// The log of one calibration run.
pub struct EvaluationLog {
    path: Option<PathBuf>,
    file: Option<File>,
    evaluations: Vec<LoggedEvaluation>,
    iterations: Vec<TraceRow>,
    /// How many logged evaluations / iterations have been replayed.
    next_evaluation: usize,
    next_iteration: usize,
    pending: Vec<Record>,
    finished: bool,
    /// Seeds drawn by the run, `(stage, what) → seed`.
    random_states: HashMap<(usize, String), u32>,
    /// The terms of every point evaluated in this process, by [`point_key`].
    terms: HashMap<u64, Terms>,
}

/// A hash of the bits of `x`.
fn point_key(x: &[f64]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in x {
        v.to_bits().hash(&mut h);
    }
    h.finish()
}

impl EvaluationLog {
    /// A log kept in memory only.
    pub fn in_memory() -> EvaluationLog {
        EvaluationLog {
            path: None,
            file: None,
            evaluations: Vec::new(),
            iterations: Vec::new(),
            next_evaluation: 0,
            next_iteration: 0,
            pending: Vec::new(),
            finished: false,
            random_states: HashMap::new(),
            terms: HashMap::new(),
        }
    }

    /// Opens the log at `path`, reading what an earlier run of the same configuration wrote, or starts
    /// one (`fresh` discards an existing log).
    pub fn open(path: &Path, config_hash: &str, fresh: bool) -> Result<EvaluationLog, CheckpointError> {
        let io = |source| CheckpointError::Io { path: path.to_path_buf(), source };
        let mut log = EvaluationLog { path: Some(path.to_path_buf()), ..EvaluationLog::in_memory() };
        if fresh {
            // the samples and saved runs of the discarded run go with it
            for dir in [log.samples_dir(), log.runs_dir()].into_iter().flatten() {
                match std::fs::remove_dir_all(&dir) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(CheckpointError::Io { path: dir, source: e });
                    }
                    _ => {}
                }
            }
        }
        if fresh || !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let header = Header { hydrograd: env!("CARGO_PKG_VERSION").into(), config_hash: config_hash.into() };
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, format!("{}\n", serde_json::to_string(&header).expect("header serializes")))
                .map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)?;
        } else {
            let reader = BufReader::new(File::open(path).map_err(io)?);
            let mut valid_bytes = 0u64;
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(io)?;
                let text = String::from_utf8_lossy(&line);
                if i == 0 {
                    let header: Header = serde_json::from_str(&text).map_err(|e| CheckpointError::Corrupt {
                        path: path.into(),
                        line: 1,
                        message: e.to_string(),
                    })?;
                    if header.config_hash != config_hash {
                        return Err(CheckpointError::OtherConfig {
                            path: path.into(),
                            found: header.config_hash,
                            expected: config_hash.into(),
                        });
                    }
                } else {
                    match serde_json::from_str::<Record>(&text) {
                        Ok(Record::Evaluation(e)) => log.evaluations.push(e),
                        Ok(Record::Iteration(r)) => log.iterations.push(r),
                        Ok(Record::Finished) => log.finished = true,
                        Ok(Record::RandomState { stage, what, value }) => {
                            log.random_states.insert((stage, what), value);
                        }
                        // a torn last record: the run was killed while writing it
                        Err(_) => break,
                    }
                }
                valid_bytes += line.len() as u64 + 1;
            }
            // drop a torn tail so that appends start on a clean line
            let file = OpenOptions::new().write(true).open(path).map_err(io)?;
            file.set_len(valid_bytes).map_err(io)?;
            // an iteration record is written after the evaluations it used: evaluations past the last
            // iteration are kept (they replay too), the run simply re-enters that iteration
        }
        log.file = Some(OpenOptions::new().append(true).open(path).map_err(io)?);
        Ok(log)
    }

    /// The run store of the search stages, `DIR/samples` beside the log's `DIR/.train`; `None` in memory.
    pub fn samples_dir(&self) -> Option<PathBuf> {
        Some(self.path.as_ref()?.parent()?.parent()?.join("samples"))
    }

    /// The saved runs of the search stages (`save_runs`), `DIR/runs`; `None` in memory.
    pub fn runs_dir(&self) -> Option<PathBuf> {
        Some(self.path.as_ref()?.parent()?.parent()?.join("runs"))
    }

    /// The terms of the cost at a point evaluated earlier.
    pub fn terms_at(&self, x: &[f64]) -> Option<Terms> {
        self.terms.get(&point_key(x)).copied()
    }

    /// Whether the logged run completed.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Logged evaluations and iterations (what a resumed run starts from).
    pub fn logged(&self) -> (usize, usize) {
        (self.evaluations.len(), self.iterations.len())
    }

    /// The logged trace row of the next iteration, if it was logged (a replay).
    pub fn replayed_iteration(&mut self) -> Option<TraceRow> {
        let row = self.iterations.get(self.next_iteration).cloned();
        if row.is_some() {
            self.next_iteration += 1;
        }
        row
    }

    /// Records a new iteration and flushes everything pending to disk.
    pub fn record_iteration(&mut self, row: TraceRow) -> Result<(), CheckpointError> {
        self.iterations.push(row.clone());
        self.next_iteration = self.iterations.len();
        self.pending.push(Record::Iteration(row));
        self.flush()
    }

    /// The seed of stage `stage`'s `what` initialization: the logged one on a resumed run, else `draw()`,
    /// logged and flushed at once.
    pub fn random_state(
        &mut self,
        stage: usize,
        what: &str,
        draw: impl FnOnce() -> u32,
    ) -> Result<u32, CheckpointError> {
        if let Some(&value) = self.random_states.get(&(stage, what.to_string())) {
            return Ok(value);
        }
        let value = draw();
        self.random_states.insert((stage, what.to_string()), value);
        self.pending.push(Record::RandomState { stage, what: what.to_string(), value });
        self.flush()?;
        Ok(value)
    }

    /// Marks the run finished.
    pub fn record_finished(&mut self) -> Result<(), CheckpointError> {
        self.finished = true;
        self.pending.push(Record::Finished);
        self.flush()
    }

    fn flush(&mut self) -> Result<(), CheckpointError> {
        let (Some(file), Some(path)) = (&mut self.file, &self.path) else {
            self.pending.clear();
            return Ok(());
        };
        let mut text = String::new();
        for r in self.pending.drain(..) {
            text.push_str(&serde_json::to_string(&r).expect("records serialize"));
            text.push('\n');
        }
        let io = |source| CheckpointError::Io { path: path.clone(), source };
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)
    }
}

/// An objective that reports the terms of its last evaluation.
pub trait HasTerms {
    fn terms(&self) -> Terms;
    fn set_terms(&mut self, terms: Terms);
}

/// An objective replaying logged evaluations, then evaluating and logging new ones.
pub struct Replay<'a, O> {
    pub log: &'a RefCell<EvaluationLog>,
    pub inner: &'a mut O,
    /// 1-based stage number.
    pub stage: usize,
}

impl<O: Objective + HasTerms> Objective for Replay<'_, O> {
    fn evaluate(&mut self, x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError> {
        let mut log = self.log.borrow_mut();
        let log = &mut *log;
        if let Some(e) = log.evaluations.get(log.next_evaluation) {
            let same = e.stage == self.stage
                && e.x.len() == x.len()
                && e.x.iter().zip(x).all(|(a, b)| a.to_bits() == b.to_bits())
                && (!gradient || e.gradient.is_some());
            if !same {
                return Err(ObjectiveError::new(CheckpointError::Diverged {
                    path: log.path.clone().unwrap_or_default(),
                    index: log.next_evaluation,
                    stage: self.stage,
                }));
            }
            log.next_evaluation += 1;
            self.inner.set_terms(e.terms);
            log.terms.insert(point_key(x), e.terms);
            return Ok(Evaluation { cost: e.cost, gradient: if gradient { e.gradient.clone() } else { None } });
        }
        let out = self.inner.evaluate(x, gradient)?;
        log.terms.insert(point_key(x), self.inner.terms());
        let entry = LoggedEvaluation {
            stage: self.stage,
            x: x.to_vec(),
            cost: out.cost,
            gradient: out.gradient.clone(),
            terms: self.inner.terms(),
        };
        log.evaluations.push(entry.clone());
        log.next_evaluation = log.evaluations.len();
        log.pending.push(Record::Evaluation(entry));
        Ok(out)
    }
}
