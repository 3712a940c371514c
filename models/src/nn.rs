//! The multilayer perceptron inside the hybrid structures (spec §1.3, smash's `md_neural_network.f90`):
//! 4 inputs → one or two SiLU hidden layers → 4 tanh outputs, weights shared by every cell.
//!
//! Weights are stored as smash's: `weight_k` `(out, in)` applied as `W @ x`, then `bias_k`. The flat
//! layout, `[W]`, is `weight_1` (row-major), `bias_1`, `weight_2`, `bias_2`[, `weight_3`, `bias_3`].

use crate::Real;
use crate::lanes::Lane;

/// Inputs and outputs of the hybrid networks (`[hp, ht, pn, en]` → 4 flux corrections).
pub const NET_INPUTS: usize = 4;
pub const NET_OUTPUTS: usize = 4;
/// Largest hidden layer the kernels hold in registers and on the stack.
pub const MAX_HIDDEN: usize = 64;

/// The shape of a hybrid network: smash's `hidden_neuron`, one or two hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MlpShape {
    /// Neurons of the hidden layers; `hidden[1] == 0` for a single hidden layer.
    pub hidden: [usize; 2],
}

impl MlpShape {
    /// smash's default, `hidden_neuron = 16`.
    pub const DEFAULT: MlpShape = MlpShape { hidden: [16, 0] };

    /// The shape of `hidden_neuron` (one or two positive values up to [`MAX_HIDDEN`]).
    pub fn new(hidden_neuron: &[usize]) -> Option<MlpShape> {
        let ok = |n: usize| (1..=MAX_HIDDEN).contains(&n);
        match *hidden_neuron {
            [a] if ok(a) => Some(MlpShape { hidden: [a, 0] }),
            [a, b] if ok(a) && ok(b) => Some(MlpShape { hidden: [a, b] }),
            _ => None,
        }
    }

    /// The hidden layer sizes.
    pub fn hidden(&self) -> &[usize] {
        if self.hidden[1] == 0 { &self.hidden[..1] } else { &self.hidden[..] }
    }

    /// `(out, in)` of every dense layer, in order (no allocation: the kernels call it every step).
    #[inline(always)]
    pub fn layers(&self) -> Layers {
        let [a, b] = self.hidden;
        if b == 0 {
            Layers { dims: [(a, NET_INPUTS), (NET_OUTPUTS, a), (0, 0)], len: 2 }
        } else {
            Layers { dims: [(a, NET_INPUTS), (b, a), (NET_OUTPUTS, b)], len: 3 }
        }
    }

    /// Number of weights and biases, `W`.
    pub fn len(&self) -> usize {
        self.layers().iter().map(|&(o, i)| o * (i + 1)).sum()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// smash's names and shapes of the tensors, in the flat order: `("weight_1", [o, i])`, `("bias_1", [o])`, …
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for (k, &(o, i)) in self.layers().iter().enumerate() {
            out.push((format!("weight_{}", k + 1), vec![o, i]));
            out.push((format!("bias_{}", k + 1), vec![o]));
        }
        out
    }
}

/// The dense layers of a network, `(out, in)` each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layers {
    dims: [(usize, usize); 3],
    len: usize,
}

impl core::ops::Deref for Layers {
    type Target = [(usize, usize)];
    fn deref(&self) -> &[(usize, usize)] {
        &self.dims[..self.len]
    }
}

/// A network with its weights `[W]`.
#[derive(Debug, Clone, Copy)]
pub struct Mlp<'a, T> {
    pub shape: MlpShape,
    pub weights: &'a [T],
}

/// The values a network's backward pass needs: the input, and the pre-activations of every layer.
pub struct Activations<V> {
    x: [V; NET_INPUTS],
    z: [[V; MAX_HIDDEN]; 3],
}

impl<V: Lane> Default for Activations<V> {
    fn default() -> Self {
        let zero = V::splat(V::Scalar::ZERO);
        Activations { x: [zero; NET_INPUTS], z: [[zero; MAX_HIDDEN]; 3] }
    }
}

/// `x·σ(x)` with `σ(x) = (1 + tanh(x/2))/2`, and its derivative `σ(x)·(1 + x(1 − σ(x)))`.
#[inline(always)]
fn silu<V: Lane>(x: V) -> (V, V) {
    let half = V::splat(V::Scalar::from_f64(0.5));
    let one = V::splat(V::Scalar::ONE);
    let s = half * (one + (half * x).tanh());
    (x * s, s * (one + x * (one - s)))
}

