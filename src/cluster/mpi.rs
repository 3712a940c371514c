//! The MPI transport (rsmpi over the system's MPI): start-up, rank 0's side of the protocol
//! ([`MpiTeam`], a [`Team`]) and the workers' ([`worker`]).
//!
//! Every message is bytes ([`Message`]) under one tag. Rank 0 never blocks on another rank: it sends with
//! non-blocking requests and polls for answers (`MPI_Improbe`), sleeping briefly when there is none, so that
//! a stopped or dead worker cannot stall it and, on a small machine, its polling does not take a core from
//! the ranks that evaluate. MPI is initialized with `MPI_THREAD_FUNNELED`: only the main thread of a rank
//! calls MPI; rank 0 evaluates its own chunks on a second thread.

pub mod worker;

use super::catchments::{Partial, Share, reduce};
use super::schedule::{Dispatch, Timing, cut};
use super::wire::{Evaluated, Message};
use super::{ClusterError, StageSetup, Team};
use crate::calibration::objective::{Problem, Spread};
use crate::config::{MpiOptions, Scheduling};
use mpi::environment::Universe;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::request::{Request, StaticScope};
use mpi::topology::{Communicator, SimpleCommunicator};
use std::cell::RefCell;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The one tag of every message.
const TAG: i32 = 7;

/// How long rank 0 waits for the workers to confirm the end of the run before it ends the job itself.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Whether this process was started by an MPI launcher (`mpirun`, `srun`, `mpiexec`).
pub fn launched() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"].iter().any(|k| std::env::var_os(k).is_some())
}

/// Ranks of this run on this machine (to share its cores), 1 when unknown.
pub fn local_ranks() -> usize {
    ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]
        .iter()
        .find_map(|k| std::env::var(k).ok()?.parse().ok())
        .unwrap_or(1)
}

/// This process's part in an MPI run.
pub enum Role {
    /// Rank 0 of `R ≥ 2` ranks.
    Master(Box<MpiTeam>),
    /// Rank `r ≥ 1`: evaluates what rank 0 sends ([`worker::serve`]).
    Worker(worker::Worker),
}

/// Initializes MPI when launched by `mpirun` with at least 2 ranks; `None` otherwise (one process, with or
/// without a launcher: it runs as without MPI).
pub fn init(options: MpiOptions, names: Vec<&'static str>) -> Option<Role> {
    if !launched() {
        return None;
    }
    let (universe, _threading) = mpi::initialize_with_threading(mpi::Threading::Funneled)?;
    let world = universe.world();
    if world.size() < 2 {
        return None;
    }
    abort_on_panic();
    Some(if world.rank() == 0 {
        let ranks = (0..world.size() as usize).map(|_| RankState::Free).collect();
        let state = State { ranks, timing: Timing::default(), stats: Stats::new(world.size() as usize), next_task: 0 };
        Role::Master(Box::new(MpiTeam {
            universe,
            world,
            options,
            names,
            state: RefCell::new(state),
            outbox: Outbox::default(),
            catchments: RefCell::new(None),
        }))
    } else {
        Role::Worker(worker::Worker::new(universe, world, names))
    })
}

/// Makes a panic on any rank end the whole job (`MPI_Abort`, exit status 101) once it is reported, so that
/// the other ranks do not wait for it forever.
fn abort_on_panic() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        SimpleCommunicator::world().abort(101)
    }));
}

/// What rank 0 knows of a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RankState {
    Free,
    Busy,
    /// Its last task was given up on (overdue): no more work until it answers.
    Overdue,
    /// Overdue when a stage started, so left out of it and of every later stage.
    Retired,
}

/// Counts over the run, printed at the end.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Sets evaluated per rank (the answers used).
    pub sets: Vec<usize>,
    /// Seconds spent evaluating per rank (as the ranks measured).
    pub busy: Vec<f64>,
    /// Attempts given up on because they were overdue, and attempts that returned an error.
    pub overdue: usize,
    pub errors: usize,
    /// Sets recorded as failed after `max_run_fail` attempts.
    pub failed: usize,
    /// Work messages sent and their bytes.
    pub messages: usize,
    pub bytes: usize,
    /// Seconds between sending a worker a chunk and reading its answer, less the worker's evaluation time,
    /// summed over the answers (messages, polling and queueing: the cost of distributing).
    pub overhead: f64,
}

