//! Small statistics for the comparison tests: the median, a one-sided Mann–Whitney U test and Holm's
//! multiple-testing procedure.

#![allow(dead_code)]

/// The median of `values` (the mean of the two middle values for an even count; `+inf` sorts last).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

/// The one-sided Mann–Whitney U test of `x` against `y` with the alternative "`x` tends to be greater than
/// `y`": the p-value `P(U ≥ U₁)` under the null hypothesis that both samples come from one distribution.
///
/// `U₁ = R₁ − n₁(n₁+1)/2`, `R₁` the rank sum of `x` in the pooled sample (ties get their mean rank), with
/// the normal approximation: mean `n₁n₂/2`, variance `n₁n₂/12 · ((n+1) − Σ(t³−t)/(n(n−1)))` over the groups
/// of `t` tied values, and a continuity correction of ½. This is scipy's
/// `mannwhitneyu(x, y, alternative="greater", method="asymptotic")`. `+inf` values rank last; NaN is
/// refused. When every value is tied the test has no evidence: p = 1.
///
/// # Panics
/// If a sample is empty or holds NaN.
pub fn mann_whitney_greater(x: &[f64], y: &[f64]) -> f64 {
    assert!(!x.is_empty() && !y.is_empty(), "empty sample");
    assert!(x.iter().chain(y).all(|v| !v.is_nan()), "NaN in a sample");
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let n = n1 + n2;
    // the pooled sample, sorted, each value tagged with its sample (true: x)
    let mut pooled: Vec<(f64, bool)> = x.iter().map(|&v| (v, true)).chain(y.iter().map(|&v| (v, false))).collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j < pooled.len() && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        // ranks i+1 ..= j share their mean
        let rank = 0.5 * ((i + 1) as f64 + j as f64);
        rank_sum += rank * pooled[i..j].iter().filter(|p| p.1).count() as f64;
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let u1 = rank_sum - n1 * (n1 + 1.0) / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = (u1 - n1 * n2 / 2.0 - 0.5) / variance.sqrt();
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Holm's step-down procedure (Holm 1979) over the p-values of `m` simultaneous tests: which null
/// hypotheses are rejected while the chance of any false rejection stays at most `alpha`. The p-values are
/// taken in increasing order; the `k`-th smallest (k = 0, 1, …) is rejected when it and every smaller one
/// are below `alpha / (m − k)`.
pub fn holm_rejections(p_values: &[f64], alpha: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut rejected = vec![false; m];
    for (k, &i) in order.iter().enumerate() {
        if p_values[i] >= alpha / (m - k) as f64 {
            break;
        }
        rejected[i] = true;
    }
    rejected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_steps_down_until_a_p_value_is_kept() {
        // sorted 0.005 < 0.05/4, 0.01 < 0.05/3, then 0.03 ≥ 0.05/2: stop (0.04 kept too)
        assert_eq!(holm_rejections(&[0.01, 0.04, 0.03, 0.005], 0.05), [true, false, false, true]);
        // one test alone: the plain level
        assert_eq!(holm_rejections(&[0.049], 0.05), [true]);
        // 34 tests: p = 0.039 is no evidence, p = 1e-4 is
        let mut p = vec![0.5; 34];
        p[3] = 0.039;
        assert!(holm_rejections(&p, 0.05).iter().all(|r| !r));
        p[7] = 1e-4;
        let r = holm_rejections(&p, 0.05);
        assert!(r[7] && !r[3] && r.iter().filter(|&&r| r).count() == 1);
        assert!(holm_rejections(&[], 0.05).is_empty());
    }

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy 1.17: mannwhitneyu(x, y, alternative=…, method="asymptotic") (use_continuity=True)
        let x = [3.1, 2.0, 5.5, 4.4, 4.4, 7.0, 1.5, 6.2, 4.4, 8.1, 9.0, 2.0];
        let y = [1.0, 2.0, 2.5, 3.3, 4.4, 0.5, 1.7, 2.0, 3.9, 5.0];
        let p = mann_whitney_greater(&x, &y);
        assert!((p - 0.01990475141971936).abs() < 1e-14, "{p}");
        // "less" for (x, y) is "greater" for (y, x): U₂ = n₁n₂ − U₁ = 28.5
        let p = mann_whitney_greater(&y, &x);
        assert!((p - 0.983082544108736).abs() < 1e-14, "{p}");
        let a = [7.93, 7.95, 7.88, 8.01, 7.91, 7.99, 7.85, 7.97];
        let b = [7.73, 7.80, 7.70, 7.78, 7.75, 7.69, 7.81, 7.77];
        let p = mann_whitney_greater(&a, &b);
        assert!((p - 0.00046955284955859495).abs() < 1e-16, "{p}");
        assert_eq!(mann_whitney_greater(&[1.0; 5], &[1.0; 5]), 1.0);
        // +inf ranks last: an x sample of failed runs is worse
        assert!(mann_whitney_greater(&[f64::INFINITY; 6], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) < 0.01);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[1.0, f64::INFINITY, f64::INFINITY]), f64::INFINITY);
    }
}
