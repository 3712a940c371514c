//! "Observed" discharge: a simple lumped model, independent of gr4, run on the catchment-average
//! forcing, plus measurement noise and gaps. Replace [`observed_csv`]'s input to change the truth.

use super::rng::Rng;

/// A lumped rainfall-runoff model: a soil store with a quadratic runoff coefficient, a fast and a slow
/// linear reservoir (implicit Euler, no libm) and a pure lag.
pub struct Lumped {
    /// Soil capacity and initial content \[mm\].
    pub smax: f64,
    pub s0: f64,
    /// Share of runoff taking the fast path \[-\].
    pub fast_share: f64,
    /// Time constants of the fast and slow reservoirs [h].
    pub k_fast: f64,
    pub k_slow: f64,
    /// Initial specific baseflow [mm/h].
    pub base: f64,
    /// Travel time to the gauge [h].
    pub lag: usize,
}

impl Lumped {
    /// Parameters of a catchment of `area` km²: larger catchments react slower and later.
    pub fn for_area(area: f64) -> Self {
        Self {
            smax: 150.0,
            s0: 45.0,
            fast_share: 0.8,
            k_fast: 2.0 + 0.03 * area,
            k_slow: 150.0,
            base: 0.012,
            lag: 1 + (area / 70.0).round() as usize,
        }
    }

    /// Discharge \[m³/s\] at the start and after each hourly step.
    ///
    /// # Arguments
    /// * `prcp`, `pet`: catchment-average rainfall and PET of each hourly step [mm/h].
    /// * `area`: drained area [km²].
    ///
    /// # Returns
    /// `prcp.len() + 1` values: the initial discharge, then the discharge at each step end.
    pub fn simulate(&self, prcp: &[f64], pet: &[f64], area: f64) -> Vec<f64> {
        let (mut soil, mut fast, mut slow) = (self.s0, 0.0, self.base * self.k_slow);
        let mut delay = vec![self.base; self.lag];
        let mut q = vec![self.base];
        for (&p, &e) in prcp.iter().zip(pet) {
            let fill = soil / self.smax;
            let runoff = p * fill * fill;
            soil += p - runoff - e * fill;
            let overflow = (soil - self.smax).max(0.0);
            soil = soil.clamp(0.0, self.smax);
            let recharge = (runoff + overflow) * (1.0 - self.fast_share) + 1e-4 * soil;
            soil -= 1e-4 * soil;
            fast = (fast + (runoff + overflow) * self.fast_share) / (1.0 + 1.0 / self.k_fast);
            slow = (slow + recharge) / (1.0 + 1.0 / self.k_slow);
            delay.push(fast / self.k_fast + slow / self.k_slow);
            q.push(delay.remove(0));
        }
        q.iter().map(|mm_per_h| mm_per_h * area / 3.6).collect()
    }
}

/// The qobs CSV: header `first` (`YYYYmmddHHMM` of the first row), then one value per line \[m³/s\] with
/// 3 decimals, ±3 % autocorrelated gauging noise, and −99.000 on the rows listed in `gaps`.
pub fn observed_csv(first: &str, q: &[f64], gaps: &[std::ops::Range<usize>], rng: &mut Rng) -> String {
    let mut csv = format!("{first}\n");
    let mut err = 0.0;
    for (i, v) in q.iter().enumerate() {
        err = 0.7 * err + 0.3 * rng.range(-0.1, 0.1);
        if gaps.iter().any(|g| g.contains(&i)) {
            csv.push_str("-99.000\n");
        } else {
            csv.push_str(&format!("{:.3}\n", v * (1.0 + err)));
        }
    }
    csv
}
