//! The options of a `[[train.stage]]` run by a derivative-free method (`optimizer = "sceua"`, ...): the
//! budget, the seed, the priors, what is saved, and the method's own options, all in
//! `[train.stage.optimize_options]`.

use crate::calibration::search::objective::SearchObjective;
use crate::samplers::diagnostics::Behavioural;
use crate::samplers::likelihoods::Likelihood;
use crate::samplers::objectives::SpotpyObjective;
use crate::samplers::{Distribution, Method};

/// A stage searched by a derivative-free method.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchConfig {
    pub method: Method,
    /// The method's own keys of `optimize_options` (e.g. `ngs`, `kstop`), checked against the method.
    pub options: toml::Table,
    /// Model evaluations the stage may spend (`max_evaluations`).
    pub max_evaluations: usize,
    /// `priors`: a distribution per parameter (uniform in the bounds where absent), truncated to the bounds.
    pub priors: Vec<(String, Distribution)>,
    /// `save_runs`: parameter sets promoted to full simulations with their discharge.
    pub save_runs: SaveRuns,
    /// `objective` (a SPOTPY objective function) or `likelihood` (with `phi` for the AR(1) ones): what the
    /// method minimises instead of the stage's `cost_options` terms.
    pub objective: Option<SearchObjective>,
    /// `behavioural` (a fraction of the runs: GLUE's best x %) or `behavioural_threshold` (a cost): the
    /// behavioural sets of the report's diagnostics. `None`: the second halves of the chain states for
    /// MCMC methods, the best 10 % of the runs for the others.
    pub behavioural: Option<Behavioural>,
}

/// `save_runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveRuns {
    /// Only the samples table (default).
    #[default]
    None,
    /// `"best_n"` with `n`: the `n` best sets.
    Best(usize),
    /// `"all"`: every evaluated set.
    All,
}

/// The `optimize_options` keys of a search stage that are not the method's own.
pub(super) struct RawSearch<'a> {
    pub max_evaluations: Option<i64>,
    pub priors: Option<&'a toml::Table>,
    pub save_runs: Option<&'a str>,
    pub n: Option<i64>,
    pub objective: Option<&'a str>,
    pub likelihood: Option<&'a str>,
    pub phi: Option<f64>,
    pub behavioural: Option<f64>,
    pub behavioural_threshold: Option<f64>,
    /// Everything else: the method's options.
    pub rest: toml::Table,
}

/// Validates a search stage's options; `Err((key, message))` names the key under `optimize_options`.
pub(super) fn search_config(method: Method, raw: RawSearch<'_>) -> Result<SearchConfig, (String, String)> {
    let key = |k: &str| format!("optimize_options.{k}");
    let max_evaluations = match raw.max_evaluations {
        None => {
            return Err((
                key("max_evaluations"),
                format!("{} needs a budget of model evaluations, e.g. max_evaluations = 5000", method.name()),
            ));
        }
        Some(n) if n >= 1 => n as usize,
        Some(n) => return Err((key("max_evaluations"), format!("{n}: must be at least 1"))),
    };
    let mut priors = Vec::new();
    for (name, value) in raw.priors.into_iter().flatten() {
        let k = key(&format!("priors.{name}"));
        let table = value.as_table().ok_or_else(|| {
            (
                k.clone(),
                format!("expected a table such as {{ distribution = \"normal\", mean = 1, sd = 0.5 }}, found {value}"),
            )
        })?;
        priors.push((name.clone(), distribution(table).map_err(|m| (k.clone(), m))?));
    }
    let save_runs = match (raw.save_runs, raw.n) {
        (None | Some("none"), None) => SaveRuns::None,
        (Some("all"), None) => SaveRuns::All,
        (Some("best_n"), Some(n)) if n >= 1 => SaveRuns::Best(n as usize),
        (Some("best_n"), _) => return Err((key("n"), "save_runs = \"best_n\" needs n ≥ 1 sets to save".into())),
        (_, Some(_)) => return Err((key("n"), "n goes with save_runs = \"best_n\"".into())),
        (Some(other), None) => {
            return Err((key("save_runs"), format!("'{other}' is not one of: none, best_n, all")));
        }
    };
    let objective = match (raw.objective, raw.likelihood, raw.phi) {
        (Some(_), Some(_), _) => {
            return Err((key("likelihood"), "give either objective or likelihood, not both".into()));
        }
        (Some(_), None, Some(_)) => return Err((key("phi"), "phi goes with an AR(1) likelihood".into())),
        (Some(name), None, None) => {
            Some(SearchObjective::Objective(SpotpyObjective::from_name(name).map_err(|m| (key("objective"), m))?))
        }
        (None, Some(name), phi) => Some(SearchObjective::Likelihood(
            Likelihood::from_name(name, phi)
                .map_err(|m| (key(if m.starts_with("phi") { "phi" } else { "likelihood" }), m))?,
        )),
        (None, None, Some(_)) => return Err((key("phi"), "phi goes with an AR(1) likelihood".into())),
        (None, None, None) => None,
    };
    let behavioural = behavioural(raw.behavioural, raw.behavioural_threshold).map_err(|(k, m)| (key(k), m))?;
    method.check_options(&raw.rest).map_err(|m| (key(&first_key(&raw.rest, &m)), m))?;
    Ok(SearchConfig { method, options: raw.rest, max_evaluations, priors, save_runs, objective, behavioural })
}

