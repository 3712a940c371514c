//! Files that appear whole or not at all.

use std::fs::File;
use std::path::Path;

/// Writes `path` atomically: `write` fills a temporary file in the same folder (created if needed), which
/// is then renamed over `path`. A reader never sees a partial file, and a failed write leaves the old one.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    write(tmp.as_file_mut())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `batch` as the Parquet file `path`, atomically ([`write_atomically`]), with the writer `properties`
/// (`None`: the defaults).
pub fn write_parquet_atomically(
    path: &Path,
    batch: &arrow_array::RecordBatch,
    properties: Option<parquet::file::properties::WriterProperties>,
) -> std::io::Result<()> {
    write_atomically(path, |file| {
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(file, batch.schema(), properties).map_err(std::io::Error::other)?;
        writer.write(batch).map_err(std::io::Error::other)?;
        writer.close().map_err(std::io::Error::other)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/f.bin");
        write_atomically(&path, |f| f.write_all(b"old")).unwrap();
        let err = write_atomically(&path, |f| {
            f.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path().join("sub")).unwrap().count(), 1);
    }
}
