//! Efficiency metrics (spec §7.2), in f32 sums as smash computes them. `obs < 0` marks a missing
//! observation; those steps are skipped. `None` when no step is observed or the observations are constant.

/// Nash–Sutcliffe efficiency in smash's expanded-sum form
/// `1 − (Σx² − 2Σxy + Σy²)/(Σx² − n·x̄²)` (x = observed, y = simulated).
pub fn nse(obs: &[f32], sim: &[f32]) -> Option<f32> {
    let s = Sums::of(obs, sim)?;
    let mean_x = s.x / s.n;
    let den = s.xx - s.n * mean_x * mean_x;
    (den > 0.0).then(|| 1.0 - (s.xx - 2.0 * s.xy + s.yy) / den)
}

/// Kling–Gupta efficiency with population moments:
/// `1 − √((r − 1)² + (β − 1)² + (α − 1)²)`, `r = cov/(σx σy)`, `α = σy/σx`, `β = ȳ/x̄`.
pub fn kge(obs: &[f32], sim: &[f32]) -> Option<f32> {
    let s = Sums::of(obs, sim)?;
    let (mean_x, mean_y) = (s.x / s.n, s.y / s.n);
    let var_x = s.xx / s.n - mean_x * mean_x;
    let var_y = s.yy / s.n - mean_y * mean_y;
    let cov = s.xy / s.n - mean_x * mean_y;
    if !(var_x > 0.0 && var_y > 0.0 && mean_x != 0.0) {
        return None;
    }
    let r = cov / (var_x * var_y).sqrt();
    let alpha = var_y.sqrt() / var_x.sqrt();
    let beta = mean_y / mean_x;
    Some(1.0 - ((r - 1.0).powi(2) + (beta - 1.0).powi(2) + (alpha - 1.0).powi(2)).sqrt())
}

/// Sums over the observed steps.
struct Sums {
    n: f32,
    x: f32,
    y: f32,
    xx: f32,
    yy: f32,
    xy: f32,
}

impl Sums {
    fn of(obs: &[f32], sim: &[f32]) -> Option<Sums> {
        assert_eq!(obs.len(), sim.len(), "observed and simulated series differ in length");
        let mut s = Sums { n: 0.0, x: 0.0, y: 0.0, xx: 0.0, yy: 0.0, xy: 0.0 };
        for (&x, &y) in obs.iter().zip(sim) {
            if x >= 0.0 {
                s.n += 1.0;
                s.x += x;
                s.y += y;
                s.xx += x * x;
                s.yy += y * y;
                s.xy += x * y;
            }
        }
        (s.n > 0.0).then_some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_simulation_scores_one() {
        let q = [1.0, 3.0, 2.0, 5.0];
        assert_eq!(nse(&q, &q), Some(1.0));
        assert!((kge(&q, &q).unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn mean_simulation_scores_zero_nse_and_missing_steps_are_skipped() {
        let obs = [1.0, 3.0, -99.0, 2.0];
        let sim = [2.0, 2.0, 100.0, 2.0];
        assert!(nse(&obs, &sim).unwrap().abs() < 1e-6);
        // KGE of a constant simulation is undefined (σy = 0)
        assert_eq!(kge(&obs, &sim), None);
    }

    #[test]
    fn kge_matches_its_definition() {
        let obs = [1.0f32, 2.0, 4.0, 3.0];
        let sim = [2.0f32, 3.0, 3.5, 4.0];
        let m = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / 4.0;
        let (mx, my) = (m(&obs), m(&sim));
        let sd = |v: &[f32], mu: f64| (v.iter().map(|&x| (x as f64 - mu).powi(2)).sum::<f64>() / 4.0).sqrt();
        let (sx, sy) = (sd(&obs, mx), sd(&sim, my));
        let cov = obs.iter().zip(&sim).map(|(&x, &y)| (x as f64 - mx) * (y as f64 - my)).sum::<f64>() / 4.0;
        let expected = 1.0 - ((cov / sx / sy - 1.0).powi(2) + (my / mx - 1.0).powi(2) + (sy / sx - 1.0).powi(2)).sqrt();
        assert!((kge(&obs, &sim).unwrap() as f64 - expected).abs() < 1e-5);
    }

    #[test]
    fn no_observation_gives_none() {
        assert_eq!(nse(&[-99.0, -1.0], &[1.0, 2.0]), None);
    }
}
