//! A worker rank: builds each search stage's problem from what rank 0 sends and evaluates the chunks it is
//! given, until rank 0 says the run is over.

use super::{Backoff, TAG};
use crate::calibration::control::Domain;
use crate::calibration::cost::GaugeCost;
use crate::calibration::objective::Problem;
use crate::calibration::train::{TrainError, stage_cost, stage_space};
use crate::cluster::catchments::Share;
use crate::cluster::fault::{Fault, FaultKind};
use crate::cluster::wire::Message;
use crate::cluster::{ClusterError, StageSetup};
use crate::config::Config;
use crate::model::Inputs;
use mpi::environment::Universe;
use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::topology::{Communicator, SimpleCommunicator};
use std::sync::mpsc;
use std::time::Instant;

/// Why a worker stopped before rank 0 said so.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("MPI rank {rank}: building stage {stage}: {source}")]
    Stage {
        rank: usize,
        stage: usize,
        #[source]
        source: Box<TrainError>,
    },
}

/// A rank `r ≥ 1`.
pub struct Worker {
    universe: Universe,
    world: SimpleCommunicator,
    names: Vec<&'static str>,
}

impl Worker {
    pub(super) fn new(universe: Universe, world: SimpleCommunicator, names: Vec<&'static str>) -> Worker {
        Worker { universe, world, names }
    }

    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    /// The next message from rank 0 (polling, so that a waiting worker leaves the cores to the others).
    fn receive(&self) -> Result<Message, ClusterError> {
        let mut backoff = Backoff::new(Backoff::IDLE);
        loop {
            if let Some(message) = self.try_receive()? {
                return Ok(message);
            }
            backoff.wait();
        }
    }

    /// A message from rank 0, if one has arrived.
    fn try_receive(&self) -> Result<Option<Message>, ClusterError> {
        let Some(probed) = self.world.process_at_rank(0).immediate_matched_probe_with_tag(TAG) else {
            return Ok(None);
        };
        let (bytes, _) = probed.matched_receive_vec::<u8>();
        Ok(Some(Message::decode(&bytes, &self.names)?))
    }

    fn send(&self, message: &Message) {
        self.world.process_at_rank(0).send_with_tag(&message.encode()[..], TAG);
    }

    /// Serves rank 0 until it stops the run, then finalizes MPI.
    pub fn serve(self, config: &Config, inputs: &Inputs) -> Result<(), WorkerError> {
        let domain = Domain::of(config, inputs);
        let rank = self.rank();
        let stage_error =
            |stage: usize, source: TrainError| WorkerError::Stage { rank, stage, source: Box::new(source) };
        let fault = Fault::from_env().map_err(|message| ClusterError::Protocol { rank, message })?;
        let mut given = 0;
        let validation = config
            .validation
            .as_ref()
            .map(|raw| GaugeCost::new(config, inputs, raw, "validation"))
            .transpose()
            .map_err(|e| stage_error(0, e.into()))?;
        loop {
            match self.receive()? {
                Message::Stage(setup) => {
                    let StageSetup { number, random_state, wjreg, parameters, states, catchments } = *setup;
                    let stage = &config.stages[number - 1];
                    let cost = stage_cost(config, inputs, stage, number).map_err(|e| stage_error(number, e))?;
                    let space = stage_space(config, (stage, number), random_state, (&parameters, &states), &domain)
                        .map_err(|e| stage_error(number, e))?;
                    let problem = Problem::new(config, inputs, &space, (parameters, states), &cost, wjreg)
                        .with_validation(validation.as_ref());
                    let go_on = if catchments {
                        let size = self.world.size() as usize;
                        let share = Share::new(config, inputs, (&stage.cost_options, &cost), size, rank)
                            .map_err(|e| stage_error(number, e.into()))?;
                        self.serve_catchments(&problem, &share)?
                    } else {
                        self.serve_stage(&problem, &mut given, fault)?
                    };
                    if !go_on {
                        break;
                    }
                }
                Message::Stop => break,
                // the end of a stage this rank was retired from (its evaluation came back after rank 0 gave up)
                Message::EndStage => {}
                other => {
                    let message = format!("unexpected {other:?} between stages");
                    return Err(ClusterError::Protocol { rank, message }.into());
                }
            }
        }
        self.send(&Message::Stopped);
        drop(self.world);
        drop(self.universe);
        Ok(())
    }

