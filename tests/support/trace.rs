//! Reading the `trace.parquet` a `hydrograd train` run writes, for the CLI tests.

use arrow_array::{Float64Array, Int32Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs;
use std::path::Path;

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
