//! `hydrograd train CONFIG [--out DIR] [--fresh]`.

use anyhow::Context;
use hydrograd::calibration::checkpoint::{EvaluationLog, TraceRow};
use hydrograd::calibration::train::train as run_stages;
use hydrograd::config::{Config, DeviceKind, StageConfig};
use hydrograd::model::{Fields, Inputs, load_inputs, simulate_batch};
use hydrograd::output::{Discharge, write_train};
use indicatif::{ProgressBar, ProgressStyle};
use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(clap::Args)]
pub struct TrainArgs {
    /// The configuration file (TOML) with its [[train.stage]] list.
    config: PathBuf,
    /// Where the model runs: cpu, wgpu, vulkan, metal or cuda (overrides `[compute] device`).
    #[arg(long)]
    device: Option<DeviceKind>,
    /// Output folder: parameters.safetensors, initial_states.safetensors, qsim.parquet, trace.parquet,
    /// report.html; the checkpoint of an unfinished run lives in DIR/.train.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Start over, discarding the checkpoint of an earlier run in DIR.
    #[arg(long)]
    fresh: bool,
}

/// The checkpoint log of a run in `out`.
pub fn log_path(out: &Path) -> PathBuf {
    out.join(".train").join("log.jsonl")
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let config = super::load_config(&args.config, args.device)?;
    #[cfg(feature = "mpi")]
    {
        use hydrograd::cluster::mpi::{Role, init, share_cores};
        let names = [config.structure.parameters(), config.structure.states()].concat();
        match init(config.mpi, names.iter().map(|v| v.name).collect()) {
            None => {}
            Some(Role::Worker(worker)) => {
                share_cores();
                let inputs = load_inputs(&config)?;
                return Ok(worker.serve(&config, &inputs)?);
            }
            Some(Role::Master(team)) => {
                share_cores();
                println!("MPI: {} ranks", hydrograd::cluster::Team::size(team.as_ref()));
                let result = run(&args, &config, start, Some(team.as_ref()));
                let stats = team.stats();
                let busy: Vec<String> = stats.busy.iter().map(|b| format!("{b:.2}")).collect();
                println!(
                    "MPI: sets evaluated per rank {:?}; evaluation seconds per rank [{}]; {} overdue and {} failed attempt(s) re-issued; {} set(s) failed; {} work messages, {} bytes, {:.3} ms overhead per message",
                    stats.sets,
                    busy.join(", "),
                    stats.overdue,
                    stats.errors,
                    stats.failed,
                    stats.messages,
                    stats.bytes,
                    1e3 * stats.overhead_per_message()
                );
                team.stop(i32::from(result.is_err()), |message| {
                    if let Err(e) = &result {
                        eprintln!("error: {e:#}");
                    }
                    eprintln!("{message}");
                });
                return result;
            }
        }
    }
    run(&args, &config, start, None)
}

