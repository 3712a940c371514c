//! smash's Cance dataset over its first 30 days as a CLI test case.
#![allow(dead_code)]

use std::fs;

/// The golden Cance configuration (its `[setup]` and `[mesh]`, reading smash's installed datasets) ending
/// on 2014-10-15, with `extra` appended, as `cance.toml` in a fresh folder.
pub fn cance_30_days(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(crate::common::case("cance").join("config.toml")).unwrap();
    let text = text.replace("end_time = \"2014-11-14 00:00\"", "end_time = \"2014-10-15 00:00\"");
    assert!(text.contains("2014-10-15"), "the golden Cance case ends on 2014-11-14");
    fs::write(dir.path().join("cance.toml"), format!("{text}\n{extra}")).unwrap();
    dir
}