impl Stats {
    /// The mean overhead per chunk sent to a worker \[s\].
    pub fn overhead_per_message(&self) -> f64 {
        self.overhead / self.messages.max(1) as f64
    }
}

impl Stats {
    fn new(ranks: usize) -> Stats {
        Stats {
            sets: vec![0; ranks],
            busy: vec![0.0; ranks],
            overdue: 0,
            errors: 0,
            failed: 0,
            messages: 0,
            bytes: 0,
            overhead: 0.0,
        }
    }
}

struct State {
    ranks: Vec<RankState>,
    timing: Timing,
    stats: Stats,
    next_task: u64,
}

/// Rank 0 of an MPI run.
pub struct MpiTeam {
    universe: Universe,
    world: SimpleCommunicator,
    options: MpiOptions,
    /// The structure's variable names (to decode fields).
    names: Vec<&'static str>,
    state: RefCell<State>,
    outbox: Outbox,
    /// The multi-catchment stage running: rank 0's share and every rank's gauges.
    catchments: RefCell<Option<(Share, Vec<Vec<usize>>)>>,
}

impl MpiTeam {
    fn send(&self, rank: usize, message: &Message) {
        self.outbox.post(&self.world, rank, message.encode());
    }

    /// The next message from any worker: `(rank, message)`.
    fn poll(&self) -> Result<Option<(usize, Message)>, ClusterError> {
        self.outbox.reap();
        let Some(probed) = self.world.any_process().immediate_matched_probe_with_tag(TAG) else {
            return Ok(None);
        };
        let (bytes, status) = probed.matched_receive_vec::<u8>();
        let rank = status.source_rank() as usize;
        Ok(Some((rank, Message::decode(&bytes, &self.names)?)))
    }

    /// The counts of the run so far.
    pub fn stats(&self) -> Stats {
        self.state.borrow().stats.clone()
    }

    /// Ends the run: every worker is told to stop. When all confirm, MPI is finalized and the process goes
    /// on; when one does not (stopped, hung or dead), the job is ended with `MPI_Abort(status)` (`mpirun`
    /// exits with `status`), which kills every rank, this one included, after `before_abort` has run.
    pub fn stop(self, status: i32, before_abort: impl FnOnce(&str)) {
        let size = self.world.size() as usize;
        for rank in 1..size {
            self.send(rank, &Message::Stop);
        }
        let mut stopped = vec![false; size];
        stopped[0] = true;
        let deadline = Instant::now() + STOP_GRACE;
        let mut backoff = Backoff::new(Backoff::BUSY);
        while !stopped.iter().all(|&s| s) && Instant::now() < deadline {
            match self.poll() {
                Ok(Some((rank, Message::Stopped))) => stopped[rank] = true,
                // late answers to overdue tasks
                Ok(Some(_)) => {}
                Ok(None) => backoff.wait(),
                Err(_) => {}
            }
        }
        let lost: Vec<String> = stopped.iter().enumerate().filter(|(_, s)| !**s).map(|(r, _)| r.to_string()).collect();
        self.outbox.drain(Instant::now() + STOP_GRACE);
        if lost.is_empty() && self.outbox.is_empty() {
            drop(self.world);
            drop(self.universe);
            return;
        }
        let message = format!(
            "MPI: rank(s) {} did not answer the end of the run; ending the MPI job (MPI_Abort, exit status {status})",
            lost.join(", ")
        );
        before_abort(&message);
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        self.world.abort(status)
    }
}

