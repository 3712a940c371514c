//! Optimizer options with smash's key names and defaults (`_constant.py::DEFAULT_TERMINATION_CRIT`), readable
//! from TOML tables. In smash they come from `optimize_options.termination_crit` and
//! `optimize_options.learning_rate`.

use serde::{Deserialize, Deserializer};

use super::{Adaptive, OptimError};

/// The optimizers, by smash's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimizer {
    Sbs,
    Lbfgsb,
    Adam,
    Sgd,
    Adagrad,
    Rmsprop,
    /// A derivative-free method of `crate::samplers`, run by the calibration's search stages (its settings
    /// live beside the stage, not here).
    Search,
}

impl Optimizer {
    /// smash's optimizer names.
    pub const NAMES: [&'static str; 6] = ["sbs", "lbfgsb", "adam", "sgd", "adagrad", "rmsprop"];

    /// The optimizer named `name` (smash's names).
    pub fn from_name(name: &str) -> Option<Optimizer> {
        Some(match name {
            "sbs" => Self::Sbs,
            "lbfgsb" => Self::Lbfgsb,
            "adam" => Self::Adam,
            "sgd" => Self::Sgd,
            "adagrad" => Self::Adagrad,
            "rmsprop" => Self::Rmsprop,
            _ => return None,
        })
    }

    /// The name as configs spell it (`"search"` for a derivative-free method).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sbs => "sbs",
            Self::Lbfgsb => "lbfgsb",
            Self::Adam => "adam",
            Self::Sgd => "sgd",
            Self::Adagrad => "adagrad",
            Self::Rmsprop => "rmsprop",
            Self::Search => "search",
        }
    }

    /// The adaptive kind, for the four adaptive optimizers.
    pub fn adaptive(self) -> Option<Adaptive> {
        match self {
            Self::Sbs | Self::Lbfgsb | Self::Search => None,
            Self::Adam => Some(Adaptive::Adam),
            Self::Sgd => Some(Adaptive::Sgd),
            Self::Adagrad => Some(Adaptive::Adagrad),
            Self::Rmsprop => Some(Adaptive::Rmsprop),
        }
    }
}

/// SBS termination criteria (smash: `{"maxiter": 50}`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SbsOptions {
    /// Iterations, each `n` inner steps for `n` controls.
    pub maxiter: usize,
    /// Keep the control values in single precision, as smash does (its control vector is Fortran
    /// `real(sp)` and its SBS loop works on float32 numpy arrays): set by the caller for f32 runs, not a
    /// configuration key.
    #[serde(skip)]
    pub single_precision: bool,
}

impl Default for SbsOptions {
    fn default() -> Self {
        Self { maxiter: 50, single_precision: false }
    }
}

/// L-BFGS-B termination criteria (smash: `{"maxiter": 100, "factr": 1e6, "pgtol": 1e-12}`), plus scipy's
/// `maxcor` and `maxls`, which smash leaves at scipy's defaults.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LbfgsbOptions {
    /// Iterations (scipy's `maxiter`; as in scipy, 0 still allows one iteration).
    pub maxiter: usize,
    /// Relative cost reduction tolerance in units of machine epsilon (smash passes `ftol = 2.22e-16·factr`).
    pub factr: f64,
    /// Tolerance on the projected gradient's infinity norm (scipy's `gtol`).
    pub pgtol: f64,
    /// Stored curvature pairs (scipy's `maxcor`).
    pub maxcor: usize,
    /// Line-search evaluations per iteration (scipy's `maxls`).
    pub maxls: usize,
}

impl Default for LbfgsbOptions {
    fn default() -> Self {
        Self { maxiter: 100, factr: 1e6, pgtol: 1e-12, maxcor: 10, maxls: 20 }
    }
}

impl LbfgsbOptions {
    /// Rejects what smash or scipy reject: `factr ≤ 0`, `pgtol ≤ 0`, `maxcor = 0`, `maxls = 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        positive("factr", self.factr)?;
        positive("pgtol", self.pgtol)?;
        if self.maxcor == 0 {
            return Err(invalid("maxcor", "0", "must be at least 1"));
        }
        if self.maxls == 0 {
            return Err(invalid("maxls", "0", "must be at least 1"));
        }
        Ok(())
    }
}

/// Adaptive optimizers' termination criteria (smash: `{"maxiter": 200, "early_stopping": 0}`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptiveTerminationCrit {
    /// Iterations.
    pub maxiter: usize,
    /// Stop after this many iterations without improvement and revert to the best (0: off).
    pub early_stopping: usize,
}

impl Default for AdaptiveTerminationCrit {
    fn default() -> Self {
        Self { maxiter: 200, early_stopping: 0 }
    }
}

/// Options of the adaptive optimizers, flat: `learning_rate`, `maxiter`, `early_stopping`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptiveOptions {
    /// Learning rate; `None` takes the optimizer's default ([`Adaptive::default_learning_rate`]).
    pub learning_rate: Option<f64>,
    /// Iterations.
    pub maxiter: usize,
    /// Stop after this many iterations without improvement and revert to the best (0: off).
    pub early_stopping: usize,
}

impl Default for AdaptiveOptions {
    fn default() -> Self {
        Self::new(None, &AdaptiveTerminationCrit::default())
    }
}

