//! Finding forcing files and matching them with time steps by the date in their name (spec §8).
//!
//! As smash does: every `*tif` file under the folder is found recursively (hidden files and folders
//! skipped, symbolic links followed), the list is sorted by path, and the date is the first run of
//! digits of the right length in the file name: `YYYYmmddHHMM` for dt < 1 day, `YYYYmmdd` for daily,
//! `mmdd` for daily interannual PET. Files may sit in `YYYY/MM/DD` sub-folders.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use rayon::prelude::*;

use super::IoError;

/// A file found under an input folder.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListedFile {
    pub path: PathBuf,
    /// Path relative to the folder, `/`-separated (the sort key).
    pub rel: String,
    /// Size \[bytes\] and modification time [ns since the epoch]; 0 unless listed with metadata.
    pub size: u64,
    pub mtime_ns: i128,
}

/// Lists the files under `dir` whose name ends with `suffix`, recursively, sorted by path.
///
/// `key` is the configuration key naming `dir` (for the error when it does not exist). With
/// `with_metadata` the size and modification time of each file are filled in (one `stat` per file).
///
/// # Errors
/// [`IoError::MissingDirectory`] if `dir` is not a folder, [`IoError::Read`] if it cannot be listed.
pub fn list_files(dir: &Path, key: &str, suffix: &str, with_metadata: bool) -> Result<Vec<ListedFile>, IoError> {
    if !dir.is_dir() {
        return Err(IoError::MissingDirectory { key: key.to_string(), path: dir.to_path_buf() });
    }
    let mut out = walk(dir, "", suffix, with_metadata, 0)?;
    out.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

/// One folder: its matching files (stat-ed in parallel when asked), then its sub-folders in parallel.
fn walk(dir: &Path, rel: &str, suffix: &str, meta: bool, depth: usize) -> Result<Vec<ListedFile>, IoError> {
    if depth > 32 {
        return Ok(Vec::new()); // a symbolic-link cycle; smash would not terminate
    }
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| IoError::read(dir, e))? {
        let entry = entry.map_err(|e| IoError::read(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let mut file_type = entry.file_type().map_err(|e| IoError::read(&path, e))?;
        let link = file_type.is_symlink();
        if link {
            match std::fs::metadata(&path) {
                Ok(m) => file_type = m.file_type(),
                Err(_) => continue, // dangling link
            }
        }
        let child_rel = if rel.is_empty() { name.to_string() } else { format!("{rel}/{name}") };
        if file_type.is_dir() {
            dirs.push((path, child_rel));
        } else if name.ends_with(suffix) {
            files.push((entry, link, ListedFile { path, rel: child_rel, size: 0, mtime_ns: 0 }));
        }
    }
    let stat = |(entry, link, mut file): (std::fs::DirEntry, bool, ListedFile)| -> Result<ListedFile, IoError> {
        if meta {
            let m = if link { std::fs::metadata(&file.path) } else { entry.metadata() };
            let m = m.map_err(|e| IoError::read(&file.path, e))?;
            file.size = m.len();
            file.mtime_ns = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
        }
        Ok(file)
    };
    let mut out = if meta && files.len() > 64 {
        files.into_par_iter().map(stat).collect::<Result<Vec<_>, _>>()?
    } else {
        files.into_iter().map(stat).collect::<Result<Vec<_>, _>>()?
    };
    let sub: Vec<Result<Vec<ListedFile>, IoError>> =
        dirs.par_iter().map(|(path, rel)| walk(path, rel, suffix, meta, depth + 1)).collect();
    for s in sub {
        out.extend(s?);
    }
    Ok(out)
}

/// The date smash looks for in a forcing file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePattern {
    /// `YYYYmmddHHMM` (dt < 1 day).
    Minute,
    /// `YYYYmmdd` (dt = 1 day).
    Day,
    /// `mmdd` (daily interannual PET), read as a day of the leap year 2020.
    MonthDay,
}

impl DatePattern {
    /// The pattern of forcing files for step `dt` \[s\].
    ///
    /// # Errors
    /// [`IoError::UnsupportedTimeStep`] for dt ≤ 0 or dt > 1 day.
    pub fn for_forcing(dt: i64, daily_interannual: bool) -> Result<DatePattern, IoError> {
        if dt <= 0 || dt > 86_400 {
            return Err(IoError::UnsupportedTimeStep {
                dt,
                reason: "forcing files are matched by date only for steps of at most one day".into(),
            });
        }
        Ok(if daily_interannual {
            DatePattern::MonthDay
        } else if dt < 86_400 {
            DatePattern::Minute
        } else {
            DatePattern::Day
        })
    }

    fn digits(self) -> usize {
        match self {
            DatePattern::Minute => 12,
            DatePattern::Day => 8,
            DatePattern::MonthDay => 4,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            DatePattern::Minute => "YYYYmmddHHMM",
            DatePattern::Day => "YYYYmmdd",
            DatePattern::MonthDay => "mmdd",
        }
    }

    /// The date in the name of `path` (for [`DatePattern::MonthDay`], that day in 2020).
    ///
    /// # Errors
    /// [`IoError::NoDateInFileName`], [`IoError::InvalidDateInFileName`].
    pub fn parse(self, path: &Path) -> Result<NaiveDateTime, IoError> {
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        let n = self.digits();
        let bytes = name.as_bytes();
        let start = (0..bytes.len().saturating_sub(n - 1))
            .find(|&i| bytes[i..i + n].iter().all(u8::is_ascii_digit))
            .ok_or_else(|| IoError::NoDateInFileName { path: path.to_path_buf(), format: self.describe() })?;
        let text = &name[start..start + n];
        let num = |a: usize, b: usize| text[a..b].parse::<u32>().unwrap_or(u32::MAX);
        let date = match self {
            DatePattern::Minute => NaiveDate::from_ymd_opt(num(0, 4) as i32, num(4, 6), num(6, 8))
                .and_then(|d| d.and_hms_opt(num(8, 10), num(10, 12), 0)),
            DatePattern::Day => {
                NaiveDate::from_ymd_opt(num(0, 4) as i32, num(4, 6), num(6, 8)).and_then(|d| d.and_hms_opt(0, 0, 0))
            }
            DatePattern::MonthDay => {
                NaiveDate::from_ymd_opt(2020, num(0, 2), num(2, 4)).and_then(|d| d.and_hms_opt(0, 0, 0))
            }
        };
        date.ok_or_else(|| IoError::InvalidDateInFileName {
            path: path.to_path_buf(),
            text: text.to_string(),
            format: self.describe(),
        })
    }
}

/// Matches each target date with a file, exactly as smash's `_find_index_files_containing_date`.
///
/// `file_dates` are in sorted-path order. For each target (in order) the remaining files are scanned:
/// earlier dates are skipped, equal dates are taken (the last of a run of equal dates wins) and the scan
/// stops at the first later date. After a match the remaining list starts after the matched file.
/// With `trim_before`, the list first starts at the first file dated at or after it
/// (smash's `_get_atmos_files`), and is empty if there is none.
pub fn match_dates(
    file_dates: &[NaiveDateTime],
    targets: impl IntoIterator<Item = NaiveDateTime>,
    trim_before: Option<NaiveDateTime>,
) -> Vec<Option<usize>> {
    let mut base = match trim_before {
        Some(first) => file_dates.iter().position(|&d| d >= first).unwrap_or(file_dates.len()),
        None => 0,
    };
    targets
        .into_iter()
        .map(|target| {
            let mut found = None;
            for (i, &d) in file_dates.iter().enumerate().skip(base) {
                if d < target {
                    continue;
                } else if d == target {
                    found = Some(i);
                } else {
                    break;
                }
            }
            if let Some(i) = found {
                base = i + 1;
            }
            found
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    fn dt(s: &str) -> NaiveDateTime {
        parse_datetime(s).unwrap()
    }

    #[test]
    fn finds_the_first_digit_run_of_the_right_length() {
        let p = DatePattern::Minute;
        assert_eq!(
            p.parse(Path::new("x/rain_precipitation_201411231700_201411231700.tif")).unwrap(),
            dt("2014-11-23 17:00")
        );
        assert_eq!(
            p.parse(Path::new("antilope_j1_000100_201201020700_201201020700.tif")).unwrap(),
            dt("2012-01-02 07:00")
        );
        assert_eq!(DatePattern::Day.parse(Path::new("201211020000_PT.tif")).unwrap(), dt("2012-11-02"));
        assert_eq!(DatePattern::MonthDay.parse(Path::new("0229_ETPJIA.tif")).unwrap(), dt("2020-02-29"));
        assert!(matches!(p.parse(Path::new("rain_2014.tif")), Err(IoError::NoDateInFileName { .. })));
        assert!(matches!(
            DatePattern::MonthDay.parse(Path::new("1345.tif")),
            Err(IoError::InvalidDateInFileName { .. })
        ));
        assert!(DatePattern::for_forcing(2 * 86_400, false).is_err());
    }

    #[test]
    fn matching_follows_smash_scan() {
        let files = [dt("2014-01-01 01:00"), dt("2014-01-01 02:00"), dt("2014-01-01 04:00"), dt("2014-01-01 04:00")];
        let targets = (1..=5).map(|h| dt(&format!("2014-01-01 0{h}:00")));
        assert_eq!(match_dates(&files, targets, None), vec![Some(0), Some(1), None, Some(3), None]);
        // Trimming drops files before the first step end.
        let targets = (2..=3).map(|h| dt(&format!("2014-01-01 0{h}:00")));
        assert_eq!(match_dates(&files, targets, Some(dt("2014-01-01 02:00"))), vec![Some(1), None]);
        assert_eq!(match_dates(&files, [dt("2015-01-01 00:00")], Some(dt("2015-01-01 00:00"))), vec![None]);
    }

    #[test]
    fn lists_recursively_sorted_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        for rel in
            ["2014/09/b_201409150200.tif", "2014/09/a_201409150100.tif", ".hidden/x.tif", "2014/.y.tif", "notes.txt"]
        {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let files = list_files(dir.path(), "prcp_directory", "tif", true).unwrap();
        let rels: Vec<_> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["2014/09/a_201409150100.tif", "2014/09/b_201409150200.tif"]);
        assert_eq!(files[0].size, 1);
        let err = list_files(&dir.path().join("nope"), "prcp_directory", "tif", false).unwrap_err();
        assert!(err.to_string().contains("prcp_directory"), "{err}");
    }
}
