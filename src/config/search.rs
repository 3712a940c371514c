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
    /// `objectives`: the `K ≥ 2` objective functions or likelihoods a multi-objective method (`nsgaii`,
    /// `padds`) minimises together, each per gauge and combined over gauges like `objective`; empty for a
    /// single-objective method.
    pub objectives: Vec<SearchObjective>,
    /// `pareto_choice`: the member of a multi-objective stage's Pareto front it passes on.
    pub pareto_choice: ParetoChoice,
    /// `behavioural` (a fraction of the runs: GLUE's best x %) or `behavioural_threshold` (a cost): the
    /// behavioural sets of the report's diagnostics. `None`: the second halves of the chain states for
    /// MCMC methods, the best 10 % of the runs for the others.
    pub behavioural: Option<Behavioural>,
}

impl SearchConfig {
    /// What the stage minimises instead of smash's cost: its `objectives`, or its one `objective` or
    /// `likelihood`; empty for smash's cost.
    pub fn spotpy(&self) -> Vec<SearchObjective> {
        if self.objectives.is_empty() { self.objective.into_iter().collect() } else { self.objectives.clone() }
    }
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

/// `pareto_choice`: which member of the Pareto front a multi-objective stage passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParetoChoice {
    /// `"compromise"` (default): the member nearest the ideal point, each objective scaled to `[0, 1]` over
    /// the front.
    #[default]
    Compromise,
    /// The name of one of the `objectives`: its best member, by index into `objectives`.
    Best(usize),
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
    pub objectives: Option<&'a [String]>,
    pub pareto_choice: Option<&'a str>,
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
    let (objective, objectives) = match raw.objectives {
        Some(names) => {
            if let Some(k) =
                [("objective", raw.objective), ("likelihood", raw.likelihood)].iter().find(|(_, v)| v.is_some())
            {
                return Err((key("objectives"), format!("give either {} or objectives, not both", k.0)));
            }
            (None, objectives(method, names, raw.phi).map_err(|(k, m)| (key(k), m))?)
        }
        None if method.multi_objective() => {
            let message = format!(
                "{} minimises several objectives together: list at least 2, e.g. objectives = [\"nse\", \"pbias\"]",
                method.name()
            );
            return Err((key("objectives"), message));
        }
        None => (single_objective(raw.objective, raw.likelihood, raw.phi).map_err(|(k, m)| (key(k), m))?, Vec::new()),
    };
    let pareto_choice = pareto_choice(raw.pareto_choice, &objectives).map_err(|m| (key("pareto_choice"), m))?;
    let behavioural = behavioural(raw.behavioural, raw.behavioural_threshold).map_err(|(k, m)| (key(k), m))?;
    method.check_options(&raw.rest).map_err(|m| (key(&first_key(&raw.rest, &m)), m))?;
    Ok(SearchConfig {
        method,
        options: raw.rest,
        max_evaluations,
        priors,
        save_runs,
        objective,
        objectives,
        pareto_choice,
        behavioural,
    })
}

/// `objective` or `likelihood` (with `phi`), not both; `Err((key, message))`.
fn single_objective(
    objective: Option<&str>,
    likelihood: Option<&str>,
    phi: Option<f64>,
) -> Result<Option<SearchObjective>, (&'static str, String)> {
    match (objective, likelihood, phi) {
        (Some(_), Some(_), _) => Err(("likelihood", "give either objective or likelihood, not both".into())),
        (Some(_), None, Some(_)) | (None, None, Some(_)) => Err(("phi", "phi goes with an AR(1) likelihood".into())),
        (Some(name), None, None) => {
            Ok(Some(SearchObjective::Objective(SpotpyObjective::from_name(name).map_err(|m| ("objective", m))?)))
        }
        (None, Some(name), phi) => Ok(Some(SearchObjective::Likelihood(
            Likelihood::from_name(name, phi)
                .map_err(|m| (if m.starts_with("phi") { "phi" } else { "likelihood" }, m))?,
        ))),
        (None, None, None) => Ok(None),
    }
}

/// `objectives` of a stage run by `method`: `K ≥ 2` distinct objective function or likelihood names (`phi`
/// goes to the AR(1) likelihood among them), for a multi-objective method only; `Err((key, message))`.
fn objectives(
    method: Method,
    names: &[String],
    phi: Option<f64>,
) -> Result<Vec<SearchObjective>, (&'static str, String)> {
    let key = "objectives";
    if !method.multi_objective() {
        let message = format!(
            "{} minimises one objective: use objective or likelihood, or a multi-objective method (nsgaii, padds) for objectives",
            method.name()
        );
        return Err((key, message));
    }
    if names.len() < 2 {
        return Err((key, format!("{} name(s): a multi-objective stage needs at least 2", names.len())));
    }
    let mut out: Vec<SearchObjective> = Vec::with_capacity(names.len());
    let mut phi_used = false;
    for name in names {
        let objective = match SpotpyObjective::from_name(name) {
            Ok(o) => SearchObjective::Objective(o),
            // an AR(1) likelihood is the one that accepts a phi
            Err(_) if Likelihood::from_name(name, Some(0.0)).is_ok() => {
                phi_used = true;
                SearchObjective::Likelihood(Likelihood::from_name(name, phi).map_err(|m| ("phi", m))?)
            }
            Err(_) => SearchObjective::Likelihood(Likelihood::from_name(name, None).map_err(|_| {
                let known = [&SpotpyObjective::NAMES[..], &Likelihood::NAMES[..]].concat().join(", ");
                (key, format!("unknown objective function or likelihood '{name}' (one of: {known})"))
            })?),
        };
        if out.iter().any(|o| o.name() == objective.name()) {
            return Err((key, format!("'{name}' is listed twice (as '{}')", objective.name())));
        }
        out.push(objective);
    }
    if phi.is_some() && !phi_used {
        return Err(("phi", "phi goes with an AR(1) likelihood".into()));
    }
    Ok(out)
}

