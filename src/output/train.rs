//! The files of `hydrograd train`: calibrated maps, discharge, trace and the HTML report, written
//! atomically as one set.

use super::{OutputError, Staging, write_maps, write_series, write_trace};
use crate::calibration::search::front::ParetoFront;
use crate::calibration::search::summary::SearchSummary;
use crate::calibration::train::Trained;
use crate::config::Config;
use crate::config::ParetoChoice;
use crate::cost::metrics::{kge, nse};
use crate::model::Inputs;
use crate::model::ann::AnnWeights;
use crate::model::ann_file::AnnFile;
use crate::report::{
    CostPoint, Hydrograph, ParameterMap, ParetoSection, PredictiveBand, Report, SearchSection, render,
};
use std::path::{Path, PathBuf};

/// A trained regionalization network with the descriptor transform of `config` on `inputs`.
fn ann_file(config: &Config, inputs: &Inputs, net: &AnnWeights) -> AnnFile {
    let domain = crate::calibration::control::Domain::of(config, inputs);
    let descriptors = domain.descriptors.expect("an ann mapping ran on descriptors");
    AnnFile {
        net: net.clone(),
        inputs: descriptors.names.clone(),
        tfm: descriptors.tfm,
        stats: descriptors.stats.clone(),
    }
}

/// Discharge at the gauges before and after calibration \[m³/s\], `[T, G]`.
pub struct Discharge<'a> {
    pub before: &'a [f32],
    pub after: &'a [f32],
}

/// Writes `parameters.safetensors`, `initial_states.safetensors`, `weights.safetensors` (hybrid
/// structures), `qsim.parquet`, `trace.parquet` and `report.html` into `dir`.
pub fn write_train(
    dir: &Path,
    config: &Config,
    inputs: &Inputs,
    trained: &Trained,
    q: &Discharge<'_>,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut staging = Staging::new(dir)?;
    let times: Vec<_> = (0..config.time.ntime).map(|k| config.time.step_end(k)).collect();
    let codes: Vec<String> = inputs.mesh.gauges.iter().map(|g| g.code.clone()).collect();
    write_series(&staging.file("qsim.parquet"), &times, &codes, q.after)?;
    let metadata = [
        ("config_hash", config.hash.clone()),
        ("hydrograd_version", env!("CARGO_PKG_VERSION").to_string()),
        ("structure", config.structure.name()),
        ("config", config.path.display().to_string()),
        ("interrupted", trained.interrupted.to_string()),
    ];
    let parameter_maps = trained.parameters.to_maps(&inputs.mesh);
    write_maps(&staging.file("parameters.safetensors"), &parameter_maps, &metadata)?;
    write_maps(&staging.file("initial_states.safetensors"), &trained.states.to_maps(&inputs.mesh), &metadata)?;
    let ann = trained.parameters.ann.as_ref().map(|net| ann_file(config, inputs, net));
    if config.structure.hydrology.net().is_some() || ann.is_some() {
        let path = staging.file("weights.safetensors");
        super::write_weights(&path, config, &trained.parameters.weights, ann.as_ref())?;
    }
    let names: Vec<Vec<String>> = trained.stages.iter().map(|s| s.names.clone()).collect();
    write_trace(&staging.file("trace.parquet"), &trained.trace, &names)?;
    let html = render(&report(config, inputs, trained, q, &codes, parameter_maps));
    let path = staging.file("report.html");
    std::fs::write(&path, html).map_err(|source| OutputError::Write { path, source })?;
    staging.commit()
}

