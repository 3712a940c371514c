//! The calibration trace as Parquet: one row per iteration of every stage.
//!
//! Columns: `stage` (Int32, 1-based), `iteration` (Int32, 0 = first guess), `cost`, `jobs`, `jreg`,
//! `gradient_norm` (Float64, null for derivative-free methods), `validation` (the `[validation]` cost on
//! held-out gauges, null without one), `seconds` (wall clock since the start),
//! then one Float64 column per control name (smash's names, in the transformed space) for stages with at
//! most 64 controls, null in the rows of stages without that control.

use super::OutputError;
use crate::calibration::checkpoint::TraceRow;
use arrow_array::{ArrayRef, Float64Array, Int32Array};
use arrow_schema::{DataType, Field, Schema};
use std::path::Path;
use std::sync::Arc;

/// Writes `rows`; `names[s]` are the control names of stage `s + 1`.
pub fn write_trace(path: &Path, rows: &[TraceRow], names: &[Vec<String>]) -> Result<(), OutputError> {
    let mut columns: Vec<String> = Vec::new();
    for stage_names in names.iter().filter(|n| n.len() <= 64) {
        for n in stage_names {
            if !columns.contains(n) {
                columns.push(n.clone());
            }
        }
    }
    let mut fields = vec![
        Field::new("stage", DataType::Int32, false),
        Field::new("iteration", DataType::Int32, false),
        Field::new("cost", DataType::Float64, false),
        Field::new("jobs", DataType::Float64, false),
        Field::new("jreg", DataType::Float64, false),
        Field::new("gradient_norm", DataType::Float64, true),
        Field::new("validation", DataType::Float64, true),
        Field::new("seconds", DataType::Float64, false),
    ];
    fields.extend(columns.iter().map(|c| Field::new(c, DataType::Float64, true)));
    let schema = Arc::new(Schema::new(fields));
    let f64s = |f: &dyn Fn(&TraceRow) -> f64| Arc::new(Float64Array::from_iter_values(rows.iter().map(f))) as ArrayRef;
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.stage as i32))),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.iteration as i32))),
        f64s(&|r| r.cost),
        f64s(&|r| r.jobs),
        f64s(&|r| r.jreg),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.gradient_norm))),
        Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.validation))),
        f64s(&|r| r.seconds),
    ];
    for c in &columns {
        arrays.push(Arc::new(Float64Array::from_iter(rows.iter().map(|r| {
            let stage_names = names.get(r.stage - 1)?;
            let k = stage_names.iter().position(|n| n == c)?;
            r.x.as_ref().map(|x| x[k])
        }))));
    }
    super::series::write_table(path, schema, arrays)
}
