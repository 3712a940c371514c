//! Atmospheric forcing (precipitation and PET) from one GeoTIFF per date (spec §8).
//!
//! Values equal smash's `model.atmos_data.prcp/pet` (float32):
//! - step `k` uses the file dated at its **end**, `start + (k+1)·dt`;
//! - a value is `f32(raw)`, −99 where it is the file's nodata or the cell lies outside the raster, then
//!   times the conversion factor (so nodata becomes e.g. −9.9: only the sign matters);
//! - a date without file is −99 (not scaled) with [`MissingFile::AsMissing`], an error by default;
//! - daily interannual PET is disaggregated with smash's ratios and leap-year day index ([`super::pet`]).

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use rayon::prelude::*;

use super::IoError;
use super::files::{DatePattern, ListedFile, list_files, match_dates};
use super::pet::{leap_day, pet_ratios, step_days, step_offset};
use super::raster::{MISSING, RasterFile};
use super::values::Values;
use super::window::Coverage;
use crate::grid::Grid;
use crate::time::TimeAxis;

/// What to do with a date that has no forcing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum MissingFile {
    /// Stop with an error naming the folder and the first missing dates.
    #[default]
    Error,
    /// smash's behaviour: the whole step is missing data (−99), with a warning.
    AsMissing,
}

/// Where and how to read precipitation and PET (smash's setup keys).
#[derive(Debug, Clone, PartialEq)]
pub struct AtmosSpec {
    pub prcp_directory: PathBuf,
    /// Multiplies the stored precipitation to get mm per step (e.g. 0.1 for tenths of mm).
    pub prcp_conversion_factor: f32,
    pub pet_directory: PathBuf,
    pub pet_conversion_factor: f32,
    /// PET files are one per calendar day (`mmdd` in the name), disaggregated to the step.
    pub daily_interannual_pet: bool,
    pub missing_forcing_file: MissingFile,
}

impl AtmosSpec {
    /// A spec with factors 1, dated PET and [`MissingFile::Error`].
    pub fn new(prcp_directory: impl Into<PathBuf>, pet_directory: impl Into<PathBuf>) -> AtmosSpec {
        AtmosSpec {
            prcp_directory: prcp_directory.into(),
            prcp_conversion_factor: 1.0,
            pet_directory: pet_directory.into(),
            pet_conversion_factor: 1.0,
            daily_interannual_pet: false,
            missing_forcing_file: MissingFile::Error,
        }
    }
}

/// Forcing on the model's cells.
///
/// # Shapes
/// `prcp`, `pet`: `[T, N]` time-major, `T = ntime`, `N = ncell`; column `n` is cell `cells[n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Forcing {
    pub ntime: usize,
    pub ncell: usize,
    /// Precipitation \[mm per step\]; negative = missing.
    pub prcp: Values,
    /// Potential evapotranspiration \[mm per step\]; negative = missing.
    pub pet: Values,
    /// What smash would have warned about (missing files, mesh outside a raster).
    pub warnings: Vec<String>,
    /// A fingerprint of everything this forcing was assembled from (request and input files), set when
    /// it went through the cache; results derived from the forcing alone can be cached under it.
    pub fingerprint: Option<String>,
}

/// Reads precipitation and PET for `time` on the cells `cells` of the mesh rectangle `grid`.
///
/// # Arguments
/// * `cells` — row-major flat indices on `grid`, in the order the model wants.
///
/// # Shapes
/// Returns `[time.ntime, cells.len()]` arrays.
///
/// # Errors
/// A missing folder ([`IoError::MissingDirectory`]), missing dates with [`MissingFile::Error`], file names
/// without a date, unreadable rasters, rasters of another resolution or misaligned with `grid`, and NaN
/// values that are not the file's nodata.
pub fn read_atmos(spec: &AtmosSpec, time: &TimeAxis, grid: &Grid, cells: &[usize]) -> Result<Forcing, IoError> {
    let prcp_files = list_files(&spec.prcp_directory, "prcp_directory", "tif", false)?;
    let pet_files = list_files(&spec.pet_directory, "pet_directory", "tif", false)?;
    read_atmos_listed(spec, time, grid, cells, &prcp_files, &pet_files)
}

/// [`read_atmos`] with the folders already listed.
pub(crate) fn read_atmos_listed(
    spec: &AtmosSpec,
    time: &TimeAxis,
    grid: &Grid,
    cells: &[usize],
    prcp_files: &[ListedFile],
    pet_files: &[ListedFile],
) -> Result<Forcing, IoError> {
    if let Some(&bad) = cells.iter().find(|&&c| c >= grid.len()) {
        return Err(IoError::InvalidArgument {
            reason: format!("cell index {bad} is outside the {} x {} mesh grid", grid.nrow, grid.ncol),
        });
    }
    let mut warnings = Vec::new();
    let prcp = Series {
        key: "prcp_directory",
        dir: &spec.prcp_directory,
        files: prcp_files,
        factor: spec.prcp_conversion_factor,
        missing: spec.missing_forcing_file,
    };
    let pet = Series {
        key: "pet_directory",
        dir: &spec.pet_directory,
        files: pet_files,
        factor: spec.pet_conversion_factor,
        ..prcp
    };
    let prcp = prcp.read_dated(time, grid, cells, &mut warnings)?;
    let pet = if spec.daily_interannual_pet {
        pet.read_interannual(time, grid, cells, &mut warnings)?
    } else {
        pet.read_dated(time, grid, cells, &mut warnings)?
    };
    Ok(Forcing {
        ntime: time.ntime,
        ncell: cells.len(),
        prcp: prcp.into(),
        pet: pet.into(),
        warnings,
        fingerprint: None,
    })
}

