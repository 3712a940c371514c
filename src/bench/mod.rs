//! Throughput measurements behind `hydrograd bench`.

pub mod engines;

use crate::Error;
use crate::config::Config;
use crate::model::{Fields, initial_fields, load_inputs, simulate, simulate_batch};
use crate::output::write_run;
use std::time::Instant;

/// The best time of a measured case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub cells: usize,
    pub steps: usize,
    pub sets: usize,
    /// Best wall time over the repeats \[s\].
    pub seconds: f64,
}

impl Timing {
    /// Cell-steps per second, counting every parameter set.
    pub fn cell_steps_per_second(&self) -> f64 {
        (self.cells * self.steps * self.sets) as f64 / self.seconds
    }
}

/// Times the forward model alone (inputs loaded once) for `sets` parameter sets per call, drawn
/// uniformly within each parameter's default bounds (a fixed seed), like smash's `generate_samples`.
pub fn bench_forward(config: &Config, sets: usize, repeats: usize) -> Result<Timing, Error> {
    let inputs = load_inputs(config)?;
    let (parameters, states) = initial_fields(config, &inputs)?;
    let batch = random_sets(config, &parameters, sets);
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        std::hint::black_box(simulate_batch(config, &inputs, &batch, &states)?);
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(Timing { cells: inputs.mesh.nac(), steps: config.time.ntime, sets, seconds: best })
}

/// Times whole runs, as `hydrograd run` does them: mesh, cached forcing, parameters, simulation and
/// outputs (into a temporary folder). The first run fills the cache and is not counted.
pub fn bench_whole_run(config: &Config, repeats: usize) -> Result<Timing, Error> {
    let out = tempfile::tempdir()
        .map_err(|source| crate::output::OutputError::Write { path: std::env::temp_dir(), source })?;
    let once = || -> Result<usize, Error> {
        let inputs = load_inputs(config)?;
        let sim = simulate(config, &inputs)?;
        write_run(out.path(), config, &inputs, &sim)?;
        Ok(inputs.mesh.nac())
    };
    let cells = once()?;
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        once()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(Timing { cells, steps: config.time.ntime, sets: 1, seconds: best })
}

/// `sets` copies of `base` whose calibrated parameters (all but `ci`) are uniform in their default bounds.
fn random_sets(config: &Config, base: &Fields, sets: usize) -> Vec<Fields> {
    let infos = config.structure.parameters();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..sets)
        .map(|k| {
            let mut f = base.clone();
            if sets > 1 || k > 0 {
                for info in infos.iter().filter(|i| i.name != "ci") {
                    let v = info.bounds.0 + uniform() * (info.bounds.1 - info.bounds.0);
                    f.get_mut(info.name).expect("structure parameter").fill(v);
                }
            }
            f
        })
        .collect()
}

/// Times the forward run with its cost, and the gradient (forward sweep, cost, adjoint) of the same cost
/// (the configuration's `[cost_options]`), inputs loaded once: `(forward, gradient)`, medians over the
/// repeats.
pub fn bench_gradient(
    config: &Config,
    repeats: usize,
) -> Result<(Timing, Timing), crate::calibration::train::TrainError> {
    let inputs = load_inputs(config)?;
    let (parameters, states) = initial_fields(config, &inputs)?;
    let cost = crate::calibration::cost::GaugeCost::new(config, &inputs, &config.cost_options, "cost_options")?;
    let cells = crate::model::gauge_cells(&inputs.mesh);
    let options = hydrograd_models::adjoint::AdjointOptions::default();
    // the two alternate, so that both see the same machine load; the median of each is kept (the
    // typical cost inside a calibration loop)
    let (mut forward, mut gradient) = (Vec::with_capacity(repeats), Vec::with_capacity(repeats));
    for _ in 0..repeats {
        let start = Instant::now();
        std::hint::black_box(crate::model::forward_cost(config, &inputs, &parameters, &states, &cells, &cost)?);
        forward.push(start.elapsed().as_secs_f64());
        let start = Instant::now();
        std::hint::black_box(crate::model::gradient(config, &inputs, &parameters, &states, &cells, &cost, &options)?);
        gradient.push(start.elapsed().as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (forward, gradient) = (median(forward), median(gradient));
    let timing = |seconds| Timing { cells: inputs.mesh.nac(), steps: config.time.ntime, sets: 1, seconds };
    Ok((timing(forward), timing(gradient)))
}
