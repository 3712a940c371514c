//! `hydrograd bench CONFIG [--sets 1,64] [--repeats N] [--whole-run]`: forward throughput;
//! `hydrograd bench CONFIG --engines cpu,wgpu [--sets 1,64,1024] [--synthetic 1000000x720]`: engines side by side;
//! `hydrograd bench twin --flwdir PATH (--window ... | --whole)`: the twin experiment (`twin.rs`).
//!
//! Prints one JSON object per line so that `benches/compare.py` can set the figures beside smash's.

use anyhow::Context;
use hydrograd::bench::{bench_forward, bench_gradient, bench_whole_run};
use hydrograd::config::DeviceKind;
use std::path::{Path, PathBuf};

mod engines;
mod twin;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    experiment: Option<Experiment>,
    /// The configuration file (TOML).
    #[arg(required = true)]
    config: Option<PathBuf>,
    /// Where the model runs: cpu, wgpu, vulkan, metal or cuda (overrides `[compute] device`).
    #[arg(long)]
    device: Option<DeviceKind>,
    /// Batch sizes to time (parameter sets per call), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    sets: Vec<usize>,
    /// Timed repetitions; the best is reported.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Also time whole `hydrograd run`s (inputs from the cache, outputs written to a temp folder).
    #[arg(long)]
    whole_run: bool,
    /// Also time the cost's gradient (forward sweep + adjoint) against the forward run with its cost.
    #[arg(long)]
    gradient: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Compare engines: forward and forward+adjoint throughput on each listed device (cpu, wgpu, vulkan,
    /// metal, cuda) for every batch size of --sets, printed as a table.
    #[arg(long, value_delimiter = ',')]
    engines: Vec<DeviceKind>,
    /// With --engines: also a synthetic grid, `CELLSxSTEPS` (e.g. 1000000x720), hourly gr4-lr.
    #[arg(long)]
    synthetic: Option<String>,
    /// With --engines: also time smash's forward (benches/smash_forward.py) with this Python.
    #[arg(long)]
    smash: Option<PathBuf>,
    /// With --engines: write the table as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Experiments that need no configuration file.
#[derive(clap::Subcommand)]
enum Experiment {
    /// The twin experiment: ann and multi-linear regionalization trained on synthetic discharge of known
    /// parameters over a window of a flow-direction raster, scored on held-out gauges (docs/twin.md).
    Twin(Box<twin::TwinArgs>),
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(Experiment::Twin(twin)) = args.experiment {
        return twin::twin(*twin);
    }
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global()?;
    }
    let path: &Path = args.config.as_deref().context("bench needs a configuration file or an experiment")?;
    let config = super::load_config(path, args.device)?;
    if !args.engines.is_empty() {
        return engines::compare(&args, &config);
    }
    let threads = rayon::current_num_threads();
    for &sets in &args.sets {
        let r = bench_forward(&config, sets, args.repeats.max(1))?;
        println!(
            "{{\"case\": \"forward\", \"config\": {:?}, \"sets\": {sets}, \"threads\": {threads}, \"cells\": {}, \"steps\": {}, \"seconds\": {:.6}, \"cell_steps_per_s\": {:.0}}}",
            path.display().to_string(),
            r.cells,
            r.steps,
            r.seconds,
            r.cell_steps_per_second()
        );
    }
    if args.whole_run {
        let r = bench_whole_run(&config, args.repeats.max(1))?;
        println!(
            "{{\"case\": \"whole_run\", \"config\": {:?}, \"sets\": 1, \"threads\": {threads}, \"cells\": {}, \"steps\": {}, \"seconds\": {:.6}, \"cell_steps_per_s\": {:.0}}}",
            path.display().to_string(),
            r.cells,
            r.steps,
            r.seconds,
            r.cell_steps_per_second()
        );
    }
    if args.gradient {
        let (f, g) = bench_gradient(&config, args.repeats.max(1))?;
        for (case, r) in [("forward_cost", f), ("gradient", g)] {
            println!(
                "{{\"case\": \"{case}\", \"config\": {:?}, \"sets\": 1, \"threads\": {threads}, \"cells\": {}, \"steps\": {}, \"seconds\": {:.6}, \"cell_steps_per_s\": {:.0}}}",
                path.display().to_string(),
                r.cells,
                r.steps,
                r.seconds,
                r.cell_steps_per_second()
            );
        }
        println!("{{\"case\": \"gradient_over_forward\", \"ratio\": {:.3}}}", g.seconds / f.seconds);
    }
    Ok(())
}
