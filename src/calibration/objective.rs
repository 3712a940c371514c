//! The function a calibration stage minimises: `J(x) = J_obs(θ(x)) + wjreg · J_reg(x)` (spec §7.1),
//! with its gradient from one adjoint run.

use super::control::ControlSpace;
use super::cost::GaugeCost;
use crate::Error;
use crate::config::{Config, Precision};
use crate::cost::{RegComponent, Smoothing, prior};
use crate::model::{DischargeCost, Fields, Inputs, forward_cost, forward_costs, gauge_cells, gradient};
use crate::optim::{Evaluation, Objective, ObjectiveError};
use hydrograd_models::adjoint::AdjointOptions;

/// The regularization of a stage (smash's `jreg_cmpt`, `wjreg_cmpt`) with its weight `wjreg`.
pub struct Regularization {
    pub wjreg: f64,
    /// `(term, weight)`.
    pub terms: Vec<(RegComponent, f64)>,
    /// Physical values of the first guess, `[n]` (prior).
    pub background: Vec<f64>,
    /// Fields of the first guess (smoothing).
    pub background_fields: (Fields, Fields),
    pub smoothing: Smoothing,
}

/// The two terms of the cost at one point, and the validation cost there (`[validation]`, not optimized).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Terms {
    pub jobs: f64,
    pub jreg: f64,
    #[serde(default)]
    pub validation: Option<f64>,
}

impl Terms {
    /// Terms without a validation cost.
    pub fn new(jobs: f64, jreg: f64) -> Terms {
        Terms { jobs, jreg, validation: None }
    }
}

/// A calibration stage's objective over its control vector.
pub struct Problem<'a> {
    pub config: &'a Config,
    pub inputs: &'a Inputs,
    pub space: &'a ControlSpace,
    /// Fields the controls are written into (the values of what is not optimized).
    pub parameters: Fields,
    pub states: Fields,
    pub cost: &'a GaugeCost,
    /// The cost on held-out gauges, evaluated on the same simulation (`[validation]`).
    pub validation: Option<&'a GaugeCost>,
    pub regularization: Regularization,
    cells: Vec<usize>,
    /// The terms of the last evaluation.
    pub last: Terms,
}

/// The observation cost of a [`Problem`] computed elsewhere: over MPI ranks that each simulate their share
/// of the mesh's independent catchments ([`crate::cluster::catchments`]).
pub trait Spread {
    /// `J_obs` at `x`, `∂J_obs/∂x` when `gradient` is true, and the discharge at every gauge `[T, G]`.
    #[allow(clippy::type_complexity)]
    fn evaluate(
        &self,
        problem: &Problem<'_>,
        x: &[f64],
        gradient: bool,
    ) -> Result<(f64, Option<Vec<f64>>, Vec<f32>), Box<dyn std::error::Error + Send + Sync>>;
}

