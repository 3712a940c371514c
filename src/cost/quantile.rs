//! Quantiles by linear interpolation between order statistics (smash's `md_stats.f90::quantile1d_r`,
//! numpy's default method), with the reverse-mode derivative along the branch the forward took.

use hydrograd_models::Real;

/// Where a quantile was read: `value = data[lo] + (data[hi] − data[lo])·w` (indices into the input).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantilePick<T> {
    pub value: T,
    pub lo: usize,
    pub hi: usize,
    /// Interpolation weight of `data[hi]`, in `[0, 1)`.
    pub w: T,
}

impl<T: Real> QuantilePick<T> {
    /// Adds `bar · ∂value/∂data` to `grad` (`grad` indexed as the input).
    pub fn backward(&self, bar: T, grad: &mut [T]) {
        grad[self.lo] += bar * (T::ONE - self.w);
        grad[self.hi] += bar * self.w;
    }
}

/// The `p`-quantile of `data` as smash computes it: sort, `frac = (n − 1)·p + 1` (1-based, in `T`), then
/// `q1 + (q2 − q1)·(frac − ⌊frac⌋)` between the order statistics around `frac`; the first value when `n = 1`.
///
/// # Panics
/// When `data` is empty.
pub fn quantile<T: Real>(data: &[T], p: T) -> QuantilePick<T> {
    assert!(!data.is_empty(), "quantile of an empty series");
    let n = data.len();
    if n == 1 {
        return QuantilePick { value: data[0], lo: 0, hi: 0, w: T::ZERO };
    }
    let order = argsort(data);
    let frac = T::from_f64((n - 1) as f64) * p + T::ONE;
    if frac <= T::ONE {
        let i = order[0];
        return QuantilePick { value: data[i], lo: i, hi: i, w: T::ZERO };
    }
    if frac >= T::from_f64(n as f64) {
        let i = order[n - 1];
        return QuantilePick { value: data[i], lo: i, hi: i, w: T::ZERO };
    }
    let k = frac.to_f64().trunc() as usize; // 1-based, 1 ≤ k < n
    let (lo, hi) = (order[k - 1], order[k]);
    let w = frac - T::from_f64(k as f64);
    let (q1, q2) = (data[lo], data[hi]);
    QuantilePick { value: q1 + (q2 - q1) * w, lo, hi, w }
}

/// Indices that sort `data` ascending (stable; NaN last).
pub fn argsort<T: Real>(data: &[T]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.sort_by(|&a, &b| data[a].to_f64().total_cmp(&data[b].to_f64()));
    order
}

/// numpy's `nanquantile(x, q)` (method `linear`) for a float32 array and a Python float `q`, as numpy 2
/// computes it: virtual index `(n − 1)·q` in f64 over the non-NaN values, then `_lerp` in f32 with the
/// weight rounded to f32 (`b − (b − a)·(1 − γ)` when `γ ≥ 0.5`). `NaN` when every value is NaN.
pub fn numpy_nanquantile_f32(x: &[f32], q: f64) -> f32 {
    let mut v: Vec<f32> = x.iter().copied().filter(|a| !a.is_nan()).collect();
    if v.is_empty() {
        return f32::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let virtual_index = (n - 1) as f64 * q;
    if virtual_index >= (n - 1) as f64 {
        return v[n - 1];
    }
    if virtual_index < 0.0 {
        return v[0];
    }
    let prev = virtual_index.floor();
    let gamma = virtual_index - prev;
    let (a, b) = (v[prev as usize], v[prev as usize + 1]);
    let diff = b - a;
    if gamma >= 0.5 { b - diff * ((1.0 - gamma) as f32) } else { a + diff * (gamma as f32) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_like_numpy_linear() {
        // numpy.quantile([3, 1, 4, 1, 5], 0.3) = 1 + (3 − 1)·0.2 = 1.4
        let d = [3.0f64, 1.0, 4.0, 1.0, 5.0];
        let q = quantile(&d, 0.3);
        assert!((q.value - 1.4).abs() < 1e-12);
        assert_eq!(quantile(&d, 0.0).value, 1.0);
        assert_eq!(quantile(&d, 1.0).value, 5.0);
        assert_eq!(quantile(&d, 0.5).value, 3.0);
        assert_eq!(quantile(&[7.0f64], 0.9).value, 7.0);
        assert!((numpy_nanquantile_f32(&[3.0, f32::NAN, 1.0, 4.0, 1.0, 5.0], 0.3) - 1.4).abs() < 1e-6);
        assert!(numpy_nanquantile_f32(&[f32::NAN], 0.3).is_nan());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = [0.3f64, 2.5, 1.7, 0.9, 4.2, 3.3];
        for p in [0.02, 0.25, 0.5, 0.9] {
            let pick = quantile(&d, p);
            let mut g = vec![0.0; d.len()];
            pick.backward(1.0, &mut g);
            for i in 0..d.len() {
                let h = 1e-6;
                let (mut a, mut b) = (d, d);
                a[i] += h;
                b[i] -= h;
                let fd = (quantile(&a, p).value - quantile(&b, p).value) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-6, "p {p} i {i}: {fd} vs {}", g[i]);
            }
        }
    }
}
