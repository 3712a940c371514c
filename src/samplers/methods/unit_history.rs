//! What the surrogate methods (gp, tpe) remember: the points evaluated, in the unit cube, with their
//! values, and the batch in flight.

use crate::samplers::{Proposal, Space};

/// Evaluated points and the pending batch, in the unit cube `[0, 1]^d` of a [`Space`].
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitHistory {
    /// The points told, `[n][d]`, in the order they were asked.
    pub units: Vec<Vec<f64>>,
    /// Their values, `[n]` (`+inf` for a failed evaluation).
    pub values: Vec<f64>,
    /// The batch asked and not yet told, `[B][d]`.
    pub pending: Vec<Vec<f64>>,
}

impl UnitHistory {
    /// The pending batch as proposals in the space's own units, clipped onto its bounds.
    pub fn proposals(&self, space: &Space) -> Vec<Proposal> {
        self.pending
            .iter()
            .map(|u| {
                let mut x = space.from_unit(u);
                space.clip(&mut x);
                Proposal::free(x)
            })
            .collect()
    }

    /// Moves the pending batch into the history with its `values` (`[B]`; NaN counts as `+inf`).
    ///
    /// # Panics
    /// When told more values than points were asked (`method` names the sampler in the message).
    pub fn record(&mut self, method: &str, values: &[f64]) {
        assert!(
            values.len() <= self.pending.len(),
            "{method}: told {} values for {} points",
            values.len(),
            self.pending.len()
        );
        for (u, &v) in self.pending.drain(..).zip(values) {
            self.units.push(u);
            self.values.push(if v.is_nan() { f64::INFINITY } else { v });
        }
    }
}
