//! Fault injection for the fault-tolerance tests (`tests/cli_mpi.rs`) and for trying a cluster's
//! settings: `HYDROGRAD_FAULT="hang@R:N"` makes the `N`-th chunk (0-based) that rank `R` is given never
//! finish, `"error@R:N"` makes it fail with an error. Read by the worker ranks only; unset in normal runs.

/// What to do to one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The evaluation never returns.
    Hang,
    /// The evaluation returns an error.
    Error,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    pub rank: usize,
    /// 0-based count of the chunks the rank was given over the run.
    pub chunk: usize,
}

impl Fault {
    /// The fault of `HYDROGRAD_FAULT`, if set; an unreadable value is an error naming it.
    pub fn from_env() -> Result<Option<Fault>, String> {
        match std::env::var("HYDROGRAD_FAULT") {
            Ok(text) => Fault::parse(&text).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// `"hang@R:N"` or `"error@R:N"`.
    pub fn parse(text: &str) -> Result<Fault, String> {
        let bad = || format!("HYDROGRAD_FAULT={text:?}: expected \"hang@RANK:CHUNK\" or \"error@RANK:CHUNK\"");
        let (kind, at) = text.split_once('@').ok_or_else(bad)?;
        let kind = match kind {
            "hang" => FaultKind::Hang,
            "error" => FaultKind::Error,
            _ => return Err(bad()),
        };
        let (rank, chunk) = at.split_once(':').ok_or_else(bad)?;
        Ok(Fault { kind, rank: rank.parse().map_err(|_| bad())?, chunk: chunk.parse().map_err(|_| bad())? })
    }

    /// The fault for the `chunk`-th chunk of `rank`, if it is this one.
    pub fn hits(&self, rank: usize, chunk: usize) -> Option<FaultKind> {
        (self.rank == rank && self.chunk == chunk).then_some(self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_targets_one_chunk_of_one_rank() {
        let f = Fault::parse("hang@2:5").unwrap();
        assert_eq!(f, Fault { kind: FaultKind::Hang, rank: 2, chunk: 5 });
        assert_eq!((f.hits(2, 5), f.hits(2, 4), f.hits(1, 5)), (Some(FaultKind::Hang), None, None));
        assert_eq!(Fault::parse("error@1:0").unwrap().kind, FaultKind::Error);
        for bad in ["hang", "hang@2", "stall@1:1", "hang@x:1", "hang@1:-1"] {
            assert!(Fault::parse(bad).unwrap_err().contains("HYDROGRAD_FAULT"), "{bad}");
        }
    }
}
