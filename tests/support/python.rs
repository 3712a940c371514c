//! Running a reference script of `tests/reference/` with the Python of `HYDROGRAD_PYTHON` (the venv that
//! `tests/run_all.sh` makes), a JSON request on stdin and a JSON reply on stdout. Floats travel as IEEE-754
//! bit patterns (`bits`, `float`, `floats`), so no digit is lost either way.

#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `script` (in its own folder) with `request` on stdin and parses what it prints. `needs` says what
/// the Python must have, for the message when `HYDROGRAD_PYTHON` is unset.
///
/// # Panics
/// If `HYDROGRAD_PYTHON` is unset, the script fails or prints invalid JSON: the reference tests never skip.
pub fn run_json(script: &Path, request: &Value, needs: &str) -> Value {
    let python = std::env::var("HYDROGRAD_PYTHON")
        .unwrap_or_else(|_| panic!("HYDROGRAD_PYTHON must name a Python with {needs} (tests/run_all.sh sets it)"));
    let name = script.file_name().unwrap().to_string_lossy();
    let mut child = Command::new(&python)
        .arg(script)
        .current_dir(script.parent().unwrap())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{name} failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{name} printed invalid JSON: {e}"))
}

/// The script `tests/reference/<folder>/<name>`.
pub fn reference_script(folder: &str, name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(folder).join(name)
}

pub fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

pub fn float(v: &Value) -> f64 {
    f64::from_bits(v.as_u64().expect("bit pattern"))
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array of bit patterns").iter().map(float).collect()
}