/// Trains on this process, with `team` evaluating the search stages' batches over MPI ranks.
fn run(
    args: &TrainArgs,
    config: &Config,
    start: Instant,
    team: Option<&dyn hydrograd::cluster::Team>,
) -> anyhow::Result<()> {
    let log = EvaluationLog::open(&log_path(&args.out), &config.hash, args.fresh)?;
    if log.finished() {
        println!(
            "{} already holds the finished calibration of this configuration; nothing to do (--fresh starts over)",
            args.out.display()
        );
        return Ok(());
    }
    let (evaluations, iterations) = log.logged();
    if evaluations > 0 {
        println!("resuming: replaying {iterations} iteration(s) and {evaluations} evaluation(s) from the checkpoint");
    }
    let parts = log.samples_dir().and_then(|d| std::fs::read_dir(d).ok()).map_or(0, |d| {
        d.filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with("part-"))).count()
    });
    if parts > 0 {
        println!("resuming: replaying the search stages' evaluations from {parts} part(s) of the samples store");
    }
    let inputs = load_inputs(config)?;
    let interrupt = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupt.clone();
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupt: stopping after this iteration and writing the best result (Ctrl-C again to abort)");
        })
        .context("installing the Ctrl-C handler")?;
    }
    let log = RefCell::new(log);
    let mut display = Display::new(config.stages.len());
    let trained = run_stages(config, &inputs, &log, &interrupt, &mut |row, stage| display.row(row, stage), team)?;
    display.finish();
    let before = discharge(config, &inputs, &trained.first_guess.0, &trained.first_guess.1)?;
    let after = discharge(config, &inputs, &trained.parameters, &trained.states)?;
    let files = write_train(&args.out, config, &inputs, &trained, &Discharge { before: &before, after: &after })
        .with_context(|| format!("writing {}", args.out.display()))?;
    if !trained.interrupted {
        log.borrow_mut().record_finished()?;
    }
    for (i, s) in trained.stages.iter().enumerate() {
        println!("stage {}: {s}", i + 1);
    }
    for f in files {
        println!("wrote {}", f.display());
    }
    println!("total {:.2} s", start.elapsed().as_secs_f64());
    if trained.interrupted {
        anyhow::bail!("interrupted: the outputs hold the best result so far; run the same command to continue");
    }
    Ok(())
}

/// Discharge at the gauges for one set of fields, `[T, G]`.
fn discharge(config: &Config, inputs: &Inputs, parameters: &Fields, states: &Fields) -> anyhow::Result<Vec<f32>> {
    Ok(simulate_batch(config, inputs, std::slice::from_ref(parameters), states)?.0)
}

/// A progress bar with the current cost on a terminal, plain log lines otherwise.
struct Display {
    bar: Option<ProgressBar>,
    stages: usize,
    stage: usize,
    /// When the last plain log line was printed.
    last_line: Option<Instant>,
}

impl Display {
    fn new(stages: usize) -> Display {
        Display { bar: None, stages, stage: 0, last_line: None }
    }

    fn row(&mut self, row: &TraceRow, stage: &StageConfig) {
        let (max, position) = match (&stage.search, &stage.termination) {
            (Some(search), _) => (search.max_evaluations, row.evaluations),
            (None, crit) => (crit_max(crit), row.iteration),
        };
        let text = format!(
            "stage {}/{} {} {}: {} {} J = {:.6}{}",
            row.stage,
            self.stages,
            stage.mapping.name(),
            stage.optimizer_name(),
            if stage.search.is_some() { "evaluation" } else { "iteration" },
            position,
            row.cost,
            row.gradient_norm.map_or(String::new(), |g| format!(" |g| = {g:.3e}"))
        );
        if !std::io::stderr().is_terminal() {
            // search stages report once a second (a batch can be one evaluation)
            let due = self.last_line.is_none_or(|t| t.elapsed().as_secs_f64() >= 1.0) || position >= max;
            if stage.search.is_none() || due {
                eprintln!("{text}");
                self.last_line = Some(Instant::now());
            }
            return;
        }
        if self.stage != row.stage {
            if let Some(bar) = self.bar.take() {
                bar.finish();
            }
            let bar = ProgressBar::new(max as u64);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]").expect("valid template"),
            );
            self.bar = Some(bar);
            self.stage = row.stage;
        }
        if let Some(bar) = &self.bar {
            bar.set_position(position as u64);
            bar.set_message(text);
        }
    }

    fn finish(&mut self) {
        self.last_line = None;
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// The iteration limit of a gradient stage.
fn crit_max(crit: &hydrograd::optim::TerminationCrit) -> usize {
    match crit {
        hydrograd::optim::TerminationCrit::Sbs(o) => o.maxiter,
        hydrograd::optim::TerminationCrit::Lbfgsb(o) => o.maxiter,
        hydrograd::optim::TerminationCrit::Adaptive(o) => o.maxiter,
        hydrograd::optim::TerminationCrit::Search => 0,
    }
}
