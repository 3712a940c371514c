//! Interception-capacity adjustment (spec §1.2, "ci adjustment"; smash's
//! `mw_interception_capacity.f90`), run at model build for sub-daily steps.
//!
//! For each cell, the daily reference `DC = Σ_days min(P_day, E_day)` (sums of the non-negative values of
//! each day) is matched by the interception store alone: for candidates `c ∈ {0.1, 0.2, …, 2.9}`
//! (`(k + 1)·0.1f32`, one rounding), `SD(c) = Σ_t ei` with the store starting empty and missing steps
//! skipped (each step's `ei` taken as `E − en`, as smash sums it); `ci = argmin_c |SD(c) − DC|`, the first minimum.

use super::interception::interception;
use crate::Real;
use crate::lanes::{Lane, Pack};
use rayon::prelude::*;

/// Number of capacity candidates (0.1 … 2.9).
pub const CANDIDATES: usize = 29;

/// Candidates in a pack of 32 lanes; the 3 padding lanes never win (see `best_candidate`).
pub type CandidatePack<T> = Pack<T, 32>;

/// The capacity candidates `(k + 1)·0.1f32` rounded once to f32, as smash's Fortran makes them (so
/// 0.9 → 0.90000004 but 1.4 → 1.4; numpy's float32 `arange` would give 1.4000001), padded to 32 lanes.
pub fn candidates<T: Real>() -> CandidatePack<T> {
    let step = 0.1f32 as f64;
    Pack(core::array::from_fn(|k| T::from_f64((step + k.min(CANDIDATES - 1) as f64 * step) as f32 as f64)))
}

/// Adjusted interception capacity \[mm\] of each cell.
///
/// # Arguments
/// * `prcp`, `pet`: forcing \[mm/dt\], `[T, N]` time-major; negative = missing.
/// * `day`: day label of each step (any integer that changes at each new day of the step **end**), `[T]`.
///
/// # Returns
/// `ci`, `[N]`.
pub fn adjust_interception_capacity<T: Real>(prcp: &[T], pet: &[T], day: &[i64], n: usize) -> Vec<T> {
    adjust_with(prcp, pet, day, n, adjust_cell::<T>)
}

/// [`adjust_interception_capacity`] with the per-cell kernel `cell` (a vectorised build of [`adjust_cell`]).
pub fn adjust_with<T: Real>(
    prcp: &[T],
    pet: &[T],
    day: &[i64],
    n: usize,
    cell: impl Fn(&[T], &[T], &[i64], usize, usize) -> T + Sync,
) -> Vec<T> {
    let nt = day.len();
    assert_eq!(prcp.len(), nt * n, "prcp must be [T, N]");
    assert_eq!(pet.len(), nt * n, "pet must be [T, N]");
    (0..n).into_par_iter().with_min_len(64).map(|x| cell(prcp, pet, day, n, x)).collect()
}

/// The adjusted capacity of cell `x`: every candidate store runs at once, one per lane.
#[inline(always)]
pub fn adjust_cell<T: Real>(prcp: &[T], pet: &[T], day: &[i64], n: usize, x: usize) -> T {
    let reference = daily_reference(prcp, pet, day, n, x);
    let c = candidates::<T>();
    let zero = CandidatePack::splat(T::ZERO);
    let (mut hi, mut total) = (zero, zero);
    for t in 0..day.len() {
        let (p, e) = (prcp[t * n + x], pet[t * n + x]);
        if p >= T::ZERO && e >= T::ZERO {
            // smash accumulates `E − en`, not `ei`: the two differ by an ulp, enough to flip near-ties
            let e = CandidatePack::splat(e);
            total = total + (e - interception(CandidatePack::splat(p), e, c, &mut hi).en);
        }
    }
    best_candidate(&c, &total, reference)
}

/// The first candidate whose intercepted total is closest to `reference`.
fn best_candidate<T: Real>(c: &CandidatePack<T>, total: &CandidatePack<T>, reference: T) -> T {
    let mut best = (c.0[0], (total.0[0] - reference).abs());
    for k in 1..CANDIDATES {
        let gap = (total.0[k] - reference).abs();
        if gap < best.1 {
            best = (c.0[k], gap);
        }
    }
    best.0
}

/// `Σ_days min(P_day, E_day)` for cell `x`.
fn daily_reference<T: Real>(prcp: &[T], pet: &[T], day: &[i64], n: usize, x: usize) -> T {
    let mut total = T::ZERO;
    let (mut p_day, mut e_day) = (T::ZERO, T::ZERO);
    for t in 0..day.len() {
        if t > 0 && day[t] != day[t - 1] {
            total += p_day.min(e_day);
            (p_day, e_day) = (T::ZERO, T::ZERO);
        }
        let (p, e) = (prcp[t * n + x], pet[t * n + x]);
        if p >= T::ZERO {
            p_day += p;
        }
        if e >= T::ZERO {
            e_day += e;
        }
    }
    total + p_day.min(e_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_f32_multiples_of_a_tenth() {
        // One cell, one day with a single 0.9 mm rain then enough PET to empty any store: the best
        // capacity intercepts 0.9 mm; smash's candidate is the f32 value 0.90000004.
        let prcp = [0.9f32, 0.0, 0.0];
        let pet = [0.0f32, 5.0, 0.0];
        let ci = adjust_interception_capacity(&prcp, &pet, &[1, 1, 1], 1);
        assert_eq!(ci[0].to_bits(), 0.900_000_04f32.to_bits());
        let c = candidates::<f32>();
        assert_eq!(c.0[13], 1.4f32, "1.4 rounds from f64, not through f32 steps");
        assert_eq!(c.0[28].to_bits(), 2.9_f32.to_bits());
    }

    #[test]
    fn missing_steps_are_skipped() {
        let prcp = [2.0f64, -99.0, 0.0];
        let pet = [0.0f64, 0.0, 3.0];
        // daily min(P, E) = min(2, 3) = 2 → the largest store that can hold 2 mm is best; ties keep the first.
        let ci = adjust_interception_capacity(&prcp, &pet, &[1, 1, 1], 1);
        assert!((ci[0] - 2.0).abs() < 1e-6, "{}", ci[0]);
    }
}
