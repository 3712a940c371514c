//! One training of the twin experiment: a mapping trained on the training gauges with the held-out
//! gauges as `[validation]` (through `hydrograd train`'s stages), then scored against the truth.

use super::score::{Recovery, gauge_nse, median};
use super::{LAWS, Twin, TwinError};
use crate::calibration::checkpoint::{EvaluationLog, TraceRow};
use crate::calibration::control::Mapping;
use crate::calibration::train::train;
use crate::config::{Config, DeviceKind};
use crate::cost::gauge_forcing::gauge_upstream_cells;
use crate::model::simulate_batch;
use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// How one mapping is trained: one `[[train.stage]]` over cp, ct, kexc and llr, within the bounds of
/// [`LAWS`].
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    /// `multi-linear` (L-BFGS-B) or `ann` (Adam).
    pub mapping: Mapping,
    pub maxiter: usize,
    /// ann: Adam's learning rate.
    pub learning_rate: f64,
    /// ann: neurons of the hidden layers.
    pub layers: Vec<usize>,
    /// ann: activation of the hidden layers (`optimize_options.net.activation`).
    pub activation: String,
    /// ann: seed of the first weights (numpy's glorot_uniform stream, as smash).
    pub random_state: u32,
}

impl Training {
    /// smash's `multi-linear` mapping of the four descriptors, L-BFGS-B.
    pub fn multi_linear(maxiter: usize) -> Training {
        Training {
            mapping: Mapping::MultiLinear,
            maxiter,
            learning_rate: 0.0,
            layers: Vec::new(),
            activation: String::new(),
            random_state: 0,
        }
    }

    /// An `ann` mapping with one hidden layer of 16 tanh neurons, Adam: smooth like the laws it learns
    /// (ReLU layers, or two layers, fit the training gauges as well but generalize worse, `docs/twin.md`).
    pub fn ann(maxiter: usize, learning_rate: f64) -> Training {
        Training {
            mapping: Mapping::Ann,
            maxiter,
            learning_rate,
            layers: vec![16],
            activation: "tanh".into(),
            random_state: 11,
        }
    }

    /// The `[[train.stage]]` table.
    pub fn stage_toml(&self) -> String {
        let names: Vec<String> = LAWS.iter().map(|l| format!("\"{}\"", l.name)).collect();
        let bounds: Vec<String> =
            LAWS.iter().map(|l| format!("{} = [{:?}, {:?}]", l.name, l.bounds.0, l.bounds.1)).collect();
        let mut text = format!(
            "[[train.stage]]\nmapping = \"{}\"\noptimizer = \"{}\"\n[train.stage.optimize_options]\n\
             parameters = [{}]\nbounds = {{ {} }}\ntermination_crit = {{ maxiter = {} }}\n",
            self.mapping.name(),
            if self.mapping == Mapping::Ann { "adam" } else { "lbfgsb" },
            names.join(", "),
            bounds.join(", "),
            self.maxiter,
        );
        if self.mapping == Mapping::Ann {
            let layers: Vec<String> = self.layers.iter().map(usize::to_string).collect();
            text += &format!(
                "learning_rate = {:?}\nrandom_state = {}\nnet = {{ layers = [{}], activation = \"{}\" }}\n",
                self.learning_rate,
                self.random_state,
                layers.join(", "),
                self.activation
            );
        }
        text
    }
}

/// The outcome of one training.
#[derive(Debug, Clone)]
pub struct MappingResult {
    pub mapping: Mapping,
    pub device: DeviceKind,
    pub controls: usize,
    /// Optimizer iterations and objective evaluations (each a forward run and its adjoint).
    pub iterations: usize,
    pub evaluations: usize,
    /// Wall time of the training \[s\].
    pub seconds: f64,
    /// Final training cost and validation cost (mean 1 − NSE over the gauges).
    pub cost: f64,
    pub validation: Option<f64>,
    /// NSE after the warm-up at the training and the held-out gauges, in [`Twin`]'s code order.
    pub training_nse: Vec<f64>,
    pub held_out_nse: Vec<f64>,
    /// Recovery of each map of [`LAWS`] on every active cell, and on the held-out catchments' cells.
    pub recovery: Vec<Recovery>,
    pub held_out_recovery: Vec<Recovery>,
    /// Why the optimizer stopped.
    pub termination: String,
}

impl MappingResult {
    /// Training time per objective evaluation (one epoch over the whole forcing: forward, cost and
    /// adjoint) \[s\].
    pub fn seconds_per_evaluation(&self) -> f64 {
        self.seconds / self.evaluations.max(1) as f64
    }

    pub fn median_training_nse(&self) -> f64 {
        median(&self.training_nse)
    }

    pub fn median_held_out_nse(&self) -> f64 {
        median(&self.held_out_nse)
    }
}

impl Twin {
    /// Trains `training`'s mapping on `device` and scores it; `progress` sees every iteration's trace row
    /// (its `validation` column is the held-out cost).
    pub fn train(
        &self,
        training: &Training,
        device: DeviceKind,
        progress: &mut dyn FnMut(&TraceRow),
    ) -> Result<MappingResult, TwinError> {
        let config = Config::from_toml(&self.config_toml(training, device), Path::new("twin.toml"))?;
        let log = RefCell::new(EvaluationLog::in_memory());
        let start = Instant::now();
        let trained = train(&config, &self.inputs, &log, &AtomicBool::new(false), &mut |row, _| progress(row), None)?;
        let seconds = start.elapsed().as_secs_f64();
        let stage = &trained.stages[0];
        let (qsim, _) =
            simulate_batch(&config, &self.inputs, std::slice::from_ref(&trained.parameters), &trained.states)?;
        let mesh = &self.inputs.mesh;
        let qobs = self.inputs.qobs.as_deref().expect("the twin's observations");
        let nse = gauge_nse(qobs, &qsim, mesh.gauges.len(), self.warmup);
        let at = |codes: &[String]| -> Vec<usize> {
            codes.iter().map(|c| mesh.gauges.iter().position(|g| &g.code == c).expect("a mesh gauge")).collect()
        };
        let (training_gauges, held_out_gauges) = (at(&self.training), at(&self.held_out));
        let upstream = gauge_upstream_cells(mesh);
        let held_out_cells: Vec<usize> = held_out_gauges.iter().flat_map(|&j| upstream[j].iter().copied()).collect();
        let all_cells: Vec<usize> = (0..mesh.nac()).collect();
        let recover = |cells: &[usize]| -> Vec<Recovery> {
            LAWS.iter()
                .map(|law| {
                    let (truth, estimate) = (self.truth.get(law.name), trained.parameters.get(law.name));
                    Recovery::of(law.name, truth.expect("gr4 parameter"), estimate.expect("gr4 parameter"), cells)
                })
                .collect()
        };
        Ok(MappingResult {
            mapping: training.mapping,
            device,
            controls: stage.names.len(),
            iterations: stage.outcome.iterations,
            evaluations: stage.outcome.evaluations,
            seconds,
            cost: stage.outcome.cost,
            validation: stage.validation,
            training_nse: training_gauges.iter().map(|&j| nse[j]).collect(),
            held_out_nse: held_out_gauges.iter().map(|&j| nse[j]).collect(),
            recovery: recover(&all_cells),
            held_out_recovery: recover(&held_out_cells),
            termination: format!("{:?}", stage.outcome.termination),
        })
    }
}
