//! The controls of an `ann` mapping: the regionalization network's weights and biases (after the hybrid
//! network's tensors, as smash's `ann_net` block), unbounded and untransformed, named
//! `ann_weight_<k>-<row>-<col>` and `ann_bias_<k>-<i>` (1-based) in the flat order of
//! [`crate::model::ann`].

use super::{Domain, Selection, Variable};
use crate::calibration::descriptors::Descriptors;
use crate::model::Fields;
use crate::model::ann::{Ann, AnnShape, AnnWeights};
use crate::model::initializer::{InitSpec, Initializer, Tensors, initialize_layers};

/// The network block of a control space.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AnnBlock {
    pub shape: AnnShape,
    pub variables: Vec<String>,
    pub bounds: Vec<(f64, f64)>,
    /// The first guess: the current network when it maps the same variables with the same graph, else
    /// smash's initialization (glorot_uniform weights, zero biases).
    pub initial: Vec<f64>,
}

impl AnnBlock {
    /// The block for `variables` (with their bounds) and graph `shape`, starting from `current` when it
    /// fits, else from weights drawn with `random_state`.
    pub fn new(
        shape: AnnShape,
        variables: Vec<String>,
        bounds: Vec<(f64, f64)>,
        current: Option<&AnnWeights>,
        random_state: u32,
    ) -> AnnBlock {
        let fits = |w: &&AnnWeights| w.shape == shape && w.variables == variables && w.bounds == bounds;
        let initial = match current.filter(fits) {
            Some(w) => w.values.clone(),
            None => {
                let mut values = vec![0.0; shape.len()];
                let spec =
                    InitSpec { initializer: Initializer::GlorotUniform, random_state: Some(random_state), scale: 1.0 };
                initialize_layers(&mut values, &shape.dims(), Tensors::Weights, &spec, random_state);
                values
            }
        };
        AnnBlock { shape, variables, bounds, initial }
    }

    pub fn len(&self) -> usize {
        self.shape.len()
    }

    /// Control names, in the flat order.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.shape.dims().into_iter().enumerate().flat_map(|(k, (o, i))| {
            let weights = (0..o * i).map(move |j| format!("ann_weight_{}-{}-{}", k + 1, j / i + 1, j % i + 1));
            weights.chain((0..o).map(move |j| format!("ann_bias_{}-{}", k + 1, j + 1)))
        })
    }

    fn network<'a>(&'a self, weights: &'a [f64], descriptors: &'a Descriptors) -> Ann<'a> {
        Ann {
            shape: &self.shape,
            weights,
            descriptors: &descriptors.values,
            ncell: descriptors.ncell,
            bounds: &self.bounds,
        }
    }

    /// The mapped values `[ncv, N]` at weights `x`.
    pub fn values(&self, x: &[f64], descriptors: &Descriptors) -> Vec<f64> {
        self.network(x, descriptors).values()
    }

    /// ∂J/∂x from ∂J/∂θ `[ncv, N]`.
    pub fn pull_back(&self, x: &[f64], descriptors: &Descriptors, grad_values: &[f64]) -> Vec<f64> {
        self.network(x, descriptors).pull_back(grad_values)
    }

    /// The network at weights `x`, as the fields carry it.
    pub fn weights(&self, x: &[f64]) -> AnnWeights {
        AnnWeights {
            shape: self.shape.clone(),
            variables: self.variables.clone(),
            bounds: self.bounds.clone(),
            values: x.to_vec(),
        }
    }
}

/// The network block of an `ann` mapping over `variables`: the configured layers or smash's default
/// graph, from the current network when it fits.
pub(super) fn block(
    variables: &[Variable],
    descriptors: &Descriptors,
    selection: &Selection<'_>,
    parameters: &Fields,
    domain: &Domain<'_>,
) -> AnnBlock {
    let (nd, ncv) = (descriptors.len(), variables.len());
    let shape = match selection.net {
        Some(layers) => layers.shape(nd, ncv),
        None => AnnShape::smash_default(nd, ncv, domain.nrow, domain.ncol),
    };
    let names = variables.iter().map(|v| v.info.name.to_string()).collect();
    let bounds = variables.iter().map(|v| v.bounds).collect();
    AnnBlock::new(shape, names, bounds, parameters.ann.as_ref(), selection.random_state)
}
