//! `[[train.stage]]`: the calibration stages of `hydrograd train`, with smash's `optimize` keys.

use super::ConfigError;
use crate::calibration::control::{ControlTfm, Mapping, Selection};
use crate::cost::RawCostOptions;
use crate::optim::{Optimizer, TerminationCrit};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrain {
    #[serde(default)]
    pub stage: Vec<RawStage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStage {
    #[serde(default = "uniform")]
    pub mapping: String,
    pub optimizer: Option<String>,
    #[serde(default)]
    pub optimize_options: RawOptimizeOptions,
    #[serde(default)]
    pub cost_options: RawCostOptions,
}

fn uniform() -> String {
    "uniform".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOptimizeOptions {
    pub parameters: Option<Vec<String>>,
    pub bounds: Option<toml::Table>,
    pub control_tfm: Option<String>,
    pub termination_crit: Option<toml::Value>,
    pub learning_rate: Option<f64>,
    pub descriptor: Option<toml::Table>,
}

/// One calibration stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageConfig {
    pub mapping: Mapping,
    pub optimizer: Optimizer,
    /// Names to optimize (empty: every optimizable parameter of the structure, as smash).
    pub parameters: Vec<String>,
    /// Bounds overriding the defaults, `(name, (lower, upper))`.
    pub bounds: Vec<(String, (f64, f64))>,
    /// Descriptors of each variable in a regional mapping, `(name, descriptors)` (default: all).
    pub descriptors: Vec<(String, Vec<String>)>,
    pub control_tfm: ControlTfm,
    pub termination: TerminationCrit,
    /// Adaptive optimizers only; `None` = smash's default for the optimizer.
    pub learning_rate: Option<f64>,
    pub cost_options: RawCostOptions,
}

impl StageConfig {
    /// What the stage optimizes, as the control space takes it.
    pub fn selection(&self) -> Selection<'_> {
        Selection { names: &self.parameters, bounds: &self.bounds, descriptors: &self.descriptors }
    }
}

pub(super) fn stages(raw: &RawTrain, path: &Path) -> Result<Vec<StageConfig>, ConfigError> {
    raw.stage.iter().enumerate().map(|(i, s)| stage(s, i + 1, path)).collect()
}

fn stage(raw: &RawStage, number: usize, path: &Path) -> Result<StageConfig, ConfigError> {
    let key_of = |k: &str| format!("stage {number}: {k}");
    let invalid = |k: &str, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        section: "train",
        key: key_of(k),
        message,
    };
    let mapping = Mapping::from_name(&raw.mapping).ok_or_else(|| {
        let names: Vec<_> = Mapping::ALL.iter().map(|m| m.name()).collect();
        invalid("mapping", format!("'{}' is not one of: {}", raw.mapping, names.join(", ")))
    })?;
    let optimizer = match raw.optimizer.as_deref() {
        None if mapping == Mapping::Uniform => Optimizer::Sbs,
        None => Optimizer::Lbfgsb,
        Some(name) => Optimizer::deserialize(toml::Value::String(name.to_string())).map_err(|_| {
            invalid("optimizer", format!("'{name}' is not one of: sbs, lbfgsb, adam, sgd, adagrad, rmsprop"))
        })?,
    };
    let options = &raw.optimize_options;
    let control_tfm = match (options.control_tfm.as_deref(), optimizer) {
        (None, Optimizer::Sbs) => ControlTfm::Sbs,
        (None, _) => ControlTfm::Normalize,
        (Some("sbs"), Optimizer::Sbs) => ControlTfm::Sbs,
        (Some("normalize"), _) => ControlTfm::Normalize,
        (Some("keep"), _) => ControlTfm::Keep,
        (Some(other), _) => {
            let allowed = if optimizer == Optimizer::Sbs { "sbs, normalize, keep" } else { "normalize, keep" };
            return Err(invalid(
                "optimize_options.control_tfm",
                format!("'{other}' is not one of: {allowed} (for this optimizer)"),
            ));
        }
    };
    let mut bounds = Vec::new();
    for (name, value) in options.bounds.iter().flatten() {
        let pair = value.as_array().filter(|a| a.len() == 2).and_then(|a| {
            let num = |v: &toml::Value| v.as_float().or_else(|| v.as_integer().map(|i| i as f64));
            Some((num(&a[0])?, num(&a[1])?))
        });
        let pair = pair.ok_or_else(|| {
            invalid(&format!("optimize_options.bounds.{name}"), format!("expected [lower, upper], found {value}"))
        })?;
        bounds.push((name.clone(), pair));
    }
    let mut descriptors = Vec::new();
    for (name, value) in options.descriptor.iter().flatten() {
        let list = value.as_array().and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect());
        let list = list.ok_or_else(|| {
            invalid(&format!("optimize_options.descriptor.{name}"), format!("expected a list of names, found {value}"))
        })?;
        descriptors.push((name.clone(), list));
    }
    let termination = match &options.termination_crit {
        None => TerminationCrit::default_for(optimizer),
        Some(v) => TerminationCrit::deserialize_for(optimizer, v.clone())
            .map_err(|e| invalid("optimize_options.termination_crit", e.to_string()))?,
    };
    if options.learning_rate.is_some() && optimizer.adaptive().is_none() {
        return Err(invalid(
            "optimize_options.learning_rate",
            "only the adaptive optimizers (adam, sgd, adagrad, rmsprop) take a learning rate".into(),
        ));
    }
    if let Some(lr) = options.learning_rate
        && !(lr.is_finite() && lr > 0.0)
    {
        return Err(invalid("optimize_options.learning_rate", format!("{lr}: must be a positive number")));
    }
    Ok(StageConfig {
        mapping,
        optimizer,
        parameters: options.parameters.clone().unwrap_or_default(),
        bounds,
        descriptors,
        control_tfm,
        termination,
        learning_rate: options.learning_rate,
        cost_options: raw.cost_options.clone(),
    })
}
