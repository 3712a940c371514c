//! Tests of the SPOTPY objective functions (golden values of `shared/spec/samplers.md` §2).

use super::*;

/// `np.random.seed(42); sim = randn(10); obs = randn(10)` (spec §2).
const SIM: [f64; 10] = [
    0.4967141530112327,
    -0.13826430117118466,
    0.6476885381006925,
    1.5230298564080254,
    -0.23415337472333597,
    -0.23413695694918055,
    1.5792128155073915,
    0.7674347291529088,
    -0.4694743859349521,
    0.5425600435859647,
];
const OBS: [f64; 10] = [
    -0.46341769281246226,
    -0.46572975357025687,
    0.24196227156603412,
    -1.913280244657798,
    -1.7249178325130328,
    -0.5622875292409727,
    -1.0128311203344238,
    0.3142473325952739,
    -0.9080240755212109,
    -1.4123037013352915,
];
const OBS6: [f64; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
const SIM6: [f64; 6] = [1.5, 1.8, 3.3, 3.6, 5.4, 7.0];

fn close(actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol * expected.abs().max(1.0), "{actual} != {expected} (tolerance {tol})");
}

#[test]
fn golden_values_on_randn_data() {
    let (e, s) = (&OBS[..], &SIM[..]);
    close(bias(e, s), -1.2387193462811703, 1e-14);
    close(pbias(e, s), -156.66937901878677, 1e-14);
    close(nse(e, s), -4.116207076998551, 1e-14);
    let shift = |x: &[f64]| x.iter().map(|v| v + 3.0).collect::<Vec<_>>();
    let (e3, s3) = (shift(e), shift(s));
    close(lognse(&e3, &s3, 0.0), -2.3300973555530344, 1e-14);
    let mut s3_zero = s3.clone();
    s3_zero[0] = 0.0;
    close(lognse(&e3, &s3_zero, 1e-5), -125.77518894078659, 1e-14);
    close(log_p(e, s), -13135.8578574, 1e-11);
    close(log_p(&e3, &s3), -27.828229361821, 1e-13);
    close(correlation(e, s), -0.1105109772757096, 1e-14);
    close(r2(e, s), 0.012212676098432405, 1e-14);
    close(mse(e, s), 2.626987783780412, 1e-14);
    close(rmse(e, s), 1.6207985019059006, 1e-14);
    close(mae(e, s), 1.2387193462811703, 1e-14);
    close(rrmse(e, s), -2.0499356498347545, 1e-14);
    close(agreement_index(e, s), 0.3765831853184122, 1e-14);
    close(covariance(e, s), -0.05431564570521995, 1e-14);
    close(decomposed_mse(e, s), 2.626987783780412, 1e-14);
    let (k, r, alpha, beta) = kge_all(e, s);
    close(k, -0.9208317473480916, 1e-14);
    close(r, -0.1105109772757096, 1e-14);
    close(alpha, 0.9572152041345806, 1e-14);
    close(beta, -0.5666937901878675, 1e-14);
    close(kge_non_parametric(e, s), -0.86592314, 1e-8);
    close(kge_non_parametric_all(e, s).2, 0.70533493, 1e-8);
    close(rsr(e, s), 2.261903419025346, 1e-14);
    close(volume_error(e, s), -1.5666937901878677, 1e-14);
}

#[test]
fn golden_values_on_hand_checked_data() {
    let (e, s) = (&OBS6[..], &SIM6[..]);
    close(nse(e, s), 0.9028571428571428, 1e-14);
    let (k, r, alpha, beta) = kge_all(e, s);
    close(k, 0.8467257512740289, 1e-14);
    close(r, 0.9753779605074595, 1e-14);
    close(alpha, 1.1306972143222918, 1e-14);
    close(beta, 1.0761904761904764, 1e-14);
    close(lognse(e, s, 0.0), 0.8973468720867485, 1e-14);
    close(agreement_index(e, s), 0.9784537389100126, 1e-14);
    close(rmse(e, s), 0.5322906474223771, 1e-14);
    close(pbias(e, s), 7.619047619047621, 1e-14);
    let (k_np, r_np, alpha_np, _) = kge_non_parametric_all(e, s);
    close(k_np, 0.9105963949274657, 1e-14);
    close(r_np, 1.0, 1e-15);
    close(alpha_np, 0.9532237673830595, 1e-14);
}

