//! Model structures: a hydrological module composed with a routing module (smash's `setup.structure`).

use crate::gr::{gr4, ode};
use crate::lanes::Lane;
use crate::nn::{Activations, Mlp, MlpShape};
use crate::registry::VarInfo;
use crate::routing::RoutingModule;

/// The hydrological modules (`setup.hydrological_module`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HydrologicalModule {
    Gr4,
    /// gr4 with flux corrections from a network of `hidden_neuron` hidden neurons (spec §1.3).
    Gr4Mlp(MlpShape),
    /// Production and transfer as an ODE solved by implicit Euler (spec §1.4).
    Gr4Ode,
    /// gr4_ode with a network's corrections of its right-hand side (spec §1.4; smash's `gr4_ude`).
    Gr4Ude(MlpShape),
}

impl HydrologicalModule {
    /// Every module name, for messages.
    pub const NAMES: [&'static str; 4] = ["gr4", "gr4_mlp", "gr4_ode", "gr4_ude"];

    pub fn name(self) -> &'static str {
        match self {
            HydrologicalModule::Gr4 => "gr4",
            HydrologicalModule::Gr4Mlp(_) => "gr4_mlp",
            HydrologicalModule::Gr4Ode => "gr4_ode",
            HydrologicalModule::Gr4Ude(_) => "gr4_ude",
        }
    }

    /// The module `name`, with `net` as the shape of its network if it has one.
    pub fn from_name(name: &str, net: MlpShape) -> Option<Self> {
        match name {
            "gr4" => Some(HydrologicalModule::Gr4),
            "gr4_mlp" => Some(HydrologicalModule::Gr4Mlp(net)),
            "gr4_ode" => Some(HydrologicalModule::Gr4Ode),
            "gr4_ude" => Some(HydrologicalModule::Gr4Ude(net)),
            _ => None,
        }
    }

    /// Parameters `ci, cp, ct, kexc` (smash's for every gr4 variant).
    pub fn parameters(self) -> &'static [VarInfo] {
        gr4::PARAMETERS
    }

    /// States `hi, hp, ht` (smash's for every gr4 variant).
    pub fn states(self) -> &'static [VarInfo] {
        gr4::STATES
    }

    /// The shape of the hybrid network, if the module has one.
    pub fn net(self) -> Option<MlpShape> {
        match self {
            HydrologicalModule::Gr4 | HydrologicalModule::Gr4Ode => None,
            HydrologicalModule::Gr4Mlp(shape) | HydrologicalModule::Gr4Ude(shape) => Some(shape),
        }
    }

    /// Number of network weights `W` (0 without a network).
    pub fn nweights(self) -> usize {
        self.net().map_or(0, |s| s.len())
    }

    /// Whether the structure has an interception capacity `ci` that smash adjusts at sub-daily steps.
    pub fn adjusts_interception(self) -> bool {
        self.parameters().iter().any(|p| p.name == "ci")
    }
}

/// A hydrological step for a lane of cells (see [`gr4::step`]); `net` is the module's network (its
/// weights are empty without one), `act` scratch for its activations.
pub(crate) trait HydrologyStep {
    fn step<V: Lane>(
        p: V,
        e: V,
        params: &[V],
        states: &mut [V],
        beta: V,
        net: &Mlp<'_, V::Scalar>,
        act: &mut Activations<V>,
    ) -> V;
}

pub(crate) struct Gr4;

impl HydrologyStep for Gr4 {
    #[inline(always)]
    fn step<V: Lane>(
        p: V,
        e: V,
        params: &[V],
        states: &mut [V],
        beta: V,
        _: &Mlp<'_, V::Scalar>,
        _: &mut Activations<V>,
    ) -> V {
        gr4::step(p, e, params, states, beta)
    }
}

pub(crate) struct Gr4Mlp;

impl HydrologyStep for Gr4Mlp {
    #[inline(always)]
    fn step<V: Lane>(
        p: V,
        e: V,
        params: &[V],
        states: &mut [V],
        beta: V,
        net: &Mlp<'_, V::Scalar>,
        act: &mut Activations<V>,
    ) -> V {
        gr4::step_with(p, e, params, states, beta, Some((net, act)))
    }
}

pub(crate) struct Gr4Ode;

impl HydrologyStep for Gr4Ode {
    #[inline(always)]
    fn step<V: Lane>(
        p: V,
        e: V,
        params: &[V],
        states: &mut [V],
        _: V,
        _: &Mlp<'_, V::Scalar>,
        _: &mut Activations<V>,
    ) -> V {
        ode::step(p, e, params, states, None)
    }
}

pub(crate) struct Gr4Ude;

impl HydrologyStep for Gr4Ude {
    #[inline(always)]
    fn step<V: Lane>(
        p: V,
        e: V,
        params: &[V],
        states: &mut [V],
        _: V,
        net: &Mlp<'_, V::Scalar>,
        act: &mut Activations<V>,
    ) -> V {
        ode::step(p, e, params, states, Some((net, act)))
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
