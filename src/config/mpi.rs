//! `[mpi]`: how `mpirun -np R hydrograd train` spreads a search stage's evaluations over the ranks
//! (`src/cluster/`). Ignored by a single process. None of these keys changes a result: they decide who
//! evaluates which parameter set and when an evaluation is given up on.

use serde::Deserialize;

/// How a batch of parameter sets is cut into the messages sent to the ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// Each method's own choice ([`crate::samplers::Method::scheduling`]).
    Auto,
    /// One contiguous share per rank (sizes differ by at most one), rank 0 included: a generation scattered
    /// and gathered in one round.
    Generation,
    /// Chunks of `chunk` sets handed to whichever rank is free (master–worker): uneven evaluation times.
    Dynamic,
}

impl Scheduling {
    /// The name as configs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Scheduling::Auto => "auto",
            Scheduling::Generation => "generation",
            Scheduling::Dynamic => "dynamic",
        }
    }
}

/// `[mpi]`, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MpiOptions {
    pub scheduling: Scheduling,
    /// Sets per message with `dynamic` scheduling; `None`: a quarter of a rank's share of the batch.
    pub chunk: Option<usize>,
    /// An evaluation is overdue after `run_timeout_factor` × the median time per set × its chunk's sets
    /// (PEST++'s `overdue_giveup_fac`), and re-issued to another rank.
    pub run_timeout_factor: f64,
    /// The shortest time \[s\] after which a chunk is overdue (the median of fast evaluations jitters).
    pub run_timeout_min: f64,
    /// The limit \[s\] before any evaluation of the run has finished (no median yet).
    pub run_timeout_first: f64,
    /// Attempts at a chunk (timeouts and errors together) before its sets are recorded as failed
    /// (PEST++'s `max_run_fail`).
    pub max_run_fail: usize,
}

impl Default for MpiOptions {
    fn default() -> Self {
        MpiOptions {
            scheduling: Scheduling::Auto,
            chunk: None,
            run_timeout_factor: 10.0,
            run_timeout_min: 10.0,
            run_timeout_first: 600.0,
            max_run_fail: 3,
        }
    }
}

/// `[mpi]` as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMpi {
    scheduling: Option<String>,
    chunk: Option<i64>,
    run_timeout_factor: Option<f64>,
    run_timeout_min: Option<f64>,
    run_timeout_first: Option<f64>,
    max_run_fail: Option<i64>,
}

impl RawMpi {
    /// Validates every key; the error is `(key, message)`.
    pub(super) fn validate(&self) -> Result<MpiOptions, (&'static str, String)> {
        let mut out = MpiOptions::default();
        if let Some(name) = &self.scheduling {
            out.scheduling = [Scheduling::Auto, Scheduling::Generation, Scheduling::Dynamic]
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or(("scheduling", format!("'{name}' is not one of auto, generation, dynamic")))?;
        }
        if let Some(chunk) = self.chunk {
            let chunk = usize::try_from(chunk).ok().filter(|&c| c >= 1);
            out.chunk = Some(chunk.ok_or(("chunk", "must be a whole number ≥ 1 (sets per message)".to_string()))?);
        }
        let positive = |key: &'static str, value: Option<f64>, default: f64| match value {
            None => Ok(default),
            Some(v) if v.is_finite() && v > 0.0 => Ok(v),
            Some(v) => Err((key, format!("{v}: must be a positive number"))),
        };
        out.run_timeout_factor = positive("run_timeout_factor", self.run_timeout_factor, out.run_timeout_factor)?;
        out.run_timeout_min = positive("run_timeout_min", self.run_timeout_min, out.run_timeout_min)?;
        out.run_timeout_first = positive("run_timeout_first", self.run_timeout_first, out.run_timeout_first)?;
        if let Some(n) = self.max_run_fail {
            let n = usize::try_from(n).ok().filter(|&n| n >= 1);
            out.max_run_fail = n.ok_or(("max_run_fail", "must be a whole number ≥ 1 (attempts)".to_string()))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MpiOptions, (&'static str, String)> {
        toml::from_str::<RawMpi>(text).expect("valid TOML").validate()
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(parse("").unwrap(), MpiOptions::default());
        let o = parse("scheduling = \"dynamic\"\nchunk = 4\nrun_timeout_min = 0.5\nmax_run_fail = 2").unwrap();
        assert_eq!((o.scheduling, o.chunk, o.run_timeout_min, o.max_run_fail), (Scheduling::Dynamic, Some(4), 0.5, 2));
    }

    #[test]
    fn bad_values_name_their_key() {
        assert_eq!(parse("scheduling = \"static\"").unwrap_err().0, "scheduling");
        assert_eq!(parse("chunk = 0").unwrap_err().0, "chunk");
        assert_eq!(parse("run_timeout_factor = -1.0").unwrap_err().0, "run_timeout_factor");
        assert_eq!(parse("max_run_fail = 0").unwrap_err().0, "max_run_fail");
        assert!(toml::from_str::<RawMpi>("timeout = 3").is_err(), "unknown keys are refused");
    }
}
