//! smash's `ann` mapping (spec §4, `factory/net`): a dense network of the transformed descriptors of each
//! cell, `[D] → … → [ncv]`, whose last activation (tanh by default) is scaled from (−1, 1) to each
//! variable's bounds, `θ = l + (y + 1)/2·(u − l)`. The layers are burn modules (`nn::Linear`) on burn's
//! CPU device; the pull-back of ∂J/∂θ (from the hydrology adjoint) through the network is a
//! vector–Jacobian product by burn's autodiff, so the time loop never enters burn's tape.
//!
//! Weights, flat `[W]`: per layer `weight` `(out, in)` row-major then `bias` `[out]` (the layout of
//! the hybrid networks, `hydrograd_models::nn`).

use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor, TensorData, activation};

/// The activation of a dense layer (smash's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    Silu,
    Softplus,
    Linear,
}

impl Activation {
    pub const ALL: [Activation; 7] = [
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Silu,
        Activation::Softplus,
        Activation::Linear,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu => "leakyrelu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Silu => "silu",
            Activation::Softplus => "softplus",
            Activation::Linear => "linear",
        }
    }

    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Activation::Relu => activation::relu(x),
            Activation::LeakyRelu => activation::leaky_relu(x, 0.01),
            Activation::Tanh => activation::tanh(x),
            Activation::Sigmoid => activation::sigmoid(x),
            Activation::Silu => activation::silu(x),
            Activation::Softplus => activation::softplus(x, 1.0),
            Activation::Linear => x,
        }
    }
}

/// The layers of a regionalization network: `inputs` descriptors, then `(neurons, activation)` per dense
/// layer; the last layer has one neuron per mapped variable.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnShape {
    pub inputs: usize,
    pub layers: Vec<(usize, Activation)>,
}

impl AnnShape {
    /// smash's default graph for `nd` descriptors, `ncv` variables on an `nrow × ncol` mesh:
    /// Dense(3·nd, relu) → Dense(round(√(nd·ncv)·ln(nrow·ncol)), relu) → Dense(3·ncv, relu) → Dense(ncv, tanh).
    pub fn smash_default(nd: usize, ncv: usize, nrow: usize, ncol: usize) -> AnnShape {
        let middle = (((nd * ncv) as f64).sqrt() * ((nrow * ncol) as f64).ln()).round().max(1.0) as usize;
        AnnShape {
            inputs: nd,
            layers: vec![
                (3 * nd, Activation::Relu),
                (middle, Activation::Relu),
                (3 * ncv, Activation::Relu),
                (ncv, Activation::Tanh),
            ],
        }
    }

    /// `(out, in)` of every layer.
    pub fn dims(&self) -> Vec<(usize, usize)> {
        let mut inputs = self.inputs;
        self.layers
            .iter()
            .map(|&(n, _)| {
                let d = (n, inputs);
                inputs = n;
                d
            })
            .collect()
    }

    /// Number of weights and biases, `W`.
    pub fn len(&self) -> usize {
        self.dims().iter().map(|&(o, i)| o * (i + 1)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Number of outputs (mapped variables).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(0, |l| l.0)
    }

    /// The tensor names and shapes in the flat order: `ann_weight_1` `[out, in]`, `ann_bias_1` `[out]`, …
    pub fn tensors(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for (k, (o, i)) in self.dims().into_iter().enumerate() {
            out.push((format!("ann_weight_{}", k + 1), vec![o, i]));
            out.push((format!("ann_bias_{}", k + 1), vec![o]));
        }
        out
    }
}

/// A trained (or initialized) regionalization network: what `Fields` carries between stages and what
/// `weights.safetensors` holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnWeights {
    pub shape: AnnShape,
    /// The mapped variables, one per output, with their bounds `(l, u)`.
    pub variables: Vec<String>,
    pub bounds: Vec<(f64, f64)>,
    /// `[W]`, flat layout.
    pub values: Vec<f64>,
}

/// A configured graph without its sizes at the ends: the hidden layers `(neurons, activation)` and the
/// output activation (`optimize_options.net`). The inputs are the descriptors, the outputs the variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnLayers {
    pub hidden: Vec<(usize, Activation)>,
    pub output: Activation,
}

