//! The run store of the search stages: `DIR/samples/`, a Parquet dataset of part files that pandas,
//! polars and DuckDB read as one table (`pd.read_parquet("DIR/samples")`).
//!
//! One row per model evaluation, in proposal order: `eval_id` (UInt64, 0-based over the run), `stage`
//! (UInt32, 1-based), `batch` (UInt64, the method's batch within the stage), `chain` (UInt32: the chain,
//! complex, particle or individual; null where the method has none), one Float64 column per searched
//! parameter (the union over the run's search stages, null where a stage does not search it), one Float64
//! column `obj_<name>` per objective of the multi-objective stages (`obj_nse`, `obj_pbias`: the value the
//! method minimised, e.g. −NSE; the union over the run's stages, null for the stages without it), `cost`
//! (what the method minimised; a multi-objective stage's first objective), `jobs`, `jreg`, `validation` (null without `[validation]`), `accepted` (Boolean:
//! whether an MCMC proposal became its chain's state; null for other methods), `cached` (Boolean: the value
//! came from the evaluation cache), `seconds` (Float64: this evaluation's share of its batched model run).
//!
//! Rows are buffered and written every few seconds or 1,000 rows (and at the end of a stage) as a new part file, written
//! under a hidden temporary name then renamed, so a reader never sees a partial part and a killed run
//! leaves only whole parts: on restart the evaluations after the last part are done again, and every
//! evaluation ends up in the store exactly once. Each part records the configuration's hash.

use crate::calibration::objective::Terms;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, UInt32Array, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a samples part ({message})", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error(
        "{} holds samples of another configuration (hash {found}, this one is {expected}); use --fresh to start over or another --out",
        path.display()
    )]
    OtherConfig { path: PathBuf, found: String, expected: String },
}

/// One evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    pub eval_id: u64,
    pub stage: u32,
    pub batch: u64,
    pub chain: Option<u32>,
    /// The searched parameters' values, in the order of the stage's names.
    pub x: Vec<f64>,
    /// A multi-objective stage's values `[K]`, in the order of its objectives (empty for one objective).
    pub objectives: Vec<f64>,
    pub cost: f64,
    pub terms: Terms,
    pub accepted: Option<bool>,
    pub cached: bool,
    pub seconds: f64,
}

/// The samples of one run.
pub struct SampleStore {
    /// `None`: kept in memory only.
    dir: Option<PathBuf>,
    config_hash: String,
    /// Every row written or read, by `eval_id`.
    rows: Vec<SampleRow>,
    /// The parameter names of each stage's rows.
    stage_names: Vec<(u32, Vec<String>)>,
    /// The objective names of each multi-objective stage's rows.
    stage_objectives: Vec<(u32, Vec<String>)>,
    /// The columns of the parts: the union of the stages' names and objectives, in first-seen order.
    columns: Columns,
    /// Rows not yet in a part.
    pending: usize,
    parts: usize,
    last_flush: Instant,
}

/// How often buffered rows are written: every few seconds, or sooner after many rows.
const FLUSH_EVERY: Duration = Duration::from_secs(2);
const FLUSH_ROWS: usize = 1000;
const KEY: &str = "hydrograd.config_hash";
/// The prefix of the objective columns.
pub const OBJECTIVE_PREFIX: &str = "obj_";

/// The variable columns of a store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    /// Searched parameters.
    pub parameters: Vec<String>,
    /// Objectives of the multi-objective stages, without the `obj_` prefix.
    pub objectives: Vec<String>,
}

impl Columns {
    /// Adds the `names` not there yet to `parameters`, `objectives` to `objectives`.
    pub fn extend(&mut self, names: &[String], objectives: &[String]) {
        for (list, new) in [(&mut self.parameters, names), (&mut self.objectives, objectives)] {
            for n in new {
                if !list.contains(n) {
                    list.push(n.clone());
                }
            }
        }
    }
}

impl SampleStore {
    /// A store kept in memory (tests, library use without an output folder).
    pub fn in_memory(config_hash: &str) -> SampleStore {
        SampleStore {
            dir: None,
            config_hash: config_hash.into(),
            rows: Vec::new(),
            stage_names: Vec::new(),
            stage_objectives: Vec::new(),
            columns: Columns::default(),
            pending: 0,
            parts: 0,
            last_flush: Instant::now(),
        }
    }

