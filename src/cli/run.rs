//! `hydrograd run CONFIG [--out DIR]`.

use anyhow::Context;
use hydrograd::config::DeviceKind;
use hydrograd::cost::gauge_scores;
use hydrograd::io::cache::CacheStatus;
use hydrograd::model::{load_inputs, simulate};
use hydrograd::output::write_run;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The configuration file (TOML).
    config: PathBuf,
    /// Where the model runs: cpu, wgpu, vulkan, metal or cuda (overrides `[compute] device`).
    #[arg(long)]
    device: Option<DeviceKind>,
    /// Output folder for qsim.parquet, parameters.safetensors and final_states.safetensors.
    #[arg(long, default_value = "out")]
    out: PathBuf,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let config = super::load_config(&args.config, args.device)?;
    let inputs = load_inputs(&config)?;
    let loaded = start.elapsed();
    let sim = simulate(&config, &inputs)?;
    let simulated = start.elapsed() - loaded;
    let files =
        write_run(&args.out, &config, &inputs, &sim).with_context(|| format!("writing {}", args.out.display()))?;
    let (mesh, time) = (&inputs.mesh, &config.time);
    println!(
        "{}: {} active cells x {} steps of {} s, {} gauge(s); forcing {}",
        config.structure.name(),
        mesh.nac(),
        time.ntime,
        time.dt,
        mesh.gauges.len(),
        match &inputs.cache {
            CacheStatus::Hit => "from cache".to_string(),
            CacheStatus::Created => "read and cached".to_string(),
            CacheStatus::Rebuilt { reason } => format!("re-read ({reason})"),
            CacheStatus::NotStored { reason } => format!("read, not cached ({reason})"),
        }
    );
    for warning in &inputs.forcing.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(qobs) = &inputs.qobs {
        let codes: Vec<String> = mesh.gauges.iter().map(|g| g.code.clone()).collect();
        for s in gauge_scores(&codes, qobs, &sim.qsim) {
            let fmt = |v: Option<f32>| v.map_or("n/a".to_string(), |v| format!("{v:.4}"));
            println!("  {:<12} NSE {:>8}  KGE {:>8}  ({} observed steps)", s.code, fmt(s.nse), fmt(s.kge), s.observed);
        }
    }
    for f in files {
        println!("wrote {}", f.display());
    }
    println!(
        "inputs {:.3} s, simulation {:.3} s, total {:.3} s",
        loaded.as_secs_f64(),
        simulated.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
