//! The multi-linear and multi-power mappings (spec §4, smash's `multi_linear_*` / `multi_power_*`
//! in `mwd_parameters_manipulation.f90`): a parameter field is a scaled sigmoid of a linear (or power)
//! combination of transformed descriptors,
//!
//! `θ(x) = l + (u − l)·σ(ρ₀ + Σ_d a_d·D̃_d(x)^{b_d})`, with `b_d = 1` for multi-linear.

use super::ControlError;
use crate::calibration::descriptors::Descriptors;

/// The coefficients of one variable: `ρ₀`, then per selected descriptor `a_d` (and `b_d` for multi-power),
/// smash's order (`cp-0`, `cp-slope-a`, `cp-slope-b`, …).
#[derive(Debug, Clone, Copy)]
pub(super) struct Coefficients<'a> {
    pub values: &'a [f64],
    pub power: bool,
}

impl Coefficients<'_> {
    /// `(a_d, b_d)` of the `k`-th selected descriptor.
    fn term(&self, k: usize) -> (f64, f64) {
        if self.power { (self.values[1 + 2 * k], self.values[2 + 2 * k]) } else { (self.values[1 + k], 1.0) }
    }
}

/// `D̃^b` as smash computes it (Fortran `**`): `D̃` itself when `b = 1`, NaN for a negative `D̃` and a
/// non-integer `b`.
fn power(d: f64, b: f64) -> f64 {
    if b == 1.0 { d } else { d.powf(b) }
}

/// The sigmoid argument `z` on every cell, `[N]`.
pub(super) fn predictor(descriptors: &Descriptors, selected: &[usize], c: Coefficients<'_>) -> Vec<f64> {
    let mut z = vec![c.values[0]; descriptors.ncell];
    for (k, &d) in selected.iter().enumerate() {
        let (a, b) = c.term(k);
        for (z, &v) in z.iter_mut().zip(descriptors.get(d)) {
            *z += a * power(v, b);
        }
    }
    z
}

/// `l + (u − l)/(1 + e^{−z})`.
pub(super) fn scaled_sigmoid(z: f64, (l, u): (f64, f64)) -> f64 {
    l + (u - l) / (1.0 + (-z).exp())
}

/// The intercept of a field whose mean is `y` (smash's `inv_scaled_sigmoid`, including its quirk: only
/// the upper clamp `min(y, u − 10⁻³)` is kept, the lower one is overwritten).
pub(super) fn inverse_scaled_sigmoid(y: f64, (l, u): (f64, f64)) -> f64 {
    let w = (y.min(u - 1e-3) - l) / (u - l);
    (w / (1.0 - w)).ln()
}

/// ∂J/∂(coefficients) from ∂J/∂θ on every cell (`g_theta`, `[N]`), at coefficients `c`.
///
/// `∂θ/∂z = (u − l)·σ(z)(1 − σ(z))`; `∂z/∂a_d = D̃^b`; `∂z/∂b_d = a_d·D̃^b·ln D̃`, taken as 0 where
/// `D̃ ≤ 0` (the guard Tapenade puts on the derivative of `x**y` in `y`).
pub(super) fn pull_back(
    descriptors: &Descriptors,
    selected: &[usize],
    c: Coefficients<'_>,
    bounds: (f64, f64),
    g_theta: &[f64],
) -> Vec<f64> {
    let z = predictor(descriptors, selected, c);
    let g_z: Vec<f64> = z
        .iter()
        .zip(g_theta)
        .map(|(&z, &g)| {
            let s = 1.0 / (1.0 + (-z).exp());
            g * (bounds.1 - bounds.0) * s * (1.0 - s)
        })
        .collect();
    let mut out = vec![0.0; c.values.len()];
    out[0] = g_z.iter().sum();
    for (k, &d) in selected.iter().enumerate() {
        let (a, b) = c.term(k);
        let (mut ga, mut gb) = (0.0, 0.0);
        for (&gz, &v) in g_z.iter().zip(descriptors.get(d)) {
            let p = power(v, b);
            ga += gz * p;
            if c.power && v > 0.0 {
                gb += gz * a * p * v.ln();
            }
        }
        if c.power {
            out[1 + 2 * k] = ga;
            out[2 + 2 * k] = gb;
        } else {
            out[1 + k] = ga;
        }
    }
    out
}

/// The descriptors of variable `name` in a regional mapping: those of `optimize_options.descriptor`, else
/// all, in the order of `setup.descriptor_name`.
pub(super) fn select_descriptors(
    name: &str,
    descriptors: &Descriptors,
    chosen: &[(String, Vec<String>)],
) -> Result<Vec<usize>, ControlError> {
    let Some((_, list)) = chosen.iter().find(|(n, _)| n == name) else {
        return Ok((0..descriptors.len()).collect());
    };
    for d in list {
        if !descriptors.names.contains(d) {
            return Err(ControlError::UnknownDescriptor {
                name: name.to_string(),
                descriptor: d.clone(),
                choices: descriptors.names.join(", "),
            });
        }
    }
    Ok((0..descriptors.len()).filter(|&k| list.contains(&descriptors.names[k])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::descriptors::DescriptorTfm;

    #[test]
    fn first_guess_matches_smash_on_cance() {
        // spec §4: Cance default cp-0 = −1.3863 (cp = 200), llr-0 = −5.2933 (llr = 5)
        assert!((inverse_scaled_sigmoid(200.0, (1e-6, 1000.0)) + 1.3862944).abs() < 1e-6);
        assert!((inverse_scaled_sigmoid(5.0, (1e-6, 1000.0)) + 5.293305).abs() < 1e-6);
        assert!((scaled_sigmoid(inverse_scaled_sigmoid(200.0, (1e-6, 1000.0)), (1e-6, 1000.0)) - 200.0).abs() < 1e-9);
    }

    #[test]
    fn pull_back_equals_finite_differences() {
        let maps = vec![vec![0.5f32, 1.5, 2.0, 3.0], vec![4.0, 1.0, 2.5, 0.2]];
        let names = ["slope".to_string(), "dd".to_string()];
        let desc = Descriptors::new(&names, &maps, &[0, 1, 2, 3], DescriptorTfm::Normalize);
        let bounds = (-50.0, 50.0);
        let g_theta = [0.3, -1.2, 0.7, 2.0];
        for power in [false, true] {
            let x: Vec<f64> = if power { vec![0.2, 0.5, 1.3, -0.4, 0.8] } else { vec![0.2, 0.5, -0.4] };
            let j = |x: &[f64]| -> f64 {
                let z = predictor(&desc, &[0, 1], Coefficients { values: x, power });
                z.iter().zip(&g_theta).map(|(&z, g)| g * scaled_sigmoid(z, bounds)).sum()
            };
            let g = pull_back(&desc, &[0, 1], Coefficients { values: &x, power }, bounds, &g_theta);
            for i in 0..x.len() {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[i] += 1e-6;
                b[i] -= 1e-6;
                let fd = (j(&a) - j(&b)) / 2e-6;
                assert!((g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0), "power {power} entry {i}: {} vs {fd}", g[i]);
            }
        }
    }
}