    /// Opens `dir`, reading the parts an earlier run of the same configuration wrote and deleting the
    /// temporary files of a part being written when that run was killed.
    pub fn open(dir: &Path, config_hash: &str, columns: Columns) -> Result<SampleStore, StoreError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut store = SampleStore { dir: Some(dir.into()), columns, ..SampleStore::in_memory(config_hash) };
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).map_err(io(dir))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with(".tmp") {
                std::fs::remove_file(&path).map_err(io(&path))?;
            } else if name.starts_with("part-") && name.ends_with(".parquet") {
                store.read_part(&path)?;
                store.parts += 1;
            }
        }
        store.rows.sort_by_key(|r| r.eval_id);
        Ok(store)
    }

    /// The rows of `stage`, in `eval_id` order.
    pub fn stage_rows(&self, stage: u32) -> impl Iterator<Item = &SampleRow> {
        self.rows.iter().filter(move |r| r.stage == stage)
    }

    /// Every row, in `eval_id` order.
    pub fn rows(&self) -> &[SampleRow] {
        &self.rows
    }

    /// Rows of the stages before `stage` (the `eval_id` offset of `stage`).
    pub fn rows_before(&self, stage: u32) -> u64 {
        self.rows.iter().filter(|r| r.stage < stage).count() as u64
    }

    /// Declares the parameter names and objectives of `stage`'s rows, reordering the values of rows read from
    /// parts.
    ///
    /// # Errors
    /// When the stored rows of `stage` searched other parameters or minimised other objectives (the inputs
    /// changed since).
    pub fn set_stage_names(&mut self, stage: u32, names: Vec<String>, objectives: Vec<String>) -> Result<(), String> {
        self.columns.extend(&names, &objectives);
        if let Some(order) = declare(&mut self.stage_names, stage, &names)? {
            for row in self.rows.iter_mut().filter(|r| r.stage == stage) {
                row.x = order.iter().map(|&i| row.x[i]).collect();
            }
        }
        if let Some(order) = declare(&mut self.stage_objectives, stage, &objectives)? {
            for row in self.rows.iter_mut().filter(|r| r.stage == stage) {
                row.objectives = order.iter().map(|&i| row.objectives[i]).collect();
            }
        }
        Ok(())
    }

    /// Appends new rows; writes a part when the last one is a few seconds old.
    pub fn append(&mut self, rows: Vec<SampleRow>) -> Result<(), StoreError> {
        self.pending += rows.len();
        self.rows.extend(rows);
        if self.last_flush.elapsed() >= FLUSH_EVERY || self.pending >= FLUSH_ROWS { self.flush() } else { Ok(()) }
    }

    /// Writes the buffered rows as a part.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        let Some(dir) = self.dir.clone() else {
            self.pending = 0;
            return Ok(());
        };
        self.last_flush = Instant::now();
        if self.pending == 0 {
            return Ok(());
        }
        let rows = &self.rows[self.rows.len() - self.pending..];
        let path = dir.join(format!("part-{:06}-{:09}.parquet", self.parts, rows[0].eval_id));
        let batch = self.encode(rows).map_err(|message| StoreError::Corrupt { path: path.clone(), message })?;
        let props = WriterProperties::builder()
            .set_key_value_metadata(Some(vec![KeyValue::new(KEY.into(), self.config_hash.clone())]))
            .build();
        crate::io::atomic::write_parquet_atomically(&path, &batch, Some(props))
            .map_err(|source| StoreError::Io { path: path.clone(), source })?;
        self.parts += 1;
        self.pending = 0;
        Ok(())
    }

    fn names_of(&self, stage: u32) -> &[String] {
        names_of(&self.stage_names, stage)
    }

    fn encode(&self, rows: &[SampleRow]) -> Result<RecordBatch, String> {
        let mut fields = vec![
            Field::new("eval_id", DataType::UInt64, false),
            Field::new("stage", DataType::UInt32, false),
            Field::new("batch", DataType::UInt64, false),
            Field::new("chain", DataType::UInt32, true),
        ];
        fields.extend(self.columns.parameters.iter().map(|c| Field::new(c, DataType::Float64, true)));
        let objective_column = |c: &String| Field::new(format!("{OBJECTIVE_PREFIX}{c}"), DataType::Float64, true);
        fields.extend(self.columns.objectives.iter().map(objective_column));
        for (name, nullable) in [("cost", false), ("jobs", false), ("jreg", false), ("validation", true)] {
            fields.push(Field::new(name, DataType::Float64, nullable));
        }
        fields.push(Field::new("accepted", DataType::Boolean, true));
        fields.push(Field::new("cached", DataType::Boolean, false));
        fields.push(Field::new("seconds", DataType::Float64, false));
        let f64s =
            |f: &dyn Fn(&SampleRow) -> f64| Arc::new(Float64Array::from_iter_values(rows.iter().map(f))) as ArrayRef;
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.eval_id))),
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.stage))),
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.batch))),
            Arc::new(UInt32Array::from_iter(rows.iter().map(|r| r.chain))),
        ];
        for c in &self.columns.parameters {
            arrays.push(Arc::new(Float64Array::from_iter(rows.iter().map(|r| {
                let k = self.names_of(r.stage).iter().position(|n| n == c)?;
                Some(r.x[k])
            }))));
        }
        for c in &self.columns.objectives {
            arrays.push(Arc::new(Float64Array::from_iter(rows.iter().map(|r| {
                let k = names_of(&self.stage_objectives, r.stage).iter().position(|n| n == c)?;
                r.objectives.get(k).copied()
            }))));
        }
        arrays.push(f64s(&|r| r.cost));
        arrays.push(f64s(&|r| r.terms.jobs));
        arrays.push(f64s(&|r| r.terms.jreg));
        arrays.push(Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.terms.validation))));
        arrays.push(Arc::new(BooleanArray::from_iter(rows.iter().map(|r| r.accepted))));
        arrays.push(Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r.cached)))));
        arrays.push(f64s(&|r| r.seconds));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| e.to_string())
    }

    fn read_part(&mut self, path: &Path) -> Result<(), StoreError> {
        let corrupt = |message: String| StoreError::Corrupt { path: path.to_path_buf(), message };
        let file = std::fs::File::open(path).map_err(|source| StoreError::Io { path: path.into(), source })?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| corrupt(e.to_string()))?;
        let hash = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == KEY).and_then(|k| k.value.clone()))
            .ok_or_else(|| corrupt(format!("no {KEY} metadata")))?;
        if hash != self.config_hash {
            return Err(StoreError::OtherConfig { path: path.into(), found: hash, expected: self.config_hash.clone() });
        }
        let reader = builder.build().map_err(|e| corrupt(e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(e.to_string()))?;
            self.decode(&batch).map_err(corrupt)?;
        }
        Ok(())
    }

    fn decode(&mut self, batch: &RecordBatch) -> Result<(), String> {
        fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, String> {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<T>())
                .ok_or_else(|| format!("column {name} missing or of the wrong type"))
        }
        let eval_id = column::<UInt64Array>(batch, "eval_id")?;
        let stage = column::<UInt32Array>(batch, "stage")?;
        let batch_no = column::<UInt64Array>(batch, "batch")?;
        let chain = column::<UInt32Array>(batch, "chain")?;
        let cost = column::<Float64Array>(batch, "cost")?;
        let jobs = column::<Float64Array>(batch, "jobs")?;
        let jreg = column::<Float64Array>(batch, "jreg")?;
        let validation = column::<Float64Array>(batch, "validation")?;
        let accepted = column::<BooleanArray>(batch, "accepted")?;
        let cached = column::<BooleanArray>(batch, "cached")?;
        let seconds = column::<Float64Array>(batch, "seconds")?;
        let fixed = [
            "eval_id",
            "stage",
            "batch",
            "chain",
            "cost",
            "jobs",
            "jreg",
            "validation",
            "accepted",
            "cached",
            "seconds",
        ];
        let variables: Vec<(String, &Float64Array)> = batch
            .schema()
            .fields()
            .iter()
            .filter(|f| !fixed.contains(&f.name().as_str()))
            .map(|f| Ok((f.name().clone(), column::<Float64Array>(batch, f.name())?)))
            .collect::<Result<_, String>>()?;
        let (objectives, params): (Vec<_>, Vec<_>) =
            variables.into_iter().partition(|(n, _)| n.starts_with(OBJECTIVE_PREFIX));
        let objectives: Vec<(String, &Float64Array)> =
            objectives.into_iter().map(|(n, a)| (n[OBJECTIVE_PREFIX.len()..].to_string(), a)).collect();
        let names = |list: &[(String, &Float64Array)]| list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        self.columns.extend(&names(&params), &names(&objectives));
        for i in 0..batch.num_rows() {
            let s = stage.value(i);
            let x = present(&mut self.stage_names, &params, s, i)?;
            let objectives = present(&mut self.stage_objectives, &objectives, s, i)?;
            self.rows.push(SampleRow {
                eval_id: eval_id.value(i),
                stage: s,
                batch: batch_no.value(i),
                chain: (!chain.is_null(i)).then(|| chain.value(i)),
                x,
                objectives,
                cost: cost.value(i),
                terms: Terms { jobs: jobs.value(i), jreg: jreg.value(i), validation: optional(validation, i) },
                accepted: (!accepted.is_null(i)).then(|| accepted.value(i)),
                cached: cached.value(i),
                seconds: seconds.value(i),
            });
        }
        Ok(())
    }
}

