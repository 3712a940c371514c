//! smash's Cance dataset over its first 30 days as a CLI test case, and the trace a `train` run writes.
#![allow(dead_code)]

use arrow_array::{Float64Array, Int32Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs;
use std::path::Path;

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

/// `(stage, iteration, cost)` of every row of a `trace.parquet`.
pub fn trace(path: &Path) -> Vec<(i32, i32, f64)> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap()).unwrap().build().unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let b = batch.unwrap();
        let col = |n: &str| b.column(b.schema().index_of(n).unwrap()).clone();
        let (s, i, c) = (col("stage"), col("iteration"), col("cost"));
        let s = s.as_any().downcast_ref::<Int32Array>().unwrap();
        let i = i.as_any().downcast_ref::<Int32Array>().unwrap();
        let c = c.as_any().downcast_ref::<Float64Array>().unwrap();
        rows.extend((0..b.num_rows()).map(|k| (s.value(k), i.value(k), c.value(k))));
    }
    rows
}