impl<T: Real> Mlp<'_, T> {
    /// Forward pass for a lane of cells; keeps the pre-activations in `act` for [`Mlp::backward`].
    #[inline(always)]
    pub fn forward<V: Lane<Scalar = T>>(&self, x: [V; NET_INPUTS], act: &mut Activations<V>) -> [V; NET_OUTPUTS] {
        self.forward_impl::<V, false>(x, act).0
    }

    /// [`Mlp::forward`] with the derivatives of the outputs with respect to the first two inputs (`hp`,
    /// `ht`), as forward-mode tangents: `(o, [∂o/∂x₀, ∂o/∂x₁])`. smash's `forward_and_backward_mlp`
    /// computes the same for gr4_ude's Newton Jacobian (spec §1.4).
    #[inline(always)]
    pub fn forward_with_tangents<V: Lane<Scalar = T>>(
        &self,
        x: [V; NET_INPUTS],
        act: &mut Activations<V>,
    ) -> ([V; NET_OUTPUTS], [[V; NET_OUTPUTS]; 2]) {
        self.forward_impl::<V, true>(x, act)
    }

    #[inline(always)]
    fn forward_impl<V: Lane<Scalar = T>, const TANGENTS: bool>(
        &self,
        x: [V; NET_INPUTS],
        act: &mut Activations<V>,
    ) -> ([V; NET_OUTPUTS], [[V; NET_OUTPUTS]; 2]) {
        act.x = x;
        let zero = V::splat(T::ZERO);
        let one = V::splat(T::ONE);
        let mut a = [zero; MAX_HIDDEN];
        a[..NET_INPUTS].copy_from_slice(&x);
        // tangents of the layer's input along x₀ and x₁
        let mut da = [[zero; MAX_HIDDEN]; 2];
        if TANGENTS {
            da[0][0] = one;
            da[1][1] = one;
        }
        let mut w = self.weights;
        let layers = self.shape.layers();
        let last = layers.len() - 1;
        let mut out = [zero; NET_OUTPUTS];
        let mut tangents = [[zero; NET_OUTPUTS]; 2];
        for (k, &(o, i)) in layers.iter().enumerate() {
            let (weights, rest) = w.split_at(o * i);
            let (bias, rest) = rest.split_at(o);
            w = rest;
            let mut next = [zero; MAX_HIDDEN];
            let mut dnext = [[zero; MAX_HIDDEN]; 2];
            for r in 0..o {
                let mut z = zero;
                let mut dz = [zero; 2];
                for c in 0..i {
                    let wrc = V::splat(weights[r * i + c]);
                    z = z + wrc * a[c];
                    if TANGENTS {
                        dz[0] = dz[0] + wrc * da[0][c];
                        dz[1] = dz[1] + wrc * da[1][c];
                    }
                }
                z = z + V::splat(bias[r]);
                act.z[k][r] = z;
                let (y, dy) = if k == last {
                    let t = z.tanh();
                    (t, one - t * t)
                } else {
                    silu(z)
                };
                next[r] = y;
                if TANGENTS {
                    dnext[0][r] = dy * dz[0];
                    dnext[1][r] = dy * dz[1];
                }
            }
            if k == last {
                out.copy_from_slice(&next[..NET_OUTPUTS]);
                tangents[0].copy_from_slice(&dnext[0][..NET_OUTPUTS]);
                tangents[1].copy_from_slice(&dnext[1][..NET_OUTPUTS]);
            }
            a = next;
            da = dnext;
        }
        (out, tangents)
    }

    /// Backward pass from the cotangent of the outputs: adds ∂/∂weights per lane to `grad` (`[W, LANES]`
    /// lane vectors, flat order) and returns the cotangent of the input.
    #[inline(always)]
    pub fn backward<V: Lane<Scalar = T>>(
        &self,
        act: &Activations<V>,
        lam_out: [V; NET_OUTPUTS],
        grad: &mut [V],
    ) -> [V; NET_INPUTS] {
        let zero = V::splat(T::ZERO);
        let one = V::splat(T::ONE);
        let layers = self.shape.layers();
        let last = layers.len() - 1;
        // offsets of each layer's weights in the flat layout
        let mut offsets = [0; 3];
        for k in 1..layers.len() {
            let (o, i) = layers[k - 1];
            offsets[k] = offsets[k - 1] + o * (i + 1);
        }
        let mut lam = [zero; MAX_HIDDEN];
        lam[..NET_OUTPUTS].copy_from_slice(&lam_out);
        for k in (0..layers.len()).rev() {
            let (o, i) = layers[k];
            // the layer's input activations
            let mut a = [zero; MAX_HIDDEN];
            if k == 0 {
                a[..NET_INPUTS].copy_from_slice(&act.x);
            } else {
                a[..i].iter_mut().zip(&act.z[k - 1][..i]).for_each(|(a, &z)| *a = silu(z).0);
            }
            let weights = &self.weights[offsets[k]..offsets[k] + o * i];
            let mut lam_in = [zero; MAX_HIDDEN];
            for r in 0..o {
                let z = act.z[k][r];
                let dz = if k == last {
                    let t = z.tanh();
                    lam[r] * (one - t * t)
                } else {
                    lam[r] * silu(z).1
                };
                let row = &weights[r * i..(r + 1) * i];
                let grad_row = &mut grad[offsets[k] + r * i..offsets[k] + (r + 1) * i];
                for (((g, l), &a), &w) in grad_row.iter_mut().zip(&mut lam_in[..i]).zip(&a[..i]).zip(row) {
                    *g = *g + dz * a;
                    *l = *l + dz * V::splat(w);
                }
                let g = &mut grad[offsets[k] + o * i + r];
                *g = *g + dz;
            }
            lam = lam_in;
        }
        let mut out = [zero; NET_INPUTS];
        out.copy_from_slice(&lam[..NET_INPUTS]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(shape: MlpShape) -> Vec<f64> {
        (0..shape.len()).map(|k| 0.4 * ((k as f64) * 0.77 + 0.3).sin()).collect()
    }

    #[test]
    fn shapes_follow_smash() {
        let s = MlpShape::DEFAULT;
        assert_eq!(*s.layers(), [(16, 4), (4, 16)]);
        assert_eq!(s.len(), 16 * 5 + 4 * 17);
        let two = MlpShape::new(&[16, 8]).unwrap();
        let names: Vec<_> = two.tensors().into_iter().map(|(n, s)| format!("{n}{s:?}")).collect();
        assert_eq!(
            names,
            ["weight_1[16, 4]", "bias_1[16]", "weight_2[8, 16]", "bias_2[8]", "weight_3[4, 8]", "bias_3[4]"]
        );
        assert!(MlpShape::new(&[]).is_none() && MlpShape::new(&[0]).is_none() && MlpShape::new(&[4, 4, 4]).is_none());
        assert!(MlpShape::new(&[MAX_HIDDEN + 1]).is_none());
    }

    #[test]
    fn forward_is_silu_then_tanh() {
        let shape = MlpShape::new(&[3]).unwrap();
        let w = weights(shape);
        let x = [0.3, 0.6, 2.0, 0.1];
        let mut act = Activations::default();
        let out = Mlp { shape, weights: &w }.forward(x, &mut act);
        // by hand
        let mut h = [0.0; 3];
        for r in 0..3 {
            let z: f64 = (0..4).map(|c| w[r * 4 + c] * x[c]).sum::<f64>() + w[12 + r];
            h[r] = z / (1.0 + (-z).exp());
        }
        for r in 0..4 {
            let z: f64 = (0..3).map(|c| w[15 + r * 3 + c] * h[c]).sum::<f64>() + w[27 + r];
            assert!((out[r] - z.tanh()).abs() < 1e-14, "{r}");
        }
    }

    #[test]
    fn tangents_equal_finite_differences() {
        for shape in [MlpShape::new(&[5]).unwrap(), MlpShape::new(&[4, 3]).unwrap()] {
            let w = weights(shape);
            let mlp = Mlp { shape, weights: &w };
            let x = [0.3, 0.6, 2.0, 0.1];
            let mut act = Activations::default();
            let (out, tangents) = mlp.forward_with_tangents(x, &mut act);
            assert_eq!(out, mlp.forward(x, &mut Activations::default()));
            let h = 1e-6;
            for (input, tangent) in tangents.iter().enumerate() {
                let (mut a, mut b) = (x, x);
                a[input] += h;
                b[input] -= h;
                let (fa, fb) = (mlp.forward(a, &mut act), mlp.forward(b, &mut act));
                for r in 0..NET_OUTPUTS {
                    let fd = (fa[r] - fb[r]) / (2.0 * h);
                    assert!((tangent[r] - fd).abs() < 1e-8, "∂o{r}/∂x{input}: {} vs {fd}", tangent[r]);
                }
            }
        }
    }

    #[test]
    fn backward_equals_finite_differences() {
        for shape in [MlpShape::new(&[5]).unwrap(), MlpShape::new(&[4, 3]).unwrap()] {
            let w = weights(shape);
            let x = [0.3, 0.6, 2.0, 0.1];
            let lam = [0.7, -1.1, 0.4, 0.25];
            let f = |w: &[f64], x: [f64; 4]| {
                let out = Mlp { shape, weights: w }.forward(x, &mut Activations::default());
                out.iter().zip(&lam).map(|(o, l)| o * l).sum::<f64>()
            };
            let mut act = Activations::default();
            Mlp { shape, weights: &w }.forward(x, &mut act);
            let mut grad = vec![0.0; w.len()];
            let lam_x = Mlp { shape, weights: &w }.backward(&act, lam, &mut grad);
            let h = 1e-6;
            for k in 0..w.len() {
                let (mut a, mut b) = (w.clone(), w.clone());
                a[k] += h;
                b[k] -= h;
                let fd = (f(&a, x) - f(&b, x)) / (2.0 * h);
                assert!((grad[k] - fd).abs() < 1e-8, "weight {k}: {} vs {fd}", grad[k]);
            }
            for c in 0..4 {
                let (mut a, mut b) = (x, x);
                a[c] += h;
                b[c] -= h;
                let fd = (f(&w, a) - f(&w, b)) / (2.0 * h);
                assert!((lam_x[c] - fd).abs() < 1e-8, "input {c}: {} vs {fd}", lam_x[c]);
            }
        }
    }
}
