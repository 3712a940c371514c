//! Outputs of a run, written atomically: everything goes to a staging folder next to the output
//! folder, and files are moved into place only when all of them were written, so a failed run leaves
//! no partial output.

mod gradient;
mod maps;
mod run;
mod series;
mod trace;
mod train;

pub use gradient::write_gradient;
pub use maps::{MapSet, write_maps};
pub use run::write_run;
pub use series::write_series;
pub use trace::write_trace;
pub use train::{Discharge, write_train};

/// Writes the network `weights` (`[W]`) of `config`'s hybrid structure, if it has one, and the
/// regionalization network `ann`, if given, to `path` (see [`crate::model::weights`]), with the
/// configuration's hash in the metadata.
pub fn write_weights(
    path: &Path,
    config: &crate::config::Config,
    weights: &[f64],
    ann: Option<&crate::model::ann_file::AnnFile>,
) -> Result<(), OutputError> {
    use crate::model::weights;
    let (mut tensors, mut metadata) = match config.structure.hydrology.net() {
        Some(shape) => (weights::split(shape.tensors(), weights), weights::metadata(config.structure.hydrology, shape)),
        None => (Vec::new(), weights::metadata_header()),
    };
    if let Some(ann) = ann {
        let (t, m) = ann.encode();
        tensors.extend(t);
        metadata.extend(m);
    }
    metadata.push(("config_hash".into(), config.hash.clone()));
    let bytes = weights::encode_tensors(tensors, metadata)
        .map_err(|message| OutputError::Encode { path: path.to_path_buf(), message })?;
    std::fs::write(path, bytes).map_err(|source| OutputError::Write { path: path.to_path_buf(), source })
}

use std::path::{Path, PathBuf};

/// An output file or folder that could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode {}: {message}", path.display())]
    Encode { path: PathBuf, message: String },
}

/// A set of output files staged in a hidden folder beside `dir`, moved into `dir` by [`Staging::commit`].
pub struct Staging {
    dir: PathBuf,
    tmp: tempfile::TempDir,
    files: Vec<String>,
}

impl Staging {
    /// Prepares to write into `dir` (created if needed).
    pub fn new(dir: &Path) -> Result<Staging, OutputError> {
        let write_err = |source| OutputError::Write { path: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let tmp = tempfile::Builder::new().prefix(".hydrograd-staging-").tempdir_in(dir).map_err(write_err)?;
        Ok(Staging { dir: dir.to_path_buf(), tmp, files: Vec::new() })
    }

    /// The staged path of the output file `name`; the file will be moved into place on commit.
    pub fn file(&mut self, name: &str) -> PathBuf {
        self.files.push(name.to_string());
        self.tmp.path().join(name)
    }

    /// The final path of `name`.
    pub fn final_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Moves every staged file into the output folder (each rename is atomic).
    pub fn commit(self) -> Result<Vec<PathBuf>, OutputError> {
        let mut done = Vec::new();
        for name in &self.files {
            let (from, to) = (self.tmp.path().join(name), self.dir.join(name));
            std::fs::rename(&from, &to).map_err(|source| OutputError::Write { path: to.clone(), source })?;
            done.push(to);
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_before_commit_and_staging_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let mut st = Staging::new(&dir).unwrap();
        std::fs::write(st.file("a.txt"), "x").unwrap();
        assert!(!dir.join("a.txt").exists());
        st.commit().unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "x");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("a.txt")]);
    }

    #[test]
    fn dropped_staging_leaves_no_file() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("out");
        let mut st = Staging::new(&dir).unwrap();
        std::fs::write(st.file("a.txt"), "x").unwrap();
        drop(st);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }
}
