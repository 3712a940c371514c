//! Interception-capacity adjustment (spec §1.2, "ci adjustment"; smash's
//! `mw_interception_capacity.f90`), run at model build for sub-daily steps.
//!
//! For each cell, the daily reference `DC = Σ_days min(P_day, E_day)` (sums of the non-negative values of
//! each day) is matched by the interception store alone: for candidates `c ∈ {0.1, 0.2, …, 2.9}`
//! (f32 arithmetic, `0.1 + k·0.1`), `SD(c) = Σ_t ei` with the store starting empty and missing steps
//! skipped; `ci = argmin_c |SD(c) − DC|`, the first minimum.

use super::interception::interception;
use crate::Real;
use rayon::prelude::*;

/// Number of capacity candidates (0.1 … 2.9).
const CANDIDATES: usize = 29;

/// Adjusted interception capacity [mm] of each cell.
///
/// # Arguments
/// * `prcp`, `pet`: forcing [mm/dt], `[T, N]` time-major; negative = missing.
/// * `day`: day label of each step (any integer that changes at each new day of the step **end**), `[T]`.
///
/// # Returns
/// `ci`, `[N]`.
pub fn adjust_interception_capacity<T: Real>(prcp: &[T], pet: &[T], day: &[i64], n: usize) -> Vec<T> {
    let nt = day.len();
    assert_eq!(prcp.len(), nt * n, "prcp must be [T, N]");
    assert_eq!(pet.len(), nt * n, "pet must be [T, N]");
    let step = T::from_f64(0.1f32 as f64);
    let candidates: Vec<T> = (0..CANDIDATES).map(|k| step + T::from_f64(k as f64) * step).collect();
    (0..n)
        .into_par_iter()
        .map(|x| {
            let reference = daily_reference(prcp, pet, day, n, x);
            let mut best = (T::ZERO, None::<T>);
            for &c in &candidates {
                let gap = (intercepted(prcp, pet, nt, n, x, c) - reference).abs();
                if best.1.is_none_or(|g| gap < g) {
                    best = (c, Some(gap));
                }
            }
            best.0
        })
        .collect()
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

/// `Σ_t ei` of an interception store of capacity `c` starting empty, missing steps skipped.
fn intercepted<T: Real>(prcp: &[T], pet: &[T], nt: usize, n: usize, x: usize, c: T) -> T {
    let mut hi = T::ZERO;
    let mut total = T::ZERO;
    for t in 0..nt {
        let (p, e) = (prcp[t * n + x], pet[t * n + x]);
        if p >= T::ZERO && e >= T::ZERO {
            total += interception(p, e, c, &mut hi).ei;
        }
    }
    total
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
        assert_eq!(ci[0], 0.1f32 + 8.0 * 0.1f32);
        assert_eq!(ci[0].to_bits(), 0.900_000_04f32.to_bits());
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