impl Team for MpiTeam {
    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn begin_stage(&self, setup: &StageSetup) -> Result<(), ClusterError> {
        let message = Message::Stage(Box::new(setup.clone()));
        let mut state = self.state.borrow_mut();
        for rank in 1..self.size() {
            // a rank still overdue gets nothing more: it would not know this stage's problem
            match state.ranks[rank] {
                RankState::Overdue | RankState::Retired => state.ranks[rank] = RankState::Retired,
                RankState::Free | RankState::Busy => self.send(rank, &message),
            }
        }
        Ok(())
    }

    fn begin_catchments(&self, setup: &StageSetup, share: Share, gauges: Vec<Vec<usize>>) -> Result<(), ClusterError> {
        let state = self.state.borrow();
        if let Some(rank) = (1..self.size()).find(|&r| state.ranks[r] != RankState::Free) {
            let message = "lost in an earlier stage; multi-catchment training needs every rank: run the same command again to resume".into();
            return Err(ClusterError::Protocol { rank, message });
        }
        drop(state);
        let cells: Vec<String> = gauges.iter().map(|g| format!("{g:?}")).collect();
        eprintln!(
            "MPI: stage {}: catchments spread over {} ranks, gauges per rank {}",
            setup.number,
            self.size(),
            cells.join(" ")
        );
        self.begin_stage(setup)?;
        *self.catchments.borrow_mut() = Some((share, gauges));
        Ok(())
    }

    fn end_stage(&self) -> Result<(), ClusterError> {
        *self.catchments.borrow_mut() = None;
        let state = self.state.borrow();
        for rank in 1..self.size() {
            if state.ranks[rank] != RankState::Retired {
                self.send(rank, &Message::EndStage);
            }
        }
        Ok(())
    }