impl AdaptiveOptions {
    /// Combines smash's `learning_rate` option and `termination_crit`.
    pub fn new(learning_rate: Option<f64>, crit: &AdaptiveTerminationCrit) -> Self {
        Self { learning_rate, maxiter: crit.maxiter, early_stopping: crit.early_stopping }
    }

    /// Rejects a negative or non-finite learning rate (smash rejects `< 0`).
    pub fn validate(&self) -> Result<(), OptimError> {
        match self.learning_rate {
            Some(lr) if !(lr >= 0.0 && lr.is_finite()) => {
                Err(invalid("learning_rate", &lr.to_string(), "must be finite and at least 0"))
            }
            _ => Ok(()),
        }
    }
}

/// smash's `termination_crit` for one optimizer: the keys allowed depend on the optimizer.
#[derive(Clone, Debug, PartialEq)]
pub enum TerminationCrit {
    Sbs(SbsOptions),
    Lbfgsb(LbfgsbOptions),
    Adaptive(AdaptiveTerminationCrit),
    /// A derivative-free method: it stops on its budget and its own options.
    Search,
}

impl TerminationCrit {
    /// smash's defaults for `optimizer`.
    pub fn default_for(optimizer: Optimizer) -> Self {
        match optimizer {
            Optimizer::Sbs => Self::Sbs(SbsOptions::default()),
            Optimizer::Lbfgsb => Self::Lbfgsb(LbfgsbOptions::default()),
            Optimizer::Search => Self::Search,
            _ => Self::Adaptive(AdaptiveTerminationCrit::default()),
        }
    }

    /// Reads the table for `optimizer` (e.g. from a `toml::Value`), missing keys at smash's defaults and unknown
    /// keys rejected.
    pub fn deserialize_for<'de, D: Deserializer<'de>>(optimizer: Optimizer, deserializer: D) -> Result<Self, D::Error> {
        Ok(match optimizer {
            Optimizer::Sbs => Self::Sbs(SbsOptions::deserialize(deserializer)?),
            Optimizer::Lbfgsb => Self::Lbfgsb(LbfgsbOptions::deserialize(deserializer)?),
            Optimizer::Search => {
                return Err(serde::de::Error::custom("derivative-free methods take no termination_crit"));
            }
            _ => Self::Adaptive(AdaptiveTerminationCrit::deserialize(deserializer)?),
        })
    }
}

fn invalid(key: &'static str, value: &str, reason: &'static str) -> OptimError {
    OptimError::InvalidOption { key, value: value.to_owned(), reason }
}

fn positive(key: &'static str, value: f64) -> Result<(), OptimError> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(invalid(key, &value.to_string(), "must be finite and > 0"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_smash_defaults() {
        let l: LbfgsbOptions = toml::from_str("").unwrap();
        assert_eq!(l, LbfgsbOptions { maxiter: 100, factr: 1e6, pgtol: 1e-12, maxcor: 10, maxls: 20 });
        assert_eq!(toml::from_str::<SbsOptions>("").unwrap().maxiter, 50);
        let a: AdaptiveOptions = toml::from_str("").unwrap();
        assert_eq!((a.learning_rate, a.maxiter, a.early_stopping), (None, 200, 0));
        let c: AdaptiveTerminationCrit = toml::from_str("").unwrap();
        assert_eq!((c.maxiter, c.early_stopping), (200, 0));
        assert_eq!(AdaptiveOptions::new(None, &c).maxiter, 200);
    }

    #[test]
    fn termination_crit_per_optimizer() {
        let v: toml::Value = toml::from_str("maxiter = 7\nfactr = 1e7").unwrap();
        let crit = TerminationCrit::deserialize_for(Optimizer::Lbfgsb, v.clone()).unwrap();
        assert_eq!(crit, TerminationCrit::Lbfgsb(LbfgsbOptions { maxiter: 7, factr: 1e7, ..Default::default() }));
        let e = TerminationCrit::deserialize_for(Optimizer::Sbs, v).unwrap_err().to_string();
        assert!(e.contains("factr"), "{e}");
        let v: toml::Value = toml::from_str("early_stopping = 3").unwrap();
        let crit = TerminationCrit::deserialize_for(Optimizer::Adam, v).unwrap();
        assert_eq!(crit, TerminationCrit::Adaptive(AdaptiveTerminationCrit { maxiter: 200, early_stopping: 3 }));
        assert_eq!(
            TerminationCrit::default_for(Optimizer::Sbs),
            TerminationCrit::Sbs(SbsOptions { maxiter: 50, ..Default::default() })
        );
    }

    #[test]
    fn invalid_values_are_named() {
        let o = LbfgsbOptions { pgtol: 0.0, ..Default::default() };
        assert_eq!(
            o.validate().unwrap_err().to_string(),
            "invalid optimizer option `pgtol` = 0: must be finite and > 0"
        );
        assert!(toml::from_str::<AdaptiveOptions>("early_stopping = -1").is_err());
        let a = AdaptiveOptions { learning_rate: Some(-0.1), ..Default::default() };
        assert!(a.validate().unwrap_err().to_string().contains("learning_rate"));
        assert_eq!(Optimizer::from_name("rmsprop").and_then(Optimizer::adaptive), Some(Adaptive::Rmsprop));
        assert_eq!(Optimizer::from_name("RMSprop"), None);
        assert!(Optimizer::NAMES.iter().all(|n| Optimizer::from_name(n).is_some_and(|o| o.name() == *n)));
    }
}
