//! Subcommands, one file each. They parse arguments, call one library function and print the result.

mod bench;
mod grad;
mod run;
mod train;

use clap::{Parser, Subcommand};
use hydrograd::config::{Config, DeviceKind};
use std::path::Path;

/// GPU-accelerated, differentiable distributed hydrology (smash-equivalent GR models).
#[derive(Parser)]
#[command(name = "hydrograd", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Forward run: simulate discharge for a configuration and write the outputs.
    Run(run::RunArgs),
    /// Gradient of the cost ([cost_options]) with respect to every parameter and initial state of every cell.
    Grad(grad::GradArgs),
    /// Calibrate: run the [[train.stage]] list (SBS, L-BFGS-B, Adam, ...), resumable, with a report.
    Train(train::TrainArgs),
    /// Measure forward throughput in cell-steps per second (benches/compare.py sets it beside smash).
    Bench(bench::BenchArgs),
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Grad(args) => grad::grad(args),
        Command::Train(args) => train::train(args),
        Command::Bench(args) => bench::bench(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            std::process::ExitCode::from(2)
        }
    }
}

/// Reads the configuration, with `--device` (when given) in place of its `[compute] device`.
fn load_config(path: &Path, device: Option<DeviceKind>) -> anyhow::Result<Config> {
    let mut config = Config::from_file(path)?;
    if let Some(device) = device {
        config.device = device;
    }
    Ok(config)
}

/// The error and its causes on one line, leaving out a cause whose text the message already contains
/// (the library's errors name their source in their own message).
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}
