//! Observed discharge: one CSV per gauge (smash's `_read_qobs`, spec §8).
//!
//! The file is the first `*<code>*.csv` found recursively under the folder (sorted by path). Its header
//! is the date of the first row (`200601010000` hourly, `19580801` daily); then one value per line
//! \[m³/s\], −99 = missing. Model step `k` gets row `(start − file_start)/dt + 1 + k` (the value at the step
//! end). As in smash, the file's last row is never used, a gauge without file is all −99 (with a
//! warning), and so is a file that does not cover the period. Empty and NaN values are read as −99.

use std::path::Path;

use chrono::NaiveDateTime;

use super::IoError;
use super::files::list_files;
use crate::time::{TimeAxis, parse_datetime};

/// Reads observed discharge \[m³/s\] for the gauges `codes`; warnings are printed on stderr.
///
/// # Shapes
/// Returns `[T, G]` time-major, `G = codes.len()`; −99 = missing.
///
/// # Errors
/// [`IoError::MissingDirectory`], [`IoError::QobsHeader`], [`IoError::QobsValue`], [`IoError::Read`].
pub fn read_qobs(dir: &Path, codes: &[String], time: &TimeAxis) -> Result<Vec<f32>, IoError> {
    let (q, warnings) = read_qobs_with_warnings(dir, codes, time)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(q)
}

/// [`read_qobs`], returning the warnings instead of printing them.
pub fn read_qobs_with_warnings(
    dir: &Path,
    codes: &[String],
    time: &TimeAxis,
) -> Result<(Vec<f32>, Vec<String>), IoError> {
    let files = list_files(dir, "qobs_directory", ".csv", false)?;
    let ng = codes.len();
    let mut q = vec![-99.0f32; time.ntime * ng];
    let mut warnings = Vec::new();
    let mut missing = Vec::new();
    for (g, code) in codes.iter().enumerate() {
        let found: Vec<_> = files
            .iter()
            .filter(|f| f.path.file_name().is_some_and(|n| n.to_string_lossy().contains(code.as_str())))
            .collect();
        let Some(file) = found.first() else {
            missing.push(code.clone());
            continue;
        };
        if found.len() > 1 {
            warnings.push(format!(
                "{} files match gauge '{code}' under {}; using {}",
                found.len(),
                dir.display(),
                file.path.display()
            ));
        }
        let (file_start, values) = parse_csv(&file.path)?;
        let len = values.len();
        let secs = |t: NaiveDateTime| (t - file_start).num_seconds() as f64;
        let start_diff = (secs(time.start) / time.dt as f64).trunc() as i64 + 1;
        let end_diff = (secs(time.end()) / time.dt as f64).trunc() as i64 + 1;
        let last = len as i64 - 1;
        if len == 0 || start_diff > last || end_diff < 0 {
            warnings.push(format!(
                "observed discharge file {} for gauge '{code}' does not cover the simulation period [{}, {}]",
                file.path.display(),
                time.start,
                time.end()
            ));
            continue;
        }
        let (first_row, end_row) = (start_diff.max(0), last.min(end_diff));
        let first_step = (-start_diff).max(0);
        for (k, row) in (first_step..).zip(first_row..end_row) {
            if (k as usize) < time.ntime {
                q[k as usize * ng + g] = values[row as usize];
            }
        }
    }
    if !missing.is_empty() {
        warnings.push(format!(
            "no observed discharge file under {} for {} gauge(s): {}; their discharge is missing (-99)",
            dir.display(),
            missing.len(),
            missing.join(", ")
        ));
    }
    Ok((q, warnings))
}

