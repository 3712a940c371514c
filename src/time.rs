//! The simulation time axis and smash's date formats.
//!
//! smash stamps a step with its **end**: step `k` (0-based) covers `(start + k·dt, start + (k+1)·dt]`
//! and its forcing file is dated `start + (k+1)·dt` (spec §8).

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

/// The model's time steps: `ntime` steps of `dt` seconds after `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeAxis {
    /// Start of the first step (never itself a step end).
    pub start: NaiveDateTime,
    /// Step length \[s\], > 0.
    pub dt: i64,
    /// Number of steps, `(end − start) / dt`.
    pub ntime: usize,
}

impl TimeAxis {
    /// The end timestamp of step `k` (0-based): `start + (k+1)·dt`.
    pub fn step_end(&self, k: usize) -> NaiveDateTime {
        self.start + TimeDelta::seconds(self.dt * (k as i64 + 1))
    }

    /// The end of the last step.
    pub fn end(&self) -> NaiveDateTime {
        self.step_end(self.ntime.saturating_sub(1))
    }

    /// The step whose end is `t`, if `t` is one of the step ends.
    pub fn step_ending_at(&self, t: NaiveDateTime) -> Option<usize> {
        let secs = (t - self.start).num_seconds();
        (secs > 0 && secs % self.dt == 0).then(|| (secs / self.dt - 1) as usize).filter(|&k| k < self.ntime)
    }
}

/// Parses a date as smash accepts it: `YYYY-mm-dd HH:MM[:SS]`, `YYYY-mm-ddTHH:MM[:SS]` or `YYYY-mm-dd`.
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    const FORMATS: [&str; 4] = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cance_axis_has_1440_steps_stamped_by_their_end() {
        let start = parse_datetime("2014-09-15 00:00").unwrap();
        let end = parse_datetime("2014-11-14").unwrap();
        let axis = TimeAxis { start, dt: 3600, ntime: ((end - start).num_seconds() / 3600) as usize };
        assert_eq!(axis.ntime, 1440);
        assert_eq!(axis.step_end(0), parse_datetime("2014-09-15 01:00").unwrap());
        assert_eq!(axis.end(), end);
        assert_eq!(axis.step_ending_at(end), Some(1439));
        assert_eq!(axis.step_ending_at(start), None);
    }

    #[test]
    fn rejects_other_formats() {
        assert!(parse_datetime("15/09/2014").is_none());
        assert!(parse_datetime("2014-13-01").is_none());
    }
}