/// `pareto_choice`: `"compromise"` (default) or the name of one of `objectives`; only with `objectives`.
fn pareto_choice(choice: Option<&str>, objectives: &[SearchObjective]) -> Result<ParetoChoice, String> {
    let Some(name) = choice else { return Ok(ParetoChoice::Compromise) };
    if objectives.is_empty() {
        return Err("pareto_choice goes with objectives (a multi-objective method)".into());
    }
    if name == "compromise" {
        return Ok(ParetoChoice::Compromise);
    }
    // either spelling of a name: SPOTPY's or ours
    let canonical = SpotpyObjective::from_name(name)
        .map(|o| o.names().0)
        .or_else(|_| {
            Likelihood::from_name(name, None).or_else(|_| Likelihood::from_name(name, Some(0.0))).map(|l| l.names().0)
        })
        .unwrap_or(name);
    objectives.iter().position(|o| o.name() == canonical).map(ParetoChoice::Best).ok_or_else(|| {
        let names: Vec<_> = objectives.iter().map(|o| o.name()).collect();
        format!("'{name}' is neither \"compromise\" nor one of the objectives ({})", names.join(", "))
    })
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
            objectives: None,
            pareto_choice: None,
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

    fn nsgaii() -> Method {
        Method::from_name("nsgaii").expect("nsgaii is registered")
    }

    /// `optimize_options` of `method` with `objectives`, `objective`, `phi` and `pareto_choice`.
    fn multi(
        method: Method,
        objectives: Option<&[String]>,
        objective: Option<&'static str>,
        phi: Option<f64>,
        pareto_choice: Option<&'static str>,
    ) -> Result<SearchConfig, (String, String)> {
        search_config(method, RawSearch { objectives, objective, phi, pareto_choice, ..raw(None, None) })
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn objectives_are_parsed_for_a_multi_objective_method() {
        let list = names(&["nashsutcliffe", "kge", "gaussianLikelihoodMeasErrorOut"]);
        let config = multi(nsgaii(), Some(&list), None, None, None).unwrap();
        let parsed: Vec<&str> = config.objectives.iter().map(|o| o.name()).collect();
        assert_eq!(parsed, ["nse", "kge", "gaussian_meas_error_out"]);
        assert_eq!((config.objective, config.pareto_choice), (None, ParetoChoice::Compromise));
        assert_eq!(config.spotpy(), config.objectives);
        // either spelling names the objective to keep; phi goes to the AR(1) likelihood
        let config = multi(nsgaii(), Some(&list), None, None, Some("gaussianLikelihoodMeasErrorOut")).unwrap();
        assert_eq!(config.pareto_choice, ParetoChoice::Best(2));
        let ar1 = names(&["pbias", "LikelihoodAR1NoC"]);
        let config = multi(nsgaii(), Some(&ar1), None, Some(0.5), Some("pbias")).unwrap();
        assert_eq!(config.pareto_choice, ParetoChoice::Best(0));
        assert_eq!(
            config.objectives[1],
            SearchObjective::Likelihood(Likelihood::from_name("LikelihoodAR1NoC", Some(0.5)).unwrap())
        );
    }

    #[test]
    fn bad_objectives_name_the_key() {
        let two = names(&["nse", "pbias"]);
        type Parsed = Result<SearchConfig, (String, String)>;
        let cases: [(Parsed, &str, &str); 9] = [
            (multi(Method::Sceua, Some(&two), None, None, None), "objectives", "sceua minimises one objective"),
            (multi(nsgaii(), None, None, None, None), "objectives", "at least 2"),
            (multi(nsgaii(), None, Some("nse"), None, None), "objectives", "at least 2"),
            (multi(nsgaii(), Some(&names(&["nse"])), None, None, None), "objectives", "at least 2"),
            (multi(nsgaii(), Some(&two), Some("kge"), None, None), "objectives", "not both"),
            (multi(nsgaii(), Some(&names(&["nse", "nashsutcliffe"])), None, None, None), "objectives", "twice"),
            (multi(nsgaii(), Some(&names(&["nse", "nsee"])), None, None, None), "objectives", "'nsee'"),
            (multi(nsgaii(), Some(&two), None, None, Some("kge")), "pareto_choice", "(nse, pbias)"),
            (multi(Method::Sceua, None, Some("nse"), None, Some("nse")), "pareto_choice", "goes with objectives"),
        ];
        for (result, key, text) in cases {
            let (k, message) = result.unwrap_err();
            assert_eq!(k, format!("optimize_options.{key}"), "{message}");
            assert!(message.contains(text), "{key}: {message}");
        }
        let (k, _) = multi(nsgaii(), Some(&two), None, Some(0.5), None).unwrap_err();
        assert_eq!(k, "optimize_options.phi", "phi without an AR(1) likelihood");
    }
}