fn report(
    config: &Config,
    inputs: &Inputs,
    trained: &Trained,
    q: &Discharge<'_>,
    codes: &[String],
    maps: super::MapSet,
) -> Report {
    let g = codes.len();
    let column = |v: &[f32], j: usize| -> Vec<f32> { v.iter().skip(j).step_by(g.max(1)).copied().collect() };
    let start_ms = config.time.step_end(0).and_utc().timestamp_millis();
    let hydrographs: Vec<Hydrograph> = (0..g)
        .map(|j| {
            let observed = inputs.qobs.as_ref().map(|o| column(o, j)).unwrap_or_default();
            let (before, after) = (column(q.before, j), column(q.after, j));
            let mut scores = Vec::new();
            for (label, sim) in [("before", &before), ("after", &after)] {
                if let Some(v) = nse(&observed, sim) {
                    scores.push((format!("NSE {label}"), v as f64));
                }
                if let Some(v) = kge(&observed, sim) {
                    scores.push((format!("KGE {label}"), v as f64));
                }
            }
            Hydrograph { code: codes[j].clone(), start_ms, dt_s: config.time.dt, observed, before, after, scores }
        })
        .collect();
    let cost_curve = trained
        .trace
        .iter()
        .map(|r| CostPoint { stage: r.stage, iteration: r.iteration, cost: r.cost, validation: r.validation })
        .collect();
    let units: Vec<(&str, &str)> = config.structure.parameters().iter().map(|v| (v.name, v.unit)).collect();
    let maps = maps
        .maps
        .into_iter()
        .map(|(name, values)| ParameterMap {
            unit: units.iter().find(|(n, _)| *n == name).map_or("", |(_, u)| u).to_string(),
            name,
            nrow: maps.nrow,
            ncol: maps.ncol,
            values,
        })
        .collect();
    let mut summary = vec![
        ("configuration".to_string(), config.path.display().to_string()),
        ("structure".to_string(), config.structure.name()),
        (
            "domain".to_string(),
            format!("{} active cells, {} steps of {} s", inputs.mesh.nac(), config.time.ntime, config.time.dt),
        ),
    ];
    for (i, s) in trained.stages.iter().enumerate() {
        summary.push((format!("stage {}", i + 1), s.to_string()));
    }
    if trained.interrupted {
        summary.push(("note".into(), "interrupted: the result is the best point reached".into()));
    }
    let searches = trained.search.iter().map(|s| search_section(s, &hydrographs)).collect();
    Report {
        title: format!("hydrograd calibration: {}", config.path.display()),
        summary,
        hydrographs,
        cost_curve,
        maps,
        searches,
    }
}

/// The report's view of a search stage's diagnostics, its bands on the time axes of `hydrographs`
/// (gauges in the same order).
fn search_section(s: &SearchSummary, hydrographs: &[Hydrograph]) -> SearchSection {
    let d = s.names.len();
    let values = (0..d).map(|i| s.rows.iter().map(|r| r.x[i]).collect()).collect();
    let mut behavioural = vec![false; s.rows.len()];
    for &k in &s.behavioural {
        behavioural[k] = true;
    }
    let posterior = (0..d).map(|i| s.behavioural.iter().map(|&k| s.rows[k].x[i]).collect()).collect();
    let bands = s.band.as_ref().map_or(Vec::new(), |b| {
        (hydrographs.iter().enumerate())
            .map(|(j, h)| PredictiveBand {
                code: h.code.clone(),
                start_ms: h.start_ms,
                dt_s: h.dt_s,
                observed: h.observed.clone(),
                lower: b.lower[j].clone(),
                median: b.median[j].clone(),
                upper: b.upper[j].clone(),
            })
            .collect()
    });
    SearchSection {
        stage: s.stage,
        method: s.method.clone(),
        rule: s.rule.to_string(),
        names: s.names.clone(),
        values,
        costs: s.rows.iter().map(|r| r.cost).collect(),
        behavioural,
        posterior,
        chains: s.chains,
        r_hat: s.r_hat.clone(),
        geweke: s.geweke.clone(),
        correlation: s.correlation.clone(),
        band_sets: s.band.as_ref().map_or(0, |b| b.sets),
        bands,
        pareto: s.pareto.as_ref().map(|p| pareto_section(s, p)),
    }
}

/// The report's view of a multi-objective stage's front.
fn pareto_section(s: &SearchSummary, p: &ParetoFront) -> ParetoSection {
    let k = p.objectives.len();
    ParetoSection {
        objectives: p.objectives.clone(),
        values: (0..k).map(|o| s.rows.iter().map(|r| r.objectives[o]).collect()).collect(),
        front: p.members.clone(),
        chosen: p.chosen,
        choice: match p.choice {
            ParetoChoice::Compromise => "compromise".into(),
            ParetoChoice::Best(o) => format!("best {}", p.objectives[o]),
        },
        hypervolume: p.hypervolume,
        reference: p.reference.clone(),
    }
}