#[derive(Clone, Copy)]
struct Series<'a> {
    key: &'static str,
    dir: &'a Path,
    files: &'a [ListedFile],
    factor: f32,
    missing: MissingFile,
}

impl Series<'_> {
    fn dates(&self, pattern: DatePattern) -> Result<Vec<NaiveDateTime>, IoError> {
        self.files.iter().map(|f| pattern.parse(&f.path)).collect()
    }

    /// Errors or warns about unmatched targets (`labels` of the missing ones, `total` targets).
    fn report_missing(
        &self,
        labels: Vec<String>,
        total: usize,
        unit: &'static str,
        warnings: &mut Vec<String>,
    ) -> Result<(), IoError> {
        if labels.is_empty() {
            return Ok(());
        }
        let count = labels.len();
        match self.missing {
            MissingFile::Error => Err(IoError::MissingForcingFiles {
                key: self.key.to_string(),
                dir: self.dir.to_path_buf(),
                count,
                total,
                unit,
                first: labels.into_iter().take(5).collect(),
            }),
            MissingFile::AsMissing => {
                let shown: Vec<_> = labels.into_iter().take(10).collect();
                warnings.push(format!(
                    "{} = {}: no file for {count} of {total} {unit} (first: {}); treated as missing data (-99)",
                    self.key,
                    self.dir.display(),
                    shown.join(", ")
                ));
                Ok(())
            }
        }
    }

    fn warn_coverage(&self, coverage: impl IntoIterator<Item = Coverage>, warnings: &mut Vec<String>) {
        let (mut partial, mut none) = (0, 0);
        for c in coverage {
            match c {
                Coverage::Partial => partial += 1,
                Coverage::None => none += 1,
                Coverage::Full => {}
            }
        }
        for (n, how) in [(partial, "partly"), (none, "entirely")] {
            if n > 0 {
                warnings.push(format!(
                    "{} = {}: the mesh lies {how} outside {n} raster file(s); cells outside are missing data",
                    self.key,
                    self.dir.display()
                ));
            }
        }
    }

    /// One file per step, dated at the step end.
    fn read_dated(
        &self,
        time: &TimeAxis,
        grid: &Grid,
        cells: &[usize],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<f32>, IoError> {
        let dates = self.dates(DatePattern::for_forcing(time.dt, false)?)?;
        let first = (time.ntime > 0).then(|| time.step_end(0));
        let matched = match_dates(&dates, (0..time.ntime).map(|k| time.step_end(k)), first);
        let missing = (0..time.ntime)
            .filter(|&k| matched[k].is_none())
            .map(|k| time.step_end(k).format("%Y-%m-%d %H:%M").to_string())
            .collect();
        self.report_missing(missing, time.ntime, "dates", warnings)?;

        let n = cells.len();
        let mut out = vec![MISSING; time.ntime * n];
        if n == 0 {
            return Ok(out);
        }
        let results: Vec<Result<Coverage, IoError>> = out
            .par_chunks_mut(n)
            .zip(matched.par_iter())
            .map(|(row, m)| match m {
                Some(i) => RasterFile::open(&self.files[*i].path)?.fill(grid, cells, self.factor, row),
                None => Ok(Coverage::Full),
            })
            .collect();
        let coverage = results.into_iter().collect::<Result<Vec<_>, _>>()?;
        self.warn_coverage(coverage, warnings);
        Ok(out)
    }

    /// One file per calendar day (`mmdd`), disaggregated to the step.
    fn read_interannual(
        &self,
        time: &TimeAxis,
        grid: &Grid,
        cells: &[usize],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<f32>, IoError> {
        let ratios = pet_ratios(time.dt)?;
        let per_day = ratios.len();
        let dates = self.dates(DatePattern::MonthDay)?;
        let days = step_days(time);
        let mut needed = [false; 367];
        for &d in &days {
            needed[d as usize] = true;
        }
        let needed: Vec<u32> = (1..=366).filter(|&d| needed[d as usize]).collect();
        let matched = match_dates(&dates, needed.iter().map(|&d| leap_day(d)), None);
        let missing = needed
            .iter()
            .zip(&matched)
            .filter(|(_, m)| m.is_none())
            .map(|(&d, _)| leap_day(d).format("%m-%d").to_string())
            .collect();
        self.report_missing(missing, needed.len(), "days of year", warnings)?;

        let n = cells.len();
        type Day = Option<(Vec<f32>, Coverage)>;
        let read: Vec<Result<Day, IoError>> = matched
            .par_iter()
            .map(|m| {
                m.map(|i| {
                    let mut day = vec![0.0; n];
                    let coverage = RasterFile::open(&self.files[i].path)?.fill(grid, cells, self.factor, &mut day)?;
                    Ok((day, coverage))
                })
                .transpose()
            })
            .collect();
        let read = read.into_iter().collect::<Result<Vec<_>, _>>()?;
        self.warn_coverage(read.iter().flatten().map(|(_, c)| *c), warnings);
        let mut by_day: Vec<Option<&[f32]>> = vec![None; 367];
        for (&d, r) in needed.iter().zip(&read) {
            by_day[d as usize] = r.as_ref().map(|(v, _)| v.as_slice());
        }

        let mut out = vec![MISSING; time.ntime * n];
        if n == 0 {
            return Ok(out);
        }
        let offset = step_offset(time);
        out.par_chunks_mut(n).enumerate().for_each(|(k, row)| {
            if let Some(day) = by_day[days[k] as usize] {
                let ratio = ratios[(k + offset) % per_day];
                for (o, &v) in row.iter_mut().zip(day) {
                    *o = v * ratio;
                }
            }
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
