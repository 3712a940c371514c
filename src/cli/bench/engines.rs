//! `hydrograd bench CONFIG --engines ...`: the engines side by side, as a table and as JSON.

use super::BenchArgs;
use anyhow::{Context, bail};
use hydrograd::bench::engines::{EngineTiming, Pass, Problem, time_engine};
use hydrograd::config::Config;
use hydrograd::io::atomic::write_atomically;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::Command;

pub fn compare(args: &BenchArgs, config: &Config) -> anyhow::Result<()> {
    let repeats = args.repeats.max(1);
    let mut rows = Vec::new();
    let catchment = Problem::from_config(config)?;
    for &device in &args.engines {
        for &sets in &args.sets {
            for pass in [Pass::Forward, Pass::Gradient] {
                let row = time_engine(device, &catchment, sets, pass, repeats)
                    .with_context(|| format!("{} of {sets} set(s) on {device}", pass.name()))?;
                eprintln!("{}", line(&row));
                rows.push(row);
            }
        }
    }
    if let Some(spec) = &args.synthetic {
        let (cells, steps) = parse_grid(spec)?;
        eprintln!("building the synthetic grid ({cells} cells x {steps} steps) ...");
        let grid = Problem::synthetic(cells, steps);
        for &device in &args.engines {
            for pass in [Pass::Forward, Pass::Gradient] {
                let row = time_engine(device, &grid, 1, pass, repeats.min(3))
                    .with_context(|| format!("{} of the synthetic grid on {device}", pass.name()))?;
                eprintln!("{}", line(&row));
                rows.push(row);
            }
        }
    }
    let mut json_rows: Vec<Value> = rows.iter().map(row_json).collect();
    if let Some(python) = &args.smash {
        json_rows.extend(smash_rows(python, repeats)?);
    }
    println!("{}", table(&json_rows));
    if let Some(path) = &args.json {
        let doc = json!({ "date": chrono::Local::now().to_rfc3339(), "config": config.path, "rows": json_rows });
        write_atomically(path, |f| f.write_all(serde_json::to_string_pretty(&doc)?.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `CELLSxSTEPS`.
fn parse_grid(spec: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = spec.split_once('x').and_then(|(c, t)| Some((c.parse().ok()?, t.parse().ok()?)));
    match parsed {
        Some((cells, steps)) if cells >= 4 && steps >= 1 => Ok((cells, steps)),
        _ => bail!("--synthetic expects CELLSxSTEPS, e.g. 1000000x720, got `{spec}`"),
    }
}

fn line(r: &EngineTiming) -> String {
    format!(
        "{} {} {} x{}: {:.4} s, {:.3e} cell-steps/s",
        r.device_name,
        r.problem,
        r.pass.name(),
        r.timing.sets,
        r.timing.seconds,
        r.timing.cell_steps_per_second()
    )
}

fn row_json(r: &EngineTiming) -> Value {
    let t = &r.timing;
    json!({
        "device": r.device.name(),
        "device_name": r.device_name,
        "problem": r.problem,
        "pass": r.pass.name(),
        "sets": t.sets,
        "cells": t.cells,
        "steps": t.steps,
        "seconds": t.seconds,
        "cell_steps_per_s": t.cell_steps_per_second(),
        "sets_per_s": t.sets as f64 / t.seconds,
    })
}

/// smash's forward on Cance, one set and 64 sets, from `benches/smash_forward.py` (single thread).
fn smash_rows(python: &Path, repeats: usize) -> anyhow::Result<Vec<Value>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/smash_forward.py");
    let out = Command::new(python)
        .arg(&script)
        .args(["--cases", "cance,cance_mfr64", "--repeats", &repeats.to_string(), "--mfr-repeats", "1"])
        .output()
        .with_context(|| format!("running {} {}", python.display(), script.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    }
    let result: Value = serde_json::from_slice(&out.stdout).context("reading smash_forward.py's JSON")?;
    let version = result["smash_version"].as_str().unwrap_or("?");
    let mut rows = Vec::new();
    for (case, sets) in [("cance", 1), ("cance_mfr64", 64)] {
        let r = &result["cases"][case];
        let seconds = r["seconds"].as_f64().context("smash's seconds")?;
        rows.push(json!({
            "device": "smash",
            "device_name": format!("smash {version} (1 thread)"),
            "problem": "cance",
            "pass": "forward",
            "sets": sets,
            "cells": r["active_cells"],
            "steps": r["time_steps"],
            "seconds": seconds,
            "cell_steps_per_s": r["cell_steps_per_s"],
            "sets_per_s": sets as f64 / seconds,
        }));
    }
    Ok(rows)
}

/// The rows as a text table.
fn table(rows: &[Value]) -> String {
    let mut out = format!(
        "{:<44} {:<26} {:<16} {:>5} {:>11} {:>12} {:>10}\n",
        "device", "problem", "pass", "sets", "seconds", "cell-steps/s", "sets/s"
    );
    for r in rows {
        out += &format!(
            "{:<44} {:<26} {:<16} {:>5} {:>11.4} {:>12.3e} {:>10.3}\n",
            r["device_name"].as_str().unwrap_or(""),
            r["problem"].as_str().unwrap_or(""),
            r["pass"].as_str().unwrap_or(""),
            r["sets"].as_u64().unwrap_or(0),
            r["seconds"].as_f64().unwrap_or(f64::NAN),
            r["cell_steps_per_s"].as_f64().unwrap_or(f64::NAN),
            r["sets_per_s"].as_f64().unwrap_or(f64::NAN),
        );
    }
    out
}
