//! Gradients of a cost with respect to every parameter and initial state of every active cell: the
//! adjoint of `hydrograd-models` run on the configuration's inputs, in the configuration's precision.

use super::{Fields, Inputs, Precise, engine};
use crate::Error;
use crate::config::{Config, Precision};
use hydrograd_models::Real;
use hydrograd_models::adjoint::{AdjointOptions, MemoryUse};
use hydrograd_models::simulation::{self, Batch, Setup};

/// A cost of the discharge at some cells, differentiable: `(J, ∂J/∂Q)` from `Q` \[m³/s\], both `[T, G]`,
/// in the simulation's precision (smash's f32 by default). `gradient = false` may return an empty vector.
pub trait DischargeCost {
    fn evaluate_f32(&self, q: &[f32], gradient: bool) -> (f32, Vec<f32>);
    fn evaluate_f64(&self, q: &[f64], gradient: bool) -> (f64, Vec<f64>);

    /// The values `[K]` a multi-objective search minimises on `q` (`K ≥ 1`, the first being the cost);
    /// by default `[J]`.
    fn objectives_f32(&self, q: &[f32]) -> Vec<f64> {
        vec![self.evaluate_f32(q, false).0 as f64]
    }

    /// [`objectives_f32`](DischargeCost::objectives_f32) in f64.
    fn objectives_f64(&self, q: &[f64]) -> Vec<f64> {
        vec![self.evaluate_f64(q, false).0]
    }
}

/// The float types a [`DischargeCost`] is evaluated in.
pub(crate) trait CostFloat: Precise {
    fn cost(c: &impl DischargeCost, q: &[Self], gradient: bool) -> (Self, Vec<Self>);
    fn objectives(c: &impl DischargeCost, q: &[Self]) -> Vec<f64>;
}

impl CostFloat for f32 {
    fn cost(c: &impl DischargeCost, q: &[f32], gradient: bool) -> (f32, Vec<f32>) {
        c.evaluate_f32(q, gradient)
    }

    fn objectives(c: &impl DischargeCost, q: &[f32]) -> Vec<f64> {
        c.objectives_f32(q)
    }
}

impl CostFloat for f64 {
    fn cost(c: &impl DischargeCost, q: &[f64], gradient: bool) -> (f64, Vec<f64>) {
        c.evaluate_f64(q, gradient)
    }

    fn objectives(c: &impl DischargeCost, q: &[f64]) -> Vec<f64> {
        c.objectives_f64(q)
    }
}

/// Cost, discharge and gradients of one parameter set.
#[derive(Debug, Clone)]
pub struct FieldGradient {
    pub cost: f64,
    /// Discharge at the requested cells \[m³/s\], `[T, G]`.
    pub qsim: Vec<f32>,
    /// ∂J/∂θ on every active cell (and ∂J/∂weights), with the names and layout of the parameter fields.
    pub parameters: Fields,
    /// ∂J/∂(initial state), with the names and layout of the state fields.
    pub states: Fields,
    /// Final states.
    pub final_states: Fields,
    pub memory: MemoryUse,
}

/// Runs the forward model and its adjoint for `cost` of the discharge at `cells` (routing-order numbers,
/// e.g. [`super::gauge_cells`]).
pub fn gradient(
    config: &Config,
    inputs: &Inputs,
    parameters: &Fields,
    states: &Fields,
    cells: &[usize],
    cost: &impl DischargeCost,
    options: &AdjointOptions,
) -> Result<FieldGradient, Error> {
    match config.precision {
        Precision::F32 => gradient_as::<f32>(config, inputs, parameters, states, cells, cost, options),
        Precision::F64 => gradient_as::<f64>(config, inputs, parameters, states, cells, cost, options),
    }
}

/// The inputs of one run in precision `T`: forcing (borrowed when already f32) and the setup.
struct Run<'a, T: Clone + 'static> {
    config: &'a Config,
    inputs: &'a Inputs,
    cells: &'a [usize],
    prcp: std::borrow::Cow<'a, [T]>,
    pet: std::borrow::Cow<'a, [T]>,
}

impl<'a, T: CostFloat> Run<'a, T> {
    fn new(config: &'a Config, inputs: &'a Inputs, cells: &'a [usize]) -> Self {
        let (prcp, pet) = (T::from_f32s(&inputs.forcing.prcp), T::from_f32s(&inputs.forcing.pet));
        Run { config, inputs, cells, prcp, pet }
    }

    fn setup(&self) -> Setup<'a> {
        let config = self.config;
        Setup {
            structure: config.structure,
            network: &self.inputs.network,
            dt: config.time.dt as f64,
            outlets: self.cells,
        }
    }

    fn forcing(&self) -> simulation::Forcing<'_, T> {
        simulation::Forcing { ntime: self.config.time.ntime, prcp: &self.prcp, pet: &self.pet }
    }
}

/// f64 field values in precision `T`.
fn in_precision<T: CostFloat>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

