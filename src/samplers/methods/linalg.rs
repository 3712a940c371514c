//! Small dense linear algebra for the samplers: Cholesky factorization and solve, and the symmetric
//! eigendecomposition by cyclic Jacobi rotations (CMA-ES, Gaussian-process surrogates).
//!
//! Matrices are `[n, n]` row-major `&[f64]` (`a[i * n + j]`). The sizes are those of a parameter space
//! (n ≲ 100) or a surrogate's design (a few hundred points), so plain `O(n³)` loops are enough.

/// Factorizes the symmetric positive definite `a` as `L Lᵀ` in place.
///
/// Reads only the lower triangle of `a`. On success `a` holds `L` in its lower triangle and zeros above.
///
/// # Arguments
/// * `a` — `[n, n]` row-major.
///
/// # Errors
/// The index of the first pivot that is not positive (or not finite): `a` is not (numerically) positive
/// definite. `a` is then partly overwritten.
pub fn cholesky(a: &mut [f64], n: usize) -> Result<(), usize> {
    assert_eq!(a.len(), n * n, "cholesky: matrix of {} entries for n = {n}", a.len());
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return Err(j);
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
        for k in j + 1..n {
            a[j * n + k] = 0.0;
        }
    }
    Ok(())
}

/// Solves `L Lᵀ x = b` in place (`b ← x`), with `l` the factor [`cholesky`] left.
///
/// # Shapes
/// `l`: `[n, n]` row-major (only its lower triangle is read); `b`: `[n]`.
pub fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64]) {
    assert_eq!(l.len(), n * n, "cholesky_solve: factor of {} entries for n = {n}", l.len());
    assert_eq!(b.len(), n, "cholesky_solve: right-hand side of {} entries for n = {n}", b.len());
    // forward: L y = b
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
    // backward: Lᵀ x = y
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// The eigendecomposition `A = V diag(λ) Vᵀ` of the symmetric `a` by cyclic Jacobi rotations.
///
/// Reads the upper and lower triangles as one symmetric matrix (`(a_ij + a_ji)/2`). Sweeps rotate every
/// off-diagonal pair `(p, q)` until every `|a_pq| ≤ 1e-18 (|a_pp| + |a_qq|)` (then dropped: the eigenvalues
/// are accurate to about machine precision times `‖A‖`), at most 100 sweeps.
///
/// # Returns
/// `(λ, V)`: the eigenvalues `[n]` in ascending order and `V` `[n, n]` row-major whose **column** `j`
/// (`v[i * n + j]`, `i = 0..n`) is the unit eigenvector of `λ[j]`.
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(a.len(), n * n, "symmetric_eigen: matrix of {} entries for n = {n}", a.len());
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = 0.5 * (a[i * n + j] + a[j * n + i]);
        }
    }
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                // dropping an entry this small moves no eigenvalue by more than machine precision × ‖A‖
                if apq.abs() <= 1e-18 * (app.abs() + aqq.abs()) {
                    m[p * n + q] = 0.0;
                    m[q * n + p] = 0.0;
                    continue;
                }
                rotated = true;
                // the rotation that zeroes m[p][q] (Rutishauser's stable form)
                let theta = (aqq - app) / (2.0 * apq);
                let t = if theta.abs() > 1e150 {
                    0.5 / theta
                } else {
                    theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt())
                };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                m[p * n + q] = 0.0;
                m[q * n + p] = 0.0;
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[i * n + i].total_cmp(&m[j * n + j]));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let mut vectors = vec![0.0; n * n];
    for (jn, &jo) in order.iter().enumerate() {
        for i in 0..n {
            vectors[i * n + jn] = v[i * n + jo];
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samplers::random::LegacyRandom;

    /// A random symmetric positive definite `[n, n]`: `B Bᵀ + n I`.
    fn spd(n: usize, seed: u32) -> Vec<f64> {
        let mut rng = LegacyRandom::new(seed);
        let b: Vec<f64> = (0..n * n).map(|_| rng.standard_normal()).collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>();
            }
            a[i * n + i] += n as f64;
        }
        a
    }

    #[test]
    fn cholesky_reconstructs_and_solves() {
        for n in [1, 2, 5, 17] {
            let a = spd(n, n as u32);
            let mut l = a.clone();
            cholesky(&mut l, n).unwrap();
            let norm = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for i in 0..n {
                for j in 0..n {
                    let llt: f64 = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                    assert!((llt - a[i * n + j]).abs() <= 1e-14 * norm * n as f64, "({i}, {j}) {llt}");
                    if j > i {
                        assert_eq!(l[i * n + j], 0.0);
                    }
                }
            }
            let x: Vec<f64> = (0..n).map(|i| i as f64 - 1.5).collect();
            let mut b: Vec<f64> = (0..n).map(|i| (0..n).map(|k| a[i * n + k] * x[k]).sum()).collect();
            cholesky_solve(&l, n, &mut b);
            for i in 0..n {
                assert!((b[i] - x[i]).abs() < 1e-12, "x[{i}] = {} vs {}", b[i], x[i]);
            }
        }
    }

    #[test]
    fn cholesky_rejects_an_indefinite_matrix_at_its_pivot() {
        // [[4, 2, 0], [2, 1, 0], [0, 0, 1]]: the second pivot is 1 − 1 = 0
        let mut a = vec![4.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        assert_eq!(cholesky(&mut a, 3), Err(1));
        let mut b = vec![-1.0];
        assert_eq!(cholesky(&mut b, 1), Err(0));
        let mut c = vec![f64::NAN];
        assert_eq!(cholesky(&mut c, 1), Err(0));
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        // [[2, 1], [1, 2]]: λ = 1, 3 with vectors (1, −1)/√2, (1, 1)/√2
        let (w, v) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((w[0] - 1.0).abs() < 1e-15 && (w[1] - 3.0).abs() < 1e-15, "{w:?}");
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((v[0].abs() - h).abs() < 1e-15 && (v[0] + v[2]).abs() < 1e-15, "{v:?}");
        assert!((v[1] - v[3]).abs() < 1e-15 && (v[1].abs() - h).abs() < 1e-15, "{v:?}");
        // diagonal input: no rotation, sorted
        let (w, v) = symmetric_eigen(&[3.0, 0.0, 0.0, -1.0], 2);
        assert_eq!(w, [-1.0, 3.0]);
        assert_eq!(v, [0.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn eigen_reconstructs_and_is_orthonormal() {
        for n in [3, 10, 30] {
            let mut a = spd(n, 100 + n as u32);
            // make it indefinite and badly scaled too
            for i in 0..n {
                a[i * n + i] -= 2.0 * n as f64 * (i % 2) as f64;
                a[i * n + i] *= 10f64.powi(i as i32 % 5);
            }
            for i in 0..n {
                for j in 0..i {
                    a[i * n + j] = a[j * n + i];
                }
            }
            let (w, v) = symmetric_eigen(&a, n);
            assert!(w.windows(2).all(|p| p[0] <= p[1]), "{w:?}");
            let norm = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            for i in 0..n {
                for j in 0..n {
                    let rec: f64 = (0..n).map(|k| v[i * n + k] * w[k] * v[j * n + k]).sum();
                    assert!((rec - a[i * n + j]).abs() <= 1e-13 * norm, "n {n} ({i}, {j}): {rec} vs {}", a[i * n + j]);
                    let dot: f64 = (0..n).map(|k| v[k * n + i] * v[k * n + j]).sum();
                    let id = if i == j { 1.0 } else { 0.0 };
                    assert!((dot - id).abs() < 1e-13, "n {n} VᵀV ({i}, {j}) = {dot}");
                }
            }
            // trace is the sum of the eigenvalues
            let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
            assert!((trace - w.iter().sum::<f64>()).abs() <= 1e-12 * norm * n as f64);
        }
    }
}
