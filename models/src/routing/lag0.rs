//! Instantaneous routing (spec §2.2, lag0): `Q(x) = qt(x) + qup(x)`.

use crate::Real;

/// Adds the upstream discharge to the cell's runoff, step by step. `q`, `qup`: `[Tc]` \[m³/s\].
pub fn route<T: Real>(q: &mut [T], qup: &[T]) {
    for (q, &up) in q.iter_mut().zip(qup) {
        *q += up;
    }
}
