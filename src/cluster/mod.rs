//! Scale-out over MPI ranks (`mpirun -np R hydrograd train CONFIG`, cargo feature `mpi`).
//!
//! Every rank reads the config and the inputs. Rank 0 runs the stages as a single process would: it alone
//! runs the methods, keeps the run store and writes outputs. When a search stage starts, rank 0 sends the
//! other ranks the stage's problem ([`StageSetup`]: the fields it starts from, its seed and `wjreg`), and they
//! build it as rank 0 did; each batch's sets that are not cached are then cut into chunks
//! ([`schedule::cut`]) and evaluated by the ranks, rank 0 included (on a thread of its own, while its main
//! thread serves the others). Values come back in proposal order, so the method, the store and the result
//! are those of one process at any rank count.
//!
//! An evaluation that fails or is overdue (`[mpi] run_timeout_factor` × the median time per set) is
//! re-issued to another rank, up to `max_run_fail` attempts, then recorded as failed (`+inf` to the method,
//! NaN in the store). A rank that stops answering gets no more work; at the end, rank 0 ends the MPI job
//! with `MPI_Abort` (exit status 0) once its outputs are written, so no rank hangs.

pub mod catchments;
pub mod fault;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod schedule;
pub mod wire;

use crate::calibration::objective::{Problem, Spread};
use crate::config::Scheduling;
use crate::model::Fields;
pub use wire::Evaluated;

/// What the other ranks need to build a search stage's problem as rank 0 did.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSetup {
    /// 1-based stage number.
    pub number: usize,
    pub random_state: u32,
    pub wjreg: f64,
    /// The fields the stage starts from, `[V, N]` each.
    pub parameters: Fields,
    pub states: Fields,
    /// A gradient stage spread over the ranks by catchment ([`catchments`]); a search stage otherwise.
    pub catchments: bool,
}

/// Why the ranks could not work together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    #[error("rank {rank}: {message}")]
    Protocol { rank: usize, message: String },
}

/// The ranks of a run as rank 0 sees them; as a [`Spread`], the `J_obs` of a multi-catchment stage.
pub trait Team: Spread {
    /// The number of ranks, rank 0 included.
    fn size(&self) -> usize;

    /// Sends every other rank the problem of the search stage that starts.
    fn begin_stage(&self, setup: &StageSetup) -> Result<(), ClusterError>;

    /// The values and terms of each of `xs` ([`Problem::evaluate_batch`]), evaluated over the ranks with
    /// `scheduling` (resolved, not `Auto`), in the order of `xs`; `None` for a set whose evaluation failed
    /// `[mpi] max_run_fail` times.
    fn evaluate_sets(
        &self,
        problem: &Problem<'_>,
        scheduling: Scheduling,
        xs: &[&[f64]],
    ) -> Result<Vec<Option<Evaluated>>, ClusterError>;

    /// Starts a multi-catchment gradient stage: the other ranks build it and their share; `share` is rank
    /// 0's, `gauges` every rank's gauges ([`catchments::gauges_per_rank`]).
    fn begin_catchments(
        &self,
        setup: &StageSetup,
        share: catchments::Share,
        gauges: Vec<Vec<usize>>,
    ) -> Result<(), ClusterError>;

    /// Tells the other ranks the stage is over.
    fn end_stage(&self) -> Result<(), ClusterError>;
}
