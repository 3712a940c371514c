//! Every method by its config name, with its options read from a TOML table (unknown keys rejected).

use super::methods;
use super::{Sampler, Space};
use serde::de::DeserializeOwned;

/// Reads a method's options; the message names the offending key.
fn parse<O: DeserializeOwned>(options: &toml::Table) -> Result<O, String> {
    toml::Value::Table(options.clone()).try_into::<O>().map_err(|e| e.to_string().trim().to_string())
}

macro_rules! registry {
    ($($variant:ident => $name:literal, $module:ident :: $ty:ident, $options:ident, $what:literal;)*) => {
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

            /// Checks the method's options without building it.
            pub fn check_options(self, options: &toml::Table) -> Result<(), String> {
                match self {
                    $(Method::$variant => parse::<methods::$module::$options>(options).map(drop),)*
                }
            }

            /// The method on `space`, seeded with `random_state`, for a budget of `max_evaluations`.
            pub fn build(
                self,
                space: Space,
                options: &toml::Table,
                random_state: u32,
                max_evaluations: usize,
            ) -> Result<Box<dyn Sampler>, String> {
                Ok(match self {
                    $(Method::$variant => Box::new(methods::$module::$ty::new(
                        space,
                        parse(options)?,
                        random_state,
                        max_evaluations,
                    )?),)*
                })
            }
        }
    };
}

registry! {
    Sceua => "sceua", sceua::Sceua, SceuaOptions, "shuffled complex evolution (Duan et al. 1992; SPOTPY's variant behind a flag)";
    Dds => "dds", dds::Dds, DdsOptions, "dynamically dimensioned search (Tolson & Shoemaker 2007)";
    Mc => "mc", mc::Mc, McOptions, "Monte Carlo draws from the priors";
    Lhs => "lhs", lhs::Lhs, LhsOptions, "Latin hypercube sampling";
    Grid => "grid", grid::Grid, GridOptions, "full factorial grid";
    Ga => "ga", ga::Ga, GaOptions, "genetic algorithm (roulette selection, single-point crossover, mutation)";
    Pso => "pso", pso::Pso, PsoOptions, "particle swarm optimisation";
    De => "de", de::DifferentialEvolution, DeOptions, "differential evolution (scipy's defaults)";
    NelderMead => "nelder_mead", nelder_mead::NelderMead, NelderMeadOptions, "Nelder–Mead simplex (scipy's)";
    Cmaes => "cmaes", cmaes::Cmaes, CmaesOptions, "covariance matrix adaptation evolution strategy (Hansen)";
    Mcmc => "mcmc", mcmc::Mcmc, McmcOptions, "Metropolis Markov chain Monte Carlo";
    Dream => "dream", dream::Dream, DreamOptions, "DiffeRential Evolution Adaptive Metropolis (Vrugt 2016)";
    Demcz => "demcz", demcz::Demcz, DemczOptions, "differential evolution Markov chain with a past archive (ter Braak & Vrugt 2008)";
    Sa => "sa", sa::Sa, SaOptions, "simulated annealing (SPOTPY's)";
    Mle => "mle", mle::Mle, MleOptions, "maximum likelihood hill climbing (SPOTPY's)";
    Rope => "rope", rope::Rope, RopeOptions, "robust parameter estimation by data depth (Bárdossy & Singh 2008)";
    Tpe => "tpe", tpe::Tpe, TpeOptions, "tree-structured Parzen estimator (Bergstra et al. 2011)";
    Gp => "gp", gp::Gp, GpOptions, "Gaussian-process surrogate with expected improvement";
}
