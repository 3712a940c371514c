//! Model structures: a hydrological module composed with a routing module (smash's `setup.structure`).

use crate::gr::gr4;
use crate::lanes::Lane;
use crate::registry::VarInfo;
use crate::routing::RoutingModule;

/// The hydrological modules (`setup.hydrological_module`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HydrologicalModule {
    Gr4,
}

impl HydrologicalModule {
    pub fn name(self) -> &'static str {
        match self {
            HydrologicalModule::Gr4 => "gr4",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        (name == "gr4").then_some(HydrologicalModule::Gr4)
    }

    pub fn parameters(self) -> &'static [VarInfo] {
        match self {
            HydrologicalModule::Gr4 => gr4::PARAMETERS,
        }
    }

    pub fn states(self) -> &'static [VarInfo] {
        match self {
            HydrologicalModule::Gr4 => gr4::STATES,
        }
    }

    /// Whether the structure has an interception capacity `ci` that smash adjusts at sub-daily steps.
    pub fn adjusts_interception(self) -> bool {
        matches!(self, HydrologicalModule::Gr4)
    }
}

/// A hydrological step for a lane of cells (see [`gr4::step`]).
pub(crate) trait HydrologyStep {
    fn step<V: Lane>(p: V, e: V, params: &[V], states: &mut [V], beta: V) -> V;
}

pub(crate) struct Gr4;

impl HydrologyStep for Gr4 {
    #[inline(always)]
    fn step<V: Lane>(p: V, e: V, params: &[V], states: &mut [V], beta: V) -> V {
        gr4::step(p, e, params, states, beta)
    }
}

/// A full model structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Structure {
    pub hydrology: HydrologicalModule,
    pub routing: RoutingModule,
}

impl Structure {
    /// smash's structure name, e.g. `gr4-lr`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.hydrology.name(), self.routing.name())
    }

    /// Parameters: the hydrological module's, then the routing module's.
    pub fn parameters(&self) -> Vec<VarInfo> {
        [self.hydrology.parameters(), self.routing.parameters()].concat()
    }

    /// States: the hydrological module's, then the routing module's.
    pub fn states(&self) -> Vec<VarInfo> {
        [self.hydrology.states(), self.routing.states()].concat()
    }
}
