//! Network weight initializers with smash's definitions (`factory/net/_layers.py::_initialize_nn_parameter`,
//! used by `Model.set_nn_parameters_weight` / `set_nn_parameters_bias`) and numpy's legacy random stream,
//! so that a seed draws the values smash draws.
//!
//! For a dense layer with `n_in` inputs and `n_out` outputs, drawn as an `(n_out, n_in)` array row by
//! row: `uniform` U(±1/√n_in), `glorot_uniform` U(±√(6/(n_in + n_out))), `he_uniform` U(±√(6/n_in)),
//! `normal` N(0, 0.01), `glorot_normal` N(0, √(2/(n_in + n_out))), `he_normal` N(0, √(2/n_in)), `zeros`.
//! Biases are drawn as `(n_out, 1)` arrays (`n_in = 1`). smash seeds once, then draws the layers in order.

pub use crate::samplers::random::LegacyRandom;
use hydrograd_models::nn::MlpShape;

/// An initialization method (smash's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initializer {
    Zeros,
    Uniform,
    Normal,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
}

impl Initializer {
    pub const NAMES: [&'static str; 7] =
        ["zeros", "uniform", "normal", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"];

    pub fn from_name(name: &str) -> Option<Initializer> {
        Some(match name {
            "zeros" => Initializer::Zeros,
            "uniform" => Initializer::Uniform,
            "normal" => Initializer::Normal,
            "glorot_uniform" => Initializer::GlorotUniform,
            "glorot_normal" => Initializer::GlorotNormal,
            "he_uniform" => Initializer::HeUniform,
            "he_normal" => Initializer::HeNormal,
            _ => return None,
        })
    }

    /// Draws an `(n_out, n_in)` array, row-major.
    fn draw(self, n_in: usize, n_out: usize, rng: &mut LegacyRandom) -> Vec<f64> {
        let (fan_in, fan_sum) = (n_in as f64, (n_in + n_out) as f64);
        let uniform =
            |limit: f64, rng: &mut LegacyRandom| (0..n_in * n_out).map(|_| rng.uniform(-limit, limit)).collect();
        let normal = |std: f64, rng: &mut LegacyRandom| (0..n_in * n_out).map(|_| rng.normal(0.0, std)).collect();
        match self {
            Initializer::Zeros => vec![0.0; n_in * n_out],
            Initializer::Uniform => uniform(1.0 / fan_in.sqrt(), rng),
            Initializer::GlorotUniform => uniform((6.0 / fan_sum).sqrt(), rng),
            Initializer::HeUniform => uniform((6.0 / fan_in).sqrt(), rng),
            Initializer::Normal => normal(0.01, rng),
            Initializer::GlorotNormal => normal((2.0 / fan_sum).sqrt(), rng),
            Initializer::HeNormal => normal((2.0 / fan_in).sqrt(), rng),
        }
    }
}

/// How a stage (re)initializes the weights or the biases of a network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitSpec {
    pub initializer: Initializer,
    /// numpy's seed (`np.random.seed`); `None` draws one when the run starts.
    pub random_state: Option<u32>,
    /// Factor applied to the drawn values.
    pub scale: f64,
}

/// Which tensors of a network an [`InitSpec`] sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tensors {
    Weights,
    Biases,
}

/// Overwrites the weights or biases of `values` (a network of `shape`, flat layout `[W]`) with draws of
/// `spec` from numpy's stream seeded with `seed`. The values are rounded to f32, as smash stores them,
/// and `scale` multiplies them in f32 (smash's `[w * scale for w in model.get_nn_parameters_weight()]`).
pub fn initialize(values: &mut [f64], shape: MlpShape, which: Tensors, spec: &InitSpec, seed: u32) {
    initialize_layers(values, &shape.layers(), which, spec, seed)
}

/// [`initialize`] for any dense layers `(out, in)` in the flat layout (weight row-major, then bias).
pub fn initialize_layers(values: &mut [f64], dims: &[(usize, usize)], which: Tensors, spec: &InitSpec, seed: u32) {
    let mut rng = LegacyRandom::new(seed);
    let mut offset = 0;
    for &(o, i) in dims {
        let (range, n_in) = match which {
            Tensors::Weights => (offset..offset + o * i, i),
            Tensors::Biases => (offset + o * i..offset + o * (i + 1), 1),
        };
        let drawn = spec.initializer.draw(n_in, o, &mut rng);
        for (v, d) in values[range].iter_mut().zip(drawn) {
            *v = ((d as f32) * (spec.scale as f32)) as f64;
        }
        offset += o * (i + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_draws_stay_within_the_fan_in_limit() {
        let shape = MlpShape::new(&[12]).unwrap();
        let mut w = vec![7.0; shape.len()];
        let spec = InitSpec { initializer: Initializer::HeUniform, random_state: Some(23), scale: 1.0 };
        initialize(&mut w, shape, Tensors::Weights, &spec, 23);
        let limit = (6.0f64 / 4.0).sqrt();
        assert!(w[..48].iter().all(|v| v.abs() <= limit && *v != 7.0), "first layer within ±√(6/4)");
        assert!(w[48..60].iter().all(|&v| v == 7.0), "biases untouched");
        let limit2 = (6.0f64 / 12.0).sqrt();
        assert!(w[60..108].iter().all(|v| v.abs() <= limit2 && *v != 7.0));
        let mut again = vec![7.0; shape.len()];
        initialize(&mut again, shape, Tensors::Weights, &spec, 23);
        assert_eq!(w, again, "the seed fixes the draw");
    }
}