    /// Evaluates the chunks of one stage on a thread of its own, this thread staying free for rank 0's
    /// messages; `false` when rank 0 stopped the run instead of ending the stage. `given` counts the chunks
    /// this rank was given over the run (for [`Fault`]).
    fn serve_stage(
        &self,
        problem: &Problem<'_>,
        given: &mut usize,
        fault: Option<Fault>,
    ) -> Result<bool, ClusterError> {
        let rank = self.rank();
        std::thread::scope(|scope| {
            let (to_thread, work) = mpsc::channel::<(u64, usize, Vec<f64>, Option<FaultKind>)>();
            let (done, from_thread) = mpsc::channel::<Message>();
            scope.spawn(move || {
                for (task, dim, xs, fault) in work {
                    let started = Instant::now();
                    let result = match fault {
                        Some(FaultKind::Hang) => loop {
                            std::thread::park();
                        },
                        Some(FaultKind::Error) => Err(format!("HYDROGRAD_FAULT: injected error on rank {rank}")),
                        None => {
                            let sets: Vec<&[f64]> = xs.chunks_exact(dim.max(1)).collect();
                            problem.evaluate_batch(&sets).map_err(|e| e.to_string())
                        }
                    };
                    let seconds = started.elapsed().as_secs_f64();
                    if done.send(Message::Done { task, seconds, result }).is_err() {
                        break;
                    }
                }
            });
            // busy: a chunk is on the thread; retired: the stage ended while it was (rank 0 gave up on it)
            let (mut busy, mut retired) = (false, false);
            let mut backoff = Backoff::new(Backoff::IDLE);
            loop {
                let Some(message) = self.try_receive()? else {
                    // while a chunk evaluates, wake as soon as its answer is ready
                    let answer = if busy { from_thread.recv_timeout(backoff.pause()).ok() } else { None };
                    match answer {
                        Some(_) if retired => return Ok(true),
                        Some(answer) => {
                            busy = false;
                            self.send(&answer);
                            backoff.reset();
                        }
                        None if !busy => backoff.wait(),
                        None => {}
                    }
                    continue;
                };
                backoff.reset();
                match message {
                    Message::Work { task, dim, xs } if !retired => {
                        let fault = fault.and_then(|f| f.hits(rank, *given));
                        *given += 1;
                        busy = true;
                        to_thread
                            .send((task, dim, xs, fault))
                            .expect("the evaluation thread runs until the stage ends");
                    }
                    Message::EndStage if busy => retired = true,
                    Message::EndStage => return Ok(true),
                    Message::Stop if busy => self.exit_with_stuck_thread(),
                    Message::Stop => return Ok(false),
                    other => {
                        let message = format!("unexpected {other:?} during a stage");
                        return Err(ClusterError::Protocol { rank, message });
                    }
                }
            }
        })
    }

    /// Evaluates this rank's share of a multi-catchment stage at the points rank 0 sends; `false` when rank
    /// 0 stopped the run instead of ending the stage.
    fn serve_catchments(&self, problem: &Problem<'_>, share: &Share) -> Result<bool, ClusterError> {
        loop {
            match self.receive()? {
                Message::Gradient { x, gradient } => {
                    let result = share.evaluate(problem, &x, gradient).map_err(|e| e.to_string());
                    self.send(&Message::Partial(result));
                }
                Message::EndStage => return Ok(true),
                Message::Stop => return Ok(false),
                other => {
                    let message = format!("unexpected {other:?} during a multi-catchment stage");
                    return Err(ClusterError::Protocol { rank: self.rank(), message });
                }
            }
        }
    }

    /// Ends this process when rank 0 stops the run while an evaluation is stuck on its thread (which cannot
    /// be joined): confirms, finalizes MPI and exits.
    fn exit_with_stuck_thread(&self) -> ! {
        self.send(&Message::Stopped);
        // SAFETY: every request of this rank is complete (its sends are blocking); nothing calls MPI after
        // this, and `exit` skips the destructor that would finalize again
        unsafe { mpi::ffi::MPI_Finalize() };
        std::process::exit(0)
    }
}
