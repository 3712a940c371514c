//! `hydrograd grad CONFIG [--out DIR]`.

use anyhow::Context;
use hydrograd::calibration::cost::GaugeCost;
use hydrograd::config::DeviceKind;
use hydrograd::model::{gauge_cells, gradient, initial_fields, load_inputs};
use hydrograd::output::write_gradient;
use hydrograd_models::adjoint::AdjointOptions;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct GradArgs {
    /// The configuration file (TOML); the cost is its [cost_options] (smash's defaults: 1 − NSE at the
    /// most downstream gauge).
    config: PathBuf,
    /// Where the model runs: cpu, wgpu, vulkan, metal or cuda (overrides `[compute] device`).
    #[arg(long)]
    device: Option<DeviceKind>,
    /// Output folder for gradient.safetensors.
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

pub fn grad(args: GradArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let config = super::load_config(&args.config, args.device)?;
    let inputs = load_inputs(&config)?;
    let (parameters, states) = initial_fields(&config, &inputs)?;
    let cost = GaugeCost::new(&config, &inputs, &config.cost_options, "cost_options")?;
    let loaded = start.elapsed();
    let g = gradient(
        &config,
        &inputs,
        &parameters,
        &states,
        &gauge_cells(&inputs.mesh),
        &cost,
        &AdjointOptions::default(),
    )?;
    let computed = start.elapsed() - loaded;
    let files =
        write_gradient(&args.out, &config, &inputs, &g).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{}: {} active cells x {} steps; J = {:.7}",
        config.structure.name(),
        inputs.mesh.nac(),
        config.time.ntime,
        g.cost
    );
    for (fields, kind) in [(&g.parameters, "parameter"), (&g.states, "initial state")] {
        for name in &fields.names {
            let v = fields.get(name).unwrap();
            let total: f64 = v.iter().sum();
            let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            println!("  dJ/d{name:<5} ({kind}): sum over cells {total:>12.5e}, max |.| {max:.3e}");
        }
    }
    let m = g.memory;
    println!(
        "adjoint: {} segment(s) of {} steps, {:.1} MB of checkpoints and buffers",
        m.segments,
        m.segment_len,
        (m.checkpoint_values + m.segment_values) as f64
            * if config.precision == hydrograd::config::Precision::F32 { 4.0 } else { 8.0 }
            / 1e6
    );
    for f in files {
        println!("wrote {}", f.display());
    }
    println!("inputs {:.3} s, forward + adjoint {:.3} s", loaded.as_secs_f64(), computed.as_secs_f64());
    Ok(())
}
