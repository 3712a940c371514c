//! The observation cost of a calibration: smash's `cost_options` on the configuration's gauges, in both
//! precisions, as a [`DischargeCost`] of the discharge at the gauges.

use super::search::objective::{SearchObjective, SpotpyCost};
use crate::config::Config;
use crate::cost::{
    CostError, CostOptions, CostSetup, ObservationCost, RawCostOptions, downstream_gauges, gauge_areas,
    gauge_mean_forcing,
};
use crate::model::{DischargeCost, Inputs};
use hydrograd_models::Real;

/// Why a cost cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CalibrationCostError {
    #[error("{}: [{section}] {source}", config.display())]
    Options {
        config: std::path::PathBuf,
        section: String,
        #[source]
        source: CostError,
    },
    #[error("{}: the cost needs observed discharge: set setup.qobs_directory", config.display())]
    NoObservations { config: std::path::PathBuf },
    #[error("{}: [{section}] gauge(s) {codes} have no observation in the cost window (smash refuses to calibrate on them)", config.display())]
    Unobserved { config: std::path::PathBuf, section: String, codes: String },
}

/// `J_obs` on the gauges of the mesh, `[T, G]` discharge in mesh gauge order.
pub struct GaugeCost {
    pub options: CostOptions,
    f32: ObservationCost<f32>,
    f64: ObservationCost<f64>,
    /// A search stage's SPOTPY objectives or likelihoods, which replace the `jobs_cmpt` terms (no gradient).
    spotpy: Option<SpotpyCost>,
}

impl GaugeCost {
    /// The cost of `raw` (the TOML table at `section`, e.g. `train.stage.1.cost_options`) on `inputs`.
    pub fn new(
        config: &Config,
        inputs: &Inputs,
        raw: &RawCostOptions,
        section: &str,
    ) -> Result<GaugeCost, CalibrationCostError> {
        let mesh = &inputs.mesh;
        let qobs =
            inputs.qobs.as_ref().ok_or_else(|| CalibrationCostError::NoObservations { config: config.path.clone() })?;
        let codes: Vec<String> = mesh.gauges.iter().map(|g| g.code.clone()).collect();
        let downstream = downstream_gauges(mesh);
        let options = CostOptions::from_raw(raw, &config.time, &codes, &downstream).map_err(|source| {
            CalibrationCostError::Options { config: config.path.clone(), section: section.to_string(), source }
        })?;
        let mean_prcp = gauge_mean_forcing(mesh, &inputs.forcing.prcp, config.time.ntime);
        let area = gauge_areas(mesh);
        let setup = CostSetup {
            codes: &codes,
            qobs,
            mean_prcp: &mean_prcp,
            gauge_area: &area,
            downstream: &downstream,
            time: &config.time,
        };
        let f32 = ObservationCost::new(&options, &setup);
        let unobserved = f32.unobserved_gauges();
        if !unobserved.is_empty() {
            let codes = unobserved.iter().map(|&g| codes[g].as_str()).collect::<Vec<_>>().join(", ");
            return Err(CalibrationCostError::Unobserved {
                config: config.path.clone(),
                section: section.to_string(),
                codes,
            });
        }
        let f64 = ObservationCost::new(&options, &setup);
        Ok(GaugeCost { options, f32, f64, spotpy: None })
    }

    /// The cost with `objectives` (`[K]`, `K ≥ 1`) in place of the `jobs_cmpt` terms, on the same gauges and
    /// window: the cost is the first one's value, [`DischargeCost::objectives_f32`] gives all `K`.
    pub fn with_objectives(self, objectives: Vec<SearchObjective>, inputs: &Inputs) -> GaugeCost {
        let qobs = inputs.qobs.as_deref().expect("a GaugeCost has observations");
        let spotpy = SpotpyCost::new(objectives, &self.options, qobs, inputs.mesh.gauges.len());
        GaugeCost { spotpy: Some(spotpy), ..self }
    }
}

fn evaluate<T: Real>(cost: &ObservationCost<T>, q: &[T], gradient: bool) -> (T, Vec<T>) {
    if gradient {
        let mut g = vec![T::ZERO; q.len()];
        let e = cost.evaluate(q, Some(&mut g));
        (e.jobs, g)
    } else {
        (cost.evaluate(q, None).jobs, Vec::new())
    }
}

impl DischargeCost for GaugeCost {
    fn evaluate_f32(&self, q: &[f32], gradient: bool) -> (f32, Vec<f32>) {
        match &self.spotpy {
            Some(c) => (c.evaluate(|i| q[i] as f64) as f32, no_gradient(gradient)),
            None => evaluate(&self.f32, q, gradient),
        }
    }

    fn evaluate_f64(&self, q: &[f64], gradient: bool) -> (f64, Vec<f64>) {
        match &self.spotpy {
            Some(c) => (c.evaluate(|i| q[i]), no_gradient(gradient)),
            None => evaluate(&self.f64, q, gradient),
        }
    }

    fn objectives_f32(&self, q: &[f32]) -> Vec<f64> {
        match &self.spotpy {
            Some(c) if c.count() > 1 => c.evaluate_all(|i| q[i] as f64),
            _ => vec![self.evaluate_f32(q, false).0 as f64],
        }
    }

    fn objectives_f64(&self, q: &[f64]) -> Vec<f64> {
        match &self.spotpy {
            Some(c) if c.count() > 1 => c.evaluate_all(|i| q[i]),
            _ => vec![self.evaluate_f64(q, false).0],
        }
    }
}

/// SPOTPY's objectives have no gradient: the configuration allows them in search stages only.
fn no_gradient<T>(gradient: bool) -> Vec<T> {
    assert!(!gradient, "a SPOTPY objective has no gradient (search stages only)");
    Vec::new()
}