impl AnnLayers {
    /// The graph for `inputs` descriptors and `outputs` variables.
    pub fn shape(&self, inputs: usize, outputs: usize) -> AnnShape {
        let mut layers = self.hidden.clone();
        layers.push((outputs, self.output));
        AnnShape { inputs, layers }
    }
}

/// A network with its weights `[W]` on the descriptors of `N` cells.
pub struct Ann<'a> {
    pub shape: &'a AnnShape,
    pub weights: &'a [f64],
    /// Transformed descriptors, `[D, N]`.
    pub descriptors: &'a [f64],
    pub ncell: usize,
    /// `(l, u)` of each output.
    pub bounds: &'a [(f64, f64)],
}

impl Ann<'_> {
    /// The layers as burn modules on `device`, their weights tracked for gradients on an autodiff device.
    fn layers(&self, device: &Device) -> Vec<Linear> {
        let mut w = self.weights;
        self.shape
            .dims()
            .into_iter()
            .map(|(o, i)| {
                let (weight, rest) = w.split_at(o * i);
                let (bias, rest) = rest.split_at(o);
                w = rest;
                // burn's Linear holds its weight as [in, out]
                let transposed: Vec<f32> = (0..i * o).map(|k| weight[(k % o) * i + k / o] as f32).collect();
                let weight = Tensor::<2>::from_data(TensorData::new(transposed, [i, o]), device);
                let bias =
                    Tensor::<1>::from_data(TensorData::new(bias.iter().map(|&b| b as f32).collect(), [o]), device);
                Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) }
            })
            .collect()
    }

    /// The scaled outputs `[N, ncv]` of the network's layers on `device`.
    fn forward(&self, layers: &[Linear], device: &Device) -> Tensor<2> {
        let (nd, n) = (self.shape.inputs, self.ncell);
        let x: Vec<f32> = (0..n * nd).map(|k| self.descriptors[(k % nd) * n + k / nd] as f32).collect();
        let mut a = Tensor::<2>::from_data(TensorData::new(x, [n, nd]), device);
        for (layer, &(_, act)) in layers.iter().zip(&self.shape.layers) {
            a = act.apply(layer.forward(a));
        }
        let ncv = self.shape.outputs();
        let lower: Vec<f32> = self.bounds.iter().map(|b| b.0 as f32).collect();
        let half_span: Vec<f32> = self.bounds.iter().map(|b| (0.5 * (b.1 - b.0)) as f32).collect();
        let lower = Tensor::<2>::from_data(TensorData::new(lower, [1, ncv]), device);
        let half_span = Tensor::<2>::from_data(TensorData::new(half_span, [1, ncv]), device);
        lower + (a + 1.0) * half_span
    }

    /// The mapped values, `[ncv, N]`.
    pub fn values(&self) -> Vec<f64> {
        let device = Device::flex();
        let out = self.forward(&self.layers(&device), &device);
        let flat: Vec<f32> = out.into_data().try_to_vec::<f32>().expect("f32 outputs");
        let (n, ncv) = (self.ncell, self.shape.outputs());
        (0..ncv * n).map(|k| flat[(k % n) * ncv + k / n] as f64).collect()
    }

    /// ∂J/∂weights `[W]` from ∂J/∂θ `[ncv, N]`: burn's autodiff of `Σ θ·∂J/∂θ` (a vector–Jacobian product).
    pub fn pull_back(&self, grad_values: &[f64]) -> Vec<f64> {
        let device = Device::flex().autodiff();
        let layers = self.layers(&device);
        let out = self.forward(&layers, &device);
        let (n, ncv) = (self.ncell, self.shape.outputs());
        let g: Vec<f32> = (0..n * ncv).map(|k| grad_values[(k % ncv) * n + k / ncv] as f32).collect();
        let g = Tensor::<2>::from_data(TensorData::new(g, [n, ncv]), &device);
        let grads = (out * g).sum().backward();
        let mut flat = Vec::with_capacity(self.shape.len());
        for (layer, (o, i)) in layers.iter().zip(self.shape.dims()) {
            let read = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().expect("f32 gradients");
            let gw = layer.weight.val().grad(&grads).map_or_else(|| vec![0.0; i * o], read);
            // back from [in, out] to (out, in) row-major
            flat.extend((0..o * i).map(|k| gw[(k % i) * o + k / i] as f64));
            let bias = layer.bias.as_ref().expect("dense layers have a bias").val();
            let gb = bias.grad(&grads).map_or_else(|| vec![0.0; o], |t| t.into_data().try_to_vec::<f32>().unwrap());
            flat.extend(gb.iter().map(|&v| v as f64));
        }
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A network, its weights, descriptors `[2, 7]` and output bounds.
    type Case = (AnnShape, Vec<f64>, Vec<f64>, Vec<(f64, f64)>);

    fn case() -> Case {
        let shape =
            AnnShape { inputs: 2, layers: vec![(5, Activation::Relu), (3, Activation::Silu), (2, Activation::Tanh)] };
        let weights: Vec<f64> = (0..shape.len()).map(|k| 0.6 * ((k as f64) * 0.71 + 0.4).sin()).collect();
        let n = 7;
        let descriptors: Vec<f64> = (0..2 * n).map(|k| ((k as f64) * 0.37).cos()).collect();
        (shape, weights, descriptors, vec![(1.0, 500.0), (-5.0, 5.0)])
    }

    #[test]
    fn smash_default_graph_on_cance() {
        // Cance: 2 descriptors, 4 parameters, 28 × 28 mesh: round(√8·ln 784) = 19
        let s = AnnShape::smash_default(2, 4, 28, 28);
        assert_eq!(s.dims(), [(6, 2), (19, 6), (12, 19), (4, 12)]);
        assert_eq!(s.len(), 6 * 3 + 19 * 7 + 12 * 20 + 4 * 13);
        assert_eq!(s.tensors()[2], ("ann_weight_2".to_string(), vec![19, 6]));
    }

    #[test]
    fn values_are_the_scaled_network_output() {
        let (shape, w, d, bounds) = case();
        let n = 7;
        let ann = Ann { shape: &shape, weights: &w, descriptors: &d, ncell: n, bounds: &bounds };
        let got = ann.values();
        for c in 0..n {
            let mut a = vec![d[c], d[n + c]];
            let mut off = 0;
            for (&(o, i), &(_, act)) in shape.dims().iter().zip(&shape.layers) {
                let z: Vec<f64> = (0..o)
                    .map(|r| (0..i).map(|k| w[off + r * i + k] * a[k]).sum::<f64>() + w[off + o * i + r])
                    .collect();
                off += o * (i + 1);
                a = z
                    .iter()
                    .map(|&z| match act {
                        Activation::Relu => z.max(0.0),
                        Activation::Silu => z / (1.0 + (-z).exp()),
                        _ => z.tanh(),
                    })
                    .collect();
            }
            for (k, &(l, u)) in bounds.iter().enumerate() {
                let expected = l + (a[k] + 1.0) / 2.0 * (u - l);
                let value = got[k * n + c];
                assert!((value - expected).abs() <= 1e-5 * (u - l), "cell {c} output {k}: {value} vs {expected}");
            }
        }
    }

    #[test]
    fn pull_back_equals_finite_differences() {
        let (shape, w, d, bounds) = case();
        let n = 7;
        let g: Vec<f64> = (0..2 * n).map(|k| 1.0 + 0.3 * (k as f64).sin()).collect();
        let objective = |w: &[f64]| -> f64 {
            let ann = Ann { shape: &shape, weights: w, descriptors: &d, ncell: n, bounds: &bounds };
            ann.values().iter().zip(&g).map(|(v, g)| v * g).sum()
        };
        let ann = Ann { shape: &shape, weights: &w, descriptors: &d, ncell: n, bounds: &bounds };
        let grad = ann.pull_back(&g);
        assert_eq!(grad.len(), shape.len());
        let scale = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for k in 0..w.len() {
            let h = 1e-2;
            let (mut a, mut b) = (w.clone(), w.clone());
            a[k] += h;
            b[k] -= h;
            let fd = (objective(&a) - objective(&b)) / (2.0 * h);
            // f32 network, ReLU kinks: a loose tolerance, relative to the largest entry
            assert!((grad[k] - fd).abs() <= 2e-2 * scale, "weight {k}: {} vs {fd}", grad[k]);
        }
    }
}