/// The header date and the values (first column) of a qobs CSV.
fn parse_csv(path: &Path) -> Result<(NaiveDateTime, Vec<f32>), IoError> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::read(path, e))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header = lines.next().map_or("", |(_, l)| first_field(l));
    let start = parse_header(header)
        .ok_or_else(|| IoError::QobsHeader { path: path.to_path_buf(), header: header.to_string() })?;
    let values = lines
        .map(|(i, line)| {
            let field = first_field(line);
            parse_value(field).ok_or_else(|| IoError::QobsValue {
                path: path.to_path_buf(),
                line: i + 1,
                text: field.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((start, values))
}

fn first_field(line: &str) -> &str {
    line.split(',').next().unwrap_or("").trim().trim_matches('"')
}

/// `YYYYmmddHHMM`, `YYYYmmddHHMMSS`, `YYYYmmdd`, or the ISO forms smash's configuration accepts.
fn parse_header(text: &str) -> Option<NaiveDateTime> {
    let fmt = match text.len() {
        _ if !text.bytes().all(|b| b.is_ascii_digit()) => return parse_datetime(text),
        8 => return chrono::NaiveDate::parse_from_str(text, "%Y%m%d").ok()?.and_hms_opt(0, 0, 0),
        12 => "%Y%m%d%H%M",
        14 => "%Y%m%d%H%M%S",
        _ => return None,
    };
    NaiveDateTime::parse_from_str(text, fmt).ok()
}

/// A discharge value; pandas' missing markers and NaN become −99.
fn parse_value(text: &str) -> Option<f32> {
    const NA: [&str; 9] = ["", "NA", "N/A", "n/a", "NULL", "null", "None", "<NA>", "#N/A"];
    if NA.contains(&text) {
        return Some(-99.0);
    }
    let v: f64 = text.parse().ok()?;
    Some(if v.is_nan() { -99.0 } else { v as f32 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(start: &str, dt: i64, ntime: usize) -> TimeAxis {
        TimeAxis { start: parse_datetime(start).unwrap(), dt, ntime }
    }

    #[test]
    fn aligns_rows_with_step_ends_and_drops_the_last_row() {
        let dir = tempfile::tempdir().unwrap();
        // Rows dated 00:00, 01:00, ..., 05:00 with values 0..5.
        std::fs::write(dir.path().join("Q_V123_obs.csv"), "201401010000\n0\n1\n2\n-99.000\n4\n5\n").unwrap();
        let codes = ["V123".to_string(), "V999".to_string()];
        let (q, w) = read_qobs_with_warnings(dir.path(), &codes, &axis("2014-01-01 01:00", 3600, 4)).unwrap();
        // Step 0 ends 02:00 → row 2. Step 3 ends 05:00 → the last row, never used by smash.
        assert_eq!(q, [2.0, -99.0, -99.0, -99.0, 4.0, -99.0, -99.0, -99.0]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("V999"));
        // Period starting before the file.
        let (q, _) = read_qobs_with_warnings(dir.path(), &codes[..1], &axis("2013-12-31 22:00", 3600, 4)).unwrap();
        assert_eq!(q, [-99.0, 0.0, 1.0, 2.0]);
        // Period after the file: all missing, with a warning.
        let (q, w) = read_qobs_with_warnings(dir.path(), &codes[..1], &axis("2015-01-01 00:00", 3600, 2)).unwrap();
        assert_eq!((q, w.len()), (vec![-99.0, -99.0], 1));
    }

    #[test]
    fn daily_header_and_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Y1.csv"), "19580801\n1.5\n\nnan\n2.5\n3\n").unwrap();
        let (q, _) = read_qobs_with_warnings(dir.path(), &["Y1".into()], &axis("1958-08-01", 86_400, 3)).unwrap();
        assert_eq!(q, [-99.0, 2.5, -99.0]);
        std::fs::write(dir.path().join("Y1.csv"), "1958-13-01\n1\n").unwrap();
        let err = read_qobs_with_warnings(dir.path(), &["Y1".into()], &axis("1958-08-01", 86_400, 3)).unwrap_err();
        assert!(matches!(err, IoError::QobsHeader { .. }), "{err}");
        std::fs::write(dir.path().join("Y1.csv"), "19580801\n1\nabc\n").unwrap();
        let err = read_qobs_with_warnings(dir.path(), &["Y1".into()], &axis("1958-08-01", 86_400, 3)).unwrap_err();
        assert!(matches!(err, IoError::QobsValue { line: 3, .. }), "{err}");
    }
}
