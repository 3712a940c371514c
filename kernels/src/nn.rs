//! The hybrid structures' network ([`hydrograd_models::nn::Mlp`], spec §1.3) as cube functions: forward
//! (with gr4_ude's forward-mode tangents) and backward, operation for operation as the CPU's.
//!
//! The shape is comptime: `h1` hidden neurons, then `h2` (0 for a single hidden layer), 4 inputs and
//! 4 tanh outputs. The weights of one parameter set are a slice of the `[S, W]` buffer starting at
//! `base`, in smash's flat order (`weight_1` row-major, `bias_1`, `weight_2`, `bias_2`, …).

use crate::math::tanh_ratio;
use cubecl::prelude::*;

/// The network's values in one unit: the input, the pre-activations `z` and activations `a` of the
/// hidden layers, the output pre-activations, the outputs, and (gr4_ude) the tangents of the outputs
/// along the first two inputs, `jac[j·4 + r] = ∂o_r/∂x_j`.
#[derive(CubeType)]
pub struct Activations<F: Float> {
    pub x: Array<F>,
    pub z1: Array<F>,
    pub a1: Array<F>,
    pub z2: Array<F>,
    pub a2: Array<F>,
    pub zo: Array<F>,
    pub out: Array<F>,
    pub jac: Array<F>,
}

/// Scratch of the backward pass: the cotangents of each layer's input, and the unit's accumulated
/// ∂J/∂weights, `[W]`.
#[derive(CubeType)]
pub struct Cotangents<F: Float> {
    pub lam_x: Array<F>,
    pub lam_a1: Array<F>,
    pub lam_a2: Array<F>,
    pub grad: Array<F>,
}

/// Number of weights and biases of the `(h1, h2)` network (0 for `h1 = 0`, no network).
pub fn weights_len(h1: usize, h2: usize) -> usize {
    match (h1, h2) {
        (0, _) => 0,
        (_, 0) => h1 * 5 + 4 * (h1 + 1),
        _ => h1 * 5 + h2 * (h1 + 1) + 4 * (h2 + 1),
    }
}

/// Room for a hidden layer of `h` neurons (at least one value: arrays cannot be empty).
fn room(h: usize) -> usize {
    h.max(1)
}

#[cube]
pub fn new_activations<F: Float>(#[comptime] h1: usize, #[comptime] h2: usize) -> Activations<F> {
    Activations::<F> {
        x: Array::new(4usize),
        z1: Array::new(comptime!(room(h1))),
        a1: Array::new(comptime!(room(h1))),
        z2: Array::new(comptime!(room(h2))),
        a2: Array::new(comptime!(room(h2))),
        zo: Array::new(4usize),
        out: Array::new(4usize),
        jac: Array::new(8usize),
    }
}

#[cube]
pub fn new_cotangents<F: Float>(#[comptime] h1: usize, #[comptime] h2: usize) -> Cotangents<F> {
    let mut grad = Array::<F>::new(comptime!(room(weights_len(h1, h2))));
    for k in 0..comptime!(weights_len(h1, h2)) {
        grad[k] = F::new(0.0);
    }
    Cotangents::<F> {
        lam_x: Array::new(4usize),
        lam_a1: Array::new(comptime!(room(h1))),
        lam_a2: Array::new(comptime!(room(h2))),
        grad,
    }
}

/// `tanh x` (the CPU's `Real::tanh`: its rational form in single precision).
#[cube]
pub fn tanh<F: Float>(x: F, #[comptime] single: bool) -> F {
    let r = tanh_ratio::<F>(x, single);
    r.n / r.d
}

/// `σ(x) = (1 + tanh(x/2))/2`, so that `silu(x) = x·σ(x)` and `silu'(x) = σ(x)(1 + x(1 − σ(x)))`.
#[cube]
fn sigmoid<F: Float>(x: F, #[comptime] single: bool) -> F {
    let half = F::new(0.5);
    half * (F::new(1.0) + tanh::<F>(half * x, single))
}

/// `z = W·input + b` for a layer of `rows × cols` weights at `w[base..]`, summed as the CPU does.
#[cube]
fn dense<F: Float>(
    w: &[F],
    base: usize,
    input: &Array<F>,
    z: &mut Array<F>,
    #[comptime] rows: usize,
    #[comptime] cols: usize,
) {
    for r in 0..rows {
        let mut acc = F::new(0.0);
        for c in 0..cols {
            acc += w[base + r * cols + c] * input[c];
        }
        z[r] = acc + w[base + rows * cols + r];
    }
}

/// The tangents `dz = W·da` of a layer along one input direction.
#[cube]
fn dense_tangent<F: Float>(
    w: &[F],
    base: usize,
    da: &Array<F>,
    dz: &mut Array<F>,
    #[comptime] rows: usize,
    #[comptime] cols: usize,
) {
    for r in 0..rows {
        let mut acc = F::new(0.0);
        for c in 0..cols {
            acc += w[base + r * cols + c] * da[c];
        }
        dz[r] = acc;
    }
}

/// SiLU of a hidden layer: `a = silu(z)`, and with `tangents` the tangents `t ← silu'(z)·t`.
#[cube]
fn silu_layer<F: Float>(
    z: &Array<F>,
    a: &mut Array<F>,
    t0: &mut Array<F>,
    t1: &mut Array<F>,
    #[comptime] rows: usize,
    #[comptime] tangents: bool,
    #[comptime] single: bool,
) {
    for r in 0..rows {
        let x = z[r];
        let s = sigmoid::<F>(x, single);
        a[r] = x * s;
        if tangents {
            let dy = s * (F::new(1.0) + x * (F::new(1.0) - s));
            t0[r] = dy * t0[r];
            t1[r] = dy * t1[r];
        }
    }
}

