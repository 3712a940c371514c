//! Reading a run store's `samples/` dataset (Parquet parts) back as one table, for the CLI tests.

use arrow_array::{Array, BooleanArray, Float64Array, UInt32Array, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs;
use std::path::Path;

/// One row of `samples/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub eval_id: u64,
    pub stage: u32,
    pub batch: u64,
    pub chain: Option<u32>,
    /// The parameters' bit patterns, in the order of the names asked for.
    pub x: Vec<u64>,
    pub cost: u64,
    pub cached: bool,
}

/// Every row of the dataset `dir` (all its parts, as one table), sorted by `eval_id`.
pub fn samples(dir: &Path, names: &[&str]) -> Vec<Row> {
    let mut rows = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_str().unwrap().starts_with("part-") {
            continue;
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&path).unwrap()).unwrap().build().unwrap();
        for batch in reader {
            let b = batch.unwrap();
            let col = |n: &str| b.column_by_name(n).unwrap_or_else(|| panic!("no column {n}")).clone();
            let id = col("eval_id");
            let id = id.as_any().downcast_ref::<UInt64Array>().unwrap();
            let batch_col = col("batch");
            let batch_col = batch_col.as_any().downcast_ref::<UInt64Array>().unwrap();
            let stage = col("stage");
            let stage = stage.as_any().downcast_ref::<UInt32Array>().unwrap();
            let chain = col("chain");
            let chain = chain.as_any().downcast_ref::<UInt32Array>().unwrap();
            let cost = col("cost");
            let cost = cost.as_any().downcast_ref::<Float64Array>().unwrap();
            let cached = col("cached");
            let cached = cached.as_any().downcast_ref::<BooleanArray>().unwrap();
            let params: Vec<_> = names.iter().map(|n| col(n)).collect();
            for i in 0..b.num_rows() {
                let x = params
                    .iter()
                    .map(|p| p.as_any().downcast_ref::<Float64Array>().unwrap().value(i).to_bits())
                    .collect();
                rows.push(Row {
                    eval_id: id.value(i),
                    stage: stage.value(i),
                    batch: batch_col.value(i),
                    chain: (!chain.is_null(i)).then(|| chain.value(i)),
                    x,
                    cost: cost.value(i).to_bits(),
                    cached: cached.value(i),
                });
            }
        }
    }
    rows.sort_by_key(|r| r.eval_id);
    rows
}