    fn evaluate_sets(
        &self,
        problem: &Problem<'_>,
        scheduling: Scheduling,
        xs: &[&[f64]],
    ) -> Result<Vec<Option<Evaluated>>, ClusterError> {
        let dim = xs.first().map_or(0, |x| x.len());
        let mut dispatch =
            Dispatch::new(cut(xs.len(), self.size(), scheduling, self.options.chunk), self.options.max_run_fail);
        let mut results: Vec<Option<Evaluated>> = vec![None; xs.len()];
        let (to_local, local_work) = mpsc::channel::<(u64, std::ops::Range<usize>)>();
        let (local_done, from_local) = mpsc::channel::<(u64, f64, Result<Vec<Evaluated>, String>)>();
        std::thread::scope(|scope| -> Result<(), ClusterError> {
            // rank 0's own evaluations, while this thread serves the others
            scope.spawn(move || {
                for (task, sets) in local_work {
                    let started = Instant::now();
                    let result = problem.evaluate_batch(&xs[sets]).map_err(|e| e.to_string());
                    if local_done.send((task, started.elapsed().as_secs_f64(), result)).is_err() {
                        break;
                    }
                }
            });
            let mut state = self.state.borrow_mut();
            state.ranks[0] = RankState::Free;
            let mut backoff = Backoff::new(Backoff::BUSY);
            // rank 0's answers, read while waiting for the others
            let mut local = std::collections::VecDeque::new();
            while !dispatch.complete() {
                let mut progressed = false;
                // hand out pending chunks to free ranks, rank 0 last (it also serves the others)
                for rank in (1..self.size()).chain([0]) {
                    if state.ranks[rank] != RankState::Free {
                        continue;
                    }
                    let Some(k) = dispatch.next_for(rank) else { break };
                    let task = state.next_task;
                    state.next_task += 1;
                    let sets = dispatch.sets(k);
                    dispatch.start(k, rank, task, Instant::now());
                    state.ranks[rank] = RankState::Busy;
                    if rank == 0 {
                        to_local.send((task, sets)).expect("rank 0's evaluation thread runs until the batch is done");
                    } else {
                        let flat: Vec<f64> = xs[sets].iter().flat_map(|x| x.iter().copied()).collect();
                        let message = Message::Work { task, dim, xs: flat };
                        state.stats.messages += 1;
                        let bytes = message.encode();
                        state.stats.bytes += bytes.len();
                        self.outbox.post(&self.world, rank, bytes);
                    }
                    progressed = true;
                }
                // answers: rank 0's thread, then the others
                let mut answers = Vec::new();
                local.extend(from_local.try_iter());
                for (task, seconds, result) in local.drain(..) {
                    answers.push((0, task, seconds, result));
                }
                while let Some((rank, message)) = self.poll()? {
                    match message {
                        Message::Done { task, seconds, result } => answers.push((rank, task, seconds, result)),
                        other => {
                            let message = format!("unexpected {other:?} during a batch");
                            return Err(ClusterError::Protocol { rank, message });
                        }
                    }
                }
                for (rank, task, seconds, result) in answers {
                    progressed = true;
                    if state.ranks[rank] == RankState::Retired {
                        continue;
                    }
                    state.ranks[rank] = RankState::Free;
                    state.stats.busy[rank] += seconds;
                    let Some(k) = dispatch.chunk_of(task) else { continue };
                    let sets = dispatch.sets(k);
                    if rank != 0
                        && let Some(sent) = dispatch.sent_at(k)
                    {
                        state.stats.overhead += (sent.elapsed().as_secs_f64() - seconds).max(0.0);
                    }
                    match result {
                        Ok(values) if values.len() == sets.len() => {
                            state.timing.record(seconds, sets.len());
                            state.stats.sets[rank] += sets.len();
                            dispatch.finish(k);
                            for (slot, v) in results[sets].iter_mut().zip(values) {
                                *slot = Some(v);
                            }
                        }
                        Ok(values) => {
                            let message = format!("{} results for a chunk of {} sets", values.len(), sets.len());
                            return Err(ClusterError::Protocol { rank, message });
                        }
                        Err(message) => {
                            state.stats.errors += 1;
                            eprintln!("MPI: rank {rank}: evaluation of sets {sets:?} of the batch failed: {message}");
                            if dispatch.fail(k) {
                                state.stats.failed += sets.len();
                                eprintln!(
                                    "MPI: sets {sets:?} recorded as failed after {} attempts",
                                    self.options.max_run_fail
                                );
                            }
                        }
                    }
                }
                // overdue attempts go to another rank
                let now = Instant::now();
                let late = dispatch.overdue(now, |sets| state.timing.limit(sets, &self.options));
                for (k, rank, _) in late {
                    progressed = true;
                    state.stats.overdue += 1;
                    state.ranks[rank] = RankState::Overdue;
                    let sets = dispatch.sets(k);
                    eprintln!(
                        "MPI: rank {rank} is overdue on sets {sets:?} of the batch (limit {:.1} s); re-issuing them",
                        state.timing.limit(sets.len(), &self.options).as_secs_f64()
                    );
                    if dispatch.fail(k) {
                        state.stats.failed += sets.len();
                        eprintln!("MPI: sets {sets:?} recorded as failed after {} attempts", self.options.max_run_fail);
                    }
                }
                if progressed {
                    backoff.reset();
                } else if let Ok(answer) = from_local.recv_timeout(backoff.pause()) {
                    local.push_back(answer);
                }
            }
            drop(to_local);
            Ok(())
        })?;
        Ok(results)
    }
}

