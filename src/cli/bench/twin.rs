//! `hydrograd bench twin --flwdir PATH (--window ROW0,COL0,NROW,NCOL | --whole) [...]`: the twin
//! experiment (`docs/twin.md`): regionalization mappings trained on synthetic discharge of known
//! parameters, scored on held-out gauges and timed per epoch.

use anyhow::{Context, bail};
use hydrograd::calibration::control::Mapping;
use hydrograd::config::DeviceKind;
use hydrograd::io::atomic::write_atomically;
use hydrograd::twin::{GaugeChoice, LAWS, MappingResult, Recovery, Training, Twin, TwinOptions, Window};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct TwinArgs {
    /// The D8 flow-direction raster (smash's France_flwdir.tif).
    #[arg(long)]
    flwdir: PathBuf,
    /// The window of the raster, in cells: first row, first column, rows, columns.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ROW0,COL0,NROW,NCOL",
        conflicts_with = "whole",
        required_unless_present = "whole"
    )]
    window: Option<Vec<usize>>,
    /// The whole raster.
    #[arg(long)]
    whole: bool,
    /// Gauges to place (half trained on, half held out).
    #[arg(long, default_value_t = 60)]
    gauges: usize,
    /// Smallest and largest drained area of a gauge [km²].
    #[arg(long, value_delimiter = ',', value_name = "MIN,MAX", default_values_t = [100.0, 5000.0])]
    area: Vec<f64>,
    /// Days in the cost, after the warm-up.
    #[arg(long, default_value_t = 305)]
    days: usize,
    /// Days of warm-up.
    #[arg(long, default_value_t = 61)]
    warmup: usize,
    /// Seed of the descriptors and the forcing.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where training runs: cpu, wgpu, vulkan, metal or cuda (the observations come from the CPU engine).
    #[arg(long, default_value = "cpu")]
    device: DeviceKind,
    /// Mappings to train, in order: multi-linear, ann.
    #[arg(long, value_delimiter = ',', default_values = ["multi-linear", "ann"])]
    mapping: Vec<String>,
    /// L-BFGS-B iterations of the multi-linear mapping.
    #[arg(long, default_value_t = 100)]
    ml_maxiter: usize,
    /// Adam iterations of the ann mapping.
    #[arg(long, default_value_t = 150)]
    ann_maxiter: usize,
    /// Adam's learning rate for the ann mapping.
    #[arg(long, default_value_t = 0.02)]
    ann_lr: f64,
    /// Neurons of the ann mapping's hidden layers.
    #[arg(long, value_delimiter = ',', default_values_t = [16])]
    ann_layers: Vec<usize>,
    /// Activation of the ann mapping's hidden layers: relu, leakyrelu, tanh, sigmoid, silu, softplus.
    #[arg(long, default_value = "tanh")]
    ann_activation: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub fn twin(args: TwinArgs) -> anyhow::Result<()> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(n).build_global()?;
    }
    let trainings = args
        .mapping
        .iter()
        .map(|name| match Mapping::from_name(name) {
            Some(Mapping::MultiLinear) => Ok(Training::multi_linear(args.ml_maxiter)),
            Some(Mapping::Ann) => Ok(Training {
                layers: args.ann_layers.clone(),
                activation: args.ann_activation.clone(),
                ..Training::ann(args.ann_maxiter, args.ann_lr)
            }),
            _ => bail!("--mapping: '{name}' is not one of multi-linear, ann"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let window = match args.window.as_deref() {
        None => None,
        Some(&[row0, col0, nrow, ncol]) => Some(Window { row0, col0, nrow, ncol }),
        Some(w) => bail!("--window expects ROW0,COL0,NROW,NCOL, got {} value(s)", w.len()),
    };
    let &[min_area, max_area] = args.area.as_slice() else {
        bail!("--area expects MIN,MAX in km², got {} value(s)", args.area.len())
    };
    let mut options = TwinOptions::new(&args.flwdir);
    options.window = window;
    options.gauges = GaugeChoice { count: args.gauges, area_km2: (min_area, max_area) };
    (options.days, options.warmup_days, options.seed) = (args.days, args.warmup, args.seed);
    eprintln!("setting up the twin experiment ...");
    let twin = Twin::build(&options)?;
    println!("{}", summary(&twin));
    let mut results = Vec::new();
    for training in &trainings {
        let result = train(&twin, training, args.device)
            .with_context(|| format!("training {} on {}", training.mapping.name(), args.device))?;
        println!("{}", report(&result));
        results.push(result);
    }
    if let Some(path) = &args.json {
        let doc = document(&args, &twin, &results);
        write_atomically(path, |f| f.write_all(serde_json::to_string_pretty(&doc)?.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Trains one mapping with a progress bar on a terminal, a line every 10 iterations otherwise.
fn train(twin: &Twin, training: &Training, device: DeviceKind) -> anyhow::Result<MappingResult> {
    let terminal = std::io::stderr().is_terminal();
    let bar = ProgressBar::new(training.maxiter as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]").expect("valid template"));
    let name = training.mapping.name();
    let result = twin.train(training, device, &mut |row| {
        let text = format!(
            "{name}: iteration {} J = {:.6}, held-out J = {:.6} ({:.1} s)",
            row.iteration,
            row.cost,
            row.validation.unwrap_or(f64::NAN),
            row.seconds
        );
        if terminal {
            bar.set_position(row.iteration as u64);
            bar.set_message(text);
        } else if row.iteration % 10 == 0 {
            eprintln!("{text}");
        }
    });
    bar.finish_and_clear();
    Ok(result?)
}

/// `(name, min, mean, max)` of each true map over the active cells.
fn truth_ranges(twin: &Twin) -> Vec<(&'static str, f64, f64, f64)> {
    LAWS.iter()
        .map(|law| {
            let v = twin.truth.get(law.name).expect("gr4 parameter");
            let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            (law.name, lo, v.iter().sum::<f64>() / v.len().max(1) as f64, hi)
        })
        .collect()
}

fn summary(twin: &Twin) -> String {
    let w = twin.window;
    let truth: Vec<String> =
        truth_ranges(twin).iter().map(|(n, lo, mean, hi)| format!("{n} {lo:.2}..{hi:.2} (mean {mean:.2})")).collect();
    let areas: Vec<f64> = twin.inputs.mesh.gauges.iter().map(|g| g.area_dln / 1e6).collect();
    let (lo, hi) = areas.iter().fold((f64::INFINITY, 0f64), |(a, b), &x| (a.min(x), b.max(x)));
    format!(
        "window {w} ({} cells with a flow direction)\n\
         {} active cells draining to {} gauges of {lo:.0} to {hi:.0} km² ({} trained on, {} held out)\n\
         {} daily steps ({} of warm-up); set up in {:.1} s\n\
         true maps: {}",
        twin.window_cells,
        twin.cells(),
        areas.len(),
        twin.training.len(),
        twin.held_out.len(),
        twin.time.ntime,
        twin.warmup,
        twin.setup_seconds,
        truth.join(", ")
    )
}

fn report(r: &MappingResult) -> String {
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let mut text = format!(
        "{} on {}: {} controls, {} iterations, {} evaluations in {:.1} s ({:.3} s per evaluation), {}\n\
         \x20 NSE training median {:.4} (min {:.4}); held out median {:.4} (min {:.4})\n\
         \x20 map     correlation  NRMSE   RMSE    | held-out catchments: correlation  NRMSE\n",
        r.mapping.name(),
        r.device,
        r.controls,
        r.iterations,
        r.evaluations,
        r.seconds,
        r.seconds_per_evaluation(),
        r.termination,
        r.median_training_nse(),
        min(&r.training_nse),
        r.median_held_out_nse(),
        min(&r.held_out_nse),
    );
    for (a, h) in r.recovery.iter().zip(&r.held_out_recovery) {
        text += &format!(
            "  {:<7} {:>11.4} {:>6.3} {:>8.3}   | {:>33.4} {:>6.3}\n",
            a.name, a.correlation, a.nrmse, a.rmse, h.correlation, h.nrmse
        );
    }
    text
}

fn document(args: &TwinArgs, twin: &Twin, results: &[MappingResult]) -> Value {
    let w = twin.window;
    let gauges: Vec<Value> = twin
        .inputs
        .mesh
        .gauges
        .iter()
        .map(|g| json!({ "code": g.code, "area_km2": g.area_dln / 1e6, "held_out": twin.held_out.contains(&g.code) }))
        .collect();
    let recovery = |v: &[Recovery]| -> Vec<Value> {
        v.iter()
            .map(|r| json!({ "name": r.name, "correlation": r.correlation, "nrmse": r.nrmse, "rmse": r.rmse }))
            .collect()
    };
    let rows: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({
                "mapping": r.mapping.name(),
                "device": r.device.name(),
                "controls": r.controls,
                "iterations": r.iterations,
                "evaluations": r.evaluations,
                "seconds": r.seconds,
                "seconds_per_evaluation": r.seconds_per_evaluation(),
                "cost": r.cost,
                "validation": r.validation,
                "termination": r.termination,
                "median_training_nse": r.median_training_nse(),
                "median_held_out_nse": r.median_held_out_nse(),
                "training_nse": r.training_nse,
                "held_out_nse": r.held_out_nse,
                "recovery": recovery(&r.recovery),
                "held_out_recovery": recovery(&r.held_out_recovery),
            })
        })
        .collect();
    json!({
        "date": chrono::Local::now().to_rfc3339(),
        "flwdir": args.flwdir,
        "window": [w.row0, w.col0, w.nrow, w.ncol],
        "window_cells": twin.window_cells,
        "active_cells": twin.cells(),
        "steps": twin.time.ntime,
        "warmup_steps": twin.warmup,
        "seed": args.seed,
        "threads": rayon::current_num_threads(),
        "setup_seconds": twin.setup_seconds,
        "gauges": gauges,
        "truth": truth_ranges(twin)
            .iter()
            .map(|(n, lo, mean, hi)| json!({ "name": n, "min": lo, "mean": mean, "max": hi }))
            .collect::<Vec<_>>(),
        "results": rows,
    })
}
