//! `save_runs`: the best (or all) sets of a search stage promoted to full simulations, saved with their
//! discharge as `DIR/runs/stage-<k>.parquet`.
//!
//! Long format, one row per (set, time step): `eval_id` (UInt64, the set's row in `samples/`), `cost`
//! (Float64), `time` (timestamp of the step's end, ms), then one Float32 column per gauge code \[m³/s\].

use super::store::SampleRow;
use crate::calibration::objective::Problem;
use crate::config::SaveRuns;
use arrow_array::{ArrayRef, Float32Array, Float64Array, RecordBatch, TimestampMillisecondArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Sets simulated per engine call.
const SETS_PER_CALL: usize = 64;

/// The rows `save` selects among `rows`: the `n` lowest costs (ties by `eval_id`), or all, in `eval_id` order.
pub fn selected(rows: &[SampleRow], save: SaveRuns) -> Vec<&SampleRow> {
    let mut chosen: Vec<&SampleRow> = match save {
        SaveRuns::None => Vec::new(),
        SaveRuns::All => rows.iter().collect(),
        SaveRuns::Best(n) => {
            let mut sorted: Vec<&SampleRow> = rows.iter().collect();
            sorted.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.eval_id.cmp(&b.eval_id)));
            sorted.truncate(n);
            sorted
        }
    };
    chosen.sort_by_key(|r| r.eval_id);
    chosen
}

/// Simulates `rows` and writes `dir/runs/stage-<number>.parquet` atomically.
pub fn save_runs(dir: &Path, number: usize, problem: &Problem<'_>, rows: &[&SampleRow]) -> Result<PathBuf, String> {
    let config = problem.config;
    let codes: Vec<String> = problem.inputs.mesh.gauges.iter().map(|g| g.code.clone()).collect();
    let (nt, g) = (config.time.ntime, codes.len());
    let mut q = Vec::with_capacity(rows.len() * nt * g);
    for group in rows.chunks(SETS_PER_CALL) {
        let xs: Vec<&[f64]> = group.iter().map(|r| r.x.as_slice()).collect();
        q.extend(problem.discharge_batch(&xs).map_err(|e| e.to_string())?);
    }
    let times: Vec<i64> = (0..nt).map(|k| config.time.step_end(k).and_utc().timestamp_millis()).collect();
    let mut fields = vec![
        Field::new("eval_id", DataType::UInt64, false),
        Field::new("cost", DataType::Float64, false),
        Field::new("time", DataType::Timestamp(TimeUnit::Millisecond, None), false),
    ];
    fields.extend(codes.iter().map(|c| Field::new(c, DataType::Float32, true)));
    let n = rows.len() * nt;
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from_iter_values(rows.iter().flat_map(|r| std::iter::repeat_n(r.eval_id, nt)))),
        Arc::new(Float64Array::from_iter_values(rows.iter().flat_map(|r| std::iter::repeat_n(r.cost, nt)))),
        Arc::new(TimestampMillisecondArray::from_iter_values((0..n).map(|i| times[i % nt]))),
    ];
    for j in 0..g {
        arrays.push(Arc::new(Float32Array::from_iter_values((0..n).map(|i| q[i * g + j]))));
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())?;
    let path = dir.join("runs").join(format!("stage-{number}.parquet"));
    crate::io::atomic::write_parquet_atomically(&path, &batch, None).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