/// `behavioural` (a fraction in `(0, 1]`) or `behavioural_threshold` (a finite cost), not both;
/// `Err((key, message))`.
fn behavioural(fraction: Option<f64>, threshold: Option<f64>) -> Result<Option<Behavioural>, (&'static str, String)> {
    match (fraction, threshold) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err((
            "behavioural_threshold",
            "give either behavioural (a fraction of the runs) or behavioural_threshold (a cost), not both".into(),
        )),
        (Some(f), None) if f > 0.0 && f <= 1.0 => Ok(Some(Behavioural::Best { percent: 100.0 * f })),
        (Some(f), None) => {
            Err(("behavioural", format!("{f}: the fraction of the runs kept must be in (0, 1], e.g. 0.1")))
        }
        (None, Some(t)) if t.is_finite() => Ok(Some(Behavioural::Threshold(t))),
        (None, Some(t)) => Err(("behavioural_threshold", format!("{t}: must be a finite cost"))),
    }
}

/// The key a method's option error is about (the one its message quotes), for the error's location.
fn first_key(options: &toml::Table, message: &str) -> String {
    options.keys().find(|k| message.contains(&format!("`{k}`"))).cloned().unwrap_or_else(|| "<method options>".into())
}

/// `{ distribution = "uniform" | "normal" | "lognormal", ... }`.
fn distribution(table: &toml::Table) -> Result<Distribution, String> {
    let num = |k: &str| -> Result<f64, String> {
        let v = table.get(k).ok_or_else(|| format!("missing `{k}`"))?;
        v.as_float().or_else(|| v.as_integer().map(|i| i as f64)).ok_or_else(|| format!("`{k}`: expected a number"))
    };
    let known = |allowed: &[&str]| -> Result<(), String> {
        match table.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown key `{k}` (expected: {})", allowed.join(", "))),
            None => Ok(()),
        }
    };
    let name = table.get("distribution").and_then(|v| v.as_str()).ok_or("missing `distribution`")?;
    match name {
        "uniform" => known(&["distribution"]).map(|_| Distribution::Uniform),
        "normal" => {
            known(&["distribution", "mean", "sd"])?;
            Ok(Distribution::Normal { mean: num("mean")?, sd: num("sd")? })
        }
        "lognormal" => {
            known(&["distribution", "mu", "sigma"])?;
            Ok(Distribution::LogNormal { mu: num("mu")?, sigma: num("sigma")? })
        }
        other => Err(format!("distribution '{other}' is not one of: uniform, normal, lognormal")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(behavioural: Option<f64>, behavioural_threshold: Option<f64>) -> RawSearch<'static> {
        RawSearch {
            max_evaluations: Some(100),
            priors: None,
            save_runs: None,
            n: None,
            objective: None,
            likelihood: None,
            phi: None,
            behavioural,
            behavioural_threshold,
            rest: toml::Table::new(),
        }
    }

    #[test]
    fn behavioural_keys_are_validated_by_name() {
        let ok = |r| search_config(Method::Mc, r).map(|c| c.behavioural);
        assert_eq!(ok(raw(None, None)), Ok(None));
        assert_eq!(ok(raw(Some(0.25), None)), Ok(Some(Behavioural::Best { percent: 25.0 })));
        assert_eq!(ok(raw(None, Some(0.4))), Ok(Some(Behavioural::Threshold(0.4))));
        for (r, k) in [
            (raw(Some(0.0), None), "behavioural"),
            (raw(Some(1.5), None), "behavioural"),
            (raw(None, Some(f64::NAN)), "behavioural_threshold"),
            (raw(Some(0.1), Some(0.4)), "behavioural_threshold"),
        ] {
            let (key, message) = ok(r).unwrap_err();
            assert_eq!(key, format!("optimize_options.{k}"), "{message}");
        }
    }
}
