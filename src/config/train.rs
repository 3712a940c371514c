//! `[[train.stage]]`: the calibration stages of `hydrograd train`, with smash's `optimize` keys.

use super::ConfigError;
use super::search::{RawSearch, SearchConfig, search_config};
use crate::calibration::control::{ControlTfm, Mapping, Selection, ZoneSource};
use crate::cost::RawCostOptions;
use crate::model::ann::{Activation, AnnLayers};
use crate::model::initializer::{InitSpec, Initializer};
use crate::optim::{Optimizer, TerminationCrit};
use crate::samplers::Method;
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
    #[serde(default)]
    pub init: RawInit,
}

/// `[train.stage.init]`: what is reset before the stage starts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInit {
    pub weights: Option<RawInitSpec>,
    pub biases: Option<RawInitSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInitSpec {
    pub initializer: String,
    pub random_state: Option<i64>,
    #[serde(default = "one")]
    pub scale: f64,
}

fn one() -> f64 {
    1.0
}

fn uniform() -> String {
    "uniform".into()
}

/// `optimize_options`: smash's keys, the search-stage keys, and (in `rest`) a derivative-free method's
/// own keys; `rest` must be empty for the gradient optimizers.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawOptimizeOptions {
    pub parameters: Option<Vec<String>>,
    pub bounds: Option<toml::Table>,
    pub control_tfm: Option<String>,
    pub termination_crit: Option<toml::Value>,
    pub learning_rate: Option<f64>,
    pub descriptor: Option<toml::Table>,
    pub random_state: Option<i64>,
    pub net: Option<RawNet>,
    pub zones: Option<String>,
    pub max_evaluations: Option<i64>,
    pub priors: Option<toml::Table>,
    pub save_runs: Option<String>,
    pub n: Option<i64>,
    pub objective: Option<String>,
    pub likelihood: Option<String>,
    pub phi: Option<f64>,
    pub objectives: Option<Vec<String>>,
    pub pareto_choice: Option<String>,
    pub behavioural: Option<f64>,
    pub behavioural_threshold: Option<f64>,
    #[serde(flatten)]
    pub rest: toml::Table,
}

/// `optimize_options.net`: the graph of an `ann` mapping.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNet {
    /// Neurons of the hidden layers.
    pub layers: Vec<usize>,
    /// Activation of the hidden layers: one name, or one per layer.
    #[serde(default = "relu")]
    pub activation: toml::Value,
    #[serde(default = "tanh")]
    pub output_activation: String,
}

fn relu() -> toml::Value {
    toml::Value::String("relu".into())
}

fn tanh() -> String {
    "tanh".into()
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
    /// Network weights and biases set before the stage starts (`[train.stage.init]`).
    pub init: StageInit,
    /// `optimize_options.net` of an `ann` mapping (default: smash's graph).
    pub net: Option<AnnLayers>,
    /// `optimize_options.random_state`: the seed of an `ann` network's first weights (drawn when absent).
    pub random_state: Option<u32>,
    /// `optimize_options.zones` of a `zones` mapping (`None`: the gauges').
    pub zones: Option<ZoneSource>,
    /// The derivative-free method's settings (`optimizer` is [`Optimizer::Search`]).
    pub search: Option<SearchConfig>,
}

/// `[train.stage.init]`: the hybrid network's weights and biases drawn before a stage (smash's
/// `set_nn_parameters_weight` / `set_nn_parameters_bias` with an initializer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageInit {
    pub weights: Option<InitSpec>,
    pub biases: Option<InitSpec>,
}

impl StageInit {
    pub fn is_empty(&self) -> bool {
        self.weights.is_none() && self.biases.is_none()
    }
}