impl<'a> Problem<'a> {
    pub fn new(
        config: &'a Config,
        inputs: &'a Inputs,
        space: &'a ControlSpace,
        (parameters, states): (Fields, Fields),
        cost: &'a GaugeCost,
        wjreg: f64,
    ) -> Problem<'a> {
        let x0 = space.first_guess(&parameters, &states);
        let options = &cost.options;
        let regularization = Regularization {
            wjreg,
            terms: options.jreg_cmpt.iter().copied().zip(options.wjreg_cmpt.iter().copied()).collect(),
            background: space.physical(&x0),
            background_fields: (parameters.clone(), states.clone()),
            smoothing: Smoothing::new(&inputs.mesh),
        };
        let cells = gauge_cells(&inputs.mesh);
        Problem {
            config,
            inputs,
            space,
            parameters,
            states,
            cost,
            validation: None,
            regularization,
            cells,
            last: Terms::new(f64::NAN, 0.0),
        }
    }

    /// The problem with a validation cost evaluated at every point.
    pub fn with_validation(self, validation: Option<&'a GaugeCost>) -> Problem<'a> {
        Problem { validation, ..self }
    }

    /// The fields at control vector `x`.
    pub fn fields(&self, x: &[f64]) -> (Fields, Fields) {
        let (mut p, mut s) = (self.parameters.clone(), self.states.clone());
        self.space.apply(x, &mut p, &mut s);
        (p, s)
    }

    /// `J_reg` at `x`, unweighted by `wjreg`.
    pub fn jreg_at(&self, x: &[f64]) -> f64 {
        if self.regularization.terms.is_empty() { 0.0 } else { self.jreg(x, &self.fields(x), None) }
    }

    /// `J_reg` at `x` (unweighted by `wjreg`), adding `∂J_reg/∂x · scale` to `grad` when given.
    fn jreg(&self, x: &[f64], fields: &(Fields, Fields), grad: Option<(&mut [f64], f64)>) -> f64 {
        let reg = &self.regularization;
        let (mut gp, mut gs) = (zeroed(&fields.0), zeroed(&fields.1));
        let mut g_physical = vec![0.0; x.len()];
        let mut total = 0.0;
        for &(term, weight) in &reg.terms {
            let mut gx = vec![0.0; x.len()];
            let value = match term {
                RegComponent::Prior => prior(&self.space.physical(x), &reg.background, &mut gx),
                RegComponent::Smoothing | RegComponent::HardSmoothing => {
                    let mut v = 0.0;
                    for var in &self.space.variables {
                        let (field, bkg, g) = match var.slot {
                            super::control::Slot::Parameter(_) => (&fields.0, &reg.background_fields.0, &mut gp),
                            super::control::Slot::State(_) => (&fields.1, &reg.background_fields.1, &mut gs),
                        };
                        let theta = field.get(var.info.name).expect("optimized variables are fields");
                        let background = (term == RegComponent::Smoothing).then(|| bkg.get(var.info.name).unwrap());
                        let mut gv = vec![0.0; theta.len()];
                        v += reg.smoothing.value_and_gradient(theta, background, &mut gv);
                        g.get_mut(var.info.name).unwrap().iter_mut().zip(&gv).for_each(|(a, b)| *a += weight * b);
                    }
                    v
                }
            };
            g_physical.iter_mut().zip(&gx).for_each(|(a, b)| *a += weight * b);
            total += weight * value;
        }
        if let Some((grad, scale)) = grad {
            let from_prior = self.space.physical_to_control(x, &g_physical);
            let from_fields = self.space.pull_back(x, &gp, &gs);
            for ((g, a), b) in grad.iter_mut().zip(from_prior).zip(from_fields) {
                *g += scale * (a + b);
            }
        }
        total
    }

    /// The cost at `x` (and its gradient when `want_gradient`), with `J_obs` from `spread` when given.
    fn evaluate_model(
        &mut self,
        x: &[f64],
        want_gradient: bool,
        spread: Option<&dyn Spread>,
    ) -> Result<Evaluation, ObjectiveError> {
        let fields = self.fields(x);
        let (jobs, mut grad, qsim) = if let Some(spread) = spread {
            spread.evaluate(self, x, want_gradient).map_err(ObjectiveError::from_boxed)?
        } else if want_gradient {
            let g = gradient(
                self.config,
                self.inputs,
                &fields.0,
                &fields.1,
                &self.cells,
                self.cost,
                &AdjointOptions::default(),
            )
            .map_err(ObjectiveError::new)?;
            (g.cost, Some(self.space.pull_back(x, &g.parameters, &g.states)), g.qsim)
        } else {
            let (jobs, qsim) = forward_cost(self.config, self.inputs, &fields.0, &fields.1, &self.cells, self.cost)
                .map_err(ObjectiveError::new)?;
            (jobs, None, qsim)
        };
        let validation = self.validation.map(|v| match self.config.precision {
            Precision::F32 => v.evaluate_f32(&qsim, false).0 as f64,
            Precision::F64 => v.evaluate_f64(&qsim.iter().map(|&q| q as f64).collect::<Vec<_>>(), false).0,
        });
        let wjreg = self.regularization.wjreg;
        let jreg = if self.regularization.terms.is_empty() || wjreg == 0.0 && grad.is_none() {
            0.0
        } else {
            self.jreg(x, &fields, grad.as_deref_mut().map(|g| (g, wjreg)))
        };
        self.last = Terms { jobs, jreg, validation };
        let cost = if wjreg == 0.0 { jobs } else { jobs + wjreg * jreg };
        Ok(Evaluation { cost, gradient: grad })
    }
}

