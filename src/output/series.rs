//! Discharge series as Parquet: a `time` column (timestamp of each step's end, ms) then one Float32
//! column per gauge.

use super::OutputError;
use arrow_array::{ArrayRef, Float32Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::NaiveDateTime;
use parquet::arrow::ArrowWriter;
use std::path::Path;
use std::sync::Arc;

/// Writes `values` (`[T, G]` time-major, m³/s) with one column per name of `columns` (`[G]`).
pub fn write_series(
    path: &Path,
    times: &[NaiveDateTime],
    columns: &[String],
    values: &[f32],
) -> Result<(), OutputError> {
    let (nt, g) = (times.len(), columns.len());
    assert_eq!(values.len(), nt * g, "values must be [T, G]");
    let mut fields = vec![Field::new("time", DataType::Timestamp(TimeUnit::Millisecond, None), false)];
    fields.extend(columns.iter().map(|c| Field::new(c, DataType::Float32, true)));
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(TimestampMillisecondArray::from_iter_values(
        times.iter().map(|t| t.and_utc().timestamp_millis()),
    ))];
    for j in 0..g {
        arrays.push(Arc::new(Float32Array::from_iter_values((0..nt).map(|t| values[t * g + j]))));
    }
    write_table(path, schema, arrays)
}

/// Writes one record batch of `arrays` with `schema` as a Parquet file.
pub(super) fn write_table(path: &Path, schema: Arc<Schema>, arrays: Vec<ArrayRef>) -> Result<(), OutputError> {
    let encode = |message: String| OutputError::Encode { path: path.to_path_buf(), message };
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| encode(e.to_string()))?;
    let file = std::fs::File::create(path).map_err(|source| OutputError::Write { path: path.to_path_buf(), source })?;
    let mut writer = ArrowWriter::try_new(file, schema, None).map_err(|e| encode(e.to_string()))?;
    writer.write(&batch).map_err(|e| encode(e.to_string()))?;
    writer.close().map_err(|e| encode(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    #[test]
    fn writes_a_readable_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.parquet");
        let t0 = crate::time::parse_datetime("2014-09-15 01:00").unwrap();
        let times = [t0, t0 + chrono::TimeDelta::hours(1)];
        write_series(&path, &times, &["A".into(), "B".into()], &[1.0, 2.0, 3.0, f32::NAN]).unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let meta = reader.metadata();
        assert_eq!(meta.file_metadata().num_rows(), 2);
        let names: Vec<_> =
            meta.file_metadata().schema_descr().columns().iter().map(|c| c.name().to_string()).collect();
        assert_eq!(names, ["time", "A", "B"]);
    }
}
