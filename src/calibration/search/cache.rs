//! The evaluation cache: values of parameter sets already evaluated on the same problem, kept across runs
//! (`<cache_directory>/evaluations/<problem hash>/`, Parquet parts written like the run store's).
//!
//! A set's key is the SHA-256 of its canonical JSON, `{"name": value, ...}` with the names sorted and every
//! value written so that it reads back exactly; the problem hash covers everything else the value depends
//! on (model setup, inputs, cost, starting fields, device, precision).

use super::store::StoreError;
use crate::calibration::objective::Terms;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, FixedSizeBinaryArray, Float64Array, ListArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A parameter set's key.
pub type SetKey = [u8; 32];

/// The key of `x` named `names`: SHA-256 of `{"name": value, ...}`, names sorted.
pub fn set_key(names: &[String], x: &[f64]) -> SetKey {
    let mut pairs: Vec<(&String, f64)> = names.iter().zip(x.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let map: serde_json::Map<String, serde_json::Value> =
        pairs.into_iter().map(|(n, v)| (n.clone(), serde_json::json!(v))).collect();
    Sha256::digest(serde_json::Value::Object(map).to_string().as_bytes()).into()
}

/// A cached value.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub cost: f64,
    pub terms: Terms,
    /// A multi-objective stage's values `[K]` (empty for one objective).
    pub objectives: Vec<f64>,
}

/// The cache of one problem.
pub struct EvaluationCache {
    dir: Option<PathBuf>,
    values: HashMap<SetKey, Cached>,
    pending: Vec<(SetKey, Cached)>,
    last_flush: Instant,
}

const FLUSH_EVERY: Duration = Duration::from_secs(2);

impl EvaluationCache {
    /// A cache that forgets everything at the end of the process.
    pub fn in_memory() -> EvaluationCache {
        EvaluationCache { dir: None, values: HashMap::new(), pending: Vec::new(), last_flush: Instant::now() }
    }

    /// Opens the cache of `problem` under `root`. Unreadable parts (a disk error, another version) are
    /// skipped: the cache only saves time, it never decides a result.
    pub fn open(root: &Path, problem: &str) -> EvaluationCache {
        let dir = root.join(problem);
        let mut cache = EvaluationCache { dir: Some(dir.clone()), ..EvaluationCache::in_memory() };
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("part-") && name.ends_with(".parquet") {
                let _ = cache.read_part(&path);
            }
        }
        cache
    }

    /// Number of cached sets.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn get(&self, key: &SetKey) -> Option<&Cached> {
        self.values.get(key)
    }

    /// Adds a value; writes a part when the last one is a few seconds old.
    pub fn insert(&mut self, key: SetKey, value: Cached) -> Result<(), StoreError> {
        if let std::collections::hash_map::Entry::Vacant(entry) = self.values.entry(key) {
            entry.insert(value.clone());
            self.pending.push((key, value));
        }
        if self.last_flush.elapsed() >= FLUSH_EVERY { self.flush() } else { Ok(()) }
    }

    /// Writes the values added since the last part.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.last_flush = Instant::now();
        let Some(dir) = &self.dir else {
            self.pending.clear();
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let first = self.pending[0].0;
        let name: String = first[..8].iter().map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("part-{name}-{}.parquet", self.pending.len()));
        let batch = encode(&self.pending).map_err(|m| StoreError::Corrupt { path: path.clone(), message: m })?;
        crate::io::atomic::write_parquet_atomically(&path, &batch, None)
            .map_err(|source| StoreError::Io { path, source })?;
        self.pending.clear();
        Ok(())
    }

    fn read_part(&mut self, path: &Path) -> Result<(), String> {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).map_err(|e| e.to_string())?;
        for batch in reader {
            let batch = batch.map_err(|e| e.to_string())?;
            let col = |n: &str| batch.column_by_name(n).ok_or(format!("no column {n}"));
            let keys = col("key")?.as_any().downcast_ref::<FixedSizeBinaryArray>().ok_or("key type")?;
            let f = |n: &str| -> Result<&Float64Array, String> {
                col(n)?.as_any().downcast_ref::<Float64Array>().ok_or(format!("{n} type"))
            };
            let (cost, jobs, jreg, validation) = (f("cost")?, f("jobs")?, f("jreg")?, f("validation")?);
            // parts written before multi-objective stages have no objectives
            let objectives = match batch.column_by_name("objectives") {
                Some(c) => Some(c.as_any().downcast_ref::<ListArray>().ok_or("objectives type")?),
                None => None,
            };
            for i in 0..batch.num_rows() {
                let key: SetKey = keys.value(i).try_into().map_err(|_| "key length")?;
                let terms = Terms {
                    jobs: jobs.value(i),
                    jreg: jreg.value(i),
                    validation: (!validation.is_null(i)).then(|| validation.value(i)),
                };
                let objectives = match objectives {
                    Some(list) if !list.is_null(i) => {
                        let values = list.value(i);
                        let values = values.as_any().downcast_ref::<Float64Array>().ok_or("objective type")?;
                        values.values().to_vec()
                    }
                    _ => Vec::new(),
                };
                self.values.insert(key, Cached { cost: cost.value(i), terms, objectives });
            }
        }
        Ok(())
    }
}

fn encode(values: &[(SetKey, Cached)]) -> Result<RecordBatch, String> {
    let schema = Schema::new(vec![
        Field::new("key", DataType::FixedSizeBinary(32), false),
        Field::new("cost", DataType::Float64, false),
        Field::new("jobs", DataType::Float64, false),
        Field::new("jreg", DataType::Float64, false),
        Field::new("validation", DataType::Float64, true),
        Field::new("objectives", DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))), true),
    ]);
    let keys =
        FixedSizeBinaryArray::try_from_iter(values.iter().map(|(k, _)| k.to_vec())).map_err(|e| e.to_string())?;
    let f64s = |f: &dyn Fn(&Cached) -> f64| {
        Arc::new(Float64Array::from_iter_values(values.iter().map(|(_, c)| f(c)))) as ArrayRef
    };
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(keys),
        f64s(&|c| c.cost),
        f64s(&|c| c.terms.jobs),
        f64s(&|c| c.terms.jreg),
        Arc::new(Float64Array::from_iter(values.iter().map(|(_, c)| c.terms.validation))),
        Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
            values.iter().map(|(_, c)| Some(c.objectives.iter().map(|&v| Some(v)))),
        )),
    ];
    RecordBatch::try_new(Arc::new(schema), arrays).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_name_order_and_see_every_bit() {
        let names = ["cp".to_string(), "ct".to_string()];
        let swapped = ["ct".to_string(), "cp".to_string()];
        assert_eq!(set_key(&names, &[200.0, 500.0]), set_key(&swapped, &[500.0, 200.0]));
        assert_ne!(set_key(&names, &[200.0, 500.0]), set_key(&names, &[200.0, 500.0f64.next_up()]));
    }

    #[test]
    fn values_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = EvaluationCache::open(dir.path(), "p");
        let key = set_key(&["a".into()], &[1.0]);
        let value = Cached {
            cost: 0.25,
            terms: Terms { jobs: 0.25, jreg: 0.0, validation: Some(0.5) },
            objectives: vec![0.25, f64::INFINITY, -3.5],
        };
        cache.insert(key, value.clone()).unwrap();
        cache.flush().unwrap();
        let again = EvaluationCache::open(dir.path(), "p");
        assert_eq!(again.get(&key), Some(&value));
        assert!(EvaluationCache::open(dir.path(), "q").is_empty(), "another problem's cache is separate");
    }
}
