//! Every method by its config name, with its options read from a TOML table (unknown keys rejected).

use super::methods;
use super::{Sampler, Space};
use serde::de::DeserializeOwned;

/// Reads a method's options; the message names the offending key.
fn parse<O: DeserializeOwned>(options: &toml::Table) -> Result<O, String> {
    toml::Value::Table(options.clone()).try_into::<O>().map_err(|e| e.to_string().trim().to_string())
}

/// Calls a method's constructor: a multi-objective method also gets its number of objectives.
macro_rules! construct {
    (single, $name:literal, $ty:path, $space:ident, $options:ident, $seed:ident, $budget:ident, $objectives:ident) => {{
        if $objectives != 1 {
            return Err(format!("objectives: {} minimises one objective (got {})", $name, $objectives));
        }
        <$ty>::new($space, parse($options)?, $seed, $budget)
    }};
    (multi, $name:literal, $ty:path, $space:ident, $options:ident, $seed:ident, $budget:ident, $objectives:ident) => {
        <$ty>::new($space, parse($options)?, $seed, $budget, $objectives)
    };
}

/// Whether a method kind is multi-objective.
macro_rules! is_multi {
    (single) => {
        false
    };
    (multi) => {
        true
    };
}

macro_rules! registry {
    ($($variant:ident => $name:literal, $module:ident :: $ty:ident, $options:ident, $kind:ident, $what:literal;)*) => {
        /// A derivative-free method.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Method {
            $(#[doc = $what] $variant,)*
        }

        impl Method {
            /// Every method, in the order of the docs.
            pub const ALL: &'static [Method] = &[$(Method::$variant,)*];

            /// The name in configs (`optimizer = "..."`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Method::$variant => $name,)*
                }
            }

            /// One line on what the method is.
            pub fn description(self) -> &'static str {
                match self {
                    $(Method::$variant => $what,)*
                }
            }

            /// The method named `name` in configs.
            pub fn from_name(name: &str) -> Option<Method> {
                Self::ALL.iter().copied().find(|m| m.name() == name)
            }

            /// Whether the method minimises several objectives together (`K ≥ 2`, told `[B, K]` values):
            /// a search stage gives it a list of objectives, and a single-objective method exactly one.
            pub fn multi_objective(self) -> bool {
                match self {
                    $(Method::$variant => is_multi!($kind),)*
                }
            }

            /// Checks the method's options without building it.
            pub fn check_options(self, options: &toml::Table) -> Result<(), String> {
                match self {
                    $(Method::$variant => parse::<methods::$module::$options>(options).map(drop),)*
                }
            }

            /// The method on `space`, seeded with `random_state`, for a budget of `max_evaluations` and
            /// `objectives` values per point (1 for a single-objective method, `K ≥ 2` for a
            /// [`multi_objective`](Method::multi_objective) one).
            ///
            /// # Errors
            /// The method's message (`"key: why"`), `objectives: …` for a count the method cannot take.
            pub fn build(
                self,
                space: Space,
                options: &toml::Table,
                random_state: u32,
                max_evaluations: usize,
                objectives: usize,
            ) -> Result<Box<dyn Sampler>, String> {
                Ok(match self {
                    $(Method::$variant => Box::new(construct!(
                        $kind,
                        $name,
                        methods::$module::$ty,
                        space,
                        options,
                        random_state,
                        max_evaluations,
                        objectives
                    )?),)*
                })
            }
        }
    };
}

registry! {
    Sceua => "sceua", sceua::Sceua, SceuaOptions, single, "shuffled complex evolution (Duan et al. 1992; SPOTPY's variant behind a flag)";
    Dds => "dds", dds::Dds, DdsOptions, single, "dynamically dimensioned search (Tolson & Shoemaker 2007)";
    Mc => "mc", mc::Mc, McOptions, single, "Monte Carlo draws from the priors";
    Lhs => "lhs", lhs::Lhs, LhsOptions, single, "Latin hypercube sampling";
    Grid => "grid", grid::Grid, GridOptions, single, "full factorial grid";
    Ga => "ga", ga::Ga, GaOptions, single, "genetic algorithm (roulette selection, single-point crossover, mutation)";
    Pso => "pso", pso::Pso, PsoOptions, single, "particle swarm optimisation";
    De => "de", de::DifferentialEvolution, DeOptions, single, "differential evolution (scipy's defaults)";
    NelderMead => "nelder_mead", nelder_mead::NelderMead, NelderMeadOptions, single, "Nelder–Mead simplex (scipy's)";
    Cmaes => "cmaes", cmaes::Cmaes, CmaesOptions, single, "covariance matrix adaptation evolution strategy (Hansen)";
    Mcmc => "mcmc", mcmc::Mcmc, McmcOptions, single, "Metropolis Markov chain Monte Carlo";
    Dream => "dream", dream::Dream, DreamOptions, single, "DiffeRential Evolution Adaptive Metropolis (Vrugt 2016)";
    Demcz => "demcz", demcz::Demcz, DemczOptions, single, "differential evolution Markov chain with a past archive (ter Braak & Vrugt 2008)";
    Sa => "sa", sa::Sa, SaOptions, single, "simulated annealing (SPOTPY's)";
    Mle => "mle", mle::Mle, MleOptions, single, "maximum likelihood hill climbing (SPOTPY's)";
    Rope => "rope", rope::Rope, RopeOptions, single, "robust parameter estimation by data depth (Bárdossy & Singh 2008)";
    Tpe => "tpe", tpe::Tpe, TpeOptions, single, "tree-structured Parzen estimator (Bergstra et al. 2011)";
    Gp => "gp", gp::Gp, GpOptions, single, "Gaussian-process surrogate with expected improvement";
    Nsgaii => "nsgaii", nsgaii::Nsgaii, NsgaiiOptions, multi, "NSGA-II, multi-objective genetic algorithm (Deb et al. 2002)";
    Padds => "padds", padds::Padds, PaddsOptions, multi, "Pareto archived DDS, multi-objective (Asadzadeh & Tolson 2013)";
}

impl Method {
    /// How an MPI run cuts this method's batches when `[mpi] scheduling = "auto"`: a whole generation
    /// scattered one share per rank for the methods whose batch is a generation (a population, a swarm,
    /// chains, complexes, a simplex), chunks handed to free ranks for those that ask large blocks of
    /// independent draws or one point at a time (a batch of one goes to one rank either way).
    pub fn scheduling(self) -> crate::config::Scheduling {
        use crate::config::Scheduling::{Dynamic, Generation};
        match self {
            Method::Sceua
            | Method::Ga
            | Method::Pso
            | Method::De
            | Method::NelderMead
            | Method::Cmaes
            | Method::Mcmc
            | Method::Dream
            | Method::Demcz
            | Method::Nsgaii => Generation,
            Method::Dds
            | Method::Mc
            | Method::Lhs
            | Method::Grid
            | Method::Sa
            | Method::Mle
            | Method::Rope
            | Method::Tpe
            | Method::Gp
            | Method::Padds => Dynamic,
        }
    }
}