impl Problem<'_> {
    /// The values to minimise and the terms at each of `xs` (`[S][n]`), from batched forward runs: one engine
    /// call per group of sets whose fields fit [`BATCH_VALUES`].
    ///
    /// # Returns
    /// Per set, `[K]` values `J_k + wjreg·J_reg` (`K = 1`: the cost; a multi-objective search stage's `K`
    /// objectives, all from the same simulated discharge) and the terms, whose `jobs` is the first `J_k`.
    pub fn evaluate_batch(&self, xs: &[&[f64]]) -> Result<Vec<(Vec<f64>, Terms)>, Error> {
        let ncell = self.parameters.ncell.max(1);
        let per_call = (BATCH_VALUES / (ncell * self.parameters.names.len().max(1))).max(1);
        let mut out = Vec::with_capacity(xs.len());
        for group in xs.chunks(per_call) {
            let sets: Vec<(Fields, Fields)> = group.iter().map(|x| self.fields(x)).collect();
            let (objectives, qsim) = forward_costs(self.config, self.inputs, &sets, &self.cells, self.cost)?;
            let per_set = qsim.len() / group.len();
            for (k, (x, jobs)) in group.iter().zip(objectives).enumerate() {
                let q = &qsim[k * per_set..(k + 1) * per_set];
                let validation = self.validation.map(|v| match self.config.precision {
                    Precision::F32 => v.evaluate_f32(q, false).0 as f64,
                    Precision::F64 => v.evaluate_f64(&q.iter().map(|&v| v as f64).collect::<Vec<_>>(), false).0,
                });
                let wjreg = self.regularization.wjreg;
                let jreg = if self.regularization.terms.is_empty() || wjreg == 0.0 {
                    0.0
                } else {
                    self.jreg(x, &sets[k], None)
                };
                let terms = Terms { jobs: jobs[0], jreg, validation };
                let values = if wjreg == 0.0 { jobs } else { jobs.iter().map(|j| j + wjreg * jreg).collect() };
                out.push((values, terms));
            }
        }
        Ok(out)
    }
}

impl Problem<'_> {
    /// The discharge at the gauges of each of `xs`, `[S, T, G]` \[m³/s\], from one batched forward run.
    pub fn discharge_batch(&self, xs: &[&[f64]]) -> Result<Vec<f32>, Error> {
        let sets: Vec<(Fields, Fields)> = xs.iter().map(|x| self.fields(x)).collect();
        Ok(forward_costs(self.config, self.inputs, &sets, &self.cells, self.cost)?.1)
    }
}

/// Parameter values (sets × variables × cells) per batched engine call of [`Problem::evaluate_batch`].
pub const BATCH_VALUES: usize = 1 << 25;

fn zeroed(f: &Fields) -> Fields {
    Fields { values: vec![0.0; f.values.len()], weights: vec![0.0; f.weights.len()], ..f.clone() }
}

impl Objective for Problem<'_> {
    fn evaluate(&mut self, x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError> {
        self.evaluate_model(x, gradient, None)
    }
}

/// A problem whose `J_obs` is evaluated by a [`Spread`] (multi-catchment training over MPI ranks).
pub struct Spreading<'p, 'a> {
    pub problem: &'p mut Problem<'a>,
    pub spread: &'p dyn Spread,
}

impl Objective for Spreading<'_, '_> {
    fn evaluate(&mut self, x: &[f64], gradient: bool) -> Result<Evaluation, ObjectiveError> {
        self.problem.evaluate_model(x, gradient, Some(self.spread))
    }
}

impl super::checkpoint::HasTerms for Spreading<'_, '_> {
    fn terms(&self) -> Terms {
        self.problem.last
    }

    fn set_terms(&mut self, terms: Terms) {
        self.problem.last = terms;
    }
}

impl super::checkpoint::HasTerms for Problem<'_> {
    fn terms(&self) -> Terms {
        self.last
    }

    fn set_terms(&mut self, terms: Terms) {
        self.last = terms;
    }
}