fn optional(a: &Float64Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// The names of `stage` in `lists` (empty when it has none).
fn names_of(lists: &[(u32, Vec<String>)], stage: u32) -> &[String] {
    lists.iter().find(|(s, _)| *s == stage).map_or(&[], |(_, n)| n.as_slice())
}

/// Declares `names` for `stage` in `lists`; returns how to reorder the values stored in another order
/// (`None`: no change).
fn declare(lists: &mut Vec<(u32, Vec<String>)>, stage: u32, names: &[String]) -> Result<Option<Vec<usize>>, String> {
    let mut order = None;
    if let Some(k) = lists.iter().position(|(s, _)| *s == stage) {
        let stored = lists.remove(k).1;
        if stored != names {
            let positions: Option<Vec<usize>> = names.iter().map(|n| stored.iter().position(|m| m == n)).collect();
            order = Some(
                positions
                    .filter(|_| stored.len() == names.len())
                    .ok_or_else(|| format!("stage {stage}: the stored samples have {stored:?}, not {names:?}"))?,
            );
        }
    }
    lists.push((stage, names.to_vec()));
    Ok(order)
}

/// Row `i`'s values of the non-null `columns`, in the order `lists` holds for `stage` (declared from this
/// row's non-null columns when `stage` has none yet).
fn present(
    lists: &mut Vec<(u32, Vec<String>)>,
    columns: &[(String, &Float64Array)],
    stage: u32,
    i: usize,
) -> Result<Vec<f64>, String> {
    let present: Vec<(&String, f64)> = columns.iter().filter_map(|(n, a)| optional(a, i).map(|v| (n, v))).collect();
    if lists.iter().all(|(t, _)| *t != stage) {
        lists.push((stage, present.iter().map(|(n, _)| (*n).clone()).collect()));
    }
    names_of(lists, stage)
        .iter()
        .map(|n| present.iter().find(|(m, _)| *m == n).map(|p| p.1).ok_or(format!("row {i} lacks {n}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(eval_id: u64, stage: u32, x: Vec<f64>, objectives: Vec<f64>) -> SampleRow {
        let cost = objectives.first().copied().unwrap_or(0.5);
        SampleRow {
            eval_id,
            stage,
            batch: 0,
            chain: None,
            x,
            objectives,
            cost,
            terms: Terms::new(cost, 0.0),
            accepted: None,
            cached: false,
            seconds: 0.0,
        }
    }

    #[test]
    fn objective_columns_span_every_part_and_read_back_in_each_stages_order() {
        let dir = tempfile::tempdir().unwrap();
        let names = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let columns = Columns { parameters: names(&["cp", "ct"]), objectives: names(&["nse", "pbias"]) };
        let mut store = SampleStore::open(dir.path(), "h", columns.clone()).unwrap();
        store.set_stage_names(1, names(&["cp", "ct"]), vec![]).unwrap();
        store.append(vec![row(0, 1, vec![1.0, 2.0], vec![])]).unwrap();
        store.flush().unwrap();
        // stage 2 lists its objectives in another order than the columns
        store.set_stage_names(2, names(&["ct"]), names(&["pbias", "nse"])).unwrap();
        let written = vec![row(1, 2, vec![3.0], vec![12.5, -0.75]), row(2, 2, vec![4.0], vec![f64::INFINITY, -0.5])];
        store.append(written.clone()).unwrap();
        store.flush().unwrap();
        let mut again = SampleStore::open(dir.path(), "h", Columns::default()).unwrap();
        assert_eq!(again.columns, columns, "every part has every column");
        again.set_stage_names(1, names(&["cp", "ct"]), vec![]).unwrap();
        again.set_stage_names(2, names(&["ct"]), names(&["pbias", "nse"])).unwrap();
        assert_eq!(again.stage_rows(1).next().unwrap(), &row(0, 1, vec![1.0, 2.0], vec![]));
        assert_eq!(again.stage_rows(2).cloned().collect::<Vec<_>>(), written);
        let err = again.set_stage_names(2, names(&["ct"]), names(&["nse", "kge"])).unwrap_err();
        assert!(err.contains("stage 2"), "{err}");
    }
}
