//! Gradients of a cost with respect to every parameter and initial state of every active cell: the
//! adjoint of `hydrograd-models` run on the configuration's inputs, in the configuration's precision.

use super::{Fields, Inputs, Precise};
use crate::Error;
use crate::config::{Config, Precision};
use hydrograd_models::Real;
use hydrograd_models::adjoint::{self, AdjointKernel, AdjointOptions, MemoryUse};
use hydrograd_models::simulation::{self, Setup};

/// A cost of the discharge at some cells, differentiable: `(J, ∂J/∂Q)` from `Q` \[m³/s\], both `[T, G]`.
///
/// Generic over the float so the cost runs in the simulation's precision (smash's f32 by default).
pub trait DischargeCost {
    fn evaluate<T: Real>(&self, q: &[T]) -> (T, Vec<T>);
}

/// Cost, discharge and gradients of one parameter set.
#[derive(Debug, Clone)]
pub struct FieldGradient {
    pub cost: f64,
    /// Discharge at the requested cells \[m³/s\], `[T, G]`.
    pub qsim: Vec<f32>,
    /// ∂J/∂θ on every active cell, with the names and layout of the parameter fields.
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

fn gradient_as<T: Precise + AdjointKernel>(
    config: &Config,
    inputs: &Inputs,
    parameters: &Fields,
    states: &Fields,
    cells: &[usize],
    cost: &impl DischargeCost,
    options: &AdjointOptions,
) -> Result<FieldGradient, Error> {
    let (prcp, pet) = (T::from_f32s(&inputs.forcing.prcp), T::from_f32s(&inputs.forcing.pet));
    let setup =
        Setup { structure: config.structure, network: &inputs.network, dt: config.time.dt as f64, outlets: cells };
    let forcing = simulation::Forcing { ntime: config.time.ntime, prcp: &prcp, pet: &pet };
    let to_t = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
    let g = adjoint::gradient(
        &setup,
        &forcing,
        &to_t(&parameters.values),
        &to_t(&states.values),
        |q| cost.evaluate(q),
        options,
    )?;
    let to_f64 = |v: &[T]| v.iter().map(|x| x.to_f64()).collect::<Vec<f64>>();
    let with_values = |fields: &Fields, values: &[T]| Fields { values: to_f64(values), ..fields.clone() };
    Ok(FieldGradient {
        cost: g.cost.to_f64(),
        qsim: g.qsim.iter().map(|v| v.to_f64() as f32).collect(),
        parameters: with_values(parameters, &g.parameters),
        states: with_values(states, &g.states),
        final_states: with_values(states, &g.final_states),
        memory: g.memory,
    })
}