#[test]
fn nan_handling_follows_spotpy() {
    let e = [1.0, 2.0, f64::NAN, 4.0];
    let s = [1.5, f64::NAN, 3.0, 4.5];
    // nansum over the pairs, divided by the full length.
    close(bias(&e, &s), -1.0 / 4.0, 1e-15);
    // 100·(0.5 + 0.5)/(1 + 2 + 4)
    close(pbias(&e, &s), 100.0 / 7.0, 1e-15);
    // numerator 0.5, denominator about nanmean 7/3 over the three observations.
    let m: f64 = 7.0 / 3.0;
    close(nse(&e, &s), 1.0 - 0.5 / ((1.0 - m).powi(2) + (2.0 - m).powi(2) + (4.0 - m).powi(2)), 1e-15);
    close(mse(&e, &s), 0.25, 1e-15);
    close(rmse(&e, &s), 0.5, 1e-15);
    for f in [mae, rrmse, agreement_index, covariance, correlation, kge, decomposed_mse, rsr, volume_error] {
        assert!(f(&e, &s).is_nan());
    }
    assert!(lognse(&e, &s, 0.0).is_nan());
    assert!(log_p(&e, &s).is_nan());
    let (k, r, alpha, beta) = kge_non_parametric_all(&e, &s);
    assert!(k.is_nan() && r.is_nan() && beta.is_nan());
    assert!(alpha.is_finite());
}

#[test]
fn lengths_and_empty_series_give_nan() {
    for name in SpotpyObjective::NAMES {
        let f = SpotpyObjective::from_name(name).unwrap();
        assert!(f.evaluate(&[1.0, 2.0], &[1.0]).is_nan(), "{name}");
        assert!(f.evaluate(&[], &[]).is_nan(), "{name}");
        assert_eq!(f.cost(&[1.0, 2.0], &[1.0]), f64::INFINITY, "{name}");
    }
    assert!(kge_all(&[1.0], &[]).1.is_nan());
    assert!(kge_non_parametric_all(&[1.0], &[]).2.is_nan());
    assert!(pbias(&[1.0, -1.0], &[2.0, 3.0]).is_nan());
}

#[test]
fn spearman_breaks_ties_like_python_sorted() {
    // x ties at positions 0 and 2 keep their order; y ties are ordered by the rank of x.
    let x = [1.0, 0.0, 1.0, 2.0];
    let y = [5.0, 5.0, 4.0, 5.0];
    // ranks x: [2, 1, 3, 4]; y sorted: index 2 (y 4) → 1, then ties by x rank: 1, 0, 3 → 2, 3, 4.
    // Σ(rx − 2.5)(ry − 2.5) = 2 over √5·√5: SPOTPY's `_spearmann_corr` gives 0.3999999999999999.
    assert_eq!(spearman(&x, &y), 0.3999999999999999);
}

#[test]
fn pairwise_sum_matches_numpy_bit_for_bit() {
    // `np.sum` of these arrays (Python's left-to-right `sum` gives 3.8e17 and 49952.99699999996).
    let x: Vec<f64> = (0..300).map(|i| if i % 8 == 0 { 1e16 } else { 1.0 }).collect();
    assert_eq!(np_sum(x.len(), &|i| x[i]), 3.8000000000000026e+17);
    let y: Vec<f64> = (0..1000).map(|i| 0.1 * i as f64 + 1e-3 * (i % 7) as f64).collect();
    assert_eq!(np_sum(y.len(), &|i| y[i]), 49952.997);
    assert_eq!(np_sum(5, &|i| i as f64), 10.0);
}

#[test]
fn names_directions_and_costs() {
    for name in SpotpyObjective::NAMES {
        let f = SpotpyObjective::from_name(name).unwrap();
        assert_eq!(f.names().0, name);
        assert_eq!(SpotpyObjective::from_name(f.names().1), Ok(f));
    }
    assert_eq!(SpotpyObjective::from_name("nashsutcliffe"), Ok(SpotpyObjective::Nse));
    assert_eq!(SpotpyObjective::from_name("rsquared"), Ok(SpotpyObjective::R2));
    let err = SpotpyObjective::from_name("nash").unwrap_err();
    assert!(err.contains("nash") && err.contains("kge_non_parametric"), "{err}");
    let (e, s) = (&OBS6[..], &SIM6[..]);
    let nse_f = SpotpyObjective::Nse;
    assert_eq!(nse_f.direction(), Direction::Maximize);
    assert_eq!(nse_f.cost(e, s), -nse(e, s));
    assert_eq!(SpotpyObjective::Rmse.cost(e, s), rmse(e, s));
    assert_eq!(SpotpyObjective::Bias.direction(), Direction::ZeroBest);
    assert!(bias(e, s) < 0.0);
    assert_eq!(SpotpyObjective::Bias.cost(e, s), -bias(e, s));
    assert_eq!(SpotpyObjective::LogNse { epsilon: 1e-5 }.evaluate(e, s), lognse(e, s, 1e-5));
    // A perfect fit has the best cost of every function (covariance aside).
    let best = |f: SpotpyObjective| f.cost(e, e);
    assert_eq!(best(SpotpyObjective::Nse), -1.0);
    assert_eq!(best(SpotpyObjective::Kge), -1.0);
    assert_eq!(best(SpotpyObjective::Mse), 0.0);
    assert_eq!(best(SpotpyObjective::VolumeError), 0.0);
}
