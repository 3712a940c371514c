//! SPOTPY's side of `tests/spotpy_methods.rs`: runs `tests/reference/spotpy/methods.py` and caches its runs.
//!
//! Cache: one file per cell, `$HYDROGRAD_GOLDEN_DIR/spotpy_methods/<hash>.json`, the hash covering
//! `methods.py`, the cell's request (method, problem, dimension, bounds, budget) and SPOTPY's version. It
//! holds every seed run so far for the cell (`{"runs": [...]}`, sorted by seed): a test that needs more seeds
//! runs only the missing ones and adds them, so a rerun, or a cell escalated again, costs nothing.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use crate::python_ref::{float, floats};

/// SPOTPY's worker processes.
pub const PROCESSES: usize = 2;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/spotpy/methods.py")
}

/// Runs `tests/reference/spotpy/methods.py` on `request` (see `support/python.rs`).
pub fn python(request: &Value) -> Value {
    crate::python_ref::run_json(&script(), request, "spotpy 1.6.7")
}

/// SPOTPY's version and the folder of its hymod example data.
pub fn info() -> (String, PathBuf) {
    let reply = python(&json!({ "mode": "info" }));
    let version = reply["spotpy_version"].as_str().unwrap().to_string();
    (version, PathBuf::from(reply["hymod_dir"].as_str().unwrap()))
}

/// One SPOTPY run: its best value (`+inf` if it evaluated nothing finite), model calls, error and CPU time.
#[derive(Clone, Debug)]
pub struct Run {
    pub seed: u32,
    pub best: f64,
    pub evaluations: usize,
    pub error: Option<String>,
    /// CPU seconds of the run (in its worker process).
    pub cpu: f64,
}

impl Run {
    fn parse(r: &Value) -> Run {
        let best = float(&r["best"]);
        Run {
            seed: r["seed"].as_u64().expect("seed") as u32,
            best: if best.is_nan() { f64::INFINITY } else { best },
            evaluations: r["evaluations"].as_u64().expect("evaluations") as usize,
            error: r["error"].as_str().map(str::to_string),
            cpu: r["cpu"].as_f64().expect("cpu"),
        }
    }
}

/// The cache file of the cell `request` (none without `HYDROGRAD_GOLDEN_DIR`).
fn cache_path(request: &Value, version: &str) -> Option<PathBuf> {
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(script()).expect("methods.py"));
    hasher.update(request.to_string().as_bytes());
    hasher.update(version.as_bytes());
    let hash: String = hasher.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    std::env::var_os("HYDROGRAD_GOLDEN_DIR").map(|dir| PathBuf::from(dir).join("spotpy_methods").join(hash + ".json"))
}

/// What [`runs`] did: the runs it made (the others came from the cache) and its wall time [s].
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    pub ran: usize,
    pub wall: f64,
}

/// SPOTPY's runs of each cell `requests[i]` for each of `seeds[i]`, in that order: from the cache where it
/// has them, the others in one call of `methods.py` (then added to the cache).
pub fn runs(requests: &[Value], seeds: &[Vec<u32>], version: &str) -> (Vec<Vec<Run>>, Cost) {
    let start = std::time::Instant::now();
    let paths: Vec<Option<PathBuf>> = requests.iter().map(|r| cache_path(r, version)).collect();
    let mut known: Vec<BTreeMap<u32, Run>> = paths
        .iter()
        .map(|path| {
            let text = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
            let reply = text.and_then(|t| serde_json::from_str::<Value>(&t).ok());
            let runs = reply.as_ref().and_then(|r| r["runs"].as_array().cloned()).unwrap_or_default();
            runs.iter().map(Run::parse).map(|r| (r.seed, r)).collect()
        })
        .collect();
    let mut cost = Cost::default();
    let missing: Vec<(usize, Vec<u32>)> = seeds
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.iter().copied().filter(|s| !known[i].contains_key(s)).collect::<Vec<u32>>()))
        .filter(|(_, s)| !s.is_empty())
        .collect();
    if !missing.is_empty() {
        let cells: Vec<Value> = missing
            .iter()
            .map(|(i, s)| {
                let mut cell = requests[*i].clone();
                cell["seeds"] = json!(s);
                cell
            })
            .collect();
        let reply = python(&json!({ "mode": "run", "processes": PROCESSES, "cells": cells }));
        let replies = reply["cells"].as_array().expect("cells");
        assert_eq!(replies.len(), missing.len());
        for ((i, s), cell) in missing.iter().zip(replies) {
            let new: Vec<Run> = cell["runs"].as_array().expect("runs").iter().map(Run::parse).collect();
            assert_eq!(new.iter().map(|r| r.seed).collect::<Vec<_>>(), *s, "methods.py ran other seeds");
            cost.ran += new.len();
            known[*i].extend(new.into_iter().map(|r| (r.seed, r)));
            if let Some(path) = &paths[*i] {
                let all: Vec<Value> = known[*i]
                    .values()
                    .map(|r| {
                        json!({ "seed": r.seed, "best": r.best.to_bits(), "evaluations": r.evaluations,
                                "error": r.error, "cpu": r.cpu })
                    })
                    .collect();
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                std::fs::write(&tmp, json!({ "runs": all }).to_string()).unwrap();
                std::fs::rename(&tmp, path).unwrap();
            }
        }
    }
    let out: Vec<Vec<Run>> = seeds.iter().zip(&known).map(|(s, k)| s.iter().map(|s| k[s].clone()).collect()).collect();
    cost.wall = start.elapsed().as_secs_f64();
    (out, cost)
}
