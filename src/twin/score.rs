//! How well a trained mapping did: NSE at each gauge and the recovery of each parameter map.

use crate::cost::metrics::nse;

/// How close a recovered parameter map is to the truth over a set of cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recovery {
    pub name: &'static str,
    /// Pearson correlation of the recovered and true values.
    pub correlation: f64,
    /// Root-mean-square error over the standard deviation of the truth: 0 is exact, 1 is no better than
    /// the true mean everywhere.
    pub nrmse: f64,
    /// Root-mean-square error, in the parameter's unit.
    pub rmse: f64,
}

impl Recovery {
    /// The recovery of `truth` by `estimate` on the cells `cells` (indices into both).
    pub fn of(name: &'static str, truth: &[f64], estimate: &[f64], cells: &[usize]) -> Recovery {
        let n = cells.len().max(1) as f64;
        let mean = |v: &[f64]| cells.iter().map(|&c| v[c]).sum::<f64>() / n;
        let (mt, me) = (mean(truth), mean(estimate));
        let (mut vt, mut ve, mut cov, mut se) = (0.0, 0.0, 0.0, 0.0);
        for &c in cells {
            let (t, e) = (truth[c] - mt, estimate[c] - me);
            vt += t * t;
            ve += e * e;
            cov += t * e;
            se += (estimate[c] - truth[c]).powi(2);
        }
        let rmse = (se / n).sqrt();
        Recovery { name, correlation: cov / (vt * ve).sqrt(), nrmse: rmse / (vt / n).sqrt(), rmse }
    }
}

/// NSE of each gauge over the steps `from..T` of `qobs` and `qsim` (`[T, G]`, m³/s); `NaN` where the
/// observations are constant.
pub fn gauge_nse(qobs: &[f32], qsim: &[f32], ngauge: usize, from: usize) -> Vec<f64> {
    let column =
        |v: &[f32], j: usize| -> Vec<f32> { v.iter().skip(from * ngauge + j).step_by(ngauge).copied().collect() };
    (0..ngauge).map(|j| nse(&column(qobs, j), &column(qsim, j)).map_or(f64::NAN, f64::from)).collect()
}

/// The median (mean of the two middle values for an even count); `NaN` for no value.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_of_exact_shifted_and_flat_maps() {
        let truth = [1.0, 2.0, 3.0, 4.0, 100.0];
        let cells = [0, 1, 2, 3];
        let exact = Recovery::of("cp", &truth, &truth, &cells);
        assert_eq!((exact.correlation, exact.nrmse, exact.rmse), (1.0, 0.0, 0.0));
        let shifted = Recovery::of("cp", &truth, &[2.0, 3.0, 4.0, 5.0, 0.0], &cells);
        assert!((shifted.correlation - 1.0).abs() < 1e-12 && (shifted.rmse - 1.0).abs() < 1e-12);
        assert!((shifted.nrmse - 1.0 / 1.25f64.sqrt()).abs() < 1e-12);
        let flat = Recovery::of("cp", &truth, &[2.5; 5], &cells);
        assert!((flat.nrmse - 1.0).abs() < 1e-12 && flat.correlation.is_nan());
    }

    #[test]
    fn nse_per_gauge_after_the_warm_up() {
        // 2 gauges × 4 steps: gauge 0 exact after step 1, gauge 1 constant
        let qobs = [9.0, 1.0, 1.0, 1.0, 2.0, 1.0, 3.0, 1.0];
        let qsim = [0.0, 5.0, 1.0, 5.0, 2.0, 5.0, 3.0, 5.0];
        let nse = gauge_nse(&qobs, &qsim, 2, 1);
        assert_eq!(nse[0], 1.0);
        assert!(nse[1].is_nan());
        assert!(gauge_nse(&qobs, &qsim, 2, 0)[0] < 1.0);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
