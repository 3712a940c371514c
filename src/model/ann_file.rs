//! The regionalization network in a weights file: tensors `ann_weight_k` `[out, in]`, `ann_bias_k`
//! `[out]`, and metadata `ann_layers` (`6,19,12,4`), `ann_activations` (`relu,…,tanh`), `ann_inputs`
//! (descriptor names), `ann_descriptor_tfm`, `ann_descriptor_stats` (JSON: min, max, mean, std per
//! descriptor, the statistics the network was trained with), `ann_variables` and `ann_bounds` (JSON), so
//! that a later run maps its own descriptors exactly as training did.

use super::ann::{Activation, AnnShape, AnnWeights};
use super::weights::{NamedTensor, WeightsError, WeightsFile, split};
use crate::calibration::descriptors::{DescriptorStats, DescriptorTfm};

/// A regionalization network with the descriptor transform it was trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnFile {
    pub net: AnnWeights,
    /// Descriptor names, in input order.
    pub inputs: Vec<String>,
    pub tfm: DescriptorTfm,
    pub stats: Vec<DescriptorStats>,
}

impl AnnFile {
    /// The tensors and metadata entries of the network.
    pub fn encode(&self) -> (Vec<NamedTensor>, Vec<(String, String)>) {
        let shape = &self.net.shape;
        let join = |v: Vec<String>| v.join(",");
        let metadata = vec![
            ("ann_layers".into(), join(shape.layers.iter().map(|l| l.0.to_string()).collect())),
            ("ann_activations".into(), join(shape.layers.iter().map(|l| l.1.name().to_string()).collect())),
            ("ann_inputs".into(), self.inputs.join(",")),
            ("ann_descriptor_tfm".into(), self.tfm.name().into()),
            ("ann_descriptor_stats".into(), serde_json::to_string(&self.stats).expect("stats serialize")),
            ("ann_variables".into(), self.net.variables.join(",")),
            ("ann_bounds".into(), serde_json::to_string(&self.net.bounds).expect("bounds serialize")),
            ("ann_output".into(), "l + (y + 1)/2·(u − l) per variable".into()),
        ];
        (split(shape.tensors(), &self.net.values), metadata)
    }

    /// The network in `file`, if it holds one.
    pub fn read(file: &WeightsFile) -> Result<Option<AnnFile>, WeightsError> {
        if !file.has("ann_weight_1") {
            return Ok(None);
        }
        let meta = |key: &str| {
            file.metadata.get(key).ok_or_else(|| file.mismatch(format!("has ann tensors but no '{key}' metadata")))
        };
        let list = |key: &str| -> Result<Vec<String>, WeightsError> {
            Ok(meta(key)?.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
        };
        let bad = |key: &str, what: &dyn std::fmt::Display| file.mismatch(format!("metadata {key}: {what}"));
        let layers: Vec<usize> = list("ann_layers")?
            .iter()
            .map(|n| n.parse().map_err(|e| bad("ann_layers", &e)))
            .collect::<Result<_, _>>()?;
        let activations: Vec<Activation> = list("ann_activations")?
            .iter()
            .map(|a| Activation::from_name(a).ok_or_else(|| bad("ann_activations", a)))
            .collect::<Result<_, _>>()?;
        let inputs = list("ann_inputs")?;
        let tfm_name = meta("ann_descriptor_tfm")?;
        let tfm = DescriptorTfm::from_name(tfm_name).ok_or_else(|| bad("ann_descriptor_tfm", tfm_name))?;
        let stats: Vec<DescriptorStats> =
            serde_json::from_str(meta("ann_descriptor_stats")?).map_err(|e| bad("ann_descriptor_stats", &e))?;
        let variables = list("ann_variables")?;
        let bounds: Vec<(f64, f64)> = serde_json::from_str(meta("ann_bounds")?).map_err(|e| bad("ann_bounds", &e))?;
        if layers.len() != activations.len()
            || stats.len() != inputs.len()
            || bounds.len() != variables.len()
            || layers.last() != Some(&variables.len())
        {
            return Err(file.mismatch("inconsistent ann metadata (layers, activations, inputs, variables)".into()));
        }
        let shape = AnnShape { inputs: inputs.len(), layers: layers.into_iter().zip(activations).collect() };
        let mut values = Vec::with_capacity(shape.len());
        for (name, dims) in shape.tensors() {
            values.extend(file.tensor(&name, &dims, "the regionalization network of the metadata")?);
        }
        Ok(Some(AnnFile { net: AnnWeights { shape, variables, bounds, values }, inputs, tfm, stats }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::weights::encode_tensors;

    #[test]
    fn round_trip() {
        let shape = AnnShape { inputs: 2, layers: vec![(4, Activation::Relu), (3, Activation::Tanh)] };
        let values: Vec<f64> = (0..shape.len()).map(|k| k as f64 * 0.1 - 1.0).collect();
        let net = AnnWeights {
            shape,
            variables: vec!["cp".into(), "ct".into(), "llr".into()],
            bounds: vec![(1e-6, 1000.0), (1e-6, 1000.0), (1e-6, 1000.0)],
            values,
        };
        let stats = DescriptorStats { min: 0.0, max: 30.0, mean: 10.5, std: 4.25 };
        let ann = AnnFile {
            net,
            inputs: vec!["slope".into(), "dd".into()],
            tfm: DescriptorTfm::Standardize,
            stats: vec![stats; 2],
        };
        let (tensors, metadata) = ann.encode();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.safetensors");
        std::fs::write(&path, encode_tensors(tensors, metadata).unwrap()).unwrap();
        let file = WeightsFile::open(&path).unwrap();
        assert_eq!(AnnFile::read(&file).unwrap(), Some(ann));
    }
}