/// The forward pass at `act.x`: fills `act` (pre-activations, activations, `out`; with `tangents`
/// also `jac`), as [`hydrograd_models::nn::Mlp::forward_with_tangents`].
#[cube]
pub fn forward<F: Float>(
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] tangents: bool,
    #[comptime] single: bool,
) {
    let one = F::new(1.0);
    // tangents of layer 1 along x₀ and x₁ are its first two weight columns
    let mut t0 = Array::<F>::new(comptime!(room(h1)));
    let mut t1 = Array::<F>::new(comptime!(room(h1)));
    dense::<F>(w, base, &act.x, &mut act.z1, h1, 4usize);
    if tangents {
        for r in 0..h1 {
            t0[r] = w[base + r * 4];
            t1[r] = w[base + r * 4 + 1];
        }
    }
    silu_layer::<F>(&act.z1, &mut act.a1, &mut t0, &mut t1, h1, tangents, single);
    let mut o0 = Array::<F>::new(4usize);
    let mut o1 = Array::<F>::new(4usize);
    if h2 == 0 {
        let wo = base + h1 * 5;
        dense::<F>(w, wo, &act.a1, &mut act.zo, 4usize, h1);
        if tangents {
            dense_tangent::<F>(w, wo, &t0, &mut o0, 4usize, h1);
            dense_tangent::<F>(w, wo, &t1, &mut o1, 4usize, h1);
        }
    } else {
        let w2 = base + h1 * 5;
        let mut u0 = Array::<F>::new(comptime!(room(h2)));
        let mut u1 = Array::<F>::new(comptime!(room(h2)));
        dense::<F>(w, w2, &act.a1, &mut act.z2, h2, h1);
        if tangents {
            dense_tangent::<F>(w, w2, &t0, &mut u0, h2, h1);
            dense_tangent::<F>(w, w2, &t1, &mut u1, h2, h1);
        }
        silu_layer::<F>(&act.z2, &mut act.a2, &mut u0, &mut u1, h2, tangents, single);
        let wo = w2 + h2 * (h1 + 1);
        dense::<F>(w, wo, &act.a2, &mut act.zo, 4usize, h2);
        if tangents {
            dense_tangent::<F>(w, wo, &u0, &mut o0, 4usize, h2);
            dense_tangent::<F>(w, wo, &u1, &mut o1, 4usize, h2);
        }
    }
    for r in 0..4usize {
        let t = tanh::<F>(act.zo[r], single);
        act.out[r] = t;
        if tangents {
            let dy = one - t * t;
            act.jac[r] = dy * o0[r];
            act.jac[4 + r] = dy * o1[r];
        }
    }
}

/// Reverse of one layer: from `lam` (cotangent of its output activations), adds ∂/∂weights to
/// `grad[g..]` and writes the cotangent of its input to `lam_in`; `last` is the tanh output layer.
#[cube]
#[allow(clippy::too_many_arguments)]
fn dense_backward<F: Float>(
    w: &[F],
    base: usize,
    g: usize,
    input: &Array<F>,
    z: &Array<F>,
    lam: &Array<F>,
    lam_in: &mut Array<F>,
    grad: &mut Array<F>,
    #[comptime] rows: usize,
    #[comptime] cols: usize,
    #[comptime] last: bool,
    #[comptime] single: bool,
) {
    let one = F::new(1.0);
    for c in 0..cols {
        lam_in[c] = F::new(0.0);
    }
    for r in 0..rows {
        let x = z[r];
        let dz = if last {
            let t = tanh::<F>(x, single);
            lam[r] * (one - t * t)
        } else {
            let s = sigmoid::<F>(x, single);
            lam[r] * (s * (one + x * (one - s)))
        };
        for c in 0..cols {
            let k = g + r * cols + c;
            grad[k] += dz * input[c];
            lam_in[c] += dz * w[base + r * cols + c];
        }
        grad[g + rows * cols + r] += dz;
    }
}

/// The backward pass from `lam_out` (cotangent of the 4 outputs) at the values kept in `act`: adds
/// ∂/∂weights to `cot.grad` and writes the cotangent of the input to `cot.lam_x`, as
/// [`hydrograd_models::nn::Mlp::backward`].
#[cube]
#[allow(clippy::too_many_arguments)]
pub fn backward<F: Float>(
    w: &[F],
    base: usize,
    act: &mut Activations<F>,
    lam_out: &Array<F>,
    cot: &mut Cotangents<F>,
    #[comptime] h1: usize,
    #[comptime] h2: usize,
    #[comptime] single: bool,
) {
    if h2 == 0 {
        let wo = h1 * 5;
        dense_backward::<F>(
            w,
            base + wo,
            wo,
            &act.a1,
            &act.zo,
            lam_out,
            &mut cot.lam_a1,
            &mut cot.grad,
            4usize,
            h1,
            true,
            single,
        );
    } else {
        let w2 = h1 * 5;
        let wo = w2 + h2 * (h1 + 1);
        dense_backward::<F>(
            w,
            base + wo,
            wo,
            &act.a2,
            &act.zo,
            lam_out,
            &mut cot.lam_a2,
            &mut cot.grad,
            4usize,
            h2,
            true,
            single,
        );
        dense_backward::<F>(
            w,
            base + w2,
            w2,
            &act.a1,
            &act.z2,
            &cot.lam_a2,
            &mut cot.lam_a1,
            &mut cot.grad,
            h2,
            h1,
            false,
            single,
        );
    }
    dense_backward::<F>(
        w,
        base,
        0usize,
        &act.x,
        &act.z1,
        &cot.lam_a1,
        &mut cot.lam_x,
        &mut cot.grad,
        h1,
        4usize,
        false,
        single,
    );
}