impl StageConfig {
    /// The optimizer's name as configs spell it (`sbs`, `lbfgsb`, `sceua`, ...).
    pub fn optimizer_name(&self) -> &'static str {
        match &self.search {
            Some(search) => search.method.name(),
            None => self.optimizer.name(),
        }
    }

    /// What the stage optimizes, as the control space takes it, with `random_state` the seed of an `ann`
    /// network's first weights.
    pub fn selection(&self, random_state: u32) -> Selection<'_> {
        let (names, bounds, descriptors) = (&self.parameters, &self.bounds, &self.descriptors);
        Selection { names, bounds, descriptors, net: self.net.as_ref(), random_state, zones: self.zones.as_ref() }
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
    let method = raw.optimizer.as_deref().and_then(Method::from_name);
    let optimizer = match raw.optimizer.as_deref() {
        _ if method.is_some() => Optimizer::Search,
        None if mapping == Mapping::Uniform => Optimizer::Sbs,
        None if mapping == Mapping::Ann => Optimizer::Adam,
        None => Optimizer::Lbfgsb,
        Some(name) => Optimizer::from_name(name).ok_or_else(|| {
            let methods: Vec<_> = Method::ALL.iter().map(|m| m.name()).collect();
            invalid(
                "optimizer",
                format!("'{name}' is not one of: {}, {}", Optimizer::NAMES.join(", "), methods.join(", ")),
            )
        })?,
    };
    let options = &raw.optimize_options;
    let search = search_stage(method, options).map_err(|(k, m)| invalid(&k, m))?;
    let control_tfm = match (options.control_tfm.as_deref(), optimizer) {
        (None | Some("keep"), Optimizer::Search) => ControlTfm::Keep,
        (Some(_), Optimizer::Search) => {
            let message = "derivative-free methods search the parameters' own values: only 'keep'".to_string();
            return Err(invalid("optimize_options.control_tfm", message));
        }
        (None, Optimizer::Sbs) => ControlTfm::Sbs,
        (None, _) if mapping == Mapping::Ann => ControlTfm::Keep,
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
        Some(_) if search.is_some() => {
            let message = "derivative-free methods stop on max_evaluations and their own options".to_string();
            return Err(invalid("optimize_options.termination_crit", message));
        }
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
    let init_spec = |key: &str, raw: &Option<RawInitSpec>| -> Result<Option<InitSpec>, ConfigError> {
        let Some(raw) = raw else { return Ok(None) };
        let key = format!("init.{key}");
        let initializer = Initializer::from_name(&raw.initializer).ok_or_else(|| {
            invalid(&key, format!("initializer '{}' is not one of: {}", raw.initializer, Initializer::NAMES.join(", ")))
        })?;
        let random_state = match raw.random_state {
            None => None,
            Some(seed) => Some(u32::try_from(seed).map_err(|_| {
                invalid(&key, format!("random_state {seed}: must be between 0 and 2³² − 1 (numpy's seeds)"))
            })?),
        };
        if !raw.scale.is_finite() {
            return Err(invalid(&key, format!("scale {}: must be a finite number", raw.scale)));
        }
        Ok(Some(InitSpec { initializer, random_state, scale: raw.scale }))
    };
    let activation = |key: &str, name: &str| {
        Activation::from_name(name).ok_or_else(|| {
            let names: Vec<_> = Activation::ALL.iter().map(|a| a.name()).collect();
            invalid(key, format!("activation '{name}' is not one of: {}", names.join(", ")))
        })
    };
    let net = match &options.net {
        None => None,
        Some(_) if mapping != Mapping::Ann => {
            return Err(invalid("optimize_options.net", "only the ann mapping has a network".into()));
        }
        Some(raw) => {
            let key = "optimize_options.net";
            if raw.layers.is_empty() || raw.layers.contains(&0) {
                return Err(invalid(key, "layers: give the neurons of each hidden layer, e.g. [16, 16]".into()));
            }
            let names: Vec<String> = match &raw.activation {
                toml::Value::String(a) => vec![a.clone(); raw.layers.len()],
                toml::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap_or("?").to_string()).collect(),
                other => return Err(invalid(key, format!("activation: expected a name or a list, found {other}"))),
            };
            if names.len() != raw.layers.len() {
                let message = format!("{} activations for {} hidden layers", names.len(), raw.layers.len());
                return Err(invalid(key, message));
            }
            let hidden =
                raw.layers.iter().zip(&names).map(|(&n, a)| Ok((n, activation(key, a)?))).collect::<Result<_, _>>()?;
            Some(AnnLayers { hidden, output: activation(key, &raw.output_activation)? })
        }
    };
    let random_state =
        match options.random_state {
            None => None,
            Some(seed) => Some(u32::try_from(seed).map_err(|_| {
                invalid("optimize_options.random_state", format!("{seed}: must be between 0 and 2³² − 1"))
            })?),
        };
    let zones = match options.zones.as_deref() {
        None => None,
        Some(_) if mapping != Mapping::Zones => {
            return Err(invalid("optimize_options.zones", "only the zones mapping has zones".into()));
        }
        Some("gauges") => Some(ZoneSource::Gauges),
        // relative to the configuration's folder, as every path of the file
        Some(file) => Some(ZoneSource::Raster(path.parent().unwrap_or(Path::new("")).join(file))),
    };
    let init =
        StageInit { weights: init_spec("weights", &raw.init.weights)?, biases: init_spec("biases", &raw.init.biases)? };
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
        init,
        net,
        random_state,
        zones,
        search,
    })
}

/// The search settings of a stage run by `method`, or a check that a gradient stage has none of their keys.
fn search_stage(
    method: Option<Method>,
    options: &RawOptimizeOptions,
) -> Result<Option<SearchConfig>, (String, String)> {
    let Some(method) = method else {
        let search_keys = [
            ("max_evaluations", options.max_evaluations.is_some()),
            ("priors", options.priors.is_some()),
            ("save_runs", options.save_runs.is_some()),
            ("n", options.n.is_some()),
            ("objective", options.objective.is_some()),
            ("likelihood", options.likelihood.is_some()),
            ("phi", options.phi.is_some()),
            ("objectives", options.objectives.is_some()),
            ("pareto_choice", options.pareto_choice.is_some()),
            ("behavioural", options.behavioural.is_some()),
            ("behavioural_threshold", options.behavioural_threshold.is_some()),
        ];
        let unknown = search_keys.iter().find(|(_, set)| *set).map(|(k, _)| k.to_string());
        return match unknown.or_else(|| options.rest.keys().next().cloned()) {
            Some(k) => Err((
                format!("optimize_options.{k}"),
                "unknown key for this optimizer (a derivative-free method's key?)".to_string(),
            )),
            None => Ok(None),
        };
    };
    let raw = RawSearch {
        max_evaluations: options.max_evaluations,
        priors: options.priors.as_ref(),
        save_runs: options.save_runs.as_deref(),
        n: options.n,
        objective: options.objective.as_deref(),
        likelihood: options.likelihood.as_deref(),
        phi: options.phi,
        objectives: options.objectives.as_deref(),
        pareto_choice: options.pareto_choice.as_deref(),
        behavioural: options.behavioural,
        behavioural_threshold: options.behavioural_threshold,
        rest: options.rest.clone(),
    };
    search_config(method, raw).map(Some)
}