impl Spread for MpiTeam {
    fn evaluate(
        &self,
        problem: &Problem<'_>,
        x: &[f64],
        gradient: bool,
    ) -> Result<(f64, Option<Vec<f64>>, Vec<f32>), Box<dyn std::error::Error + Send + Sync>> {
        let catchments = self.catchments.borrow();
        let (share, gauges) = catchments.as_ref().ok_or("no multi-catchment stage is running")?;
        let size = self.size();
        let message = Message::Gradient { x: x.to_vec(), gradient };
        for rank in 1..size {
            self.send(rank, &message);
        }
        let mut partials = vec![None; size];
        partials[0] = Some(share.evaluate(problem, x, gradient)?);
        let deadline = Instant::now() + Duration::from_secs_f64(self.options.run_timeout_first);
        let mut backoff = Backoff::new(Backoff::BUSY);
        while partials.iter().any(Option::is_none) {
            match self.poll()? {
                Some((rank, Message::Partial(Ok(partial)))) => partials[rank] = Some(partial),
                Some((rank, Message::Partial(Err(message)))) => {
                    return Err(ClusterError::Protocol { rank, message }.into());
                }
                // a late answer to a search stage's overdue chunk
                Some((_, Message::Done { .. })) => {}
                Some((rank, other)) => {
                    let message = format!("unexpected {other:?} during a multi-catchment evaluation");
                    return Err(ClusterError::Protocol { rank, message }.into());
                }
                None if Instant::now() > deadline => {
                    let rank = partials.iter().position(Option::is_none).expect("one is missing");
                    let message = format!("no answer within run_timeout_first = {} s", self.options.run_timeout_first);
                    return Err(ClusterError::Protocol { rank, message }.into());
                }
                None => backoff.wait(),
            }
        }
        let partials: Vec<Partial> = partials.into_iter().map(|p| p.expect("every rank answered")).collect();
        Ok(reduce(&partials, gauges, problem.inputs.mesh.gauges.len(), x.len(), gradient))
    }
}

/// A send in flight and the buffer it owns (leaked from a box until the send completes).
type InFlight = (Request<'static, [u8], StaticScope>, *mut [u8]);

/// Sends in flight: their requests with the buffers they own, freed when the send completes.
#[derive(Default)]
struct Outbox {
    pending: RefCell<Vec<InFlight>>,
}

impl Outbox {
    fn post(&self, world: &SimpleCommunicator, rank: usize, bytes: Vec<u8>) {
        let raw: *mut [u8] = Box::into_raw(bytes.into_boxed_slice());
        // SAFETY: the buffer is freed only in `reap`, once MPI reports the send complete, or never
        let buffer: &'static [u8] = unsafe { &*raw };
        let request = world.process_at_rank(rank as i32).immediate_send_with_tag(StaticScope, buffer, TAG);
        self.pending.borrow_mut().push((request, raw));
    }

    /// Frees the buffers of completed sends.
    fn reap(&self) {
        let mut pending = self.pending.borrow_mut();
        for (request, raw) in std::mem::take(&mut *pending) {
            match request.test() {
                // SAFETY: MPI no longer reads the buffer, which `post` leaked from a box
                Ok(_) => drop(unsafe { Box::from_raw(raw) }),
                Err(request) => pending.push((request, raw)),
            }
        }
    }

    /// Waits until every send completed or `deadline`.
    fn drain(&self, deadline: Instant) {
        let mut backoff = Backoff::new(Backoff::BUSY);
        while !self.is_empty() && Instant::now() < deadline {
            self.reap();
            backoff.wait();
        }
    }

    fn is_empty(&self) -> bool {
        self.pending.borrow().is_empty()
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        // a send that never completed (a lost rank) keeps its request and buffer: MPI may still read it
        std::mem::forget(std::mem::take(self.pending.get_mut()));
    }
}

/// The pause between two polls of MPI while nothing arrives: from 10 µs, doubling up to `max`, so that a
/// rank that waits answers within `max` without taking a core from the ranks that evaluate.
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Waiting for answers to work in flight.
    pub(crate) const BUSY: Duration = Duration::from_micros(200);
    /// Waiting for work.
    pub(crate) const IDLE: Duration = Duration::from_micros(500);

    pub(crate) fn new(max: Duration) -> Backoff {
        Backoff { next: Duration::from_micros(10), max }
    }

    /// The next pause (for a `recv_timeout` that also wakes on a local answer).
    pub(crate) fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }

    pub(crate) fn wait(&mut self) {
        std::thread::sleep(self.pause());
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_micros(10);
    }
}

/// Builds the global thread pool with this machine's cores shared among its ranks (unless
/// `RAYON_NUM_THREADS` says otherwise).
pub fn share_cores() {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = (cores / local_ranks().max(1)).max(1);
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
}