fn gradient_as<T: CostFloat>(
    config: &Config,
    inputs: &Inputs,
    parameters: &Fields,
    states: &Fields,
    cells: &[usize],
    cost: &impl DischargeCost,
    options: &AdjointOptions,
) -> Result<FieldGradient, Error> {
    let run = Run::<T>::new(config, inputs, cells);
    let (setup, forcing) = (run.setup(), run.forcing());
    let g = engine::gradient(
        config.device,
        &setup,
        &forcing,
        &in_precision(&parameters.values),
        &in_precision(&states.values),
        &in_precision(&parameters.weights),
        |q| T::cost(cost, q, true),
        options,
    )?;
    let to_f64 = |v: &[T]| v.iter().map(|&x| Real::to_f64(x)).collect::<Vec<f64>>();
    let with_values = |fields: &Fields, values: &[T]| Fields { values: to_f64(values), ..fields.clone() };
    let grad_parameters = Fields { weights: to_f64(&g.weights), ..with_values(parameters, &g.parameters) };
    Ok(FieldGradient {
        cost: Real::to_f64(g.cost),
        qsim: g.qsim.iter().map(|&v| Real::to_f64(v) as f32).collect(),
        parameters: grad_parameters,
        states: with_values(states, &g.states),
        final_states: with_values(states, &g.final_states),
        memory: g.memory,
    })
}

/// The cost of one parameter set from a forward run only (no adjoint), in the configuration's precision.
///
/// # Returns
/// `(J, discharge at the cells [T, G] in m³/s)`.
pub fn forward_cost(
    config: &Config,
    inputs: &Inputs,
    parameters: &Fields,
    states: &Fields,
    cells: &[usize],
    cost: &impl DischargeCost,
) -> Result<(f64, Vec<f32>), Error> {
    match config.precision {
        Precision::F32 => forward_cost_as::<f32>(config, inputs, parameters, states, cells, cost),
        Precision::F64 => forward_cost_as::<f64>(config, inputs, parameters, states, cells, cost),
    }
}

fn forward_cost_as<T: CostFloat>(
    config: &Config,
    inputs: &Inputs,
    parameters: &Fields,
    states: &Fields,
    cells: &[usize],
    cost: &impl DischargeCost,
) -> Result<(f64, Vec<f32>), Error> {
    let run = Run::<T>::new(config, inputs, cells);
    let (setup, forcing) = (run.setup(), run.forcing());
    let mut batch = Batch {
        nset: 1,
        ncell: parameters.ncell,
        parameters: in_precision(&parameters.values),
        states: in_precision(&states.values),
        weights: in_precision(&parameters.weights),
    };
    let q = engine::forward(config.device, &setup, &forcing, &mut batch)?;
    let (j, _) = T::cost(cost, &q, false);
    Ok((Real::to_f64(j), q.iter().map(|&v| Real::to_f64(v) as f32).collect()))
}

/// The costs of `S = sets.len()` parameter sets, each `(parameters, initial states)`, from one batched
/// forward run (no adjoint), in the configuration's precision.
///
/// # Returns
/// The values of [`DischargeCost::objectives_f32`] per set, `[S][K]` (`[S][1]`: `J`), and the discharge at
/// the cells \[m³/s\], `[S, T, G]`.
pub fn forward_costs(
    config: &Config,
    inputs: &Inputs,
    sets: &[(Fields, Fields)],
    cells: &[usize],
    cost: &(impl DischargeCost + Sync),
) -> Result<(Vec<Vec<f64>>, Vec<f32>), Error> {
    match config.precision {
        Precision::F32 => forward_costs_as::<f32>(config, inputs, sets, cells, cost),
        Precision::F64 => forward_costs_as::<f64>(config, inputs, sets, cells, cost),
    }
}

fn forward_costs_as<T: CostFloat + Send + Sync>(
    config: &Config,
    inputs: &Inputs,
    sets: &[(Fields, Fields)],
    cells: &[usize],
    cost: &(impl DischargeCost + Sync),
) -> Result<(Vec<Vec<f64>>, Vec<f32>), Error> {
    use rayon::prelude::*;
    let Some((first, _)) = sets.first() else { return Ok((Vec::new(), Vec::new())) };
    let run = Run::<T>::new(config, inputs, cells);
    let (setup, forcing) = (run.setup(), run.forcing());
    let (s, n) = (sets.len(), first.ncell);
    let mut batch = Batch {
        nset: s,
        ncell: n,
        parameters: interleave(&sets.iter().map(|(p, _)| p.values.as_slice()).collect::<Vec<_>>(), n),
        states: interleave(&sets.iter().map(|(_, st)| st.values.as_slice()).collect::<Vec<_>>(), n),
        weights: sets.iter().flat_map(|(p, _)| p.weights.iter().map(|&w| T::from_f64(w))).collect(),
    };
    let q = engine::forward(config.device, &setup, &forcing, &mut batch)?;
    let per_set = q.len() / s;
    let costs = q.par_chunks(per_set.max(1)).map(|qs| T::objectives(cost, qs)).collect();
    Ok((costs, q.iter().map(|&v| Real::to_f64(v) as f32).collect()))
}

/// `[V, N]` per set → `[V, S, N]`, in the engine's precision.
fn interleave<T: CostFloat + Send + Sync>(per_set: &[&[f64]], ncell: usize) -> Vec<T> {
    use rayon::prelude::*;
    let (s, n) = (per_set.len(), ncell.max(1));
    let nvar = per_set.first().map_or(0, |v| v.len() / n);
    let mut out = vec![T::ZERO; nvar * s * n];
    out.par_chunks_mut(n).enumerate().for_each(|(i, dst)| {
        let (var, set) = (i / s, i % s);
        dst.iter_mut().zip(&per_set[set][var * n..(var + 1) * n]).for_each(|(d, &v)| *d = T::from_f64(v));
    });
    out
}
