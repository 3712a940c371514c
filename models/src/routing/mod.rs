//! Routing operators (spec §2.2). Each works on one cell over a series of steps: `q` holds the cell's
//! own runoff `qt` \[m³/s\] on entry and the routed discharge `Q` on return; `qup` is the sum of the routed
//! discharge of the upstream cells \[m³/s\] at the same steps.

pub mod kw;
pub mod lag0;
pub mod lr;

use crate::registry::{DefaultValue, VarInfo};

/// The routing modules of smash (`setup.routing_module`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoutingModule {
    /// `Q = qt`: no accumulation (smash 1.3).
    Zero,
    /// Instantaneous accumulation, `Q = qt + qup`.
    Lag0,
    /// Linear reservoir on the upstream inflow.
    Lr,
    /// Kinematic wave (linearised implicit Chow scheme).
    Kw,
}

impl RoutingModule {
    /// smash's name of the module.
    pub fn name(self) -> &'static str {
        match self {
            RoutingModule::Zero => "zero",
            RoutingModule::Lag0 => "lag0",
            RoutingModule::Lr => "lr",
            RoutingModule::Kw => "kw",
        }
    }

    /// Parses smash's name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Zero, Self::Lag0, Self::Lr, Self::Kw].into_iter().find(|m| m.name() == name)
    }

    /// Parameters, in smash's order.
    pub fn parameters(self) -> &'static [VarInfo] {
        match self {
            RoutingModule::Zero | RoutingModule::Lag0 => &[],
            RoutingModule::Lr => lr::PARAMETERS,
            RoutingModule::Kw => kw::PARAMETERS,
        }
    }

    /// States exposed as the structure's states, in smash's order.
    pub fn states(self) -> &'static [VarInfo] {
        match self {
            RoutingModule::Lr => lr::STATES,
            _ => &[],
        }
    }
}

/// A parameter with an open positive feasible domain.
pub(crate) const fn positive(
    name: &'static str,
    unit: &'static str,
    description: &'static str,
    default: DefaultValue,
    bounds: (f64, f64),
) -> VarInfo {
    VarInfo { name, unit, description, default, bounds, feasible: (0.0, f64::INFINITY), optimizable: true }
}
